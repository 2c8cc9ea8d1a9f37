/// C text of the OpenCL target that does not depend on the program: the device-side prelude
/// (OpenCL C spellings of the helpers every lowering may call) and the host runtime compiled
/// into each module (device selection, program build and cache, checked OpenCL calls).
enum OpenCLRuntime {
    /// OpenCL C prelude of the kernel program. `fp64`: the module computes in double precision.
    static func devicePrelude(fp64: Bool) -> String {
        var s = ""
        if fp64 {
            s += "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n\n"
        }
        s += """
        /* Every a * b + c rounds twice, as NumPy's ufunc loops do (no fused multiply-add). */
        #pragma OPENCL FP_CONTRACT OFF

        /* The fixed-width names the shared lowering spells, in OpenCL C types. */
        #define int8_t char
        #define int16_t short
        #define int32_t int
        #define int64_t long
        #define uint8_t uchar
        #define uint16_t ushort
        #define uint32_t uint
        #define uint64_t ulong
        #define INT64_C(v) ((long)(v))
        #define INT64_MIN ((long)(-9223372036854775807L - 1L))
        #define UINT64_MAX ((ulong)0xFFFFFFFFFFFFFFFFUL)

        /* Python integer semantics and NumPy's NaN-propagating maximum/minimum. */
        long braid_floordiv(long a, long b) { if (b == 0) return 0; if (b == -1) return (long)(0 - (ulong)a); long q = a / b; return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q; }
        long braid_mod(long a, long b) { if (b == 0 || b == -1) return 0; long r = a % b; return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }
        ulong braid_ufloordiv(ulong a, ulong b) { return b == 0 ? 0 : a / b; }
        ulong braid_umod(ulong a, ulong b) { return b == 0 ? 0 : a % b; }
        long braid_shl(long a, long b) { return (ulong)b < 64 ? (long)((ulong)a << b) : 0; }
        long braid_shr(long a, long b) { return (ulong)b < 64 ? a >> b : (a < 0 ? -1 : 0); }
        ulong braid_ushl(ulong a, long b) { return (ulong)b < 64 ? a << b : 0; }
        ulong braid_ushr(ulong a, long b) { return (ulong)b < 64 ? a >> b : 0; }
        long braid_imin(long a, long b) { return a < b ? a : b; }
        long braid_imax(long a, long b) { return a > b ? a : b; }
        ulong braid_umin(ulong a, ulong b) { return a < b ? a : b; }
        ulong braid_umax(ulong a, ulong b) { return a > b ? a : b; }
        long braid_iabs(long a) { return a < 0 ? -a : a; }
        long braid_ipow(long a, long b) { long r = 1; if (b < 0) return 0; while (b) { if (b & 1) r *= a; a *= a; b >>= 1; } return r; }
        float braid_fmaxf(float a, float b) { return (a > b || a != a) ? a : b; }
        float braid_fminf(float a, float b) { return (a < b || a != a) ? a : b; }
        float braid_fmodf(float a, float b) { float r = fmod(a, b); if (r != 0 && ((r < 0) != (b < 0))) r += b; return r; }

        """
        if fp64 {
            s += """
            double braid_fmax(double a, double b) { return (a > b || a != a) ? a : b; }
            double braid_fmin(double a, double b) { return (a < b || a != a) ? a : b; }
            double braid_fmod(double a, double b) { double r = fmod(a, b); if (r != 0 && ((r < 0) != (b < 0))) r += b; return r; }

            """
        }
        return s
    }

    /// Host headers (after `<Python.h>`).
    static let hostHeaders = """
    #include <stdint.h>
    #include <stdbool.h>
    #include <stdarg.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <math.h>
    \(ModuleSource.complexHeader)
    #include <pthread.h>
    #define CL_TARGET_OPENCL_VERSION 120
    #include <CL/cl.h>

    """

    /// The host runtime. Expects `braid_ocl_source`, `braid_ocl_kernel_names`,
    /// `BRAID_OCL_KERNEL_COUNT` and `BRAID_OCL_NEEDS_FP64` to be defined before it.
    static let host = #"""
    /* ---- OpenCL runtime ------------------------------------------------------------------------
     * One device, context, in-order queue and built program per module, set up on the first call
     * and kept for the life of the process. The device comes from BRAID_OPENCL_DEVICE: "gpu",
     * "cpu", or "P:D" (platform and device indices as clinfo lists them); by default the first
     * GPU, else the first CPU device. Calls are serialized by one mutex (kernel objects are shared).
     * Every OpenCL call is checked; a failure becomes status 2 and a message for
     * braid_error_message(), which the Python wrapper raises as RuntimeError.
     */
    static pthread_mutex_t braid_ocl_mutex = PTHREAD_MUTEX_INITIALIZER;
    static int braid_ocl_ready = 0;
    static cl_device_id braid_ocl_device = NULL;
    static cl_context braid_ocl_context = NULL;
    static cl_command_queue braid_ocl_queue = NULL;
    static cl_program braid_ocl_program = NULL;
    static cl_kernel braid_ocl_kernels[BRAID_OCL_KERNEL_COUNT > 0 ? BRAID_OCL_KERNEL_COUNT : 1];
    static char braid_ocl_device_name[256];
    static cl_bool braid_ocl_unified = CL_FALSE;
    static _Thread_local char *braid_ocl_message = NULL;

    static void braid_ocl_set_message(const char *format, ...)
    {
        va_list ap;
        va_start(ap, format);
        int n = vsnprintf(NULL, 0, format, ap);
        va_end(ap);
        if (n < 0) return;
        char *text = (char *)malloc((size_t)n + 1);
        if (text == NULL) return;
        va_start(ap, format);
        vsnprintf(text, (size_t)n + 1, format, ap);
        va_end(ap);
        free(braid_ocl_message);
        braid_ocl_message = text;
    }

    const char *braid_error_message(int code)
    {
        switch (code) {
        case 1: return "MemoryError: out of memory while allocating a temporary array";
        case 2: return braid_ocl_message != NULL ? braid_ocl_message : "an OpenCL call failed";
    \#(ModuleSource.runTimeCheckMessages)
        default: return "native code failed";
        }
    }

    static const char *braid_ocl_error_name(cl_int err)
    {
        switch (err) {
        case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND";
        case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
        case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE";
        case CL_MEM_OBJECT_ALLOCATION_FAILURE: return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
        case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
        case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
        case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE";
        case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
        case CL_INVALID_PLATFORM: return "CL_INVALID_PLATFORM";
        case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
        case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
        case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE";
        case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT";
        case CL_INVALID_BUILD_OPTIONS: return "CL_INVALID_BUILD_OPTIONS";
        case CL_INVALID_PROGRAM: return "CL_INVALID_PROGRAM";
        case CL_INVALID_PROGRAM_EXECUTABLE: return "CL_INVALID_PROGRAM_EXECUTABLE";
        case CL_INVALID_KERNEL_NAME: return "CL_INVALID_KERNEL_NAME";
        case CL_INVALID_KERNEL: return "CL_INVALID_KERNEL";
        case CL_INVALID_ARG_INDEX: return "CL_INVALID_ARG_INDEX";
        case CL_INVALID_ARG_VALUE: return "CL_INVALID_ARG_VALUE";
        case CL_INVALID_ARG_SIZE: return "CL_INVALID_ARG_SIZE";
        case CL_INVALID_KERNEL_ARGS: return "CL_INVALID_KERNEL_ARGS";
        case CL_INVALID_WORK_DIMENSION: return "CL_INVALID_WORK_DIMENSION";
        case CL_INVALID_WORK_GROUP_SIZE: return "CL_INVALID_WORK_GROUP_SIZE";
        case CL_INVALID_GLOBAL_WORK_SIZE: return "CL_INVALID_GLOBAL_WORK_SIZE";
        case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE";
        case CL_INVALID_OPERATION: return "CL_INVALID_OPERATION";
        case CL_INVALID_EVENT_WAIT_LIST: return "CL_INVALID_EVENT_WAIT_LIST";
        case CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST: return "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST";
        default: return "OpenCL error";
        }
    }

    /* 0 on success; else sets the message and returns 2. */
    static int braid_ocl_check(cl_int err, const char *call, const char *where)
    {
        if (err == CL_SUCCESS) return 0;
        braid_ocl_set_message("%s failed with %s (%d)%s%s on OpenCL device '%s'", call, braid_ocl_error_name(err),
                              (int)err, where[0] ? " in " : "", where, braid_ocl_device_name);
        return 2;
    }

    static int braid_ocl_first_device(cl_platform_id *platforms, cl_uint platform_count, cl_device_type type)
    {
        for (cl_uint p = 0; p < platform_count; ++p) {
            cl_uint n = 0;
            cl_device_id device = NULL;
            if (clGetDeviceIDs(platforms[p], type, 1, &device, &n) == CL_SUCCESS && n > 0) {
                braid_ocl_device = device;
                return 1;
            }
        }
        return 0;
    }

    static int braid_ocl_pick_device(void)
    {
        cl_platform_id platforms[16];
        cl_uint platform_count = 0;
        const char *want = getenv("BRAID_OPENCL_DEVICE");
        if (want == NULL) want = "";
        cl_int err = clGetPlatformIDs(16, platforms, &platform_count);
        if (err != CL_SUCCESS || platform_count == 0) {
            braid_ocl_set_message("no OpenCL platform found (clGetPlatformIDs returned %s (%d)); install an OpenCL "
                                  "driver, e.g. PoCL for CPUs", braid_ocl_error_name(err), (int)err);
            return 2;
        }
        if (platform_count > 16) platform_count = 16;
        if (strcmp(want, "") == 0) {
            if (braid_ocl_first_device(platforms, platform_count, CL_DEVICE_TYPE_GPU)) return 0;
            if (braid_ocl_first_device(platforms, platform_count, CL_DEVICE_TYPE_CPU)) return 0;
            braid_ocl_set_message("no OpenCL GPU or CPU device found; set BRAID_OPENCL_DEVICE=P:D to pick another device");
            return 2;
        }
        if (strcmp(want, "gpu") == 0 || strcmp(want, "cpu") == 0) {
            int gpu = want[0] == 'g';
            if (braid_ocl_first_device(platforms, platform_count, gpu ? CL_DEVICE_TYPE_GPU : CL_DEVICE_TYPE_CPU)) return 0;
            braid_ocl_set_message("BRAID_OPENCL_DEVICE=%s: no OpenCL %s device found", want, gpu ? "GPU" : "CPU");
            return 2;
        }
        char *end = NULL;
        long platform = strtol(want, &end, 10);
        long index = -1;
        if (end != want && *end == ':') {
            const char *rest = end + 1;
            index = strtol(rest, &end, 10);
            if (end == rest || *end != '\0') index = -1;
        } else {
            platform = -1;
        }
        if (platform < 0 || index < 0) {
            braid_ocl_set_message("BRAID_OPENCL_DEVICE must be 'gpu', 'cpu' or 'P:D' (platform and device indices), "
                                  "not '%s'", want);
            return 2;
        }
        if (platform >= (long)platform_count) {
            braid_ocl_set_message("BRAID_OPENCL_DEVICE=%s: there is no OpenCL platform %ld (found %u)", want, platform,
                                  (unsigned)platform_count);
            return 2;
        }
        cl_device_id devices[64];
        cl_uint device_count = 0;
        err = clGetDeviceIDs(platforms[platform], CL_DEVICE_TYPE_ALL, 64, devices, &device_count);
        if (err != CL_SUCCESS && err != CL_DEVICE_NOT_FOUND) return braid_ocl_check(err, "clGetDeviceIDs", "selecting the device");
        if (err == CL_DEVICE_NOT_FOUND) device_count = 0;
        if (device_count > 64) device_count = 64;
        if (index >= (long)device_count) {
            braid_ocl_set_message("BRAID_OPENCL_DEVICE=%s: OpenCL platform %ld has no device %ld (it has %u)", want,
                                  platform, index, (unsigned)device_count);
            return 2;
        }
        braid_ocl_device = devices[index];
        return 0;
    }

    static void braid_ocl_teardown(void)
    {
        for (int k = 0; k < BRAID_OCL_KERNEL_COUNT; ++k) {
            if (braid_ocl_kernels[k] != NULL) clReleaseKernel(braid_ocl_kernels[k]);
            braid_ocl_kernels[k] = NULL;
        }
        if (braid_ocl_program != NULL) clReleaseProgram(braid_ocl_program);
        if (braid_ocl_queue != NULL) clReleaseCommandQueue(braid_ocl_queue);
        if (braid_ocl_context != NULL) clReleaseContext(braid_ocl_context);
        braid_ocl_program = NULL;
        braid_ocl_queue = NULL;
        braid_ocl_context = NULL;
        braid_ocl_device = NULL;
    }

    static int braid_ocl_build(void)
    {
        cl_int err;
        int status;
        if ((status = braid_ocl_pick_device()) != 0) return status;
        braid_ocl_device_name[0] = '\0';
        clGetDeviceInfo(braid_ocl_device, CL_DEVICE_NAME, sizeof braid_ocl_device_name - 1, braid_ocl_device_name, NULL);
        braid_ocl_device_name[sizeof braid_ocl_device_name - 1] = '\0';
        braid_ocl_unified = CL_FALSE;
        clGetDeviceInfo(braid_ocl_device, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof braid_ocl_unified, &braid_ocl_unified, NULL);
        if (BRAID_OCL_NEEDS_FP64) {
            cl_device_fp_config fp64 = 0;
            clGetDeviceInfo(braid_ocl_device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL);
            if (fp64 == 0) {
                braid_ocl_set_message("OpenCL device '%s' does not support double precision, which this module "
                                      "needs (float64 data); choose another device with BRAID_OPENCL_DEVICE",
                                      braid_ocl_device_name);
                return 2;
            }
        }
        braid_ocl_context = clCreateContext(NULL, 1, &braid_ocl_device, NULL, NULL, &err);
        if ((status = braid_ocl_check(err, "clCreateContext", "")) != 0) return status;
        braid_ocl_queue = clCreateCommandQueue(braid_ocl_context, braid_ocl_device, 0, &err);
        if ((status = braid_ocl_check(err, "clCreateCommandQueue", "")) != 0) return status;
        const char *source = braid_ocl_source;
        size_t length = sizeof braid_ocl_source - 1;
        braid_ocl_program = clCreateProgramWithSource(braid_ocl_context, 1, &source, &length, &err);
        if ((status = braid_ocl_check(err, "clCreateProgramWithSource", "")) != 0) return status;
        /* -w: warnings about generated code are no concern of the module's user (errors still fail the build). */
        err = clBuildProgram(braid_ocl_program, 1, &braid_ocl_device, "-w", NULL, NULL);
        if (err != CL_SUCCESS) {
            size_t size = 0;
            char *log = NULL;
            if (clGetProgramBuildInfo(braid_ocl_program, braid_ocl_device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) == CL_SUCCESS
                && size > 0 && (log = (char *)malloc(size + 1)) != NULL) {
                if (clGetProgramBuildInfo(braid_ocl_program, braid_ocl_device, CL_PROGRAM_BUILD_LOG, size, log, NULL) != CL_SUCCESS)
                    log[0] = '\0';
                log[size] = '\0';
            }
            braid_ocl_set_message("building the OpenCL program failed on device '%s' (%s); build log:\n%s",
                                  braid_ocl_device_name, braid_ocl_error_name(err), log != NULL ? log : "(none)");
            free(log);
            return 2;
        }
        for (int k = 0; k < BRAID_OCL_KERNEL_COUNT; ++k) {
            braid_ocl_kernels[k] = clCreateKernel(braid_ocl_program, braid_ocl_kernel_names[k], &err);
            if ((status = braid_ocl_check(err, "clCreateKernel", braid_ocl_kernel_names[k])) != 0) return status;
        }
        return 0;
    }

    /* Takes the module's lock and makes sure the device and program are ready. */
    static int braid_ocl_enter(void)
    {
        pthread_mutex_lock(&braid_ocl_mutex);
        if (braid_ocl_ready) return 0;
        int status = braid_ocl_build();
        if (status != 0) {
            braid_ocl_teardown();
            return status;
        }
        braid_ocl_ready = 1;
        return 0;
    }

    static void braid_ocl_leave(void)
    {
        pthread_mutex_unlock(&braid_ocl_mutex);
    }

    /* How a buffer starts: empty (transients); a copy of host data (scalars); an argument or a
     * result array, which a device sharing host memory (CL_DEVICE_HOST_UNIFIED_MEMORY, e.g. a CPU
     * device) uses in place, and any other device gets a copy of (arguments) or not (results). */
    enum { BRAID_OCL_EMPTY, BRAID_OCL_COPY, BRAID_OCL_INPUT, BRAID_OCL_OUTPUT };

    /* A device buffer of `bytes` (at least 1). */
    static int braid_ocl_buffer(cl_mem *buffer, size_t bytes, void *host, int read_only, int how, const char *name)
    {
        cl_int err;
        cl_mem_flags flags = read_only ? CL_MEM_READ_ONLY : CL_MEM_READ_WRITE;
        if (host == NULL || bytes == 0 || how == BRAID_OCL_EMPTY) {
            host = NULL;
        } else if (how != BRAID_OCL_COPY && braid_ocl_unified) {
            flags |= CL_MEM_USE_HOST_PTR;
        } else if (how != BRAID_OCL_OUTPUT) {
            flags |= CL_MEM_COPY_HOST_PTR;
        } else {
            host = NULL;
        }
        *buffer = clCreateBuffer(braid_ocl_context, flags, bytes > 0 ? bytes : 1, host, &err);
        if (err != CL_SUCCESS) *buffer = NULL;
        return braid_ocl_check(err, "clCreateBuffer", name);
    }

    /* Device data to host memory; a buffer that uses `destination` in place is synchronized by
     * mapping it (the OpenCL way to make its host copy current). */
    static int braid_ocl_read(cl_mem buffer, size_t bytes, void *destination, const char *name)
    {
        void *in_place = NULL;
        if (bytes == 0) return 0;
        if (clGetMemObjectInfo(buffer, CL_MEM_HOST_PTR, sizeof in_place, &in_place, NULL) == CL_SUCCESS
            && in_place == destination) {
            cl_int err;
            void *mapped = clEnqueueMapBuffer(braid_ocl_queue, buffer, CL_TRUE, CL_MAP_READ, 0, bytes, 0, NULL, NULL, &err);
            int status = braid_ocl_check(err, "clEnqueueMapBuffer", name);
            if (status != 0) return status;
            return braid_ocl_check(clEnqueueUnmapMemObject(braid_ocl_queue, buffer, mapped, 0, NULL, NULL),
                                   "clEnqueueUnmapMemObject", name);
        }
        return braid_ocl_check(clEnqueueReadBuffer(braid_ocl_queue, buffer, CL_TRUE, 0, bytes, destination, 0, NULL, NULL),
                               "clEnqueueReadBuffer", name);
    }

    static void braid_ocl_release(cl_mem *buffer)
    {
        if (*buffer != NULL) clReleaseMemObject(*buffer);
        *buffer = NULL;
    }

    static int braid_ocl_arg(cl_kernel kernel, cl_uint index, size_t size, const void *value, const char *where)
    {
        return braid_ocl_check(clSetKernelArg(kernel, index, size, value), "clSetKernelArg", where);
    }

    static int braid_ocl_launch(cl_kernel kernel, cl_uint dims, const size_t *global, const char *where)
    {
        return braid_ocl_check(clEnqueueNDRangeKernel(braid_ocl_queue, kernel, dims, NULL, global, NULL, 0, NULL, NULL),
                               "clEnqueueNDRangeKernel", where);
    }

    static int braid_ocl_finish(void)
    {
        return braid_ocl_check(clFinish(braid_ocl_queue), "clFinish", "");
    }

    /* `n` rounded up to a multiple of `m` (a global work size). */
    static inline size_t braid_ocl_round(int64_t n, int64_t m)
    {
        return (size_t)(((n + m - 1) / m) * m);
    }

    """#
}

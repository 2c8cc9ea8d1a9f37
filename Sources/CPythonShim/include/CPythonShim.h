// Small C accessors over the CPython embedding API for Swift.
//
// Swift cannot call CPython's function-like macros (`Py_None`, `PyList_Check`, ...),
// and Swift 6 strict concurrency rejects direct use of C globals such as
// `PyExc_SyntaxError`. This header exposes those as plain functions. Every function
// except `BraidPy_Initialize` must be called with the GIL held.
#ifndef BRAID_CPYTHON_SHIM_H
#define BRAID_CPYTHON_SHIM_H

// Include the CPython system module's header (not <Python.h> directly), so that the
// Python declarations belong to one Clang module only.
#include "../../CPython/shim.h"

#if PY_VERSION_HEX < 0x03090000
#error "Braid needs the headers of CPython 3.9 or newer"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/// Starts the embedded interpreter in isolated mode (no environment variables, no user
/// site directory, no signal handlers) unless it is already running, then releases
/// the GIL, which every later use takes with `PyGILState_Ensure`. Returns NULL on
/// success or a static error message. Call it once, without holding the GIL.
const char *_Nullable BraidPy_Initialize(void);

// Reference counting.
void BraidPy_IncRef(PyObject *_Nonnull object);
void BraidPy_DecRef(PyObject *_Nonnull object);

// Identity with the `None` and `Ellipsis` singletons.
int BraidPy_IsNone(PyObject *_Nonnull object);
int BraidPy_IsEllipsis(PyObject *_Nonnull object);

// Type checks (subclasses included). Note that `bool` is a subclass of `int`.
int BraidPy_BoolCheck(PyObject *_Nonnull object);
int BraidPy_IsTrue(PyObject *_Nonnull object);  // identity with `True`
int BraidPy_LongCheck(PyObject *_Nonnull object);
int BraidPy_FloatCheck(PyObject *_Nonnull object);
int BraidPy_ComplexCheck(PyObject *_Nonnull object);
int BraidPy_UnicodeCheck(PyObject *_Nonnull object);
int BraidPy_BytesCheck(PyObject *_Nonnull object);
int BraidPy_ListCheck(PyObject *_Nonnull object);
int BraidPy_TupleCheck(PyObject *_Nonnull object);

/// The unqualified name of the object's type (`"Name"` for an `ast.Name` node).
/// The pointer is valid while the object is alive.
const char *_Nonnull BraidPy_TypeName(PyObject *_Nonnull object);

/// Takes the pending exception (normalized) and clears the error indicator.
/// Returns a new reference, or NULL when no exception is set.
PyObject *_Nullable BraidPy_FetchException(void);

/// Whether `exception` is an instance of `SyntaxError` (including `IndentationError`).
int BraidPy_IsSyntaxError(PyObject *_Nonnull exception);

#ifdef __cplusplus
}
#endif

#endif // BRAID_CPYTHON_SHIM_H

// Implementation of the accessors declared in CPythonShim.h.
#include "CPythonShim.h"

#include <string.h>

const char *BraidPy_Initialize(void) {
    if (Py_IsInitialized()) {
        return NULL;
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    PyStatus status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        return status.err_msg != NULL ? status.err_msg : "unknown error";
    }
    PyEval_SaveThread();
    return NULL;
}

void BraidPy_IncRef(PyObject *object) { Py_INCREF(object); }
void BraidPy_DecRef(PyObject *object) { Py_DECREF(object); }

int BraidPy_IsNone(PyObject *object) { return object == Py_None; }
int BraidPy_IsEllipsis(PyObject *object) { return object == Py_Ellipsis; }

int BraidPy_BoolCheck(PyObject *object) { return PyBool_Check(object); }
int BraidPy_IsTrue(PyObject *object) { return object == Py_True; }
int BraidPy_LongCheck(PyObject *object) { return PyLong_Check(object); }
int BraidPy_FloatCheck(PyObject *object) { return PyFloat_Check(object); }
int BraidPy_ComplexCheck(PyObject *object) { return PyComplex_Check(object); }
int BraidPy_UnicodeCheck(PyObject *object) { return PyUnicode_Check(object); }
int BraidPy_BytesCheck(PyObject *object) { return PyBytes_Check(object); }
int BraidPy_ListCheck(PyObject *object) { return PyList_Check(object); }
int BraidPy_TupleCheck(PyObject *object) { return PyTuple_Check(object); }

const char *BraidPy_TypeName(PyObject *object) {
    // Types defined in C may spell their module too ("module.Name").
    const char *name = Py_TYPE(object)->tp_name;
    const char *dot = strrchr(name, '.');
    return dot != NULL ? dot + 1 : name;
}

PyObject *BraidPy_FetchException(void) {
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type = NULL, *value = NULL, *traceback = NULL;
    PyErr_Fetch(&type, &value, &traceback);
    if (type == NULL) {
        return NULL;
    }
    PyErr_NormalizeException(&type, &value, &traceback);
    Py_XDECREF(traceback);
    if (value == NULL) {
        return type;  // normalization failed: report the exception class itself
    }
    Py_DECREF(type);
    return value;
#endif
}

int BraidPy_IsSyntaxError(PyObject *exception) {
    return PyObject_TypeCheck(exception, (PyTypeObject *)PyExc_SyntaxError);
}

// Embedding header: <features.h> must precede <Python.h>, or targets that also
// import Foundation fail with an fd_set module conflict.
#include <features.h>
#include <Python.h>

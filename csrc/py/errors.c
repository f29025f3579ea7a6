/* errors.c — where core errors and memory errors become Python exceptions.
 *
 * Two kinds of failure reach Python:
 *   - the core's hv_err_t (bad configuration, an OS refusal, a corrupted
 *     heap) → hvpy_raise_core() maps each code to one exception type;
 *   - memory errors the binding detects (an overflow, a use after free…)
 *     → hvpy_memory_error() hands the facts to heapviz.errors, which builds
 *     the valgrind-style report, records the event and decides, from the
 *     heap's checks= mode, whether to raise or to report and go on.
 */
#include "binding.h"

#include <errno.h>

PyObject *hvpy_raise_core(hv_err_t err, const char *what)
{
    const char *why = hv_strerror(err);
    switch (err) {
    case HV_OK:
        return NULL;
    case HV_EINVAL:
        PyErr_Format(PyExc_ValueError, "%s: %s", what, why);
        break;
    case HV_EOVERFLOW:
        PyErr_Format(PyExc_OverflowError, "%s: %s", what, why);
        break;
    case HV_ENOMEM:
        PyErr_Format(PyExc_MemoryError, "%s: %s", what, why);
        break;
    case HV_ESYS:
        PyErr_SetFromErrno(PyExc_OSError);
        break;
    case HV_EREADONLY:
        PyErr_Format(PyExc_PermissionError, "%s: %s", what, why);
        break;
    default:
        PyErr_Format(PyExc_RuntimeError, "%s: %s", what, why);
        break;
    }
    return NULL;
}

int hvpy_memory_error(module_state *st, HeapObject *heap, int kind,
                      uint64_t addr, uint64_t size, int write,
                      PointerObject *p, PyObject *extra)
{
    if (st == NULL || st->error_hook == NULL) {
        PyErr_Format(PyExc_RuntimeError,
                     "memory error %d at %llu (heapviz not initialised)", kind,
                     (unsigned long long)addr);
        return -1;
    }
    PyObject *res = PyObject_CallFunction(
        st->error_hook, "OiKKiOO", heap ? (PyObject *)heap : Py_None, kind,
        (unsigned long long)addr, (unsigned long long)size, write,
        p ? (PyObject *)p : Py_None, extra ? extra : Py_None);
    if (res == NULL)
        return -1; /* the hook raised: that is the error */
    if (res == Py_None) {
        Py_DECREF(res);
        return 0; /* reported only: go on as C would */
    }
    PyErr_SetObject((PyObject *)Py_TYPE(res), res);
    Py_DECREF(res);
    return -1;
}

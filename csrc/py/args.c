/* args.c — the arguments of the Heap's methods, parsed by hand.
 *
 * The hot calls are METH_O and METH_FASTCALL (Argument Clinic is CPython's
 * own tool), so every argument is checked here, and every error names the
 * call, the argument and what was given: "malloc(): size must be an int,
 * not str", "calloc(nmemb, size) takes 2 arguments (1 given)".
 *
 * One rule for sizes and counts (malloc's size, calloc's nmemb and size,
 * realloc's size, memcpy's and memset's n): an int, not a bool; a value
 * that fits in 64 bits; a negative one is what C would see as a huge
 * size_t, and valgrind calls it "fishy" — reported (FishyValue in strict
 * mode) by hvpy_fishy_size(), and in report mode the call goes on with the
 * wrapped value, as C does.
 */
#include "binding.h"

int hvpy_nargs(const char *signature, Py_ssize_t nargs, Py_ssize_t want)
{
    if (nargs == want) return 0;
    PyErr_Format(PyExc_TypeError, "%s takes %zd argument%s (%zd given)",
                 signature, want, want == 1 ? "" : "s", nargs);
    return -1;
}

static int not_an_int(PyObject *o, const char *fn, const char *name)
{
    PyErr_Format(PyExc_TypeError, "%s(): %s must be an int, not %.100s", fn,
                 name, Py_TYPE(o)->tp_name);
    return -1;
}

int hvpy_size_arg(PyObject *o, const char *fn, const char *name, uint64_t *out,
                  int *fishy)
{
    *fishy = 0;
    if (PyLong_CheckExact(o)) { /* the common case: a plain size */
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow == 0 && v >= 0) {
            *out = (uint64_t)v;
            return 0;
        }
    }
    if (!PyIndex_Check(o) || PyBool_Check(o)) return not_an_int(o, fn, name);
    PyObject *idx = PyNumber_Index(o);
    if (idx == NULL) return -1;
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(idx, &overflow);
    if (overflow > 0) {
        *out = PyLong_AsUnsignedLongLong(idx);
        Py_DECREF(idx);
        if (*out == (uint64_t)-1 && PyErr_Occurred()) {
            PyErr_Format(PyExc_OverflowError,
                         "%s(): %s = %R does not fit in a 64-bit size_t", fn,
                         name, o);
            return -1;
        }
        *fishy = *out >= (1ull << 63);
        return 0;
    }
    Py_DECREF(idx);
    if (overflow < 0 || v < INT64_MIN + 1) {
        PyErr_Format(PyExc_OverflowError, "%s(): %s = %R is far too negative",
                     fn, name, o);
        return -1;
    }
    *out = (uint64_t)v;
    *fishy = v < 0;
    return 0;
}

int hvpy_u64_arg(PyObject *o, const char *fn, const char *name, uint64_t *out)
{
    if (!PyIndex_Check(o) || PyBool_Check(o)) return not_an_int(o, fn, name);
    PyObject *idx = PyNumber_Index(o);
    if (idx == NULL) return -1;
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(idx, &overflow);
    if (overflow == 0 && v >= 0) {
        Py_DECREF(idx);
        *out = (uint64_t)v;
        return 0;
    }
    *out = overflow > 0 ? PyLong_AsUnsignedLongLong(idx) : (uint64_t)-1;
    Py_DECREF(idx);
    if (overflow > 0 && !(*out == (uint64_t)-1 && PyErr_Occurred())) return 0;
    PyErr_Clear();
    PyErr_Format(PyExc_OverflowError, "%s(): %s = %R is outside 0 .. 2**64 - 1",
                 fn, name, o);
    return -1;
}

int hvpy_int_arg(PyObject *o, const char *fn, const char *name, int *out)
{
    if (!PyIndex_Check(o) || PyBool_Check(o)) return not_an_int(o, fn, name);
    PyObject *idx = PyNumber_Index(o);
    if (idx == NULL) return -1;
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(idx, &overflow);
    Py_DECREF(idx);
    if (overflow != 0 || v < INT32_MIN || v > INT32_MAX) {
        PyErr_Format(PyExc_OverflowError,
                     "%s(): %s = %R does not fit in an int", fn, name, o);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int hvpy_str_arg(PyObject *o, const char *fn, const char *name,
                 const char **out)
{
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s(): %s must be a str, not %.100s", fn,
                     name, Py_TYPE(o)->tp_name);
        return -1;
    }
    *out = PyUnicode_AsUTF8(o);
    return *out == NULL ? -1 : 0;
}

int hvpy_pointer_arg(module_state *st, PyObject *o, const char *fn,
                     PointerObject **out)
{
    if (st != NULL && hvpy_is_pointer(st, o)) {
        *out = (PointerObject *)o;
        return 0;
    }
    if (o == Py_None) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes a Pointer; use heapviz.NULL, not None", fn);
        return -1;
    }
    PyErr_Format(PyExc_TypeError,
                 "%s() takes a Pointer returned by malloc(), not %.100s", fn,
                 Py_TYPE(o)->tp_name);
    return -1;
}

int hvpy_fishy_size(module_state *st, HeapObject *heap, const char *fn,
                    const char *name, uint64_t value)
{
    PyObject *extra = Py_BuildValue("(ss)", fn, name);
    if (extra == NULL) return -1;
    int rc =
        hvpy_memory_error(st, heap, HV_ERR_FISHY, 0, value, 0, NULL, extra);
    Py_DECREF(extra);
    return rc;
}

/* errors.c — where core errors and memory errors become Python exceptions.
 *
 * Two kinds of failure reach Python, and this file is the only place that
 * turns either into an exception:
 *   - the core's hv_err_t (bad configuration, an OS refusal, a full stack,
 *     a double free the core caught, a corrupted heap) → hvpy_core_error(),
 *     which reads the rules table below: first the rule for (this call,
 *     this error), then the error's default exception;
 *   - memory errors the binding detects (an overflow, a use after free…)
 *     → hvpy_memory_error() hands the facts to heapviz.errors, which builds
 *     the valgrind-style report, records the event and decides, from the
 *     heap's checks= mode, whether to raise or to report and go on.
 * A core error that is a memory error (double free, invalid free,
 * corruption) goes the second way, so it reads like the ones the binding
 * finds itself.
 */
#include "binding.h"

#include <stdio.h>

/* How the student wrote each call, for messages and reports. */
static const char *const op_names[OP_COUNT] = {
    [OP_HEAP] = "Heap",
    [OP_MALLOC] = "malloc",
    [OP_CALLOC] = "calloc",
    [OP_REALLOC] = "realloc",
    [OP_FREE] = "free",
    [OP_SBRK] = "sbrk",
    [OP_MMAP] = "mmap",
    [OP_MUNMAP] = "munmap",
    [OP_FRAME_PUSH] = "frame",
    [OP_FRAME_ALLOC] = "alloc",
    [OP_FRAME_POP] = "frame exit",
    [OP_RAW_READ] = "_raw_read",
    [OP_OTHER] = "?",
};

/* One rule: this error from this call raises `type` with `fmt`, whose %s
 * (if any) is the call's argument as the student wrote it; or, when type
 * is NULL, it is the memory error `kind`. */
typedef struct {
    hvpy_op_t op;
    hv_err_t err;
    PyObject **type;
    int kind;
    const char *fmt;
} rule_t;

static const rule_t rules[] = {
    {OP_HEAP, HV_EINVAL, &PyExc_ValueError, 0,
     "Heap(%s=…): value out of range"},
    {OP_MALLOC, HV_ECORRUPT, NULL, HV_ERR_CORRUPTION, NULL},
    {OP_CALLOC, HV_ECORRUPT, NULL, HV_ERR_CORRUPTION, NULL},
    {OP_FREE, HV_EDOUBLEFREE, NULL, HV_ERR_DOUBLE_FREE, NULL},
    {OP_FREE, HV_EBADFREE, NULL, HV_ERR_INVALID_FREE, NULL},
    {OP_FREE, HV_EFAULT, NULL, HV_ERR_INVALID_FREE, NULL},
    {OP_FREE, HV_ECORRUPT, NULL, HV_ERR_CORRUPTION, NULL},
    {OP_REALLOC, HV_EDOUBLEFREE, NULL, HV_ERR_DOUBLE_FREE, NULL},
    {OP_REALLOC, HV_EBADFREE, NULL, HV_ERR_INVALID_FREE, NULL},
    {OP_REALLOC, HV_EFAULT, NULL, HV_ERR_INVALID_FREE, NULL},
    {OP_REALLOC, HV_ECORRUPT, NULL, HV_ERR_CORRUPTION, NULL},
    {OP_SBRK, HV_ENOMEM, &PyExc_MemoryError, 0,
     "sbrk(%s): the heap cannot grow that far (max_size reached)"},
    {OP_SBRK, HV_EINVAL, &PyExc_ValueError, 0,
     "sbrk(%s): the break can only move back over free space at the top of "
     "the heap"},
    {OP_MMAP, HV_ENOMEM, &PyExc_MemoryError, 0,
     "mmap(%s): no room left in the mmap region"},
    {OP_MUNMAP, HV_EINVAL, &PyExc_ValueError, 0,
     "munmap(%s): no mapping starts there"},
    {OP_MUNMAP, HV_EBADFREE, &PyExc_ValueError, 0,
     "munmap(%s): no mapping starts there"},
    {OP_FRAME_PUSH, HV_ESTACK, &PyExc_RecursionError, 0,
     "stack overflow: too many nested frames (at most %s)"},
    {OP_FRAME_ALLOC, HV_ESTACK, &PyExc_MemoryError, 0,
     "stack overflow: %s more bytes do not fit on the stack"},
    {OP_FRAME_ALLOC, HV_ENOMEM, &PyExc_MemoryError, 0,
     "stack overflow: %s more bytes do not fit on the stack"},
    {OP_FRAME_POP, HV_ESTACK, &PyExc_RuntimeError, 0,
     "leaving a frame: no frame is active"},
    {OP_RAW_READ, HV_EFAULT, &PyExc_ValueError, 0, "%s is not mapped memory"},
};

/* The exception of an error no rule names. */
static PyObject *default_type(hv_err_t err)
{
    switch (err) {
    case HV_EINVAL:
        return PyExc_ValueError;
    case HV_EOVERFLOW:
        return PyExc_OverflowError;
    case HV_ENOMEM:
        return PyExc_MemoryError;
    case HV_ESYS:
        return PyExc_OSError;
    case HV_EREADONLY:
        return PyExc_PermissionError;
    default:
        return PyExc_RuntimeError;
    }
}

static const rule_t *rule_for(hvpy_op_t op, hv_err_t err)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].op == op && rules[i].err == err) return &rules[i];
    return NULL;
}

/* The call's argument as the student wrote it: a field name or a range,
 * a pointer in hex, or a number. */
static void arg_text(const hvpy_call_t *c, char *buf, size_t len)
{
    if (c->arg != NULL)
        snprintf(buf, len, "%s", c->arg);
    else if (c->ptr != NULL)
        snprintf(buf, len, "0x%llx", (unsigned long long)c->ptr->addr);
    else
        snprintf(buf, len, "%lld", c->value);
}

static const char *call_name(const hvpy_call_t *c)
{
    return c->op == OP_OTHER && c->arg != NULL ? c->arg : op_names[c->op];
}

/* A core error that is a memory error: reported through heapviz.errors,
 * with the pointer the call was given. */
static int as_memory_error(HeapObject *heap, int kind, const hvpy_call_t *c)
{
    PyObject *extra = PyUnicode_FromString(op_names[c->op]);
    if (extra == NULL) return -1;
    uint64_t addr = c->ptr != NULL ? c->ptr->addr : 0;
    int rc = hvpy_memory_error(heap != NULL ? heap->st : NULL, heap, kind, addr,
                               0, 0, c->ptr, extra);
    Py_DECREF(extra);
    if (kind == HV_ERR_CORRUPTION && rc == 0) {
        /* glibc aborts here: a corrupted heap cannot go on */
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "heap corruption");
        return -1;
    }
    return rc;
}

int hvpy_core_error(HeapObject *heap, hv_err_t err, const hvpy_call_t *call)
{
    if (err == HV_OK) return 0;
    if (err == HV_ESYS) { /* errno is the OS's answer: keep it */
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    const rule_t *r = rule_for(call->op, err);
    if (r != NULL && r->type == NULL)
        return as_memory_error(heap, r->kind, call);
    if (r != NULL) {
        char arg[96];
        arg_text(call, arg, sizeof arg);
        PyErr_Format(*r->type, r->fmt, arg);
        return -1;
    }
    PyErr_Format(default_type(err), "%s(): %s", call_name(call),
                 hv_strerror(err));
    return -1;
}

int hvpy_memory_error(module_state *st, HeapObject *heap, int kind,
                      uint64_t addr, uint64_t size, int write, PointerObject *p,
                      PyObject *extra)
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
    if (res == NULL) return -1; /* the hook raised: that is the error */
    if (res == Py_None) {
        Py_DECREF(res);
        return 0; /* reported only: go on as C would */
    }
    PyErr_SetObject((PyObject *)Py_TYPE(res), res);
    Py_DECREF(res);
    return -1;
}

/* heap_memory.c — the memory API a student calls: malloc, calloc,
 * realloc, free, and the system calls under them, sbrk, mmap and munmap.
 *
 * These are the hot calls: METH_O / METH_FASTCALL, arguments parsed by
 * hand (args.c), and the Pointer a call returns made without a lookup when
 * the block is the one just allocated.  Before free and realloc the
 * pointer is judged by its provenance (a double free, an interior or a
 * stack pointer is a memory error the binding finds itself); what the core
 * finds goes through hvpy_core_error() (errors.c).  After every operation
 * the step hook (the viewer's step mode, a notebook watch) sees it.
 */
#include "binding.h"

#include <string.h>

/* calloc(nmemb, size) whose product overflows size_t: C gives NULL; the
 * report says why.  Returns -1 when raised, 0 to go on (NULL). */
static int calloc_overflow(HeapObject *self, uint64_t nmemb, uint64_t size)
{
    PyObject *extra = Py_BuildValue(
        "(sKK)", "calloc", (unsigned long long)nmemb, (unsigned long long)size);
    if (extra == NULL) return -1;
    int rc =
        hvpy_memory_error(self->st, self, HV_ERR_FISHY, 0, 0, 0, NULL, extra);
    Py_DECREF(extra);
    return rc;
}

/* --- results ------------------------------------------------------------ */

/* A new Pointer to the block whose payload is at `payload`. */
static PyObject *block_pointer(HeapObject *self, uint64_t payload)
{
    module_state *st = self->st;
    if (payload == 0) return Py_NewRef(st->null);
    hv_addr_t start;
    uint64_t seq;
    hv_block_state_t state = HV_BLOCK_ALLOCATED;
    if (!hv_block_fresh(self->h, payload, &start, &seq) &&
        hv_block_ident(self->h, payload, &start, &seq, &state, NULL) != HV_OK) {
        PyErr_SetString(PyExc_RuntimeError,
                        "heapviz: the allocator returned an address in no "
                        "block (please report this bug)");
        return NULL;
    }
    int prov = state == HV_BLOCK_SBRK || state == HV_BLOCK_MAPPING ? PROV_RAW
                                                                   : PROV_BLOCK;
    PyObject *p =
        hvpy_pointer_new(st, self, payload, start, payload, seq, prov);
    if (p != NULL && prov == PROV_RAW) {
        hv_block_t b;
        if (hv_block_at(self->h, start, &b) == HV_OK)
            ((PointerObject *)p)->plen = b.payload_size;
    }
    return p;
}

/* The Pointer an operation returns, once the step hook has seen the
 * operation. */
static PyObject *op_result(HeapObject *self, uint64_t payload)
{
    PyObject *p = block_pointer(self, payload);
    if (p != NULL && hvpy_after_op(self) < 0) Py_CLEAR(p);
    return p;
}

/* --- judging the pointer given to free and realloc ---------------------- */

/* The error kind of freeing p by its provenance (0: looks like a live
 * block start). */
static int judge_free(HeapObject *self, PointerObject *p)
{
    if (p->prov == PROV_STACK || p->prov == PROV_RAW)
        return HV_ERR_INVALID_FREE;
    if (p->prov != PROV_BLOCK || p->heap != self)
        return 0; /* wild: the core decides (HV_EBADFREE / DOUBLEFREE) */
    if (p->addr != p->pstart) return HV_ERR_INVALID_FREE; /* interior pointer */
    return hv_block_live(self->h, p->pstart, p->bstart, p->seq)
               ? 0
               : HV_ERR_DOUBLE_FREE;
}

/* Validate before free/realloc.  Returns 1 to go on, 0 to skip the call
 * (reported only), -1 raised. */
static int check_free_arg(HeapObject *self, PointerObject *p, const char *fn)
{
    if (self->checks == CHECKS_OFF) return 1;
    int kind = judge_free(self, p);
    if (kind == 0) return 1;
    PyObject *extra = PyUnicode_FromString(fn);
    int rc = extra == NULL ? -1
                           : hvpy_memory_error(self->st, self, kind, p->addr, 0,
                                               0, p, extra);
    Py_XDECREF(extra);
    if (rc < 0) return -1;
    /* report mode: C's free would trust the header of a double free (and
       may corrupt the free list); a stack or raw pointer, or an interior
       one, glibc refuses outright.  realloc of a freed block is skipped (it
       returns NULL, as under valgrind): the trusting core would copy the
       stale block onto memory that may overlap it. */
    return kind == HV_ERR_DOUBLE_FREE && strcmp(fn, "free") == 0 ? 1 : 0;
}

static hv_free_mode_t free_mode(HeapObject *self)
{
    return self->checks == CHECKS_REPORT ? HV_FREE_TRUSTING : HV_FREE_CHECKED;
}

/* --- malloc, calloc, realloc, free -------------------------------------- */

PyDoc_STRVAR(malloc_doc,
             "malloc(size: int) -> Pointer\n\n"
             "Allocate size bytes (uninitialized); heapviz.NULL when the heap "
             "cannot grow.");

static PyObject *heap_malloc(HeapObject *self, PyObject *arg)
{
    uint64_t n;
    int fishy;
    if (!hvpy_heap_alive(self) ||
        hvpy_size_arg(arg, "malloc", "size", &n, &fishy))
        return NULL;
    if (fishy && hvpy_fishy_size(self->st, self, "malloc", "size", n) < 0)
        return NULL;
    uint64_t out;
    hv_err_t rc = hv_malloc(self->h, n, hvpy_current_site(self), &out);
    if (rc != HV_OK) {
        hvpy_core_error(self, rc, &(hvpy_call_t){.op = OP_MALLOC});
        return NULL;
    }
    return op_result(self, out);
}

PyDoc_STRVAR(calloc_doc,
             "calloc(nmemb: int, size: int) -> Pointer\n\n"
             "Allocate nmemb * size zeroed bytes; heapviz.NULL if the product "
             "overflows\nor the heap cannot grow.");

static PyObject *heap_calloc(HeapObject *self, PyObject *const *args,
                             Py_ssize_t nargs)
{
    uint64_t nmemb, size;
    int f1, f2;
    if (hvpy_nargs("calloc(nmemb, size)", nargs, 2) < 0 ||
        !hvpy_heap_alive(self) ||
        hvpy_size_arg(args[0], "calloc", "nmemb", &nmemb, &f1) ||
        hvpy_size_arg(args[1], "calloc", "size", &size, &f2))
        return NULL;
    if ((f1 && hvpy_fishy_size(self->st, self, "calloc", "nmemb", nmemb) < 0) ||
        (f2 && hvpy_fishy_size(self->st, self, "calloc", "size", size) < 0))
        return NULL;
    if (size != 0 && nmemb > UINT64_MAX / size && self->checks != CHECKS_OFF &&
        calloc_overflow(self, nmemb, size) < 0)
        return NULL;
    uint64_t out;
    hv_err_t rc =
        hv_calloc(self->h, nmemb, size, hvpy_current_site(self), &out);
    if (rc != HV_OK) {
        hvpy_core_error(self, rc, &(hvpy_call_t){.op = OP_CALLOC});
        return NULL;
    }
    return op_result(self, out);
}

PyDoc_STRVAR(free_doc, "free(ptr: Pointer) -> None\n\n"
                       "Give a block back; free(heapviz.NULL) does nothing.");

static PyObject *heap_free(HeapObject *self, PyObject *arg)
{
    PointerObject *p;
    if (!hvpy_heap_alive(self) ||
        hvpy_pointer_arg(self->st, arg, "free", &p) < 0)
        return NULL;
    if (p->addr == 0) Py_RETURN_NONE;
    int go = check_free_arg(self, p, "free");
    if (go <= 0) return go < 0 ? NULL : Py_NewRef(Py_None);
    hv_err_t rc =
        hv_free(self->h, p->addr, hvpy_current_site(self), free_mode(self));
    if (rc != HV_OK &&
        hvpy_core_error(self, rc, &(hvpy_call_t){.op = OP_FREE, .ptr = p}) < 0)
        return NULL;
    if (rc == HV_OK && p->rooted == ROOTED)
        p->rooted = ROOTED_FREED; /* its death needs no leak check */
    if (hvpy_after_op(self) < 0) return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(realloc_doc,
             "realloc(ptr: Pointer, size: int) -> Pointer\n\n"
             "Resize a block, in place when it can, else move it (copying "
             "the contents).\nrealloc(NULL, n) is malloc(n); realloc(p, 0) "
             "frees p and returns NULL.");

static PyObject *heap_realloc(HeapObject *self, PyObject *const *args,
                              Py_ssize_t nargs)
{
    PointerObject *p;
    uint64_t n;
    int fishy;
    if (hvpy_nargs("realloc(ptr, size)", nargs, 2) < 0 ||
        !hvpy_heap_alive(self) ||
        hvpy_pointer_arg(self->st, args[0], "realloc", &p) ||
        hvpy_size_arg(args[1], "realloc", "size", &n, &fishy))
        return NULL;
    if (fishy && hvpy_fishy_size(self->st, self, "realloc", "size", n) < 0)
        return NULL;
    if (p->addr != 0) {
        int go = check_free_arg(self, p, "realloc");
        if (go <= 0) return go < 0 ? NULL : Py_NewRef(self->st->null);
    }
    uint64_t out;
    hv_err_t rc = hv_realloc(self->h, p->addr, n, hvpy_current_site(self),
                             free_mode(self), &out);
    if (rc != HV_OK) {
        hvpy_call_t call = {.op = OP_REALLOC, .ptr = p};
        if (hvpy_core_error(self, rc, &call) < 0) return NULL;
        out = 0; /* reported only: NULL, as C's realloc would */
    }
    return op_result(self, out);
}

/* --- sbrk, mmap, munmap ------------------------------------------------- */

PyDoc_STRVAR(sbrk_doc,
             "sbrk(increment: int) -> Pointer\n\n"
             "Move the break by increment bytes (rounded up to the alignment) "
             "and return\nthe old break; sbrk(0) tells where the break is.");

static PyObject *heap_sbrk(HeapObject *self, PyObject *arg)
{
    if (!hvpy_heap_alive(self)) return NULL;
    long long incr = PyLong_AsLongLong(arg);
    if (incr == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_TypeError))
            PyErr_Format(PyExc_TypeError,
                         "sbrk() takes an int increment, not %.100s",
                         Py_TYPE(arg)->tp_name);
        return NULL;
    }
    uint64_t old;
    hv_err_t rc = hv_sbrk(self->h, incr, hvpy_current_site(self), &old);
    if (rc != HV_OK) {
        hvpy_core_error(self, rc, &(hvpy_call_t){.op = OP_SBRK, .value = incr});
        return NULL;
    }
    PyObject *p =
        incr > 0 ? block_pointer(self, old)
                 : hvpy_pointer_new(self->st, self, old, 0, 0, 0, PROV_NONE);
    if (p != NULL && hvpy_after_op(self) < 0) Py_CLEAR(p);
    return p;
}

PyDoc_STRVAR(mmap_doc, "mmap(length: int) -> Pointer\n\n"
                       "A fresh anonymous mapping of length bytes (rounded "
                       "up to pages), zero-filled.");

static PyObject *heap_mmap(HeapObject *self, PyObject *arg)
{
    uint64_t n;
    int fishy;
    if (!hvpy_heap_alive(self) ||
        hvpy_size_arg(arg, "mmap", "length", &n, &fishy))
        return NULL;
    if (n == 0 || fishy)
        return PyErr_Format(PyExc_ValueError,
                            "mmap(): length must be positive, got %R", arg);
    uint64_t out;
    hv_err_t rc = hv_mmap(self->h, n, hvpy_current_site(self), &out);
    if (rc != HV_OK) {
        hvpy_core_error(self, rc,
                        &(hvpy_call_t){.op = OP_MMAP, .value = (long long)n});
        return NULL;
    }
    return op_result(self, out);
}

PyDoc_STRVAR(munmap_doc, "munmap(ptr: Pointer) -> None\n\n"
                         "Remove a mapping made by mmap().");

static PyObject *heap_munmap(HeapObject *self, PyObject *arg)
{
    PointerObject *p;
    if (!hvpy_heap_alive(self) ||
        hvpy_pointer_arg(self->st, arg, "munmap", &p) < 0)
        return NULL;
    hv_err_t rc = hv_munmap(self->h, p->addr, hvpy_current_site(self));
    if (rc != HV_OK) {
        hvpy_core_error(self, rc, &(hvpy_call_t){.op = OP_MUNMAP, .ptr = p});
        return NULL;
    }
    if (hvpy_after_op(self) < 0) return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(brk_doc, "the current break (a Pointer)");

static PyObject *heap_get_brk(HeapObject *self, void *c)
{
    (void)c;
    if (!hvpy_heap_alive(self)) return NULL;
    return hvpy_pointer_new(self->st, self, hv_brk(self->h), 0, 0, 0,
                            PROV_NONE);
}

PyMethodDef hvpy_heap_memory_methods[] = {
    {"malloc", (PyCFunction)heap_malloc, METH_O, malloc_doc},
    {"calloc", (PyCFunction)(void (*)(void))heap_calloc, METH_FASTCALL,
     calloc_doc},
    {"realloc", (PyCFunction)(void (*)(void))heap_realloc, METH_FASTCALL,
     realloc_doc},
    {"free", (PyCFunction)heap_free, METH_O, free_doc},
    {"sbrk", (PyCFunction)heap_sbrk, METH_O, sbrk_doc},
    {"mmap", (PyCFunction)heap_mmap, METH_O, mmap_doc},
    {"munmap", (PyCFunction)heap_munmap, METH_O, munmap_doc},
    {NULL, NULL, 0, NULL},
};

PyGetSetDef hvpy_heap_memory_getset[] = {
    {"brk", (getter)heap_get_brk, NULL, brk_doc, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

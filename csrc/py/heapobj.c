/* heapobj.c — the Heap type: the memory API a student calls.
 *
 * heapviz.Heap (heapviz/heap.py) subclasses this type: the hot calls
 * (malloc, free, calloc, realloc) are here in C, the friendly ones
 * (blocks(), stats(), leaks(), show()) in Python on top of the _underscore
 * methods below.  Every method starts with a validity check; a closed heap
 * raises ValueError, never touches freed memory.
 */
#include "binding.h"

#include <stdio.h>
#include <string.h>
#include <structmember.h>

static const char CAPSULE_NAME[] = "heapviz._core.heap";

static int as_int(PyObject *o)
{
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < INT32_MIN || v > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "value out of range");
        return -1;
    }
    return (int)v;
}

int hvpy_heap_alive(HeapObject *self)
{
    if (self->h != NULL)
        return 1;
    PyErr_SetString(PyExc_ValueError,
                    "this heap is closed: its memory was given back to the "
                    "system, so its pointers lead nowhere");
    return 0;
}

static module_state *state_of(HeapObject *self)
{
    return self->st != NULL ? self->st : hvpy_state_of_type(Py_TYPE(self));
}

/* After each operation: the live viewer's step hook, if any. */
static int after_op(HeapObject *self)
{
    if (self->step_hook == NULL)
        return 0;
    PyObject *r = PyObject_CallNoArgs(self->step_hook);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* --- lifecycle ---------------------------------------------------------- */

static int heap_init(HeapObject *self, PyObject *args, PyObject *kwds)
{
    static char *kw[] = {"size",           "max_size",   "policy",
                         "order",          "coalesce",   "align",
                         "base",           "mmap_threshold",
                         "split_threshold", "footer",    "magic",
                         "record",         "shadow",     "debug_check",
                         "checks",         "ring_capacity",
                         "history_limit",  "stack_size", NULL};
    hv_config_t cfg;
    hv_config_default(&cfg);
    unsigned long long size = cfg.size, max_size = cfg.max_size,
                       base = cfg.base, mmap_threshold = cfg.mmap_threshold,
                       split_threshold = cfg.split_threshold,
                       history_limit = cfg.history_limit;
    int policy = cfg.policy, order = cfg.order, coalesce = cfg.coalesce;
    unsigned int align = cfg.align, ring = cfg.ring_capacity,
                 stack = cfg.stack_size;
    int footer = cfg.footer, magic = cfg.magic, record = cfg.record,
        shadow = cfg.shadow, debug_check = cfg.debug_check, checks = 0;
    if (self->h != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Heap.__init__ called twice");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(
            args, kwds, "|$KKiiiIKKKpppppiIKI:Heap", kw, &size, &max_size,
            &policy, &order, &coalesce, &align, &base, &mmap_threshold,
            &split_threshold, &footer, &magic, &record, &shadow, &debug_check,
            &checks, &ring, &history_limit, &stack))
        return -1;
    cfg.size = size, cfg.max_size = max_size, cfg.base = base;
    cfg.policy = (hv_policy_t)policy, cfg.order = (hv_order_t)order;
    cfg.coalesce = (hv_coalesce_t)coalesce, cfg.align = align;
    cfg.mmap_threshold = mmap_threshold, cfg.split_threshold = split_threshold;
    cfg.footer = footer, cfg.magic = magic, cfg.record = record;
    cfg.shadow = shadow && checks != CHECKS_OFF;
    cfg.debug_check = debug_check, cfg.ring_capacity = ring;
    cfg.history_limit = history_limit, cfg.stack_size = stack;
#ifdef HV_DEBUG
    cfg.debug_check = true;
#endif
    const char *bad = NULL;
    hv_err_t rc = hv_heap_create(&cfg, &self->h, &bad);
    if (rc == HV_EINVAL) {
        PyErr_Format(PyExc_ValueError, "Heap(%s=…): %s", bad ? bad : "?",
                     "value out of range");
        return -1;
    }
    if (rc != HV_OK) {
        hvpy_raise_core(rc, "Heap()");
        return -1;
    }
    self->checks = checks;
    self->st = hvpy_state_of_type(Py_TYPE(self));
    self->sites = hvpy_sites_new();
    hv_layout_t lay;
    hv_heap_layout(self->h, &lay);
    self->roots = hvpy_roots_new(lay.heap_base, cfg.max_size);
    self->prov = PyDict_New();
    if (self->sites == NULL || self->roots == NULL || self->prov == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    module_state *st = state_of(self);
    PyObject *ref = st ? PyWeakref_NewRef((PyObject *)self, NULL) : NULL;
    if (ref == NULL || PyList_Append(st->heaps, ref) < 0) {
        Py_XDECREF(ref);
        return -1;
    }
    Py_DECREF(ref);
    return 0;
}

static void heap_release(HeapObject *self)
{
    if (self->h != NULL) {
        hv_heap_destroy(self->h);
        self->h = NULL;
    }
    hvpy_sites_free(self->sites);
    self->sites = NULL;
    hvpy_roots_free(self->roots);
    self->roots = NULL;
}

static int heap_traverse(HeapObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self)); /* heap type instances keep their type alive */
    Py_VISIT(self->prov);
    Py_VISIT(self->step_hook); /* the viewer's callback may hold the heap */
    Py_VISIT(self->dict);
    return 0;
}

static int heap_clear(HeapObject *self)
{
    Py_CLEAR(self->prov);
    Py_CLEAR(self->step_hook);
    Py_CLEAR(self->dict);
    return 0;
}

static void heap_dealloc(HeapObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    heap_clear(self);
    heap_release(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

PyDoc_STRVAR(close_doc, "close() -> None\n\nGive the arena back to the system. "
                        "Later use of the heap or its pointers raises.");

static PyObject *heap_close(HeapObject *self, PyObject *unused)
{
    (void)unused;
    heap_release(self);
    Py_CLEAR(self->step_hook);
    Py_RETURN_NONE;
}

/* --- arguments ---------------------------------------------------------- */

/* A size_t argument.  Negative values are "fishy" (valgrind's word): *fishy
 * is set and *out holds what C would see (the value wrapped to size_t). */
static int size_arg(PyObject *o, const char *fn, const char *name,
                    uint64_t *out, int *fishy)
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
    if (!PyIndex_Check(o) || PyBool_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s(): %s must be an int, not %.100s",
                     fn, name, Py_TYPE(o)->tp_name);
        return -1;
    }
    PyObject *idx = PyNumber_Index(o);
    if (idx == NULL)
        return -1;
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

/* Report a fishy size; returns -1 when raised, 0 to go on as C would. */
static int fishy_size(HeapObject *self, const char *fn, const char *arg,
                      uint64_t value)
{
    PyObject *extra = Py_BuildValue("(ss)", fn, arg);
    if (extra == NULL)
        return -1;
    int rc = hvpy_memory_error(state_of(self), self, HV_ERR_FISHY, 0, value, 0,
                               NULL, extra);
    Py_DECREF(extra);
    return rc;
}

/* calloc(nmemb, size) whose product overflows size_t: C gives NULL; the
 * report says why.  Returns -1 when raised, 0 to go on (NULL). */
static int calloc_overflow(HeapObject *self, uint64_t nmemb, uint64_t size)
{
    PyObject *extra = Py_BuildValue("(sKK)", "calloc",
                                    (unsigned long long)nmemb,
                                    (unsigned long long)size);
    if (extra == NULL)
        return -1;
    int rc = hvpy_memory_error(state_of(self), self, HV_ERR_FISHY, 0, 0, 0,
                               NULL, extra);
    Py_DECREF(extra);
    return rc;
}

/* A core error from malloc/calloc: the allocator found its metadata
 * damaged (HeapCorruption, as glibc aborts), or something else. */
static PyObject *alloc_error(HeapObject *self, hv_err_t rc, const char *fn)
{
    if (rc != HV_ECORRUPT)
        return hvpy_raise_core(rc, fn);
    PyObject *extra = PyUnicode_FromString(fn);
    if (extra == NULL)
        return NULL;
    if (hvpy_memory_error(state_of(self), self, HV_ERR_CORRUPTION, 0, 0, 0,
                          NULL, extra) == 0 &&
        !PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "heap corruption");
    Py_DECREF(extra);
    return NULL;
}

static int pointer_arg(HeapObject *self, PyObject *o, const char *fn,
                       PointerObject **out)
{
    module_state *st = state_of(self);
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

/* --- results ------------------------------------------------------------ */

/* A new Pointer to the block whose payload is at `payload`. */
static PyObject *block_pointer(HeapObject *self, uint64_t payload)
{
    module_state *st = state_of(self);
    if (payload == 0)
        return Py_NewRef(st->null);
    hv_addr_t start;
    uint64_t seq;
    hv_block_state_t state = HV_BLOCK_ALLOCATED;
    if (!hv_block_fresh(self->h, payload, &start, &seq) &&
        hv_block_ident(self->h, payload, &start, &seq, &state, NULL) !=
            HV_OK) {
        PyErr_SetString(PyExc_RuntimeError,
                        "heapviz: the allocator returned an address in no "
                        "block (please report this bug)");
        return NULL;
    }
    int prov = state == HV_BLOCK_SBRK || state == HV_BLOCK_MAPPING
                   ? PROV_RAW
                   : PROV_BLOCK;
    PyObject *p = hvpy_pointer_new(st, self, payload, start, payload, seq,
                                   prov);
    if (p != NULL && prov == PROV_RAW) {
        hv_block_t b;
        if (hv_block_at(self->h, start, &b) == HV_OK)
            ((PointerObject *)p)->plen = b.payload_size;
    }
    return p;
}

/* The Pointer an operation returns, once the step hook (the viewer's step
 * mode, a notebook watch) has seen the operation. */
static PyObject *op_result(HeapObject *self, uint64_t payload)
{
    PyObject *p = block_pointer(self, payload);
    if (p != NULL && after_op(self) < 0)
        Py_CLEAR(p);
    return p;
}

/* Turn a core error from free/realloc into the right memory error. */
static int free_error(HeapObject *self, hv_err_t rc, PointerObject *p,
                      const char *fn)
{
    int kind = rc == HV_EDOUBLEFREE  ? HV_ERR_DOUBLE_FREE
               : rc == HV_EBADFREE   ? HV_ERR_INVALID_FREE
               : rc == HV_ECORRUPT   ? HV_ERR_CORRUPTION
               : rc == HV_EFAULT     ? HV_ERR_INVALID_FREE
                                     : 0;
    if (kind == 0) {
        hvpy_raise_core(rc, fn);
        return -1;
    }
    PyObject *extra = PyUnicode_FromString(fn);
    int r = hvpy_memory_error(state_of(self), self, kind, p->addr, 0, 0, p,
                              extra);
    Py_XDECREF(extra);
    if (kind == HV_ERR_CORRUPTION && r == 0) {
        /* glibc aborts here: a corrupted heap cannot go on */
        PyErr_SetString(PyExc_RuntimeError, "heap corruption");
        return -1;
    }
    return r;
}

/* Judge the pointer given to free/realloc by its provenance.  Returns the
 * error kind (0: looks like a live block start). */
static int judge_free(HeapObject *self, PointerObject *p)
{
    if (p->prov == PROV_STACK)
        return HV_ERR_INVALID_FREE;
    if (p->prov == PROV_RAW)
        return HV_ERR_INVALID_FREE;
    if (p->prov != PROV_BLOCK || p->heap != self)
        return 0; /* wild: the core decides (HV_EBADFREE / DOUBLEFREE) */
    if (p->addr != p->pstart)
        return HV_ERR_INVALID_FREE; /* interior pointer */
    return hv_block_live(self->h, p->pstart, p->bstart, p->seq)
               ? 0
               : HV_ERR_DOUBLE_FREE;
}

/* Validate before free/realloc.  Returns 1 to go on, 0 to skip the call
 * (reported only), -1 raised. */
static int check_free_arg(HeapObject *self, PointerObject *p, const char *fn)
{
    if (self->checks == CHECKS_OFF)
        return 1;
    int kind = judge_free(self, p);
    if (kind == 0)
        return 1;
    PyObject *extra = PyUnicode_FromString(fn);
    int rc = hvpy_memory_error(state_of(self), self, kind, p->addr, 0, 0, p,
                               extra);
    Py_XDECREF(extra);
    if (rc < 0)
        return -1;
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

/* --- the memory API ----------------------------------------------------- */

PyDoc_STRVAR(malloc_doc,
             "malloc(size: int) -> Pointer\n\n"
             "Allocate size bytes (uninitialized); heapviz.NULL when the heap "
             "cannot grow.");

static PyObject *heap_malloc(HeapObject *self, PyObject *arg)
{
    uint64_t n;
    int fishy;
    if (!hvpy_heap_alive(self) || size_arg(arg, "malloc", "size", &n, &fishy))
        return NULL;
    if (fishy && fishy_size(self, "malloc", "size", n) < 0)
        return NULL;
    uint64_t out;
    hv_err_t rc = hv_malloc(self->h, n, hvpy_current_site(self), &out);
    if (rc != HV_OK)
        return alloc_error(self, rc, "malloc");
    return op_result(self, out);
}

PyDoc_STRVAR(calloc_doc,
             "calloc(nmemb: int, size: int) -> Pointer\n\n"
             "Allocate nmemb * size zeroed bytes; heapviz.NULL if the product "
             "overflows\nor the heap cannot grow.");

static PyObject *heap_calloc(HeapObject *self, PyObject *const *args,
                             Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError,
                     "calloc(nmemb, size) takes 2 arguments (%zd given)",
                     nargs);
        return NULL;
    }
    uint64_t nmemb, size;
    int f1, f2;
    if (!hvpy_heap_alive(self) ||
        size_arg(args[0], "calloc", "nmemb", &nmemb, &f1) ||
        size_arg(args[1], "calloc", "size", &size, &f2))
        return NULL;
    if ((f1 && fishy_size(self, "calloc", "nmemb", nmemb) < 0) ||
        (f2 && fishy_size(self, "calloc", "size", size) < 0))
        return NULL;
    if (size != 0 && nmemb > UINT64_MAX / size &&
        self->checks != CHECKS_OFF && calloc_overflow(self, nmemb, size) < 0)
        return NULL;
    uint64_t out;
    hv_err_t rc =
        hv_calloc(self->h, nmemb, size, hvpy_current_site(self), &out);
    if (rc != HV_OK)
        return alloc_error(self, rc, "calloc");
    return op_result(self, out);
}

PyDoc_STRVAR(free_doc, "free(ptr: Pointer) -> None\n\n"
                       "Give a block back; free(heapviz.NULL) does nothing.");

static PyObject *heap_free(HeapObject *self, PyObject *arg)
{
    PointerObject *p;
    if (!hvpy_heap_alive(self) || pointer_arg(self, arg, "free", &p) < 0)
        return NULL;
    if (p->addr == 0)
        Py_RETURN_NONE;
    int go = check_free_arg(self, p, "free");
    if (go < 0)
        return NULL;
    if (go == 0)
        Py_RETURN_NONE;
    hv_err_t rc = hv_free(self->h, p->addr, hvpy_current_site(self),
                          free_mode(self));
    if (rc != HV_OK && free_error(self, rc, p, "free") < 0)
        return NULL;
    if (rc == HV_OK && p->rooted == ROOTED)
        p->rooted = ROOTED_FREED; /* its death needs no leak check */
    if (after_op(self) < 0)
        return NULL;
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
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError,
                     "realloc(ptr, size) takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    PointerObject *p;
    uint64_t n;
    int fishy;
    if (!hvpy_heap_alive(self) || pointer_arg(self, args[0], "realloc", &p) ||
        size_arg(args[1], "realloc", "size", &n, &fishy))
        return NULL;
    if (fishy && fishy_size(self, "realloc", "size", n) < 0)
        return NULL;
    if (p->addr != 0) {
        int go = check_free_arg(self, p, "realloc");
        if (go < 0)
            return NULL;
        if (go == 0)
            return Py_NewRef(state_of(self)->null);
    }
    uint64_t out;
    hv_err_t rc = hv_realloc(self->h, p->addr, n, hvpy_current_site(self),
                             free_mode(self), &out);
    if (rc != HV_OK) {
        if (free_error(self, rc, p, "realloc") < 0)
            return NULL;
        out = 0;
    }
    return op_result(self, out);
}

PyDoc_STRVAR(sbrk_doc,
             "sbrk(increment: int) -> Pointer\n\n"
             "Move the break by increment bytes (rounded up to the alignment) "
             "and return\nthe old break; sbrk(0) tells where the break is.");

static PyObject *heap_sbrk(HeapObject *self, PyObject *arg)
{
    if (!hvpy_heap_alive(self))
        return NULL;
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
    if (rc == HV_ENOMEM) /* as sbrk: (void *)-1 and ENOMEM */
        return PyErr_Format(PyExc_MemoryError,
                            "sbrk(%lld): the heap cannot grow that far "
                            "(max_size reached)",
                            incr);
    if (rc == HV_EINVAL)
        return PyErr_Format(PyExc_ValueError,
                            "sbrk(%lld): the break can only move back over "
                            "free space at the top of the heap",
                            incr);
    if (rc != HV_OK)
        return hvpy_raise_core(rc, "sbrk()");
    PyObject *p;
    if (incr > 0)
        p = block_pointer(self, old);
    else
        p = hvpy_pointer_new(state_of(self), self, old, 0, 0, 0, PROV_NONE);
    if (p != NULL && after_op(self) < 0)
        Py_CLEAR(p);
    return p;
}

PyDoc_STRVAR(mmap_doc, "mmap(length: int) -> Pointer\n\n"
                       "A fresh anonymous mapping of length bytes (rounded "
                       "up to pages), zero-filled.");

static PyObject *heap_mmap(HeapObject *self, PyObject *arg)
{
    uint64_t n;
    int fishy;
    if (!hvpy_heap_alive(self) || size_arg(arg, "mmap", "length", &n, &fishy))
        return NULL;
    if (n == 0 || fishy)
        return PyErr_Format(PyExc_ValueError,
                            "mmap(): length must be positive, got %R", arg);
    uint64_t out;
    hv_err_t rc = hv_mmap(self->h, n, hvpy_current_site(self), &out);
    if (rc == HV_ENOMEM)
        return PyErr_Format(PyExc_MemoryError,
                            "mmap(%llu): no room left in the mmap region",
                            (unsigned long long)n);
    if (rc != HV_OK)
        return hvpy_raise_core(rc, "mmap()");
    return op_result(self, out);
}

PyDoc_STRVAR(munmap_doc, "munmap(ptr: Pointer) -> None\n\n"
                         "Remove a mapping made by mmap().");

static PyObject *heap_munmap(HeapObject *self, PyObject *arg)
{
    PointerObject *p;
    if (!hvpy_heap_alive(self) || pointer_arg(self, arg, "munmap", &p) < 0)
        return NULL;
    hv_err_t rc = hv_munmap(self->h, p->addr, hvpy_current_site(self));
    if (rc == HV_EINVAL || rc == HV_EBADFREE)
    {
        char hex[24];
        snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)p->addr);
        return PyErr_Format(PyExc_ValueError,
                            "munmap(%s): no mapping starts there", hex);
    }
    if (rc != HV_OK)
        return hvpy_raise_core(rc, "munmap()");
    if (after_op(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* --- introspection (the Python layer builds records from these) -------- */

/* Append a new reference to *list (the item is consumed); on failure the
 * list is dropped and *list is NULL, so loops stop on `list != NULL`. */
static void append_new(PyObject **list, PyObject *item)
{
    if (*list != NULL && (item == NULL || PyList_Append(*list, item) < 0))
        Py_CLEAR(*list);
    Py_XDECREF(item);
}


static PyObject *block_tuple(const hv_block_t *b)
{
    return Py_BuildValue(
        "(KKKKKiIIIiiKIIIiKK)", (unsigned long long)b->addr,
        (unsigned long long)b->size, (unsigned long long)b->payload,
        (unsigned long long)b->payload_size, (unsigned long long)b->requested,
        (int)b->state, (unsigned)b->header, (unsigned)b->footer,
        (unsigned)b->magic, (int)b->prev_alloc, (int)b->has_footer,
        (unsigned long long)b->seq, (unsigned)b->site, (unsigned)b->free_site,
        (unsigned)b->gen, (int)b->list, (unsigned long long)b->next_free,
        (unsigned long long)b->prev_free);
}

static int append_block(const hv_block_t *b, void *arg)
{
    PyObject *t = block_tuple(b);
    if (t == NULL)
        return -1;
    int rc = PyList_Append((PyObject *)arg, t);
    Py_DECREF(t);
    return rc < 0 ? -1 : 0;
}

static PyObject *heap_blocks_raw(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self))
        return NULL;
    PyObject *list = PyList_New(0);
    if (list != NULL && hv_walk(self->h, append_block, list) < 0 &&
        PyErr_Occurred())
        Py_CLEAR(list);
    return list;
}

static PyObject *heap_free_list_raw(HeapObject *self, PyObject *arg)
{
    if (!hvpy_heap_alive(self))
        return NULL;
    int i = as_int(arg);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    if (i < 0 || i >= hv_free_list_count(self->h))
        return PyErr_Format(PyExc_IndexError, "no free list %d", i);
    PyObject *list = PyList_New(0);
    if (list != NULL && hv_walk_free_list(self->h, i, append_block, list) < 0 &&
        PyErr_Occurred())
        Py_CLEAR(list);
    return list;
}

static PyObject *heap_free_lists_info(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self))
        return NULL;
    int n = hv_free_list_count(self->h);
    PyObject *out = PyList_New(n);
    for (int i = 0; out != NULL && i < n; i++) {
        uint64_t lo, hi;
        hv_free_list_range(self->h, i, &lo, &hi);
        PyObject *t = Py_BuildValue("(KK)", (unsigned long long)lo,
                                    (unsigned long long)hi);
        if (t == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, i, t);
    }
    return out;
}

static PyObject *heap_block_at_raw(HeapObject *self, PyObject *const *args,
                                   Py_ssize_t nargs)
{
    if (nargs != 2)
        return PyErr_Format(PyExc_TypeError, "_block(addr, containing)");
    if (!hvpy_heap_alive(self))
        return NULL;
    unsigned long long a = PyLong_AsUnsignedLongLong(args[0]);
    if (a == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    hv_block_t b;
    hv_err_t rc = PyObject_IsTrue(args[1]) ? hv_block_containing(self->h, a, &b)
                                           : hv_block_at(self->h, a, &b);
    if (rc != HV_OK)
        Py_RETURN_NONE;
    return block_tuple(&b);
}

static PyObject *heap_stats_raw(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self))
        return NULL;
    hv_stats_t s;
    hv_stats(self->h, &s);
    return Py_BuildValue(
        "{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:d,s:d,s:d,s:K,s:K,s:K,"
        "s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K}",
        "heap_size", (unsigned long long)s.heap_size, "brk_size",
        (unsigned long long)s.brk_size, "mmapped",
        (unsigned long long)s.mmapped, "in_use", (unsigned long long)s.in_use,
        "payload", (unsigned long long)s.payload, "peak_payload",
        (unsigned long long)s.peak_payload, "free_bytes",
        (unsigned long long)s.free_bytes, "largest_free",
        (unsigned long long)s.largest_free, "free_blocks",
        (unsigned long long)s.free_blocks, "alloc_blocks",
        (unsigned long long)s.alloc_blocks, "utilization", s.utilization,
        "frag_internal", s.frag_internal, "frag_external", s.frag_external,
        "n_malloc", (unsigned long long)s.n_malloc, "n_calloc",
        (unsigned long long)s.n_calloc, "n_realloc",
        (unsigned long long)s.n_realloc, "n_free",
        (unsigned long long)s.n_free, "n_failed",
        (unsigned long long)s.n_failed, "n_split",
        (unsigned long long)s.n_split, "n_coalesce",
        (unsigned long long)s.n_coalesce, "n_grow",
        (unsigned long long)s.n_grow, "n_mmap", (unsigned long long)s.n_mmap,
        "n_munmap", (unsigned long long)s.n_munmap, "n_errors",
        (unsigned long long)s.n_errors, "ops", (unsigned long long)s.ops);
}

PyDoc_STRVAR(check_doc,
             "check() -> list[str]\n\n"
             "The heap's invariant violations, one sentence each; empty when "
             "consistent.");

static PyObject *heap_check(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self))
        return NULL;
    hv_violation_t v[64];
    int n = hv_check(self->h, v, 64);
    PyObject *out = PyList_New(0);
    for (int i = 0; out != NULL && i < n && i < 64; i++) {
        char line[160]; /* PyUnicode_FromFormat has no %llx */
        if (v[i].addr)
            snprintf(line, sizeof line, "0x%llx: %s",
                     (unsigned long long)v[i].addr, v[i].what);
        else
            snprintf(line, sizeof line, "%s", v[i].what);
        PyObject *s = PyUnicode_FromString(line);
        append_new(&out, s);
    }
    if (out != NULL && n > 64) {
        PyObject *s = PyUnicode_FromFormat("… and %d more", n - 64);
        append_new(&out, s);
    }
    return out;
}

static PyObject *event_tuple(const hv_event_t *e)
{
    return Py_BuildValue("(KKiiIKKKK)", (unsigned long long)e->seq,
                         (unsigned long long)e->op, (int)e->kind,
                         (int)e->flags, (unsigned)e->site,
                         (unsigned long long)e->addr,
                         (unsigned long long)e->size, (unsigned long long)e->a,
                         (unsigned long long)e->b);
}

static PyObject *heap_event_raw(HeapObject *self, PyObject *arg)
{
    if (!hvpy_heap_alive(self))
        return NULL;
    unsigned long long seq = PyLong_AsUnsignedLongLong(arg);
    if (seq == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    hv_event_t e;
    if (!hv_history_get(self->h, seq, &e))
        Py_RETURN_NONE;
    return event_tuple(&e);
}

/* Two unsigned arguments of the introspection calls: (addr, n) or
 * (start, stop). */
static int addr_len_args(const char *fn, PyObject *const *args,
                         Py_ssize_t nargs, unsigned long long *a,
                         unsigned long long *n)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "%s() takes 2 arguments", fn);
        return -1;
    }
    *a = PyLong_AsUnsignedLongLong(args[0]);
    *n = PyLong_AsUnsignedLongLong(args[1]);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *heap_events_range(HeapObject *self, PyObject *const *args,
                                   Py_ssize_t nargs)
{
    unsigned long long lo, hi;
    if (!hvpy_heap_alive(self) ||
        addr_len_args("_events", args, nargs, &lo, &hi) < 0)
        return NULL;
    PyObject *out = PyList_New(0);
    hv_event_t e;
    for (unsigned long long s = lo; out != NULL && s < hi; s++) {
        if (!hv_history_get(self->h, s, &e))
            continue;
        PyObject *t = event_tuple(&e);
        append_new(&out, t);
    }
    return out;
}

static PyObject *heap_history_info(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self))
        return NULL;
    return Py_BuildValue("(KK)", (unsigned long long)hv_history_first(self->h),
                         (unsigned long long)hv_history_count(self->h));
}

static PyObject *heap_record_event(HeapObject *self, PyObject *const *args,
                                   Py_ssize_t nargs)
{
    /* _record(kind, addr, size, a, b, site, flags) -> seq */
    unsigned long long v[7] = {0};
    if (nargs != 7)
        return PyErr_Format(PyExc_TypeError, "_record() takes 7 arguments");
    if (!hvpy_heap_alive(self))
        return NULL;
    for (int i = 0; i < 7; i++) {
        v[i] = PyLong_AsUnsignedLongLong(args[i]);
        if (v[i] == (unsigned long long)-1 && PyErr_Occurred())
            return NULL;
    }
    hv_event_t e = {0};
    e.kind = (uint16_t)v[0];
    e.addr = v[1], e.size = v[2], e.a = v[3], e.b = v[4];
    e.site = (uint32_t)v[5], e.flags = (uint16_t)v[6];
    return PyLong_FromUnsignedLongLong(hv_event_record(self->h, &e));
}

static PyObject *heap_site_now(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self))
        return NULL;
    return PyLong_FromUnsignedLong(hvpy_current_site(self));
}

static PyObject *heap_site_info(HeapObject *self, PyObject *arg)
{
    unsigned long site = PyLong_AsUnsignedLong(arg);
    if (site == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    return hvpy_site_tuple(self, (uint32_t)site);
}

static PyObject *heap_intern(HeapObject *self, PyObject *const *args,
                             Py_ssize_t nargs)
{
    /* _intern(file, line, func) -> site id (reports are interned too) */
    const char *file, *func;
    unsigned int line;
    if (nargs != 3)
        return PyErr_Format(PyExc_TypeError, "_intern() takes 3 arguments");
    if (!hvpy_heap_alive(self))
        return NULL;
    file = PyUnicode_AsUTF8(args[0]);
    func = PyUnicode_AsUTF8(args[2]);
    line = (unsigned)PyLong_AsUnsignedLong(args[1]);
    if (file == NULL || func == NULL || PyErr_Occurred())
        return NULL;
    uint32_t id;
    hv_err_t rc = hv_site_intern(self->h, file, line, func, &id);
    if (rc != HV_OK)
        return hvpy_raise_core(rc, "_intern()");
    return PyLong_FromUnsignedLong(id);
}

static PyObject *heap_layout(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self))
        return NULL;
    hv_layout_t l;
    hv_heap_layout(self->h, &l);
    return Py_BuildValue(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:K,s:K,s:K,s:K}", "align", l.align,
        "header_size", l.header_size, "footer_size", l.footer_size,
        "min_block", l.min_block, "heap_pad", l.heap_pad, "page_size",
        l.page_size, "heap_base", (unsigned long long)l.heap_base, "mmap_base",
        (unsigned long long)l.mmap_base, "stack_base",
        (unsigned long long)l.stack_base, "stack_top",
        (unsigned long long)l.stack_top);
}

/* The core's own copy of the configuration (what recordings save). */
static PyObject *heap_config_raw(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self))
        return NULL;
    const hv_config_t *c = hv_heap_config(self->h);
    return Py_BuildValue(
        "{s:K,s:K,s:i,s:i,s:i,s:I,s:K,s:K,s:K,s:O,s:O,s:I}", "size",
        (unsigned long long)c->size, "max_size",
        (unsigned long long)c->max_size, "policy", (int)c->policy, "order",
        (int)c->order, "coalesce", (int)c->coalesce, "align", c->align, "base",
        (unsigned long long)c->base, "mmap_threshold",
        (unsigned long long)c->mmap_threshold, "split_threshold",
        (unsigned long long)c->split_threshold, "footer",
        c->footer ? Py_True : Py_False, "magic", c->magic ? Py_True : Py_False,
        "stack_size", c->stack_size);
}

static PyObject *heap_capsule(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self))
        return NULL;
    return PyCapsule_New(self->h, CAPSULE_NAME, NULL);
}

static PyObject *heap_raw_read(HeapObject *self, PyObject *const *args,
                               Py_ssize_t nargs)
{
    /* _raw_read(addr, n): introspection without checks (leak scan, viewer) */
    unsigned long long a, n;
    if (!hvpy_heap_alive(self) ||
        addr_len_args("_raw_read", args, nargs, &a, &n) < 0)
        return NULL;
    hv_region_t region;
    uint8_t *mem;
    if (n == 0)
        return PyBytes_FromStringAndSize("", 0);
    if (n > PY_SSIZE_T_MAX ||
        hv_resolve(self->h, a, n, &region, &mem) != HV_OK)
    {
        char hex[24];
        snprintf(hex, sizeof hex, "0x%llx", a);
        return PyErr_Format(PyExc_ValueError, "%s..+%llu is not mapped memory",
                            hex, n);
    }
    return PyBytes_FromStringAndSize((char *)mem, (Py_ssize_t)n);
}

static PyObject *heap_shadow(HeapObject *self, PyObject *const *args,
                             Py_ssize_t nargs)
{
    /* _shadow(addr, n): the per-byte states (bytes of HV_SH_*) or None */
    unsigned long long a, n;
    if (!hvpy_heap_alive(self) ||
        addr_len_args("_shadow", args, nargs, &a, &n) < 0)
        return NULL;
    const uint8_t *sh = n ? hv_shadow(self->h, a, n) : NULL;
    if (sh == NULL || n > PY_SSIZE_T_MAX)
        Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)sh, (Py_ssize_t)n);
}

static PyObject *heap_roots(HeapObject *self, PyObject *unused)
{
    (void)unused;
    return hvpy_roots_list(self);
}

static PyObject *heap_prov_entries(HeapObject *self, PyObject *unused)
{
    (void)unused;
    return PyDict_Copy(self->prov);
}

static PyObject *heap_set_step_hook(HeapObject *self, PyObject *arg)
{
    if (arg != Py_None && !PyCallable_Check(arg))
        return PyErr_Format(PyExc_TypeError, "step hook must be callable");
    Py_XSETREF(self->step_hook, arg == Py_None ? NULL : Py_NewRef(arg));
    Py_RETURN_NONE;
}

static PyObject *heap_get_step_hook(HeapObject *self, PyObject *unused)
{
    (void)unused;
    return Py_NewRef(self->step_hook ? self->step_hook : Py_None);
}

static PyObject *heap_set_recording(HeapObject *self, PyObject *arg)
{
    int on = PyObject_IsTrue(arg);
    if (on < 0 || !hvpy_heap_alive(self))
        return NULL;
    hv_set_recording(self->h, on);
    Py_RETURN_NONE;
}

/* --- the simulated stack ------------------------------------------------ */

static PyObject *heap_frame_push(HeapObject *self, PyObject *arg)
{
    const char *name = PyUnicode_AsUTF8(arg);
    if (name == NULL || !hvpy_heap_alive(self))
        return NULL;
    uint32_t depth;
    hv_err_t rc = hv_frame_push(self->h, name, hvpy_current_site(self), &depth);
    if (rc == HV_ESTACK || (rc == HV_OK && depth > 64))
        return PyErr_Format(PyExc_RecursionError,
                            "stack overflow: too many nested frames");
    if (rc != HV_OK)
        return hvpy_raise_core(rc, "frame()");
    self->frame_serial[depth - 1] = ++self->next_frame_serial;
    return PyLong_FromUnsignedLongLong(self->next_frame_serial);
}

static PyObject *heap_frame_alloc(HeapObject *self, PyObject *arg)
{
    uint64_t n;
    int fishy;
    if (!hvpy_heap_alive(self) || size_arg(arg, "alloc", "size", &n, &fishy))
        return NULL;
    if (fishy || n == 0)
        return PyErr_Format(PyExc_ValueError,
                            "a stack object needs a positive size, got %R",
                            arg);
    uint32_t depth = hv_frame_depth(self->h);
    if (depth == 0)
        return PyErr_Format(PyExc_RuntimeError, "no frame is active");
    uint64_t out;
    hv_err_t rc = hv_frame_alloc(self->h, n, hvpy_current_site(self), &out);
    if (rc == HV_ESTACK || rc == HV_ENOMEM)
        return PyErr_Format(PyExc_MemoryError,
                            "stack overflow: %llu more bytes do not fit on "
                            "the stack",
                            (unsigned long long)n);
    if (rc != HV_OK)
        return hvpy_raise_core(rc, "alloc()");
    PointerObject *p = (PointerObject *)hvpy_pointer_new(
        state_of(self), self, out, out, out,
        self->frame_serial[depth - 1], PROV_STACK);
    if (p != NULL)
        p->plen = n;
    return (PyObject *)p;
}

static PyObject *heap_frame_pop(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self))
        return NULL;
    uint32_t depth = hv_frame_depth(self->h);
    hv_err_t rc = hv_frame_pop(self->h, hvpy_current_site(self));
    if (rc != HV_OK)
        return hvpy_raise_core(rc, "frame exit");
    if (depth > 0 && depth <= 64)
        self->frame_serial[depth - 1] = 0;
    Py_RETURN_NONE;
}

static PyObject *heap_frames(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self))
        return NULL;
    uint32_t n = hv_frame_depth(self->h);
    PyObject *out = PyList_New(0);
    for (uint32_t i = 0; out != NULL && i < n; i++) {
        const char *name;
        hv_addr_t lo, hi;
        if (!hv_frame_get(self->h, i, &name, &lo, &hi))
            continue;
        PyObject *t = Py_BuildValue("(sKK)", name, (unsigned long long)lo,
                                    (unsigned long long)hi);
        append_new(&out, t);
    }
    return out;
}

/* --- getters ------------------------------------------------------------ */

static PyObject *heap_get_brk(HeapObject *self, void *c)
{
    (void)c;
    if (!hvpy_heap_alive(self))
        return NULL;
    return hvpy_pointer_new(state_of(self), self, hv_brk(self->h), 0, 0, 0,
                            PROV_NONE);
}

static PyObject *heap_get_fd(HeapObject *self, void *c)
{
    (void)c;
    if (!hvpy_heap_alive(self))
        return NULL;
    return PyLong_FromLong(hv_heap_fd(self->h));
}

static PyObject *heap_get_closed(HeapObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->h == NULL);
}

static PyObject *heap_get_checks(HeapObject *self, void *c)
{
    (void)c;
    return PyLong_FromLong(self->checks);
}

static int heap_set_checks(HeapObject *self, PyObject *v, void *c)
{
    (void)c;
    int m = v ? as_int(v) : -1;
    if (m < CHECKS_STRICT || m > CHECKS_OFF) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "checks must be 0, 1 or 2");
        return -1;
    }
    self->checks = m;
    return 0;
}

static PyObject *heap_get_rover(HeapObject *self, void *c)
{
    (void)c;
    if (!hvpy_heap_alive(self))
        return NULL;
    return PyLong_FromUnsignedLongLong(hv_rover(self->h));
}

static PyObject *heap_get_version(HeapObject *self, void *c)
{
    (void)c;
    if (!hvpy_heap_alive(self))
        return NULL;
    return PyLong_FromUnsignedLongLong(hv_heap_version(self->h));
}

static PyMethodDef heap_methods[] = {
    {"malloc", (PyCFunction)heap_malloc, METH_O, malloc_doc},
    {"calloc", (PyCFunction)(void (*)(void))heap_calloc, METH_FASTCALL,
     calloc_doc},
    {"realloc", (PyCFunction)(void (*)(void))heap_realloc, METH_FASTCALL,
     realloc_doc},
    {"free", (PyCFunction)heap_free, METH_O, free_doc},
    {"sbrk", (PyCFunction)heap_sbrk, METH_O, sbrk_doc},
    {"mmap", (PyCFunction)heap_mmap, METH_O, mmap_doc},
    {"munmap", (PyCFunction)heap_munmap, METH_O, munmap_doc},
    {"check", (PyCFunction)heap_check, METH_NOARGS, check_doc},
    {"close", (PyCFunction)heap_close, METH_NOARGS, close_doc},
    {"_blocks", (PyCFunction)heap_blocks_raw, METH_NOARGS, NULL},
    {"_free_list", (PyCFunction)heap_free_list_raw, METH_O, NULL},
    {"_free_lists", (PyCFunction)heap_free_lists_info, METH_NOARGS, NULL},
    {"_block", (PyCFunction)(void (*)(void))heap_block_at_raw, METH_FASTCALL,
     NULL},
    {"_stats", (PyCFunction)heap_stats_raw, METH_NOARGS, NULL},
    {"_event", (PyCFunction)heap_event_raw, METH_O, NULL},
    {"_events", (PyCFunction)(void (*)(void))heap_events_range, METH_FASTCALL,
     NULL},
    {"_history", (PyCFunction)heap_history_info, METH_NOARGS, NULL},
    {"_record", (PyCFunction)(void (*)(void))heap_record_event, METH_FASTCALL,
     NULL},
    {"_site", (PyCFunction)heap_site_now, METH_NOARGS, NULL},
    {"_site_info", (PyCFunction)heap_site_info, METH_O, NULL},
    {"_intern", (PyCFunction)(void (*)(void))heap_intern, METH_FASTCALL, NULL},
    {"_layout", (PyCFunction)heap_layout, METH_NOARGS, NULL},
    {"_config", (PyCFunction)heap_config_raw, METH_NOARGS, NULL},
    {"_capsule", (PyCFunction)heap_capsule, METH_NOARGS, NULL},
    {"_roots", (PyCFunction)heap_roots, METH_NOARGS, NULL},
    {"_raw_read", (PyCFunction)(void (*)(void))heap_raw_read, METH_FASTCALL,
     NULL},
    {"_shadow", (PyCFunction)(void (*)(void))heap_shadow, METH_FASTCALL, NULL},
    {"_stored_pointers", (PyCFunction)heap_prov_entries, METH_NOARGS, NULL},
    {"_set_step_hook", (PyCFunction)heap_set_step_hook, METH_O, NULL},
    {"_get_step_hook", (PyCFunction)heap_get_step_hook, METH_NOARGS, NULL},
    {"_set_recording", (PyCFunction)heap_set_recording, METH_O, NULL},
    {"_frame_push", (PyCFunction)heap_frame_push, METH_O, NULL},
    {"_frame_alloc", (PyCFunction)heap_frame_alloc, METH_O, NULL},
    {"_frame_pop", (PyCFunction)heap_frame_pop, METH_NOARGS, NULL},
    {"_frames", (PyCFunction)heap_frames, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

/* CPython 3.11 calls a C method fast (PRECALL_NO_KW_METHOD_DESCRIPTOR_O
 * and its siblings) only when self's type IS the type the method
 * descriptor belongs to.  heapviz.Heap is a Python subclass, so with the
 * descriptors inherited from here every h.malloc(n) and h.free(p) missed
 * that path and went through the generic call: about 20 ns a call, a
 * fifth of the malloc/free pair's budget.  This gives the subclass
 * descriptors of its own for the C methods it does not override itself. */
int hvpy_heap_own_methods(PyTypeObject *cls)
{
    for (PyMethodDef *d = heap_methods; d->ml_name != NULL; d++) {
        PyObject *name = PyUnicode_InternFromString(d->ml_name);
        if (name == NULL)
            return -1;
        int mine = PyDict_Contains(cls->tp_dict, name);
        PyObject *descr = mine == 0 ? PyDescr_NewMethod(cls, d) : NULL;
        int rc = mine < 0 || (mine == 0 && (descr == NULL ||
                                            PyObject_SetAttr((PyObject *)cls,
                                                             name, descr) < 0))
                     ? -1
                     : 0;
        Py_XDECREF(descr);
        Py_DECREF(name);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static PyGetSetDef heap_getset[] = {
    {"brk", (getter)heap_get_brk, NULL, "the current break (a Pointer)", NULL},
    {"fd", (getter)heap_get_fd, NULL, "the arena's memfd (-1 if anonymous)",
     NULL},
    {"closed", (getter)heap_get_closed, NULL, "True after close()", NULL},
    {"_checks", (getter)heap_get_checks, (setter)heap_set_checks, NULL, NULL},
    {"rover", (getter)heap_get_rover, NULL,
     "next fit's roving pointer (0 for other policies)", NULL},
    {"_version", (getter)heap_get_version, NULL, NULL, NULL},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef heap_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(HeapObject, weakreflist),
     READONLY, NULL},
    {"__dictoffset__", T_PYSSIZET, offsetof(HeapObject, dict), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot heap_slots[] = {
    {Py_tp_init, heap_init},
    {Py_tp_dealloc, heap_dealloc},
    {Py_tp_traverse, heap_traverse},
    {Py_tp_clear, heap_clear},
    {Py_tp_methods, heap_methods},
    {Py_tp_getset, heap_getset},
    {Py_tp_members, heap_members},
    {Py_tp_doc, (void *)"The allocator core behind heapviz.Heap."},
    {0, NULL},
};

PyType_Spec hvpy_heap_spec = {
    .name = "heapviz._core.Heap",
    .basicsize = sizeof(HeapObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = heap_slots,
};

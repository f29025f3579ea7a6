/* heap_introspect.c — what the heap looks like now.
 *
 * Owns the read-only questions a script, the notebook and the leak scanner
 * ask: every block (through the core's walker, hv_walk), the free lists,
 * the block at an address, stats, the invariant check, the layout and the
 * configuration, raw bytes and their shadow state, the leak roots and the
 * pointers stored in the heap.
 *
 * Whole-heap answers are built here in one pass: h.blocks() on a heap of
 * 100,000 blocks is one walk making Block records in C (records.c), not
 * 100,000 tuples turned into records in Python.  The raw tuple forms
 * (_blocks, _free_list, _block) stay for tools that want plain values.
 */
#include "binding.h"

#include <stdio.h>

/* Append a new reference to *list (the item is consumed); on failure the
 * list is dropped and *list is NULL, so loops stop on `list != NULL`. */
static void append_new(PyObject **list, PyObject *item)
{
    if (*list != NULL && (item == NULL || PyList_Append(*list, item) < 0))
        Py_CLEAR(*list);
    Py_XDECREF(item);
}

/* --- blocks: the walker's visitors -------------------------------------- */

typedef struct {
    HeapObject *heap;
    PyObject *list;
    int records; /* Block records, else raw tuples */
} collect_t;

static int collect_block(const hv_block_t *b, void *arg)
{
    collect_t *c = arg;
    PyObject *item =
        c->records ? hvpy_block_record(c->heap, b) : hvpy_block_tuple(b);
    if (item == NULL) return -1;
    int rc = PyList_Append(c->list, item);
    Py_DECREF(item);
    return rc < 0 ? -1 : 0;
}

static PyObject *walk_blocks(HeapObject *self, int records)
{
    if (!hvpy_heap_alive(self)) return NULL;
    collect_t c = {self, PyList_New(0), records};
    if (c.list != NULL && hv_walk(self->h, collect_block, &c) < 0 &&
        PyErr_Occurred())
        Py_CLEAR(c.list);
    return c.list;
}

/* The index of an existing free list, or -1 with IndexError. */
static int list_index(HeapObject *self, PyObject *arg, const char *fn)
{
    int i;
    if (hvpy_int_arg(arg, fn, "list", &i) < 0) return -1;
    int n = hv_free_list_count(self->h);
    if (i < 0 || i >= n) {
        PyErr_Format(PyExc_IndexError,
                     "%s(): no free list %d (this heap has %d)", fn, i, n);
        return -1;
    }
    return i;
}

static PyObject *walk_free_list(HeapObject *self, PyObject *arg, int records,
                                const char *fn)
{
    if (!hvpy_heap_alive(self)) return NULL;
    int i = list_index(self, arg, fn);
    if (i < 0) return NULL;
    collect_t c = {self, PyList_New(0), records};
    if (c.list != NULL &&
        hv_walk_free_list(self->h, i, collect_block, &c) < 0 &&
        PyErr_Occurred())
        Py_CLEAR(c.list);
    return c.list;
}

PyDoc_STRVAR(block_records_doc,
             "_block_records() -> list[Block]\n\n"
             "Every block in address order (heap, mmapped chunks, raw "
             "mappings, the\nstack) as heapviz.records.Block, built in one "
             "walk.  heapviz.Heap.blocks()\nreturns this.");

static PyObject *heap_block_records(HeapObject *self, PyObject *unused)
{
    (void)unused;
    return walk_blocks(self, 1);
}

PyDoc_STRVAR(blocks_raw_doc,
             "_blocks() -> list[tuple]\n\n"
             "Every block as a raw tuple in hv_block_t's field order (state "
             "as a number,\nsites as ids): the plain values, for tools.");

static PyObject *heap_blocks_raw(HeapObject *self, PyObject *unused)
{
    (void)unused;
    return walk_blocks(self, 0);
}

PyDoc_STRVAR(free_list_records_doc,
             "_free_list_records(list: int) -> list[Block]\n\n"
             "The blocks of free list `list` in list order, as records.");

static PyObject *heap_free_list_records(HeapObject *self, PyObject *arg)
{
    return walk_free_list(self, arg, 1, "_free_list_records");
}

PyDoc_STRVAR(free_list_raw_doc,
             "_free_list(list: int) -> list[tuple]\n\n"
             "The blocks of free list `list` in list order, as raw tuples.");

static PyObject *heap_free_list_raw(HeapObject *self, PyObject *arg)
{
    return walk_free_list(self, arg, 0, "_free_list");
}

PyDoc_STRVAR(free_lists_doc,
             "_free_lists() -> list[tuple[int, int]]\n\n"
             "The size range [lo, hi] of each free list (one list for the fit "
             "policies;\nsize classes for segregated, orders for buddy).");

static PyObject *heap_free_lists_info(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self)) return NULL;
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

/* The block at (or containing) an address: found into *b, 0 when there
 * is none, -1 on a bad argument. */
static int find_block(HeapObject *self, PyObject *const *args, Py_ssize_t nargs,
                      const char *sig, const char *fn, hv_block_t *b)
{
    uint64_t a;
    if (hvpy_nargs(sig, nargs, 2) < 0 || !hvpy_heap_alive(self) ||
        hvpy_u64_arg(args[0], fn, "addr", &a) < 0)
        return -1;
    int containing = PyObject_IsTrue(args[1]);
    if (containing < 0) return -1;
    hv_err_t rc = containing ? hv_block_containing(self->h, a, b)
                             : hv_block_at(self->h, a, b);
    return rc == HV_OK;
}

PyDoc_STRVAR(block_record_doc,
             "_block_record(addr: int, containing: bool) -> Block | None\n\n"
             "The block starting at addr (containing: the block addr falls "
             "in), or None.");

static PyObject *heap_block_record(HeapObject *self, PyObject *const *args,
                                   Py_ssize_t nargs)
{
    hv_block_t b;
    int found = find_block(self, args, nargs, "_block_record(addr, containing)",
                           "_block_record", &b);
    if (found < 0) return NULL;
    return found ? hvpy_block_record(self, &b) : Py_NewRef(Py_None);
}

PyDoc_STRVAR(block_raw_doc,
             "_block(addr: int, containing: bool) -> tuple | None\n\n"
             "_block_record() as a raw tuple.");

static PyObject *heap_block_raw(HeapObject *self, PyObject *const *args,
                                Py_ssize_t nargs)
{
    hv_block_t b;
    int found =
        find_block(self, args, nargs, "_block(addr, containing)", "_block", &b);
    if (found < 0) return NULL;
    return found ? hvpy_block_tuple(&b) : Py_NewRef(Py_None);
}

/* --- numbers and checks ------------------------------------------------- */

PyDoc_STRVAR(stats_doc,
             "_stats() -> dict\n\n"
             "hv_stats_t as a dict (heapviz.Heap.stats() makes the Stats "
             "record of it).");

static PyObject *heap_stats_raw(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self)) return NULL;
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
        (unsigned long long)s.n_realloc, "n_free", (unsigned long long)s.n_free,
        "n_failed", (unsigned long long)s.n_failed, "n_split",
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
    if (!hvpy_heap_alive(self)) return NULL;
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
        append_new(&out, PyUnicode_FromString(line));
    }
    if (out != NULL && n > 64)
        append_new(&out, PyUnicode_FromFormat("… and %d more", n - 64));
    return out;
}

PyDoc_STRVAR(layout_doc,
             "_layout() -> dict\n\n"
             "The block layout of this configuration (header, footer and "
             "minimum block\nsizes, alignment, padding) and the address "
             "ranges of heap, mmap region and\nstack.");

static PyObject *heap_layout(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self)) return NULL;
    hv_layout_t l;
    hv_heap_layout(self->h, &l);
    return Py_BuildValue("{s:I,s:I,s:I,s:I,s:I,s:I,s:K,s:K,s:K,s:K}", "align",
                         l.align, "header_size", l.header_size, "footer_size",
                         l.footer_size, "min_block", l.min_block, "heap_pad",
                         l.heap_pad, "page_size", l.page_size, "heap_base",
                         (unsigned long long)l.heap_base, "mmap_base",
                         (unsigned long long)l.mmap_base, "stack_base",
                         (unsigned long long)l.stack_base, "stack_top",
                         (unsigned long long)l.stack_top);
}

PyDoc_STRVAR(config_doc,
             "_config() -> dict\n\n"
             "The core's own copy of the configuration (what recordings "
             "save), options as\nnumbers.");

static PyObject *heap_config_raw(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self)) return NULL;
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

/* --- raw bytes and their state ------------------------------------------ */

/* (addr, n) of _raw_read and _shadow. */
static int range_args(const char *sig, const char *fn, PyObject *const *args,
                      Py_ssize_t nargs, uint64_t *a, uint64_t *n)
{
    if (hvpy_nargs(sig, nargs, 2) < 0 ||
        hvpy_u64_arg(args[0], fn, "addr", a) < 0 ||
        hvpy_u64_arg(args[1], fn, "n", n) < 0)
        return -1;
    if (*n > PY_SSIZE_T_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s(): n = %llu is too large", fn,
                     (unsigned long long)*n);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(raw_read_doc,
             "_raw_read(addr: int, n: int) -> bytes\n\n"
             "n bytes of the arena at addr without any check (the leak scan "
             "and the\nviewer read this way); ValueError when not mapped.");

static PyObject *heap_raw_read(HeapObject *self, PyObject *const *args,
                               Py_ssize_t nargs)
{
    uint64_t a, n;
    if (!hvpy_heap_alive(self) ||
        range_args("_raw_read(addr, n)", "_raw_read", args, nargs, &a, &n) < 0)
        return NULL;
    if (n == 0) return PyBytes_FromStringAndSize("", 0);
    hv_region_t region;
    uint8_t *mem;
    hv_err_t rc = hv_resolve(self->h, a, n, &region, &mem);
    if (rc != HV_OK) {
        char what[64];
        snprintf(what, sizeof what, "0x%llx..+%llu", (unsigned long long)a,
                 (unsigned long long)n);
        hvpy_core_error(self, rc,
                        &(hvpy_call_t){.op = OP_RAW_READ, .arg = what});
        return NULL;
    }
    return PyBytes_FromStringAndSize((char *)mem, (Py_ssize_t)n);
}

PyDoc_STRVAR(shadow_doc,
             "_shadow(addr: int, n: int) -> bytes | None\n\n"
             "The shadow state of n bytes at addr, one HV_SH_* byte each "
             "(addressable,\ninitialized, freed…); None where the heap keeps "
             "no shadow.");

static PyObject *heap_shadow(HeapObject *self, PyObject *const *args,
                             Py_ssize_t nargs)
{
    uint64_t a, n;
    if (!hvpy_heap_alive(self) ||
        range_args("_shadow(addr, n)", "_shadow", args, nargs, &a, &n) < 0)
        return NULL;
    const uint8_t *sh = n ? hv_shadow(self->h, a, n) : NULL;
    if (sh == NULL) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)sh, (Py_ssize_t)n);
}

PyDoc_STRVAR(roots_doc,
             "_roots() -> list[tuple[int, int, int, int]]\n\n"
             "The leak roots: (block start, allocation seq, live Pointers, "
             "Pointers at\nthe payload start) for every block a Pointer "
             "still leads to.");

static PyObject *heap_roots(HeapObject *self, PyObject *unused)
{
    (void)unused;
    return hvpy_roots_list(self); /* [] once closed */
}

PyDoc_STRVAR(stored_pointers_doc,
             "_stored_pointers() -> dict[int, tuple]\n\n"
             "Pointers written into the heap: address -> (value, block start, "
             "payload\nstart, seq, length, provenance), so that reading them "
             "back keeps their\nprovenance.");

static PyObject *heap_stored_pointers(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (self->prov == NULL) return PyDict_New();
    return PyDict_Copy(self->prov);
}

/* --- attributes --------------------------------------------------------- */

static PyObject *heap_get_rover(HeapObject *self, void *c)
{
    (void)c;
    if (!hvpy_heap_alive(self)) return NULL;
    return PyLong_FromUnsignedLongLong(hv_rover(self->h));
}

static PyObject *heap_get_version(HeapObject *self, void *c)
{
    (void)c;
    if (!hvpy_heap_alive(self)) return NULL;
    return PyLong_FromUnsignedLongLong(hv_heap_version(self->h));
}

PyMethodDef hvpy_heap_introspect_methods[] = {
    {"check", (PyCFunction)heap_check, METH_NOARGS, check_doc},
    {"_block_records", (PyCFunction)heap_block_records, METH_NOARGS,
     block_records_doc},
    {"_blocks", (PyCFunction)heap_blocks_raw, METH_NOARGS, blocks_raw_doc},
    {"_free_list_records", (PyCFunction)heap_free_list_records, METH_O,
     free_list_records_doc},
    {"_free_list", (PyCFunction)heap_free_list_raw, METH_O, free_list_raw_doc},
    {"_free_lists", (PyCFunction)heap_free_lists_info, METH_NOARGS,
     free_lists_doc},
    {"_block_record", (PyCFunction)(void (*)(void))heap_block_record,
     METH_FASTCALL, block_record_doc},
    {"_block", (PyCFunction)(void (*)(void))heap_block_raw, METH_FASTCALL,
     block_raw_doc},
    {"_stats", (PyCFunction)heap_stats_raw, METH_NOARGS, stats_doc},
    {"_layout", (PyCFunction)heap_layout, METH_NOARGS, layout_doc},
    {"_config", (PyCFunction)heap_config_raw, METH_NOARGS, config_doc},
    {"_raw_read", (PyCFunction)(void (*)(void))heap_raw_read, METH_FASTCALL,
     raw_read_doc},
    {"_shadow", (PyCFunction)(void (*)(void))heap_shadow, METH_FASTCALL,
     shadow_doc},
    {"_roots", (PyCFunction)heap_roots, METH_NOARGS, roots_doc},
    {"_stored_pointers", (PyCFunction)heap_stored_pointers, METH_NOARGS,
     stored_pointers_doc},
    {NULL, NULL, 0, NULL},
};

PyGetSetDef hvpy_heap_introspect_getset[] = {
    {"rover", (getter)heap_get_rover, NULL,
     "next fit's roving pointer (0 for other policies)", NULL},
    {"_version", (getter)heap_get_version, NULL,
     "a number that changes whenever the heap does (the viewer polls it)",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* pointer.c — the Pointer type: a C pointer value with provenance.
 *
 * A Pointer is an address (what int(p) shows) plus what C programmers keep
 * in their heads: which block it was derived from and which allocation of
 * that block (so an access can be judged out of bounds, after free, or
 * wild), and the type of its elements (so p + 1 and p[i] scale as in C).
 * Pointers are immutable; arithmetic makes new ones with the same
 * provenance, as in C where p + 100 still "belongs" to p's block.
 *
 * A Pointer holds its heap, so it takes part in garbage collection: a
 * heap that keeps a Pointer to itself is collected like any cycle.
 */
#include "binding.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

int hvpy_is_pointer(module_state *st, PyObject *o)
{
    return PyObject_TypeCheck(o, st->pointer_type);
}

/* A fresh, untracked Pointer: a spare one when there is (zeroed and given
 * its type back, as tp_alloc would), else tp_alloc's.  with_heap() gives it
 * its heap and hands it to the garbage collector. */
static PointerObject *alloc_pointer(module_state *st, PyTypeObject *tp)
{
    PointerObject *p;
    if (st != NULL && st->nspare > 0 && tp == st->pointer_type) {
        p = st->spare[--st->nspare];
        memset((char *)p + sizeof(PyObject), 0, sizeof *p - sizeof(PyObject));
        PyObject_Init((PyObject *)p, tp); /* a reference to tp, refcnt 1 */
    } else {
        p = (PointerObject *)tp->tp_alloc(tp, 0);
        if (p == NULL) return NULL;
        PyObject_GC_UnTrack(p);
    }
    p->tcode = T_BYTE;
    p->tsize = 1;
    return p;
}

/* A Pointer's only way into a reference cycle is its heap (h.keep =
 * h.malloc(8): heap -> __dict__ -> Pointer -> heap); its pointee is a str.
 * So only Pointers with a heap are tracked, as CPython leaves tuples of
 * atoms untracked. */
static void with_heap(PointerObject *p, HeapObject *heap)
{
    if (heap == NULL) return;
    p->heap = (HeapObject *)Py_NewRef((PyObject *)heap);
    PyObject_GC_Track(p);
}

PyObject *hvpy_pointer_new(module_state *st, HeapObject *heap, uint64_t addr,
                           uint64_t bstart, uint64_t pstart, uint64_t seq,
                           int prov)
{
    PointerObject *p = alloc_pointer(st, st->pointer_type);
    if (p == NULL) return NULL;
    with_heap(p, heap);
    p->addr = addr;
    p->bstart = bstart;
    p->pstart = pstart;
    p->seq = seq;
    p->prov = (uint8_t)prov;
    hvpy_root_add(p);
    return (PyObject *)p;
}

/* A pointer with p's provenance at another address and/or element type. */
PyObject *hvpy_pointer_retype(PointerObject *p, uint64_t addr, int tcode,
                              uint32_t tsize, PyObject *pointee)
{
    PointerObject *q =
        alloc_pointer(p->heap != NULL ? p->heap->st : NULL, Py_TYPE(p));
    if (q == NULL) return NULL;
    with_heap(q, p->heap);
    q->addr = addr;
    q->bstart = p->bstart;
    q->pstart = p->pstart;
    q->seq = p->seq;
    q->plen = p->plen;
    q->prov = p->prov;
    q->uninit = p->uninit && addr == p->addr;
    q->tcode = (uint8_t)tcode;
    q->tsize = tsize;
    q->pointee = Py_XNewRef(pointee);
    hvpy_root_add(q);
    return (PyObject *)q;
}

static int parse_address(PyObject *v, uint64_t *out)
{
    PyObject *idx = PyNumber_Index(v);
    if (idx == NULL) {
        PyErr_Format(PyExc_TypeError,
                     "Pointer() takes an int address (as a C cast does), "
                     "not %.100s",
                     Py_TYPE(v)->tp_name);
        return -1;
    }
    int overflow;
    long long sv = PyLong_AsLongLongAndOverflow(idx, &overflow);
    if (overflow < 0 || (overflow == 0 && sv < 0)) {
        Py_DECREF(idx);
        PyErr_SetString(PyExc_ValueError,
                        "a pointer's address cannot be negative");
        return -1;
    }
    *out = PyLong_AsUnsignedLongLong(idx);
    Py_DECREF(idx);
    if (*out == (uint64_t)-1 && PyErr_Occurred()) {
        PyErr_SetString(PyExc_OverflowError,
                        "a pointer's address must fit in 64 bits");
        return -1;
    }
    return 0;
}

static PyObject *pointer_tp_new(PyTypeObject *tp, PyObject *args,
                                PyObject *kwds)
{
    static char *kwlist[] = {"address", "type", NULL};
    PyObject *value = NULL, *tname = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO:Pointer", kwlist, &value,
                                     &tname))
        return NULL;
    module_state *st = hvpy_state_of_type(tp);
    if (st == NULL) return NULL;
    PointerObject *p;
    if (value != NULL && hvpy_is_pointer(st, value)) {
        PointerObject *src = (PointerObject *)value;
        p = (PointerObject *)hvpy_pointer_retype(src, src->addr, src->tcode,
                                                 src->tsize, src->pointee);
    } else {
        uint64_t addr = 0;
        if (value != NULL && value != Py_None &&
            parse_address(value, &addr) < 0)
            return NULL;
        p = alloc_pointer(st, tp);
        if (p == NULL) return NULL;
        p->addr = addr;
        p->uninit = value == NULL;
    }
    if (p == NULL || tname == NULL || tname == Py_None) return (PyObject *)p;
    int tcode;
    uint32_t tsize;
    uint64_t total;
    PyObject *pointee;
    if (hvpy_parse_ctype(tname, &tcode, &tsize, &pointee, &total) < 0) {
        Py_DECREF(p);
        return NULL;
    }
    p->tcode = (uint8_t)tcode;
    p->tsize = tsize;
    Py_XSETREF(p->pointee, pointee);
    return (PyObject *)p;
}

static int pointer_traverse(PointerObject *p, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(p)); /* heap type instances keep their type alive */
    Py_VISIT(p->heap);    /* the edge a cycle through a heap takes      */
    return 0;
}

/* No tp_clear: a Pointer never changes, and a cycle through one always
 * passes through its heap, whose tp_clear (its __dict__) breaks it. */

static void pointer_dealloc(PointerObject *p)
{
    PyTypeObject *tp = Py_TYPE(p);
    /* valid until tp goes: the type holds its module, the module its state */
    module_state *st = p->heap != NULL ? p->heap->st : NULL;
    PyObject_GC_UnTrack(p);
    hvpy_root_drop(p);
    Py_XDECREF(p->heap);
    Py_XDECREF(p->pointee);
    if (st != NULL && tp == st->pointer_type &&
        st->nspare < HVPY_SPARE_POINTERS)
        st->spare[st->nspare++] = p;
    else
        tp->tp_free((PyObject *)p);
    Py_DECREF(tp); /* instances of heap types own a type reference */
}

void hvpy_pointer_spares_free(module_state *st)
{
    while (st->nspare > 0)
        PyObject_GC_Del(st->spare[--st->nspare]);
}

/* --- numbers ----------------------------------------------------------- */

static PyObject *pointer_index(PointerObject *p)
{
    return PyLong_FromUnsignedLongLong(p->addr);
}

static int pointer_bool(PointerObject *p)
{
    return p->addr != 0;
}

static int as_offset(PyObject *n, int64_t *out)
{
    if (!PyIndex_Check(n)) return 1; /* not an integer: NotImplemented */
    long long v = PyLong_AsLongLong(n);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_SetString(PyExc_OverflowError,
                        "pointer arithmetic: offset does not fit in 64 bits");
        return -1;
    }
    *out = v;
    return 0;
}

static uint32_t step_of(const PointerObject *p)
{
    return p->tcode == T_VOID ? 1 : p->tsize;
}

static PyObject *offset_pointer(PointerObject *p, int64_t n)
{
    __int128 addr = (__int128)p->addr + (__int128)n * step_of(p);
    if (addr < 0 || addr > (__int128)UINT64_MAX) {
        PyErr_SetString(PyExc_OverflowError,
                        "pointer arithmetic left the 64-bit address space");
        return NULL;
    }
    return hvpy_pointer_retype(p, (uint64_t)addr, p->tcode, p->tsize,
                               p->pointee);
}

/* Module state from whichever operand is a Pointer (one of them is). */
static module_state *state_of_either(PyObject *a, PyObject *b)
{
    module_state *st = hvpy_state_of_type(Py_TYPE(a));
    return st != NULL ? st : hvpy_state_of_type(Py_TYPE(b));
}

static PyObject *pointer_add(PyObject *a, PyObject *b)
{
    module_state *st = state_of_either(a, b);
    if (st == NULL) Py_RETURN_NOTIMPLEMENTED;
    PyObject *ptr = hvpy_is_pointer(st, a) ? a : b;
    PyObject *num = ptr == a ? b : a;
    if (hvpy_is_pointer(st, num)) {
        PyErr_SetString(PyExc_TypeError,
                        "cannot add two pointers (as in C): did you mean "
                        "p - q, or p + n with an int n?");
        return NULL;
    }
    int64_t n;
    int rc = as_offset(num, &n);
    if (rc > 0) Py_RETURN_NOTIMPLEMENTED;
    if (rc < 0) return NULL;
    return offset_pointer((PointerObject *)ptr, n);
}

static PyObject *pointer_sub(PyObject *a, PyObject *b)
{
    module_state *st = state_of_either(a, b);
    if (st == NULL || !hvpy_is_pointer(st, a)) Py_RETURN_NOTIMPLEMENTED;
    PointerObject *p = (PointerObject *)a;
    if (hvpy_is_pointer(st, b)) {
        PointerObject *q = (PointerObject *)b;
        if (p->tsize != q->tsize || p->tcode != q->tcode) {
            PyErr_Format(PyExc_TypeError,
                         "p - q needs pointers to the same type (%s vs %s)",
                         hvpy_tcode_name(p->tcode), hvpy_tcode_name(q->tcode));
            return NULL;
        }
        int64_t diff = (int64_t)(p->addr - q->addr);
        return PyLong_FromLongLong(diff / (int64_t)step_of(p));
    }
    int64_t n;
    int rc = as_offset(b, &n);
    if (rc > 0) Py_RETURN_NOTIMPLEMENTED;
    if (rc < 0) return NULL;
    if (n == INT64_MIN) {
        PyErr_SetString(PyExc_OverflowError, "pointer offset too large");
        return NULL;
    }
    return offset_pointer(p, -n);
}

static PyObject *pointer_richcompare(PyObject *a, PyObject *b, int op)
{
    module_state *st = hvpy_state_of_type(Py_TYPE(a));
    uint64_t x = ((PointerObject *)a)->addr, y;
    if (st != NULL && hvpy_is_pointer(st, b))
        y = ((PointerObject *)b)->addr;
    else if (PyLong_Check(b)) {
        y = PyLong_AsUnsignedLongLong(b);
        if (y == (uint64_t)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            Py_RETURN_NOTIMPLEMENTED;
        }
    } else
        Py_RETURN_NOTIMPLEMENTED;
    Py_RETURN_RICHCOMPARE(x, y, op);
}

static Py_hash_t pointer_hash(PointerObject *p)
{
    Py_hash_t h = (Py_hash_t)(p->addr ^ (p->addr >> 31));
    return h == -1 ? -2 : h;
}

static PyObject *type_name(PointerObject *p)
{
    if (p->tcode == T_PTR) return PyUnicode_FromFormat("%U*", p->pointee);
    return PyUnicode_FromString(hvpy_tcode_name(p->tcode));
}

static PyObject *pointer_repr(PointerObject *p)
{
    if (p->addr == 0)
        return PyUnicode_FromString(p->uninit ? "Pointer() /* uninitialized */"
                                              : "NULL");
    PyObject *t = type_name(p);
    if (t == NULL) return NULL;
    char hex[24]; /* PyUnicode_FromFormat has no %llx before 3.12 */
    snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)p->addr);
    PyObject *r = PyUnicode_FromFormat("<%U* %s>", t, hex);
    Py_DECREF(t);
    return r;
}

/* --- methods ----------------------------------------------------------- */

PyDoc_STRVAR(cast_doc, "cast(type: str) -> Pointer\n\n"
                       "The same address seen as an array of `type`: "
                       "p.cast(\"int\")[3] is the 4th int.");

static PyObject *pointer_cast(PointerObject *p, PyObject *tname)
{
    int tcode;
    uint32_t tsize;
    uint64_t total;
    PyObject *pointee;
    if (hvpy_parse_ctype(tname, &tcode, &tsize, &pointee, &total) < 0)
        return NULL;
    PyObject *q = hvpy_pointer_retype(p, p->addr, tcode, tsize, pointee);
    Py_XDECREF(pointee);
    return q;
}

static PyObject *pointer_get_address(PointerObject *p, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLongLong(p->addr);
}

static PyObject *pointer_get_type(PointerObject *p, void *c)
{
    (void)c;
    return type_name(p);
}

static PyObject *pointer_get_heap(PointerObject *p, void *c)
{
    (void)c;
    return Py_NewRef(p->heap ? (PyObject *)p->heap : Py_None);
}

static PyObject *pointer_get_provenance(PointerObject *p, void *c)
{
    (void)c;
    static const char *names[] = {"none", "block", "stack", "raw"};
    return Py_BuildValue(
        "(sKKK)", names[p->prov & 3], (unsigned long long)p->bstart,
        (unsigned long long)p->pstart, (unsigned long long)p->seq);
}

static PyObject *pointer_reduce(PointerObject *p, PyObject *unused)
{
    (void)p, (void)unused;
    PyErr_SetString(PyExc_TypeError,
                    "a Pointer cannot be pickled: its meaning is tied to "
                    "a live heap");
    return NULL;
}

PyDoc_STRVAR(read_doc, "read(n: int) -> bytes\n\nThe n bytes at the pointer.");
PyDoc_STRVAR(write_doc,
             "write(data: bytes | str) -> None\n\nStore bytes at the pointer.");
PyDoc_STRVAR(string_doc,
             "string() -> str\n\nThe NUL-terminated C string at the pointer.");
PyDoc_STRVAR(reduce_doc, "A Pointer cannot be pickled: its meaning is tied to "
                         "a live heap.");

static PyMethodDef pointer_methods[] = {
    {"cast", (PyCFunction)pointer_cast, METH_O, cast_doc},
    {"read", (PyCFunction)hvpy_ptr_read, METH_O, read_doc},
    {"write", (PyCFunction)hvpy_ptr_write, METH_O, write_doc},
    {"string", (PyCFunction)hvpy_ptr_string, METH_NOARGS, string_doc},
    {"__reduce__", (PyCFunction)pointer_reduce, METH_NOARGS, reduce_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef pointer_getset[] = {
    {"address", (getter)pointer_get_address, NULL, "the address (an int)",
     NULL},
    {"type", (getter)pointer_get_type, NULL,
     "the element type (\"unsigned char\" unless cast)", NULL},
    {"heap", (getter)pointer_get_heap, NULL, "the heap it points into", NULL},
    {"_provenance", (getter)pointer_get_provenance, NULL,
     "(kind, block start, payload start, allocation seq)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(
    pointer_doc,
    "Pointer(address=None, type=None)\n\n"
    "A C pointer into a heapviz heap.  malloc() and friends return them;\n"
    "Pointer() is an uninitialized pointer and Pointer(0x1234) a pointer\n"
    "made from an integer, as a C cast does.  Indexing is C's: p[i] is the\n"
    "i-th element after p and p[-1] the one before it; slices read and\n"
    "write bytes.  int(p), hex(p), p + n, p - n, p - q and comparisons work\n"
    "as in C.");

static PyType_Slot pointer_slots[] = {
    {Py_tp_new, pointer_tp_new},
    {Py_tp_dealloc, pointer_dealloc},
    {Py_tp_traverse, pointer_traverse},
    {Py_tp_repr, pointer_repr},
    {Py_tp_hash, pointer_hash},
    {Py_tp_richcompare, pointer_richcompare},
    {Py_tp_methods, pointer_methods},
    {Py_tp_getset, pointer_getset},
    {Py_tp_doc, (void *)pointer_doc},
    {Py_nb_index, pointer_index},
    {Py_nb_int, pointer_index},
    {Py_nb_bool, pointer_bool},
    {Py_nb_add, pointer_add},
    {Py_nb_subtract, pointer_sub},
    {Py_mp_subscript, hvpy_ptr_getitem},
    {Py_mp_ass_subscript, hvpy_ptr_setitem},
    {0, NULL},
};

PyType_Spec hvpy_pointer_spec = {
    .name = "heapviz.Pointer",
    .basicsize = sizeof(PointerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = pointer_slots,
};

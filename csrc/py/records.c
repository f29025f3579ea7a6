/* records.c — a block and an event as Python sees them.
 *
 * heapviz.records.Block and heapviz.records.Event are frozen dataclasses
 * in their fields and behaviour (equality, hash, repr, dataclasses.fields,
 * replace, pickling), but their storage is the C base types made here,
 * _core.BlockRecord and _core.EventRecord: a fixed array of field values,
 * read through member descriptors.  h.blocks() on 100,000 blocks is then
 * one walk filling records in C; as dataclasses built in Python from
 * tuples it took ~25 times as long.  The Python classes (registered once by
 * heapviz.records) add the properties and the wording; until they are
 * registered, the C bases themselves are built.
 *
 * Records made here are untracked by the garbage collector, as CPython
 * untracks tuples of atoms: their fields are ints, strs, bools, None and
 * shared Site records, which cannot lead back to a record.  A record made
 * from Python may hold anything, so it stays tracked.
 *
 * The raw tuple forms of the same structs (hvpy_block_tuple,
 * hvpy_event_tuple) are written here too, in the same field order.
 */
#include "binding.h"

#include <stddef.h>
#include <string.h>
#include <structmember.h>

typedef struct {
    const char *name;          /* "Block"                                */
    const char *const *fields; /* field names, in order                  */
    Py_ssize_t nfields;
} record_kind_t;

typedef struct {
    PyObject_HEAD const record_kind_t *kind;
    PyObject *f[]; /* kind->nfields strong references, never NULL once made */
} RecordObject;

static const char *const block_fields[] = {
    "address",    "size",      "payload",   "payload_size", "requested",
    "state",      "header",    "footer",    "magic",        "prev_alloc",
    "has_footer", "seq",       "site",      "free_site",    "gen",
    "list",       "next_free", "prev_free",
};
enum { NBLOCK = sizeof block_fields / sizeof block_fields[0] };

static const char *const event_fields[] = {
    "seq", "op", "kind", "flags", "site", "address", "size", "a", "b",
};
enum { NEVENT = sizeof event_fields / sizeof event_fields[0] };

static const record_kind_t block_kind = {"Block", block_fields, NBLOCK};
static const record_kind_t event_kind = {"Event", event_fields, NEVENT};

#define FIELD_OFFSET(i) (offsetof(RecordObject, f) + (i) * sizeof(PyObject *))

/* Member tables: names filled from the field lists (one spelling each). */
static PyMemberDef block_members[NBLOCK + 1];
static PyMemberDef event_members[NEVENT + 1];

static void fill_members(PyMemberDef *m, const record_kind_t *k)
{
    for (Py_ssize_t i = 0; i < k->nfields; i++)
        m[i] = (PyMemberDef){k->fields[i], T_OBJECT_EX,
                             (Py_ssize_t)FIELD_OFFSET(i), READONLY, NULL};
    m[k->nfields] = (PyMemberDef){NULL, 0, 0, 0, NULL};
}

/* --- the generic record ------------------------------------------------- */

/* A new record of type tp (a record base or a subclass), tracked as
 * tp_alloc makes it, whose fields the caller fills. */
static RecordObject *record_alloc(PyTypeObject *tp, const record_kind_t *k)
{
    RecordObject *r = (RecordObject *)tp->tp_alloc(tp, 0);
    if (r == NULL) return NULL;
    r->kind = k;
    return r;
}

/* The kind of a record type, from the base it derives from. */
static const record_kind_t *kind_of_type(PyTypeObject *tp)
{
    module_state *st = hvpy_state_of_type(tp);
    if (st == NULL) return NULL;
    if (PyType_IsSubtype(tp, st->block_base)) return &block_kind;
    if (PyType_IsSubtype(tp, st->event_base)) return &event_kind;
    return NULL;
}

/* The keyword arguments that name no field: a TypeError naming the first. */
static int unknown_fields(const record_kind_t *k, PyObject *kwds)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(kwds, &pos, &key, &value)) {
        const char *name = PyUnicode_AsUTF8(key);
        if (name == NULL) return -1;
        Py_ssize_t i = 0;
        while (i < k->nfields && strcmp(name, k->fields[i]) != 0)
            i++;
        if (i == k->nfields) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected field %R",
                         k->name, key);
            return -1;
        }
    }
    return 0;
}

/* Fill r's fields from a dataclass __init__'s arguments: by position, then
 * by name; every field exactly once. */
static int take_fields(RecordObject *r, PyObject *args, PyObject *kwds)
{
    const record_kind_t *k = r->kind;
    Py_ssize_t npos = PyTuple_GET_SIZE(args), named = 0;
    for (Py_ssize_t i = 0; i < npos; i++)
        r->f[i] = Py_NewRef(PyTuple_GET_ITEM(args, i));
    for (Py_ssize_t i = 0; kwds != NULL && i < k->nfields; i++) {
        PyObject *v = PyDict_GetItemString(kwds, k->fields[i]); /* borrowed */
        if (v == NULL) continue;
        if (r->f[i] != NULL) {
            PyErr_Format(PyExc_TypeError,
                         "%s() got field '%s' twice (by position and by name)",
                         k->name, k->fields[i]);
            return -1;
        }
        r->f[i] = Py_NewRef(v);
        named++;
    }
    if (kwds != NULL && named < PyDict_GET_SIZE(kwds))
        return unknown_fields(k, kwds);
    for (Py_ssize_t i = 0; i < k->nfields; i++) {
        if (r->f[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing field '%s'", k->name,
                         k->fields[i]);
            return -1;
        }
    }
    return 0;
}

/* Block(address, size, ...) from Python, as a dataclass's __init__ takes
 * its fields.  Any values: a recording or a test may hold anything, so
 * such a record stays tracked by GC. */
static PyObject *record_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
    const record_kind_t *k = kind_of_type(tp);
    if (k == NULL)
        return PyErr_Format(PyExc_TypeError, "%s is not a record type",
                            tp->tp_name);
    if (PyTuple_GET_SIZE(args) > k->nfields)
        return PyErr_Format(PyExc_TypeError,
                            "%s() takes %zd fields (%zd given)", k->name,
                            k->nfields, PyTuple_GET_SIZE(args));
    RecordObject *r = record_alloc(tp, k);
    if (r != NULL && take_fields(r, args, kwds) < 0) Py_CLEAR(r);
    return (PyObject *)r;
}

static int record_traverse(RecordObject *r, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(r));
    for (Py_ssize_t i = 0; r->kind != NULL && i < r->kind->nfields; i++)
        Py_VISIT(r->f[i]);
    return 0;
}

static void record_dealloc(RecordObject *r)
{
    PyTypeObject *tp = Py_TYPE(r);
    PyObject_GC_UnTrack(r);
    for (Py_ssize_t i = 0; r->kind != NULL && i < r->kind->nfields; i++)
        Py_XDECREF(r->f[i]);
    tp->tp_free((PyObject *)r);
    Py_DECREF(tp);
}

static PyObject *record_astuple(RecordObject *r)
{
    PyObject *t = PyTuple_New(r->kind->nfields);
    for (Py_ssize_t i = 0; t != NULL && i < r->kind->nfields; i++)
        PyTuple_SET_ITEM(t, i, Py_NewRef(r->f[i]));
    return t;
}

/* A dataclass's __eq__: the same class, and equal fields in order. */
static PyObject *record_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b))
        Py_RETURN_NOTIMPLEMENTED;
    RecordObject *x = (RecordObject *)a, *y = (RecordObject *)b;
    int equal = 1;
    for (Py_ssize_t i = 0; equal == 1 && i < x->kind->nfields; i++)
        equal = PyObject_RichCompareBool(x->f[i], y->f[i], Py_EQ);
    if (equal < 0) return NULL;
    return PyBool_FromLong(op == Py_EQ ? equal : !equal);
}

/* A frozen dataclass's __hash__: the hash of its fields' tuple. */
static Py_hash_t record_hash(RecordObject *r)
{
    PyObject *t = record_astuple(r);
    if (t == NULL) return -1;
    Py_hash_t h = PyObject_Hash(t);
    Py_DECREF(t);
    return h;
}

static PyObject *record_reduce(RecordObject *r, PyObject *unused)
{
    (void)unused;
    PyObject *t = record_astuple(r);
    if (t == NULL) return NULL;
    return Py_BuildValue("(ON)", (PyObject *)Py_TYPE(r), t);
}

PyDoc_STRVAR(
    reduce_doc,
    "(type, fields): a record pickles and copies as a dataclass does.");

static PyMethodDef record_methods[] = {
    {"__reduce__", (PyCFunction)record_reduce, METH_NOARGS, reduce_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(block_doc, "The storage of heapviz.records.Block (a block's "
                        "18 fields, read-only).");
PyDoc_STRVAR(event_doc, "The storage of heapviz.records.Event (an event's "
                        "9 fields, read-only).");

static PyType_Slot block_slots[] = {
    {Py_tp_new, record_new},
    {Py_tp_dealloc, record_dealloc},
    {Py_tp_traverse, record_traverse},
    {Py_tp_richcompare, record_richcompare},
    {Py_tp_hash, record_hash},
    {Py_tp_methods, record_methods},
    {Py_tp_members, block_members},
    {Py_tp_doc, (void *)block_doc},
    {0, NULL},
};

static PyType_Slot event_slots[] = {
    {Py_tp_new, record_new},
    {Py_tp_dealloc, record_dealloc},
    {Py_tp_traverse, record_traverse},
    {Py_tp_richcompare, record_richcompare},
    {Py_tp_hash, record_hash},
    {Py_tp_methods, record_methods},
    {Py_tp_members, event_members},
    {Py_tp_doc, (void *)event_doc},
    {0, NULL},
};

static PyType_Spec block_spec = {
    .name = "heapviz._core.BlockRecord",
    .basicsize = (int)FIELD_OFFSET(NBLOCK),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = block_slots,
};

static PyType_Spec event_spec = {
    .name = "heapviz._core.EventRecord",
    .basicsize = (int)FIELD_OFFSET(NEVENT),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = event_slots,
};

/* --- names shared by every record --------------------------------------- */

/* A tuple of n interned names from name_of(0..n-1). */
static PyObject *name_table(int n, const char *(*name_of)(int))
{
    PyObject *t = PyTuple_New(n);
    for (int i = 0; t != NULL && i < n; i++) {
        PyObject *s = PyUnicode_InternFromString(name_of(i));
        if (s == NULL)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, i, s);
    }
    return t;
}

static const char *state_name(int s)
{
    return hv_block_state_name((hv_block_state_t)s);
}

static const char *kind_name(int k)
{
    return hv_event_kind_name((uint16_t)k);
}

int hvpy_records_init(PyObject *module, module_state *st)
{
    fill_members(block_members, &block_kind);
    fill_members(event_members, &event_kind);
    st->block_base =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &block_spec, NULL);
    if (st->block_base == NULL || PyModule_AddType(module, st->block_base) < 0)
        return -1;
    st->event_base =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &event_spec, NULL);
    if (st->event_base == NULL || PyModule_AddType(module, st->event_base) < 0)
        return -1;
    st->block_cls = (PyTypeObject *)Py_NewRef(st->block_base);
    st->event_cls = (PyTypeObject *)Py_NewRef(st->event_base);
    st->site_cls = Py_NewRef(Py_None);
    st->state_names = name_table(HV_BLOCK_STACK + 1, state_name);
    st->kind_names = name_table(HV_EV_KIND_COUNT, kind_name);
    return st->state_names == NULL || st->kind_names == NULL ? -1 : 0;
}

int hvpy_records_register(module_state *st, PyObject *site, PyObject *block,
                          PyObject *event)
{
    if (!PyType_Check(block) || !PyType_Check(event) ||
        !PyType_IsSubtype((PyTypeObject *)block, st->block_base) ||
        !PyType_IsSubtype((PyTypeObject *)event, st->event_base) ||
        !PyCallable_Check(site)) {
        PyErr_SetString(PyExc_TypeError,
                        "_set_records(site, block, event): a Site class and "
                        "subclasses of BlockRecord and EventRecord expected");
        return -1;
    }
    Py_XSETREF(st->site_cls, Py_NewRef(site));
    Py_XSETREF(st->block_cls, (PyTypeObject *)Py_NewRef(block));
    Py_XSETREF(st->event_cls, (PyTypeObject *)Py_NewRef(event));
    return 0;
}

/* --- records from the core's structs ------------------------------------ */

static PyObject *u64(uint64_t v)
{
    return PyLong_FromUnsignedLongLong(v);
}

static PyObject *u64_or_none(uint64_t v)
{
    return v ? PyLong_FromUnsignedLongLong(v) : Py_NewRef(Py_None);
}

static PyObject *name_or_number(PyObject *names, unsigned i)
{
    if (i < (unsigned)PyTuple_GET_SIZE(names))
        return Py_NewRef(PyTuple_GET_ITEM(names, i));
    return PyUnicode_FromFormat("%u", i);
}

/* A made record: complete (untracked, see the top) or NULL. */
static PyObject *finish(RecordObject *r)
{
    for (Py_ssize_t i = 0; i < r->kind->nfields; i++) {
        if (r->f[i] == NULL) {
            Py_DECREF(r);
            return NULL;
        }
    }
    PyObject_GC_UnTrack(r);
    return (PyObject *)r;
}

PyObject *hvpy_block_record(HeapObject *heap, const hv_block_t *b)
{
    module_state *st = heap->st;
    RecordObject *r = record_alloc(st->block_cls, &block_kind);
    if (r == NULL) return NULL;
    PyObject **f = r->f;
    f[0] = u64(b->addr);
    f[1] = u64(b->size);
    f[2] = u64(b->payload);
    f[3] = u64(b->payload_size);
    f[4] = u64(b->requested);
    f[5] = name_or_number(st->state_names, (unsigned)b->state);
    f[6] = u64(b->header);
    f[7] = u64(b->footer);
    f[8] = u64(b->magic);
    f[9] = PyBool_FromLong(b->prev_alloc);
    f[10] = PyBool_FromLong(b->has_footer);
    f[11] = u64(b->seq);
    f[12] = hvpy_site_record(heap, b->site);
    f[13] = hvpy_site_record(heap, b->free_site);
    f[14] = u64(b->gen);
    f[15] = PyLong_FromLong(b->list);
    f[16] = u64_or_none(b->next_free);
    f[17] = u64_or_none(b->prev_free);
    return finish(r);
}

PyObject *hvpy_event_record(HeapObject *heap, const hv_event_t *e)
{
    module_state *st = heap->st;
    RecordObject *r = record_alloc(st->event_cls, &event_kind);
    if (r == NULL) return NULL;
    PyObject **f = r->f;
    f[0] = u64(e->seq);
    f[1] = u64(e->op);
    f[2] = name_or_number(st->kind_names, e->kind);
    f[3] = PyLong_FromLong(e->flags);
    f[4] = hvpy_site_record(heap, e->site);
    f[5] = u64(e->addr);
    f[6] = u64(e->size);
    f[7] = u64(e->a);
    f[8] = u64(e->b);
    return finish(r);
}

PyObject *hvpy_block_tuple(const hv_block_t *b)
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

PyObject *hvpy_event_tuple(const hv_event_t *e)
{
    return Py_BuildValue("(KKiiIKKKK)", (unsigned long long)e->seq,
                         (unsigned long long)e->op, (int)e->kind, (int)e->flags,
                         (unsigned)e->site, (unsigned long long)e->addr,
                         (unsigned long long)e->size, (unsigned long long)e->a,
                         (unsigned long long)e->b);
}

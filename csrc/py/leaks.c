/* leaks.c — the core's leak scanner (csrc/core/leaks.c) for h.leaks(), and the
 * report words the core keeps for both the Python side and the C runtime
 * (csrc/core/wording.c).
 *
 * The roots of a Python heap are the Pointers the script holds (counted per
 * block start in roots.c: a start pointer when any of them points at the
 * payload's first byte) and the pointer values kept in its stack objects,
 * sbrk'd bytes and raw mappings (the scanner reads those itself). */
#include "binding.h"

#include <structmember.h>

static HeapObject *heap_arg(PyObject *module, PyObject *o, const char *fn)
{
    module_state *st = hvpy_state(module);
    if (!PyObject_TypeCheck(o, st->heap_type)) {
        PyErr_Format(PyExc_TypeError, "%s() takes a Heap, not %.100s", fn,
                     Py_TYPE(o)->tp_name);
        return NULL;
    }
    HeapObject *heap = (HeapObject *)o;
    return hvpy_heap_alive(heap) ? heap : NULL;
}

static void held(uint64_t bstart, uint64_t seq, unsigned starts, void *arg)
{
    hv_leak_root_block(arg, bstart, seq, starts > 0);
}

/* What one scan hands to each record it makes. */
typedef struct records {
    PyTypeObject *cls; /* the record class (heapviz.leaks._Found)       */
    PyObject *kinds;   /* the four kind names, in hv_leak_kind_t order  */
    PyObject *site_of; /* site id -> Site or None (memoized in `sites`) */
    PyObject *sites;   /* dict                                          */
    PyObject *heap;
    PyObject *names[6]; /* kind size alloc_site _heap _payload _indirect */
    Py_ssize_t slot[6]; /* their slots' offsets in a record (0: setattr)  */
    uint32_t last_id;   /* the last site looked up, and its Site         */
    PyObject *last_site;
} records_t;

static PyObject *site(records_t *r, uint32_t id)
{
    if (r->last_site != NULL && id == r->last_id) { /* blocks of one line */
        Py_INCREF(r->last_site);
        return r->last_site;
    }
    PyObject *key = PyLong_FromUnsignedLong(id);
    if (key == NULL) return NULL;
    PyObject *v = PyDict_GetItemWithError(r->sites, key);
    if (v != NULL || PyErr_Occurred()) {
        Py_DECREF(key);
        Py_XINCREF(v);
        return v;
    }
    v = PyObject_CallOneArg(r->site_of, key);
    if (v != NULL && PyDict_SetItem(r->sites, key, v) < 0) Py_CLEAR(v);
    Py_DECREF(key);
    if (v != NULL) {
        r->last_id = id;
        r->last_site = v; /* borrowed: the dict keeps it */
    }
    return v;
}

/* The record class keeps its fields in slots: their offsets, so that a
 * record is filled by stores, not by attribute lookups. */
static void find_slots(records_t *r)
{
    for (int i = 0; i < 6; i++) {
        PyObject *d = _PyType_Lookup(r->cls, r->names[i]);
        r->slot[i] = 0;
        if (d != NULL && Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            const PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
            if (m->type == T_OBJECT_EX) r->slot[i] = m->offset;
        }
    }
}

static int put(records_t *r, PyObject *o, int i, PyObject *v)
{
    if (r->slot[i] == 0) return PyObject_GenericSetAttr(o, r->names[i], v);
    PyObject **at = (PyObject **)((char *)o + r->slot[i]);
    Py_INCREF(v);
    Py_XSETREF(*at, v);
    return 0;
}

/* One record: an instance of the class made without its __init__ (a
 * frozen dataclass's would cost a microsecond a field), its attributes set
 * directly: the kind, the bytes, the allocation site, and what the class
 * needs to describe the Block when first asked for. */
static PyObject *record(records_t *r, const hv_leak_t *l)
{
    PyObject *o = r->cls->tp_alloc(r->cls, 0);
    if (o == NULL) return NULL;
    PyObject *v[6] = {PyTuple_GET_ITEM(r->kinds, l->kind),
                      PyLong_FromUnsignedLongLong(l->requested),
                      site(r, l->site),
                      r->heap,
                      PyLong_FromUnsignedLongLong(l->payload),
                      PyLong_FromUnsignedLongLong(l->indirect)};
    Py_INCREF(v[0]);
    Py_INCREF(v[3]);
    int rc = 0;
    for (int i = 0; i < 6; i++) {
        if (rc == 0) rc = v[i] == NULL ? -1 : put(r, o, i, v[i]);
        Py_XDECREF(v[i]);
    }
    if (rc < 0) Py_CLEAR(o);
    return o;
}

static int names(records_t *r)
{
    static const char *const n[6] = {"kind",  "size",     "alloc_site",
                                     "_heap", "_payload", "_indirect"};
    for (int i = 0; i < 6; i++)
        if ((r->names[i] = PyUnicode_InternFromString(n[i])) == NULL) return -1;
    return 0;
}

static void records_clear(records_t *r)
{
    Py_XDECREF(r->sites);
    for (int i = 0; i < 6; i++)
        Py_XDECREF(r->names[i]);
}

/* _leak_scan(heap, cls, kinds, site_of) -> [cls records], by kind then
 * payload (hv_leak_kind_t order). */
PyObject *hvpy_leak_scan(PyObject *module, PyObject *const *args,
                         Py_ssize_t nargs)
{
    if (nargs != 4 || !PyType_Check(args[1]) || !PyTuple_Check(args[2]) ||
        PyTuple_GET_SIZE(args[2]) != HV_LEAK_KIND_COUNT)
        return PyErr_Format(PyExc_TypeError,
                            "_leak_scan(heap, cls, kinds, site_of)");
    HeapObject *heap = heap_arg(module, args[0], "_leak_scan");
    if (heap == NULL) return NULL;
    records_t r = {
        (PyTypeObject *)args[1], args[2], args[3], PyDict_New(), args[0], {0}};
    hv_leak_scan_t *s = NULL;
    PyObject *out = NULL;
    if (r.sites == NULL || names(&r) < 0) goto done;
    find_slots(&r);
    if (hv_leak_begin(heap->h, &s) != HV_OK) {
        PyErr_NoMemory();
        goto done;
    }
    hvpy_roots_visit(heap, held, s);
    hv_leak_root_arena(s);
    hv_leak_finish(s);
    uint64_t n = hv_leak_count(s);
    out = PyList_New((Py_ssize_t)n);
    /* new records hold no cycles: the collector would only walk them, and
     * everything else, again and again while they are made */
    int collecting = PyGC_Disable();
    for (uint64_t i = 0; out != NULL && i < n; i++) {
        PyObject *o = record(&r, hv_leak_get(s, i));
        if (o == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, (Py_ssize_t)i, o);
    }
    if (collecting) PyGC_Enable();
done:
    hv_leak_end(s);
    records_clear(&r);
    return out;
}

/* _advice() -> {key: paragraph} */
PyObject *hvpy_advice(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    PyObject *d = PyDict_New();
    for (unsigned i = 0; d != NULL && i < hv_advice_count(); i++) {
        const char *key = hv_advice_key(i);
        PyObject *v = PyUnicode_FromString(hv_advice(key));
        if (v == NULL || PyDict_SetItemString(d, key, v) < 0) Py_CLEAR(d);
        Py_XDECREF(v);
    }
    return d;
}

/* _glibc_words(heap, fn, pointer or None) -> glibc's abort message */
PyObject *hvpy_glibc_words(PyObject *module, PyObject *const *args,
                           Py_ssize_t nargs)
{
    if (nargs != 3)
        return PyErr_Format(
            PyExc_TypeError,
            "_glibc_words(heap, fn, pointer) takes 3 arguments");
    HeapObject *heap = heap_arg(module, args[0], "_glibc_words");
    const char *fn = heap ? PyUnicode_AsUTF8(args[1]) : NULL;
    if (fn == NULL) return NULL;
    unsigned long long p = 0;
    if (args[2] != Py_None) {
        p = PyLong_AsUnsignedLongLong(args[2]);
        if (p == (unsigned long long)-1 && PyErr_Occurred()) return NULL;
    }
    char buf[128];
    hv_glibc_words(heap->h, fn, p, args[2] != Py_None, buf, sizeof buf);
    return PyUnicode_FromString(buf);
}

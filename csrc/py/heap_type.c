/* heap_type.c — the Heap type itself: its life and its shape.
 *
 * Owns: Heap(...) (the core configuration from keywords), the arena's
 * owners, close(), garbage collection, the attributes every heap has
 * (closed, fd, _checks), the capsule other extensions read the heap
 * through, and the assembly of the type from the method tables of each
 * concern (heap_memory.c, heap_introspect.c, heap_history.c,
 * heap_frames.c).
 *
 * heapviz.Heap (heapviz/heap.py) subclasses this type: keyword validation
 * with friendly messages, records, leaks and the viewer are Python on top.
 * Every method starts with a validity check; a closed heap raises
 * ValueError and never touches freed memory.
 *
 * The arena has owners: the heap, and every capsule it handed out (the
 * viewer, replays and pictures read the core through capsules).  close()
 * drops the heap's share; the memory goes back to the system when the last
 * owner lets go, so a capsule kept past close() still reads a whole heap
 * instead of freed memory.
 */
#include "binding.h"

#include <structmember.h>

struct hvpy_arena {
    hv_heap_t *h;
    Py_ssize_t owners; /* the heap (until closed) + live capsules */
};

static hvpy_arena_t *arena_new(hv_heap_t *h)
{
    hvpy_arena_t *a = PyMem_Malloc(sizeof *a);
    if (a == NULL) {
        hv_heap_destroy(h);
        PyErr_NoMemory();
        return NULL;
    }
    a->h = h;
    a->owners = 1;
    return a;
}

static void arena_drop(hvpy_arena_t *a)
{
    if (a == NULL || --a->owners > 0) return;
    hv_heap_destroy(a->h);
    PyMem_Free(a);
}

int hvpy_heap_alive(HeapObject *self)
{
    if (self->h != NULL) return 1;
    PyErr_SetString(PyExc_ValueError,
                    "this heap is closed: its memory was given back to the "
                    "system, so its pointers lead nowhere");
    return 0;
}

int hvpy_after_op(HeapObject *self)
{
    if (self->step_hook == NULL) return 0;
    PyObject *r = PyObject_CallNoArgs(self->step_hook);
    if (r == NULL) return -1;
    Py_DECREF(r);
    return 0;
}

/* --- creation ----------------------------------------------------------- */

/* Heap(**config) into the core's hv_config_t.  heapviz.Heap has already
 * turned names ("first", "strict") into numbers; the core validates the
 * ranges and names the field it refused. */
static int parse_config(PyObject *args, PyObject *kwds, hv_config_t *cfg,
                        int *checks)
{
    static char *kw[] = {"size",
                         "max_size",
                         "policy",
                         "order",
                         "coalesce",
                         "align",
                         "base",
                         "mmap_threshold",
                         "split_threshold",
                         "footer",
                         "magic",
                         "record",
                         "shadow",
                         "debug_check",
                         "checks",
                         "ring_capacity",
                         "history_limit",
                         "stack_size",
                         NULL};
    hv_config_default(cfg);
    unsigned long long size = cfg->size, max_size = cfg->max_size,
                       base = cfg->base, mmap_threshold = cfg->mmap_threshold,
                       split_threshold = cfg->split_threshold,
                       history_limit = cfg->history_limit;
    int policy = cfg->policy, order = cfg->order, coalesce = cfg->coalesce;
    unsigned int align = cfg->align, ring = cfg->ring_capacity,
                 stack = cfg->stack_size;
    int footer = cfg->footer, magic = cfg->magic, record = cfg->record,
        shadow = cfg->shadow, debug_check = cfg->debug_check;
    *checks = CHECKS_STRICT;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwds, "|$KKiiiIKKKpppppiIKI:Heap", kw, &size, &max_size,
            &policy, &order, &coalesce, &align, &base, &mmap_threshold,
            &split_threshold, &footer, &magic, &record, &shadow, &debug_check,
            checks, &ring, &history_limit, &stack))
        return -1;
    if (*checks < CHECKS_STRICT || *checks > CHECKS_OFF) {
        PyErr_Format(PyExc_ValueError, "Heap(checks=%d): must be 0, 1 or 2",
                     *checks);
        return -1;
    }
    cfg->size = size, cfg->max_size = max_size, cfg->base = base;
    cfg->policy = (hv_policy_t)policy, cfg->order = (hv_order_t)order;
    cfg->coalesce = (hv_coalesce_t)coalesce, cfg->align = align;
    cfg->mmap_threshold = mmap_threshold;
    cfg->split_threshold = split_threshold;
    cfg->footer = footer, cfg->magic = magic, cfg->record = record;
    cfg->shadow = shadow && *checks != CHECKS_OFF;
    cfg->debug_check = debug_check, cfg->ring_capacity = ring;
    cfg->history_limit = history_limit, cfg->stack_size = stack;
#ifdef HV_DEBUG
    cfg->debug_check = true;
#endif
    return 0;
}

/* The Python-side helpers of a fresh heap: site cache, roots, provenance
 * of stored pointers, and its entry in the module's list of open heaps. */
static int attach_helpers(HeapObject *self, const hv_config_t *cfg)
{
    hv_layout_t lay;
    hv_heap_layout(self->h, &lay);
    self->sites = hvpy_sites_new();
    self->roots = hvpy_roots_new(lay.heap_base, cfg->max_size);
    self->prov = PyDict_New();
    if (self->sites == NULL || self->roots == NULL || self->prov == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    module_state *st = self->st;
    PyObject *ref = st ? PyWeakref_NewRef((PyObject *)self, NULL) : NULL;
    int rc = ref == NULL ? -1 : PyList_Append(st->heaps, ref);
    Py_XDECREF(ref);
    return rc;
}

static int heap_init(HeapObject *self, PyObject *args, PyObject *kwds)
{
    if (self->h != NULL || self->arena != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Heap.__init__ called twice");
        return -1;
    }
    hv_config_t cfg;
    int checks;
    if (parse_config(args, kwds, &cfg, &checks) < 0) return -1;
    const char *bad = NULL;
    hv_heap_t *h;
    hv_err_t rc = hv_heap_create(&cfg, &h, &bad);
    if (rc != HV_OK) {
        hvpy_call_t call = {.op = OP_HEAP, .arg = bad ? bad : "?"};
        hvpy_core_error(self, rc, &call); /* no memory error: raises */
        return -1;
    }
    self->arena = arena_new(h);
    if (self->arena == NULL) return -1;
    self->h = h;
    self->checks = checks;
    self->st = hvpy_state_of_type(Py_TYPE(self));
    return attach_helpers(self, &cfg);
}

/* --- the end of a heap -------------------------------------------------- */

static void heap_release(HeapObject *self)
{
    self->h = NULL;
    arena_drop(self->arena); /* capsules may still own it */
    self->arena = NULL;
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
    Py_VISIT(self->dict);      /* h.keep = h.malloc(8): a cycle via a
                                  Pointer, which GC sees (pointer.c) */
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
    if (self->weakreflist != NULL) PyObject_ClearWeakRefs((PyObject *)self);
    heap_clear(self);
    heap_release(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

PyDoc_STRVAR(close_doc,
             "close() -> None\n\n"
             "Give the arena back to the system (once no capsule reads it). "
             "Later use of\nthe heap or its pointers raises ValueError.");

static PyObject *heap_close(HeapObject *self, PyObject *unused)
{
    (void)unused;
    heap_release(self);
    Py_CLEAR(self->step_hook);
    Py_RETURN_NONE;
}

static void capsule_release(PyObject *capsule)
{
    arena_drop(PyCapsule_GetContext(capsule));
}

PyDoc_STRVAR(capsule_doc,
             "_capsule() -> PyCapsule\n\n"
             "The core heap (hv_heap_t *) for other extensions (the viewer, "
             "replays,\npictures), named \"" HV_CAPSULE_NAME "\".  The capsule "
             "owns the arena too: it stays\nreadable after close() until the "
             "capsule dies.");

static PyObject *heap_capsule(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self)) return NULL;
    PyObject *cap = PyCapsule_New(self->h, HV_CAPSULE_NAME, capsule_release);
    if (cap == NULL) return NULL;
    if (PyCapsule_SetContext(cap, self->arena) < 0) {
        PyCapsule_SetDestructor(cap, NULL); /* it owns nothing yet */
        Py_DECREF(cap);
        return NULL;
    }
    self->arena->owners++;
    return cap;
}

/* --- attributes --------------------------------------------------------- */

static PyObject *heap_get_fd(HeapObject *self, void *c)
{
    (void)c;
    if (!hvpy_heap_alive(self)) return NULL;
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
    int m;
    if (v == NULL) {
        PyErr_SetString(PyExc_AttributeError, "_checks cannot be deleted");
        return -1;
    }
    if (hvpy_int_arg(v, "_checks", "mode", &m) < 0) return -1;
    if (m < CHECKS_STRICT || m > CHECKS_OFF) {
        PyErr_Format(PyExc_ValueError, "_checks must be 0, 1 or 2, not %d", m);
        return -1;
    }
    self->checks = m;
    return 0;
}

static PyMethodDef heap_lifecycle_methods[] = {
    {"close", (PyCFunction)heap_close, METH_NOARGS, close_doc},
    {"_capsule", (PyCFunction)heap_capsule, METH_NOARGS, capsule_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef heap_getset[] = {
    {"fd", (getter)heap_get_fd, NULL, "the arena's memfd (-1 if anonymous)",
     NULL},
    {"closed", (getter)heap_get_closed, NULL, "True after close()", NULL},
    {"_checks", (getter)heap_get_checks, (setter)heap_set_checks,
     "the checks= mode as a number: 0 strict, 1 report, 2 off (heapviz.Heap."
     "checks\nspells it)",
     NULL},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* --- the type, put together from each concern's tables ------------------ */

static PyMethodDef *const method_tables[] = {
    heap_lifecycle_methods,       hvpy_heap_memory_methods,
    hvpy_heap_introspect_methods, hvpy_heap_history_methods,
    hvpy_heap_frame_methods,
};

static PyGetSetDef *const getset_tables[] = {hvpy_heap_memory_getset,
                                             hvpy_heap_introspect_getset};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Give cls a method descriptor of its own for each C method (skipping the
 * names in skip_own when cls defines them itself). */
static int add_methods(PyTypeObject *cls, int skip_own)
{
    for (size_t t = 0; t < COUNT(method_tables); t++) {
        for (PyMethodDef *d = method_tables[t]; d->ml_name != NULL; d++) {
            PyObject *name = PyUnicode_InternFromString(d->ml_name);
            if (name == NULL) return -1;
            int mine = skip_own ? PyDict_Contains(cls->tp_dict, name) : 0;
            PyObject *descr = mine == 0 ? PyDescr_NewMethod(cls, d) : NULL;
            int rc =
                mine < 0 || (mine == 0 && (descr == NULL ||
                                           PyObject_SetAttr((PyObject *)cls,
                                                            name, descr) < 0))
                    ? -1
                    : 0;
            Py_XDECREF(descr);
            Py_DECREF(name);
            if (rc < 0) return -1;
        }
    }
    return 0;
}

int hvpy_heap_ready(PyTypeObject *heap_type)
{
    if (add_methods(heap_type, 0) < 0) return -1;
    for (size_t t = 0; t < COUNT(getset_tables); t++) {
        for (PyGetSetDef *g = getset_tables[t]; g->name != NULL; g++) {
            PyObject *descr = PyDescr_NewGetSet(heap_type, g);
            int rc = descr == NULL ? -1
                                   : PyObject_SetAttrString(
                                         (PyObject *)heap_type, g->name, descr);
            Py_XDECREF(descr);
            if (rc < 0) return -1;
        }
    }
    return 0;
}

/* CPython 3.11 calls a C method fast (PRECALL_NO_KW_METHOD_DESCRIPTOR_O
 * and its siblings) only when self's type IS the type the method
 * descriptor belongs to.  heapviz.Heap is a Python subclass, so with the
 * descriptors inherited from here every h.malloc(n) and h.free(p) missed
 * that path and went through the generic call: about 20 ns a call, a
 * fifth of the malloc/free pair's budget.  This gives the subclass
 * descriptors of its own for the C methods it does not override itself. */
int hvpy_heap_own_methods(PyTypeObject *cls)
{
    return add_methods(cls, 1);
}

static PyMemberDef heap_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(HeapObject, weakreflist),
     READONLY, NULL},
    {"__dictoffset__", T_PYSSIZET, offsetof(HeapObject, dict), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(heap_doc,
             "Heap(*, size, max_size, policy, order, coalesce, align, base, "
             "mmap_threshold,\n     split_threshold, footer, magic, record, "
             "shadow, debug_check, checks,\n     ring_capacity, history_limit, "
             "stack_size)\n\n"
             "The allocator core behind heapviz.Heap: the options are "
             "numbers here\n(heapviz.Heap takes their names).");

static PyType_Slot heap_slots[] = {
    {Py_tp_init, heap_init},         {Py_tp_dealloc, heap_dealloc},
    {Py_tp_traverse, heap_traverse}, {Py_tp_clear, heap_clear},
    {Py_tp_getset, heap_getset},     {Py_tp_members, heap_members},
    {Py_tp_doc, (void *)heap_doc},   {0, NULL},
};

PyType_Spec hvpy_heap_spec = {
    .name = "heapviz._core.Heap",
    .basicsize = sizeof(HeapObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = heap_slots,
};

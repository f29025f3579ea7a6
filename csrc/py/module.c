/* module.c — heapviz._core: module state, multi-phase init and the
 * module-level functions (sizeof, memcpy, memset, and the registrations
 * heapviz's Python modules make once: the error hook, the record classes,
 * the Heap subclass's own methods).
 *
 * Everything the module holds lives in its state (xxlimited.c's model):
 * the types, heapviz.NULL, the hooks, the open heaps; the types are heap
 * types made in the exec slot. */
#include "binding.h"

static struct PyModuleDef core_module;

module_state *hvpy_state(PyObject *module)
{
    return (module_state *)PyModule_GetState(module);
}

module_state *hvpy_state_of_type(PyTypeObject *tp)
{
    PyObject *m = PyType_GetModuleByDef(tp, &core_module);
    if (m == NULL) {
        PyErr_Clear();
        return NULL;
    }
    return hvpy_state(m);
}

/* The most recently created open heap whose mappings contain addr: the heap
 * a pointer made from an integer refers to, as in C where a cast address
 * means whatever is mapped there. */
HeapObject *hvpy_heap_for_address(module_state *st, uint64_t addr)
{
    Py_ssize_t n = PyList_GET_SIZE(st->heaps);
    for (Py_ssize_t i = n - 1; i >= 0; i--) {
        PyObject *ref = PyList_GET_ITEM(st->heaps, i);
        PyObject *obj = PyWeakref_GetObject(ref);
        if (obj == Py_None) continue;
        HeapObject *heap = (HeapObject *)obj;
        if (heap->h == NULL) continue;
        hv_region_t region;
        uint8_t *mem;
        hv_resolve(heap->h, addr, 1, &region, &mem);
        if (region != HV_REGION_NONE) return heap;
    }
    return NULL;
}

PyDoc_STRVAR(sizeof_doc,
             "sizeof(type: str) -> int\n\n"
             "The size in bytes of a C type on this machine (LP64): "
             "sizeof(\"int\") == 4,\nsizeof(\"int*\") == 8, "
             "sizeof(\"int[10]\") == 40.");

static PyObject *core_sizeof(PyObject *module, PyObject *arg)
{
    (void)module;
    int tcode;
    uint32_t tsize;
    uint64_t total;
    PyObject *pointee = NULL;
    if (hvpy_parse_ctype(arg, &tcode, &tsize, &pointee, &total) < 0)
        return NULL;
    Py_XDECREF(pointee);
    return PyLong_FromUnsignedLongLong(total);
}

PyDoc_STRVAR(set_hooks_doc,
             "_set_hooks(error_hook, segv_type, package_dir)\n\n"
             "Called once by heapviz/__init__.py: the function that builds "
             "memory-error\nexceptions, the SegmentationFault class, and the "
             "package directory whose\nframes are skipped when finding the "
             "student's line.");

static PyObject *core_set_hooks(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs)
{
    module_state *st = hvpy_state(module);
    if (hvpy_nargs("_set_hooks(error_hook, segv_type, package_dir)", nargs, 3) <
        0)
        return NULL;
    if (!PyCallable_Check(args[0]) || !PyType_Check(args[1]) ||
        !PyUnicode_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "_set_hooks(callable, type, str) expected");
        return NULL;
    }
    Py_XSETREF(st->error_hook, Py_NewRef(args[0]));
    Py_XSETREF(st->segv_type, Py_NewRef(args[1]));
    Py_XSETREF(st->pkg_prefix, Py_NewRef(args[2]));
    Py_RETURN_NONE;
}

PyDoc_STRVAR(own_methods_doc,
             "_own_methods(cls)\n\n"
             "Called once by heapviz/heap.py: give the subclass cls of "
             "_core.Heap its own\ndescriptors for the C methods, so that "
             "CPython's fast call path applies\nto its instances.");

static PyObject *core_own_methods(PyObject *module, PyObject *arg)
{
    module_state *st = hvpy_state(module);
    if (!PyType_Check(arg) ||
        !PyType_IsSubtype((PyTypeObject *)arg, st->heap_type)) {
        PyErr_SetString(PyExc_TypeError,
                        "_own_methods() takes a subclass of _core.Heap");
        return NULL;
    }
    if (hvpy_heap_own_methods((PyTypeObject *)arg) < 0) return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(set_records_doc,
             "_set_records(site, block, event)\n\n"
             "Called once by heapviz/records.py: the Site class, and the "
             "Block and Event\nclasses (subclasses of BlockRecord and "
             "EventRecord) that the heap's\nwhole-heap queries build.");

static PyObject *core_set_records(PyObject *module, PyObject *const *args,
                                  Py_ssize_t nargs)
{
    if (hvpy_nargs("_set_records(site, block, event)", nargs, 3) < 0 ||
        hvpy_records_register(hvpy_state(module), args[0], args[1], args[2]) <
            0)
        return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(memcpy_doc, "memcpy(dst, src, n) -> dst\n\n"
                         "Copy n bytes (and their initialized state); the "
                         "regions must not overlap.");
PyDoc_STRVAR(memset_doc, "memset(dst, c, n) -> dst\n\n"
                         "Fill n bytes with the byte c.");

static PyMethodDef core_methods[] = {
    {"sizeof", core_sizeof, METH_O, sizeof_doc},
    {"memcpy", (PyCFunction)(void (*)(void))hvpy_memcpy, METH_FASTCALL,
     memcpy_doc},
    {"memset", (PyCFunction)(void (*)(void))hvpy_memset, METH_FASTCALL,
     memset_doc},
    {"_set_hooks", (PyCFunction)(void (*)(void))core_set_hooks, METH_FASTCALL,
     set_hooks_doc},
    {"_set_records", (PyCFunction)(void (*)(void))core_set_records,
     METH_FASTCALL, set_records_doc},
    {"_own_methods", core_own_methods, METH_O, own_methods_doc},
    {"_leak_scan", (PyCFunction)(void (*)(void))hvpy_leak_scan, METH_FASTCALL,
     "_leak_scan(heap, cls, kinds, site_of): the core's leak scan, as records"},
    {"_advice", hvpy_advice, METH_NOARGS,
     "_advice(): {key: the explanation of a kind of error}"},
    {"_glibc_words", (PyCFunction)(void (*)(void))hvpy_glibc_words,
     METH_FASTCALL, "_glibc_words(heap, fn, pointer): glibc's abort message"},
    {NULL, NULL, 0, NULL},
};

static int add_int(PyObject *m, const char *name, long v)
{
    return PyModule_AddIntConstant(m, name, v);
}

/* The core's own names of an enum, as a list (index = the enum value), so
 * that Python never keeps a copy of them. */
static const char *event_kind_name(int i)
{
    return hv_event_kind_name((uint16_t)i);
}
static const char *policy_name(int i)
{
    return hv_policy_name((hv_policy_t)i);
}
static const char *order_name(int i)
{
    return hv_order_name((hv_order_t)i);
}
static const char *coalesce_name(int i)
{
    return hv_coalesce_name((hv_coalesce_t)i);
}

static const char *block_state_name(int i)
{
    return hv_block_state_name((hv_block_state_t)i);
}

static int add_names(PyObject *m, const char *attr, int count,
                     const char *(*name)(int))
{
    PyObject *names = PyList_New(0);
    if (names == NULL) return -1;
    for (int k = 0; k < count; k++) {
        PyObject *s = PyUnicode_FromString(name(k));
        if (s == NULL || PyList_Append(names, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(names);
            return -1;
        }
        Py_DECREF(s);
    }
    int rc = PyModule_AddObjectRef(m, attr, names);
    Py_DECREF(names);
    return rc;
}

static int add_constants(PyObject *m)
{
    static const struct {
        const char *name;
        long value;
    } table[] = {
        {"EV_MALLOC", HV_EV_MALLOC},
        {"EV_CALLOC", HV_EV_CALLOC},
        {"EV_REALLOC", HV_EV_REALLOC},
        {"EV_FREE", HV_EV_FREE},
        {"EV_ERROR", HV_EV_ERROR},
        {"EV_LOST", HV_EV_LOST},
        {"EV_NOTE", HV_EV_NOTE},
        {"EV_WRITE", HV_EV_WRITE},
        {"EVF_MOVED", HV_EVF_MOVED},
        {"EVF_INPLACE", HV_EVF_INPLACE},
        {"EVF_SUB", HV_EVF_SUB},
        {"EVF_FAILED", HV_EVF_FAILED},
        {"ERR_SEGV", HV_ERR_SEGV},
        {"ERR_OVERFLOW", HV_ERR_OVERFLOW},
        {"ERR_UNINIT", HV_ERR_UNINIT},
        {"ERR_USE_AFTER_FREE", HV_ERR_USE_AFTER_FREE},
        {"ERR_DOUBLE_FREE", HV_ERR_DOUBLE_FREE},
        {"ERR_INVALID_FREE", HV_ERR_INVALID_FREE},
        {"ERR_USE_AFTER_RETURN", HV_ERR_USE_AFTER_RETURN},
        {"ERR_OVERLAP", HV_ERR_OVERLAP},
        {"ERR_FISHY", HV_ERR_FISHY},
        {"ERR_CORRUPTION", HV_ERR_CORRUPTION},
        {"ERR_LEAK", HV_ERR_LEAK},
        {"CHECKS_STRICT", CHECKS_STRICT},
        {"CHECKS_REPORT", CHECKS_REPORT},
        {"CHECKS_OFF", CHECKS_OFF},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (add_int(m, table[i].name, table[i].value) < 0) return -1;
    if (add_names(m, "EVENT_KINDS", HV_EV_KIND_COUNT, event_kind_name) < 0 ||
        add_names(m, "POLICY_NAMES", HV_POLICY_COUNT, policy_name) < 0 ||
        add_names(m, "ORDER_NAMES", HV_ORDER_COUNT, order_name) < 0 ||
        add_names(m, "COALESCE_NAMES", HV_COALESCE_COUNT, coalesce_name) < 0 ||
        add_names(m, "BLOCK_STATE_NAMES", HV_BLOCK_STACK + 1,
                  block_state_name) < 0)
        return -1;
    return 0;
}

static int core_exec(PyObject *m)
{
    module_state *st = hvpy_state(m);
    st->heap_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(m, &hvpy_heap_spec, NULL);
    if (st->heap_type == NULL || hvpy_heap_ready(st->heap_type) < 0 ||
        PyModule_AddType(m, st->heap_type) < 0)
        return -1;
    st->pointer_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(m, &hvpy_pointer_spec, NULL);
    if (st->pointer_type == NULL || PyModule_AddType(m, st->pointer_type) < 0)
        return -1;
    st->null = hvpy_pointer_new(st, NULL, 0, 0, 0, 0, PROV_NONE);
    if (st->null == NULL || PyModule_AddObjectRef(m, "NULL", st->null) < 0)
        return -1;
    st->heaps = PyList_New(0);
    if (st->heaps == NULL || hvpy_records_init(m, st) < 0) return -1;
    return add_constants(m);
}

static int core_traverse(PyObject *m, visitproc visit, void *arg)
{
    module_state *st = hvpy_state(m);
    Py_VISIT(st->heap_type); /* heap types are GC objects            */
    Py_VISIT(st->pointer_type);
    Py_VISIT(st->null);
    Py_VISIT(st->error_hook); /* a Python function: may form a cycle  */
    Py_VISIT(st->heaps);
    Py_VISIT(st->segv_type);
    Py_VISIT(st->block_base);
    Py_VISIT(st->event_base);
    Py_VISIT(st->block_cls); /* Python classes: may hold the module  */
    Py_VISIT(st->event_cls);
    Py_VISIT(st->site_cls);
    Py_VISIT(st->state_names);
    Py_VISIT(st->kind_names);
    return 0;
}

static int core_clear(PyObject *m)
{
    module_state *st = hvpy_state(m);
    Py_CLEAR(st->heap_type);
    Py_CLEAR(st->pointer_type);
    Py_CLEAR(st->null);
    Py_CLEAR(st->error_hook);
    Py_CLEAR(st->heaps);
    Py_CLEAR(st->pkg_prefix);
    Py_CLEAR(st->segv_type);
    Py_CLEAR(st->block_base);
    Py_CLEAR(st->event_base);
    Py_CLEAR(st->block_cls);
    Py_CLEAR(st->event_cls);
    Py_CLEAR(st->site_cls);
    Py_CLEAR(st->state_names);
    Py_CLEAR(st->kind_names);
    hvpy_pointer_spares_free(st);
    return 0;
}

static void core_free(void *m)
{
    core_clear((PyObject *)m);
}

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, core_exec},
    {0, NULL},
};

PyDoc_STRVAR(core_doc, "heapviz's allocator core and its memory API.");

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,       .m_name = "heapviz._core",
    .m_doc = core_doc,           .m_size = sizeof(module_state),
    .m_methods = core_methods,   .m_slots = core_slots,
    .m_traverse = core_traverse, .m_clear = core_clear,
    .m_free = core_free,
};

PyMODINIT_FUNC PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}

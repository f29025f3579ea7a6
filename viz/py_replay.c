/* py_replay.c — heapviz._viz.Replay: time travel over a heap's history.
 *
 *   r = Replay(h._capsule()); r.ops; r.goto(12); render(r, ...)
 *
 * The Replay keeps the capsule (and so reads the history of a heap that
 * must stay open while the Replay is used; heapviz.render makes Replays
 * only for the length of one call).
 */
#include "py_viz.h"

typedef struct ReplayObject {
    PyObject_HEAD
    PyObject *capsule;
    hv_viz_replay_t *r;
} ReplayObject;

static const hv_heap_t *replay_heap_src(ReplayObject *self,
                                        hv_viz_events_t *src)
{
    const hv_heap_t *h = PyCapsule_GetPointer(self->capsule, HV_CAPSULE_NAME);
    if (h != NULL) hv_events_from_heap(h, src);
    return h;
}

static PyObject *replay_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *names[] = {"capsule", NULL};
    PyObject *cap;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O", names, &cap)) return NULL;
    const hv_heap_t *h = PyCapsule_GetPointer(cap, HV_CAPSULE_NAME);
    if (h == NULL) return NULL;
    ReplayObject *self = (ReplayObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    hv_err_t err;
    self->r = hv_viz_replay_new(hv_heap_config(h), &err);
    if (self->r == NULL) {
        Py_DECREF(self);
        return PyErr_Format(PyExc_RuntimeError, "heapviz: cannot make a replay "
                            "heap: %s", hv_strerror(err));
    }
    self->capsule = Py_NewRef(cap);
    return (PyObject *)self;
}

static void replay_dealloc(ReplayObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    hv_viz_replay_free(self->r);
    Py_XDECREF(self->capsule);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *replay_goto(ReplayObject *self, PyObject *arg)
{
    unsigned long long op = PyLong_AsUnsignedLongLong(arg);
    if (PyErr_Occurred()) return NULL;
    hv_viz_events_t src;
    if (replay_heap_src(self, &src) == NULL) return NULL;
    if (!hv_viz_replay_goto(self->r, &src, op))
        return PyErr_Format(PyExc_RuntimeError, "heapviz: %s",
                            hv_viz_replay_error(self->r));
    return PyLong_FromUnsignedLongLong(hv_viz_replay_pos(self->r));
}

static PyObject *replay_get_ops(ReplayObject *self, void *closure)
{
    (void)closure;
    hv_viz_events_t src;
    if (replay_heap_src(self, &src) == NULL) return NULL;
    return PyLong_FromUnsignedLongLong(hv_viz_replay_index(self->r, &src));
}

static PyObject *replay_get_pos(ReplayObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLongLong(hv_viz_replay_pos(self->r));
}

static PyObject *replay_get_info(ReplayObject *self, void *closure)
{
    (void)closure;
    hv_viz_replay_info_t in;
    hv_viz_replay_info(self->r, &in);
    return Py_BuildValue("{s:K,s:K,s:K,s:K}", "checkpoints",
                         (unsigned long long)in.checkpoints, "every",
                         (unsigned long long)in.every, "bytes",
                         (unsigned long long)in.bytes, "ops_rerun",
                         (unsigned long long)in.ops_rerun);
}

int hv_replay_fill(PyObject *module, PyObject *obj, hv_viz_state_t *s)
{
    viz_state_t *st = viz_get_state(module);
    if (!PyObject_TypeCheck(obj, st->replay_type)) return 0;
    ReplayObject *self = (ReplayObject *)obj;
    hv_viz_events_t src;
    if (replay_heap_src(self, &src) == NULL) return -1;
    if (!hv_viz_replay_state(self->r, &src, s)) {
        PyErr_NoMemory();
        return -1;
    }
    return 1;
}

PyDoc_STRVAR(goto_doc, "goto(op) -> int: rebuild the heap as it was after "
                       "`op` operations; returns the op reached.");

static PyMethodDef replay_methods[] = {
    {"goto", (PyCFunction)replay_goto, METH_O, goto_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef replay_getset[] = {
    {"ops", (getter)replay_get_ops, NULL, "operations in the history", NULL},
    {"pos", (getter)replay_get_pos, NULL, "operations replayed so far", NULL},
    {"info", (getter)replay_get_info, NULL,
     "checkpoints: {checkpoints, every (ops apart), bytes, ops_rerun (in all)}", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot replay_slots[] = {
    {Py_tp_new, replay_new},
    {Py_tp_dealloc, replay_dealloc},
    {Py_tp_methods, replay_methods},
    {Py_tp_getset, replay_getset},
    {Py_tp_doc, "Replay(capsule): the heap's history, re-run on a private heap."},
    {0, NULL},
};

PyType_Spec hv_replay_spec = {
    .name = "heapviz._viz.Replay",
    .basicsize = sizeof(ReplayObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = replay_slots,
};

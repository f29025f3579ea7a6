/* py_replay.c — heapviz._viz.Replay: the heap at any step of its history.
 *
 *   r = Replay(h)          # a Heap (kept alive), or h._capsule()
 *   r.ops; r.goto(12)      # after 12 operations
 *   r.moment()             # blocks, free lists, stats, frames, marks…
 *   r.errors(); r.step(12) # the errors so far; what operation 12 did
 *   render(r, ...)         # its picture
 *
 * The one replay (viz/replay.c) seen from Python: every "heap at step k"
 * — the notebook's timeline and hover records, PNG/GIF frames, SVG, a
 * recording's states — is a Replay.  A Replay made from a Heap keeps the
 * heap object alive and raises ValueError once the heap is closed (its
 * history is gone with its arena); one made from a bare capsule relies on
 * the capsule's own check.
 */
#include "py_viz.h"

#include <stdlib.h>

typedef struct ReplayObject {
    PyObject_HEAD PyObject
        *owner;        /* the Heap the history belongs to (or NULL)      */
    PyObject *capsule; /* its capsule                                    */
    hv_viz_replay_t *r;
} ReplayObject;

static const char closed_msg[] =
    "heapviz: the heap of this Replay was closed, and its history with it: "
    "make the "
    "Replay (or the picture, the timeline) before close()";

/* The recorded heap, after checking it is still there; NULL with an
 * exception when not. */
static const hv_heap_t *source_heap(ReplayObject *self, hv_viz_events_t *src)
{
    if (self->owner != NULL) {
        PyObject *closed = PyObject_GetAttrString(self->owner, "closed");
        int is = closed ? PyObject_IsTrue(closed) : -1;
        Py_XDECREF(closed);
        if (is != 0) {
            if (is > 0) PyErr_SetString(PyExc_ValueError, closed_msg);
            return NULL;
        }
    }
    const hv_heap_t *h = PyCapsule_GetPointer(self->capsule, HV_CAPSULE_NAME);
    if (h != NULL && src != NULL) hv_events_from_heap(h, src);
    return h;
}

/* Replay(h) or Replay(h._capsule()): the capsule and, for a heap, the
 * heap itself. */
static int take_source(ReplayObject *self, PyObject *arg)
{
    if (PyCapsule_CheckExact(arg)) {
        self->capsule = Py_NewRef(arg);
        return 0;
    }
    PyObject *cap = PyObject_CallMethod(arg, "_capsule", NULL);
    if (cap == NULL) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "Replay() takes a heapviz.Heap (or its "
                         "_capsule()), not %.100s",
                         Py_TYPE(arg)->tp_name);
        }
        return -1;
    }
    if (!PyCapsule_CheckExact(cap)) {
        Py_DECREF(cap);
        PyErr_SetString(PyExc_TypeError,
                        "Replay(): _capsule() gave no capsule");
        return -1;
    }
    self->capsule = cap;
    self->owner = Py_NewRef(arg);
    return 0;
}

static PyObject *replay_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *names[] = {"heap", NULL};
    PyObject *arg;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:Replay", names, &arg))
        return NULL;
    ReplayObject *self = (ReplayObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    const hv_heap_t *h;
    if (take_source(self, arg) < 0 || (h = source_heap(self, NULL)) == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    hv_err_t err;
    self->r = hv_viz_replay_new(hv_heap_config(h), &err);
    if (self->r == NULL) {
        Py_DECREF(self);
        return PyErr_Format(PyExc_RuntimeError,
                            "heapviz: cannot make a replay "
                            "heap: %s",
                            hv_strerror(err));
    }
    return (PyObject *)self;
}

static int replay_traverse(ReplayObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self)); /* heap types own a reference to their type */
    Py_VISIT(self->owner);   /* a heap may hold what holds this Replay    */
    Py_VISIT(self->capsule);
    return 0;
}

static int replay_clear(ReplayObject *self)
{
    Py_CLEAR(self->owner);
    Py_CLEAR(self->capsule);
    return 0;
}

static void replay_dealloc(ReplayObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    hv_viz_replay_free(self->r);
    replay_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *replay_goto(ReplayObject *self, PyObject *arg)
{
    unsigned long long op = PyLong_AsUnsignedLongLong(arg);
    if (PyErr_Occurred()) return NULL;
    hv_viz_events_t src;
    if (source_heap(self, &src) == NULL) return NULL;
    if (!hv_viz_replay_goto(self->r, &src, op))
        return PyErr_Format(PyExc_RuntimeError, "heapviz: %s",
                            hv_viz_replay_error(self->r));
    return PyLong_FromUnsignedLongLong(hv_viz_replay_pos(self->r));
}

static PyObject *replay_get_ops(ReplayObject *self, void *closure)
{
    (void)closure;
    hv_viz_events_t src;
    if (source_heap(self, &src) == NULL) return NULL;
    return PyLong_FromUnsignedLongLong(hv_viz_replay_index(self->r, &src));
}

static PyObject *replay_get_pos(ReplayObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLongLong(hv_viz_replay_pos(self->r));
}

static PyObject *replay_get_seq(ReplayObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLongLong(
        hv_viz_replay_op_seq(self->r, hv_viz_replay_pos(self->r)));
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

static PyObject *event_tuple(const hv_event_t *e)
{
    return Py_BuildValue("(KKiiIKKKK)", (unsigned long long)e->seq,
                         (unsigned long long)e->op, (int)e->kind, (int)e->flags,
                         (unsigned)e->site, (unsigned long long)e->addr,
                         (unsigned long long)e->size, (unsigned long long)e->a,
                         (unsigned long long)e->b);
}

/* errors() -> [event tuple]: the memory errors recorded up to the moment
 * reached (the history's HV_EV_ERROR events, in order). */
static PyObject *replay_errors(ReplayObject *self, PyObject *unused)
{
    (void)unused;
    hv_viz_events_t src;
    if (source_heap(self, &src) == NULL) return NULL;
    uint64_t end = hv_viz_replay_op_seq(self->r, hv_viz_replay_pos(self->r));
    PyObject *out = PyList_New(0);
    hv_event_t ev;
    for (uint64_t q = src.first; out && q < end && src.get(src.arg, q, &ev);
         q++) {
        if (ev.kind != HV_EV_ERROR) continue;
        PyObject *t = event_tuple(&ev);
        if (t == NULL || PyList_Append(out, t) < 0) Py_CLEAR(out);
        Py_XDECREF(t);
    }
    return out;
}

enum { STEP_EVENTS_MAX = 4096 }; /* events of one operation looked at */

/* step(k) -> (text, site, error): what operation k (1..ops) did, in the
 * words of every output (viz/words.c), where, and whether it was a memory
 * error. */
static PyObject *replay_step(ReplayObject *self, PyObject *arg)
{
    unsigned long long k = PyLong_AsUnsignedLongLong(arg);
    if (PyErr_Occurred()) return NULL;
    hv_viz_events_t src;
    if (source_heap(self, &src) == NULL) return NULL;
    uint64_t ops = hv_viz_replay_index(self->r, &src);
    if (k < 1 || k > ops)
        return PyErr_Format(PyExc_IndexError,
                            "step %llu: the history has steps 1..%llu", k,
                            (unsigned long long)ops);
    uint64_t lo = hv_viz_replay_op_seq(self->r, k - 1);
    uint64_t hi = hv_viz_replay_op_seq(self->r, k);
    if (hi - lo > STEP_EVENTS_MAX) hi = lo + STEP_EVENTS_MAX;
    hv_event_t *evs = malloc((size_t)(hi - lo + 1) * sizeof *evs);
    if (evs == NULL) return PyErr_NoMemory();
    size_t n = 0;
    for (uint64_t q = lo; q < hi && src.get(src.arg, q, &evs[n]); q++)
        n++;
    char text[512];
    uint32_t site;
    bool error = hv_viz_op_words(src.sites, evs, n, text, sizeof text, &site);
    free(evs);
    return Py_BuildValue(
        "(NIO)",
        PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace"),
        (unsigned)site, error ? Py_True : Py_False);
}

static PyObject *replay_moment(ReplayObject *self, PyObject *unused)
{
    (void)unused;
    return hv_py_moment(PyType_GetModule(Py_TYPE(self)), (PyObject *)self);
}

static ReplayObject *as_replay(PyObject *module, PyObject *obj)
{
    viz_state_t *st = viz_get_state(module);
    return PyObject_TypeCheck(obj, st->replay_type) ? (ReplayObject *)obj
                                                    : NULL;
}

int hv_replay_fill(PyObject *module, PyObject *obj, hv_viz_state_t *s)
{
    ReplayObject *self = as_replay(module, obj);
    if (self == NULL) return 0;
    hv_viz_events_t src;
    if (source_heap(self, &src) == NULL) return -1;
    if (!hv_viz_replay_state(self->r, &src, s)) {
        PyErr_NoMemory();
        return -1;
    }
    return 1;
}

const hv_heap_t *hv_replay_heap_of(PyObject *module, PyObject *obj)
{
    ReplayObject *self = as_replay(module, obj);
    if (self == NULL || source_heap(self, NULL) == NULL) return NULL;
    return hv_viz_replay_heap(self->r);
}

PyDoc_STRVAR(goto_doc, "goto(op) -> int: rebuild the heap as it was after "
                       "`op` operations; returns the op reached.");
PyDoc_STRVAR(errors_doc,
             "errors() -> [event tuple]: the memory errors recorded "
             "up to the moment reached.");
PyDoc_STRVAR(step_doc, "step(k) -> (text, site, error): what operation k did "
                       "(the one wording of events), its site id, whether it "
                       "was a memory error.");
PyDoc_STRVAR(moment_doc, "moment() -> dict: the moment reached as records "
                         "(see heapviz._viz.moment).");

static PyMethodDef replay_methods[] = {
    {"goto", (PyCFunction)replay_goto, METH_O, goto_doc},
    {"errors", (PyCFunction)replay_errors, METH_NOARGS, errors_doc},
    {"step", (PyCFunction)replay_step, METH_O, step_doc},
    {"moment", (PyCFunction)replay_moment, METH_NOARGS, moment_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef replay_getset[] = {
    {"ops", (getter)replay_get_ops, NULL, "operations in the history", NULL},
    {"pos", (getter)replay_get_pos, NULL, "operations replayed so far", NULL},
    {"seq", (getter)replay_get_seq, NULL,
     "the first event after the moment reached (events before it are its past)",
     NULL},
    {"info", (getter)replay_get_info, NULL,
     "checkpoints: {checkpoints, every (ops apart), bytes, ops_rerun (in all)}",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot replay_slots[] = {
    {Py_tp_new, replay_new},
    {Py_tp_dealloc, replay_dealloc},
    {Py_tp_traverse, replay_traverse},
    {Py_tp_clear, replay_clear},
    {Py_tp_methods, replay_methods},
    {Py_tp_getset, replay_getset},
    {Py_tp_doc, "Replay(heap): the heap's history, re-run on a private heap "
                "(the heap at any step)."},
    {0, NULL},
};

PyType_Spec hv_replay_spec = {
    .name = "heapviz._viz.Replay",
    .basicsize = sizeof(ReplayObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = replay_slots,
};

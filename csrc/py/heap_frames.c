/* heap_frames.c — the simulated stack: frames and the objects in them.
 *
 * `with h.frame("main") as f: buf = f.alloc(16)` pushes a frame, carves a
 * stack object from it and pops it at the end of the block.  A stack
 * Pointer carries the serial of its frame as its provenance: once the
 * frame is popped (even if another frame now sits at the same depth) an
 * access through it is a use after return (access.c).
 *
 * The core holds at most HV_FRAMES_MAX frames and refuses one more before
 * pushing anything; the binding keeps one serial per depth of the same
 * bound, so a RecursionError leaves the stack as it was.
 */
#include "binding.h"

PyDoc_STRVAR(frame_push_doc,
             "_frame_push(name: str) -> int\n\n"
             "Push a frame named name (heapviz.Heap.frame() is the context "
             "manager);\nreturns its serial.  RecursionError beyond "
             "HV_FRAMES_MAX nested frames.");

static PyObject *heap_frame_push(HeapObject *self, PyObject *arg)
{
    const char *name;
    if (!hvpy_heap_alive(self) || hvpy_str_arg(arg, "frame", "name", &name) < 0)
        return NULL;
    uint32_t depth;
    hv_err_t rc = hv_frame_push(self->h, name, hvpy_current_site(self), &depth);
    if (rc != HV_OK) {
        hvpy_call_t call = {.op = OP_FRAME_PUSH, .value = HV_FRAMES_MAX};
        hvpy_core_error(self, rc, &call);
        return NULL;
    }
    self->frame_serial[depth - 1] = ++self->next_frame_serial;
    return PyLong_FromUnsignedLongLong(self->next_frame_serial);
}

PyDoc_STRVAR(frame_alloc_doc,
             "_frame_alloc(size: int) -> Pointer\n\n"
             "size bytes of automatic memory in the innermost frame, like a "
             "local array\n(Frame.alloc() calls this); MemoryError when the "
             "stack is full.");

static PyObject *heap_frame_alloc(HeapObject *self, PyObject *arg)
{
    uint64_t n;
    int fishy;
    if (!hvpy_heap_alive(self) ||
        hvpy_size_arg(arg, "alloc", "size", &n, &fishy))
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
    if (rc != HV_OK) {
        hvpy_call_t call = {.op = OP_FRAME_ALLOC, .value = (long long)n};
        hvpy_core_error(self, rc, &call);
        return NULL;
    }
    PointerObject *p = (PointerObject *)hvpy_pointer_new(
        self->st, self, out, out, out, self->frame_serial[depth - 1],
        PROV_STACK);
    if (p != NULL) p->plen = n;
    return (PyObject *)p;
}

PyDoc_STRVAR(frame_pop_doc,
             "_frame_pop() -> None\n\n"
             "Pop the innermost frame: every object in it dies (a later use "
             "is a\nUseAfterReturn).");

static PyObject *heap_frame_pop(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self)) return NULL;
    uint32_t depth = hv_frame_depth(self->h);
    hv_err_t rc = hv_frame_pop(self->h, hvpy_current_site(self));
    if (rc != HV_OK) {
        hvpy_core_error(self, rc, &(hvpy_call_t){.op = OP_FRAME_POP});
        return NULL;
    }
    if (depth > 0 && depth <= HV_FRAMES_MAX) self->frame_serial[depth - 1] = 0;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(frames_doc,
             "_frames() -> list[tuple[str, int, int]]\n\n"
             "The live frames, outermost first: (name, low address, high "
             "address).");

static PyObject *heap_frames(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self)) return NULL;
    uint32_t n = hv_frame_depth(self->h);
    PyObject *out = PyList_New(0);
    for (uint32_t i = 0; out != NULL && i < n; i++) {
        const char *name;
        hv_addr_t lo, hi;
        if (!hv_frame_get(self->h, i, &name, &lo, &hi)) continue;
        PyObject *t = Py_BuildValue("(sKK)", name, (unsigned long long)lo,
                                    (unsigned long long)hi);
        if (t == NULL || PyList_Append(out, t) < 0) Py_CLEAR(out);
        Py_XDECREF(t);
    }
    return out;
}

PyMethodDef hvpy_heap_frame_methods[] = {
    {"_frame_push", (PyCFunction)heap_frame_push, METH_O, frame_push_doc},
    {"_frame_alloc", (PyCFunction)heap_frame_alloc, METH_O, frame_alloc_doc},
    {"_frame_pop", (PyCFunction)heap_frame_pop, METH_NOARGS, frame_pop_doc},
    {"_frames", (PyCFunction)heap_frames, METH_NOARGS, frames_doc},
    {NULL, NULL, 0, NULL},
};

/* py_window.c — run_viewer(): the live window, entered from Python in the
 * viewer process.  The loop itself (window.c) is plain C and runs with the
 * GIL released: the viewer process has nothing else to do. */
#include "py_viz.h"
#include "window.h"

/* states: a sequence of dicts (hv_state_from_dict) -> owned C states. */
static hv_viz_state_t *slides_from(PyObject *states, size_t *n)
{
    PyObject *seq = PySequence_Fast(states, "states must be a sequence of dicts");
    if (seq == NULL) return NULL;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(seq);
    if (len == 0) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "states: at least one state to show");
        return NULL;
    }
    hv_viz_state_t *out = PyMem_Calloc((size_t)len, sizeof *out);
    if (out == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t i = 0;
    for (; i < len; i++) {
        PyObject *d = PySequence_Fast_GET_ITEM(seq, i);
        hv_viz_state_init(&out[i]);
        if (!PyDict_Check(d)) {
            PyErr_Format(PyExc_TypeError, "states[%zd] is not a dict", i);
            break;
        }
        if (hv_state_from_dict(d, &out[i]) < 0) break;
    }
    Py_DECREF(seq);
    if (i < len) {
        for (Py_ssize_t j = 0; j <= i && j < len; j++) hv_viz_state_free(&out[j]);
        PyMem_Free(out);
        return NULL;
    }
    *n = (size_t)len;
    return out;
}

PyObject *hv_py_run_viewer(PyObject *module, PyObject *args, PyObject *kw)
{
    (void)module;
    static char *names[] = {"fd", "ctl_fd", "step", "width", "height", "frames",
                            "screenshot_dir", "states", "zoom", NULL};
    hv_window_opts_t o;
    hv_window_opts_default(&o);
    int step = 0;
    const char *dir = ".";
    PyObject *states = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "ii|$piiisOd", names, &o.fd,
                                     &o.ctl_fd, &step, &o.width, &o.height,
                                     &o.frames, &dir, &states, &o.zoom))
        return NULL;
    o.step = step;
    snprintf(o.screenshot_dir, sizeof o.screenshot_dir, "%s", dir);
    hv_viz_state_t *slides = NULL;
    size_t nslides = 0;
    if (states != Py_None && (slides = slides_from(states, &nslides)) == NULL)
        return NULL;
    o.slides = slides;
    o.nslides = nslides;
    char err[512] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = hv_window_run(&o, err, sizeof err);
    Py_END_ALLOW_THREADS
    for (size_t i = 0; i < nslides; i++) hv_viz_state_free(&slides[i]);
    PyMem_Free(slides);
    if (rc < 0) return PyErr_Format(PyExc_RuntimeError, "%s", err);
    return PyLong_FromLong(rc);
}

/* py_window.c — run_viewer(): the live window, entered from Python in the
 * viewer process.  The loop itself (window.c) is plain C and runs with the
 * GIL released: the viewer process has nothing else to do. */
#include "py_viz.h"
#include "window.h"

PyObject *hv_py_run_viewer(PyObject *module, PyObject *args, PyObject *kw)
{
    (void)module;
    static char *names[] = {"fd", "ctl_fd", "step", "width", "height", "frames",
                            "screenshot_dir", NULL};
    hv_window_opts_t o;
    hv_window_opts_default(&o);
    int step = 0;
    const char *dir = ".";
    if (!PyArg_ParseTupleAndKeywords(args, kw, "ii|$piiis", names, &o.fd,
                                     &o.ctl_fd, &step, &o.width, &o.height,
                                     &o.frames, &dir))
        return NULL;
    o.step = step;
    snprintf(o.screenshot_dir, sizeof o.screenshot_dir, "%s", dir);
    char err[512] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = hv_window_run(&o, err, sizeof err);
    Py_END_ALLOW_THREADS
    if (rc < 0) return PyErr_Format(PyExc_RuntimeError, "%s", err);
    return PyLong_FromLong(rc);
}

/* py_viz.h — shared by the files of the heapviz._viz module. */
#ifndef HEAPVIZ_VIZ_PY_VIZ_H
#define HEAPVIZ_VIZ_PY_VIZ_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "heapviz/viz.h"
#include "render.h"

#define HV_CAPSULE_NAME "heapviz._core.heap"

/* What one drawing call works in (kept by the module between calls). */
typedef struct viz_work {
    hv_viz_state_t state;
    hv_viz_scene_t scene;
    SDL_Surface *canvas;
} viz_work_t;
void hv_viz_work_free(viz_work_t *w);

typedef struct viz_state {
    hv_font_t *font; /* opened on first use */
    PyTypeObject *replay_type;
    viz_work_t work;
    bool work_busy;
} viz_state_t;

viz_state_t *viz_get_state(PyObject *module);

/* py_replay.c */
extern PyType_Spec hv_replay_spec;
/* If obj is a Replay: fill s from its current moment, return 1; 0 when it
 * is not a Replay; -1 with an exception. */
int hv_replay_fill(PyObject *module, PyObject *obj, hv_viz_state_t *s);
/* If obj is a Replay of an open heap: its private replay heap; else NULL
 * (with an exception when the heap is closed). */
const hv_heap_t *hv_replay_heap_of(PyObject *module, PyObject *obj);

/* py_moment.c: the heap at one moment as Python data (moment(src)). */
PyObject *hv_py_moment(PyObject *module, PyObject *src);
PyObject *hv_py_block_tuple(const hv_block_t *b);
PyObject *hv_py_stats_dict(const hv_stats_t *s);
/* Module constants of py_moment.c (MARKS); 0 or -1. */
int hv_py_moment_exec(PyObject *module);

/* py_state.c: a synthetic state from a dict (tests, notebooks). */
int hv_state_from_dict(PyObject *d, hv_viz_state_t *s);
/* The live heap in this process: blocks + the history's marks and log. */
int hv_state_from_capsule(PyObject *cap, hv_viz_state_t *s);
/* History events of an in-process heap as a replay source. */
void hv_events_from_heap(const hv_heap_t *h, hv_viz_events_t *src);

/* py_window.c */
PyObject *hv_py_run_viewer(PyObject *module, PyObject *args, PyObject *kw);

#endif

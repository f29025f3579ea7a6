/* py_viz.c — heapviz._viz: the renderer as a CPython module.
 *
 *   render(src, **opts) -> PNG bytes        scene(src, **opts) -> dict
 *   pixels(src, **opts) -> (w, h, BGRX bytes)   (GIF/APNG frames)
 *   legend() -> [(name, "#rrggbb", label)]  font_path() -> str
 *   Replay(capsule)                          time travel over the history
 *   history_bytes(capsule, first, count)     raw events for the viewer
 *   run_viewer(fd, ctl_fd, ...)              the live window (viewer process)
 *
 * `src` is the capsule of a heap in this process (Heap._capsule()), a
 * Replay, or a dict describing a state (tests and notebooks).  The module
 * never mutates a heap.  Rendering holds the GIL: the heap it reads must
 * not change underneath it, and the binding mutates only with the GIL.
 */
#include "py_viz.h"

#include <SDL_ttf.h>
#include <string.h>

static int viz_exec(PyObject *m);

viz_state_t *viz_get_state(PyObject *module)
{
    return (viz_state_t *)PyModule_GetState(module);
}

static hv_font_t *get_font(PyObject *module)
{
    viz_state_t *st = viz_get_state(module);
    if (st->font == NULL) {
        char err[256];
        st->font = hv_font_open(err, sizeof err);
        if (st->font == NULL) PyErr_SetString(PyExc_RuntimeError, err);
    }
    return st->font;
}

/* ---- options ------------------------------------------------------------- */
typedef struct call {
    PyObject *src;
    hv_viz_opts_t o;
    PyObject *vars;
} call_t;

static int parse_call(PyObject *args, PyObject *kw, call_t *c)
{
    static char *names[] = {"src",    "width",    "height", "zoom",
                            "scroll", "selected", "chrome", "help",
                            "min_block", "vars",  NULL};
    int chrome = 0, help = 0;
    unsigned long long selected = 0;
    hv_viz_opts_default(&c->o);
    c->vars = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$iidiKppiO", names, &c->src,
                                     &c->o.width, &c->o.height, &c->o.zoom,
                                     &c->o.scroll, &selected, &chrome, &help,
                                     &c->o.min_block, &c->vars))
        return -1;
    if (c->o.width < 1 || c->o.width > 16384 || c->o.height < 0 ||
        c->o.height > 16384) {
        PyErr_SetString(PyExc_ValueError,
                        "width must be 1..16384 and height 0..16384 pixels");
        return -1;
    }
    if (c->o.zoom <= 0 || c->o.zoom > 1000) {
        PyErr_SetString(PyExc_ValueError, "zoom must be > 0 and <= 1000");
        return -1;
    }
    c->o.selected = selected;
    c->o.chrome = chrome;
    c->o.help = help;
    return 0;
}

/* vars: a mapping name -> int (Pointers convert with __index__). */
static int add_vars(PyObject *vars, hv_viz_state_t *s)
{
    if (vars == NULL || vars == Py_None) return 0;
    PyObject *items = PyMapping_Items(vars);
    if (items == NULL) return -1;
    s->nvars = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *kv = PyList_GET_ITEM(items, i);
        const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kv, 0));
        PyObject *num = name ? PyNumber_Index(PyTuple_GET_ITEM(kv, 1)) : NULL;
        unsigned long long a = num ? PyLong_AsUnsignedLongLongMask(num) : 0;
        Py_XDECREF(num);
        if (name == NULL || num == NULL || PyErr_Occurred()) {
            Py_DECREF(items);
            return -1;
        }
        hv_viz_state_add_var(s, name, a);
    }
    Py_DECREF(items);
    return 0;
}

/* The state for src; 0 or -1 with an exception. */
static int fill_state(PyObject *module, call_t *c, hv_viz_state_t *s)
{
    int r;
    if (PyCapsule_CheckExact(c->src))
        r = hv_state_from_capsule(c->src, s);
    else if (PyDict_Check(c->src))
        r = hv_state_from_dict(c->src, s);
    else if ((r = hv_replay_fill(module, c->src, s)) == 0) {
        PyErr_SetString(PyExc_TypeError,
                        "src must be a heap capsule, a Replay or a dict");
        r = -1;
    } else if (r > 0)
        r = 0;
    return r < 0 ? -1 : add_vars(c->vars, s);
}

/* The workspace of one call: the module keeps one (state, scene and
 * canvas arrays reused from call to call, so a notebook redrawing a big
 * heap does not fault in megabytes of fresh pages every time), and a call
 * made while it is in use (Python code run by a conversion calling back
 * into the renderer) gets a private one. */
static viz_work_t *work_take(PyObject *module, viz_work_t *priv)
{
    viz_state_t *st = viz_get_state(module);
    viz_work_t *w = st->work_busy ? priv : &st->work;
    if (w == priv) {
        memset(priv, 0, sizeof *priv);
        hv_viz_state_init(&priv->state);
        hv_viz_scene_init(&priv->scene);
    } else {
        st->work_busy = true;
    }
    return w;
}

static void work_give(PyObject *module, viz_work_t *w)
{
    viz_state_t *st = viz_get_state(module);
    if (w != &st->work) {
        hv_viz_work_free(w);
        return;
    }
    st->work_busy = false;
    /* Keep the arrays, but not a huge canvas or heap for ever. */
    if (w->canvas && (size_t)w->canvas->pitch * (size_t)w->canvas->h > (48u << 20)) {
        SDL_FreeSurface(w->canvas);
        w->canvas = NULL;
    }
    if (w->state.cap_blocks > 1000000) {
        hv_viz_state_free(&w->state);
        hv_viz_scene_free(&w->scene);
    }
}

void hv_viz_work_free(viz_work_t *w)
{
    SDL_FreeSurface(w->canvas);
    w->canvas = NULL;
    hv_viz_state_free(&w->state);
    hv_viz_scene_free(&w->scene);
}

static int build_scene(PyObject *module, PyObject *args, PyObject *kw,
                       viz_work_t *w)
{
    call_t c;
    if (parse_call(args, kw, &c) < 0) return -1;
    hv_viz_state_t *s = &w->state;
    hv_viz_state_reset(s);
    int r = fill_state(module, &c, s);
    if (r == 0 && !hv_viz_layout(s, &c.o, &w->scene)) {
        PyErr_NoMemory();
        r = -1;
    }
    return r;
}

/* Lay out and draw into w->canvas; 0 or -1 with an exception. */
static int draw_call(PyObject *module, PyObject *args, PyObject *kw,
                     viz_work_t *w)
{
    hv_font_t *f = get_font(module);
    if (f == NULL || build_scene(module, args, kw, w) < 0) return -1;
    const hv_viz_scene_t *sc = &w->scene;
    if (w->canvas == NULL || w->canvas->w != sc->width || w->canvas->h != sc->height) {
        char err[256];
        SDL_FreeSurface(w->canvas);
        w->canvas = hv_surface_new(sc->width, sc->height, err, sizeof err);
        if (w->canvas == NULL) {
            PyErr_SetString(PyExc_RuntimeError, err);
            return -1;
        }
    }
    hv_viz_draw(sc, f, w->canvas);
    return 0;
}

PyDoc_STRVAR(render_doc,
             "render(src, *, width=1200, height=0, zoom=1.0, scroll=0, "
             "selected=0, chrome=False, help=False, min_block=0, vars=None)"
             " -> bytes\n\nThe picture of src as PNG bytes (height 0: as tall "
             "as the content).");

static PyObject *viz_render(PyObject *module, PyObject *args, PyObject *kw)
{
    viz_work_t priv, *w = work_take(module, &priv);
    PyObject *out = NULL;
    if (draw_call(module, args, kw, w) == 0) {
        uint8_t *png = NULL;
        size_t len = 0;
        char err[256];
        if (hv_png_encode(w->canvas, &png, &len, err, sizeof err))
            out = PyBytes_FromStringAndSize((const char *)png, (Py_ssize_t)len);
        else
            PyErr_SetString(PyExc_RuntimeError, err);
        SDL_free(png);
    }
    work_give(module, w);
    return out;
}

PyDoc_STRVAR(pixels_doc,
             "pixels(src, **opts) -> (width, height, bytes)\n\nThe picture as "
             "raw 32-bit pixels, B G R X in memory order (Pillow: 'BGRX').");

static PyObject *viz_pixels(PyObject *module, PyObject *args, PyObject *kw)
{
    viz_work_t priv, *w = work_take(module, &priv);
    PyObject *out = NULL;
    if (draw_call(module, args, kw, w) == 0) {
        SDL_Surface *surf = w->canvas;
        PyObject *data =
            PyBytes_FromStringAndSize(NULL, (Py_ssize_t)surf->w * 4 * surf->h);
        if (data != NULL) {
            char *dst = PyBytes_AS_STRING(data);
            for (int y = 0; y < surf->h; y++)
                memcpy(dst + (size_t)y * surf->w * 4,
                       (const char *)surf->pixels + (size_t)y * surf->pitch,
                       (size_t)surf->w * 4);
            out = Py_BuildValue("iiN", surf->w, surf->h, data);
        }
    }
    work_give(module, w);
    return out;
}

/* ---- the scene as Python data --------------------------------------------- */
static PyObject *item_dict(const hv_viz_scene_t *sc, const hv_viz_item_t *it)
{
    static const char *const kinds[] = {"rect", "box",   "hatch",
                                        "line", "arrow", "text"};
    static const char *const styles[] = {"solid", "dotted", "jagged", "thick"};
    char color[8];
    snprintf(color, sizeof color, "#%06X", it->color & 0xFFFFFF);
    PyObject *d = Py_BuildValue(
        "{s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:K}", "kind",
        kinds[it->kind % HV_ITEM_KIND_COUNT], "role",
        hv_viz_role_name((hv_viz_role_t)it->role), "color", color, "x", it->x,
        "y", it->y, "w", it->w, "h", it->h, "addr",
        (unsigned long long)it->addr);
    if (d == NULL) return NULL;
    PyObject *v = NULL;
    int rc = 0;
    if (it->kind == HV_ITEM_TEXT) {
        v = Py_BuildValue("{s:s,s:O,s:O,s:O}", "text", hv_viz_item_text(sc, it),
                          "small", (it->style & HV_TEXT_SMALL) ? Py_True : Py_False,
                          "bold", (it->style & HV_TEXT_BOLD) ? Py_True : Py_False,
                          "right", (it->style & HV_TEXT_RIGHT) ? Py_True : Py_False);
    } else if (it->kind == HV_ITEM_BOX) {
        v = Py_BuildValue("{s:s}", "style", styles[it->style & 3]);
    } else if (it->kind == HV_ITEM_ARROW) {
        v = Py_BuildValue("{s:i}", "bend", it->bend);
    }
    if (v != NULL) {
        rc = PyDict_Update(d, v);
        Py_DECREF(v);
    } else if (PyErr_Occurred()) {
        rc = -1;
    }
    if (rc == 0 && (it->style & HV_STYLE_SCROLL))
        rc = PyDict_SetItemString(d, "scroll", Py_True);
    if (rc < 0) Py_CLEAR(d);
    return d;
}

PyDoc_STRVAR(scene_doc,
             "scene(src, **opts) -> dict\n\nThe scene the pictures are drawn "
             "from: width, height, background, items (dicts with kind, role, "
             "color, x, y, w, h, addr and kind-specific keys), clip (the "
             "scrolling area's y0, y1).");

static PyObject *viz_scene(PyObject *module, PyObject *args, PyObject *kw)
{
    viz_work_t priv, *w = work_take(module, &priv);
    const hv_viz_scene_t *sc = &w->scene;
    PyObject *out = NULL, *items = NULL;
    if (build_scene(module, args, kw, w) < 0) goto done;
    items = PyList_New((Py_ssize_t)sc->nitems);
    if (items == NULL) goto done;
    for (size_t i = 0; i < sc->nitems; i++) {
        PyObject *d = item_dict(sc, &sc->items[i]);
        if (d == NULL) goto done;
        PyList_SET_ITEM(items, (Py_ssize_t)i, d);
    }
    char bg[8];
    snprintf(bg, sizeof bg, "#%06X", sc->background & 0xFFFFFF);
    out = Py_BuildValue("{s:i,s:i,s:s,s:O,s:(ii)}", "width", sc->width, "height",
                        sc->height, "background", bg, "items", items, "clip",
                        sc->heap_clip_y0, sc->heap_clip_y1);
done:
    Py_XDECREF(items);
    work_give(module, w);
    return out;
}

PyDoc_STRVAR(hit_doc,
             "hit(src, x, y, **opts) -> int\n\nThe block (its start address) drawn "
             "at pixel (x, y) of src's scene laid out with opts, as the window's "
             "click finds it (hv_viz_hit); 0 when none.");

static PyObject *viz_hit(PyObject *module, PyObject *args, PyObject *kw)
{
    int x, y;
    if (PyTuple_GET_SIZE(args) != 3) {
        PyErr_SetString(PyExc_TypeError, "hit(src, x, y, **opts) takes 3 positional "
                                         "arguments");
        return NULL;
    }
    PyObject *xy = PyTuple_GetSlice(args, 1, 3);
    int ok = xy != NULL && PyArg_ParseTuple(xy, "ii", &x, &y);
    Py_XDECREF(xy);
    if (!ok) return NULL;
    PyObject *src = PyTuple_Pack(1, PyTuple_GET_ITEM(args, 0));
    if (src == NULL) return NULL;
    viz_work_t priv, *w = work_take(module, &priv);
    PyObject *out = NULL;
    if (build_scene(module, src, kw, w) == 0)
        out = PyLong_FromUnsignedLongLong(hv_viz_hit(&w->scene, x, y));
    work_give(module, w);
    Py_DECREF(src);
    return out;
}

PyDoc_STRVAR(legend_doc, "legend() -> [(role, '#RRGGBB', label)]: the one "
                         "legend of every output.");

static PyObject *viz_legend(PyObject *module, PyObject *unused)
{
    (void)module, (void)unused;
    PyObject *out = PyList_New(0);
    for (int r = HV_ROLE_PAYLOAD; out && r < HV_ROLE_COUNT; r++) {
        char c[8];
        snprintf(c, sizeof c, "#%06X", hv_viz_role_color((hv_viz_role_t)r));
        PyObject *t = Py_BuildValue("(sss)", hv_viz_role_name((hv_viz_role_t)r),
                                    c, hv_viz_role_label((hv_viz_role_t)r));
        if (t == NULL || PyList_Append(out, t) < 0) Py_CLEAR(out);
        Py_XDECREF(t);
    }
    return out;
}

PyDoc_STRVAR(font_path_doc, "font_path() -> str: the .ttf file in use.");

static PyObject *viz_font_path(PyObject *module, PyObject *unused)
{
    (void)unused;
    hv_font_t *f = get_font(module);
    return f ? PyUnicode_DecodeFSDefault(hv_font_path(f)) : NULL;
}

PyDoc_STRVAR(versions_doc, "versions() -> dict: SDL2, SDL2_ttf and libpng "
                           "versions and the font file (pixels depend on them).");

static PyObject *viz_versions(PyObject *module, PyObject *unused)
{
    (void)unused;
    SDL_version sdl;
    SDL_GetVersion(&sdl);
    const SDL_version *ttf = TTF_Linked_Version();
    hv_font_t *f = get_font(module);
    if (f == NULL) return NULL;
    return Py_BuildValue("{s:(iii),s:(iii),s:s,s:s}", "sdl", sdl.major,
                         sdl.minor, sdl.patch, "ttf", ttf->major, ttf->minor,
                         ttf->patch, "png", hv_png_version(), "font",
                         hv_font_path(f));
}

PyDoc_STRVAR(history_doc,
             "history_bytes(capsule, first, count) -> bytes\n\nRaw 56-byte "
             "hv_event_t records of the history, [first, first+count) clipped "
             "to what is kept (the viewer asks for what it missed).");

static PyObject *viz_history_bytes(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *cap;
    unsigned long long first, count;
    if (!PyArg_ParseTuple(args, "OKK", &cap, &first, &count)) return NULL;
    const hv_heap_t *h = PyCapsule_GetPointer(cap, HV_CAPSULE_NAME);
    if (h == NULL) return NULL;
    uint64_t lo = hv_history_first(h), hi = hv_history_count(h);
    if (first < lo) first = lo;
    if (count > 1u << 20) count = 1u << 20; /* one reply is at most 56 MiB */
    uint64_t end = first + count > hi ? hi : first + count;
    if (end < first) end = first;
    PyObject *out = PyBytes_FromStringAndSize(
        NULL, (Py_ssize_t)((end - first) * sizeof(hv_event_t)));
    if (out == NULL) return NULL;
    hv_event_t *ev = (hv_event_t *)PyBytes_AS_STRING(out);
    for (uint64_t s = first; s < end; s++)
        if (!hv_history_get(h, s, &ev[s - first])) memset(&ev[s - first], 0, sizeof *ev);
    return out;
}

PyDoc_STRVAR(moment_doc,
             "moment(src) -> dict\n\nThe heap at one moment (src: a heap capsule, "
             "now, or a Replay) as the records of what the pictures draw: blocks "
             "(block tuples), marks, free_lists, stats, frames, brk, rover, op, ops, "
             "error, log (viz/py_moment.c).");

PyDoc_STRVAR(run_viewer_doc,
             "run_viewer(fd, ctl_fd, *, step=False, width=1280, height=800, "
             "frames=0, screenshot_dir='.') -> int\n\nThe live window: map the "
             "arena behind fd read-only, follow it, talk to the script over "
             "ctl_fd.  Runs until the window closes (or after `frames` frames "
             "when nonzero, for tests); must run on the main thread.");

static PyMethodDef viz_methods[] = {
    {"render", (PyCFunction)(void (*)(void))viz_render,
     METH_VARARGS | METH_KEYWORDS, render_doc},
    {"pixels", (PyCFunction)(void (*)(void))viz_pixels,
     METH_VARARGS | METH_KEYWORDS, pixels_doc},
    {"scene", (PyCFunction)(void (*)(void))viz_scene,
     METH_VARARGS | METH_KEYWORDS, scene_doc},
    {"hit", (PyCFunction)(void (*)(void))viz_hit, METH_VARARGS | METH_KEYWORDS,
     hit_doc},
    {"legend", viz_legend, METH_NOARGS, legend_doc},
    {"font_path", viz_font_path, METH_NOARGS, font_path_doc},
    {"versions", viz_versions, METH_NOARGS, versions_doc},
    {"history_bytes", viz_history_bytes, METH_VARARGS, history_doc},
    {"moment", hv_py_moment, METH_O, moment_doc},
    {"run_viewer", (PyCFunction)(void (*)(void))hv_py_run_viewer,
     METH_VARARGS | METH_KEYWORDS, run_viewer_doc},
    {NULL, NULL, 0, NULL},
};

static int viz_traverse(PyObject *m, visitproc visit, void *arg)
{
    Py_VISIT(viz_get_state(m)->replay_type);
    return 0;
}

static int viz_clear(PyObject *m)
{
    Py_CLEAR(viz_get_state(m)->replay_type);
    return 0;
}

static void viz_free(void *m)
{
    viz_state_t *st = viz_get_state((PyObject *)m);
    viz_clear((PyObject *)m);
    hv_viz_work_free(&st->work);
    hv_font_close(st->font);
    st->font = NULL;
}

static int viz_exec(PyObject *m)
{
    viz_state_t *st = viz_get_state(m);
    hv_viz_state_init(&st->work.state);
    hv_viz_scene_init(&st->work.scene);
    st->replay_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &hv_replay_spec, NULL);
    if (st->replay_type == NULL) return -1;
    if (PyModule_AddObjectRef(m, "Replay", (PyObject *)st->replay_type) < 0 ||
        hv_py_moment_exec(m) < 0)
        return -1;
    return PyModule_AddIntConstant(m, "EVENT_SIZE", (long)sizeof(hv_event_t));
}

static PyModuleDef_Slot viz_slots[] = {
    {Py_mod_exec, viz_exec},
    {0, NULL},
};

static struct PyModuleDef viz_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "heapviz._viz",
    .m_doc = "heapviz's SDL2 renderer: heap -> scene -> pixels, and the live "
             "window.",
    .m_size = sizeof(viz_state_t),
    .m_methods = viz_methods,
    .m_slots = viz_slots,
    .m_traverse = viz_traverse,
    .m_clear = viz_clear,
    .m_free = viz_free,
};

PyMODINIT_FUNC PyInit__viz(void) { return PyModuleDef_Init(&viz_module); }

/* py_state.c — states for the module: from a live heap in this process,
 * or from a dict (synthetic heaps for tests and notebooks).
 */
#include "py_viz.h"

#include <string.h>

/* ---- a live heap ------------------------------------------------------------ */
static bool history_get(void *arg, uint64_t seq, hv_event_t *out)
{
    return hv_history_get((const hv_heap_t *)arg, seq, out);
}

void hv_events_from_heap(const hv_heap_t *h, hv_viz_events_t *src)
{
    src->get = history_get;
    src->arg = (void *)h;
    src->first = hv_history_first(h);
    src->count = hv_history_count(h);
    src->sites = h;
}

int hv_state_from_capsule(PyObject *cap, hv_viz_state_t *s)
{
    const hv_heap_t *h = PyCapsule_GetPointer(cap, HV_CAPSULE_NAME);
    if (h == NULL) return -1;
    hv_viz_track_t *t = hv_viz_track_new();
    if (t == NULL || !hv_viz_state_from_heap(s, h)) {
        hv_viz_track_free(t);
        PyErr_NoMemory();
        return -1;
    }
    /* Marks and the log come from the history: old events only for the
     * leak and error marks, the last few for the log. */
    hv_viz_events_t src;
    hv_events_from_heap(h, &src);
    uint64_t loud = src.count > 64 ? src.count - 64 : 0;
    hv_event_t ev;
    for (uint64_t q = src.first; q < src.count; q++) {
        if (!src.get(src.arg, q, &ev)) continue;
        hv_viz_track_quiet(t, q < loud);
        hv_viz_track_event(t, h, &ev);
    }
    hv_viz_track_apply(t, s);
    hv_viz_track_free(t);
    s->ops_total = s->op;
    return 0;
}

/* ---- a dict ------------------------------------------------------------------- */
static int get_u64(PyObject *d, const char *key, uint64_t *out)
{
    PyObject *v = PyDict_GetItemString(d, key); /* borrowed */
    if (v == NULL) return 0;
    PyObject *n = PyNumber_Index(v);
    if (n == NULL) return -1;
    *out = PyLong_AsUnsignedLongLongMask(n);
    Py_DECREF(n);
    return PyErr_Occurred() ? -1 : 1;
}

static int get_f(PyObject *d, const char *key, double *out)
{
    PyObject *v = PyDict_GetItemString(d, key);
    if (v == NULL) return 0;
    *out = PyFloat_AsDouble(v);
    return PyErr_Occurred() ? -1 : 1;
}

static int get_str(PyObject *d, const char *key, const char **out)
{
    PyObject *v = PyDict_GetItemString(d, key);
    if (v == NULL) return 0;
    *out = PyUnicode_AsUTF8(v);
    return *out ? 1 : -1;
}

/* A name such as "first" -> its enum value via the core's name table. */
static int get_enum(PyObject *d, const char *key, int count,
                    const char *(*name)(int), int *out)
{
    const char *s;
    int r = get_str(d, key, &s);
    if (r <= 0) return r;
    for (int i = 0; i < count; i++)
        if (strcmp(name(i), s) == 0) return *out = i, 1;
    PyErr_Format(PyExc_ValueError, "unknown %s %R", key,
                 PyDict_GetItemString(d, key));
    return -1;
}

static const char *policy_name(int i) { return hv_policy_name((hv_policy_t)i); }
static const char *order_name(int i) { return hv_order_name((hv_order_t)i); }
static const char *coal_name(int i) { return hv_coalesce_name((hv_coalesce_t)i); }
static const char *bstate_name(int i)
{
    return hv_block_state_name((hv_block_state_t)i);
}

static int dict_config(PyObject *d, hv_viz_state_t *s)
{
    hv_config_default(&s->cfg);
    int p = 0, o = 0, c = 0;
    uint64_t v;
    if (get_enum(d, "policy", HV_POLICY_COUNT, policy_name, &p) < 0 ||
        get_enum(d, "order", HV_ORDER_COUNT, order_name, &o) < 0 ||
        get_enum(d, "coalesce", HV_COALESCE_COUNT, coal_name, &c) < 0)
        return -1;
    s->cfg.policy = (hv_policy_t)p;
    s->cfg.order = (hv_order_t)o;
    s->cfg.coalesce = (hv_coalesce_t)c;
    hv_layout_t *l = &s->layout;
    memset(l, 0, sizeof *l);
    l->align = 16, l->header_size = 8, l->footer_size = 8, l->page_size = 4096;
    l->heap_base = 0x10000;
    struct { const char *k; void *p; int w; } f[] = {
        {"align", &s->cfg.align, 4},       {"max_size", &s->cfg.max_size, 8},
        {"header_size", &l->header_size, 4}, {"footer_size", &l->footer_size, 4},
        {"heap_base", &l->heap_base, 8},   {"brk", &s->brk, 8},
        {"rover", &s->rover, 8},           {"op", &s->op, 8},
        {"ops_total", &s->ops_total, 8},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        int r = get_u64(d, f[i].k, &v);
        if (r < 0) return -1;
        if (r == 0) continue;
        if (f[i].w == 4) *(uint32_t *)f[i].p = (uint32_t)v;
        else *(uint64_t *)f[i].p = v;
    }
    s->cfg.align = s->cfg.align ? s->cfg.align : l->align;
    s->cfg.footer = l->footer_size > 0;
    return 0;
}

static int dict_block(PyObject *bd, hv_viz_state_t *s)
{
    hv_block_t b;
    memset(&b, 0, sizeof b);
    b.list = -1;
    int st = 0;
    uint64_t v, marks = 0;
    if (!PyDict_Check(bd)) {
        PyErr_SetString(PyExc_TypeError, "blocks must be dicts");
        return -1;
    }
    if (get_u64(bd, "addr", &b.addr) <= 0 || get_u64(bd, "size", &b.size) <= 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "a block needs addr and size");
        return -1;
    }
    if (get_enum(bd, "state", 6, bstate_name, &st) < 0) return -1;
    b.state = (hv_block_state_t)st;
    b.has_footer = s->cfg.footer;
    b.payload = b.addr + s->layout.header_size;
    b.payload_size = b.size - s->layout.header_size - (b.has_footer ? s->layout.footer_size : 0);
    if (b.state == HV_BLOCK_MAPPING || b.state == HV_BLOCK_STACK)
        b.payload = b.addr, b.payload_size = b.size;
    if (get_u64(bd, "payload", &b.payload) < 0 ||
        get_u64(bd, "requested", &b.requested) < 0 ||
        get_u64(bd, "marks", &marks) < 0)
        return -1;
    if (get_u64(bd, "seq", &v) > 0) b.seq = v;
    if (!PyDict_GetItemString(bd, "requested") && b.state == HV_BLOCK_ALLOCATED)
        b.requested = b.payload_size;
    if (!hv_viz_state_add_block(s, &b, (uint8_t)marks)) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static int dict_seq(PyObject *d, const char *key, PyObject **out)
{
    PyObject *v = PyDict_GetItemString(d, key);
    *out = NULL;
    if (v == NULL) return 0;
    *out = PySequence_Fast(v, key);
    return *out ? 1 : -1;
}

static int dict_blocks(PyObject *d, hv_viz_state_t *s)
{
    PyObject *seq;
    int r = dict_seq(d, "blocks", &seq);
    for (Py_ssize_t i = 0; r > 0 && i < PySequence_Fast_GET_SIZE(seq); i++)
        if (dict_block(PySequence_Fast_GET_ITEM(seq, i), s) < 0) r = -1;
    Py_XDECREF(seq);
    return r < 0 ? -1 : 0;
}

static int dict_lists(PyObject *d, hv_viz_state_t *s)
{
    PyObject *seq;
    int r = dict_seq(d, "free_lists", &seq);
    for (Py_ssize_t i = 0; r > 0 && i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *l = PySequence_Fast(PySequence_Fast_GET_ITEM(seq, i), "list");
        if (l == NULL || !hv_viz_state_add_list(s, 0, UINT64_MAX)) r = -1;
        for (Py_ssize_t j = 0; r > 0 && j < PySequence_Fast_GET_SIZE(l); j++) {
            unsigned long long a =
                PyLong_AsUnsignedLongLongMask(PySequence_Fast_GET_ITEM(l, j));
            if (PyErr_Occurred() || !hv_viz_state_add_list_member(s, a)) r = -1;
        }
        Py_XDECREF(l);
    }
    Py_XDECREF(seq);
    return r < 0 ? -1 : 0;
}

static int dict_pairs(PyObject *d, const char *key, hv_viz_state_t *s)
{
    PyObject *seq;
    int r = dict_seq(d, key, &seq);
    for (Py_ssize_t i = 0; r > 0 && i < PySequence_Fast_GET_SIZE(seq); i++) {
        unsigned long long a, n;
        const char *name;
        PyObject *t = PySequence_Fast_GET_ITEM(seq, i);
        if (key[0] == 'u') {
            if (!PyArg_ParseTuple(t, "KK", &a, &n) ||
                !hv_viz_state_add_uninit(s, a, n))
                r = -1;
        } else if (!PyArg_ParseTuple(t, "sKK", &name, &a, &n)) {
            r = -1;
        } else if (s->nframes < HV_VIZ_MAX_FRAMES) {
            hv_viz_frame_t *f = &s->frames[s->nframes++];
            snprintf(f->name, sizeof f->name, "%s", name);
            f->lo = a, f->hi = n;
        }
    }
    Py_XDECREF(seq);
    return r < 0 ? -1 : 0;
}

static int dict_stats(PyObject *d, hv_viz_state_t *s)
{
    PyObject *st = PyDict_GetItemString(d, "stats");
    if (st == NULL) return 0;
    struct { const char *k; uint64_t *p; } u[] = {
        {"heap_size", &s->stats.heap_size}, {"brk_size", &s->stats.brk_size},
        {"mmapped", &s->stats.mmapped},     {"in_use", &s->stats.in_use},
        {"payload", &s->stats.payload},     {"free_bytes", &s->stats.free_bytes},
        {"largest_free", &s->stats.largest_free},
        {"free_blocks", &s->stats.free_blocks},
        {"alloc_blocks", &s->stats.alloc_blocks}, {"n_malloc", &s->stats.n_malloc},
        {"n_free", &s->stats.n_free},       {"n_split", &s->stats.n_split},
        {"n_coalesce", &s->stats.n_coalesce}, {"n_errors", &s->stats.n_errors},
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        if (get_u64(st, u[i].k, u[i].p) < 0) return -1;
    if (get_f(st, "utilization", &s->stats.utilization) < 0 ||
        get_f(st, "frag_internal", &s->stats.frag_internal) < 0 ||
        get_f(st, "frag_external", &s->stats.frag_external) < 0)
        return -1;
    return 0;
}

static int dict_text(PyObject *d, hv_viz_state_t *s)
{
    PyObject *seq;
    const char *t;
    int r = dict_seq(d, "log", &seq);
    for (Py_ssize_t i = 0; r > 0 && i < PySequence_Fast_GET_SIZE(seq); i++) {
        const char *line = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
        if (line == NULL) r = -1;
        else hv_viz_state_add_log(s, line);
    }
    Py_XDECREF(seq);
    if (r < 0) return -1;
    if ((r = get_str(d, "error", &t)) < 0) return -1;
    if (r > 0) {
        s->has_error = true;
        snprintf(s->error_text, sizeof s->error_text, "%s", t);
        if (get_u64(d, "error_addr", &s->error_addr) < 0 ||
            get_u64(d, "error_size", &s->error_size) < 0)
            return -1;
    }
    if ((r = get_str(d, "notice", &t)) < 0) return -1;
    if (r > 0) snprintf(s->notice, sizeof s->notice, "%s", t);
    return 0;
}

int hv_state_from_dict(PyObject *d, hv_viz_state_t *s)
{
    hv_viz_state_clear(s);
    if (dict_config(d, s) < 0 || dict_blocks(d, s) < 0 || dict_lists(d, s) < 0 ||
        dict_pairs(d, "uninit", s) < 0 || dict_pairs(d, "frames", s) < 0 ||
        dict_stats(d, s) < 0 || dict_text(d, s) < 0)
        return -1;
    PyObject *vars = PyDict_GetItemString(d, "vars");
    if (vars && vars != Py_None) {
        PyObject *items = PyMapping_Items(vars);
        if (items == NULL) return -1;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
            PyObject *kv = PyList_GET_ITEM(items, i);
            const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kv, 0));
            unsigned long long a = PyLong_AsUnsignedLongLongMask(PyTuple_GET_ITEM(kv, 1));
            if (name == NULL || PyErr_Occurred()) {
                Py_DECREF(items);
                return -1;
            }
            hv_viz_state_add_var(s, name, a);
        }
        Py_DECREF(items);
    }
    if (s->brk == 0 && s->nblocks) { /* default: the end of the last block */
        for (size_t i = 0; i < s->nblocks; i++)
            if (s->blocks[i].state <= HV_BLOCK_FREE || s->blocks[i].state == HV_BLOCK_SBRK)
                s->brk = s->blocks[i].addr + s->blocks[i].size;
    }
    if (s->cfg.max_size == 0) s->cfg.max_size = 64u << 20;
    return 0;
}

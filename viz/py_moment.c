/* py_moment.c — the heap at one moment, as Python data.
 *
 *   moment(src) -> dict      src: a heap capsule (now) or a Replay (then)
 *
 * The records of exactly the state the pictures draw (hv_viz_state_t), so
 * the notebook's hover records, a recording's past states and the tests
 * that compare a heap with its replay all read one thing:
 *
 *   blocks      [block tuple]  the binding's format (heapobj.c block_tuple,
 *                              read by heapviz.records.block_from_tuple)
 *   marks       [int]          HV_MARK_* of each block (bit i: MARKS[i])
 *   free_lists  [(lo, hi, [block address])]  in list order
 *   stats       {name: number} the binding's _stats() keys
 *   frames      [(name, lo, hi)]  read from the heap (the state keeps 32)
 *   brk, rover, op, ops        the break, next fit's rover, op of ops
 *   error       None, or (kind, addr, size, text): the last memory error
 *   log         [str]          the event log's last lines
 */
#include "py_viz.h"

PyObject *hv_py_block_tuple(const hv_block_t *b)
{
    return Py_BuildValue(
        "(KKKKKiIIIiiKIIIiKK)", (unsigned long long)b->addr,
        (unsigned long long)b->size, (unsigned long long)b->payload,
        (unsigned long long)b->payload_size, (unsigned long long)b->requested,
        (int)b->state, (unsigned)b->header, (unsigned)b->footer,
        (unsigned)b->magic, (int)b->prev_alloc, (int)b->has_footer,
        (unsigned long long)b->seq, (unsigned)b->site, (unsigned)b->free_site,
        (unsigned)b->gen, (int)b->list, (unsigned long long)b->next_free,
        (unsigned long long)b->prev_free);
}

PyObject *hv_py_stats_dict(const hv_stats_t *s)
{
    return Py_BuildValue(
        "{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:d,s:d,s:d,s:K,s:K,s:K,"
        "s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K}",
        "heap_size", (unsigned long long)s->heap_size, "brk_size",
        (unsigned long long)s->brk_size, "mmapped",
        (unsigned long long)s->mmapped, "in_use", (unsigned long long)s->in_use,
        "payload", (unsigned long long)s->payload, "peak_payload",
        (unsigned long long)s->peak_payload, "free_bytes",
        (unsigned long long)s->free_bytes, "largest_free",
        (unsigned long long)s->largest_free, "free_blocks",
        (unsigned long long)s->free_blocks, "alloc_blocks",
        (unsigned long long)s->alloc_blocks, "utilization", s->utilization,
        "frag_internal", s->frag_internal, "frag_external", s->frag_external,
        "n_malloc", (unsigned long long)s->n_malloc, "n_calloc",
        (unsigned long long)s->n_calloc, "n_realloc",
        (unsigned long long)s->n_realloc, "n_free",
        (unsigned long long)s->n_free, "n_failed",
        (unsigned long long)s->n_failed, "n_split",
        (unsigned long long)s->n_split, "n_coalesce",
        (unsigned long long)s->n_coalesce, "n_grow",
        (unsigned long long)s->n_grow, "n_mmap", (unsigned long long)s->n_mmap,
        "n_munmap", (unsigned long long)s->n_munmap, "n_errors",
        (unsigned long long)s->n_errors, "ops", (unsigned long long)s->ops);
}

/* Append a new reference (NULL: an error already set) to a list. */
static int append_new(PyObject *list, PyObject *item)
{
    if (item == NULL) return -1;
    int rc = PyList_Append(list, item);
    Py_DECREF(item);
    return rc;
}

static PyObject *blocks_list(const hv_viz_state_t *s)
{
    PyObject *out = PyList_New(0);
    for (size_t i = 0; out && i < s->nblocks; i++)
        if (append_new(out, hv_py_block_tuple(&s->blocks[i])) < 0)
            Py_CLEAR(out);
    return out;
}

static PyObject *marks_list(const hv_viz_state_t *s)
{
    PyObject *out = PyList_New(0);
    for (size_t i = 0; out && i < s->nblocks; i++)
        if (append_new(out, PyLong_FromLong(s->marks[i])) < 0) Py_CLEAR(out);
    return out;
}

static PyObject *lists_list(const hv_viz_state_t *s)
{
    PyObject *out = PyList_New(0);
    for (int i = 0; out && i < s->nlists; i++) {
        PyObject *members = PyList_New(0);
        for (uint32_t j = s->list_start[i]; members && j < s->list_start[i + 1];
             j++)
            if (append_new(members,
                           PyLong_FromUnsignedLongLong(s->list_addr[j])) < 0)
                Py_CLEAR(members);
        PyObject *t =
            members ? Py_BuildValue("(KKN)", (unsigned long long)s->list_lo[i],
                                    (unsigned long long)s->list_hi[i], members)
                    : NULL;
        if (append_new(out, t) < 0) Py_CLEAR(out);
    }
    return out;
}

static PyObject *frames_list(const hv_heap_t *h)
{
    PyObject *out = PyList_New(0);
    uint32_t n = hv_frame_depth(h);
    for (uint32_t i = 0; out && i < n; i++) {
        const char *name;
        hv_addr_t lo, hi;
        if (!hv_frame_get(h, i, &name, &lo, &hi)) continue;
        PyObject *t =
            Py_BuildValue("(sKK)", name ? name : "?", (unsigned long long)lo,
                          (unsigned long long)hi);
        if (append_new(out, t) < 0) Py_CLEAR(out);
    }
    return out;
}

static PyObject *log_list(const hv_viz_state_t *s)
{
    PyObject *out = PyList_New(0);
    for (int i = 0; out && i < s->nlog; i++)
        if (append_new(out, PyUnicode_DecodeUTF8(s->log[i],
                                                 (Py_ssize_t)strlen(s->log[i]),
                                                 "replace")) < 0)
            Py_CLEAR(out);
    return out;
}

static PyObject *error_of(const hv_viz_state_t *s)
{
    if (!s->has_error) Py_RETURN_NONE;
    return Py_BuildValue(
        "(IKKN)", (unsigned)s->error_kind, (unsigned long long)s->error_addr,
        (unsigned long long)s->error_size,
        PyUnicode_DecodeUTF8(s->error_text, (Py_ssize_t)strlen(s->error_text),
                             "replace"));
}

static PyObject *moment_dict(const hv_viz_state_t *s, const hv_heap_t *h)
{
    return Py_BuildValue(
        "{s:N,s:N,s:N,s:N,s:N,s:K,s:K,s:K,s:K,s:N,s:N}", "blocks",
        blocks_list(s), "marks", marks_list(s), "free_lists", lists_list(s),
        "stats", hv_py_stats_dict(&s->stats), "frames", frames_list(h), "brk",
        (unsigned long long)s->brk, "rover", (unsigned long long)s->rover, "op",
        (unsigned long long)s->op, "ops", (unsigned long long)s->ops_total,
        "error", error_of(s), "log", log_list(s));
}

PyObject *hv_py_moment(PyObject *module, PyObject *src)
{
    const hv_heap_t *h = PyCapsule_CheckExact(src)
                             ? PyCapsule_GetPointer(src, HV_CAPSULE_NAME)
                             : hv_replay_heap_of(module, src);
    if (h == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError,
                            "moment(src): src must be a heap capsule or a "
                            "Replay");
        return NULL;
    }
    hv_viz_state_t s;
    hv_viz_state_init(&s);
    PyObject *out = NULL;
    int r = PyCapsule_CheckExact(src) ? hv_state_from_capsule(src, &s)
                                      : hv_replay_fill(module, src, &s);
    if (r >= 0) out = moment_dict(&s, h);
    hv_viz_state_free(&s);
    return out;
}

/* MARKS: the names of the HV_MARK_* bits, bit i named MARKS[i] (Python
 * reads them here rather than copying the numbers). */
_Static_assert(HV_MARK_JUST_FREED == 1u << 0 && HV_MARK_LEAKED == 1u << 1 &&
                   HV_MARK_CORRUPT == 1u << 2 && HV_MARK_ERROR == 1u << 3 &&
                   HV_MARK_NEW == 1u << 4,
               "MARKS names the bits in order");

int hv_py_moment_exec(PyObject *module)
{
    PyObject *names = Py_BuildValue("(sssss)", "just_freed", "leaked",
                                    "corrupt", "error", "new");
    int rc = names ? PyModule_AddObjectRef(module, "MARKS", names) : -1;
    Py_XDECREF(names);
    return rc;
}

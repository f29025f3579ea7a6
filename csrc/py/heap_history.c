/* heap_history.c — the recorded history and the lines it points to.
 *
 * Owns the questions about the past: single events and slices of the
 * history (as raw tuples or as Event records built in C), its extent,
 * events the Python layer records itself (notes, errors), the call sites
 * (the student's file:line of each operation, interned in the arena), and
 * the two switches on recording: the step hook called after each
 * operation, and recording on/off.
 */
#include "binding.h"

/* [lo, hi) of the history slices. */
static int slice_args(const char *sig, const char *fn, PyObject *const *args,
                      Py_ssize_t nargs, uint64_t *lo, uint64_t *hi)
{
    return hvpy_nargs(sig, nargs, 2) < 0 ||
                   hvpy_u64_arg(args[0], fn, "start", lo) < 0 ||
                   hvpy_u64_arg(args[1], fn, "stop", hi) < 0
               ? -1
               : 0;
}

/* The events [lo, hi) that the history still keeps, as records or tuples. */
static PyObject *events_between(HeapObject *self, uint64_t lo, uint64_t hi,
                                int records)
{
    uint64_t first = hv_history_first(self->h);
    uint64_t count = hv_history_count(self->h);
    lo = lo < first ? first : lo;
    hi = hi > count ? count : hi;
    PyObject *out = PyList_New(hi > lo ? (Py_ssize_t)(hi - lo) : 0);
    Py_ssize_t n = 0;
    hv_event_t e;
    for (uint64_t s = lo; out != NULL && s < hi; s++) {
        if (!hv_history_get(self->h, s, &e)) continue;
        PyObject *item =
            records ? hvpy_event_record(self, &e) : hvpy_event_tuple(&e);
        if (item == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, n++, item);
    }
    /* the history may have holes only if it is changed under us */
    if (out != NULL && n < PyList_GET_SIZE(out) &&
        PyList_SetSlice(out, n, PyList_GET_SIZE(out), NULL) < 0)
        Py_CLEAR(out);
    return out;
}

PyDoc_STRVAR(event_records_doc,
             "_event_records(start: int, stop: int) -> list[Event]\n\n"
             "The recorded events with sequence numbers in [start, stop) "
             "that the history\nstill keeps, as heapviz.records.Event built "
             "in C (h.events[a:b] uses it).");

static PyObject *heap_event_records(HeapObject *self, PyObject *const *args,
                                    Py_ssize_t nargs)
{
    uint64_t lo, hi;
    if (!hvpy_heap_alive(self) ||
        slice_args("_event_records(start, stop)", "_event_records", args, nargs,
                   &lo, &hi) < 0)
        return NULL;
    return events_between(self, lo, hi, 1);
}

PyDoc_STRVAR(events_raw_doc,
             "_events(start: int, stop: int) -> list[tuple]\n\n"
             "_event_records() as raw tuples (seq, op, kind, flags, site, "
             "addr, size, a, b).");

static PyObject *heap_events_raw(HeapObject *self, PyObject *const *args,
                                 Py_ssize_t nargs)
{
    uint64_t lo, hi;
    if (!hvpy_heap_alive(self) || slice_args("_events(start, stop)", "_events",
                                             args, nargs, &lo, &hi) < 0)
        return NULL;
    return events_between(self, lo, hi, 0);
}

/* One event by sequence number: found into *e, 0 when not kept. */
static int one_event(HeapObject *self, PyObject *arg, const char *fn,
                     hv_event_t *e)
{
    uint64_t seq;
    if (!hvpy_heap_alive(self) || hvpy_u64_arg(arg, fn, "seq", &seq) < 0)
        return -1;
    return hv_history_get(self->h, seq, e);
}

PyDoc_STRVAR(event_record_doc,
             "_event_record(seq: int) -> Event | None\n\n"
             "Event number seq, or None when the history does not keep it.");

static PyObject *heap_event_record(HeapObject *self, PyObject *arg)
{
    hv_event_t e;
    int found = one_event(self, arg, "_event_record", &e);
    if (found < 0) return NULL;
    return found ? hvpy_event_record(self, &e) : Py_NewRef(Py_None);
}

PyDoc_STRVAR(event_raw_doc, "_event(seq: int) -> tuple | None\n\n"
                            "_event_record() as a raw tuple.");

static PyObject *heap_event_raw(HeapObject *self, PyObject *arg)
{
    hv_event_t e;
    int found = one_event(self, arg, "_event", &e);
    if (found < 0) return NULL;
    return found ? hvpy_event_tuple(&e) : Py_NewRef(Py_None);
}

PyDoc_STRVAR(history_doc,
             "_history() -> tuple[int, int]\n\n"
             "(first, count): the history keeps events [first, count); first "
             "> 0 once\nhistory_limit dropped the oldest.");

static PyObject *heap_history_info(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self)) return NULL;
    return Py_BuildValue("(KK)", (unsigned long long)hv_history_first(self->h),
                         (unsigned long long)hv_history_count(self->h));
}

PyDoc_STRVAR(record_doc,
             "_record(kind, addr, size, a, b, site, flags) -> int\n\n"
             "Record an event the Python layer makes (a note, an error, a "
             "write); returns\nits sequence number.");

static PyObject *heap_record_event(HeapObject *self, PyObject *const *args,
                                   Py_ssize_t nargs)
{
    static const char *const names[7] = {"kind", "addr", "size", "a",
                                         "b",    "site", "flags"};
    uint64_t v[7];
    if (hvpy_nargs("_record(kind, addr, size, a, b, site, flags)", nargs, 7) <
            0 ||
        !hvpy_heap_alive(self))
        return NULL;
    for (int i = 0; i < 7; i++)
        if (hvpy_u64_arg(args[i], "_record", names[i], &v[i]) < 0) return NULL;
    if (v[0] >= HV_EV_KIND_COUNT)
        return PyErr_Format(PyExc_ValueError,
                            "_record(): kind = %llu is no event kind",
                            (unsigned long long)v[0]);
    hv_event_t e = {0};
    e.kind = (uint16_t)v[0];
    e.addr = v[1], e.size = v[2], e.a = v[3], e.b = v[4];
    e.site = (uint32_t)v[5], e.flags = (uint16_t)v[6];
    return PyLong_FromUnsignedLongLong(hv_event_record(self->h, &e));
}

/* --- call sites --------------------------------------------------------- */

PyDoc_STRVAR(site_now_doc,
             "_site() -> int\n\n"
             "The site id of the student's line calling now (frames inside "
             "heapviz are\nskipped).");

static PyObject *heap_site_now(HeapObject *self, PyObject *unused)
{
    (void)unused;
    if (!hvpy_heap_alive(self)) return NULL;
    return PyLong_FromUnsignedLong(hvpy_current_site(self));
}

/* A site id argument (None when it names no site of a 32-bit table). */
static int site_arg(PyObject *arg, const char *fn, uint32_t *site)
{
    uint64_t v;
    if (hvpy_u64_arg(arg, fn, "site", &v) < 0) return -1;
    *site = v > UINT32_MAX ? 0 : (uint32_t)v;
    return 0;
}

PyDoc_STRVAR(site_info_doc,
             "_site_info(site: int) -> tuple[str, int, str] | None\n\n"
             "(file, line, function) of a site id; None for 0, an unknown id "
             "or a closed heap.");

static PyObject *heap_site_info(HeapObject *self, PyObject *arg)
{
    uint32_t site;
    if (site_arg(arg, "_site_info", &site) < 0) return NULL;
    return hvpy_site_tuple(self, site);
}

PyDoc_STRVAR(site_record_doc,
             "_site_record(site: int) -> Site | None\n\n"
             "The heapviz.records.Site of a site id (made once per heap, then "
             "shared); None\nfor 0, an unknown id or a closed heap.");

static PyObject *heap_site_record(HeapObject *self, PyObject *arg)
{
    uint32_t site;
    if (site_arg(arg, "_site_record", &site) < 0) return NULL;
    return hvpy_site_record(self, site);
}

PyDoc_STRVAR(intern_doc,
             "_intern(file: str, line: int, function: str) -> int\n\n"
             "Intern a site (reports and notes are interned too, so the "
             "viewer can show\nthem); returns its id.");

static PyObject *heap_intern(HeapObject *self, PyObject *const *args,
                             Py_ssize_t nargs)
{
    const char *file, *func;
    int line;
    if (hvpy_nargs("_intern(file, line, function)", nargs, 3) < 0 ||
        !hvpy_heap_alive(self) ||
        hvpy_str_arg(args[0], "_intern", "file", &file) < 0 ||
        hvpy_int_arg(args[1], "_intern", "line", &line) < 0 ||
        hvpy_str_arg(args[2], "_intern", "function", &func) < 0)
        return NULL;
    uint32_t id;
    hv_err_t rc = hv_site_intern(self->h, file, (uint32_t)(line < 0 ? 0 : line),
                                 func, &id);
    if (rc != HV_OK) {
        hvpy_core_error(self, rc,
                        &(hvpy_call_t){.op = OP_OTHER, .arg = "_intern"});
        return NULL;
    }
    return PyLong_FromUnsignedLong(id);
}

/* --- switches ----------------------------------------------------------- */

PyDoc_STRVAR(set_step_hook_doc,
             "_set_step_hook(hook: Callable[[], object] | None) -> None\n\n"
             "Call hook() after every operation (the viewer's step mode, a "
             "notebook\nwatch); None removes it.");

static PyObject *heap_set_step_hook(HeapObject *self, PyObject *arg)
{
    if (arg != Py_None && !PyCallable_Check(arg))
        return PyErr_Format(PyExc_TypeError,
                            "_set_step_hook() takes a callable or None, not "
                            "%.100s",
                            Py_TYPE(arg)->tp_name);
    Py_XSETREF(self->step_hook, arg == Py_None ? NULL : Py_NewRef(arg));
    Py_RETURN_NONE;
}

PyDoc_STRVAR(get_step_hook_doc,
             "_get_step_hook() -> Callable | None\n\nThe step hook, if any.");

static PyObject *heap_get_step_hook(HeapObject *self, PyObject *unused)
{
    (void)unused;
    return Py_NewRef(self->step_hook ? self->step_hook : Py_None);
}

PyDoc_STRVAR(set_recording_doc,
             "_set_recording(on: bool) -> None\n\n"
             "Turn event recording on or off (replays run their operations "
             "unrecorded).");

static PyObject *heap_set_recording(HeapObject *self, PyObject *arg)
{
    int on = PyObject_IsTrue(arg);
    if (on < 0 || !hvpy_heap_alive(self)) return NULL;
    hv_set_recording(self->h, on);
    Py_RETURN_NONE;
}

PyMethodDef hvpy_heap_history_methods[] = {
    {"_event_records", (PyCFunction)(void (*)(void))heap_event_records,
     METH_FASTCALL, event_records_doc},
    {"_events", (PyCFunction)(void (*)(void))heap_events_raw, METH_FASTCALL,
     events_raw_doc},
    {"_event_record", (PyCFunction)heap_event_record, METH_O, event_record_doc},
    {"_event", (PyCFunction)heap_event_raw, METH_O, event_raw_doc},
    {"_history", (PyCFunction)heap_history_info, METH_NOARGS, history_doc},
    {"_record", (PyCFunction)(void (*)(void))heap_record_event, METH_FASTCALL,
     record_doc},
    {"_site", (PyCFunction)heap_site_now, METH_NOARGS, site_now_doc},
    {"_site_info", (PyCFunction)heap_site_info, METH_O, site_info_doc},
    {"_site_record", (PyCFunction)heap_site_record, METH_O, site_record_doc},
    {"_intern", (PyCFunction)(void (*)(void))heap_intern, METH_FASTCALL,
     intern_doc},
    {"_set_step_hook", (PyCFunction)heap_set_step_hook, METH_O,
     set_step_hook_doc},
    {"_get_step_hook", (PyCFunction)heap_get_step_hook, METH_NOARGS,
     get_step_hook_doc},
    {"_set_recording", (PyCFunction)heap_set_recording, METH_O,
     set_recording_doc},
    {NULL, NULL, 0, NULL},
};

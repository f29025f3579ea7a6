/* sites.c — the student's file:line for every operation.
 *
 * Every malloc, free and access is tagged with the line of the student's
 * script that made it.  Finding it is on the hot path, so the result is
 * cached per (code object, instruction offset): a small open-addressing
 * table holding a reference to each code object it has seen (so an address
 * is never reused under it).  Frames whose code lives inside the heapviz
 * package are skipped: the line of `heapviz.strcpy(dst, s)` is the
 * student's, not strcpy's.
 *
 * The other way, from a site id to the Site record a Block or an Event
 * names, is cached too (hvpy_site_record): one record per id and heap.
 */
#include "binding.h"

#include <frameobject.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject *code; /* strong reference; NULL: empty slot */
    int lasti;
    uint32_t site;
} site_entry_t;

struct site_cache {
    site_entry_t *slots;
    size_t mask; /* capacity - 1, capacity a power of two */
    size_t used;
    /* the last two answers (a loop asks the same lines again, and
       h.free(h.malloc(n)) is two of them); their code objects are kept
       alive by the table */
    site_entry_t last[2];
    int older; /* which of last[] to replace next */
    /* the Site record of each id asked for so far (NULL: not made yet):
       a heap has few sites and its blocks name them over and over */
    PyObject **records;
    uint32_t nrecords;
};

site_cache_t *hvpy_sites_new(void)
{
    site_cache_t *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->slots = calloc(256, sizeof *c->slots);
    c->mask = 255;
    if (c->slots == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void hvpy_sites_free(site_cache_t *c)
{
    if (c == NULL) return;
    for (size_t i = 0; i <= c->mask; i++)
        Py_XDECREF(c->slots[i].code);
    for (uint32_t i = 0; i < c->nrecords; i++)
        Py_XDECREF(c->records[i]);
    free(c->records);
    free(c->slots);
    free(c);
}

static size_t slot_of(const site_cache_t *c, PyObject *code, int lasti)
{
    uintptr_t k = (uintptr_t)code ^ ((uintptr_t)lasti * 0x9E3779B97F4A7C15u);
    k ^= k >> 29;
    return (size_t)(k * 0xBF58476D1CE4E5B9u >> 7) & c->mask;
}

static int grow(site_cache_t *c)
{
    size_t old_cap = c->mask + 1;
    site_entry_t *old = c->slots;
    site_entry_t *fresh = calloc(old_cap * 2, sizeof *fresh);
    if (fresh == NULL) return -1;
    c->slots = fresh;
    c->mask = old_cap * 2 - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].code == NULL) continue;
        size_t j = slot_of(c, old[i].code, old[i].lasti);
        while (c->slots[j].code != NULL)
            j = (j + 1) & c->mask;
        c->slots[j] = old[i];
    }
    free(old);
    return 0;
}

/* Is this code object part of the heapviz package (skip its frames)?  Asked
 * once per (code, offset): the answer is cached as SITE_INTERNAL. */
static int is_internal(HeapObject *heap, PyCodeObject *code)
{
    module_state *st = heap->st;
    if (st == NULL || st->pkg_prefix == NULL) return 0;
    return PyUnicode_Tailmatch(code->co_filename, st->pkg_prefix, 0,
                               PY_SSIZE_T_MAX, -1) == 1;
}

static uint32_t intern_frame(HeapObject *heap, PyFrameObject *f,
                             PyCodeObject *code)
{
    const char *file = PyUnicode_AsUTF8(code->co_filename);
    const char *func = PyUnicode_AsUTF8(code->co_qualname);
    if (file == NULL || func == NULL) {
        PyErr_Clear();
        return 0;
    }
    uint32_t site = 0;
    int line = PyFrame_GetLineNumber(f);
    if (hv_site_intern(heap->h, file, (uint32_t)(line < 0 ? 0 : line), func,
                       &site) != HV_OK)
        return 0;
    return site;
}

#define SITE_INTERNAL UINT32_MAX

static void remember(site_cache_t *c, const site_entry_t *e)
{
    c->last[c->older] = *e;
    c->older ^= 1;
}

/* The site of (code, lasti) from the table, or computed and cached. */
static uint32_t lookup(HeapObject *heap, PyFrameObject *f, PyCodeObject *code,
                       int lasti)
{
    site_cache_t *c = heap->sites;
    size_t i = slot_of(c, (PyObject *)code, lasti);
    for (; c->slots[i].code != NULL; i = (i + 1) & c->mask) {
        if (c->slots[i].code == (PyObject *)code &&
            c->slots[i].lasti == lasti) {
            remember(c, &c->slots[i]);
            return c->slots[i].site;
        }
    }
    uint32_t site =
        is_internal(heap, code) ? SITE_INTERNAL : intern_frame(heap, f, code);
    if ((c->used + 1) * 2 > c->mask + 1) {
        if (grow(c) < 0) return site; /* keep working uncached */
        i = slot_of(c, (PyObject *)code, lasti);
        while (c->slots[i].code != NULL)
            i = (i + 1) & c->mask;
    }
    c->slots[i].code = Py_NewRef((PyObject *)code); /* the table's own */
    c->slots[i].lasti = lasti;
    c->slots[i].site = site;
    c->used++;
    remember(c, &c->slots[i]);
    return site;
}

/* The site of one frame: the last two answers first (inline: the common
 * case of every malloc and free). */
static inline uint32_t frame_site(HeapObject *heap, PyFrameObject *f)
{
    site_cache_t *c = heap->sites;
    PyCodeObject *code = PyFrame_GetCode(f);
    int lasti = PyFrame_GetLasti(f);
    uint32_t site;
    if (c->last[0].code == (PyObject *)code && c->last[0].lasti == lasti)
        site = c->last[0].site;
    else if (c->last[1].code == (PyObject *)code && c->last[1].lasti == lasti)
        site = c->last[1].site;
    else
        site = lookup(heap, f, code, lasti);
    Py_DECREF(code); /* after the look: its refcount is not on the way */
    return site;
}

uint32_t hvpy_current_site(HeapObject *heap)
{
    if (heap->h == NULL || heap->sites == NULL) return 0;
    PyFrameObject *f = PyEval_GetFrame(); /* borrowed */
    uint32_t site = f ? frame_site(heap, f) : 0;
    if (site != SITE_INTERNAL) return site;
    /* called from inside heapviz (strcpy, strdup…): the caller's line */
    f = PyFrame_GetBack(f);
    while (f != NULL) {
        site = frame_site(heap, f);
        if (site != SITE_INTERNAL) {
            Py_DECREF(f);
            return site;
        }
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
    return 0;
}

/* (file, line, function) of a site, or None for site 0 / unknown. */
PyObject *hvpy_site_tuple(HeapObject *heap, uint32_t site)
{
    const char *file, *func;
    uint32_t line;
    if (heap->h == NULL || site == 0 ||
        !hv_site_get(heap->h, site, &file, &line, &func))
        Py_RETURN_NONE;
    return Py_BuildValue("(sIs)", file, (unsigned)line, func ? func : "");
}

/* The slot of site's record, the table grown to hold it (NULL: no memory). */
static PyObject **record_slot(site_cache_t *c, uint32_t site)
{
    if (site >= c->nrecords) {
        uint32_t n = c->nrecords ? c->nrecords : 64;
        while (n <= site)
            n *= 2;
        PyObject **fresh = realloc(c->records, n * sizeof *fresh);
        if (fresh == NULL) return NULL;
        memset(fresh + c->nrecords, 0, (n - c->nrecords) * sizeof *fresh);
        c->records = fresh;
        c->nrecords = n;
    }
    return &c->records[site];
}

PyObject *hvpy_site_record(HeapObject *heap, uint32_t site)
{
    module_state *st = heap->st;
    if (site == 0 || heap->sites == NULL || st == NULL) Py_RETURN_NONE;
    PyObject **slot = site < heap->sites->nrecords
                          ? &heap->sites->records[site]
                          : record_slot(heap->sites, site);
    if (slot == NULL) return PyErr_NoMemory();
    if (*slot != NULL) return Py_NewRef(*slot);
    PyObject *t = hvpy_site_tuple(heap, site);
    if (t == NULL || t == Py_None || st->site_cls == Py_None)
        return t; /* unknown (not kept), or no Site class: the tuple */
    *slot = PyObject_Call(st->site_cls, t, NULL);
    Py_DECREF(t);
    return Py_XNewRef(*slot);
}

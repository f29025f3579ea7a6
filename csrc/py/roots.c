/* roots.c — which blocks the script still holds a Pointer to.
 *
 * Leak detection needs roots (valgrind scans registers and the stack; our
 * roots are the live Pointer objects).  Each Pointer derived from a block
 * counts once for that block's start.  When a count drops to zero while the
 * block is still allocated and no heap word points into it, the block has
 * just been lost: a "lost" event records the line where it happened.
 *
 * Every malloc makes a Pointer and every Pointer's death drops a count, so
 * heap blocks are counted without hashing: at most one block starts in each
 * 16 bytes of heap (as in the core's side table), so a slot per 16 bytes,
 * in chunks of 64 KiB of heap made on first use.  A slot belongs to one
 * allocation (its seq): a Pointer of an older allocation that started in
 * the same 16 bytes finds another seq and is not counted.  Blocks outside
 * the heap (mmapped chunks) go to an open-addressing map keyed by start.
 */
#include "binding.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t key;    /* block start; 0 = empty */
    uint64_t seq;    /* the allocation the count belongs to */
    uint32_t count;  /* live Pointers derived from the block        */
    uint32_t starts; /* of those, how many point at the payload start */
} root_slot_t;

#define CHUNK_SLOTS 4096 /* 64 KiB of heap */

struct root_map {
    root_slot_t *slots; /* the map: blocks outside the heap */
    size_t mask;
    size_t used;
    uint64_t heap_base, heap_end; /* the dense part: heap blocks */
    root_slot_t **chunks;         /* NULL until a Pointer lands there */
    size_t nchunks;
};

root_map_t *hvpy_roots_new(uint64_t heap_base, uint64_t heap_max)
{
    root_map_t *m = calloc(1, sizeof *m);
    if (m == NULL) return NULL;
    m->heap_base = heap_base;
    m->heap_end = heap_base + heap_max;
    m->nchunks = (size_t)((heap_max / 16 + CHUNK_SLOTS - 1) / CHUNK_SLOTS);
    m->chunks = calloc(m->nchunks ? m->nchunks : 1, sizeof *m->chunks);
    m->slots = calloc(64, sizeof *m->slots);
    m->mask = 63;
    if (m->slots == NULL || m->chunks == NULL) {
        hvpy_roots_free(m);
        return NULL;
    }
    return m;
}

void hvpy_roots_free(root_map_t *m)
{
    if (m == NULL) return;
    for (size_t i = 0; m->chunks != NULL && i < m->nchunks; i++)
        free(m->chunks[i]);
    free(m->chunks);
    free(m->slots);
    free(m);
}

/* Is bstart a heap block's (counted in the dense part)? */
static bool heap_block(const root_map_t *m, uint64_t bstart)
{
    return bstart >= m->heap_base && bstart < m->heap_end;
}

/* The dense slot of a heap block start (NULL: its chunk is not made, and
 * `make` is false or calloc fails). */
static root_slot_t *dense(root_map_t *m, uint64_t bstart, bool make)
{
    uint64_t idx = (bstart - m->heap_base) >> 4;
    root_slot_t **chunk = &m->chunks[idx / CHUNK_SLOTS];
    if (*chunk == NULL && make) *chunk = calloc(CHUNK_SLOTS, sizeof **chunk);
    return *chunk != NULL ? &(*chunk)[idx % CHUNK_SLOTS] : NULL;
}

static size_t hash(uint64_t k, size_t mask)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & mask;
}

static root_slot_t *find(root_map_t *m, uint64_t key)
{
    size_t i = hash(key, m->mask);
    while (m->slots[i].key != 0) {
        if (m->slots[i].key == key) return &m->slots[i];
        i = (i + 1) & m->mask;
    }
    return NULL;
}

static int grow(root_map_t *m)
{
    size_t old_cap = m->mask + 1;
    root_slot_t *old = m->slots;
    root_slot_t *fresh = calloc(old_cap * 2, sizeof *fresh);
    if (fresh == NULL) return -1;
    m->slots = fresh;
    m->mask = old_cap * 2 - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].key == 0) continue;
        size_t j = hash(old[i].key, m->mask);
        while (m->slots[j].key != 0)
            j = (j + 1) & m->mask;
        m->slots[j] = old[i];
    }
    free(old);
    return 0;
}

/* Remove a slot keeping every probe chain intact (backward shift). */
static void erase(root_map_t *m, root_slot_t *s)
{
    size_t i = (size_t)(s - m->slots);
    size_t j = i;
    for (;;) {
        j = (j + 1) & m->mask;
        if (m->slots[j].key == 0) break;
        size_t home = hash(m->slots[j].key, m->mask);
        /* move j back to i if its home is not in (i, j] cyclically */
        if ((j > i && (home <= i || home > j)) ||
            (j < i && (home <= i && home > j))) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = 0;
    m->used--;
}

/* Count p for its block; a slot of an older allocation starts afresh. */
static void count_in(root_slot_t *s, PointerObject *p)
{
    uint32_t start = p->addr == p->pstart;
    if (s->count > 0 && s->key == p->bstart && s->seq == p->seq) {
        s->count++;
        s->starts += start;
    } else {
        *s = (root_slot_t){p->bstart, p->seq, 1, start};
    }
    p->rooted = ROOTED;
}

/* A block outside the heap: the map (out of line, so that the common case
 * needs no stack frame). */
__attribute__((noinline)) static void add_sparse(root_map_t *m,
                                                 PointerObject *p)
{
    root_slot_t *s = find(m, p->bstart);
    if (s != NULL) {
        count_in(s, p);
        return;
    }
    if ((m->used + 1) * 2 > m->mask + 1 && grow(m) < 0)
        return; /* untracked: leak reports may be less precise, no harm */
    size_t i = hash(p->bstart, m->mask);
    while (m->slots[i].key != 0)
        i = (i + 1) & m->mask;
    m->slots[i] = (root_slot_t){p->bstart, p->seq, 1, p->addr == p->pstart};
    m->used++;
    p->rooted = ROOTED;
}

void hvpy_root_add(PointerObject *p)
{
    HeapObject *heap = p->heap;
    if (heap == NULL || heap->roots == NULL || p->prov != PROV_BLOCK ||
        p->bstart == 0)
        return;
    root_map_t *m = heap->roots;
    if (!heap_block(m, p->bstart)) {
        add_sparse(m, p);
        return;
    }
    root_slot_t *s = dense(m, p->bstart, true);
    if (s != NULL) /* else untracked: leak reports may be less precise */
        count_in(s, p);
}

/* Does any word of the heap hold an address inside [lo, hi)?  Bounded: a
 * scan of a big heap on every drop would slow replays, so beyond 1 MiB the
 * answer is "yes" (no event) and h.leaks() does the full analysis. */
static int heap_points_into(HeapObject *heap, uint64_t lo, uint64_t hi)
{
    hv_layout_t lay;
    hv_heap_layout(heap->h, &lay);
    uint64_t brk = hv_brk(heap->h);
    uint64_t len = brk - lay.heap_base;
    if (len > (1u << 20)) return 1;
    uint8_t *mem;
    hv_region_t region;
    if (hv_resolve(heap->h, lay.heap_base, len, &region, &mem) != HV_OK)
        return 1;
    for (uint64_t off = 0; off + 8 <= len; off += 4) {
        uint64_t v;
        memcpy(&v, mem + off, 8);
        if (v >= lo && v < hi) {
            uint64_t a = lay.heap_base + off;
            if (a < lo || a >= hi) /* a block pointing to itself is no root */
                return 1;
        }
    }
    return 0;
}

static void record_lost(HeapObject *heap, uint64_t bstart, uint64_t pstart,
                        uint64_t seq)
{
    /* the common case first, in O(1): the block was freed before its last
       Pointer died, so nothing was lost */
    if (!hv_block_live(heap->h, pstart, bstart, seq)) return;
    hv_block_t b;
    if (hv_block_at(heap->h, bstart, &b) != HV_OK || b.seq != seq ||
        (b.state != HV_BLOCK_ALLOCATED && b.state != HV_BLOCK_MMAPPED))
        return;
    if (heap_points_into(heap, b.payload, b.payload + b.payload_size)) return;
    PyObject *et, *ev_, *tb;
    PyErr_Fetch(&et, &ev_, &tb); /* may run while an exception is set */
    hv_event_t ev = {0};
    ev.kind = HV_EV_LOST;
    ev.site = hvpy_current_site(heap);
    ev.addr = b.payload;
    ev.size = b.requested;
    ev.a = b.addr;
    ev.b = b.seq;
    hv_event_record(heap->h, &ev);
    PyErr_Restore(et, ev_, tb);
}

/* The slot counting block bstart's allocation seq, or NULL. */
static root_slot_t *slot_of(root_map_t *m, uint64_t bstart, uint64_t seq)
{
    root_slot_t *s =
        heap_block(m, bstart) ? dense(m, bstart, false) : find(m, bstart);
    return s != NULL && s->count > 0 && s->key == bstart && s->seq == seq
               ? s
               : NULL;
}

void hvpy_root_drop(PointerObject *p)
{
    HeapObject *heap = p->heap;
    if (!p->rooted || heap == NULL || heap->roots == NULL) return;
    bool freed = p->rooted == ROOTED_FREED;
    p->rooted = ROOTED_NO;
    root_slot_t *s = slot_of(heap->roots, p->bstart, p->seq);
    if (s == NULL) return;
    s->starts -= (p->addr == p->pstart && s->starts > 0);
    if (--s->count > 0) return;
    uint64_t seq = s->seq;
    if (!heap_block(heap->roots, s->key)) /* a map slot: no longer needed */
        erase(heap->roots, s);
    /* an allocation freed is never live again: nothing to lose */
    if (!freed && heap->h != NULL && heap->checks != CHECKS_OFF)
        record_lost(heap, p->bstart, p->pstart, seq);
}

static int append_slot(PyObject *out, const root_slot_t *s)
{
    if (s->key == 0 || s->count == 0) return 0;
    PyObject *t = Py_BuildValue("(KKII)", (unsigned long long)s->key,
                                (unsigned long long)s->seq, (unsigned)s->count,
                                (unsigned)s->starts);
    int rc = t == NULL ? -1 : PyList_Append(out, t);
    Py_XDECREF(t);
    return rc;
}

/* [(block start, seq, pointers, pointers at the payload start)] */
PyObject *hvpy_roots_list(HeapObject *heap)
{
    PyObject *out = PyList_New(0);
    if (out == NULL || heap->roots == NULL) return out;
    root_map_t *m = heap->roots;
    for (size_t c = 0; c < m->nchunks; c++)
        for (size_t i = 0; m->chunks[c] != NULL && i < CHUNK_SLOTS; i++)
            if (append_slot(out, &m->chunks[c][i]) < 0) goto fail;
    for (size_t i = 0; i <= m->mask; i++)
        if (append_slot(out, &m->slots[i]) < 0) goto fail;
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* Each counted root: fn(block start, seq, pointers at the payload start). */
void hvpy_roots_visit(HeapObject *heap,
                      void (*fn)(uint64_t bstart, uint64_t seq, unsigned starts,
                                 void *arg),
                      void *arg)
{
    root_map_t *m = heap->roots;
    if (m == NULL) return;
    for (size_t c = 0; c < m->nchunks; c++)
        for (size_t i = 0; m->chunks[c] != NULL && i < CHUNK_SLOTS; i++) {
            const root_slot_t *s = &m->chunks[c][i];
            if (s->key != 0 && s->count != 0)
                fn(s->key, s->seq, s->starts, arg);
        }
    for (size_t i = 0; i <= m->mask; i++)
        if (m->slots[i].key != 0 && m->slots[i].count != 0)
            fn(m->slots[i].key, m->slots[i].seq, m->slots[i].starts, arg);
}

/* roots.c — which blocks the script still holds a Pointer to.
 *
 * Leak detection needs roots (valgrind scans registers and the stack; our
 * roots are the live Pointer objects).  Each Pointer derived from a block
 * counts once for that block's start; the count lives in an open-addressing
 * map keyed by block start.  When a count drops to zero while the block is
 * still allocated and no heap word points into it, the block has just been
 * lost: a "lost" event records the line where it happened.
 */
#include "binding.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t key; /* block start; 0 = empty */
    uint64_t seq; /* the allocation the count belongs to */
    uint32_t count;  /* live Pointers derived from the block        */
    uint32_t starts; /* of those, how many point at the payload start */
} root_slot_t;

struct root_map {
    root_slot_t *slots;
    size_t mask;
    size_t used;
};

root_map_t *hvpy_roots_new(void)
{
    root_map_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->slots = calloc(64, sizeof *m->slots);
    m->mask = 63;
    if (m->slots == NULL) {
        free(m);
        return NULL;
    }
    return m;
}

void hvpy_roots_free(root_map_t *m)
{
    if (m == NULL)
        return;
    free(m->slots);
    free(m);
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
        if (m->slots[i].key == key)
            return &m->slots[i];
        i = (i + 1) & m->mask;
    }
    return NULL;
}

static int grow(root_map_t *m)
{
    size_t old_cap = m->mask + 1;
    root_slot_t *old = m->slots;
    root_slot_t *fresh = calloc(old_cap * 2, sizeof *fresh);
    if (fresh == NULL)
        return -1;
    m->slots = fresh;
    m->mask = old_cap * 2 - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].key == 0)
            continue;
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
        if (m->slots[j].key == 0)
            break;
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

void hvpy_root_add(PointerObject *p)
{
    HeapObject *heap = p->heap;
    if (heap == NULL || heap->roots == NULL || p->prov != PROV_BLOCK ||
        p->bstart == 0)
        return;
    root_map_t *m = heap->roots;
    root_slot_t *s = find(m, p->bstart);
    uint32_t start = p->addr == p->pstart;
    if (s != NULL && s->seq == p->seq) {
        s->count++;
        s->starts += start;
        p->rooted = 1;
        return;
    }
    if (s != NULL) { /* a stale count from a freed allocation */
        *s = (root_slot_t){p->bstart, p->seq, 1, start};
        p->rooted = 1;
        return;
    }
    if ((m->used + 1) * 2 > m->mask + 1 && grow(m) < 0)
        return; /* untracked: leak reports may be less precise, no harm */
    size_t i = hash(p->bstart, m->mask);
    while (m->slots[i].key != 0)
        i = (i + 1) & m->mask;
    m->slots[i] = (root_slot_t){p->bstart, p->seq, 1, start};
    m->used++;
    p->rooted = 1;
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
    if (len > (1u << 20))
        return 1;
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
       Pointer died, so nothing was lost.  A freed payload's first byte is
       allocator metadata (free-list links) or free memory in the shadow; a
       live one's is never (hv_block_ident walks the heap for freed blocks). */
    const uint8_t *sh = hv_shadow(heap->h, pstart, 1);
    if (sh != NULL && (*sh == HV_SH_META || *sh == HV_SH_FREE ||
                       *sh == HV_SH_UNMAPPED))
        return;
    hv_addr_t start;
    uint64_t live_seq;
    hv_block_state_t state;
    if (hv_block_ident(heap->h, pstart, &start, &live_seq, &state, NULL) !=
            HV_OK ||
        start != bstart || live_seq != seq)
        return;
    hv_block_t b;
    if (hv_block_at(heap->h, bstart, &b) != HV_OK || b.seq != seq ||
        (b.state != HV_BLOCK_ALLOCATED && b.state != HV_BLOCK_MMAPPED))
        return;
    if (heap_points_into(heap, b.payload, b.payload + b.payload_size))
        return;
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

void hvpy_root_drop(PointerObject *p)
{
    HeapObject *heap = p->heap;
    if (!p->rooted || heap == NULL || heap->roots == NULL)
        return;
    p->rooted = 0;
    root_slot_t *s = find(heap->roots, p->bstart);
    if (s == NULL || s->seq != p->seq)
        return;
    s->starts -= (p->addr == p->pstart && s->starts > 0);
    if (--s->count > 0)
        return;
    uint64_t seq = s->seq;
    erase(heap->roots, s);
    if (heap->h != NULL && heap->checks != CHECKS_OFF)
        record_lost(heap, p->bstart, p->pstart, seq);
}

uint32_t hvpy_root_count(HeapObject *heap, uint64_t bstart)
{
    if (heap->roots == NULL)
        return 0;
    root_slot_t *s = find(heap->roots, bstart);
    return s == NULL ? 0 : s->count;
}

/* [(block start, seq, pointers, pointers at the payload start)] */
PyObject *hvpy_roots_list(HeapObject *heap)
{
    PyObject *out = PyList_New(0);
    if (out == NULL || heap->roots == NULL)
        return out;
    root_map_t *m = heap->roots;
    for (size_t i = 0; i <= m->mask; i++) {
        if (m->slots[i].key == 0)
            continue;
        PyObject *t = Py_BuildValue("(KKII)",
                                    (unsigned long long)m->slots[i].key,
                                    (unsigned long long)m->slots[i].seq,
                                    (unsigned)m->slots[i].count,
                                    (unsigned)m->slots[i].starts);
        if (t == NULL || PyList_Append(out, t) < 0) {
            Py_XDECREF(t);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(t);
    }
    return out;
}

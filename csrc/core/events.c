/* events.c — the event ring shared with readers, the process-local
 * history, operation numbers and the seqlock.
 *
 * Recording an event is a store of 56 bytes into the preallocated ring in
 * the arena (single writer; the head is published with a release store
 * after the slot is written).  When the history limit fits in the ring
 * (the default: a ring of 2^20 events, a limit of 1,000,000) the ring IS
 * the history and that is all; otherwise the event is also copied to a
 * process-local buffer that grows (amortised) up to history_limit and then
 * drops the oldest.  Nothing else allocates.
 *
 * Order within an operation: its steps first (HV_EVF_SUB: PLACE, SPLIT,
 * COALESCE, GROW, MMAP, MUNMAP, FAIL, and for realloc the MALLOC/FREE it
 * did), then the operation event LAST, carrying the result.  A reader
 * rebuilds the block layout by replaying them (tests/c/test_events.c
 * does, for every policy):
 *   GROW (a step)   [addr - E, addr - E + size) becomes a free block, E
 *                   being the epilogue header (header_size; 0 for buddy)
 *   GROW (an op)    the same, but the block is hv_sbrk's, in use
 *   SHRINK          the free top block loses its last `size` bytes
 *   SPLIT           the block at addr keeps its state, shrinks to `size`;
 *                   a new free block [a, a+b) follows it
 *   COALESCE        the block at addr keeps its state and swallows the
 *                   block at a
 *   MALLOC/CALLOC   the block [a, a+b) is allocated
 *   FREE            the block containing a is free
 * Nothing else changes the layout; realloc's moves are its MALLOC and
 * FREE steps. */
#include "internal.h"

#include <stdlib.h>

void _hv_op_begin(hv_heap_t *h, uint32_t site)
{
    hv_arena_t *ar = h->ar;
    h->cur_op = ++ar->c.ops;
    h->cur_site = site;
    uint64_t v = atomic_load_explicit(&ar->version, memory_order_relaxed);
    atomic_store_explicit(&ar->version, v + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

void _hv_op_end(hv_heap_t *h)
{
    hv_arena_t *ar = h->ar;
    uint64_t v = atomic_load_explicit(&ar->version, memory_order_relaxed);
    atomic_store_explicit(&ar->version, v + 1, memory_order_release);
}

uint64_t hv_heap_version(const hv_heap_t *h)
{
    return atomic_load_explicit(&h->ar->version, memory_order_acquire);
}

/* Event seq s lives at hist[s % hist_cap]: while the buffer grows every
 * s < hist_cap, and once it is full, hist_pos wraps round. */
static bool history_grow(hv_heap_t *h)
{
    if (h->hist_cap >= h->hist_limit) return false;
    uint64_t cap = h->hist_cap ? h->hist_cap * 2 : 1024;
    if (cap > h->hist_limit) cap = h->hist_limit;
    hv_event_t *p = realloc(h->hist, cap * sizeof *p);
    if (!p) { /* keep what we have and start dropping the oldest */
        h->hist_limit = h->hist_cap;
        return false;
    }
    h->hist = p;
    h->hist_cap = cap;
    return true;
}

/* The history slot for the next event (NULL: no history), growing or
 * wrapping round when full. */
static hv_event_t *history_slot(hv_heap_t *h)
{
    if (h->hist_pos == h->hist_cap && !history_grow(h)) h->hist_pos = 0;
    return h->hist_cap ? &h->hist[h->hist_pos++] : NULL;
}

/* The event also goes to the process-local history (a history_limit
 * above the ring capacity). */
void _hv_history_copy(hv_heap_t *h, const hv_event_t *e)
{
    hv_event_t *copy = history_slot(h);
    if (copy) *copy = *e;
}

/* Write the event straight into its ring slot, copy it to the history,
 * then publish it. */
static void put(hv_heap_t *h, const hv_event_t *e)
{
    hv_arena_t *ar = h->ar;
    uint64_t seq = atomic_load_explicit(&ar->ring_head, memory_order_relaxed);
    hv_event_t *slot = &h->ring[seq & ar->ring_mask];
    *slot = *e;
    slot->seq = seq;
    if (h->hist_copy) _hv_history_copy(h, slot);
    atomic_store_explicit(&ar->ring_head, seq + 1, memory_order_release);
}

uint64_t hv_event_record(hv_heap_t *h, const hv_event_t *ev)
{
    if (h->readonly || !h->recording) return UINT64_MAX;
    hv_event_t e = *ev;
    if (e.op == 0) e.op = ++h->ar->c.ops;
    uint64_t seq = hv_ring_head(h);
    put(h, &e);
    return seq;
}

void hv_set_recording(hv_heap_t *h, bool on)
{
    if (!h->readonly) h->ar->recording = h->recording = on;
}

void _hv_history_free(hv_heap_t *h)
{
    free(h->hist);
    h->hist = NULL;
    h->hist_cap = 0;
}

uint64_t hv_history_count(const hv_heap_t *h)
{
    return h->readonly ? 0 : hv_ring_head(h);
}

uint64_t hv_history_first(const hv_heap_t *h)
{
    uint64_t n = hv_history_count(h);
    uint64_t kept;
    if (h->hist_in_ring)
        kept = n < h->hist_limit ? n : h->hist_limit;
    else
        kept = h->hist_cap < h->hist_limit ? n : h->hist_cap;
    return n > kept ? n - kept : 0;
}

bool hv_history_get(const hv_heap_t *h, uint64_t seq, hv_event_t *out)
{
    if (seq < hv_history_first(h) || seq >= hv_history_count(h)) return false;
    if (h->hist_in_ring) { /* this process is the only writer: no race */
        *out = h->ring[seq & h->ar->ring_mask];
        return out->seq == seq;
    }
    *out = h->hist[seq % h->hist_cap];
    return true;
}

uint64_t hv_ring_head(const hv_heap_t *h)
{
    return atomic_load_explicit(&h->ar->ring_head, memory_order_acquire);
}

uint32_t hv_ring_capacity(const hv_heap_t *h)
{
    return h->ar->ring_mask + 1;
}

/* A seqlock-style read: copy the slot, then make sure the writer did not
 * reach it meanwhile.  A reader in another process gives up the oldest
 * slot, which the writer may be overwriting right now. */
bool hv_ring_get(const hv_heap_t *h, uint64_t seq, hv_event_t *out)
{
    uint64_t cap = hv_ring_capacity(h), head = hv_ring_head(h);
    if (seq >= head || seq + cap < head) return false;
    *out = h->ring[seq & h->ar->ring_mask];
    atomic_thread_fence(memory_order_acquire);
    head = atomic_load_explicit(&h->ar->ring_head, memory_order_relaxed);
    uint64_t slack = h->readonly ? 1 : 0;
    return seq + cap >= head + slack && out->seq == seq;
}

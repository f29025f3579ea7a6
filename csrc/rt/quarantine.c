/* quarantine.c — freed blocks held back before the allocator may reuse
 * them (the option quarantine=BYTES; off by default).
 *
 * First fit hands a freed block to the very next malloc of its size — the
 * chapter's lesson, and what the pictures show — so an access through a
 * dangling pointer after that reads a live block and cannot be told from a
 * good one.  valgrind and ASan hold freed blocks back.  With a quarantine
 * of N bytes, free() marks the block's bytes freed (shadow HV_SH_FREE) and
 * gives it to the core only when N bytes of newer frees have come after it
 * (or at exit, before the leak check): accesses, double frees and reallocs
 * of it meanwhile are reported as valgrind reports them.  The price: reuse
 * is no longer the textbook's, and the free appears in the heap's history
 * when the block leaves the quarantine. */
#include "rt.h"

#include <string.h>

typedef struct held {
    uintptr_t p;        /* payload                         */
    uint64_t size;      /* bytes asked for                 */
    uint32_t free_site; /* the stack of the free() call    */
} held_t;

static held_t *fifo; /* oldest at `first`, `count` entries */
static uint64_t cap, first, count, bytes;
static uint64_t *index_; /* open addressing: p -> slot + 1 (0 empty) */
static uint64_t index_mask;

static uint64_t slot_of(uintptr_t p)
{
    return ((uint64_t)p >> 4) * 0x9E3779B97F4A7C15ull;
}

static uint64_t *find_slot(uintptr_t p)
{
    for (uint64_t i = slot_of(p) & index_mask;; i = (i + 1) & index_mask)
        if (!index_[i] || fifo[(index_[i] - 1) % cap].p == p) return &index_[i];
}

static void reindex(void)
{
    memset(index_, 0, (index_mask + 1) * sizeof *index_);
    for (uint64_t k = 0; k < count; k++) {
        uint64_t at = (first + k) % cap;
        *find_slot(fifo[at].p) = at + 1;
    }
}

static int grow(void)
{
    uint64_t ncap = cap ? 2 * cap : 1024;
    held_t *f = _hv_rt_pool_alloc(ncap * sizeof *f, 16);
    uint64_t *ix = _hv_rt_pool_alloc(2 * ncap * sizeof *ix, 16);
    if (!f || !ix) return -1;
    for (uint64_t k = 0; k < count; k++)
        f[k] = fifo[(first + k) % cap];
    _hv_rt_pool_free(fifo);
    _hv_rt_pool_free(index_);
    fifo = f;
    index_ = ix;
    cap = ncap;
    first = 0;
    index_mask = 2 * ncap - 1;
    reindex();
    return 0;
}

static const held_t *held_block(uintptr_t p)
{
    if (!count) return NULL;
    uint64_t s = *find_slot(p);
    return s ? &fifo[s - 1] : NULL;
}

int _hv_rt_quarantined(uintptr_t p)
{
    return held_block(p) != NULL;
}

/* Linear probing: a removal re-inserts the rest of its cluster. */
static void unindex(uintptr_t p)
{
    uint64_t *s = find_slot(p);
    *s = 0;
    for (uint64_t i = ((uint64_t)(s - index_) + 1) & index_mask; index_[i];
         i = (i + 1) & index_mask) {
        uint64_t v = index_[i];
        index_[i] = 0;
        *find_slot(fifo[v - 1].p) = v;
    }
}

/* The oldest block leaves: the core frees it now. */
static void release_oldest(void)
{
    held_t h = fifo[first];
    unindex(h.p);
    first = (first + 1) % cap;
    count--;
    bytes -= h.size;
    hv_err_t err = hv_free(_hv_rt.heap, h.p, h.free_site, HV_FREE_CHECKED);
    if (err) _hv_rt_free_error(err, h.p, "free", _hv_rt_stack_get(h.free_site));
}

int _hv_rt_quarantine_hold(uintptr_t p, uint32_t free_site)
{
    uint64_t limit = _hv_rt_opts.quarantine, req = 0, seq;
    hv_addr_t start;
    hv_block_state_t state;
    if (!limit || held_block(p) ||
        hv_block_ident(_hv_rt.heap, p, &start, &seq, &state, &req) ||
        (state != HV_BLOCK_ALLOCATED && state != HV_BLOCK_MMAPPED))
        return 0; /* not a live block: the core judges the free */
    if (count == cap && grow()) return 0;
    uint64_t at = (first + count) % cap;
    fifo[at] = (held_t){p, req, free_site};
    count++;
    *find_slot(p) = at + 1;
    bytes += req;
    hv_shadow_set(_hv_rt.heap, p, req, HV_SH_FREE);
    while (bytes > limit && count > 1)
        release_oldest();
    return 1;
}

void _hv_rt_quarantine_flush(void)
{
    while (count)
        release_oldest();
}

int _hv_rt_quarantine_describe(uintptr_t addr)
{
    for (uint64_t k = 0; k < count; k++) {
        const held_t *h = &fifo[(first + k) % cap];
        if (addr < h->p || addr - h->p >= (h->size ? h->size : 1)) continue;
        char words[96];
        hv_block_t b;
        hv_where(words, sizeof words, addr, h->p, h->size);
        _hv_rt_out(" Address 0x%lx %s free'd", (unsigned long)addr, words);
        _hv_rt_out_stack(_hv_rt_stack_get(h->free_site), NULL);
        if (!hv_block_containing(_hv_rt.heap, h->p, &b)) {
            _hv_rt_out(" Block was alloc'd at");
            _hv_rt_out_stack(_hv_rt_stack_get(b.site), NULL);
        }
        return 1;
    }
    return 0;
}

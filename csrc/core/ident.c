/* ident.c — a block's identity in O(1), for the binding's hot path.
 *
 * Every malloc through Python needs the block start and the allocation's
 * operation number of the payload it returns (a Pointer's provenance),
 * and every free checks them.  hv_block_at/hv_block_containing describe a
 * whole block; this asks only the side table and the header word. */
#include "internal.h"

#include "block.h"

static hv_err_t slow_ident(const hv_heap_t *h, hv_addr_t payload,
                           hv_addr_t *start, uint64_t *seq,
                           hv_block_state_t *state, uint64_t *requested)
{
    hv_block_t b;
    hv_err_t rc = hv_block_containing(h, payload, &b);
    if (rc != HV_OK) return rc;
    if (b.payload != payload) return HV_EFAULT;
    *start = b.addr;
    *seq = b.seq;
    *state = b.state;
    if (requested) *requested = b.requested;
    return HV_OK;
}

bool hv_block_fresh(const hv_heap_t *h, hv_addr_t payload, hv_addr_t *start,
                    uint64_t *seq)
{
    if (h->readonly || h->fresh_op == 0 || h->fresh_op != h->ar->c.ops ||
        _hv_uaddr(h, h->fresh_off + h->hs) != payload)
        return false;
    *start = _hv_uaddr(h, h->fresh_off);
    *seq = h->fresh_op;
    return true;
}

/* The one look both answers below take at a heap payload: the side-table
 * entry and the header word.  LOOK_LIVE: allocated (or sbrk'd: *flags
 * says); LOOK_FREED: freed here and not reused (the header may be a stale
 * one inside a merged free block); LOOK_UNSURE: a walk must decide. */
typedef enum { LOOK_UNSURE, LOOK_LIVE, LOOK_FREED } look_t;

static inline look_t look(const hv_heap_t *h, hv_addr_t payload, uint32_t *off,
                          const hv_side_t **s, uint32_t *flags)
{
    if (payload < h->base + h->hs || payload - h->base >= h->ar->brk)
        return LOOK_UNSURE;
    *off = (uint32_t)(payload - h->base - h->hs);
    if (!_hv_start_ok(h, *off)) return LOOK_UNSURE;
    *s = _hv_side(h, *off);
    *flags = _hv_side_flags(*s, *off);
    uint32_t w = _hv_hdr(h, *off);
    if ((*flags & HV_SIDE_FREED) && !_hv_balloc(w)) return LOOK_FREED;
    if ((*flags & HV_SIDE_LIVE) && _hv_balloc(w)) return LOOK_LIVE;
    return LOOK_UNSURE;
}

/* Kept out of line, so that the fast path below needs no stack frame. */
__attribute__((noinline)) static bool
live_slow(const hv_heap_t *h, hv_addr_t payload, hv_addr_t start, uint64_t seq)
{
    hv_addr_t st;
    uint64_t sq;
    hv_block_state_t state;
    return hv_block_ident(h, payload, &st, &sq, &state, NULL) == HV_OK &&
           st == start && sq == seq &&
           (state == HV_BLOCK_ALLOCATED || state == HV_BLOCK_MMAPPED);
}

bool hv_block_live(const hv_heap_t *h, hv_addr_t payload, hv_addr_t start,
                   uint64_t seq)
{
    uint32_t off, flags;
    const hv_side_t *s;
    switch (look(h, payload, &off, &s, &flags)) {
    case LOOK_LIVE: /* the common case */
        return !(flags & HV_SIDE_SBRK) && _hv_uaddr(h, off) == start &&
               _hv_side_seq(h, s) == seq;
    case LOOK_FREED:
        return false;
    default:
        return live_slow(h, payload, start, seq);
    }
}

hv_err_t hv_block_ident(const hv_heap_t *h, hv_addr_t payload, hv_addr_t *start,
                        uint64_t *seq, hv_block_state_t *state,
                        uint64_t *requested)
{
    uint32_t off, flags;
    const hv_side_t *s;
    look_t l = look(h, payload, &off, &s, &flags);
    if (l == LOOK_UNSURE)
        return slow_ident(h, payload, start, seq, state, requested);
    *start = _hv_uaddr(h, off);
    *seq = _hv_side_seq(h, s);
    if (l == LOOK_FREED) { /* not live: all the hot paths ask */
        *state = HV_BLOCK_FREE;
        if (requested) *requested = 0;
        return HV_OK;
    }
    *state = flags & HV_SIDE_SBRK ? HV_BLOCK_SBRK : HV_BLOCK_ALLOCATED;
    if (requested) *requested = s->size;
    return HV_OK;
}

/* walk.c — THE walker.  Every reader of the heap (hv_stats, hv_check, the
 * binding's blocks(), the viewer, leak scans) sees blocks through here, as
 * hv_block_t records handed to a visitor (mimalloc's
 * mi_heap_visit_blocks, tlsf's tlsf_walk_pool).
 *
 * The heap walk steps from header to header and stops, safely, at the
 * first header whose size would lead outside the heap or off the
 * alignment: a corrupted heap is described up to the damage, never read
 * past the arena.  Free lists are walked the same way, bounded by their
 * counts so that a cycle cannot trap us. */
#include "block.h"
#include "policy.h"

#include <stdio.h>

void _hv_describe(const hv_heap_t *h, uint32_t off, hv_block_t *b)
{
    uint32_t w = _hv_hdr(h, off), size = _hv_bsize(w);
    const hv_side_t *s = _hv_side(h, off);
    uint32_t flags = _hv_side_flags(s, off);
    bool mine = flags != 0, live = flags & HV_SIDE_LIVE;
    bool alloc = _hv_balloc(w);
    uint32_t tail = alloc ? h->ftr : h->fftr;
    *b = (hv_block_t){
        .addr = _hv_uaddr(h, off),
        .size = size,
        .payload = _hv_uaddr(h, off + h->hs),
        .payload_size = size - h->hs - h->ftr,
        .header = w,
        .footer = tail ? _hv_ftr(h, off, size) : 0,
        .magic = h->ar->cfg.magic ? _hv_w(h, off)[1] : 0,
        .prev_alloc = _hv_bprev(w),
        .has_footer = tail != 0,
        .seq = mine ? _hv_side_seq(h, s) : 0,
        .site = mine ? s->site : 0,
        .gen = mine ? _hv_side_gen(s) : 0,
        .list = -1,
    };
    if (alloc) {
        b->state =
            live && (flags & HV_SIDE_SBRK) ? HV_BLOCK_SBRK : HV_BLOCK_ALLOCATED;
        b->requested = live ? s->size : 0;
        return;
    }
    uint32_t next = _hv_next(h, off), prev = _hv_prev(h, off);
    b->state = HV_BLOCK_FREE;
    b->free_site = flags & HV_SIDE_FREED ? s->size : 0;
    b->list = h->pol->list_of(h, size);
    b->next_free = next == HV_NIL ? 0 : _hv_uaddr(h, next);
    b->prev_free = prev == HV_NIL ? 0 : _hv_uaddr(h, prev);
}

static void damaged(const hv_heap_t *h, hv_walk_state_t *st, uint32_t off,
                    const char *why)
{
    if (!st) return;
    st->stop = HV_WALK_DAMAGED;
    st->at = off;
    snprintf(st->why, sizeof st->why, "block at %#llx: %s",
             (unsigned long long)_hv_uaddr(h, off), why);
}

int _hv_walk_heap(const hv_heap_t *h, hv_visit_fn fn, void *arg,
                  hv_walk_state_t *st)
{
    uint64_t end = h->ar->brk - h->epi_size;
    uint32_t off = h->heap_pad;
    hv_block_t b;
    if (st) *st = (hv_walk_state_t){.stop = HV_WALK_DONE};
    if (h->ar->brk < (uint64_t)h->heap_pad + h->epi_size) {
        damaged(h, st, 0, "the break is below the first block");
        return 0;
    }
    while (off < end) {
        uint32_t w = _hv_hdr(h, off);
        if (!_hv_size_ok(h, off, w)) {
            damaged(h, st, off, "its size leads outside the heap");
            return 0;
        }
        _hv_describe(h, off, &b);
        int r = fn(&b, arg);
        if (r) {
            if (st) st->stop = HV_WALK_VISITOR;
            return r;
        }
        off += _hv_bsize(w);
    }
    if (h->epi_size &&
        _hv_hdr(h, off) != (_hv_hdr(h, off) & HV_BIT_PREV) + HV_BIT_ALLOC)
        damaged(h, st, off, "the epilogue header is damaged");
    return 0;
}

static void describe_map(const hv_heap_t *h, const hv_map_t *m, hv_block_t *b)
{
    bool chunk = m->state == HV_BLOCK_MMAPPED;
    const uint32_t *hdr = (const uint32_t *)(const void *)(h->mmap + m->off);
    *b = (hv_block_t){
        .addr = _hv_map_addr(m),
        .size = m->size,
        .payload = _hv_map_addr(m) + (chunk ? HV_CHUNK_HDR : 0),
        .payload_size = m->size - (chunk ? HV_CHUNK_HDR : 0),
        .requested = m->requested,
        .state = (hv_block_state_t)m->state,
        .header = chunk ? hdr[0] : 0,
        .magic = chunk ? hdr[2] : 0,
        .seq = m->seq,
        .site = m->site,
        .gen = m->gen,
        .list = -1,
    };
}

static void describe_obj(const hv_heap_t *h, const hv_stack_obj_t *o,
                         hv_block_t *b)
{
    hv_addr_t a = HV_STACK_TOP - h->ar->stack_max + o->off;
    *b = (hv_block_t){
        .addr = a,
        .size = o->size,
        .payload = a,
        .payload_size = o->size,
        .requested = o->size,
        .state = HV_BLOCK_STACK,
        .seq = o->seq,
        .site = o->site,
        .gen = o->gen,
        .list = -1,
    };
}

int hv_walk(const hv_heap_t *h, hv_visit_fn fn, void *arg)
{
    const hv_arena_t *ar = h->ar;
    hv_block_t b;
    int r = _hv_walk_heap(h, fn, arg, NULL);
    for (uint32_t i = 0; !r && i < ar->nmaps && i < HV_MAPS_MAX; i++) {
        describe_map(h, &ar->maps[i], &b);
        r = fn(&b, arg);
    }
    /* stack objects were pushed downwards: the last is the lowest */
    uint32_t n = ar->nobjs < HV_STACK_OBJS_MAX ? ar->nobjs : 0;
    for (uint32_t i = n; !r && i-- > 0;) {
        describe_obj(h, &ar->objs[i], &b);
        r = fn(&b, arg);
    }
    return r;
}

/* ------------------------------------------------------------------------
 * Free lists
 * ---------------------------------------------------------------------- */
int _hv_walk_list(const hv_heap_t *h, int list, hv_visit_fn fn, void *arg,
                  hv_walk_state_t *st)
{
    const hv_arena_t *ar = h->ar;
    hv_block_t b;
    if (st) *st = (hv_walk_state_t){.stop = HV_WALK_DONE};
    if (list < 0 || list >= (int)ar->nlists) return 0;
    uint32_t cur = ar->head[list];
    for (uint32_t n = 0; cur != HV_NIL; n++) {
        if (n >= ar->count[list]) {
            damaged(h, st, cur, "the free list is longer than its count");
            return 0;
        }
        if (!_hv_start_ok(h, cur) || !_hv_size_ok(h, cur, _hv_hdr(h, cur)) ||
            _hv_balloc(_hv_hdr(h, cur))) {
            damaged(h, st, cur,
                    "a free list links to it, but it is not a free block");
            return 0;
        }
        _hv_describe(h, cur, &b);
        int r = fn(&b, arg);
        if (r) {
            if (st) st->stop = HV_WALK_VISITOR;
            return r;
        }
        cur = _hv_next(h, cur);
    }
    return 0;
}

int hv_walk_free_list(const hv_heap_t *h, int list, hv_visit_fn fn, void *arg)
{
    return _hv_walk_list(h, list, fn, arg, NULL);
}

int hv_free_list_count(const hv_heap_t *h)
{
    return (int)h->ar->nlists;
}

void hv_free_list_range(const hv_heap_t *h, int list, uint64_t *lo,
                        uint64_t *hi)
{
    *lo = *hi = 0;
    if (list >= 0 && list < (int)h->ar->nlists)
        h->pol->list_range(h, list, lo, hi);
}

hv_addr_t hv_rover(const hv_heap_t *h)
{
    uint32_t r = h->ar->rover;
    return h->ar->cfg.policy == HV_POLICY_NEXT && r != HV_NIL ? _hv_uaddr(h, r)
                                                              : 0;
}

/* ------------------------------------------------------------------------
 * Finding one block
 * ---------------------------------------------------------------------- */
typedef struct find {
    hv_addr_t a;
    bool exact; /* a must be the block start */
    hv_block_t *out;
} find_t;

static int visit_find(const hv_block_t *b, void *arg)
{
    find_t *f = arg;
    if (f->exact ? b->addr != f->a : f->a - b->addr >= b->size)
        return f->a < b->addr ? -1 : 0; /* passed it: stop */
    *f->out = *b;
    return 1;
}

/* O(1) for allocated blocks: the side table knows where they start. */
static bool from_side(const hv_heap_t *h, uint32_t off, hv_block_t *out)
{
    if (!(_hv_side_flags(_hv_side(h, off), off) & HV_SIDE_LIVE) ||
        !_hv_start_ok(h, off) || off >= h->ar->brk - h->epi_size)
        return false;
    uint32_t w = _hv_hdr(h, off);
    if (!_hv_balloc(w) || !_hv_size_ok(h, off, w)) return false;
    _hv_describe(h, off, out);
    return true;
}

static hv_err_t find_mapped(const hv_heap_t *h, hv_addr_t a, bool exact,
                            hv_block_t *out)
{
    const hv_arena_t *ar = h->ar;
    const hv_map_t *m = _hv_map_find(h, a);
    if (m && (!exact || _hv_map_addr(m) == a)) {
        describe_map(h, m, out);
        return HV_OK;
    }
    for (uint32_t i = 0; i < ar->nobjs && i < HV_STACK_OBJS_MAX; i++) {
        describe_obj(h, &ar->objs[i], out);
        if (exact ? out->addr == a : a - out->addr < out->size) return HV_OK;
    }
    return HV_EFAULT;
}

static hv_err_t find_block(const hv_heap_t *h, hv_addr_t a, bool exact,
                           hv_block_t *out)
{
    const hv_arena_t *ar = h->ar;
    if (a < h->base || a >= h->base + ar->brk)
        return find_mapped(h, a, exact, out);
    uint32_t off = (uint32_t)(a - h->base);
    if (exact && from_side(h, off, out)) return HV_OK;
    /* the nearest allocated start at or below a, if it covers a */
    for (uint32_t i = 0; !exact && i < 8 && i <= (off >> 4); i++) {
        uint32_t idx = (off >> 4) - i;
        uint32_t start = _hv_side_start(&h->side[idx], idx);
        if (start <= off && from_side(h, start, out)) {
            if (a - out->addr < out->size) return HV_OK;
            break;
        }
    }
    find_t f = {.a = a, .exact = exact, .out = out};
    return _hv_walk_heap(h, visit_find, &f, NULL) == 1 ? HV_OK : HV_EFAULT;
}

hv_err_t hv_block_containing(const hv_heap_t *h, hv_addr_t a, hv_block_t *out)
{
    return find_block(h, a, false, out);
}

hv_err_t hv_block_at(const hv_heap_t *h, hv_addr_t start, hv_block_t *out)
{
    return find_block(h, start, true, out);
}

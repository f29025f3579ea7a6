/* policy_buddy.c — binary buddy allocation (Knowlton 1965; TAOCP 2.5).
 *
 * Every block is 2^k bytes and starts at a multiple of its size, so its
 * buddy — the other half of the block it was split from — is at
 * off XOR size.  malloc rounds the request (plus header) up to a power of
 * two, takes the smallest free block of at least that order and halves it
 * until it fits, each upper half going onto the list of its order.  free
 * merges the block with its buddy as long as the buddy is free and whole,
 * so no two free buddies ever sit side by side.  The heap itself is one
 * block: it grows by doubling, the old heap becoming the left buddy of
 * the new space.
 *
 * Blocks keep the usual header word (size | allocated) in a header of
 * `align` bytes, so payloads stay aligned; no footers, no epilogue.  List
 * i holds order min_order + i, in address order. */
#include "block.h"
#include "policy.h"

static uint32_t log2u(uint64_t x)
{
    return 63 - (uint32_t)__builtin_clzll(x);
}

static uint64_t pow2_at_least(uint64_t x)
{
    return x <= 1 ? 1 : 1ull << (log2u(x - 1) + 1);
}

/* The largest heap: the biggest power of two within the reservation. */
static uint64_t top(const hv_heap_t *h)
{
    return 1ull << log2u(h->ar->heap_max);
}

/* The list of a block of `size` bytes; -1 for a size no buddy block has
 * (only a damaged header says so). */
static int list_of(const hv_heap_t *h, uint32_t size)
{
    if (size < h->min_block || (size & (size - 1))) return -1;
    return (int)(log2u(size) - log2u(h->min_block));
}

/* A block a header claims: a power of two, aligned to its size, inside
 * the heap. */
static bool whole(const hv_heap_t *h, uint32_t off, uint32_t size)
{
    return list_of(h, size) >= 0 && off % size == 0 &&
           (uint64_t)off + size <= h->ar->brk;
}

static int list_count(const hv_heap_t *h)
{
    return list_of(h, (uint32_t)top(h)) + 1;
}

static void list_range(const hv_heap_t *h, int list, uint64_t *lo, uint64_t *hi)
{
    *lo = *hi = (uint64_t)h->min_block << list;
}

static uint32_t adjust(const hv_heap_t *h, uint64_t n)
{
    uint64_t a = pow2_at_least(n + h->hs);
    return a < h->min_block ? h->min_block : (uint32_t)a;
}

static void make_free(hv_heap_t *h, uint32_t off, uint32_t size)
{
    _hv_put_hdr(h, off, _hv_pack(size, false, false));
    _hv_shadow_free_block(h, off, size);
}

static void init(hv_heap_t *h)
{
    uint64_t size = h->ar->cfg.size > HV_PAGE ? h->ar->cfg.size : HV_PAGE;
    size = pow2_at_least(size);
    h->ar->brk = size < top(h) ? size : top(h);
    make_free(h, 0, (uint32_t)h->ar->brk);
    _hv_list_insert(h, 0);
}

/* Merge the free block at *off (on no list) with its buddies. */
static hv_err_t merge_up(hv_heap_t *h, uint32_t *off)
{
    uint32_t o = *off, size = _hv_bsize(_hv_hdr(h, o));
    while (size < h->ar->brk) {
        uint32_t buddy = o ^ size, w = _hv_hdr(h, buddy);
        if (_hv_balloc(w) || _hv_bsize(w) != size) break;
        hv_err_t err = _hv_list_remove(h, buddy);
        if (err) return err;
        uint32_t left = o < buddy ? o : buddy, right = o ^ buddy ^ left;
        _hv_put_hdr(h, left, _hv_pack(2 * size, false, false));
        _hv_shadow_merge(h, left, right, size);
        h->ar->c.n_coalesce++;
        _hv_emit(h, HV_EV_COALESCE, HV_EVF_SUB, _hv_uaddr(h, left), 2 * size,
                 _hv_uaddr(h, right), size);
        o = left;
        size *= 2;
    }
    *off = o;
    return HV_OK;
}

/* Double the heap: the new half is the old heap's buddy. */
static hv_err_t grow(hv_heap_t *h)
{
    uint64_t old = h->ar->brk;
    if (old * 2 > top(h)) return HV_ENOMEM;
    uint32_t off = (uint32_t)old;
    h->ar->brk = old * 2;
    _hv_arena_populate(h);
    make_free(h, off, (uint32_t)old);
    h->ar->c.n_grow++;
    _hv_emit(h, HV_EV_GROW, HV_EVF_SUB, _hv_uaddr(h, off), old, 0, 0);
    hv_err_t err = merge_up(h, &off);
    return err ? err : _hv_list_insert(h, off);
}

/* Halve the block at off (size `size`) down to asize; upper halves go to
 * their lists.  The block's own header is left to the caller. */
static hv_err_t halve(hv_heap_t *h, uint32_t off, uint32_t size, uint32_t asize)
{
    for (; size > asize; size /= 2) {
        uint32_t half = size / 2;
        make_free(h, off + half, half);
        hv_err_t err = _hv_list_insert(h, off + half);
        if (err) return err;
        h->ar->c.n_split++;
        _hv_emit(h, HV_EV_SPLIT, HV_EVF_SUB, _hv_uaddr(h, off), half,
                 _hv_uaddr(h, off + half), half);
    }
    return HV_OK;
}

static hv_err_t alloc(hv_heap_t *h, uint32_t asize, uint32_t *off,
                      uint32_t *searched)
{
    int want = list_of(h, asize), list;
    hv_err_t err;
    if (asize > top(h)) return HV_ENOMEM;
    while ((list = _hv_list_next_nonempty(h, want)) < 0)
        if ((err = grow(h))) return err;
    uint32_t o = h->ar->head[list], size = h->min_block << list;
    if (o % size || !whole(h, o, size) ||
        _hv_hdr(h, o) != _hv_pack(size, false, false))
        return HV_ECORRUPT;
    *searched = (uint32_t)(list - want + 1);
    _hv_emit(h, HV_EV_PLACE, HV_EVF_SUB, _hv_uaddr(h, o), size, *searched,
             (uint64_t)list);
    if ((err = _hv_list_remove(h, o)) || (err = halve(h, o, size, asize)))
        return err;
    _hv_put_hdr(h, o, _hv_pack(asize, true, false));
    *off = o;
    return HV_OK;
}

static hv_err_t release(hv_heap_t *h, uint32_t off)
{
    if (!whole(h, off, _hv_bsize(_hv_hdr(h, off)))) return HV_ECORRUPT;
    make_free(h, off, _hv_bsize(_hv_hdr(h, off)));
    hv_err_t err = merge_up(h, &off);
    return err ? err : _hv_list_insert(h, off);
}

static hv_err_t shrink(hv_heap_t *h, uint32_t off, uint32_t asize)
{
    uint32_t size = _hv_bsize(_hv_hdr(h, off));
    if (!whole(h, off, size)) return HV_ECORRUPT;
    if (asize >= size) return HV_OK;
    h->ar->c.in_use -= size - asize;
    _hv_put_hdr(h, off, _hv_pack(asize, true, false));
    return halve(h, off, size, asize);
}

const hv_policy_ops_t _hv_policy_buddy = {
    .name = "buddy",
    .order = HV_ORDER_ADDRESS,
    .list_of = list_of,
    .list_count = list_count,
    .list_range = list_range,
    .init = init,
    .adjust = adjust,
    .alloc = alloc,
    .release = release,
    .shrink = shrink,
};

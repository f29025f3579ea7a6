/* freelist.h — the free lists' hot path, inline: the O(1) swap by which a
 * split remainder or a merged block takes over its list entry (malloc and
 * free each do one), and the checks it makes.  The rest of the list
 * machinery is in freelist.c.  *Why inline:* as calls, the swap and its
 * helpers were a tenth of a malloc/free pair (bench/RESULTS.md). */
#ifndef HEAPVIZ_FREELIST_H
#define HEAPVIZ_FREELIST_H

#include "block.h"
#include "policy.h"

/* The list a free block of `size` bytes belongs on. */
static inline int _hv_list_of(const hv_heap_t *h, uint32_t size)
{
    return h->one_list ? 0 : h->pol->list_of(h, size);
}

/* Does block a belong before block b in the list's order? */
static inline bool _hv_list_before(const hv_heap_t *h, uint32_t a, uint32_t b)
{
    if (h->order != HV_ORDER_SIZE && h->order != HV_ORDER_SIZE_DESC)
        return a < b;
    uint32_t sa = _hv_bsize(_hv_hdr(h, a)), sb = _hv_bsize(_hv_hdr(h, b));
    if (h->order == HV_ORDER_SIZE) return sa < sb || (sa == sb && a < b);
    return sa > sb || (sa == sb && a < b);
}

/* Enough to write a free block's links through off safely: inside the
 * heap and word-aligned.  Whether it really is a free block is what the
 * back-pointer checks below establish. */
static inline bool _hv_link_ok(const hv_heap_t *h, uint32_t off)
{
    return !(off & 3) && (uint64_t)off + h->min_block <= h->ar->brk;
}

/* glibc's "corrupted double-linked list" check: both neighbours must point
 * back at us before we unlink. */
static inline bool _hv_links_agree(const hv_heap_t *h, int list, uint32_t off,
                                   uint32_t prev, uint32_t next)
{
    const hv_arena_t *ar = h->ar;
    if (prev == HV_NIL ? ar->head[list] != off
                       : !_hv_link_ok(h, prev) || _hv_next(h, prev) != off)
        return false;
    if (next == HV_NIL ? ar->tail[list] != off
                       : !_hv_link_ok(h, next) || _hv_prev(h, next) != off)
        return false;
    return ar->count[list] > 0;
}

/* Would blk, put where old is, keep the list in order?  Then unlinking
 * old and inserting blk would have put it exactly there. */
static inline bool _hv_fits_there(const hv_heap_t *h, int list, uint32_t blk,
                                  uint32_t prev, uint32_t next)
{
    switch (h->order) {
    case HV_ORDER_LIFO:
        return prev == HV_NIL;
    case HV_ORDER_FIFO:
        return next == HV_NIL;
    default:
        return (prev == HV_NIL || _hv_list_before(h, prev, blk)) &&
               (next == HV_NIL || _hv_list_before(h, blk, next)) &&
               h->ar->head[list] != blk;
    }
}

hv_err_t _hv_list_move(hv_heap_t *h, int list, uint32_t old, uint32_t old_size,
                       uint32_t prev, uint32_t next, uint32_t blk);

/* A split or a merge turned the listed free block old (old_size bytes)
 * into the free block blk (header written; blk may be old itself).  Move
 * the list entry over in place when that is where blk belongs — the
 * common case, and O(1) where an ordered insert would walk — else unlink
 * and insert. */
static HV_ALWAYS_INLINE hv_err_t _hv_list_swap(hv_heap_t *h, uint32_t old,
                                               uint32_t old_size, uint32_t blk)
{
    hv_arena_t *ar = h->ar;
    uint32_t size = _hv_bsize(_hv_hdr(h, blk));
    int list = _hv_list_of(h, old_size);
    uint32_t prev = _hv_prev(h, old), next = _hv_next(h, old);
    if (list < 0 || list >= (int)ar->nlists ||
        !_hv_links_agree(h, list, old, prev, next))
        return HV_ECORRUPT;
    if (list != _hv_list_of(h, size) ||
        !_hv_fits_there(h, list, blk, prev, next))
        return _hv_list_move(h, list, old, old_size, prev, next, blk);
    _hv_set_next(h, blk, next);
    _hv_set_prev(h, blk, prev);
    if (prev == HV_NIL)
        ar->head[list] = blk;
    else
        _hv_set_next(h, prev, blk);
    if (next == HV_NIL)
        ar->tail[list] = blk;
    else
        _hv_set_prev(h, next, blk);
    if (ar->rover == old) /* as if unlinked: the rover moves on */
        ar->rover = next != HV_NIL   ? next
                    : prev != HV_NIL ? ar->head[list]
                                     : HV_NIL;
    ar->c.free_bytes += (uint64_t)size - old_size;
    return HV_OK;
}

#endif /* HEAPVIZ_FREELIST_H */

/* block.c — writing blocks: header and footer words, the neighbour's
 * prev-allocated bit, split and coalesce.  Every list policy shares these;
 * the layout itself is drawn in block.h.
 *
 * Coalescing follows the boundary-tag method (Knuth, TAOCP 2.5): the
 * previous block is reached through its footer, which only free blocks
 * need because the header's prev-allocated bit says when to look. */
#include "block.h"
#include "freelist.h"
#include "policy.h"

void _hv_block_tell_next(hv_heap_t *h, uint32_t off, uint32_t size, bool alloc)
{
    uint32_t next = off + size;
    if ((uint64_t)next + h->hs > h->ar->brk) return;
    uint32_t w = _hv_hdr(h, next);
    uint32_t nw = alloc ? w | HV_BIT_PREV : w & ~HV_BIT_PREV;
    if (nw == w) return;
    *_hv_w(h, next) = nw;
    /* keep header == footer where there is one (never "repair" a damaged
     * footer, and an allocated block without footer has payload there) */
    uint32_t ns = _hv_bsize(w);
    bool footed = _hv_balloc(w) ? h->ftr : h->fftr;
    if (ns && footed && _hv_size_ok(h, next, w) && _hv_ftr(h, next, ns) == w)
        _hv_put_ftr(h, next, ns, nw);
}

void _hv_block_set_free(hv_heap_t *h, uint32_t off, uint32_t size, bool prev)
{
    uint32_t w = _hv_pack(size, false, prev);
    _hv_put_hdr(h, off, w);
    if (h->fftr) _hv_put_ftr(h, off, size, w);
    _hv_block_tell_next(h, off, size, false);
}

void _hv_block_set_alloc(hv_heap_t *h, uint32_t off, uint32_t size, bool prev)
{
    uint32_t w = _hv_pack(size, true, prev);
    _hv_put_hdr(h, off, w);
    if (h->ftr) _hv_put_ftr(h, off, size, w);
    _hv_block_tell_next(h, off, size, true);
}

/* Cut the block at off down to `keep` bytes when the rest is at least
 * split_min; the rest becomes a free block (not yet on a list).  Returns
 * the remainder's offset or HV_NIL. */
uint32_t _hv_block_split(hv_heap_t *h, uint32_t off, uint32_t keep)
{
    uint32_t w = _hv_hdr(h, off), size = _hv_bsize(w);
    if (size < keep || size - keep < h->split_min) return HV_NIL;
    uint32_t rem = off + keep, rsize = size - keep;
    uint32_t nw = _hv_pack(keep, _hv_balloc(w), _hv_bprev(w));
    _hv_put_hdr(h, off, nw);
    if (h->ftr || !_hv_balloc(w)) _hv_put_ftr(h, off, keep, nw);
    _hv_block_set_free(h, rem, rsize, _hv_balloc(w));
    h->ar->c.n_split++;
    _hv_emit(h, HV_EV_SPLIT, HV_EVF_SUB, _hv_uaddr(h, off), keep,
             _hv_uaddr(h, rem), rsize);
    return rem;
}

/* malloc's half of the hot path: the free block at off (size bytes,
 * already off its list) yields an allocated block of asize bytes, at its
 * front — or at its back when `back` — and the rest, when at least
 * split_min, stays a free block, returned (on no list yet); else HV_NIL
 * and the whole block is allocated.  *blk is the allocated block.
 * Only the block after an allocated end needs its prev bit told. */
uint32_t _hv_block_take(hv_heap_t *h, uint32_t off, uint32_t size,
                        uint32_t asize, bool prev, bool back, uint32_t *blk)
{
    uint32_t rsize = size - asize;
    *blk = off;
    if (rsize < h->split_min) {
        _hv_block_set_alloc(h, off, size, prev);
        return HV_NIL;
    }
    uint32_t a = back ? off + rsize : off, rem = back ? off : off + asize;
    uint32_t w = _hv_pack(asize, true, back ? false : prev);
    uint32_t rw = _hv_pack(rsize, false, back ? prev : true);
    _hv_put_hdr(h, rem, rw);
    _hv_put_ftr(h, rem, rsize, rw);
    _hv_put_hdr(h, a, w);
    if (h->ftr) _hv_put_ftr(h, a, asize, w);
    if (back) _hv_block_tell_next(h, a, asize, true);
    h->ar->c.n_split++;
    uint32_t keep = back ? rsize : asize; /* the part that stays at off */
    _hv_emit(h, HV_EV_SPLIT, HV_EVF_SUB, _hv_uaddr(h, off), keep,
             _hv_uaddr(h, off + keep), size - keep);
    *blk = a;
    return rem;
}

/* Join the block at left with its right neighbour (left keeps its state). */
static HV_ALWAYS_INLINE void merge(hv_heap_t *h, uint32_t left, uint32_t right,
                                   uint32_t rsize)
{
    uint32_t w = _hv_hdr(h, left), lsize = right - left;
    uint32_t nw = _hv_pack(lsize + rsize, _hv_balloc(w), _hv_bprev(w));
    _hv_put_hdr(h, left, nw);
    if (h->ftr || !_hv_balloc(w)) _hv_put_ftr(h, left, lsize + rsize, nw);
    if (!_hv_balloc(w)) _hv_shadow_merge(h, left, right, rsize);
    h->ar->c.n_coalesce++;
    _hv_emit(h, HV_EV_COALESCE, HV_EVF_SUB, _hv_uaddr(h, left), lsize + rsize,
             _hv_uaddr(h, right), rsize);
}

/* The free block before off, checked through its footer. */
hv_err_t _hv_block_prev(const hv_heap_t *h, uint32_t off, uint32_t *prev)
{
    if (off < h->heap_pad + h->min_block) return HV_ECORRUPT;
    uint32_t fw = *_hv_w(h, off - 4), psize = _hv_bsize(fw);
    if (psize > off - h->heap_pad || psize < h->min_block) return HV_ECORRUPT;
    uint32_t p = off - psize;
    if (!_hv_start_ok(h, p) || _hv_hdr(h, p) != fw || _hv_balloc(fw))
        return HV_ECORRUPT;
    *prev = p;
    return HV_OK;
}

/* The free block after the block at off, or HV_NIL. */
static HV_ALWAYS_INLINE hv_err_t next_free(const hv_heap_t *h, uint32_t off,
                                           uint32_t *next)
{
    uint32_t n = off + _hv_bsize(_hv_hdr(h, off));
    *next = HV_NIL;
    if ((uint64_t)n + h->hs > h->ar->brk) return HV_ECORRUPT;
    uint32_t w = _hv_hdr(h, n);
    if (_hv_balloc(w)) return HV_OK;
    if (!_hv_size_ok(h, n, w) || _hv_ftr(h, n, _hv_bsize(w)) != w)
        return HV_ECORRUPT;
    *next = n;
    return HV_OK;
}

/* The free block at *off (header and footer written, on no list) joins
 * the free lists — when `coalesce`, first merged with its free
 * neighbours, whose list entries it takes over where it can (an O(1) move
 * where an ordered insert would walk).  *off is the block now listed. */
hv_err_t _hv_block_join(hv_heap_t *h, uint32_t *off, bool coalesce)
{
    uint32_t cur = *off, p = HV_NIL, n = HV_NIL;
    uint32_t size = _hv_bsize(_hv_hdr(h, cur));
    hv_err_t err;
    if (coalesce && !_hv_bprev(_hv_hdr(h, cur)) &&
        (err = _hv_block_prev(h, cur, &p)))
        return err;
    if (coalesce && (err = next_free(h, cur, &n))) return err;
    uint32_t nsize = n == HV_NIL ? 0 : _hv_bsize(_hv_hdr(h, n));
    if (p != HV_NIL) { /* the block before swallows us (and the next) */
        uint32_t psize = cur - p;
        if (n != HV_NIL && (err = _hv_list_unlink(h, n, nsize))) return err;
        merge(h, p, cur, size);
        if (n != HV_NIL) merge(h, p, n, nsize);
        *off = p;
        return _hv_list_swap(h, p, psize, p);
    }
    if (n == HV_NIL) return _hv_list_insert(h, cur);
    merge(h, cur, n, nsize); /* we swallow the next and take its place */
    return _hv_list_swap(h, n, nsize, cur);
}

/* free's half of the hot path: the allocated block at *off becomes free
 * and joins the lists (merged with its neighbours under immediate
 * coalescing).  *off is the block now listed. */
hv_err_t _hv_block_free(hv_heap_t *h, uint32_t *off)
{
    uint32_t cur = *off, w = _hv_hdr(h, cur), size = _hv_bsize(w);
    _hv_put_hdr(h, cur, w & ~HV_BIT_ALLOC);
    _hv_put_ftr(h, cur, size, w & ~HV_BIT_ALLOC);
    _hv_shadow_free_block(h, cur, size);
    bool merge = h->ar->cfg.coalesce == HV_COALESCE_IMMEDIATE;
    uint32_t end = cur + size;
    hv_err_t err = _hv_block_join(h, &cur, merge);
    uint32_t nsize = _hv_bsize(_hv_hdr(h, cur));
    /* a free block swallowed after us already told its successor */
    if (!err && cur + nsize == end) _hv_block_tell_next(h, cur, nsize, false);
    *off = cur;
    return err;
}

/* realloc growing in place: the allocated block at off swallows the free
 * block after it (the caller checked there is one). */
hv_err_t _hv_block_absorb_next(hv_heap_t *h, uint32_t off)
{
    uint32_t n;
    hv_err_t err = next_free(h, off, &n);
    if (err || n == HV_NIL) return err ? err : HV_EINVAL;
    if ((err = _hv_list_remove(h, n))) return err;
    uint32_t nsize = _hv_bsize(_hv_hdr(h, n));
    merge(h, off, n, nsize);
    _hv_block_tell_next(h, off, _hv_bsize(_hv_hdr(h, off)), true);
    return HV_OK;
}

/* Deferred coalescing: one pass over the heap merging every run of free
 * blocks.  *merged tells whether anything changed. */
hv_err_t _hv_coalesce_all(hv_heap_t *h, bool *merged)
{
    uint32_t off = h->heap_pad, end = _hv_epilogue(h), n;
    hv_err_t err;
    *merged = false;
    while (off < end) {
        uint32_t w = _hv_hdr(h, off);
        if (!_hv_size_ok(h, off, w)) return HV_ECORRUPT;
        if (!_hv_balloc(w)) {
            if ((err = next_free(h, off, &n))) return err;
            if (n != HV_NIL && (err = _hv_list_remove(h, off))) return err;
            for (; n != HV_NIL; *merged = true) {
                if ((err = _hv_list_remove(h, n))) return err;
                merge(h, off, n, _hv_bsize(_hv_hdr(h, n)));
                if ((err = next_free(h, off, &n))) return err;
            }
            if (_hv_bsize(_hv_hdr(h, off)) != _hv_bsize(w) &&
                (err = _hv_list_insert(h, off)))
                return err;
        }
        off += _hv_bsize(_hv_hdr(h, off));
    }
    h->ar->unmerged = 0;
    return HV_OK;
}

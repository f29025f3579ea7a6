/* brk.c — the break: the first heap, growing it for a request, and the
 * chapter's sbrk.
 *
 * The heap is [pad | blocks ... | epilogue] and the break is just past the
 * epilogue header.  Growing turns the old epilogue into the header of a
 * new free block and writes a new epilogue at the new break; the increment
 * is whole pages, only as many as the request is short of (a free block
 * at the top of the heap counts towards it). */
#include "block.h"
#include "policy.h"

static void put_epilogue(hv_heap_t *h, bool prev)
{
    uint32_t epi = _hv_epilogue(h);
    _hv_put_hdr(h, epi, _hv_pack(0, true, prev));
    _hv_shadow_fill(h, epi, h->hs, HV_SH_META);
}

void _hv_brk_init(hv_heap_t *h)
{
    hv_arena_t *ar = h->ar;
    uint64_t first = h->heap_pad + h->hs; /* the smallest break */
    uint64_t brk = _hv_round_up(ar->cfg.size, HV_PAGE);
    if (brk > ar->heap_max) /* max_size need not be whole pages */
        brk = ar->heap_max;
    if (brk < first + h->min_block) brk = first;
    ar->brk = brk;
    _hv_shadow_fill(h, 0, h->heap_pad, HV_SH_META);
    put_epilogue(h, true);
    if (brk == first) return;
    _hv_block_set_free(h, h->heap_pad, (uint32_t)(brk - first), true);
    _hv_shadow_free_block(h, h->heap_pad, (uint32_t)(brk - first));
    _hv_list_insert(h, h->heap_pad);
}

/* Move the break up by incr bytes; the new space becomes a free block at
 * *block (on no list, not merged). */
hv_err_t _hv_brk_grow(hv_heap_t *h, uint64_t incr, uint32_t *block)
{
    hv_arena_t *ar = h->ar;
    if (ar->brk + incr > ar->heap_max) return HV_ENOMEM;
    if (incr < h->min_block) return HV_EINVAL;
    uint32_t off = _hv_epilogue(h);
    bool prev = _hv_bprev(_hv_hdr(h, off));
    uint64_t old = ar->brk;
    ar->brk += incr;
    _hv_arena_populate(h);
    put_epilogue(h, false);
    _hv_block_set_free(h, off, (uint32_t)incr, prev);
    _hv_shadow_free_block(h, off, (uint32_t)incr);
    ar->c.n_grow++;
    _hv_emit(h, HV_EV_GROW, HV_EVF_SUB, h->base + old, incr, 0, 0);
    *block = off;
    return HV_OK;
}

/* Grow so that a free block of at least `need` bytes ends at the
 * epilogue; *block is that block, on its free list. */
hv_err_t _hv_brk_extend_for(hv_heap_t *h, uint32_t need, uint32_t *block)
{
    uint32_t epi = _hv_epilogue(h), top, nb, have = 0;
    bool merge = h->ar->cfg.coalesce != HV_COALESCE_NONE;
    hv_err_t err;
    if (merge && !_hv_bprev(_hv_hdr(h, epi))) {
        if ((err = _hv_block_prev(h, epi, &top))) return err;
        have = epi - top;
        if (have >= need) { /* big enough already (a search may stop short) */
            *block = top;
            return HV_OK;
        }
    }
    uint64_t incr = _hv_round_up(need - have, HV_PAGE);
    if ((err = _hv_brk_grow(h, incr, &nb))) return err;
    err = _hv_block_join(h, &nb, merge);
    *block = nb;
    return err;
}

hv_addr_t hv_brk(const hv_heap_t *h)
{
    return h->base + h->ar->brk;
}

/* sbrk(n > 0): the old epilogue becomes the header of a block the caller
 * owns, whose payload starts exactly at the old break. */
static hv_err_t sbrk_up(hv_heap_t *h, uint64_t n, hv_addr_t *old)
{
    hv_arena_t *ar = h->ar;
    uint64_t size = _hv_round_up(n + h->hs + h->ftr, h->align);
    if (size < h->min_block) size = h->min_block;
    if (n > ar->heap_max || ar->brk + size > ar->heap_max) {
        ar->c.n_failed++;
        _hv_emit(h, HV_EV_FAIL, HV_EVF_SUB, 0, n, HV_FAIL_NOMEM, 0);
        return HV_ENOMEM;
    }
    uint32_t off = _hv_epilogue(h);
    bool prev = _hv_bprev(_hv_hdr(h, off));
    *old = h->base + ar->brk;
    ar->brk += size;
    _hv_arena_populate(h);
    put_epilogue(h, true);
    _hv_block_set_alloc(h, off, (uint32_t)size, prev);
    _hv_side_live(_hv_side(h, off), off, h->cur_op, h->cur_site, (uint32_t)n,
                  HV_SIDE_LIVE | HV_SIDE_SBRK);
    _hv_shadow_alloc_block(h, off, (uint32_t)size, n, HV_SH_UNINIT);
    ar->c.in_use += size;
    ar->c.alloc_blocks++;
    ar->c.n_grow++;
    _hv_emit(h, HV_EV_GROW, 0, *old, size, n, 0); /* a: bytes asked for */
    return HV_OK;
}

/* sbrk(n < 0): give back the end of a free top block. */
static hv_err_t sbrk_down(hv_heap_t *h, uint64_t n, hv_addr_t *old)
{
    hv_arena_t *ar = h->ar;
    uint32_t epi = _hv_epilogue(h), top;
    uint64_t d = _hv_round_up(n, h->align);
    if (_hv_bprev(_hv_hdr(h, epi)) || _hv_block_prev(h, epi, &top))
        return HV_EINVAL;
    uint32_t tsize = epi - top, w = _hv_hdr(h, top);
    if (d > tsize || (d < tsize && tsize - d < h->min_block)) return HV_EINVAL;
    hv_err_t err = _hv_list_remove(h, top);
    if (err) return err;
    *old = h->base + ar->brk;
    _hv_shadow_fill(h, epi + h->hs - d, d, HV_SH_UNMAPPED);
    ar->brk -= d;
    put_epilogue(h, d < tsize ? false : _hv_bprev(w));
    if (d < tsize) {
        _hv_block_set_free(h, top, (uint32_t)(tsize - d), _hv_bprev(w));
        _hv_shadow_fill(h, _hv_epilogue(h) - 4, 4, HV_SH_META);
        err = _hv_list_insert(h, top);
    }
    _hv_emit(h, HV_EV_SHRINK, 0, h->base + ar->brk, d, 0, 0);
    return err;
}

hv_err_t hv_sbrk(hv_heap_t *h, int64_t incr, uint32_t site, hv_addr_t *old)
{
    *old = 0;
    if (h->readonly) return HV_EREADONLY;
    if (incr == 0) {
        *old = hv_brk(h);
        return HV_OK;
    }
    if (h->ar->cfg.policy == HV_POLICY_BUDDY)
        return HV_EINVAL; /* the buddy heap is one power-of-two block */
    _hv_op_begin(h, site);
    hv_err_t err = incr > 0 ? sbrk_up(h, (uint64_t)incr, old)
                            : sbrk_down(h, -(uint64_t)incr, old);
    return _hv_op_done(h, err);
}

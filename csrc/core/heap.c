/* heap.c — malloc, calloc, realloc and free: the orchestration.
 *
 * Each call is one operation: it takes a new operation number, records
 * its steps (PLACE, SPLIT, COALESCE, GROW, MMAP ...) as sub-events and
 * then, LAST, the operation event itself, which carries the result.  A
 * replaying reader applies the steps to the layout and then sets the state
 * the operation event names (see events.c).
 *
 * malloc: requests at or above the mmap threshold get a chunk of their
 * own (mmap.c); others ask the policy for a free block, and when there is
 * none, coalesce (deferred mode) and retry, then grow the break by the
 * shortfall (brk.c).  The chosen block is taken off its list and split.
 *
 * free: validates the pointer (CHECKED: through the side table, exactly;
 * TRUSTING: only glibc's cheap plausibility checks), marks the block
 * free, coalesces (immediate mode) and puts it on its list.
 */
#include "block.h"
#include "freelist.h"
#include "policy.h"

/* Block size for an n-byte request: header, payload, footer, rounded. */
uint32_t _hv_adjust(const hv_heap_t *h, uint64_t n)
{
    if (h->pol->adjust) return h->pol->adjust(h, n);
    uint64_t a = _hv_round_up(n + h->hs + h->ftr, h->align);
    return a < h->min_block ? h->min_block : (uint32_t)a;
}

hv_err_t _hv_op_done(hv_heap_t *h, hv_err_t err)
{
    if (err == HV_ECORRUPT || err == HV_EBADFREE || err == HV_EDOUBLEFREE)
        h->ar->c.n_errors++;
    if (err == HV_OK && h->check_each && _hv_check_fails(h)) {
        h->ar->c.n_errors++;
        err = HV_ECORRUPT;
    }
    _hv_op_end(h);
    return err;
}

/* A request that cannot be met: NULL, a FAIL step, the failed op event. */
static hv_err_t fail(hv_heap_t *h, uint16_t kind, uint16_t flags, uint64_t n,
                     hv_fail_reason_t why)
{
    h->ar->c.n_failed++;
    _hv_emit(h, HV_EV_FAIL, HV_EVF_SUB, 0, n, why, 0);
    _hv_emit(h, kind, flags | HV_EVF_FAILED, 0, n, 0, 0);
    return HV_OK;
}

/* realloc could not get a new block: NULL, the old block untouched (its
 * malloc step already recorded why). */
static hv_err_t realloc_failed(hv_heap_t *h, hv_addr_t p, uint64_t n,
                               uint64_t old)
{
    _hv_emit(h, HV_EV_REALLOC, HV_EVF_FAILED, 0, n, p, old);
    return HV_OK;
}

/* The bookkeeping of a new allocation at off (side table, counters,
 * shadow). */
static void commit_alloc(hv_heap_t *h, uint32_t off, uint64_t n, uint8_t st)
{
    hv_arena_t *ar = h->ar;
    uint32_t size = _hv_bsize(_hv_hdr(h, off));
    h->fresh_op = h->cur_op;
    h->fresh_off = off;
    _hv_side_live(_hv_side(h, off), off, h->cur_op, h->cur_site, (uint32_t)n,
                  HV_SIDE_LIVE);
    ar->c.in_use += size;
    ar->c.alloc_blocks++;
    _hv_add_payload(ar, n);
    _hv_shadow_alloc_block(h, off, size, n, st);
}

/* Take the free block at *off for a block of asize bytes: off its list,
 * marked allocated, the rest split off.  *off becomes the allocated block
 * (the policy may ask for the back of the free block, except when the
 * heap just grew for it: that block goes at the front so that the rest
 * stays at the top, where the next growth can extend it). */
hv_err_t _hv_place(hv_heap_t *h, uint32_t *off, uint32_t asize,
                   uint32_t searched, bool grew)
{
    uint32_t o = *off, w = _hv_hdr(h, o), size = _hv_bsize(w);
    int list = h->recording ? _hv_list_of(h, size) : 0;
    if (_hv_balloc(w) || size < asize || !_hv_size_ok(h, o, w) ||
        _hv_ftr(h, o, size) != w)
        return HV_ECORRUPT; /* glibc: "malloc(): memory corruption" */
    _hv_emit(h, HV_EV_PLACE, HV_EVF_SUB, _hv_uaddr(h, o), size, searched,
             (uint64_t)list);
    bool back = h->pol->place_back && h->pol->place_back(h, asize) && !grew;
    uint32_t rem = _hv_block_take(h, o, size, asize, _hv_bprev(w), back, off);
    hv_err_t err;
    if (rem == HV_NIL) { /* taken whole */
        err = _hv_list_unlink(h, o, size);
    } else {      /* the remainder takes over the list entry */
        if (back) /* the remainder's new footer */
            _hv_shadow_fill(h, rem + size - asize - 4, 4, HV_SH_META);
        else
            _hv_shadow_free_header(h, rem, size - asize);
        if (h->ar->cfg.coalesce == HV_COALESCE_DEFERRED) h->ar->unmerged = 1;
        err = _hv_list_swap(h, o, size, rem);
    }
    if (h->pol->placed) h->pol->placed(h, *off, rem);
    return err;
}

static hv_err_t find_or_grow(hv_heap_t *h, uint32_t asize, uint32_t *off,
                             uint32_t *searched, bool *grew)
{
    uint32_t more = 0;
    hv_err_t err = h->pol->find(h, asize, off, searched);
    if (err || *off != HV_NIL) return err;
    if (h->ar->cfg.coalesce == HV_COALESCE_DEFERRED && h->ar->unmerged) {
        bool merged;
        if ((err = _hv_coalesce_all(h, &merged))) return err;
        err = h->pol->find(h, asize, off, &more);
        *searched += more;
        if (err || *off != HV_NIL) return err;
    }
    *grew = true;
    return _hv_brk_extend_for(h, asize, off);
}

/* malloc without the operation bookkeeping; `kind`/`flags` name the event
 * (MALLOC, CALLOC, or a MALLOC step inside realloc). */
static hv_err_t do_malloc(hv_heap_t *h, uint64_t n, uint8_t st, uint16_t kind,
                          uint16_t flags, hv_addr_t *out)
{
    hv_arena_t *ar = h->ar;
    uint32_t off, searched = 0;
    bool grew = false;
    *out = 0;
    if (ar->cfg.mmap_threshold && n >= ar->cfg.mmap_threshold) {
        hv_map_t *m;
        if (n > ar->mmap_max - HV_CHUNK_HDR)
            return fail(h, kind, flags, n, HV_FAIL_TOOBIG);
        hv_err_t err = _hv_chunk_alloc(h, n, st, &m);
        if (err == HV_ENOMEM) return fail(h, kind, flags, n, HV_FAIL_NOMEM);
        if (err) return err;
        *out = _hv_map_addr(m) + HV_CHUNK_HDR;
        _hv_emit(h, kind, flags, *out, n, _hv_map_addr(m), m->size);
        return HV_OK;
    }
    if (n > ar->heap_max) return fail(h, kind, flags, n, HV_FAIL_TOOBIG);
    uint32_t asize = _hv_adjust(h, n);
    hv_err_t err = h->pol->alloc
                       ? h->pol->alloc(h, asize, &off, &searched)
                       : find_or_grow(h, asize, &off, &searched, &grew);
    if (err == HV_ENOMEM) return fail(h, kind, flags, n, HV_FAIL_NOMEM);
    if (!err && !h->pol->alloc) err = _hv_place(h, &off, asize, searched, grew);
    if (err) return err;
    commit_alloc(h, off, n, st);
    *out = _hv_uaddr(h, off + h->hs);
    _hv_emit(h, kind, flags, *out, n, _hv_uaddr(h, off),
             _hv_bsize(_hv_hdr(h, off)));
    return HV_OK;
}

/* Is the free block at off linked into its list?  A header that says
 * "free" but is not on its list is a stale one inside a merged block: a
 * double free that glibc catches by the next chunk's PREV_INUSE bit
 * ("double free or corruption (!prev)").  A block still on its list passes,
 * and a trusting free then links it in twice, as glibc's fast bins do. */
static bool on_its_list(const hv_heap_t *h, uint32_t off, uint32_t size)
{
    int list = _hv_list_of(h, size);
    if (list < 0 || list >= (int)h->ar->nlists) return false;
    uint32_t prev = _hv_prev(h, off);
    if (prev == HV_NIL) return h->ar->head[list] == off;
    return _hv_start_ok(h, prev) && _hv_next(h, prev) == off;
}

/* Is p the payload of a block free() may release?  *off is its start. */
static hv_err_t validate(const hv_heap_t *h, hv_addr_t p, hv_free_mode_t mode,
                         uint32_t *off)
{
    const hv_arena_t *ar = h->ar;
    if (p < h->base + h->hs || p >= h->base + ar->brk) return HV_EBADFREE;
    uint32_t o = (uint32_t)(p - h->base - h->hs);
    uint64_t end = ar->brk - h->epi_size;
    if (!_hv_start_ok(h, o) || o >= end)
        return HV_EBADFREE; /* glibc: "free(): invalid pointer" */
    uint32_t flags = _hv_side_flags(_hv_side(h, o), o);
    if (mode == HV_FREE_CHECKED) {
        if (!flags) return HV_EBADFREE;
        if (!(flags & HV_SIDE_LIVE)) return HV_EDOUBLEFREE;
        if (flags & HV_SIDE_SBRK) return HV_EBADFREE;
    }
    uint32_t w = _hv_hdr(h, o), size = _hv_bsize(w);
    if (!_hv_size_ok(h, o, w))
        return HV_ECORRUPT; /* glibc: "free(): invalid size" */
    if (mode == HV_FREE_CHECKED &&
        (!_hv_balloc(w) || (h->ftr && _hv_ftr(h, o, size) != w)))
        return HV_ECORRUPT;
    if (mode == HV_FREE_TRUSTING && !_hv_balloc(w) && !on_its_list(h, o, size))
        return HV_ECORRUPT; /* glibc: "double free or corruption (!prev)" */
    uint32_t next = o + size;
    if (next < end && !_hv_size_ok(h, next, _hv_hdr(h, next)))
        return HV_ECORRUPT; /* glibc: "free(): invalid next size" */
    *off = o;
    return HV_OK;
}

/* Release the heap block at off (validated) to the lists. */
static hv_err_t release(hv_heap_t *h, uint32_t off)
{
    hv_arena_t *ar = h->ar;
    uint32_t w = _hv_hdr(h, off), size = _hv_bsize(w);
    hv_side_t *s = _hv_side(h, off);
    if (_hv_side_flags(s, off) & HV_SIDE_LIVE) ar->c.payload -= s->size;
    _hv_side_freed(s, off, h->cur_site);
    if (_hv_balloc(w)) {
        ar->c.in_use -= size;
        ar->c.alloc_blocks--;
    }
    if (h->pol->release) return h->pol->release(h, off);
    if (ar->cfg.coalesce == HV_COALESCE_DEFERRED) ar->unmerged = 1;
    return _hv_block_free(h, &off);
}

static hv_err_t do_free(hv_heap_t *h, hv_addr_t p, hv_free_mode_t mode,
                        uint16_t flags)
{
    uint32_t off;
    if (p >= HV_MMAP_BASE) {
        hv_map_t *m = _hv_chunk_of_payload(h, p);
        if (!m) return HV_EBADFREE;
        uint64_t req = m->requested, size = m->size;
        hv_addr_t a = _hv_map_addr(m);
        hv_err_t err = _hv_chunk_free(h, m);
        if (!err) _hv_emit(h, HV_EV_FREE, flags, p, req, a, size);
        return err;
    }
    hv_err_t err = validate(h, p, mode, &off);
    if (err) return err;
    uint32_t size = _hv_bsize(_hv_hdr(h, off));
    const hv_side_t *s = _hv_side(h, off);
    uint64_t req = _hv_side_flags(s, off) & HV_SIDE_LIVE ? s->size : 0;
    if ((err = release(h, off))) return err;
    _hv_emit(h, HV_EV_FREE, flags, p, req, _hv_uaddr(h, off), size);
    return HV_OK;
}

hv_err_t hv_malloc(hv_heap_t *h, uint64_t n, uint32_t site, hv_addr_t *out)
{
    *out = 0;
    if (h->readonly) return HV_EREADONLY;
    _hv_op_begin(h, site);
    h->ar->c.n_malloc++;
    return _hv_op_done(h, do_malloc(h, n, HV_SH_UNINIT, HV_EV_MALLOC, 0, out));
}

hv_err_t hv_calloc(hv_heap_t *h, uint64_t nmemb, uint64_t size, uint32_t site,
                   hv_addr_t *out)
{
    *out = 0;
    if (h->readonly) return HV_EREADONLY;
    _hv_op_begin(h, site);
    h->ar->c.n_calloc++;
    if (size && nmemb > UINT64_MAX / size)
        return _hv_op_done(
            h, fail(h, HV_EV_CALLOC, 0, UINT64_MAX, HV_FAIL_OVERFLOW));
    hv_err_t err = do_malloc(h, nmemb * size, HV_SH_INIT, HV_EV_CALLOC, 0, out);
    uint8_t *mem;
    if (!err && *out && !hv_resolve(h, *out, nmemb * size, NULL, &mem))
        memset(mem, 0, nmemb * size);
    return _hv_op_done(h, err);
}

/* A free or realloc the allocator refused (an invalid or a double free,
 * or one that found the free lists damaged): the call is in the history as
 * it was made, FAILED, with the mode it was checked in (b), so that a
 * replay makes it too, in that mode, and counts what the heap counted. */
static hv_err_t refused(hv_heap_t *h, hv_err_t err, uint16_t kind, hv_addr_t p,
                        uint64_t n, hv_free_mode_t mode)
{
    if (err == HV_EBADFREE || err == HV_EDOUBLEFREE || err == HV_ECORRUPT)
        _hv_emit(h, kind, HV_EVF_FAILED, kind == HV_EV_FREE ? p : 0, n, p,
                 mode);
    return err;
}

hv_err_t hv_free(hv_heap_t *h, hv_addr_t p, uint32_t site, hv_free_mode_t mode)
{
    if (h->readonly) return HV_EREADONLY;
    if (p == 0) return HV_OK;
    _hv_op_begin(h, site);
    h->ar->c.n_free++;
    hv_err_t err = do_free(h, p, mode, 0);
    return _hv_op_done(h,
                       err ? refused(h, err, HV_EV_FREE, p, 0, mode) : HV_OK);
}

/* ------------------------------------------------------------------------
 * realloc
 * ---------------------------------------------------------------------- */

/* Cut the allocated block at off down to asize bytes; the rest goes back
 * to the lists.  `was_free`: the rest was free space a moment ago (a block
 * that grew), so its bytes already have free shadow. */
static hv_err_t trim(hv_heap_t *h, uint32_t off, uint32_t asize, bool was_free)
{
    if (h->pol->shrink) return h->pol->shrink(h, off, asize);
    uint32_t rem = _hv_block_split(h, off, asize);
    if (rem == HV_NIL) return HV_OK;
    uint32_t rsize = _hv_bsize(_hv_hdr(h, rem));
    h->ar->c.in_use -= rsize;
    if (was_free)
        _hv_shadow_free_header(h, rem, rsize);
    else
        _hv_shadow_free_block(h, rem, rsize);
    if (h->ar->cfg.coalesce == HV_COALESCE_DEFERRED) h->ar->unmerged = 1;
    return _hv_block_join(h, &rem,
                          h->ar->cfg.coalesce == HV_COALESCE_IMMEDIATE);
}

/* Grow the block at off to asize bytes in place, into a free right
 * neighbour or by moving the break when it is the last block.  *done says
 * whether that was possible. */
static hv_err_t grow(hv_heap_t *h, uint32_t off, uint32_t asize, bool *done)
{
    uint32_t size = _hv_bsize(_hv_hdr(h, off)), next = off + size, top;
    uint32_t epi = _hv_epilogue(h), nw = _hv_hdr(h, next);
    uint32_t nsize = _hv_balloc(nw) ? 0 : _hv_bsize(nw);
    bool last = next == epi || (nsize && next + nsize == epi &&
                                h->ar->cfg.coalesce != HV_COALESCE_NONE);
    hv_err_t err;
    *done = false;
    if (h->pol->alloc || (size + nsize < asize && !last)) return HV_OK;
    if (size + nsize < asize) {
        err = _hv_brk_extend_for(h, asize - size, &top);
        if (err == HV_ENOMEM) return HV_OK;
        if (err) return err;
    }
    if ((err = _hv_block_absorb_next(h, off))) return err;
    h->ar->c.in_use += _hv_bsize(_hv_hdr(h, off)) - size;
    *done = true;
    return trim(h, off, asize, true);
}

/* realloc that cannot stay put: a new block (a MALLOC step), the first
 * `keep` bytes and their shadow copied over, the old block freed (a FREE
 * step), then the REALLOC event.  `old` is the size the old block had. */
static hv_err_t move(hv_heap_t *h, hv_addr_t p, uint64_t n, uint64_t old,
                     uint64_t keep, hv_free_mode_t mode, hv_addr_t *out)
{
    hv_err_t err = do_malloc(h, n, HV_SH_UNINIT, HV_EV_MALLOC, HV_EVF_SUB, out);
    if (err || !*out) return err ? err : realloc_failed(h, p, n, old);
    uint8_t *dst, *src;
    if (!hv_resolve(h, *out, keep, NULL, &dst) &&
        !hv_resolve(h, p, keep, NULL, &src))
        memmove(dst, src,
                keep); /* a trusted stale p may overlap the new block */
    hv_shadow_copy(h, *out, p, keep);
    if ((err = do_free(h, p, mode, HV_EVF_SUB))) return err;
    _hv_emit(h, HV_EV_REALLOC, HV_EVF_MOVED, *out, n, p, old);
    return HV_OK;
}

static hv_err_t realloc_chunk(hv_heap_t *h, hv_addr_t p, hv_map_t *m,
                              uint64_t n, hv_addr_t *out)
{
    uint64_t old = m->requested;
    if (n + HV_CHUNK_HDR <= m->size) { /* it still fits: keep it */
        _hv_add_payload(h->ar, n - old);
        m->requested = n;
        if (n > old)
            hv_shadow_set(h, p + old, n - old, HV_SH_UNINIT);
        else
            hv_shadow_set(h, p + n, old - n, HV_SH_SLACK);
        *out = p;
        _hv_emit(h, HV_EV_REALLOC, HV_EVF_INPLACE, p, n, p, old);
        return HV_OK;
    }
    return move(h, p, n, old, old < n ? old : n, HV_FREE_CHECKED, out);
}

static hv_err_t do_realloc(hv_heap_t *h, hv_addr_t p, uint64_t n,
                           hv_free_mode_t mode, hv_addr_t *out)
{
    uint32_t off;
    bool done = false;
    if (p >= HV_MMAP_BASE) {
        hv_map_t *m = _hv_chunk_of_payload(h, p);
        return m ? realloc_chunk(h, p, m, n, out) : HV_EBADFREE;
    }
    hv_err_t err = validate(h, p, mode, &off);
    if (err) return err;
    hv_side_t *s = _hv_side(h, off);
    uint32_t size = _hv_bsize(_hv_hdr(h, off));
    uint64_t cap = size - h->hs - h->ftr;
    uint64_t old = _hv_side_flags(s, off) & HV_SIDE_LIVE ? s->size : cap;
    bool big = h->ar->cfg.mmap_threshold && n >= h->ar->cfg.mmap_threshold;
    if (!big && n <= h->ar->heap_max) {
        uint32_t asize = _hv_adjust(h, n);
        err = asize <= size ? trim(h, off, asize, false)
                            : grow(h, off, asize, &done);
        done = done || asize <= size;
    }
    if (err) return err;
    if (done) {
        size = _hv_bsize(_hv_hdr(h, off));
        _hv_add_payload(h->ar, n - old);
        s->size = (uint32_t)n;
        _hv_shadow_resize(h, off, size, old, n);
        *out = p;
        _hv_emit(h, HV_EV_REALLOC, HV_EVF_INPLACE, p, n, p, old);
        return HV_OK;
    }
    uint64_t keep = old < n ? old : n;
    return move(h, p, n, old, keep < cap ? keep : cap, mode, out);
}

hv_err_t hv_realloc(hv_heap_t *h, hv_addr_t p, uint64_t n, uint32_t site,
                    hv_free_mode_t mode, hv_addr_t *out)
{
    *out = 0;
    if (h->readonly) return HV_EREADONLY;
    _hv_op_begin(h, site);
    h->ar->c.n_realloc++;
    hv_err_t err;
    if (p == 0) { /* realloc(NULL, n) is malloc(n) */
        err = do_malloc(h, n, HV_SH_UNINIT, HV_EV_MALLOC, HV_EVF_SUB, out);
        if (!err && *out)
            _hv_emit(h, HV_EV_REALLOC, HV_EVF_MOVED, *out, n, 0, 0);
        else if (!err)
            _hv_emit(h, HV_EV_REALLOC, HV_EVF_FAILED, 0, n, 0, 0);
    } else if (n == 0) { /* realloc(p, 0) frees p */
        err = do_free(h, p, mode, HV_EVF_SUB);
        if (!err) _hv_emit(h, HV_EV_REALLOC, 0, 0, 0, p, 0);
    } else {
        err = do_realloc(h, p, n, mode, out);
    }
    if (p && err) refused(h, err, HV_EV_REALLOC, p, n, mode);
    return _hv_op_done(h, err);
}

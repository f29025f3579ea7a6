/* clone.c — a private copy of a heap, for checkpoints.
 *
 * The viewer scrubs back in time by re-running operations from a
 * checkpoint instead of from operation 0; a checkpoint is a clone.  The
 * clone is a fresh heap with the same configuration (so every section
 * sits at the same offset) into which the live parts are copied: the
 * arena header with all allocator state, the side table, shadow and bytes
 * of the heap up to the break, each live mapping, the stack, and the
 * interned sites.  The event ring and history are not copied: the clone
 * keeps no history (history_limit 0) and continues the operation and event
 * numbering of the original. */
#include "internal.h"

#include <string.h>

static void copy_span(uint8_t *dst, const uint8_t *src, uint64_t off,
                      uint64_t len)
{
    if (len) memcpy(dst + off, src + off, len);
}

static void copy_sites(hv_heap_t *h, const hv_heap_t *src)
{
    const hv_arena_t *ar = src->ar;
    memcpy(h->sites, src->sites, (uint64_t)ar->nsites * sizeof *h->sites);
    memcpy(h->buckets, src->buckets, HV_SITE_BUCKETS * sizeof *h->buckets);
    memcpy(h->pool, src->pool, ar->pool_used);
}

static hv_err_t copy_maps(hv_heap_t *h, const hv_heap_t *src)
{
    const hv_arena_t *ar = src->ar;
    for (uint32_t i = 0; i < ar->nmaps && i < HV_MAPS_MAX; i++) {
        const hv_map_t *m = &ar->maps[i];
        if (_hv_os_protect(h->mmap + m->off, m->size, true)) return HV_ESYS;
        copy_span(h->mmap, src->mmap, m->off, m->size);
        copy_span(h->shadow, src->shadow, ar->heap_max + m->off, m->size);
    }
    return HV_OK;
}

static void copy_stack(hv_heap_t *h, const hv_heap_t *src)
{
    const hv_arena_t *ar = src->ar;
    uint64_t used = ar->stack_max - ar->sp;
    copy_span(h->stack, src->stack, ar->sp, used);
    copy_span(h->shadow, src->shadow, ar->heap_max + ar->mmap_max + ar->sp,
              used);
}

hv_err_t hv_heap_clone(const hv_heap_t *src, hv_heap_t **out)
{
    *out = NULL;
    hv_config_t cfg = src->ar->cfg;
    cfg.history_limit = 0;
    hv_heap_t *h;
    hv_err_t rc = hv_heap_create(&cfg, &h, NULL);
    if (rc != HV_OK) return rc;
    const hv_arena_t *sa = src->ar;
    hv_arena_t *ar = h->ar;
    uint64_t head = atomic_load_explicit(&sa->ring_head, memory_order_acquire);
    memcpy(ar, sa, sizeof *ar);
    ar->cfg = cfg;
    atomic_store_explicit(&ar->ring_head, head, memory_order_relaxed);
    atomic_store_explicit(&ar->version, 0, memory_order_relaxed);
    ar->recording = h->recording = src->recording;
    _hv_arena_populate(h); /* pages up to the copied break */
    copy_span(h->heap, src->heap, 0, sa->brk);
    copy_span((uint8_t *)h->side, (const uint8_t *)src->side, 0,
              _hv_round_up(sa->brk, 16) / 16 * sizeof(hv_side_t));
    if (h->shadow_on) copy_span(h->shadow, src->shadow, 0, sa->brk);
    copy_sites(h, src);
    copy_stack(h, src);
    if ((rc = copy_maps(h, src)) != HV_OK) {
        hv_heap_destroy(h);
        return rc;
    }
    *out = h;
    return HV_OK;
}

/* mmap.c — the mmap region: mmapped chunks (malloc requests at or above
 * the mmap threshold, as glibc does) and raw mappings (hv_mmap).
 *
 * The region is a fixed range of user addresses (HV_MMAP_BASE) backed by
 * a part of the arena.  A table of live mappings, sorted by offset, lives
 * in the arena header; a new mapping takes the lowest gap that fits, so
 * addresses are the same on every run.  Unmapping gives the pages back to
 * the kernel and makes them inaccessible (os.c).
 *
 * A chunk is [16-byte header | payload]: the header holds the size word
 * (alloc bit set), the requested size, HV_MAGIC and the generation. */
#include "block.h"

static uint64_t page(void)
{
    uint64_t p = _hv_os_page_size();
    return p > HV_PAGE ? p : HV_PAGE;
}

hv_addr_t _hv_map_addr(const hv_map_t *m)
{
    return HV_MMAP_BASE + m->off;
}

/* The live mapping containing user address a, or NULL. */
hv_map_t *_hv_map_find(const hv_heap_t *h, hv_addr_t a)
{
    hv_arena_t *ar = h->ar;
    if (a < HV_MMAP_BASE) return NULL;
    uint64_t off = a - HV_MMAP_BASE;
    uint32_t lo = 0, hi = ar->nmaps < HV_MAPS_MAX ? ar->nmaps : HV_MAPS_MAX;
    while (lo < hi) { /* the first mapping ending after off */
        uint32_t mid = (lo + hi) / 2;
        if (ar->maps[mid].off + ar->maps[mid].size <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ar->nmaps && ar->maps[lo].off <= off ? &ar->maps[lo] : NULL;
}

/* The lowest gap of `size` bytes: its table index and offset. */
static bool find_gap(const hv_arena_t *ar, uint64_t size, uint32_t *at,
                     uint64_t *off)
{
    uint64_t end = 0;
    uint32_t i = 0;
    for (; i < ar->nmaps; i++) {
        if (ar->maps[i].off - end >= size) break;
        end = ar->maps[i].off + ar->maps[i].size;
    }
    *at = i;
    *off = end;
    return ar->nmaps < HV_MAPS_MAX && ar->mmap_max - end >= size &&
           (i == ar->nmaps || ar->maps[i].off - end >= size);
}

static hv_err_t new_mapping(hv_heap_t *h, uint64_t bytes, uint32_t state,
                            hv_map_t **out)
{
    hv_arena_t *ar = h->ar;
    uint64_t size = _hv_round_up(bytes, page()), off;
    uint32_t at;
    if (bytes > ar->mmap_max || !find_gap(ar, size, &at, &off))
        return HV_ENOMEM;
    if (_hv_os_protect(h->mmap + off, size, true)) return HV_ESYS;
    memmove(&ar->maps[at + 1], &ar->maps[at],
            (ar->nmaps - at) * sizeof ar->maps[0]);
    ar->nmaps++;
    hv_map_t *m = &ar->maps[at];
    *m = (hv_map_t){.off = off,
                    .size = size,
                    .requested = bytes,
                    .seq = h->cur_op,
                    .state = state,
                    .site = h->cur_site,
                    .gen = ++ar->map_gen};
    ar->c.mmapped += size;
    ar->c.in_use += size;
    ar->c.alloc_blocks++;
    ar->c.n_mmap++;
    _hv_emit(h, HV_EV_MMAP, state == HV_BLOCK_MMAPPED ? HV_EVF_SUB : 0,
             _hv_map_addr(m), size, bytes, 0); /* a: bytes asked for */
    *out = m;
    return HV_OK;
}

static void drop_mapping(hv_heap_t *h, hv_map_t *m, uint16_t flags)
{
    hv_arena_t *ar = h->ar;
    uint8_t *p = h->mmap + m->off;
    _hv_os_release(h->fd, p, ar->mmap_off + m->off, m->size);
    _hv_os_protect(p, m->size, false);
    _hv_shadow_fill(h, ar->heap_max + m->off, m->size, HV_SH_UNMAPPED);
    ar->c.mmapped -= m->size;
    ar->c.in_use -= m->size;
    ar->c.alloc_blocks--;
    ar->c.n_munmap++;
    _hv_emit(h, HV_EV_MUNMAP, flags, _hv_map_addr(m), m->size, 0, 0);
    uint32_t at = (uint32_t)(m - ar->maps);
    memmove(&ar->maps[at], &ar->maps[at + 1],
            (ar->nmaps - at - 1) * sizeof ar->maps[0]);
    ar->nmaps--;
}

hv_err_t _hv_chunk_alloc(hv_heap_t *h, uint64_t n, uint8_t st, hv_map_t **out)
{
    hv_map_t *m;
    if (n > UINT32_MAX - 2 * HV_PAGE) return HV_ENOMEM;
    hv_err_t err = new_mapping(h, n + HV_CHUNK_HDR, HV_BLOCK_MMAPPED, &m);
    if (err) return err;
    m->requested = n;
    uint32_t *hdr = (uint32_t *)(void *)(h->mmap + m->off);
    hdr[0] = (uint32_t)m->size | HV_BIT_ALLOC;
    hdr[1] = (uint32_t)n;
    hdr[2] = HV_MAGIC;
    hdr[3] = m->gen;
    uint64_t roff = h->ar->heap_max + m->off;
    _hv_shadow_fill(h, roff, HV_CHUNK_HDR, HV_SH_META);
    _hv_shadow_fill(h, roff + HV_CHUNK_HDR, n, st);
    _hv_shadow_fill(h, roff + HV_CHUNK_HDR + n, m->size - HV_CHUNK_HDR - n,
                    HV_SH_SLACK);
    _hv_add_payload(h->ar, n);
    *out = m;
    return HV_OK;
}

hv_map_t *_hv_chunk_of_payload(const hv_heap_t *h, hv_addr_t p)
{
    hv_map_t *m = _hv_map_find(h, p);
    return m && m->state == HV_BLOCK_MMAPPED &&
                   _hv_map_addr(m) + HV_CHUNK_HDR == p
               ? m
               : NULL;
}

hv_err_t _hv_chunk_free(hv_heap_t *h, hv_map_t *m)
{
    h->ar->c.payload -= m->requested;
    drop_mapping(h, m, HV_EVF_SUB);
    return HV_OK;
}

hv_err_t hv_mmap(hv_heap_t *h, uint64_t n, uint32_t site, hv_addr_t *out)
{
    hv_map_t *m;
    *out = 0;
    if (h->readonly) return HV_EREADONLY;
    if (n == 0) return HV_EINVAL;
    _hv_op_begin(h, site);
    hv_err_t err = new_mapping(h, n, HV_BLOCK_MAPPING, &m);
    if (err == HV_ENOMEM) {
        h->ar->c.n_failed++;
        _hv_emit(h, HV_EV_FAIL, 0, 0, n, HV_FAIL_NOMEM, 0);
    } else if (!err) {
        /* fresh pages read as zeros, as the kernel's do */
        _hv_shadow_fill(h, h->ar->heap_max + m->off, m->size, HV_SH_INIT);
        *out = _hv_map_addr(m);
    }
    return _hv_op_done(h, err);
}

hv_err_t hv_munmap(hv_heap_t *h, hv_addr_t p, uint32_t site)
{
    if (h->readonly) return HV_EREADONLY;
    hv_map_t *m = _hv_map_find(h, p);
    if (!m || _hv_map_addr(m) != p) return HV_EINVAL;
    _hv_op_begin(h, site);
    if (m->state == HV_BLOCK_MMAPPED) h->ar->c.payload -= m->requested;
    drop_mapping(h, m, 0);
    return _hv_op_done(h, HV_OK);
}

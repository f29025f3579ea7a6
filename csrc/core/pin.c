/* pin.c — the heap at the addresses it shows, for the C runtime.
 *
 * A Python script sees user addresses (base + offset) that the binding
 * translates; a C program dereferences its pointers itself, so there the
 * heap must really be at its user address.  hv_heap_pin maps the heap
 * section of the memfd a second time, at `base` (0x10000 by default), and
 * the mmap region at HV_MMAP_BASE, and the core uses those mappings from
 * then on.  Both views share the memfd's pages: a reader attached to the
 * memfd (the viewer) sees what the program writes.
 *
 * After fork() the child would share its parent's MAP_SHARED heap: two
 * programs writing one heap.  hv_heap_privatize gives the child a copy in
 * a fresh memfd, mapped over the same addresses, so every pointer the
 * child holds stays valid and means its own memory. */
#include "internal.h"

#include <errno.h>
#include <unistd.h>

hv_err_t hv_heap_pin(hv_heap_t *h, bool mmap_region)
{
    hv_arena_t *ar = h->ar;
    int e;
    if (h->readonly || h->fd < 0) return HV_EINVAL;
    if (!h->pinned_heap) {
        e = _hv_os_map_fixed(h->fd, ar->heap_off, ar->heap_max, h->base, true);
        if (e) goto fail;
        h->heap = (uint8_t *)(uintptr_t)h->base;
        h->pinned_heap = true;
        h->populated = 0; /* fault the new view in as the break moves */
        _hv_arena_populate(h);
    }
    if (mmap_region && !h->pinned_mmap && ar->mmap_max) {
        if (ar->nmaps) return HV_EINVAL; /* chunks already handed out */
        e = _hv_os_map_fixed(h->fd, ar->mmap_off, ar->mmap_max, HV_MMAP_BASE,
                             false);
        if (e) goto fail;
        h->mmap = (uint8_t *)(uintptr_t)HV_MMAP_BASE;
        h->pinned_mmap = true;
    }
    return HV_OK;
fail:
    errno = e;
    return HV_ESYS;
}

bool hv_heap_pinned(const hv_heap_t *h, bool *mmap_region)
{
    if (mmap_region) *mmap_region = h->pinned_mmap;
    return h->pinned_heap;
}

void hv_heap_span(const hv_heap_t *h, const void **lo, uint64_t *len)
{
    *lo = h->ar;
    *len = h->map_size;
}

/* The live mappings of the mmap region made accessible again in a fresh
 * view of it (everything else stays PROT_NONE, as hv_heap_create left
 * it). */
static int open_maps(const hv_heap_t *h, uint8_t *region)
{
    const hv_arena_t *ar = h->ar;
    for (uint32_t i = 0; i < ar->nmaps; i++) {
        int e =
            _hv_os_protect(region + ar->maps[i].off, ar->maps[i].size, true);
        if (e) return e;
    }
    return 0;
}

/* Every view of the arena moved onto the memfd `fd`, at the same
 * addresses and with the same protections. */
static int remap_views(hv_heap_t *h, int fd)
{
    hv_arena_t *ar = h->ar;
    uint8_t *base = (uint8_t *)ar;
    int e = _hv_os_remap(fd, 0, base, h->map_size, true);
    if (e) return e;
    uint8_t *big_mmap = base + ar->mmap_off;
    if ((e = _hv_os_protect(big_mmap, ar->mmap_max, false))) return e;
    if (!h->pinned_mmap && (e = open_maps(h, big_mmap))) return e;
    if (h->pinned_heap &&
        (e = _hv_os_remap(fd, ar->heap_off, h->heap, ar->heap_max, true)))
        return e;
    if (h->pinned_mmap) {
        e = _hv_os_remap(fd, ar->mmap_off, h->mmap, ar->mmap_max, false);
        if (e || (e = open_maps(h, h->mmap))) return e;
    }
    return 0;
}

hv_err_t hv_heap_privatize(hv_heap_t *h)
{
    int nf, e;
    if (h->readonly || h->fd < 0) return HV_EINVAL;
    if ((e = _hv_os_copy_fd(h->fd, h->map_size, &nf))) {
        errno = e;
        return HV_ESYS;
    }
    if ((e = remap_views(h, nf))) {
        /* half moved: no view may keep using the shared pages */
        close(nf);
        errno = e;
        return HV_ESYS;
    }
    close(h->fd);
    h->fd = nf;
    return HV_OK;
}

/* policy_segregated.c — segregated fits: one free list per size class,
 * the fast, realistic policy (dlmalloc's bins, TLSF's two-level map).
 *
 * Classes: below 256 bytes, 16 classes 16 bytes wide; above, each power
 * of two is cut into 16 equal classes, so a block is at most 1/16 larger
 * than the smallest size of its class.  A bitmap of non-empty lists
 * (freelist.c) finds the next non-empty class in a few instructions.
 *
 * Placement is near best fit: first the request's own class, searched
 * for the smallest block that fits (a bounded look, since that class
 * mixes sizes a little above and below the request), then the first
 * non-empty class above it, where every block fits; of its first few
 * entries the smallest is taken.  Lists are LIFO (O(1) insert).
 *
 * The free block at the end of the heap (the "wilderness") is used only
 * when nothing else fits (Korn and Vo's wilderness preservation): it is
 * the one block that can grow with the break, so keeping it whole lets a
 * block before it grow in place with realloc.
 *
 * Requests larger than the running mean are carved from the back of the
 * block they split, smaller ones from the front, so that small and large
 * blocks allocated in alternation end up in separate runs: when the large
 * ones are freed, their space coalesces into runs that larger requests
 * can use, instead of large holes between small survivors.  The mean
 * starts at 256 bytes, so a fresh heap fills from the front. */
#include "block.h"
#include "policy.h"

enum {
    SMALL = 256, /* linear classes below this                */
    SL_LOG = 4,  /* 2^SL_LOG classes per power of two above  */
    SL = 1 << SL_LOG,
    LOOK_OWN = 32, /* entries examined in the request's class */
    LOOK_UP = 8,   /* entries examined in a larger class       */
};

static int class_of(const hv_heap_t *h, uint32_t size)
{
    (void)h;
    if (size < SMALL) return (int)(size >> 4);
    int fl = 31 - __builtin_clz(size);
    return SL + (fl - 8) * SL + (int)((size >> (fl - SL_LOG)) & (SL - 1));
}

static int list_count(const hv_heap_t *h)
{
    return class_of(h, (uint32_t)h->ar->heap_max - 1) + 1;
}

static void list_range(const hv_heap_t *h, int list, uint64_t *lo, uint64_t *hi)
{
    (void)h;
    if (list < SL) {
        *lo = (uint64_t)list * 16;
        *hi = *lo + 15;
        return;
    }
    int fl = 8 + (list - SL) / SL, sl = (list - SL) % SL;
    *lo = (1ull << fl) + ((uint64_t)sl << (fl - SL_LOG));
    *hi = *lo + (1ull << (fl - SL_LOG)) - 1;
}

static bool is_top(const hv_heap_t *h, uint32_t off, uint32_t size)
{
    return off + size == _hv_epilogue(h);
}

/* The smallest block >= asize among the first `look` entries of a list,
 * the wilderness aside (*top gets it when seen). */
static hv_err_t best_of(hv_heap_t *h, int list, uint32_t asize, int look,
                        uint32_t *off, uint32_t *top, uint32_t *searched)
{
    uint32_t cur = h->ar->head[list], best = HV_NIL, best_size = UINT32_MAX;
    for (int n = 0; cur != HV_NIL && n < look; n++) {
        ++*searched;
        uint32_t size = _hv_bsize(_hv_hdr(h, cur));
        if (size >= asize && is_top(h, cur, size)) {
            *top = cur;
        } else if (size >= asize && size < best_size) {
            best = cur;
            best_size = size;
            if (size == asize) break;
        }
        if (_hv_list_step(h, cur, &cur)) return HV_ECORRUPT;
    }
    *off = best;
    return HV_OK;
}

static hv_err_t find(hv_heap_t *h, uint32_t asize, uint32_t *off,
                     uint32_t *searched)
{
    uint32_t top = HV_NIL;
    int list = class_of(h, asize);
    hv_err_t err = HV_OK;
    *searched = 0;
    *off = HV_NIL;
    for (int look = LOOK_OWN; list >= 0 && !err && *off == HV_NIL;
         look = LOOK_UP) {
        err = best_of(h, list, asize, look, off, &top, searched);
        list = _hv_list_next_nonempty(h, list + 1);
    }
    if (*off == HV_NIL) *off = top;
    return err;
}

static bool place_back(hv_heap_t *h, uint32_t asize)
{
    uint32_t *mean = &h->ar->mean_request;
    bool back = asize > *mean;
    *mean = (uint32_t)(((uint64_t)*mean * 7 + asize) / 8);
    return back;
}

const hv_policy_ops_t _hv_policy_segregated = {
    .name = "segregated",
    .order = HV_ORDER_LIFO,
    .find = find,
    .list_of = class_of,
    .list_count = list_count,
    .list_range = list_range,
    .place_back = place_back,
};

/* policy_next.c — next fit: first fit that starts where the last search
 * stopped (the "rover"), wrapping round once.  It spreads allocations over
 * the whole list instead of crowding the head, which is faster to search
 * and usually worse for fragmentation.
 *
 * The rover sits on the block the last request took; when that block
 * leaves the list the rover moves to its successor (freelist.c), and when
 * the block was split the rover moves to the remainder. */
#include "block.h"
#include "policy.h"

static hv_err_t find(hv_heap_t *h, uint32_t asize, uint32_t *off,
                     uint32_t *searched)
{
    hv_arena_t *ar = h->ar;
    uint32_t start = ar->rover != HV_NIL ? ar->rover : ar->head[0];
    uint32_t cur = start, n = 0;
    *off = HV_NIL;
    while (cur != HV_NIL) {
        if (++n > ar->count[0]) return HV_ECORRUPT;
        if (_hv_bsize(_hv_hdr(h, cur)) >= asize) {
            *off = ar->rover = cur;
            break;
        }
        if (_hv_list_step(h, cur, &cur)) return HV_ECORRUPT;
        if (cur == HV_NIL) /* wrap round to the head */
            cur = ar->head[0];
        if (cur == start) break;
    }
    *searched = n;
    return HV_OK;
}

static void placed(hv_heap_t *h, uint32_t block, uint32_t rem)
{
    (void)block;
    if (rem != HV_NIL) h->ar->rover = rem;
}

const hv_policy_ops_t _hv_policy_next = {
    .name = "next",
    .order = -1,
    .find = find,
    .list_of = _hv_one_list_of,
    .list_count = _hv_one_list_count,
    .list_range = _hv_one_list_range,
    .placed = placed,
};

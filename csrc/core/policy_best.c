/* policy_best.c — best fit: the smallest free block that is large enough
 * (the first of equal ones in list order).  It searches the whole list
 * unless it meets an exact fit, or — with the list in ascending size
 * order — the first fit, which then is the best. */
#include "block.h"
#include "policy.h"

static hv_err_t find(hv_heap_t *h, uint32_t asize, uint32_t *off,
                     uint32_t *searched)
{
    uint32_t cur = h->ar->head[0], best = HV_NIL, best_size = 0, n = 0;
    while (cur != HV_NIL) {
        if (++n > h->ar->count[0]) return HV_ECORRUPT;
        uint32_t size = _hv_bsize(_hv_hdr(h, cur));
        if (size >= asize && (best == HV_NIL || size < best_size)) {
            best = cur;
            best_size = size;
            if (size == asize || h->order == HV_ORDER_SIZE) break;
        }
        if (_hv_list_step(h, cur, &cur)) return HV_ECORRUPT;
    }
    *off = best;
    *searched = n;
    return HV_OK;
}

const hv_policy_ops_t _hv_policy_best = {
    .name = "best",
    .order = -1,
    .find = find,
    .list_of = _hv_one_list_of,
    .list_count = _hv_one_list_count,
    .list_range = _hv_one_list_range,
};

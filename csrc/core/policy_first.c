/* policy_first.c — first fit: walk the free list from its head and take
 * the first block that is large enough.  Simple and fast when the list is
 * in address order, at the price of splinters piling up near the head
 * (Knuth, TAOCP 2.5). */
#include "block.h"
#include "policy.h"

static hv_err_t find(hv_heap_t *h, uint32_t asize, uint32_t *off,
                     uint32_t *searched)
{
    uint32_t cur = h->ar->head[0], n = 0;
    while (cur != HV_NIL) {
        if (++n > h->ar->count[0]) return HV_ECORRUPT; /* a cycle */
        if (_hv_bsize(_hv_hdr(h, cur)) >= asize) break;
        if (_hv_list_step(h, cur, &cur)) return HV_ECORRUPT;
    }
    *off = cur;
    *searched = n;
    return HV_OK;
}

const hv_policy_ops_t _hv_policy_first = {
    .name = "first",
    .order = -1,
    .find = find,
    .list_of = _hv_one_list_of,
    .list_count = _hv_one_list_count,
    .list_range = _hv_one_list_range,
};

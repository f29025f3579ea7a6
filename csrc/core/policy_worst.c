/* policy_worst.c — worst fit: the largest free block (the first of equal
 * ones in list order), on the theory that what is left over stays useful.
 * With the list in descending size order the head is the answer. */
#include "block.h"
#include "policy.h"

static hv_err_t find(hv_heap_t *h, uint32_t asize, uint32_t *off,
                     uint32_t *searched)
{
    uint32_t cur = h->ar->head[0], worst = HV_NIL, worst_size = 0, n = 0;
    while (cur != HV_NIL) {
        if (++n > h->ar->count[0]) return HV_ECORRUPT;
        uint32_t size = _hv_bsize(_hv_hdr(h, cur));
        if (size > worst_size) {
            worst = cur;
            worst_size = size;
        }
        if (h->order == HV_ORDER_SIZE_DESC) break;
        if (_hv_list_step(h, cur, &cur)) return HV_ECORRUPT;
    }
    *off = worst_size >= asize ? worst : HV_NIL;
    *searched = n;
    return HV_OK;
}

const hv_policy_ops_t _hv_policy_worst = {
    .name = "worst",
    .order = -1,
    .find = find,
    .list_of = _hv_one_list_of,
    .list_count = _hv_one_list_count,
    .list_range = _hv_one_list_range,
};

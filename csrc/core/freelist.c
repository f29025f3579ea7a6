/* freelist.c — the explicit free lists, shared by every policy.
 *
 * A list is doubly linked through the free blocks themselves (block.h);
 * the arena holds head, tail and count per list.  Insertion follows the
 * order: lifo pushes at the head, fifo appends at the tail, address and
 * the two size orders walk to the right place.  Every hop is checked
 * (offset inside the heap, block free, links agreeing), so a list damaged
 * by a double free or an overflow is reported as HV_ECORRUPT — never
 * followed outside the arena or round a cycle forever.
 *
 * Invariants:  count[i] == number of blocks reachable from head[i];
 *              sum of sizes on all lists == c.free_bytes;
 *              bit i of nonempty == (head[i] != NIL), and bit w of
 *              nonempty_words == (nonempty[w] != 0).
 */
#include "freelist.h"
#include "block.h"
#include "policy.h"

static void mark(hv_heap_t *h, int list, bool nonempty)
{
    uint64_t bit = 1ull << (list & 63);
    uint64_t *word = &h->ar->nonempty[list >> 6];
    *word = nonempty ? *word | bit : *word & ~bit;
    uint64_t wbit = 1ull << (list >> 6);
    h->ar->nonempty_words =
        *word ? h->ar->nonempty_words | wbit : h->ar->nonempty_words & ~wbit;
}

/* A list entry we may follow: inside the heap and marked free. */
static bool entry_ok(const hv_heap_t *h, uint32_t off)
{
    return _hv_start_ok(h, off) && (uint64_t)off + h->min_block <= h->ar->brk &&
           !_hv_balloc(_hv_hdr(h, off));
}

hv_err_t _hv_list_step(const hv_heap_t *h, uint32_t off, uint32_t *next)
{
    uint32_t n = _hv_next(h, off);
    if (n != HV_NIL && !entry_ok(h, n)) return HV_ECORRUPT;
    *next = n;
    return HV_OK;
}

/* The entry before which `off` goes (HV_NIL: append). */
static hv_err_t find_slot(const hv_heap_t *h, int list, uint32_t off,
                          uint32_t *slot)
{
    hv_arena_t *ar = h->ar;
    uint32_t cur = ar->head[list];
    for (uint32_t steps = 0; cur != HV_NIL; steps++) {
        if (cur == off || steps > ar->count[list] || !entry_ok(h, cur))
            return HV_ECORRUPT; /* already listed, a cycle, a bad link */
        if (_hv_list_before(h, off, cur)) break;
        if (_hv_list_step(h, cur, &cur)) return HV_ECORRUPT;
    }
    *slot = cur;
    return HV_OK;
}

/* Link off in before slot (HV_NIL: at the tail).  Both neighbours are
 * checked first: their links are about to be written. */
static hv_err_t link_before(hv_heap_t *h, int list, uint32_t off, uint32_t slot)
{
    hv_arena_t *ar = h->ar;
    if (slot != HV_NIL && !_hv_link_ok(h, slot)) return HV_ECORRUPT;
    uint32_t prev = slot == HV_NIL ? ar->tail[list] : _hv_prev(h, slot);
    if (prev == off || (prev != HV_NIL && !_hv_link_ok(h, prev)) ||
        (prev == HV_NIL ? ar->head[list] != slot : _hv_next(h, prev) != slot))
        return HV_ECORRUPT;
    _hv_set_next(h, off, slot);
    _hv_set_prev(h, off, prev);
    if (prev == HV_NIL)
        ar->head[list] = off;
    else
        _hv_set_next(h, prev, off);
    if (slot == HV_NIL)
        ar->tail[list] = off;
    else
        _hv_set_prev(h, slot, off);
    return HV_OK;
}

hv_err_t _hv_list_insert(hv_heap_t *h, uint32_t off)
{
    hv_arena_t *ar = h->ar;
    uint32_t size = _hv_bsize(_hv_hdr(h, off)), slot = HV_NIL;
    int list = _hv_list_of(h, size);
    if (list < 0 || list >= (int)ar->nlists) return HV_ECORRUPT;
    if (ar->head[list] == off) /* glibc's "double free (fasttop)" */
        return HV_ECORRUPT;
    if (h->order == HV_ORDER_LIFO)
        slot = ar->head[list];
    else if (h->order != HV_ORDER_FIFO && find_slot(h, list, off, &slot))
        return HV_ECORRUPT;
    if (link_before(h, list, off, slot)) return HV_ECORRUPT;
    if (ar->count[list]++ == 0) mark(h, list, true);
    ar->c.free_blocks++;
    ar->c.free_bytes += size;
    return HV_OK;
}

/* Unlink off from `list`, its links (prev, next) already checked. */
static void unlink_checked(hv_heap_t *h, int list, uint32_t off, uint32_t size,
                           uint32_t prev, uint32_t next)
{
    hv_arena_t *ar = h->ar;
    if (prev == HV_NIL)
        ar->head[list] = next;
    else
        _hv_set_next(h, prev, next);
    if (next == HV_NIL)
        ar->tail[list] = prev;
    else
        _hv_set_prev(h, next, prev);
    if (--ar->count[list] == 0) mark(h, list, false);
    if (ar->rover == off) /* next fit resumes after the block */
        ar->rover = next != HV_NIL ? next : ar->head[list];
    ar->c.free_blocks--;
    ar->c.free_bytes -= size;
}

/* Take off (of `size` bytes: its header may already say otherwise) off
 * its list. */
hv_err_t _hv_list_unlink(hv_heap_t *h, uint32_t off, uint32_t size)
{
    int list = _hv_list_of(h, size);
    uint32_t prev = _hv_prev(h, off), next = _hv_next(h, off);
    if (list < 0 || list >= (int)h->ar->nlists ||
        !_hv_links_agree(h, list, off, prev, next))
        return HV_ECORRUPT;
    unlink_checked(h, list, off, size, prev, next);
    return HV_OK;
}

hv_err_t _hv_list_remove(hv_heap_t *h, uint32_t off)
{
    return _hv_list_unlink(h, off, _hv_bsize(_hv_hdr(h, off)));
}

/* The slow half of _hv_list_swap (freelist.h): blk does not belong where
 * old was, so old is unlinked and blk inserted in order. */
hv_err_t _hv_list_move(hv_heap_t *h, int list, uint32_t old, uint32_t old_size,
                       uint32_t prev, uint32_t next, uint32_t blk)
{
    unlink_checked(h, list, old, old_size, prev, next);
    return _hv_list_insert(h, blk);
}

/* The first non-empty list at or after `from`, or -1: two bitmap looks
 * (TLSF's two-level search). */
int _hv_list_next_nonempty(const hv_heap_t *h, int from)
{
    const hv_arena_t *ar = h->ar;
    if (from < 0 || from >= (int)ar->nlists) return -1;
    int w = from >> 6;
    uint64_t bits = ar->nonempty[w] & (~0ull << (from & 63));
    if (bits) return w * 64 + __builtin_ctzll(bits);
    uint64_t words = ar->nonempty_words & ~(~0ull >> (63 - w));
    if (!words) return -1;
    w = __builtin_ctzll(words);
    return w * 64 + __builtin_ctzll(ar->nonempty[w]);
}

/* The fit policies keep a single list. */
int _hv_one_list_of(const hv_heap_t *h, uint32_t size)
{
    (void)h;
    (void)size;
    return 0;
}
int _hv_one_list_count(const hv_heap_t *h)
{
    (void)h;
    return 1;
}
void _hv_one_list_range(const hv_heap_t *h, int list, uint64_t *lo,
                        uint64_t *hi)
{
    (void)list;
    *lo = h->min_block;
    *hi = UINT64_MAX;
}

const hv_policy_ops_t *_hv_policy_for(hv_policy_t p)
{
    static const hv_policy_ops_t *const table[HV_POLICY_COUNT] = {
        [HV_POLICY_FIRST] = &_hv_policy_first,
        [HV_POLICY_NEXT] = &_hv_policy_next,
        [HV_POLICY_BEST] = &_hv_policy_best,
        [HV_POLICY_WORST] = &_hv_policy_worst,
        [HV_POLICY_SEGREGATED] = &_hv_policy_segregated,
        [HV_POLICY_BUDDY] = &_hv_policy_buddy,
    };
    return (unsigned)p < HV_POLICY_COUNT ? table[p] : NULL;
}

/* policy.h — the small vtable behind which each placement policy lives.
 *
 * A list policy (first, next, best, worst, segregated) only decides two
 * things: which free list a free block of a given size belongs on, and
 * which free block a request takes.  Everything else (split, coalesce,
 * list insert/remove in the configured order, growing the break) is the
 * shared machinery in block.c, freelist.c and heap.c.  Buddy replaces the
 * block machinery with its own and fills in the `alloc` group.
 */
#ifndef HEAPVIZ_POLICY_H
#define HEAPVIZ_POLICY_H

#include "internal.h"

typedef struct hv_policy_ops {
    const char *name;
    int order; /* the lists' order: an hv_order_t, or -1 for cfg.order */

    /* Find a free block of at least asize bytes: *off = its offset or
     * HV_NIL, *searched = list entries looked at.  HV_ECORRUPT when a
     * damaged list was met. */
    hv_err_t (*find)(hv_heap_t *h, uint32_t asize, uint32_t *off,
                     uint32_t *searched);
    int (*list_of)(const hv_heap_t *h, uint32_t size);
    int (*list_count)(const hv_heap_t *h);
    void (*list_range)(const hv_heap_t *h, int list, uint64_t *lo,
                       uint64_t *hi);
    /* After a placement: `block` was taken, `rem` (or HV_NIL) split off.
     * May be NULL. */
    void (*placed)(hv_heap_t *h, uint32_t block, uint32_t rem);
    /* Should a block of asize bytes go at the back of the free block it
     * splits?  May be NULL (always the front). */
    bool (*place_back)(hv_heap_t *h, uint32_t asize);

    /* Buddy only (NULL for list policies). */
    void (*init)(hv_heap_t *h);
    uint32_t (*adjust)(const hv_heap_t *h, uint64_t n);
    hv_err_t (*alloc)(hv_heap_t *h, uint32_t asize, uint32_t *off,
                      uint32_t *searched);
    hv_err_t (*release)(hv_heap_t *h, uint32_t off);
    hv_err_t (*shrink)(hv_heap_t *h, uint32_t off, uint32_t asize);
} hv_policy_ops_t;

/* One file each. */
extern const hv_policy_ops_t _hv_policy_first;
extern const hv_policy_ops_t _hv_policy_next;
extern const hv_policy_ops_t _hv_policy_best;
extern const hv_policy_ops_t _hv_policy_worst;
extern const hv_policy_ops_t _hv_policy_segregated;
extern const hv_policy_ops_t _hv_policy_buddy;

const hv_policy_ops_t *_hv_policy_for(hv_policy_t p);

/* ------------------------------------------------------------------------
 * freelist.c — doubly linked free lists in the configured order, written
 * once for every policy.  The fit policies share one list (list 0).
 * ---------------------------------------------------------------------- */
hv_err_t _hv_list_insert(hv_heap_t *h, uint32_t off);
hv_err_t _hv_list_remove(hv_heap_t *h, uint32_t off);
hv_err_t _hv_list_unlink(hv_heap_t *h, uint32_t off, uint32_t size);
hv_err_t _hv_list_step(const hv_heap_t *h, uint32_t off, uint32_t *next);
int _hv_list_next_nonempty(const hv_heap_t *h, int from);
int _hv_one_list_of(const hv_heap_t *h, uint32_t size);
int _hv_one_list_count(const hv_heap_t *h);
void _hv_one_list_range(const hv_heap_t *h, int list, uint64_t *lo,
                        uint64_t *hi);

#endif /* HEAPVIZ_POLICY_H */

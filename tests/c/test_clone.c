/* test_clone.c — a clone is the same heap (blocks, lists, bytes, stats,
 * mappings, stack) and then lives on its own: the same operations on the
 * original and on the clone give the same heaps, and neither sees the
 * other's changes. */
#include "harness.h"

#include <stdlib.h>

static void same(const hv_heap_t *a, const hv_heap_t *b)
{
    char wb[8192];
    snprintf(wb, sizeof wb, "%s", t_blocks(a));
    CHECK(strcmp(t_blocks(b), wb) == 0);
    for (int l = 0; l < hv_free_list_count(a); l++) {
        snprintf(wb, sizeof wb, "%s", t_list(a, l));
        CHECK(strcmp(t_list(b, l), wb) == 0);
    }
    hv_stats_t x, y;
    hv_stats(a, &x);
    hv_stats(b, &y);
    CHECK(memcmp(&x, &y, sizeof x) == 0);
    CHECK_EQ(t_violations(b), 0);
}

static void clone_policy(hv_policy_t policy)
{
    hv_config_t cfg = t_cfg(policy, HV_ORDER_ADDRESS);
    hv_heap_t *h = t_heap(cfg), *c = NULL;
    hv_addr_t p[12], big, raw, obj;
    uint32_t depth;
    for (int i = 0; i < 12; i++)
        p[i] = t_malloc(h, 8 + 24 * (uint64_t)i);
    for (int i = 0; i < 12; i += 3)
        t_free(h, p[i]);
    big = t_malloc(h, 300000);
    CHECK_OK(hv_mmap(h, 5000, 0, &raw));
    CHECK_OK(hv_frame_push(h, "main", 0, &depth));
    CHECK_OK(hv_frame_alloc(h, 40, 0, &obj));
    uint8_t *m;
    hv_region_t region;
    CHECK_OK(hv_resolve(h, p[1], 8, &region, &m));
    memcpy(m, "original", 8);
    CHECK_OK(hv_heap_clone(h, &c));
    if (!c) return;
    same(h, c);
    CHECK_OK(hv_resolve(c, p[1], 8, &region, &m));
    CHECK(memcmp(m, "original", 8) == 0);
    CHECK_OK(hv_resolve(c, raw, 5000, &region, &m));
    CHECK_OK(hv_resolve(c, obj, 40, &region, &m));
    /* the same operations on both keep them the same */
    hv_addr_t q1 = t_malloc(h, 100), q2 = t_malloc(c, 100);
    CHECK_EQ(q1, q2);
    t_free(h, p[4]);
    t_free(c, p[4]);
    t_free(h, big);
    t_free(c, big);
    same(h, c);
    /* ...and the clone is on its own */
    t_free(c, p[5]);
    hv_block_t b;
    CHECK_OK(hv_block_at(h, p[5] - hv_heap_config(h)->align, &b) == HV_OK
                 ? HV_OK
                 : hv_block_containing(h, p[5], &b));
    CHECK(b.state == HV_BLOCK_ALLOCATED);
    hv_heap_destroy(c);
    hv_heap_destroy(h);
}

void test_clone(void)
{
    for (int p = 0; p < HV_POLICY_COUNT; p++)
        clone_policy((hv_policy_t)p);
}

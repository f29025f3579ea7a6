/* test_buddy.c — binary buddies: power-of-two blocks aligned to their
 * size, halving on malloc, merging on free, the heap doubling. */
#include "harness.h"

enum { BASE = 0x10000 };

static void halves_and_merges(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_BUDDY, HV_ORDER_ADDRESS));
    hv_layout_t l;
    hv_heap_layout(h, &l);
    CHECK_EQ(l.header_size, 16);
    CHECK_EQ(l.footer_size, 0);
    CHECK_EQ(l.min_block, 32);
    CHECK_EQ(l.heap_pad, 0);
    CHECK_EQ(hv_free_list_count(h), 16); /* 32 B .. 1 MiB, the reservation */
    uint64_t lo, hi;
    hv_free_list_range(h, 7, &lo, &hi);
    CHECK(lo == 4096 && hi == 4096);
    CHECK(strcmp(t_list(h, 7), "0:4096") == 0);
    hv_addr_t a = t_malloc(h, 10); /* 26 bytes: a 32-byte block */
    CHECK_EQ(a, BASE + 16);
    CHECK(strcmp(t_blocks(h),
                 "0:32* 20:32 40:64 80:128 100:256 200:512 400:1024 "
                 "800:2048") == 0);
    hv_addr_t b = t_malloc(h, 16); /* its buddy */
    CHECK_EQ(b, BASE + 0x30);
    hv_addr_t c = t_malloc(h, 100); /* 116: 128, from splitting 0x40:64? no:
                                       the 128 at 0x80 */
    CHECK_EQ(c, BASE + 0x90);
    CHECK_EQ(t_violations(h), 0);
    t_free(h, a); /* its buddy is in use: no merge */
    CHECK(strcmp(t_list(h, 0), "0:32") == 0);
    uint64_t from = hv_ring_head(h);
    t_free(h, b); /* 0+32 -> 64, + 0x40:64 -> 128, stops at c */
    int merges = 0;
    hv_event_t e;
    for (uint64_t s = from; hv_ring_get(h, s, &e); s++)
        merges += e.kind == HV_EV_COALESCE;
    CHECK_EQ(merges, 2);
    CHECK(strcmp(t_list(h, 2), "0:128") == 0);
    t_free(h, c);
    CHECK(strcmp(t_blocks(h), "0:4096") == 0);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void doubling(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_BUDDY, HV_ORDER_ADDRESS));
    hv_addr_t a = t_malloc(h, 3000); /* 3016 -> the whole 4096 */
    CHECK_EQ(a, BASE + 16);
    uint64_t from = hv_ring_head(h);
    hv_addr_t b = t_malloc(h, 100);
    hv_event_t e;
    CHECK(hv_ring_get(h, from, &e));
    CHECK_EQ(e.kind, HV_EV_GROW);
    CHECK_EQ(e.addr, BASE + 4096);
    CHECK_EQ(e.size, 4096);
    CHECK_EQ(hv_brk(h), BASE + 8192);
    CHECK_EQ(b, BASE + 4096 + 16);
    t_free(h, a);
    t_free(h, b); /* everything merges back into one 8192 block */
    CHECK(strcmp(t_blocks(h), "0:8192") == 0);
    /* realloc: shrinking halves in place, growing moves */
    a = t_malloc(h, 4000);
    hv_addr_t q = 0;
    CHECK_OK(hv_realloc(h, a, 100, 0, HV_FREE_CHECKED, &q));
    CHECK_EQ(q, a);
    CHECK(strcmp(t_blocks(h),
                 "0:128* 80:128 100:256 200:512 400:1024 800:2048 "
                 "1000:4096") == 0);
    CHECK_OK(hv_realloc(h, a, 1000, 0, HV_FREE_CHECKED, &q));
    CHECK(q != a);
    CHECK_EQ(t_violations(h), 0);
    /* a request beyond the largest power of two within max_size */
    hv_addr_t big = 1;
    hv_config_t cfg = t_cfg(HV_POLICY_BUDDY, HV_ORDER_ADDRESS);
    cfg.mmap_threshold = 0;
    hv_heap_t *h2 = t_heap(cfg);
    CHECK_OK(hv_malloc(h2, 1u << 20, 0, &big));
    CHECK_EQ(big, 0);
    CHECK_OK(hv_malloc(h2, (1u << 19) - 100, 0, &big));
    CHECK(big != 0);
    hv_heap_destroy(h2);
    hv_heap_destroy(h);
}

void test_buddy(void)
{
    halves_and_merges();
    doubling();
}

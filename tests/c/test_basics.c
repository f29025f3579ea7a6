/* test_basics.c — creating a heap, its layout for each block format, a
 * first malloc and free, the statistics. */
#include "harness.h"

enum { BASE = 0x10000 };

static void layout_of(uint32_t align, bool footer, bool magic, uint32_t hs,
                      uint32_t ftr, uint32_t min, uint32_t pad)
{
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.align = align;
    cfg.footer = footer;
    cfg.magic = magic;
    hv_heap_t *h = t_heap(cfg);
    hv_layout_t l;
    hv_heap_layout(h, &l);
    CHECK_EQ(l.align, align);
    CHECK_EQ(l.header_size, hs);
    CHECK_EQ(l.footer_size, ftr);
    CHECK_EQ(l.min_block, min);
    CHECK_EQ(l.heap_pad, pad);
    CHECK_EQ(l.page_size, 4096);
    CHECK_EQ(l.heap_base, BASE);
    hv_addr_t p = t_malloc(h, 1);
    CHECK_EQ(p % align, 0);
    CHECK_EQ(p, BASE + pad + hs);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void layouts(void)
{
    layout_of(16, true, false, 4, 4, 16, 12);
    layout_of(16, false, true, 8, 0, 32, 8);
    layout_of(8, false, false, 4, 0, 16, 4);
    layout_of(8, true, true, 8, 4, 24, 0);
    layout_of(4, true, false, 4, 4, 16, 0);
    layout_of(4, false, true, 8, 0, 20, 0);
}

static void first_steps(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    CHECK_EQ(hv_brk(h), BASE + 4096);
    CHECK(strcmp(t_blocks(h), "c:4080") == 0);
    hv_addr_t p = t_malloc(h, 10);
    CHECK_EQ(p, BASE + 16);
    CHECK(strcmp(t_blocks(h), "c:32* 2c:4048") == 0);
    hv_block_t b;
    CHECK_OK(hv_block_at(h, BASE + 0xc, &b));
    CHECK_EQ(b.state, HV_BLOCK_ALLOCATED);
    CHECK_EQ(b.header, 32 | 1 | 2);
    CHECK_EQ(b.footer, 32 | 1 | 2);
    CHECK(b.has_footer && b.prev_alloc);
    CHECK_EQ(b.payload, p);
    CHECK_EQ(b.payload_size, 24);
    CHECK_EQ(b.requested, 10);
    CHECK_EQ(b.list, -1);
    uint32_t gen = b.gen;
    hv_stats_t s;
    hv_stats(h, &s);
    CHECK_EQ(s.heap_size, 4096);
    CHECK_EQ(s.in_use, 32);
    CHECK_EQ(s.payload, 10);
    CHECK_EQ(s.peak_payload, 10);
    CHECK_EQ(s.free_bytes, 4048);
    CHECK_EQ(s.largest_free, 4048);
    CHECK_EQ(s.free_blocks, 1);
    CHECK_EQ(s.alloc_blocks, 1);
    CHECK_EQ(s.n_malloc, 1);
    CHECK_EQ(s.n_split, 1);
    t_free(h, p);
    CHECK(strcmp(t_blocks(h), "c:4080") == 0);
    CHECK_OK(hv_block_at(h, BASE + 0xc, &b));
    CHECK_EQ(b.state, HV_BLOCK_FREE);
    CHECK_EQ(b.gen, gen + 1); /* the provenance check's generation */
    CHECK_EQ(b.list, 0);
    CHECK_EQ(b.next_free, 0);
    hv_stats(h, &s);
    CHECK_EQ(s.payload, 0);
    CHECK_EQ(s.peak_payload, 10);
    CHECK_EQ(s.n_coalesce, 1);
    CHECK_EQ(s.ops, 2);
    CHECK(s.utilization > 0.0024 && s.utilization < 0.0025);
    CHECK_EQ(hv_block_at(h, BASE + 0x10, &b), HV_EFAULT); /* not a start */
    CHECK_EQ(hv_block_containing(h, BASE + 4, &b), HV_EFAULT); /* the pad */
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

void test_basics(void)
{
    layouts();
    first_steps();
}

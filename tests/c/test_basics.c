/* test_basics.c — creating heaps, the layout, a first malloc and free. */
#include "harness.h"

static void smoke(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    hv_layout_t l;
    hv_heap_layout(h, &l);
    CHECK_EQ(l.header_size, 4);
    CHECK_EQ(l.footer_size, 4);
    CHECK_EQ(l.min_block, 16);
    CHECK_EQ(l.heap_pad, 12);
    CHECK_EQ(hv_brk(h), 0x10000 + 4096);
    hv_addr_t p = t_malloc(h, 10);
    CHECK_EQ(p, 0x10000 + 16);
    CHECK_EQ(p % 16, 0);
    CHECK_EQ(t_violations(h), 0);
    fprintf(stderr, "%s\n", t_blocks(h));
    t_free(h, p);
    CHECK_EQ(t_violations(h), 0);
    fprintf(stderr, "%s\n", t_blocks(h));
    hv_heap_destroy(h);
}

void test_basics(void) { smoke(); }

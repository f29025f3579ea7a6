/* test_mmap.c — the chapter's system calls: sbrk up and down, mmapped
 * chunks above the threshold, raw mmap/munmap. */
#include "harness.h"

enum { BASE = 0x10000 };
static const hv_addr_t MMAP = 0x7f0000000000ull;

static void sbrk_up(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    hv_addr_t old = 0;
    CHECK_OK(hv_sbrk(h, 0, 0, &old));
    CHECK_EQ(old, BASE + 4096);
    CHECK_OK(hv_sbrk(h, 100, 0, &old));
    CHECK_EQ(old, BASE + 4096); /* the payload starts at the old break */
    CHECK_EQ(hv_brk(h), BASE + 4096 + 112); /* 100 + header + footer */
    hv_block_t b;
    CHECK_OK(hv_block_containing(h, old + 50, &b));
    CHECK_EQ(b.state, HV_BLOCK_SBRK);
    CHECK_EQ(b.addr, old - 4); /* the old epilogue is its header */
    CHECK_EQ(b.payload, old);
    CHECK_EQ(b.requested, 100);
    uint8_t *m;
    CHECK_OK(hv_resolve(h, old, 100, NULL, &m));
    memset(m, 7, 100);
    CHECK_EQ(hv_free(h, old, 0, HV_FREE_CHECKED), HV_EBADFREE);
    CHECK(strcmp(t_blocks(h), "c:4080 ffc:112*") == 0);
    /* malloc still works around it */
    CHECK_EQ(t_malloc(h, 24), BASE + 0x10);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);
}

static void sbrk_down(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    hv_addr_t old = 0;
    CHECK_OK(hv_sbrk(h, -1024, 0, &old));
    CHECK_EQ(old, BASE + 4096);
    CHECK_EQ(hv_brk(h), BASE + 3072);
    CHECK(strcmp(t_blocks(h), "c:3056") == 0);
    CHECK_EQ(t_violations(h), 0);
    CHECK_OK(hv_sbrk(h, -3056, 0, &old)); /* the whole top block */
    CHECK_EQ(hv_brk(h), BASE + 16);
    CHECK(strcmp(t_blocks(h), "") == 0);
    CHECK_EQ(hv_sbrk(h, -16, 0, &old), HV_EINVAL); /* no free top block */
    CHECK_EQ(t_violations(h), 0);
    CHECK_EQ(t_malloc(h, 24), BASE + 0x10); /* grows again */
    hv_addr_t p = t_malloc(h, 4000);
    CHECK_EQ(hv_sbrk(h, -64, 0, &old), HV_EINVAL); /* top is allocated */
    (void)p;
    hv_heap_destroy(h);

    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.max_size = 8192;
    h = t_heap(cfg);
    CHECK_EQ(hv_sbrk(h, 8192, 0, &old), HV_ENOMEM);
    CHECK_EQ(hv_brk(h), BASE + 4096);
    hv_heap_destroy(h);

    cfg = t_cfg(HV_POLICY_BUDDY, HV_ORDER_ADDRESS);
    h = t_heap(cfg);
    CHECK_EQ(hv_sbrk(h, 64, 0, &old), HV_EINVAL);
    hv_heap_destroy(h);
}

static void chunks(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    hv_layout_t l;
    hv_heap_layout(h, &l);
    CHECK_EQ(l.mmap_base, MMAP);
    hv_addr_t a = t_malloc(h, 200000); /* >= 128 KiB: a chunk */
    CHECK_EQ(a, MMAP + 16);
    hv_block_t b;
    CHECK_OK(hv_block_at(h, MMAP, &b));
    CHECK_EQ(b.state, HV_BLOCK_MMAPPED);
    CHECK_EQ(b.size, 200704); /* 200016 rounded to pages */
    CHECK_EQ(b.requested, 200000);
    CHECK_OK(hv_block_containing(h, a + 199999, &b));
    CHECK_EQ(b.addr, MMAP);
    hv_stats_t s;
    hv_stats(h, &s);
    CHECK_EQ(s.mmapped, 200704);
    CHECK_EQ(s.heap_size, 4096 + 200704);
    CHECK_EQ(s.payload, 200000);
    hv_addr_t c = t_malloc(h, 131072);
    CHECK_EQ(c, MMAP + 200704 + 16);
    uint8_t *m;
    CHECK_OK(hv_resolve(h, a, 200000, NULL, &m));
    memset(m, 1, 200000);
    hv_region_t r;
    CHECK_EQ(hv_resolve(h, a, 200704, &r, &m), HV_EFAULT); /* runs past */
    CHECK_EQ(r, HV_REGION_MMAP);
    uint64_t from = hv_ring_head(h);
    t_free(h, a);
    hv_event_t e;
    CHECK(hv_ring_get(h, from, &e));
    CHECK_EQ(e.kind, HV_EV_MUNMAP);
    CHECK(hv_ring_get(h, from + 1, &e));
    CHECK_EQ(e.kind, HV_EV_FREE);
    CHECK_EQ(e.a, MMAP);
    CHECK_EQ(hv_resolve(h, a, 1, &r, &m), HV_EFAULT);
    CHECK_EQ(r, HV_REGION_NONE);
    CHECK_EQ(hv_free(h, a, 0, HV_FREE_CHECKED), HV_EBADFREE);
    /* the lowest gap that fits: the same address again */
    CHECK_EQ(t_malloc(h, 150000), MMAP + 16);
    CHECK_OK(hv_resolve(h, MMAP + 16, 150000, NULL, &m));
    CHECK_EQ(m[0], 0); /* fresh pages */
    /* realloc: in place while it fits, else moved */
    hv_addr_t q = 0;
    CHECK_OK(hv_realloc(h, c, 131072 + 1000, 0, HV_FREE_CHECKED, &q));
    CHECK_EQ(q, c);
    CHECK_OK(hv_realloc(h, c, 400000, 0, HV_FREE_CHECKED, &q));
    CHECK(q != c && q > MMAP);
    CHECK_OK(hv_block_containing(h, q, &b));
    CHECK_EQ(b.requested, 400000);
    CHECK_EQ(t_violations(h), 0);
    hv_heap_destroy(h);

    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.mmap_threshold = 0; /* off: big requests stay in the heap */
    h = t_heap(cfg);
    CHECK_EQ(t_malloc(h, 200000), BASE + 0x10);
    hv_heap_destroy(h);
}

static void raw_mappings(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    hv_addr_t p = 0;
    CHECK_OK(hv_mmap(h, 5000, 0, &p));
    CHECK_EQ(p, MMAP);
    hv_block_t b;
    CHECK_OK(hv_block_at(h, p, &b));
    CHECK_EQ(b.state, HV_BLOCK_MAPPING);
    CHECK_EQ(b.size, 8192);
    CHECK_EQ(b.payload, p);
    const uint8_t *sh = hv_shadow(h, p, 8192);
    CHECK(sh && sh[0] == HV_SH_INIT && sh[8191] == HV_SH_INIT);
    CHECK_EQ(hv_free(h, p, 0, HV_FREE_CHECKED), HV_EBADFREE);
    CHECK_EQ(hv_munmap(h, p + 4096, 0), HV_EINVAL);
    CHECK_EQ(hv_mmap(h, 0, 0, &p), HV_EINVAL);
    CHECK_OK(hv_munmap(h, MMAP, 0));
    uint8_t *m;
    CHECK_EQ(hv_resolve(h, MMAP, 1, NULL, &m), HV_EFAULT);
    hv_addr_t c = t_malloc(h, 300000);
    CHECK_OK(hv_munmap(h, c - 16, 0)); /* a chunk's whole mapping */
    hv_stats_t s;
    hv_stats(h, &s);
    CHECK_EQ(s.mmapped, 0);
    CHECK_EQ(s.payload, 0);
    CHECK_EQ(s.n_mmap, 2);
    CHECK_EQ(s.n_munmap, 2);
    CHECK_EQ(t_violations(h), 0);
    hv_config_t cfg = t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS);
    cfg.max_size = 65536;
    hv_heap_t *small = t_heap(cfg);
    CHECK_EQ(hv_mmap(small, 1u << 20, 0, &p), HV_ENOMEM);
    CHECK_EQ(p, 0);
    hv_heap_destroy(small);
    hv_heap_destroy(h);
}

void test_mmap(void)
{
    sbrk_up();
    sbrk_down();
    chunks();
    raw_mappings();
}

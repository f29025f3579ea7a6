/* test_frames.c — the simulated stack (frames and objects growing down
 * from just below 0x7ffffffff000) and interned call sites. */
#include "harness.h"

#include <stdlib.h>

static const hv_addr_t TOP = 0x7ffffffff000ull;

static int stack_blocks(const hv_block_t *b, void *arg)
{
    hv_addr_t *seen = arg;
    int i = 0;
    while (b->state == HV_BLOCK_STACK && i < 3 && seen[i])
        i++;
    if (b->state == HV_BLOCK_STACK && i < 3)
        seen[i] = b->addr;
    return 0;
}

static void frames(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    hv_layout_t l;
    hv_heap_layout(h, &l);
    CHECK_EQ(l.stack_top, TOP);
    CHECK_EQ(l.stack_base, TOP - 16384);
    hv_addr_t a = 0, b = 0, c = 0;
    uint32_t depth = 0;
    CHECK_EQ(hv_frame_alloc(h, 8, 0, &a), HV_ESTACK); /* no frame */
    CHECK_EQ(hv_frame_pop(h, 0), HV_ESTACK);
    CHECK_OK(hv_frame_push(h, "main", 0, &depth));
    CHECK_EQ(depth, 1);
    CHECK_OK(hv_frame_alloc(h, 24, 0, &a));
    CHECK_EQ(a, TOP - 32);
    CHECK_OK(hv_frame_alloc(h, 8, 0, &b));
    CHECK_EQ(b, TOP - 48);
    CHECK_OK(hv_frame_push(h, "f", 0, &depth));
    CHECK_OK(hv_frame_alloc(h, 100, 0, &c));
    CHECK_EQ(c, TOP - 160);
    CHECK_EQ(hv_frame_depth(h), 2);
    const char *name;
    hv_addr_t lo, hi;
    CHECK(hv_frame_get(h, 0, &name, &lo, &hi));
    CHECK(strcmp(name, "main") == 0 && lo == TOP - 48 && hi == TOP);
    CHECK(hv_frame_get(h, 1, &name, &lo, &hi));
    CHECK(strcmp(name, "f") == 0 && lo == TOP - 160 && hi == TOP - 48);
    CHECK(!hv_frame_get(h, 2, &name, &lo, &hi));
    uint8_t *m;
    hv_region_t r;
    CHECK_OK(hv_resolve(h, c, 100, &r, &m));
    CHECK_EQ(r, HV_REGION_STACK);
    CHECK_EQ(hv_shadow(h, c, 1)[0], HV_SH_UNINIT);
    hv_block_t blk;
    CHECK_OK(hv_block_containing(h, c + 50, &blk));
    CHECK_EQ(blk.state, HV_BLOCK_STACK);
    CHECK_EQ(blk.addr, c);
    hv_addr_t seen[3] = {0};
    hv_walk(h, stack_blocks, seen); /* in address order: lowest first */
    CHECK(seen[0] == c && seen[1] == b && seen[2] == a);
    CHECK_OK(hv_frame_pop(h, 0));
    CHECK_EQ(hv_resolve(h, c, 1, &r, &m), HV_EFAULT); /* popped */
    CHECK_EQ(r, HV_REGION_NONE);
    CHECK_EQ(hv_shadow(h, c, 1)[0], HV_SH_UNMAPPED);
    CHECK_OK(hv_resolve(h, a, 24, &r, &m));
    hv_event_t e;
    bool push = false, pop = false, alloc = false;
    for (uint64_t s = 0; hv_ring_get(h, s, &e); s++) {
        push |= e.kind == HV_EV_FRAME_PUSH && e.a == 2;
        pop |= e.kind == HV_EV_FRAME_POP && e.addr == c && e.size == 112;
        alloc |= e.kind == HV_EV_STACK_ALLOC && e.addr == c;
    }
    CHECK(push && pop && alloc);
    CHECK_EQ(hv_frame_alloc(h, 1 << 20, 0, &c), HV_ESTACK); /* overflow */
    CHECK_OK(hv_frame_pop(h, 0));
    CHECK_EQ(hv_frame_depth(h), 0);
    for (int i = 0; i < 256; i++)
        CHECK_OK(hv_frame_push(h, "r", 0, &depth));
    CHECK_EQ(hv_frame_push(h, "r", 0, &depth), HV_ESTACK);
    hv_heap_destroy(h);
}

static void sites(void)
{
    hv_heap_t *h = t_heap(t_cfg(HV_POLICY_FIRST, HV_ORDER_ADDRESS));
    uint32_t a, b, c, d;
    CHECK_OK(hv_site_intern(h, "lesson.py", 3, "main", &a));
    CHECK_OK(hv_site_intern(h, "lesson.py", 3, "main", &b));
    CHECK_OK(hv_site_intern(h, "lesson.py", 4, "main", &c));
    CHECK(a != 0 && a == b && c != a);
    char buf[16] = "x.py";
    CHECK_OK(hv_site_intern(h, buf, 1, NULL, &d));
    memcpy(buf, "y.py", 5); /* same pointer, new text: a new site */
    CHECK_OK(hv_site_intern(h, buf, 1, NULL, &b));
    CHECK(b != d);
    const char *file, *func;
    uint32_t line;
    CHECK(hv_site_get(h, d, &file, &line, &func));
    CHECK(strcmp(file, "x.py") == 0 && line == 1 && strcmp(func, "") == 0);
    CHECK(!hv_site_get(h, 0, &file, &line, &func));
    CHECK(!hv_site_get(h, 999999, &file, &line, &func));
    char name[32];
    bool ok = true;
    for (uint32_t i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "gen%u.py", i % 7);
        uint32_t id, again;
        ok &= hv_site_intern(h, name, i, "f", &id) == HV_OK;
        ok &= hv_site_intern(h, name, i, "f", &again) == HV_OK && id == again;
        ok &= hv_site_get(h, id, &file, &line, NULL) && line == i &&
              strcmp(file, name) == 0;
    }
    CHECK(ok);
    hv_heap_destroy(h);
}

void test_frames(void)
{
    frames();
    sites();
}

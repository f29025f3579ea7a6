/* test_attach.c — a reader maps the writer's arena read-only through the
 * memfd and sees the same heap: blocks, lists, stats, events, sites. */
#include "harness.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

enum { BASE = 0x10000 };

static void same_heap(hv_policy_t policy)
{
    hv_config_t cfg = t_cfg(policy, HV_ORDER_ADDRESS);
    hv_heap_t *w = t_heap(cfg), *r = NULL;
    uint32_t site;
    CHECK_OK(hv_site_intern(w, "demo.py", 7, "build", &site));
    hv_addr_t p[8];
    for (int i = 0; i < 8; i++)
        CHECK_OK(hv_malloc(w, 16 + 40 * (uint64_t)i, site, &p[i]));
    for (int i = 0; i < 8; i += 3)
        t_free(w, p[i]);
    hv_addr_t big = t_malloc(w, 200000);
    int fd = hv_heap_fd(w);
    CHECK(fd >= 0);
    CHECK_OK(hv_heap_attach(fd, &r));
    char wb[4096];
    snprintf(wb, sizeof wb, "%s", t_blocks(w));
    CHECK(strcmp(t_blocks(r), wb) == 0);
    for (int l = 0; l < hv_free_list_count(w); l++) {
        snprintf(wb, sizeof wb, "%s", t_list(w, l));
        CHECK(strcmp(t_list(r, l), wb) == 0);
    }
    CHECK_EQ(hv_free_list_count(r), hv_free_list_count(w));
    CHECK_EQ(t_violations(r), 0);
    hv_stats_t a, b;
    hv_stats(w, &a);
    hv_stats(r, &b);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    hv_block_t blk;
    CHECK_OK(hv_block_containing(r, p[1], &blk));
    CHECK_EQ(blk.site, site);
    CHECK_OK(hv_block_at(r, big - 16, &blk));
    CHECK_EQ(blk.state, HV_BLOCK_MMAPPED);
    const char *file, *func;
    uint32_t line;
    CHECK(hv_site_get(r, site, &file, &line, &func));
    CHECK(strcmp(file, "demo.py") == 0 && line == 7 &&
          strcmp(func, "build") == 0);
    hv_event_t e1, e2;
    CHECK_EQ(hv_ring_head(r), hv_ring_head(w));
    CHECK(hv_ring_get(r, 3, &e1) && hv_ring_get(w, 3, &e2));
    CHECK(memcmp(&e1, &e2, sizeof e1) == 0);
    CHECK_EQ(hv_history_count(r), 0); /* history is the writer's own */
    const uint8_t *mem;
    uint8_t *wm;
    CHECK_OK(hv_resolve(w, p[1], 8, NULL, &wm));
    memcpy(wm, "heapviz", 8);
    CHECK_OK(hv_resolve(r, p[1], 8, NULL, (uint8_t **)&mem));
    CHECK(memcmp(mem, "heapviz", 8) == 0);
    CHECK_EQ(hv_heap_fd(r), -1); /* not the reader's to close */
    hv_layout_t lw, lr;
    hv_heap_layout(w, &lw);
    hv_heap_layout(r, &lr);
    CHECK(memcmp(&lw, &lr, sizeof lw) == 0);
    CHECK(hv_heap_config(r)->policy == policy);
    /* the reader follows the writer */
    uint64_t v = hv_heap_version(r);
    CHECK_EQ(v % 2, 0);
    t_malloc(w, 100);
    CHECK(hv_heap_version(r) > v);
    CHECK_EQ(hv_heap_version(r) % 2, 0);
    snprintf(wb, sizeof wb, "%s", t_blocks(w));
    CHECK(strcmp(t_blocks(r), wb) == 0);
    hv_heap_destroy(r);
    hv_heap_destroy(w);
}

static void bad_fds(void)
{
    hv_heap_t *r = (hv_heap_t *)1;
    CHECK(hv_heap_attach(-1, &r) != HV_OK);
    CHECK(r == NULL);
    int fd = memfd_create("not-heapviz", 0);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 1 << 20) == 0);
    CHECK_EQ(hv_heap_attach(fd, &r), HV_EINVAL);
    close(fd);
}

void test_attach(void)
{
    for (int p = 0; p < HV_POLICY_COUNT; p++)
        same_heap((hv_policy_t)p);
    bad_fds();
}

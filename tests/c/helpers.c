/* helpers.c — small conveniences shared by the test files. */
#include "harness.h"

#include <stdlib.h>

hv_config_t t_cfg(hv_policy_t policy, hv_order_t order)
{
    hv_config_t cfg;
    hv_config_default(&cfg);
    cfg.policy = policy;
    cfg.order = order;
    cfg.max_size = 1u << 20;
    cfg.ring_capacity = 1024;
    cfg.history_limit = 100000;
    cfg.stack_size = 16384;
    return cfg;
}

hv_heap_t *t_heap(hv_config_t cfg)
{
    hv_heap_t *h = NULL;
    const char *bad = NULL;
    hv_err_t err = hv_heap_create(&cfg, &h, &bad);
    if (err) {
        fprintf(stderr, "hv_heap_create: %s (%s)\n", hv_strerror(err),
                bad ? bad : "-");
        exit(2);
    }
    return h;
}

int t_violations(const hv_heap_t *h)
{
    hv_violation_t v[8];
    int n = hv_check(h, v, 8);
    for (int i = 0; i < n && i < 8; i++)
        fprintf(stderr, "  violation: %#llx %s\n", (unsigned long long)v[i].addr,
                v[i].what);
    return n;
}

hv_addr_t t_malloc(hv_heap_t *h, uint64_t n)
{
    hv_addr_t p = 0;
    CHECK_OK(hv_malloc(h, n, 0, &p));
    return p;
}

void t_free(hv_heap_t *h, hv_addr_t p) { CHECK_OK(hv_free(h, p, 0, HV_FREE_CHECKED)); }

typedef struct buf {
    char s[4096];
    size_t len;
    hv_addr_t base;
} buf_t;

static int append(const hv_block_t *b, void *arg)
{
    buf_t *o = arg;
    if (o->len < sizeof o->s - 64)
        o->len += (size_t)snprintf(o->s + o->len, sizeof o->s - o->len,
                                   "%s%llx:%llu%s", o->len ? " " : "",
                                   (unsigned long long)(b->addr - o->base),
                                   (unsigned long long)b->size,
                                   b->state == HV_BLOCK_FREE ? "" : "*");
    return 0;
}

const char *t_list(const hv_heap_t *h, int list)
{
    static buf_t o;
    o.len = 0;
    o.s[0] = 0;
    o.base = hv_heap_config(h)->base;
    hv_walk_free_list(h, list, append, &o);
    return o.s;
}

const char *t_blocks(const hv_heap_t *h)
{
    static buf_t o;
    o.len = 0;
    o.s[0] = 0;
    o.base = hv_heap_config(h)->base;
    hv_walk(h, append, &o);
    return o.s;
}

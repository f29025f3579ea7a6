/* test_stress.c — randomized malloc/calloc/realloc/free per policy and
 * configuration, with hv_check after every step and the contents of every
 * live block verified: calloc's bytes are all zero (even in a block that
 * held another's bytes), realloc keeps min(old, new) bytes, and every block
 * keeps its fill byte until it is freed. */
#include "harness.h"

#include <stdlib.h>

enum { SLOTS = 64 };

typedef struct live {
    hv_addr_t p;
    uint64_t n;
    uint8_t fill;
} live_t;

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t pick_size(void)
{
    switch (rnd() % 8) {
    case 0:
        return rnd() % 8;
    case 1:
        return 200 + rnd() % 3000;
    case 2:
        return rnd() % 20000;
    default:
        return 1 + rnd() % 120;
    }
}

static void fill(hv_heap_t *h, live_t *l)
{
    uint8_t *m;
    if (l->n && hv_resolve(h, l->p, l->n, NULL, &m) == HV_OK)
        memset(m, l->fill, l->n);
}

static bool intact(hv_heap_t *h, const live_t *l, uint64_t n)
{
    uint8_t *m;
    if (n == 0)
        return true;
    if (hv_resolve(h, l->p, n, NULL, &m))
        return false;
    for (uint64_t i = 0; i < n; i++)
        if (m[i] != l->fill)
            return false;
    return true;
}

/* calloc(nmemb, size) into l: its n bytes must read zero before they are
 * filled like any block's. */
static hv_err_t stress_calloc(hv_heap_t *h, uint64_t n, hv_addr_t *q,
                              uint64_t *total, int *bad)
{
    uint64_t nmemb = 1 + rnd() % 8, size = n / 8;
    hv_err_t err = hv_calloc(h, nmemb, size, 7, q);
    *total = nmemb * size;
    if (*q && !intact(h, &(live_t){*q, *total, 0}, *total)) {
        fprintf(stderr, "calloc(%llu, %llu) -> %#llx is not all zero\n",
                (unsigned long long)nmemb, (unsigned long long)size,
                (unsigned long long)*q);
        (*bad)++;
    }
    return err;
}

static void step(hv_heap_t *h, live_t *slots, int *bad)
{
    live_t *l = &slots[rnd() % SLOTS];
    hv_addr_t q = 0;
    uint64_t n = pick_size();
    hv_err_t err = HV_OK;
    if (!l->p) {
        if (rnd() % 4 == 0)
            err = stress_calloc(h, n, &q, &n, bad);
        else
            err = hv_malloc(h, n, 7, &q);
        if (q) {
            *l = (live_t){q, n, (uint8_t)rnd()};
            fill(h, l);
        }
    } else if (rnd() % 3 == 0) {
        err = hv_realloc(h, l->p, n, 7, HV_FREE_CHECKED, &q);
        if (q || n == 0) {
            if (n && !intact(h, &(live_t){q, 0, l->fill},
                             n < l->n ? n : l->n)) {
                fprintf(stderr, "realloc %#llx (%llu) -> %#llx (%llu) lost "
                                "contents\n",
                        (unsigned long long)l->p, (unsigned long long)l->n,
                        (unsigned long long)q, (unsigned long long)n);
                (*bad)++;
            }
            *l = (live_t){q, q ? n : 0, l->fill};
            fill(h, l);
        }
    } else {
        if (!intact(h, l, l->n)) {
            fprintf(stderr, "block %#llx (%llu) lost its contents\n",
                    (unsigned long long)l->p, (unsigned long long)l->n);
            (*bad)++;
        }
        err = hv_free(h, l->p, 7, HV_FREE_CHECKED);
        l->p = 0;
    }
    if (err != HV_OK) {
        fprintf(stderr, "error %s\n", hv_strerror(err));
        (*bad)++;
    }
}

static void run(hv_config_t cfg, int steps, const char *what)
{
    live_t slots[SLOTS] = {{0}};
    hv_heap_t *h = t_heap(cfg);
    int bad = 0, violations = 0;
    for (int i = 0; i < steps && !violations && bad < 5; i++) {
        step(h, slots, &bad);
        violations = t_violations(h);
    }
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].p && hv_free(h, slots[i].p, 0, HV_FREE_CHECKED))
            bad++;
    violations += t_violations(h);
    if (bad || violations)
        fprintf(stderr, "stress %s: %d bad, %d violations\n", what, bad,
                violations);
    CHECK_EQ(bad, 0);
    CHECK_EQ(violations, 0);
    hv_stats_t s;
    hv_stats(h, &s);
    CHECK_EQ(s.payload, 0);
    CHECK_EQ(s.alloc_blocks, 0);
    hv_heap_destroy(h);
}

void test_stress(void)
{
    int steps = t_quick ? 300 : 4000;
    char what[96];
    for (int p = 0; p < HV_POLICY_COUNT; p++) {
        for (int o = 0; o < HV_ORDER_COUNT; o++) {
            for (int c = 0; c < HV_COALESCE_COUNT; c++) {
                if (p >= HV_POLICY_SEGREGATED && (o || c))
                    continue;
                hv_config_t cfg = t_cfg((hv_policy_t)p, (hv_order_t)o);
                cfg.coalesce = (hv_coalesce_t)c;
                cfg.max_size = 4u << 20;
                cfg.mmap_threshold = 16384;
                cfg.align = (uint32_t[]){16, 8, 4}[(p + o + c) % 3];
                cfg.footer = (p + o) % 2;
                cfg.magic = (o + c) % 2;
                cfg.split_threshold = c == 1 ? 64 : 0;
                rng_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)(p * 100 + o * 10 + c);
                snprintf(what, sizeof what, "%s/%s/%s align %u",
                         hv_policy_name((hv_policy_t)p),
                         hv_order_name((hv_order_t)o),
                         hv_coalesce_name((hv_coalesce_t)c), cfg.align);
                run(cfg, steps, what);
            }
        }
    }
}

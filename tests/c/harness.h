/* harness.h — a tiny test harness: CHECK macros that count and report,
 * and the list of test groups main.c runs.  The binary ends with exactly
 * "N passed, N failed" and exits nonzero when anything failed. */
#ifndef HEAPVIZ_TEST_HARNESS_H
#define HEAPVIZ_TEST_HARNESS_H

#include "heapviz/heapviz.h"

#include <stdio.h>
#include <string.h>

extern unsigned long t_passed, t_failed;
extern int t_quick; /* --quick: fewer randomized iterations (valgrind) */

void t_report(const char *file, int line, const char *what);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond)                                                              \
            t_passed++;                                                        \
        else                                                                   \
            t_report(__FILE__, __LINE__, #cond);                               \
    } while (0)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        unsigned long long a_ = (unsigned long long)(a);                       \
        unsigned long long b_ = (unsigned long long)(b);                       \
        if (a_ == b_) {                                                        \
            t_passed++;                                                        \
        } else {                                                               \
            char m_[256];                                                      \
            snprintf(m_, sizeof m_, "%s == %s (%#llx != %#llx)", #a, #b, a_,  \
                     b_);                                                      \
            t_report(__FILE__, __LINE__, m_);                                  \
        }                                                                      \
    } while (0)

#define CHECK_OK(expr) CHECK_EQ((expr), HV_OK)

/* Test helpers (helpers.c). */
hv_heap_t *t_heap(hv_config_t cfg);
hv_config_t t_cfg(hv_policy_t policy, hv_order_t order);
int t_violations(const hv_heap_t *h); /* hv_check, printing what it finds */
hv_addr_t t_malloc(hv_heap_t *h, uint64_t n);
void t_free(hv_heap_t *h, hv_addr_t p);
/* The free list 0 as a string of "addr:size" (hex offsets from base). */
const char *t_list(const hv_heap_t *h, int list);
const char *t_blocks(const hv_heap_t *h);

/* Test groups, one file each. */
void test_basics(void);
void test_fit(void);
void test_coalesce(void);
void test_realloc(void);
void test_mmap(void);
void test_check(void);
void test_errors(void);
void test_events(void);
void test_attach(void);
void test_leaks(void);
void test_pin(void);
void test_clone(void);
void test_segregated(void);
void test_buddy(void);
void test_shadow(void);
void test_frames(void);
void test_stress(void);

#endif

/* access.c — the runtime's judgement of a load or store of a `heapviz cc`
 * program (the hv_rt_ API of heapviz/rt.h; the fast path, a look at the
 * shadow, is in the instrumentation library).
 *
 *   Invalid write of size 4
 *      at 0x1091A6: main (data100.c:8)
 *    Address 0x101d0 is 0 bytes after a block of size 400 alloc'd
 *      at 0x…: malloc (in …/libheapviz_rt.so)
 *      by 0x…: main (data100.c:6)
 *
 * A read of bytes never written is reported once, at the load (valgrind
 * reports it where the value is used: a branch, an address, a system call
 * — usually the same line, not always), and the bytes then count as
 * written so that one mistake is one report.
 *
 * In strict mode the bytes a bad store is about to overwrite are saved and
 * put back at the thread's next runtime call, after the store: valgrind's
 * redzones absorb such stores, and so the allocator's headers, footers and
 * free-list links survive them here (checks=report lets them through, and
 * the damage is found at the next malloc or free, as glibc finds it). */
#include "rt.h"

#include <string.h>

#define EXPORT __attribute__((visibility("default")))

__thread uintptr_t hv_rt_last_addr;
__thread uint32_t hv_rt_last_info;

EXPORT void hv_rt_instrumented(uintptr_t text_lo, uintptr_t text_hi)
{
    _hv_rt_start();
    _hv_rt.text_lo = text_lo;
    _hv_rt.text_hi = text_hi;
    hv_rt_map.instrumented = 1;
}

/* The shadow byte of a heap address (NULL outside the arena). */
static uint8_t *state_of(uintptr_t a)
{
    if (a - hv_rt_map.heap_lo < hv_rt_map.heap_len)
        return hv_rt_map.shadow + (a - hv_rt_map.heap_lo);
    if (hv_rt_map.mmap_lo && a - hv_rt_map.mmap_lo < hv_rt_map.mmap_len)
        return hv_rt_map.shadow + hv_rt_map.heap_len + (a - hv_rt_map.mmap_lo);
    return NULL;
}

static int addressable(uint8_t s)
{
    return s == HV_SH_INIT || s == HV_SH_UNINIT;
}

/* ------------------------------------------------------------------------
 * Strict mode's repairs
 * ---------------------------------------------------------------------- */
#define REPAIRS      8
#define REPAIR_BYTES 64

typedef struct repair {
    uintptr_t addr;
    uint32_t n;
    uint8_t bytes[REPAIR_BYTES];
} repair_t;

static __thread repair_t pending[REPAIRS] HV_RT_TLS;
static __thread int npending HV_RT_TLS;

/* Save the bytes of [a, a+n) that are not the program's (metadata, free
 * space, padding) before a bad store overwrites them. */
static void save(uintptr_t a, uint64_t n)
{
    for (uint64_t i = 0; i < n;) {
        uint8_t *s = state_of(a + i);
        if (!s || addressable(*s)) {
            i++;
            continue;
        }
        uint64_t j = i;
        while (j < n && j - i < REPAIR_BYTES && (s = state_of(a + j)) &&
               !addressable(*s))
            j++;
        if (npending == REPAIRS) hv_rt_repair();
        repair_t *r = &pending[npending++];
        r->addr = a + i;
        r->n = (uint32_t)(j - i);
        memcpy(r->bytes, (const void *)(a + i), r->n);
        i = j;
    }
}

/* The copies here are the runtime's own (depth up: the memcpy they call
 * may be the instrumentation library's checked one). */
EXPORT void hv_rt_guard(uintptr_t addr, uint64_t n)
{
    hv_rt_depth++;
    if (hv_rt_map.checks == HV_RT_CHECKS_STRICT) save(addr, n);
    hv_rt_depth--;
}

EXPORT void hv_rt_repair(void)
{
    if (!npending) return;
    hv_rt_depth++;
    while (npending > 0) {
        repair_t *r = &pending[--npending];
        memcpy((void *)r->addr, r->bytes, r->n);
        memset(r, 0, sizeof *r); /* no heap address left behind: this TLS is
                                    a root of the leak check */
    }
    hv_rt_depth--;
}

/* ------------------------------------------------------------------------
 * Reports
 * ---------------------------------------------------------------------- */
static void stack_here(hv_rt_stack_t *st, const char *fn, void *fp,
                       uintptr_t ret)
{
    _hv_rt_stack_here(st, fp, ret);
    st->entry = fn;
}

static const char *access_advice(uintptr_t addr)
{
    if (addr < 4096) return "null";
    if (!_hv_rt_in_arena(addr)) return "wild";
    return strstr(_hv_rt_out_report(), "free'd") ? "use-after-free"
                                                 : "overflow";
}

static void invalid(uintptr_t addr, uint64_t size, int write,
                    const hv_rt_stack_t *st)
{
    uint8_t *s = state_of(addr);
    int kind = s && *s == HV_SH_FREE ? HV_ERR_USE_AFTER_FREE
               : s                   ? HV_ERR_OVERFLOW
                                     : HV_ERR_SEGV;
    if (write)
        _hv_rt_site_text(st, _hv_rt_last_write, sizeof _hv_rt_last_write);
    if (!_hv_rt_error_new(kind, size << 1 | (uint64_t)write, st)) return;
    _hv_rt_out("Invalid %s of size %lu", write ? "write" : "read",
               (unsigned long)size);
    _hv_rt_out_stack(st, NULL);
    _hv_rt_describe(addr, size);
    _hv_rt_error_end(kind, addr, size, access_advice(addr), st);
}

static void uninitialised(uintptr_t addr, uint64_t size,
                          const hv_rt_stack_t *st)
{
    hv_block_t b;
    if (!_hv_rt_error_new(HV_ERR_UNINIT, size, st)) return;
    _hv_rt_out("Use of uninitialised value of size %lu", (unsigned long)size);
    _hv_rt_out_stack(st, NULL);
    if (!hv_block_containing(_hv_rt.heap, addr, &b)) {
        char words[96];
        hv_where(words, sizeof words, addr, b.payload, b.requested);
        _hv_rt_out(" Address 0x%lx %s alloc'd", (unsigned long)addr, words);
        _hv_rt_out(" Uninitialised value was created by a heap allocation");
        _hv_rt_out_stack(_hv_rt_stack_get(b.site), NULL);
    }
    _hv_rt_error_end(HV_ERR_UNINIT, addr, size, "uninit", st);
}

EXPORT int hv_rt_access(uintptr_t addr, uint64_t size, int write, int uninit,
                        const char *fn, void *fp, uintptr_t ret)
{
    if (hv_rt_depth || _hv_rt.state != 2 || !size) return 0;
    hv_rt_stack_t st;
    stack_here(&st, fn, fp, ret);
    hv_rt_depth++;
    _hv_rt_lock();
    hv_rt_repair();
    int bad = 0, fresh = 0;
    uint64_t i = 0;
    for (; i < size; i++) {
        uint8_t *s = state_of(addr + i);
        if (!s || !addressable(*s)) {
            bad = 1;
            break;
        }
        fresh |= *s == HV_SH_UNINIT;
    }
    if (bad && (addr < hv_rt_map.heap_lo || state_of(addr))) {
        invalid(addr, size, write, &st);
        if (write && hv_rt_map.checks == HV_RT_CHECKS_STRICT) save(addr, size);
        hv_rt_last_addr = 0, hv_rt_last_info = 0; /* reported: a fault next is
                                not news (_hv_rt_fault_access) */
    } else if (!bad && fresh && !write && uninit) {
        uninitialised(addr, size, &st); /* once: then it counts as written */
        hv_rt_written(addr, size);
        bad = 1;
    } else if (!bad && write) {
        hv_rt_written(addr, size);
    } else if (bad) {
        bad = 0; /* outside the heap and above it: not ours to judge */
    }
    _hv_rt_unlock();
    hv_rt_depth--;
    return bad;
}

void _hv_rt_fault_access(uintptr_t addr, const hv_rt_stack_t *st)
{
    uintptr_t a = hv_rt_last_addr;
    uint64_t size = hv_rt_last_info >> 1;
    int write = hv_rt_last_info & 1;
    if (!size || addr < a || addr >= a + size) {
        if (!(addr == 0 && size)) return; /* si_addr 0: a general fault */
    }
    if (!_hv_rt_error_new(HV_ERR_SEGV, size << 1 | (uint64_t)write, st)) return;
    _hv_rt_out("Invalid %s of size %lu", write ? "write" : "read",
               (unsigned long)size);
    _hv_rt_out_stack(st, NULL);
    _hv_rt_describe(a, size);
    _hv_rt_out("%s", "");
    uint32_t id = 0;
    if (!hv_site_intern(_hv_rt.heap, _hv_rt_out_report(), 0, "report", &id)) {
        hv_event_t ev = {.kind = HV_EV_ERROR,
                         .site = _hv_rt_stack_intern(st),
                         .addr = a,
                         .size = size,
                         .a = HV_ERR_SEGV,
                         .b = id};
        hv_event_record(_hv_rt.heap, &ev);
    }
    _hv_rt_out_flush();
}

/* ------------------------------------------------------------------------
 * What libc writes and copies
 * ---------------------------------------------------------------------- */
EXPORT void hv_rt_written(uintptr_t addr, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *s = state_of(addr + i);
        if (s && *s == HV_SH_UNINIT) *s = HV_SH_INIT;
    }
}

EXPORT void hv_rt_copied(uintptr_t dst, uintptr_t src, uint64_t n)
{
    if (!state_of(dst) && !state_of(dst + n - 1)) return;
    int backwards = dst > src && dst < src + n; /* memmove's order */
    for (uint64_t k = 0; k < n; k++) {
        uint64_t i = backwards ? n - 1 - k : k;
        uint8_t *d = state_of(dst + i);
        if (!d || !addressable(*d)) continue;
        const uint8_t *s = state_of(src + i);
        *d = s && *s == HV_SH_UNINIT ? HV_SH_UNINIT : HV_SH_INIT;
    }
}

EXPORT void hv_rt_overlap(const char *fn, uintptr_t dst, uintptr_t src,
                          uint64_t n, int with_size, void *fp, uintptr_t ret)
{
    if (hv_rt_depth || _hv_rt.state != 2) return;
    hv_rt_stack_t st;
    stack_here(&st, fn, fp, ret);
    hv_rt_depth++;
    _hv_rt_lock();
    if (_hv_rt_error_new(HV_ERR_OVERLAP, n, &st)) {
        if (with_size)
            _hv_rt_out("Source and destination overlap in %s(0x%lx, 0x%lx, "
                       "%lu)",
                       fn, (unsigned long)dst, (unsigned long)src,
                       (unsigned long)n);
        else
            _hv_rt_out("Source and destination overlap in %s(0x%lx, 0x%lx)", fn,
                       (unsigned long)dst, (unsigned long)src);
        _hv_rt_out_stack(&st, NULL);
        _hv_rt_error_end(HV_ERR_OVERLAP, dst, n,
                         with_size ? "overlap" : "overlap-string", &st);
    }
    _hv_rt_unlock();
    hv_rt_depth--;
}

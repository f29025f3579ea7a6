/* names.c — short, stable, lowercase names for the API's enums (the
 * binding's error messages and the viewer's legend use them). */
#include "internal.h"

static const char *pick(const char *const *table, unsigned n, unsigned i,
                        const char *fallback)
{
    return i < n && table[i] ? table[i] : fallback;
}
#define COUNT(t) ((unsigned)(sizeof(t) / sizeof(t)[0]))

const char *hv_strerror(hv_err_t err)
{
    static const char *const names[HV_ERR_COUNT] = {
        [HV_OK] = "ok",
        [HV_EINVAL] = "invalid argument",
        [HV_ENOMEM] = "out of memory",
        [HV_EOVERFLOW] = "size overflow",
        [HV_ESYS] = "system call failed",
        [HV_EFAULT] = "segmentation fault",
        [HV_EBADFREE] = "invalid free",
        [HV_EDOUBLEFREE] = "double free",
        [HV_ECORRUPT] = "heap corruption",
        [HV_EREADONLY] = "read-only heap",
        [HV_ESTACK] = "stack error",
    };
    return pick(names, COUNT(names), (unsigned)err, "unknown error");
}

const char *hv_policy_name(hv_policy_t p)
{
    static const char *const names[HV_POLICY_COUNT] = {
        "first", "next", "best", "worst", "segregated", "buddy"};
    return pick(names, COUNT(names), (unsigned)p, "unknown");
}

const char *hv_order_name(hv_order_t o)
{
    static const char *const names[HV_ORDER_COUNT] = {"address", "lifo", "fifo",
                                                      "size", "size-desc"};
    return pick(names, COUNT(names), (unsigned)o, "unknown");
}

const char *hv_coalesce_name(hv_coalesce_t c)
{
    static const char *const names[HV_COALESCE_COUNT] = {"immediate",
                                                         "deferred", "none"};
    return pick(names, COUNT(names), (unsigned)c, "unknown");
}

const char *hv_block_state_name(hv_block_state_t s)
{
    static const char *const names[] = {
        [HV_BLOCK_ALLOCATED] = "allocated", [HV_BLOCK_FREE] = "free",
        [HV_BLOCK_MMAPPED] = "mmapped",     [HV_BLOCK_MAPPING] = "mapping",
        [HV_BLOCK_SBRK] = "sbrk",           [HV_BLOCK_STACK] = "stack",
    };
    return pick(names, COUNT(names), (unsigned)s, "unknown");
}

const char *hv_event_kind_name(uint16_t kind)
{
    static const char *const names[HV_EV_KIND_COUNT] = {
        [HV_EV_NONE] = "none",           [HV_EV_MALLOC] = "malloc",
        [HV_EV_CALLOC] = "calloc",       [HV_EV_REALLOC] = "realloc",
        [HV_EV_FREE] = "free",           [HV_EV_SPLIT] = "split",
        [HV_EV_COALESCE] = "coalesce",   [HV_EV_GROW] = "grow",
        [HV_EV_SHRINK] = "shrink",       [HV_EV_MMAP] = "mmap",
        [HV_EV_MUNMAP] = "munmap",       [HV_EV_FAIL] = "fail",
        [HV_EV_ERROR] = "error",         [HV_EV_LOST] = "lost",
        [HV_EV_WRITE] = "write",         [HV_EV_FRAME_PUSH] = "frame_push",
        [HV_EV_FRAME_POP] = "frame_pop", [HV_EV_STACK_ALLOC] = "stack_alloc",
        [HV_EV_PLACE] = "place",         [HV_EV_NOTE] = "note",
    };
    return pick(names, COUNT(names), (unsigned)kind, "unknown");
}

/* config.c — the default configuration and its validation (a bad value
 * names its field, so the binding can raise a ValueError that says
 * which). */
#include "internal.h"

void hv_config_default(hv_config_t *cfg)
{
    *cfg = (hv_config_t){
        .size = 4096,
        .max_size = 64u << 20,
        .policy = HV_POLICY_FIRST,
        .order = HV_ORDER_ADDRESS,
        .coalesce = HV_COALESCE_IMMEDIATE,
        .align = 16,
        .base = 0x10000,
        .mmap_threshold = 128u << 10,
        .split_threshold = 0,
        .footer = true,
        .magic = false,
        .record = true,
        .shadow = true,
        .debug_check = false,
        .ring_capacity = 1u << 20,
        .history_limit = 1000000,
        .stack_size = 64u << 10,
    };
}

static bool pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

/* The name of the first bad field, or NULL. */
static const char *bad(const hv_config_t *c)
{
    if ((unsigned)c->policy >= HV_POLICY_COUNT) return "policy";
    if ((unsigned)c->order >= HV_ORDER_COUNT) return "order";
    if ((unsigned)c->coalesce >= HV_COALESCE_COUNT) return "coalesce";
    if (c->align != 4 && c->align != 8 && c->align != 16) return "align";
    if (c->max_size < HV_PAGE || c->max_size > HV_HEAP_MAX) return "max_size";
    if (c->size > c->max_size) return "size";
    if (c->base == 0 || c->base % c->align ||
        c->base > HV_MMAP_BASE - c->max_size)
        return "base";
    if (c->split_threshold > c->max_size) return "split_threshold";
    if (!pow2(c->ring_capacity) || c->ring_capacity < 16 ||
        c->ring_capacity > (1u << 24))
        return "ring_capacity";
    if (c->stack_size > (64u << 20)) return "stack_size";
    return NULL;
}

hv_err_t _hv_config_validate(const hv_config_t *cfg, const char **bad_field)
{
    const char *b = cfg ? bad(cfg) : "config";
    if (bad_field) *bad_field = b;
    return b ? HV_EINVAL : HV_OK;
}

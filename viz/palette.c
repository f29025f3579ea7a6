/* palette.c — the legend: one colour and one name per role (Okabe–Ito).
 *
 * Every output draws with these, so the window, the pictures and the
 * notebook share one legend (../shared/VISUAL.md).  The hues are the
 * Okabe–Ito set, which stays distinguishable with colour blindness.
 */
#include "heapviz/viz.h"

typedef struct role_info {
    uint32_t color;
    const char *name;
    const char *label;
} role_info_t;

static const role_info_t ROLES[HV_ROLE_COUNT] = {
    [HV_ROLE_BACKGROUND] = {0xFFFFFF, "background", "background"},
    [HV_ROLE_PANEL] = {0xF2F4F8, "panel", "panel"},
    [HV_ROLE_TEXT] = {0x1B1F27, "text", "text"},
    [HV_ROLE_MUTED] = {0x6B7385, "muted", "secondary text"},
    [HV_ROLE_PAYLOAD] = {0x0072B2, "payload", "allocated payload"},
    [HV_ROLE_META] = {0x2E3440, "meta", "header / footer"},
    [HV_ROLE_PADDING] = {0xA9CBE3, "padding", "padding, unused tail"},
    [HV_ROLE_UNINIT] = {0x7FB4D9, "uninit", "uninitialized bytes"},
    [HV_ROLE_FREE] = {0xD8DEE9, "free", "free block"},
    [HV_ROLE_JUST_FREED] = {0xE69F00, "just-freed", "just freed"},
    [HV_ROLE_LEAKED] = {0xD55E00, "leaked", "leaked (no pointer left)"},
    [HV_ROLE_CORRUPT] = {0xCC79A7, "corrupt", "corrupted metadata"},
    [HV_ROLE_ERROR] = {0xD55E00, "error", "the block an error is about"},
    [HV_ROLE_LINK] = {0x009E73, "link", "free-list link"},
    [HV_ROLE_MMAP] = {0x56B4E9, "mmap", "mmapped chunk"},
    [HV_ROLE_STACK] = {0xF0E442, "stack", "stack frame"},
    [HV_ROLE_RESERVE] = {0xEEF1F5, "reserve", "reserved, beyond the break"},
    [HV_ROLE_SBRK] = {0x8FA3BF, "sbrk", "raw sbrk bytes"},
    [HV_ROLE_VAR] = {0x1B1F27, "var", "variable pointing into the heap"},
    [HV_ROLE_ROVER] = {0x7A4F9E, "rover", "next fit's roving pointer"},
    [HV_ROLE_SELECT] = {0x1B1F27, "select", "selected block"},
    [HV_ROLE_TIMELINE] = {0x0072B2, "timeline", "timeline"},
};

uint32_t hv_viz_role_color(hv_viz_role_t role)
{
    return role < HV_ROLE_COUNT ? ROLES[role].color : 0;
}

const char *hv_viz_role_name(hv_viz_role_t role)
{
    return role < HV_ROLE_COUNT ? ROLES[role].name : "?";
}

const char *hv_viz_role_label(hv_viz_role_t role)
{
    return role < HV_ROLE_COUNT ? ROLES[role].label : "?";
}

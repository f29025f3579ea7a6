/* regions.c — what lives outside the heap strip: mmapped chunks, the
 * simulated stack, and the free lists spelled out as text.
 *
 * mmapped chunks are separate mappings, not part of the brk heap, so they
 * get their own region (as in /proc/self/maps); the stack sits beside
 * them for the chapter's contrast between automatic and heap memory.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"

enum { REGION_HEAD = 20, REGION_GAP = 12 };

static int chunk_width(const lay_t *L, uint64_t size)
{
    /* Logarithmic: a 128 KiB chunk and a 64 MiB one both fit a row. */
    double pages = (double)size / 4096.0;
    int w = 110 + (int)(24.0 * log2(pages < 1 ? 1 : pages));
    return w > L->hw ? L->hw : w;
}

static void chunk_labels(lay_t *L, const hv_block_t *b, int x, int y, int w,
                         const char *tag)
{
    char l1[48], l2[48], sz[24];
    hv_fmt_bytes(b->state == HV_BLOCK_MMAPPED ? b->requested : b->size, sz,
                 sizeof sz);
    snprintf(l1, sizeof l1, "0x%" PRIx64, b->payload ? b->payload : b->addr);
    snprintf(l2, sizeof l2, "%s %s", tag, sz);
    if (w - 8 >= hv_text_width(l1, true))
        lay_text(L, HV_ROLE_TEXT, x + 6, y + 2, HV_TEXT_SMALL, l1);
    if (w - 8 >= hv_text_width(l2, true))
        lay_text(L, HV_ROLE_TEXT, x + 6, y + 15, HV_TEXT_SMALL, l2);
}

static void one_chunk(lay_t *L, const hv_block_t *b, uint8_t m, int x, int y,
                      int w)
{
    hv_viz_item_t *it;
    if ((it = lay_rect(L, HV_ROLE_MMAP, x, y, w, HV_BAND))) it->addr = b->addr;
    if (b->state == HV_BLOCK_MMAPPED &&
        (it = lay_rect(L, HV_ROLE_META, x, y, 3, HV_BAND)))
        it->addr = b->addr;
    if (m & HV_MARK_LEAKED)
        lay_rect(L, HV_ROLE_LEAKED, x + 3, y + HV_BAND - 6, w - 3, 6);
    if (m & HV_MARK_ERROR)
        lay_box(L, HV_ROLE_ERROR, HV_STYLE_THICK, x - 2, y - 2, w + 4,
                HV_BAND + 4);
    if (L->o->selected == b->addr)
        lay_box(L, HV_ROLE_SELECT, HV_STYLE_THICK, x - 3, y - 3, w + 6,
                HV_BAND + 6);
    chunk_labels(L, b, x, y, w,
                 b->state == HV_BLOCK_MMAPPED ? "malloc'd" : "mmap");
}

static void mmap_region(lay_t *L)
{
    const hv_viz_state_t *s = L->s;
    int x = L->hx, y = L->y + REGION_HEAD, any = 0;
    for (size_t i = L->nheap; i < s->nblocks; i++) {
        const hv_block_t *b = &s->blocks[i];
        if (b->state != HV_BLOCK_MMAPPED && b->state != HV_BLOCK_MAPPING)
            continue;
        if (!any++)
            lay_text(L, HV_ROLE_MUTED, L->hx, L->y + 2, 0, "mmap region");
        int w = chunk_width(L, b->size);
        if (x + w > L->hx + L->hw && x > L->hx) {
            x = L->hx;
            y += HV_BAND + 8;
        }
        one_chunk(L, b, s->marks[i], x, y, w);
        x += w + 8;
    }
    if (any) L->y = y + HV_BAND + REGION_GAP;
}

static int frame_objects(lay_t *L, const hv_viz_frame_t *f, int x, int y,
                         bool draw)
{
    const hv_viz_state_t *s = L->s;
    int w = 6;
    for (size_t i = L->nheap; i < s->nblocks; i++) {
        const hv_block_t *b = &s->blocks[i];
        if (b->state != HV_BLOCK_STACK || b->addr < f->lo || b->addr >= f->hi)
            continue;
        char l1[32], l2[32];
        snprintf(l1, sizeof l1, "0x%" PRIx64, b->addr);
        snprintf(l2, sizeof l2, "%" PRIu64 " B", b->size);
        int ow = hv_text_width(l1, true) + 10;
        if (draw) {
            hv_viz_item_t *it =
                lay_rect(L, HV_ROLE_PADDING, x + w, y + 3, ow, HV_BAND - 6);
            if (it) it->addr = b->addr;
            lay_text(L, HV_ROLE_TEXT, x + w + 5, y + 3, HV_TEXT_SMALL, l1);
            lay_text(L, HV_ROLE_TEXT, x + w + 5, y + 14, HV_TEXT_SMALL, l2);
        }
        w += ow + 4;
    }
    return w + 2;
}

static void stack_region(lay_t *L)
{
    const hv_viz_state_t *s = L->s;
    if (s->nframes == 0) return;
    lay_text(L, HV_ROLE_MUTED, L->hx, L->y + 2, 0, "stack");
    int x = L->hx, y = L->y + REGION_HEAD + 14;
    for (int i = 0; i < s->nframes; i++) {
        const hv_viz_frame_t *f = &s->frames[i];
        int w = frame_objects(L, f, x, y, false);
        int nw = hv_text_width(f->name, true) + 12;
        if (w < nw) w = nw;
        if (x + w > L->hx + L->hw && x > L->hx) {
            x = L->hx;
            y += HV_BAND + 22;
        }
        lay_rect(L, HV_ROLE_STACK, x, y, w, HV_BAND);
        lay_box(L, HV_ROLE_META, HV_STYLE_SOLID, x, y, w, HV_BAND);
        lay_text(L, HV_ROLE_TEXT, x + 2, y - 14, HV_TEXT_SMALL, f->name);
        frame_objects(L, f, x, y, true);
        x += w + 6;
    }
    L->y = y + HV_BAND + REGION_GAP;
}

void regions_draw(lay_t *L)
{
    mmap_region(L);
    stack_region(L);
}

/* ---- the free lists as text ------------------------------------------------ */
static void list_line(lay_t *L, int l, char *buf, size_t len)
{
    const hv_viz_state_t *s = L->s;
    size_t max_chars = (size_t)(L->hw / HV_CHAR_SMALL_W);
    if (max_chars + 1 < len) len = max_chars + 1;
    int n = 0;
    if (s->nlists > 1) {
        if (s->list_hi[l] == UINT64_MAX)
            n = snprintf(buf, len, "%" PRIu64 "+: head", s->list_lo[l]);
        else
            n = snprintf(buf, len, "%" PRIu64 "–%" PRIu64 ": head",
                         s->list_lo[l], s->list_hi[l]);
    } else {
        n = snprintf(buf, len, "head");
    }
    uint32_t i0 = s->list_start[l], i1 = s->list_start[l + 1];
    for (uint32_t i = i0; i < i1 && (size_t)n < len; i++) {
        long k = hv_viz_state_find(s, s->list_addr[i]);
        uint64_t size = k >= 0 ? s->blocks[k].size : 0;
        char item[48];
        int m = snprintf(item, sizeof item, " → 0x%" PRIx64 " (%" PRIu64 ")",
                         s->list_addr[i], size);
        if ((size_t)(n + m + 16) >= len) {
            n += snprintf(buf + n, len - (size_t)n, " … +%u more",
                          (unsigned)(i1 - i));
            return;
        }
        n += snprintf(buf + n, len - (size_t)n, "%s", item);
    }
    if ((size_t)n < len) snprintf(buf + n, len - (size_t)n, " → NULL");
}

void lists_text(lay_t *L)
{
    const hv_viz_state_t *s = L->s;
    int shown = 0, empty = 0;
    char line[512];
    lay_text(L, HV_ROLE_LINK, L->hx, L->y, HV_TEXT_BOLD,
             s->nlists > 1 ? "free lists" : "free list");
    L->y += HV_LINE_H;
    for (int l = 0; l < s->nlists; l++) {
        bool is_empty = s->list_start[l] == s->list_start[l + 1];
        if (is_empty && s->nlists > 1) {
            empty++;
            continue;
        }
        if (shown == 8) {
            lay_text(L, HV_ROLE_MUTED, L->hx, L->y, HV_TEXT_SMALL,
                     "… more lists");
            L->y += HV_LINE_SMALL_H + 2;
            break;
        }
        list_line(L, l, line, sizeof line);
        lay_text(L, HV_ROLE_TEXT, L->hx, L->y, HV_TEXT_SMALL, line);
        L->y += HV_LINE_SMALL_H + 2;
        shown++;
    }
    if (empty) {
        snprintf(line, sizeof line, "%d empty lists", empty);
        lay_text(L, HV_ROLE_MUTED, L->hx, L->y, HV_TEXT_SMALL, line);
        L->y += HV_LINE_SMALL_H + 2;
    }
    if (s->nlists == 0) {
        lay_text(L, HV_ROLE_MUTED, L->hx, L->y, HV_TEXT_SMALL, "(none)");
        L->y += HV_LINE_SMALL_H + 2;
    }
    L->y += 6;
}

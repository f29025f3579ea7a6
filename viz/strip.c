/* strip.c — the heap strip: blocks in address order, wrapped in rows.
 *
 * The heap from its start to the break is one long strip, cut into rows
 * like a hex dump.  Each block's width is its size times a scale (px per
 * byte), but at least a minimum width so a 16-byte block stays visible in a
 * 64 MiB heap; positions are the running sum of widths, so the order is
 * exact and sizes are to scale wherever the minimum does not bite.  A block
 * that crosses the end of a row continues on the next one.  Inside a
 * block: header, payload (the requested bytes), padding (the rest of the
 * payload), footer — the textbook picture, drawn as it is in memory.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

static bool in_strip(const hv_block_t *b)
{
    return b->state == HV_BLOCK_ALLOCATED || b->state == HV_BLOCK_FREE ||
           b->state == HV_BLOCK_SBRK;
}

/* llround for the non-negative values of the strip (inline: it runs per
 * block per frame). */
static inline int64_t rnd(double x) { return (int64_t)(x + 0.5); }

static int auto_min_width(size_t n)
{
    return n <= 1000 ? 8 : n <= 5000 ? 4 : n <= 20000 ? 3 : 2;
}

bool strip_prepare(lay_t *L)
{
    const hv_viz_state_t *s = L->s;
    size_t n = 0;
    while (n < s->nblocks && in_strip(&s->blocks[n])) n++;
    L->nheap = n;
    hv_addr_t base = s->layout.heap_base;
    uint64_t span = s->brk > base ? s->brk - base : 0;
    double zoom = L->o->zoom > 0 ? L->o->zoom : 1.0;
    double fit = span ? (double)L->hw * 12.0 / (double)span : 1.0;
    L->ppb = (fit < 1.0 ? fit : 1.0) * zoom;
    int minw = L->o->min_block > 0 ? L->o->min_block : auto_min_width(n);
    minw = (int)lround(minw * (zoom > 1 ? sqrt(zoom) : zoom));
    L->minw = minw < 1 ? 1 : minw > 64 ? 64 : minw;
    L->bx = malloc((n + 1) * sizeof *L->bx);
    if (L->bx == NULL) return false;
    int64_t x = 0;
    hv_addr_t at = base;
    for (size_t i = 0; i < n; i++) {
        const hv_block_t *b = &s->blocks[i];
        if (b->addr > at) /* bytes before the first block (alignment) */
            x += rnd((double)(b->addr - at) * L->ppb);
        L->bx[i] = x;
        int64_t w = rnd((double)b->size * L->ppb);
        x += w < L->minw ? L->minw : w;
        at = b->addr + b->size;
    }
    L->bx[n] = x;
    L->strip_len = x;
    L->nrows = (int)((x + 60 + L->hw - 1) / L->hw);
    if (L->nrows < 1) L->nrows = 1;
    return true;
}

/* ---- geometry ------------------------------------------------------------ */
static int row_y(const lay_t *L, int64_t p) /* band top of strip pos p */
{
    return L->rows_y + (int)(p / L->hw) * HV_ROW_H + HV_GUTTER;
}

static int row_x(const lay_t *L, int64_t p) { return L->hx + (int)(p % L->hw); }

static long find_heap(const lay_t *L, hv_addr_t a)
{
    long k = hv_viz_state_find(L->s, a);
    return k >= 0 && (size_t)k < L->nheap ? k : -1;
}

static int64_t strip_pos(const lay_t *L, long k, hv_addr_t a)
{
    const hv_block_t *b = &L->s->blocks[k];
    int64_t w = L->bx[k + 1] - L->bx[k];
    return L->bx[k] + (int64_t)((double)(a - b->addr) * (double)w /
                                (double)(b->size ? b->size : 1));
}

bool strip_point(const lay_t *L, hv_addr_t a, int *x, int *y)
{
    long k = find_heap(L, a);
    int64_t p;
    if (k >= 0)
        p = strip_pos(L, k, a);
    else if (a == L->s->brk && L->s->brk)
        p = L->strip_len;
    else
        return false;
    if (p >= (int64_t)L->nrows * L->hw) p = (int64_t)L->nrows * L->hw - 1;
    *x = row_x(L, p);
    *y = row_y(L, p);
    return true;
}

/* The heap blocks [*k0, *k1) on rows that are visible (a window shows a
 * few rows of a long strip: the rest is not even looked at). */
static void visible_blocks(const lay_t *L, size_t *k0, size_t *k1)
{
    int r0 = -1, r1 = -1, sy;
    for (int r = 0; r < L->nrows; r++) {
        if (lay_vis(L, L->rows_y + r * HV_ROW_H, HV_GUTTER + HV_BAND, &sy)) {
            if (r0 < 0) r0 = r;
            r1 = r;
        } else if (r0 >= 0) {
            break;
        }
    }
    *k0 = *k1 = 0;
    if (r0 < 0 || L->nheap == 0) return;
    int64_t p0 = (int64_t)r0 * L->hw, p1 = (int64_t)(r1 + 1) * L->hw;
    size_t lo = 0, hi = L->nheap; /* first block ending after p0 */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (L->bx[mid + 1] <= p0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *k0 = lo;
    hi = lo;
    while (hi < L->nheap && L->bx[hi] < p1) hi++;
    *k1 = hi;
}

/* Is any row of [p0, p1) visible?  Skips whole blocks cheaply. */
static bool span_visible(const lay_t *L, int64_t p0, int64_t p1)
{
    int y0 = row_y(L, p0) - HV_GUTTER, y1 = row_y(L, p1 > p0 ? p1 - 1 : p0);
    int out;
    return lay_vis(L, y0, y1 + HV_BAND - y0, &out);
}

/* Fill strip range [p0, p1) in band rows [dy, dy+dh), one item per row. */
static void strip_fill_c(lay_t *L, hv_viz_kind_t kind, hv_viz_role_t role,
                         unsigned style, int64_t p0, int64_t p1, int dy,
                         int dh, hv_addr_t addr, uint32_t color)
{
    while (p0 < p1) {
        int64_t end = (p0 / L->hw + 1) * L->hw;
        if (end > p1) end = p1;
        int y = row_y(L, p0) + dy, sy;
        if (lay_vis(L, y, dh, &sy)) {
            hv_viz_item_t *it = hv_scene_add(L->sc, kind, role, row_x(L, p0),
                                             sy, (int)(end - p0), dh);
            if (it == NULL) {
                L->oom = true;
                return;
            }
            it->style = (uint16_t)(style | HV_STYLE_SCROLL);
            it->addr = addr;
            if (color) it->color = color;
        }
        p0 = end;
    }
}

static void strip_fill(lay_t *L, hv_viz_kind_t kind, hv_viz_role_t role,
                       unsigned style, int64_t p0, int64_t p1, int dy, int dh,
                       hv_addr_t addr)
{
    strip_fill_c(L, kind, role, style, p0, p1, dy, dh, addr, 0);
}

static void fill(lay_t *L, hv_viz_role_t role, int64_t p0, int64_t p1,
                 hv_addr_t addr)
{
    strip_fill(L, HV_ITEM_RECT, role, 0, p0, p1, 0, HV_BAND, addr);
}

/* ---- one block ------------------------------------------------------------- */
typedef struct parts {
    int64_t p0, h1, r1, s1, p1; /* header | requested | slack | footer  */
} parts_t;

static parts_t block_parts(const lay_t *L, long k)
{
    const hv_block_t *b = &L->s->blocks[k];
    const hv_layout_t *lo = &L->s->layout;
    parts_t q = {L->bx[k], 0, 0, 0, L->bx[k + 1]};
    int64_t w = q.p1 - q.p0;
    double ppbk = (double)w / (double)(b->size ? b->size : 1);
    int64_t hp = 0, fp = 0;
    if (b->state != HV_BLOCK_SBRK) {
        hp = llround(lo->header_size * ppbk);
        fp = b->has_footer ? llround(lo->footer_size * ppbk) : 0;
        if (hp < 1) hp = 1;
        if (b->has_footer && fp < 1 && w >= 5) fp = 1;
        if (hp + fp >= w) fp = 0, hp = w > 1 ? 1 : 0;
    }
    q.h1 = q.p0 + hp;
    q.s1 = q.p1 - fp;
    int64_t req = b->state == HV_BLOCK_ALLOCATED
                      ? llround((double)b->requested * ppbk)
                      : q.s1 - q.h1;
    if (b->state == HV_BLOCK_ALLOCATED && b->requested && req < 1) req = 1;
    q.r1 = q.h1 + req > q.s1 ? q.s1 : q.h1 + req;
    return q;
}

static hv_viz_role_t body_role(const hv_block_t *b, uint8_t m)
{
    if (b->state == HV_BLOCK_FREE)
        return (m & HV_MARK_JUST_FREED) ? HV_ROLE_JUST_FREED : HV_ROLE_FREE;
    if (b->state == HV_BLOCK_SBRK) return HV_ROLE_SBRK;
    return (m & HV_MARK_LEAKED) ? HV_ROLE_LEAKED : HV_ROLE_PAYLOAD;
}

static void block_hatch(lay_t *L, long k, const parts_t *q)
{
    const hv_viz_state_t *s = L->s;
    const hv_block_t *b = &s->blocks[k];
    size_t lo = 0, hi = s->nuninit;
    while (lo < hi) { /* first run ending after the payload start */
        size_t mid = (lo + hi) / 2;
        if (s->uninit[mid].addr + s->uninit[mid].len <= b->payload)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < s->nuninit; i++) {
        const hv_viz_run_t *r = &s->uninit[i];
        if (r->addr >= b->payload + b->requested) break;
        int64_t a0 = strip_pos(L, k, r->addr);
        int64_t a1 = strip_pos(L, k, r->addr + r->len);
        if (a0 < q->h1) a0 = q->h1;
        if (a1 > q->r1) a1 = q->r1;
        if (a1 > a0)
            strip_fill(L, HV_ITEM_HATCH, HV_ROLE_UNINIT, 0, a0, a1, 0, HV_BAND,
                       b->addr);
    }
}

static void block_label(lay_t *L, long k, const parts_t *q, hv_viz_role_t body)
{
    const hv_block_t *b = &L->s->blocks[k];
    char l1[32], l2[32];
    if (b->state == HV_BLOCK_FREE)
        snprintf(l1, sizeof l1, "free");
    else if (b->state == HV_BLOCK_SBRK)
        snprintf(l1, sizeof l1, "sbrk");
    else
        snprintf(l1, sizeof l1, "0x%" PRIx64, b->payload);
    snprintf(l2, sizeof l2, "%" PRIu64 " B",
             b->state == HV_BLOCK_ALLOCATED ? b->requested : b->size);
    int64_t row_end = (q->h1 / L->hw + 1) * L->hw;
    int64_t room = (q->s1 < row_end ? q->s1 : row_end) - q->h1 - 4;
    int w1 = hv_text_width(l1, true), w2 = hv_text_width(l2, true);
    uint32_t color = (body == HV_ROLE_FREE || body == HV_ROLE_JUST_FREED)
                         ? hv_viz_role_color(HV_ROLE_TEXT)
                         : 0xFFFFFF;
    int x = row_x(L, q->h1) + 3, y = row_y(L, q->h1);
    hv_viz_item_t *it;
    if (room >= w1 && room >= w2) {
        if ((it = lay_text(L, HV_ROLE_TEXT, x, y + 2, HV_TEXT_SMALL, l1)))
            it->color = color, it->addr = b->addr;
        if ((it = lay_text(L, HV_ROLE_TEXT, x, y + 15, HV_TEXT_SMALL, l2)))
            it->color = color, it->addr = b->addr;
    } else if (room >= w2) {
        if ((it = lay_text(L, HV_ROLE_TEXT, x, y + 9, HV_TEXT_SMALL, l2)))
            it->color = color, it->addr = b->addr;
    }
}

static void block_marks(lay_t *L, long k, uint8_t m)
{
    const hv_block_t *b = &L->s->blocks[k];
    int64_t p0 = L->bx[k], p1 = L->bx[k + 1];
    if (b->state == HV_BLOCK_FREE)
        strip_fill(L, HV_ITEM_BOX, HV_ROLE_MUTED, HV_STYLE_DOTTED, p0, p1, 0,
                   HV_BAND, b->addr);
    if (m & HV_MARK_CORRUPT)
        strip_fill(L, HV_ITEM_BOX, HV_ROLE_CORRUPT, HV_STYLE_JAGGED, p0, p1, 0,
                   HV_BAND, b->addr);
    if (m & HV_MARK_ERROR)
        strip_fill(L, HV_ITEM_BOX, HV_ROLE_ERROR, HV_STYLE_THICK, p0, p1, -2,
                   HV_BAND + 4, b->addr);
    if (L->o->selected && L->o->selected == b->addr)
        strip_fill(L, HV_ITEM_BOX, HV_ROLE_SELECT, HV_STYLE_THICK, p0, p1, -3,
                   HV_BAND + 6, b->addr);
}

static void draw_block(lay_t *L, long k)
{
    const hv_block_t *b = &L->s->blocks[k];
    uint8_t m = L->s->marks[k];
    if (!span_visible(L, L->bx[k], L->bx[k + 1])) return;
    parts_t q = block_parts(L, k);
    hv_viz_role_t body = body_role(b, m);
    hv_viz_role_t meta = (m & HV_MARK_CORRUPT) ? HV_ROLE_CORRUPT : HV_ROLE_META;
    fill(L, meta, q.p0, q.h1, b->addr);
    fill(L, body, q.h1, q.r1, b->addr);
    if (q.s1 > q.r1) fill(L, HV_ROLE_PADDING, q.r1, q.s1, b->addr);
    if (q.p1 > q.s1) fill(L, meta, q.s1, q.p1, b->addr);
    if (b->state == HV_BLOCK_ALLOCATED && L->s->nuninit) block_hatch(L, k, &q);
    block_marks(L, k, m);
    block_label(L, k, &q, body);
}

/* ---- the break, the reserve, the faulting bytes --------------------------- */
static void draw_break(lay_t *L)
{
    const hv_viz_state_t *s = L->s;
    int64_t p = L->strip_len, end = (int64_t)L->nrows * L->hw;
    if (end > p) {
        fill(L, HV_ROLE_RESERVE, p, end, 0);
        /* a light hatch: reserved address space, no memory behind it */
        strip_fill_c(L, HV_ITEM_HATCH, HV_ROLE_RESERVE, 0, p, end, 0, HV_BAND,
                     0, 0xCDD3DD);
        uint64_t used = s->brk - s->layout.heap_base;
        uint64_t rest = s->cfg.max_size > used ? s->cfg.max_size - used : 0;
        char size[32], text[64];
        hv_fmt_bytes(rest, size, sizeof size);
        snprintf(text, sizeof text, "unused reserve %s", size);
        int64_t row_end = (p / L->hw + 1) * L->hw;
        if (row_end - p - 8 >= hv_text_width(text, true))
            lay_text(L, HV_ROLE_MUTED, row_x(L, p) + 6, row_y(L, p) + 9,
                     HV_TEXT_SMALL, text);
    }
    int x = row_x(L, p < end ? p : end - 1), y = row_y(L, p < end ? p : end - 1);
    lay_rect(L, HV_ROLE_META, x, y - HV_GUTTER + 2, 2, HV_BAND + HV_GUTTER - 2);
    lay_text(L, HV_ROLE_META, x + 4, y - HV_GUTTER + 1, HV_TEXT_SMALL, "brk");
}

static void draw_fault(lay_t *L)
{
    const hv_viz_state_t *s = L->s;
    if (!s->has_error || !s->error_addr || !s->error_size) return;
    hv_addr_t a = s->error_addr, e = a + s->error_size;
    long k = find_heap(L, a);
    if (k < 0) return;
    long k2 = find_heap(L, e - 1);
    int64_t p0 = strip_pos(L, k, a);
    int64_t p1 = k2 >= 0 ? strip_pos(L, k2, e) : p0 + 2;
    if (p1 < p0 + 2) p1 = p0 + 2;
    strip_fill(L, HV_ITEM_RECT, HV_ROLE_ERROR, 0, p0, p1, HV_BAND - 7, 7, 0);
}

/* ---- free lists, rover ----------------------------------------------------- */
static void link_point(const lay_t *L, long k, int *x, int *y)
{
    int64_t p0 = L->bx[k], p1 = L->bx[k + 1];
    int64_t row_end = (p0 / L->hw + 1) * L->hw;
    int64_t seg = (p1 < row_end ? p1 : row_end) - p0;
    *x = row_x(L, p0) + (int)(seg / 2);
    *y = row_y(L, p0);
}

static void draw_link(lay_t *L, long a, long b)
{
    int x1, y1, x2, y2, sy1, sy2;
    link_point(L, a, &x1, &y1);
    link_point(L, b, &x2, &y2);
    bool v1 = lay_vis(L, y1 - HV_GUTTER, HV_GUTTER, &sy1);
    bool v2 = lay_vis(L, y2 - HV_GUTTER, HV_GUTTER, &sy2);
    if (!v1 && !v2) return;
    int dx = abs(x2 - x1);
    int bend = y1 == y2 ? (dx / 6 < 4 ? 4 : dx / 6) : 0;
    if (bend > HV_GUTTER - 3) bend = HV_GUTTER - 3;
    hv_viz_item_t *it = hv_scene_arrow(L->sc, HV_ROLE_LINK, x1, y1 - L->scroll,
                                       x2, y2 - L->scroll, bend);
    if (it == NULL) {
        L->oom = true;
        return;
    }
    it->style = HV_STYLE_SCROLL;
    it->addr = L->s->blocks[a].addr;
}

/* A link is drawn when one of its ends is on a visible row, so only the
 * members near the visible blocks [k0, k1) are looked up (a window shows
 * a few rows of a list of 25k blocks, 60 times a second). */
static void draw_lists(lay_t *L, size_t k0, size_t k1)
{
    const hv_viz_state_t *s = L->s;
    if (L->nheap == 0) return;
    const hv_block_t *last = &s->blocks[L->nheap - 1];
    hv_addr_t lo = s->blocks[0].addr, hi = last->addr + last->size;
    hv_addr_t vlo = k0 < k1 ? s->blocks[k0].addr : 1;
    hv_addr_t vhi = k0 < k1 ? s->blocks[k1 - 1].addr : 0;
    for (int l = 0; l < s->nlists; l++) {
        bool first = true, prev_near = false;
        hv_addr_t prev = 0;
        for (uint32_t i = s->list_start[l]; i < s->list_start[l + 1]; i++) {
            hv_addr_t a = s->list_addr[i];
            if (a < lo || a >= hi) continue; /* not in the strip */
            bool near = a >= vlo && a <= vhi;
            if (first || near || prev_near) {
                long k = find_heap(L, a);
                if (k < 0) continue;
                if (first) {
                    char head[24];
                    if (s->nlists > 1)
                        snprintf(head, sizeof head, "head %" PRIu64, s->list_lo[l]);
                    else
                        snprintf(head, sizeof head, "head");
                    int x, y;
                    link_point(L, k, &x, &y);
                    lay_text(L, HV_ROLE_LINK, x - 2, y - HV_GUTTER + 1,
                             HV_TEXT_SMALL | HV_TEXT_BOLD, head);
                } else {
                    long kp = find_heap(L, prev);
                    if (kp >= 0) draw_link(L, kp, k);
                }
            }
            first = false;
            prev = a, prev_near = near;
        }
    }
}

static void draw_rover(lay_t *L)
{
    long k = L->s->rover ? find_heap(L, L->s->rover) : -1;
    if (k < 0) return;
    int x = row_x(L, L->bx[k]), y = row_y(L, L->bx[k]);
    lay_text(L, HV_ROLE_ROVER, x, y - HV_GUTTER + 1,
             HV_TEXT_SMALL | HV_TEXT_BOLD, "▼rover");
}

/* ---- animation: a short overlay on the final state ------------------------- */
static void draw_anim(lay_t *L)
{
    const hv_viz_state_t *s = L->s;
    float t = s->anim_t;
    if (s->anim_kind == 0 || t <= 0.f || t >= 1.f) return;
    long k = find_heap(L, s->anim_addr);
    if (s->anim_kind == HV_EV_GROW) { /* the strip extends past the old brk */
        int64_t p0 = k >= 0 ? strip_pos(L, k, s->anim_addr) : L->strip_len;
        int64_t grown = L->strip_len - p0;
        fill(L, HV_ROLE_RESERVE, p0 + (int64_t)(grown * t), L->strip_len, 0);
        return;
    }
    if (k < 0) return;
    parts_t q = block_parts(L, k);
    int64_t body = q.s1 - q.h1;
    if (s->anim_kind == HV_EV_MALLOC || s->anim_kind == HV_EV_CALLOC ||
        s->anim_kind == HV_EV_REALLOC) /* fills from the left */
        fill(L, HV_ROLE_FREE, q.h1 + (int64_t)(body * t), q.s1, 0);
    else if (s->anim_kind == HV_EV_FREE) /* empties to the right */
        fill(L, HV_ROLE_PAYLOAD, q.h1, q.h1 + (int64_t)(body * (1 - t)), 0);
    else if (s->anim_kind == HV_EV_SPLIT || s->anim_kind == HV_EV_COALESCE) {
        long k2 = find_heap(L, s->anim_addr2);
        if (k2 < 0) return;
        int64_t cut = L->bx[k2];
        int h = (int)(HV_BAND * (s->anim_kind == HV_EV_SPLIT ? t : 1 - t));
        strip_fill(L, HV_ITEM_RECT, HV_ROLE_LINK, 0, cut - 1, cut + 2,
                   (HV_BAND - h) / 2, h > 1 ? h : 1, 0);
    }
}

void strip_draw(lay_t *L)
{
    size_t k0, k1;
    visible_blocks(L, &k0, &k1);
    for (size_t k = k0; k < k1 && !L->oom; k++) draw_block(L, (long)k);
    draw_fault(L);
    draw_break(L);
    draw_lists(L, k0, k1);
    draw_rover(L);
    draw_anim(L);
    L->y = L->rows_y + L->nrows * HV_ROW_H;
}

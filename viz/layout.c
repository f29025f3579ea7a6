/* layout.c — the page: title, variables, heap area, stats, event log,
 * error banner, timeline; state -> scene.
 *
 *   ┌ title: policy, order, coalescing            op 41/120 ▶ 1× ? ┐
 *   │ variables │ heap rows, mmap region, stack,      │ stats         │
 *   │  p ──────►│ free lists (scrolls in the window)  │ selected block│
 *   │ event log                                                      │
 *   │ ✖ error banner with the report                                 │
 *   └ timeline ──────────────────────────────────────────────────────┘
 *
 * Pictures (height 0) are as tall as their content; the window has a
 * fixed height and the middle area scrolls.  Items of the scrolling area
 * carry HV_STYLE_SCROLL so the drawer clips them to that area.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

void hv_viz_opts_default(hv_viz_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->width = 1200;
    o->zoom = 1.0;
}

void hv_fmt_bytes(uint64_t n, char *buf, size_t len)
{
    if (n < 10240)
        snprintf(buf, len, "%" PRIu64 " B", n);
    else if (n < 10ull << 20)
        snprintf(buf, len, "%.1f KiB", (double)n / 1024.0);
    else if (n < 10ull << 30)
        snprintf(buf, len, "%.1f MiB", (double)n / 1048576.0);
    else
        snprintf(buf, len, "%.1f GiB", (double)n / 1073741824.0);
}

/* ---- the scrolling area ----------------------------------------------------- */
bool lay_vis(const lay_t *L, int y, int h, int *out)
{
    int sy = y - L->scroll;
    *out = sy;
    return sy + h > L->clip0 && sy < L->clip1;
}

static hv_viz_item_t *scrolled(lay_t *L, hv_viz_item_t *it)
{
    if (it == NULL)
        L->oom = true;
    else
        it->style |= HV_STYLE_SCROLL;
    return it;
}

hv_viz_item_t *lay_rect(lay_t *L, hv_viz_role_t role, int x, int y, int w,
                        int h)
{
    int sy;
    if (!lay_vis(L, y, h, &sy)) return NULL;
    return scrolled(L, hv_scene_rect(L->sc, role, x, sy, w, h));
}

hv_viz_item_t *lay_box(lay_t *L, hv_viz_role_t role, unsigned style, int x,
                       int y, int w, int h)
{
    int sy;
    if (!lay_vis(L, y, h, &sy)) return NULL;
    hv_viz_item_t *it = scrolled(
        L, hv_scene_add(L->sc, HV_ITEM_BOX, role, x, sy, w, h));
    if (it) it->style |= (uint16_t)style;
    return it;
}

hv_viz_item_t *lay_text(lay_t *L, hv_viz_role_t role, int x, int y,
                        unsigned style, const char *text)
{
    int sy;
    if (!lay_vis(L, y, HV_LINE_H, &sy)) return NULL;
    return scrolled(L, hv_scene_text(L->sc, role, x, sy, style, text));
}

hv_viz_item_t *lay_arrow(lay_t *L, hv_viz_role_t role, int x1, int y1, int x2,
                         int y2, int bend)
{
    return scrolled(L, hv_scene_arrow(L->sc, role, x1, y1 - L->scroll, x2,
                                      y2 - L->scroll, bend));
}

/* ---- fixed panels ----------------------------------------------------------- */
static void text(lay_t *L, hv_viz_role_t role, int x, int y, unsigned style,
                 const char *t)
{
    if (hv_scene_text(L->sc, role, x, y, style, t) == NULL) L->oom = true;
}

static void title_bar(lay_t *L, int w)
{
    const hv_viz_state_t *s = L->s;
    char left[160], right[96];
    hv_scene_rect(L->sc, HV_ROLE_META, 0, 0, w, HV_TITLE_H);
    snprintf(left, sizeof left, "heapviz · %s fit · %s · coalesce %s · align %u",
             hv_policy_name(s->cfg.policy), hv_order_name(s->cfg.order),
             hv_coalesce_name(s->cfg.coalesce), s->cfg.align);
    if (s->cfg.policy == HV_POLICY_SEGREGATED || s->cfg.policy == HV_POLICY_BUDDY)
        snprintf(left, sizeof left, "heapviz · %s · align %u",
                 hv_policy_name(s->cfg.policy), s->cfg.align);
    hv_viz_item_t *it = hv_scene_text(L->sc, HV_ROLE_TEXT, HV_PAD, 5, 0, left);
    if (it) it->color = 0xFFFFFF;
    snprintf(right, sizeof right, "%s  op %" PRIu64 "/%" PRIu64 "  %s %g×  ?",
             s->stepping ? "STEP" : s->live ? "LIVE" : "",
             s->op, s->ops_total, s->playing ? "▶" : "❚❚", s->speed);
    it = hv_scene_text(L->sc, HV_ROLE_TEXT, w - HV_PAD, 5, HV_TEXT_RIGHT, right);
    if (it) it->color = 0xFFFFFF;
    if (s->notice[0]) {
        int x = w - HV_PAD - hv_text_width(right, false) - 24;
        it = hv_scene_text(L->sc, HV_ROLE_JUST_FREED, x, 5,
                           HV_TEXT_RIGHT | HV_TEXT_BOLD, s->notice);
    }
}

static int stat_line(lay_t *L, int x, int y, int w, const char *k,
                     const char *v)
{
    text(L, HV_ROLE_MUTED, x, y, HV_TEXT_SMALL, k);
    text(L, HV_ROLE_TEXT, x + w, y, HV_TEXT_SMALL | HV_TEXT_RIGHT, v);
    return y + HV_LINE_SMALL_H + 3;
}

static int stats_panel(lay_t *L, int x, int y)
{
    const hv_stats_t *st = &L->s->stats;
    char v[48];
    int w = HV_STATS_W - 16, x0 = x + 8;
    enum { LINES = 14 };
    hv_scene_rect(L->sc, HV_ROLE_PANEL, x, y, HV_STATS_W,
                  26 + LINES * (HV_LINE_SMALL_H + 3) + 6);
    text(L, HV_ROLE_TEXT, x0, y + 4, HV_TEXT_BOLD, "stats");
    y += 26;
    struct {
        const char *k;
        uint64_t n;
    } bytes[] = {{"heap size", st->heap_size}, {"brk heap", st->brk_size},
                 {"mmapped", st->mmapped},     {"in use", st->in_use},
                 {"payload", st->payload},     {"free", st->free_bytes},
                 {"largest free", st->largest_free}};
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
        hv_fmt_bytes(bytes[i].n, v, sizeof v);
        y = stat_line(L, x0, y, w, bytes[i].k, v);
    }
    snprintf(v, sizeof v, "%" PRIu64 " / %" PRIu64, st->alloc_blocks,
             st->free_blocks);
    y = stat_line(L, x0, y, w, "blocks used/free", v);
    snprintf(v, sizeof v, "%.0f%%", st->frag_internal * 100);
    y = stat_line(L, x0, y, w, "internal frag", v);
    snprintf(v, sizeof v, "%.0f%%", st->frag_external * 100);
    y = stat_line(L, x0, y, w, "external frag", v);
    snprintf(v, sizeof v, "%.0f%%", st->utilization * 100);
    y = stat_line(L, x0, y, w, "utilization", v);
    snprintf(v, sizeof v, "%" PRIu64 " / %" PRIu64, st->n_malloc + st->n_calloc,
             st->n_free);
    y = stat_line(L, x0, y, w, "mallocs / frees", v);
    snprintf(v, sizeof v, "%" PRIu64 " / %" PRIu64, st->n_split,
             st->n_coalesce);
    y = stat_line(L, x0, y, w, "splits / coalesces", v);
    snprintf(v, sizeof v, "%" PRIu64, st->n_errors);
    y = stat_line(L, x0, y, w, "errors", v);
    return y + 6;
}

static int record_panel(lay_t *L, int x, int y)
{
    const hv_viz_state_t *s = L->s;
    long k = L->o->selected ? hv_viz_state_find(s, L->o->selected) : -1;
    if (k < 0) return y;
    const hv_block_t *b = &s->blocks[k];
    char t[128];
    int x0 = x + 8;
    y += 8;
    snprintf(t, sizeof t, "block 0x%" PRIx64 " %s", b->addr,
             hv_block_state_name(b->state));
    text(L, HV_ROLE_TEXT, x0, y, HV_TEXT_BOLD | HV_TEXT_SMALL, t);
    y += HV_LINE_SMALL_H + 4;
    const char *lines[8];
    char buf[8][96];
    int n = 0;
    snprintf(buf[n], 96, "size %" PRIu64 "  payload 0x%" PRIx64, b->size,
             b->payload);
    lines[n] = buf[n], n++;
    snprintf(buf[n], 96, "requested %" PRIu64 "  usable %" PRIu64, b->requested,
             b->payload_size);
    lines[n] = buf[n], n++;
    snprintf(buf[n], 96, "header 0x%08x  prev_alloc %d", b->header,
             b->prev_alloc);
    lines[n] = buf[n], n++;
    if (b->has_footer)
        snprintf(buf[n], 96, "footer 0x%08x", b->footer), lines[n] = buf[n], n++;
    if (b->magic)
        snprintf(buf[n], 96, "magic 0x%08x", b->magic), lines[n] = buf[n], n++;
    if (b->state == HV_BLOCK_FREE)
        snprintf(buf[n], 96, "list %d next 0x%" PRIx64 " prev 0x%" PRIx64,
                 b->list, b->next_free, b->prev_free);
    else
        snprintf(buf[n], 96, "op #%" PRIu64 "  gen %u", b->seq, b->gen);
    lines[n] = buf[n], n++;
    snprintf(buf[n], 96, "alloc'd at %.80s", s->sel_alloc[0] ? s->sel_alloc : "?");
    lines[n] = buf[n], n++;
    if (s->sel_free[0])
        snprintf(buf[n], 96, "free'd at %.80s", s->sel_free), lines[n] = buf[n], n++;
    for (int i = 0; i < n; i++, y += HV_LINE_SMALL_H + 2)
        text(L, HV_ROLE_TEXT, x0, y, HV_TEXT_SMALL, lines[i]);
    return y;
}

/* Variables: names on the left, arrows to the bytes they point at.  An
 * arrow to a freed block is drawn in the error colour: a dangling pointer. */
static int vars_panel(lay_t *L, int y)
{
    const hv_viz_state_t *s = L->s;
    if (s->nvars == 0) return y;
    int order[HV_VIZ_MAX_VARS];
    for (int i = 0; i < s->nvars; i++) order[i] = i;
    for (int i = 1; i < s->nvars; i++) /* by address: fewer crossings */
        for (int j = i; j > 0 && s->vars[order[j]].addr < s->vars[order[j - 1]].addr; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    lay_text(L, HV_ROLE_MUTED, HV_PAD, L->area_y, 0, "variables");
    for (int i = 0; i < s->nvars; i++, y += 22) {
        const hv_viz_var_t *v = &s->vars[order[i]];
        int tx, ty;
        long k = hv_viz_state_find(s, v->addr);
        bool dangling = k >= 0 && s->blocks[k].state == HV_BLOCK_FREE;
        hv_viz_role_t role = dangling ? HV_ROLE_ERROR : HV_ROLE_VAR;
        lay_text(L, role, HV_PAD, y, HV_TEXT_BOLD, v->name);
        int nx = HV_PAD + hv_text_width(v->name, false) + 4;
        if (v->addr == 0) {
            lay_text(L, HV_ROLE_MUTED, nx, y + 2, HV_TEXT_SMALL, "NULL");
        } else if (strip_point(L, v->addr, &tx, &ty)) {
            lay_arrow(L, role, nx, y + 9, tx, ty + 4, 0);
        } else {
            char t[32];
            snprintf(t, sizeof t, "0x%" PRIx64, v->addr);
            lay_text(L, HV_ROLE_MUTED, nx, y + 2, HV_TEXT_SMALL, t);
        }
    }
    return y;
}

static int log_height(const hv_viz_state_t *s)
{
    return s->nlog ? 24 + s->nlog * (HV_LINE_SMALL_H + 2) : 0;
}

static void log_panel(lay_t *L, int y, int w)
{
    const hv_viz_state_t *s = L->s;
    if (s->nlog == 0) return;
    hv_scene_rect(L->sc, HV_ROLE_PANEL, HV_PAD, y, w - 2 * HV_PAD,
                  log_height(s) - 6);
    text(L, HV_ROLE_TEXT, HV_PAD + 8, y + 3, HV_TEXT_BOLD, "events");
    y += 22;
    for (int i = 0; i < s->nlog; i++, y += HV_LINE_SMALL_H + 2)
        text(L, i == s->nlog - 1 ? HV_ROLE_TEXT : HV_ROLE_MUTED, HV_PAD + 8, y,
             HV_TEXT_SMALL, s->log[i]);
}

/* Split the report into lines that fit `cols` characters; at most max. */
static int wrap(const char *src, int cols, char out[][200], int max)
{
    int n = 0;
    while (*src && n < max) {
        const char *nl = strchr(src, '\n');
        int len = nl ? (int)(nl - src) : (int)strlen(src);
        int take = 0, chars = 0;
        while (take < len && chars < cols) { /* count code points */
            take++;
            while (take < len && ((unsigned char)src[take] & 0xC0) == 0x80) take++;
            chars++;
        }
        snprintf(out[n++], 200, "%.*s", take < 199 ? take : 199, src);
        src += take;
        if (take == len && nl) src++;
    }
    return n;
}

static int banner_lines(const hv_viz_state_t *s, int w, char out[][200])
{
    if (!s->has_error) return 0;
    char buf[1100];
    snprintf(buf, sizeof buf, "✖ %s", s->error_text);
    return wrap(buf, (w - 2 * HV_PAD - 20) / HV_CHAR_W, out, 8);
}

static void banner(lay_t *L, int y, int w, char lines[][200], int n)
{
    if (n == 0) return;
    int h = 12 + n * HV_LINE_H;
    hv_viz_item_t *bg = hv_scene_rect(L->sc, HV_ROLE_BACKGROUND, HV_PAD, y,
                                      w - 2 * HV_PAD, h);
    if (bg) bg->color = L->o->blink ? 0xFBE3D6 : 0xFDF1EA;
    hv_viz_item_t *bx = hv_scene_add(L->sc, HV_ITEM_BOX, HV_ROLE_ERROR, HV_PAD, y,
                                     w - 2 * HV_PAD, h);
    if (bx) bx->style = HV_STYLE_THICK;
    for (int i = 0; i < n; i++)
        text(L, i == 0 ? HV_ROLE_ERROR : HV_ROLE_TEXT, HV_PAD + 10,
             y + 6 + i * HV_LINE_H, i == 0 ? HV_TEXT_BOLD : 0, lines[i]);
}

static void timeline(lay_t *L, int y, int w)
{
    const hv_viz_state_t *s = L->s;
    int x0 = HV_PAD, tw = w - 2 * HV_PAD;
    hv_scene_rect(L->sc, HV_ROLE_PANEL, x0, y + 4, tw, 10);
    double f = s->ops_total ? (double)s->op / (double)s->ops_total : 1.0;
    if (f > 1) f = 1;
    hv_scene_rect(L->sc, HV_ROLE_TIMELINE, x0, y + 4, (int)(tw * f), 10);
    hv_scene_rect(L->sc, HV_ROLE_META, x0 + (int)(tw * f) - 1, y + 1, 3, 16);
    char t[200];
    snprintf(t, sizeof t, "timeline  op %" PRIu64 " / %" PRIu64 "   %s", s->op,
             s->ops_total, s->nlog ? s->log[s->nlog - 1] : "");
    text(L, HV_ROLE_TEXT, x0, y + 17, HV_TEXT_SMALL, t);
}

static void help_overlay(lay_t *L, int w, int h)
{
    static const char *const keys[] = {
        "keys",
        "space      play / pause the history",
        "s / n      step mode on-off / next operation",
        "← → b n    back / forward one operation",
        "Home End   first / last (live) operation",
        "[ ]        slower / faster playback",
        "+ - 0      zoom in / out / fit",
        "↑ ↓ PgUp PgDn  scroll the heap",
        "click      select a block (its whole record)",
        "drag timeline  scrub through the history",
        "p          screenshot (heapviz-*.png)",
        "?          this help       q / Esc  quit",
    };
    int n = (int)(sizeof keys / sizeof keys[0]);
    int bw = 470, bh = 20 + n * HV_LINE_H, x = (w - bw) / 2, y = (h - bh) / 3;
    hv_scene_rect(L->sc, HV_ROLE_PANEL, x, y, bw, bh);
    hv_scene_add(L->sc, HV_ITEM_BOX, HV_ROLE_META, x, y, bw, bh);
    for (int i = 0; i < n; i++)
        text(L, HV_ROLE_TEXT, x + 14, y + 10 + i * HV_LINE_H,
             i == 0 ? HV_TEXT_BOLD : 0, keys[i]);
}

/* ---- the page ------------------------------------------------------------- */
static void heap_heading(lay_t *L)
{
    const hv_viz_state_t *s = L->s;
    char t[200], sz[32];
    hv_fmt_bytes(s->brk > s->layout.heap_base ? s->brk - s->layout.heap_base : 0,
                 sz, sizeof sz);
    snprintf(t, sizeof t,
             "heap 0x%" PRIx64 " … brk 0x%" PRIx64 " · %s · header %u B%s",
             s->layout.heap_base, s->brk, sz, s->layout.header_size,
             s->cfg.footer ? ", footer" : "");
    lay_text(L, HV_ROLE_MUTED, L->hx, L->area_y, 0, t);
}

typedef struct page {
    int w, h, top, log_h, banner_h, tl_h;
    char lines[8][200];
    int nlines;
} page_t;

static void page_plan(lay_t *L, page_t *p)
{
    const hv_viz_opts_t *o = L->o;
    p->w = o->width < 560 ? 560 : o->width;
    p->top = o->chrome ? HV_TITLE_H : 0;
    p->log_h = log_height(L->s);
    p->nlines = banner_lines(L->s, p->w, p->lines);
    p->banner_h = p->nlines ? 18 + p->nlines * HV_LINE_H : 0;
    p->tl_h = o->chrome ? HV_TIMELINE_H : 0;
    int vars_w = L->s->nvars ? HV_VARS_W : 0;
    L->hx = HV_PAD + vars_w;
    L->hw = p->w - L->hx - HV_STATS_W - 2 * HV_PAD;
    L->area_y = p->top + HV_PAD;
    L->rows_y = L->area_y + 24;
    if (o->height > 0) {
        p->h = o->height;
        L->scroll = o->scroll;
        L->clip0 = L->area_y;
        L->clip1 = p->h - p->tl_h - p->banner_h - p->log_h - HV_PAD;
        if (L->clip1 < L->clip0 + HV_ROW_H) L->clip1 = L->clip0 + HV_ROW_H;
    } else {
        L->scroll = 0;
        L->clip0 = INT_MIN / 2;
        L->clip1 = INT_MAX / 2;
    }
}

static void page_bottom(lay_t *L, page_t *p, int body_end)
{
    hv_viz_scene_t *sc = L->sc;
    int y = p->h > 0 ? p->h - p->tl_h - p->banner_h - p->log_h : body_end;
    log_panel(L, y, p->w);
    y += p->log_h;
    banner(L, y, p->w, p->lines, p->nlines);
    y += p->banner_h;
    if (L->o->chrome) timeline(L, y, p->w);
    y += p->tl_h;
    if (p->h == 0) p->h = y;
    if (L->o->chrome) title_bar(L, p->w);
    if (L->o->help) help_overlay(L, p->w, p->h);
    sc->width = p->w;
    sc->height = p->h;
}

bool hv_viz_layout(const hv_viz_state_t *s, const hv_viz_opts_t *o,
                   hv_viz_scene_t *sc)
{
    lay_t L = {.s = s, .o = o, .sc = sc};
    page_t p = {0};
    hv_viz_scene_clear(sc);
    page_plan(&L, &p);
    if (!strip_prepare(&L)) return false;
    heap_heading(&L);
    strip_draw(&L);
    L.y += 4;
    regions_draw(&L);
    lists_text(&L);
    int vars_end = vars_panel(&L, L.rows_y);
    int sx = p.w - HV_PAD - HV_STATS_W;
    int stats_end = record_panel(&L, sx, stats_panel(&L, sx, L.area_y));
    int content_end = L.y > vars_end ? L.y : vars_end;
    int body_end = content_end > stats_end ? content_end : stats_end;
    sc->heap_x = L.hx;
    sc->heap_y = L.rows_y - L.scroll;
    sc->heap_w = L.hw;
    sc->row_h = HV_ROW_H;
    sc->nrows = L.nrows;
    sc->content_h = content_end - L.area_y;
    page_bottom(&L, &p, body_end + HV_PAD);
    sc->heap_clip_y0 = p.h > 0 && o->height > 0 ? L.clip0 : 0;
    sc->heap_clip_y1 = p.h > 0 && o->height > 0 ? L.clip1 : p.h;
    free(L.bx);
    return !L.oom;
}

hv_addr_t hv_viz_hit(const hv_viz_scene_t *sc, int x, int y)
{
    if (y < sc->heap_clip_y0 || y >= sc->heap_clip_y1) return 0;
    for (size_t i = sc->nitems; i-- > 0;) {
        const hv_viz_item_t *it = &sc->items[i];
        if (it->addr && (it->kind == HV_ITEM_RECT || it->kind == HV_ITEM_HATCH) &&
            x >= it->x && x < it->x + it->w && y >= it->y && y < it->y + it->h)
            return it->addr;
    }
    return 0;
}

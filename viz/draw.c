/* draw.c — a scene into pixels: an ARGB8888 software surface.
 *
 * Every output (the window, PNGs, GIF/APNG frames) goes through here, and
 * everything is integer arithmetic on our own pixels — no GPU, no
 * anti-aliasing differences between machines — so a picture is the same
 * bytes on every run, and the window's screenshot equals the headless
 * render of the same state.
 */
#include <math.h>
#include <stdlib.h>

#include "layout.h"
#include "render.h"

typedef struct canvas {
    SDL_Surface *s;
    SDL_Rect clip;
} canvas_t;

static inline void put(canvas_t *c, int x, int y, uint32_t rgb)
{
    const SDL_Rect *r = &c->clip;
    if (x < r->x || y < r->y || x >= r->x + r->w || y >= r->y + r->h) return;
    ((uint32_t *)((uint8_t *)c->s->pixels + y * c->s->pitch))[x] =
        0xFF000000u | rgb;
}

static bool clip_rect(const canvas_t *c, int *x, int *y, int *w, int *h)
{
    int x0 = *x > c->clip.x ? *x : c->clip.x;
    int y0 = *y > c->clip.y ? *y : c->clip.y;
    int x1 = *x + *w, y1 = *y + *h;
    if (x1 > c->clip.x + c->clip.w) x1 = c->clip.x + c->clip.w;
    if (y1 > c->clip.y + c->clip.h) y1 = c->clip.y + c->clip.h;
    if (x1 <= x0 || y1 <= y0) return false;
    *x = x0, *y = y0, *w = x1 - x0, *h = y1 - y0;
    return true;
}

static void fill(canvas_t *c, int x, int y, int w, int h, uint32_t rgb)
{
    if (!clip_rect(c, &x, &y, &w, &h)) return;
    uint32_t px = 0xFF000000u | rgb;
    for (int yy = y; yy < y + h; yy++) {
        uint32_t *row = (uint32_t *)((uint8_t *)c->s->pixels + yy * c->s->pitch);
        if (w >= 32) { /* the background, bars, long blocks */
            SDL_memset4(row + x, px, (size_t)w);
            continue;
        }
        for (int xx = x; xx < x + w; xx++) row[xx] = px;
    }
}

/* 45° lines every 5 px, aligned to the canvas so segments of one block on
 * two rows (and neighbouring runs) continue each other's pattern. */
static void hatch(canvas_t *c, int x, int y, int w, int h, uint32_t rgb)
{
    if (!clip_rect(c, &x, &y, &w, &h)) return;
    uint32_t px = 0xFF000000u | rgb;
    for (int yy = y; yy < y + h; yy++) {
        uint32_t *row = (uint32_t *)((uint8_t *)c->s->pixels + yy * c->s->pitch);
        int start = x + (((5 - (x + yy) % 5) % 5));
        for (int xx = start; xx < x + w; xx += 5) row[xx] = px;
    }
}

static void box(canvas_t *c, const hv_viz_item_t *it)
{
    int x = it->x, y = it->y, w = it->w, h = it->h, st = it->style & 15;
    uint32_t k = it->color;
    if (st == HV_STYLE_THICK) {
        fill(c, x, y, w, 2, k), fill(c, x, y + h - 2, w, 2, k);
        fill(c, x, y, 2, h, k), fill(c, x + w - 2, y, 2, h, k);
    } else if (st == HV_STYLE_DOTTED) {
        for (int i = 0; i < w; i += 4) {
            fill(c, x + i, y, 2, 1, k);
            fill(c, x + i, y + h - 1, 2, 1, k);
        }
        for (int i = 0; i < h; i += 4) {
            fill(c, x, y + i, 1, 2, k);
            fill(c, x + w - 1, y + i, 1, 2, k);
        }
    } else if (st == HV_STYLE_JAGGED) { /* a saw edge: torn metadata */
        for (int i = 0; i < w; i++) {
            int d = i % 6 < 3 ? i % 6 : 6 - i % 6;
            fill(c, x + i, y + d, 1, 2, k);
            fill(c, x + i, y + h - 2 - d, 1, 2, k);
        }
    } else {
        fill(c, x, y, w, 1, k), fill(c, x, y + h - 1, w, 1, k);
        fill(c, x, y, 1, h, k), fill(c, x + w - 1, y, 1, h, k);
    }
}

/* Bresenham, `thick` px wide (extra pixels below/right). */
static void line(canvas_t *c, int x0, int y0, int x1, int y1, int thick,
                 uint32_t rgb)
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1, err = dx + dy;
    bool steep = -dy > dx;
    for (int guard = 0; guard < 100000; guard++) {
        for (int t = 0; t < thick; t++)
            put(c, x0 + (steep ? t : 0), y0 + (steep ? 0 : t), rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) err += dy, x0 += sx;
        if (e2 <= dx) err += dx, y0 += sy;
    }
}

/* A filled triangle by scanlines (arrow heads). */
static void triangle(canvas_t *c, const int px[3], const int py[3], uint32_t rgb)
{
    int ymin = py[0], ymax = py[0];
    for (int i = 1; i < 3; i++) {
        if (py[i] < ymin) ymin = py[i];
        if (py[i] > ymax) ymax = py[i];
    }
    for (int y = ymin; y <= ymax; y++) {
        double xl = 1e9, xr = -1e9;
        for (int i = 0; i < 3; i++) {
            int j = (i + 1) % 3;
            int ya = py[i], yb = py[j];
            if ((y < ya && y < yb) || (y > ya && y > yb) || ya == yb) continue;
            double x = px[i] + (double)(y - ya) * (px[j] - px[i]) / (yb - ya);
            if (x < xl) xl = x;
            if (x > xr) xr = x;
        }
        if (xl <= xr)
            fill(c, (int)lround(xl), y, (int)lround(xr) - (int)lround(xl) + 1, 1,
                 rgb);
    }
}

static void arrow(canvas_t *c, const hv_viz_item_t *it)
{
    int x0 = it->x, y0 = it->y, x1 = it->x + it->w, y1 = it->y + it->h;
    /* Quadratic Bezier; the control point 2*bend above the midpoint makes
     * the curve peak `bend` px above the chord. */
    double cx = (x0 + x1) / 2.0, cy = (y0 + y1) / 2.0 - 2.0 * it->bend;
    int n = it->bend ? 16 : 1, px = x0, py = y0;
    double tx = x1 - cx, ty = y1 - cy; /* tangent at the end */
    if (!it->bend) tx = x1 - x0, ty = y1 - y0;
    for (int i = 1; i <= n; i++) {
        double t = (double)i / n, u = 1 - t;
        int qx = (int)lround(u * u * x0 + 2 * u * t * cx + t * t * x1);
        int qy = (int)lround(u * u * y0 + 2 * u * t * cy + t * t * y1);
        line(c, px, py, qx, qy, 2, it->color);
        px = qx, py = qy;
    }
    double len = sqrt(tx * tx + ty * ty);
    if (len < 1) return;
    tx /= len, ty /= len;
    int hx[3] = {x1, (int)lround(x1 - 8 * tx + 4 * ty),
                 (int)lround(x1 - 8 * tx - 4 * ty)};
    int hy[3] = {y1 + 1, (int)lround(y1 - 8 * ty - 4 * tx) + 1,
                 (int)lround(y1 - 8 * ty + 4 * tx) + 1};
    triangle(c, hx, hy, it->color);
}

static void draw_item(canvas_t *c, const hv_viz_scene_t *sc,
                      const hv_viz_item_t *it, hv_font_t *f)
{
    switch (it->kind) {
    case HV_ITEM_RECT:
        fill(c, it->x, it->y, it->w, it->h, it->color);
        break;
    case HV_ITEM_BOX:
        box(c, it);
        break;
    case HV_ITEM_HATCH:
        hatch(c, it->x, it->y, it->w, it->h, it->color);
        break;
    case HV_ITEM_LINE:
        line(c, it->x, it->y, it->x + it->w, it->y + it->h, 1, it->color);
        break;
    case HV_ITEM_ARROW:
        arrow(c, it);
        break;
    case HV_ITEM_TEXT:
        if (f)
            hv_font_draw(f, c->s, &c->clip, it->x, it->y,
                         hv_viz_item_text(sc, it), it->style, it->color);
        break;
    default:
        break;
    }
}

SDL_Surface *hv_surface_new(int w, int h, char *err, size_t errlen)
{
    SDL_Surface *s =
        SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (s == NULL)
        snprintf(err, errlen, "heapviz: SDL_CreateRGBSurfaceWithFormat: %s",
                 SDL_GetError());
    return s;
}

void hv_viz_draw(const hv_viz_scene_t *sc, hv_font_t *f, SDL_Surface *dst)
{
    canvas_t whole = {dst, {0, 0, dst->w, dst->h}};
    canvas_t area = {dst, {0, sc->heap_clip_y0, dst->w,
                           sc->heap_clip_y1 - sc->heap_clip_y0}};
    fill(&whole, 0, 0, dst->w, dst->h, sc->background);
    for (size_t i = 0; i < sc->nitems; i++) {
        const hv_viz_item_t *it = &sc->items[i];
        draw_item((it->style & HV_STYLE_SCROLL) ? &area : &whole, sc, it, f);
    }
}

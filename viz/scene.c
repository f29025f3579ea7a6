/* scene.c — the scene: a flat list of drawing items plus a string pool.
 *
 * Items are plain values (no pointers) so a scene can be copied, handed to
 * Python as dicts, or drawn by any backend.  Text lives in one pool and
 * items refer to it by offset, so growing the pool never invalidates them.
 */
#include <stdlib.h>
#include <string.h>

#include "scene.h"

void hv_viz_scene_init(hv_viz_scene_t *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->background = hv_viz_role_color(HV_ROLE_BACKGROUND);
}

void hv_viz_scene_free(hv_viz_scene_t *sc)
{
    free(sc->items);
    free(sc->strings);
    hv_viz_scene_init(sc);
}

void hv_viz_scene_clear(hv_viz_scene_t *sc)
{
    sc->nitems = 0;
    sc->nstrings = 0;
    sc->nrows = 0;
}

const char *hv_viz_item_text(const hv_viz_scene_t *sc, const hv_viz_item_t *it)
{
    return it->kind == HV_ITEM_TEXT && sc->strings ? sc->strings + it->text
                                                   : "";
}

hv_viz_item_t *hv_scene_add(hv_viz_scene_t *sc, hv_viz_kind_t kind,
                            hv_viz_role_t role, int x, int y, int w, int h)
{
    if (sc->nitems == sc->cap_items) {
        size_t ncap = sc->cap_items ? sc->cap_items * 2 : 1024;
        hv_viz_item_t *n = realloc(sc->items, ncap * sizeof *n);
        if (n == NULL) return NULL;
        sc->items = n;
        sc->cap_items = ncap;
    }
    hv_viz_item_t *it = &sc->items[sc->nitems++];
    memset(it, 0, sizeof *it);
    it->kind = (uint8_t)kind;
    it->role = (uint8_t)role;
    it->color = hv_viz_role_color(role);
    it->x = x;
    it->y = y;
    it->w = w;
    it->h = h;
    return it;
}

hv_viz_item_t *hv_scene_rect(hv_viz_scene_t *sc, hv_viz_role_t role, int x,
                             int y, int w, int h)
{
    return hv_scene_add(sc, HV_ITEM_RECT, role, x, y, w, h);
}

static bool pool_add(hv_viz_scene_t *sc, const char *s, uint32_t *off)
{
    size_t n = strlen(s) + 1;
    if (sc->nstrings + n > sc->cap_strings) {
        size_t ncap = sc->cap_strings ? sc->cap_strings * 2 : 16384;
        while (ncap < sc->nstrings + n) ncap *= 2;
        char *p = realloc(sc->strings, ncap);
        if (p == NULL) return false;
        sc->strings = p;
        sc->cap_strings = ncap;
    }
    memcpy(sc->strings + sc->nstrings, s, n);
    *off = (uint32_t)sc->nstrings;
    sc->nstrings += n;
    return true;
}

hv_viz_item_t *hv_scene_text(hv_viz_scene_t *sc, hv_viz_role_t role, int x,
                             int y, unsigned style, const char *text)
{
    uint32_t off;
    if (!pool_add(sc, text, &off)) return NULL;
    bool small = (style & HV_TEXT_SMALL) != 0;
    int w = hv_text_width(text, small);
    int h = small ? HV_LINE_SMALL_H : HV_LINE_H;
    hv_viz_item_t *it =
        hv_scene_add(sc, HV_ITEM_TEXT, role, (style & HV_TEXT_RIGHT) ? x - w : x,
                     y, w, h);
    if (it == NULL) return NULL;
    it->style = (uint16_t)style;
    it->text = off;
    return it;
}

hv_viz_item_t *hv_scene_line(hv_viz_scene_t *sc, hv_viz_role_t role, int x1,
                             int y1, int x2, int y2)
{
    return hv_scene_add(sc, HV_ITEM_LINE, role, x1, y1, x2 - x1, y2 - y1);
}

hv_viz_item_t *hv_scene_arrow(hv_viz_scene_t *sc, hv_viz_role_t role, int x1,
                              int y1, int x2, int y2, int bend)
{
    hv_viz_item_t *it =
        hv_scene_add(sc, HV_ITEM_ARROW, role, x1, y1, x2 - x1, y2 - y1);
    if (it) it->bend = bend;
    return it;
}

/* Monospaced: every code point advances the same (continuation bytes of
 * UTF-8 do not count). */
int hv_text_width(const char *utf8, bool small)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)utf8; *p; p++)
        if ((*p & 0xC0) != 0x80) n++;
    return n * (small ? HV_CHAR_SMALL_W : HV_CHAR_W);
}

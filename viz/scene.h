/* scene.h — building a scene: the helpers layout.c appends items with. */
#ifndef HEAPVIZ_VIZ_SCENE_H
#define HEAPVIZ_VIZ_SCENE_H

#include "heapviz/viz.h"

/* Append an item; returns it (NULL when out of memory, and the scene
 * remembers the failure in sc->nitems staying put). */
hv_viz_item_t *hv_scene_add(hv_viz_scene_t *sc, hv_viz_kind_t kind,
                            hv_viz_role_t role, int x, int y, int w, int h);
hv_viz_item_t *hv_scene_rect(hv_viz_scene_t *sc, hv_viz_role_t role, int x,
                             int y, int w, int h);
hv_viz_item_t *hv_scene_text(hv_viz_scene_t *sc, hv_viz_role_t role, int x,
                             int y, unsigned style, const char *text);
hv_viz_item_t *hv_scene_line(hv_viz_scene_t *sc, hv_viz_role_t role, int x1,
                             int y1, int x2, int y2);
hv_viz_item_t *hv_scene_arrow(hv_viz_scene_t *sc, hv_viz_role_t role, int x1,
                              int y1, int x2, int y2, int bend);

/* Text metrics of the two fonts, fixed so that layout needs no font (the
 * renderer uses a monospaced font of exactly this advance). */
enum {
    HV_FONT_PX = 14,       /* normal text size (points = px at 72 dpi)    */
    HV_FONT_SMALL_PX = 11,
    HV_CHAR_W = 8,         /* advance of DejaVu Sans Mono 14              */
    HV_CHAR_SMALL_W = 7,   /* advance of DejaVu Sans Mono 11              */
    HV_LINE_H = 18,
    HV_LINE_SMALL_H = 13,
};
/* Width in px of UTF-8 text in the normal or small font. */
int hv_text_width(const char *utf8, bool small);

#endif

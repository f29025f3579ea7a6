/* layout.h — shared by the layout files (layout.c: the page and its panels;
 * strip.c: the heap strip, its blocks, lists and regions). */
#ifndef HEAPVIZ_VIZ_LAYOUT_H
#define HEAPVIZ_VIZ_LAYOUT_H

#include "scene.h"

enum {
    HV_PAD = 10,
    HV_TITLE_H = 28,
    HV_TIMELINE_H = 34,
    HV_VARS_W = 150,
    HV_STATS_W = 230,
    HV_GUTTER = 16, /* above each band: free-list arcs, head and rover marks */
    HV_BAND = 30,   /* the blocks themselves                               */
    HV_ROW_GAP = 6,
    HV_ROW_H = HV_GUTTER + HV_BAND + HV_ROW_GAP,
};

typedef struct lay {
    const hv_viz_state_t *s;
    const hv_viz_opts_t *o;
    hv_viz_scene_t *sc;
    bool oom;
    /* the scrolling area: content y of its top, scroll offset, clip    */
    int area_y, scroll, clip0, clip1;
    /* the heap strip */
    int hx, hw;         /* x and width of the heap rows                  */
    int rows_y;         /* content y of the first row                    */
    double ppb;         /* px per byte                                   */
    int minw;           /* minimum block width                           */
    int64_t *bx;        /* strip position of each heap block (nblocks+1) */
    int64_t strip_len;  /* px of the heap strip up to the break          */
    size_t nheap;       /* blocks in the heap strip (prefix of blocks)   */
    int nrows;
    int y;              /* content y where the next section goes          */
} lay_t;

/* Content y -> scene y in the scrolling area; false when [y, y+h) is not
 * visible (the item is then skipped). */
bool lay_vis(const lay_t *L, int y, int h, int *out);
/* Add an item in the scrolling area (NULL when invisible or no memory). */
hv_viz_item_t *lay_rect(lay_t *L, hv_viz_role_t role, int x, int y, int w,
                        int h);
hv_viz_item_t *lay_box(lay_t *L, hv_viz_role_t role, unsigned style, int x,
                       int y, int w, int h);
hv_viz_item_t *lay_text(lay_t *L, hv_viz_role_t role, int x, int y,
                        unsigned style, const char *text);
hv_viz_item_t *lay_arrow(lay_t *L, hv_viz_role_t role, int x1, int y1, int x2,
                         int y2, int bend);

/* strip.c */
bool strip_prepare(lay_t *L);
void strip_draw(lay_t *L);
/* Strip point of address a (heap only): false when a is not in the strip. */
bool strip_point(const lay_t *L, hv_addr_t a, int *x, int *y);
void regions_draw(lay_t *L);
void lists_text(lay_t *L);

/* Bytes as "4096 B", "64 KiB", "1.5 MiB". */
void hv_fmt_bytes(uint64_t n, char *buf, size_t len);

#endif

/* render.h — the SDL side of the renderer: fonts, drawing a scene into a
 * software surface, PNG encoding.  Internal to viz/. */
#ifndef HEAPVIZ_VIZ_RENDER_H
#define HEAPVIZ_VIZ_RENDER_H

#include <SDL.h>
#include <stdbool.h>

#include "heapviz/viz.h"

typedef struct hv_font hv_font_t;

/* Open DejaVu Sans Mono in the sizes the layout assumes (HEAPVIZ_FONT
 * overrides the path).  NULL with a message in err on failure. */
hv_font_t *hv_font_open(char *err, size_t errlen);
void hv_font_close(hv_font_t *f);
/* The font file in use (for messages and tests). */
const char *hv_font_path(const hv_font_t *f);
/* Draw UTF-8 text with its top-left at (x, y), one fixed-width cell per
 * code point, clipped to clip. */
void hv_font_draw(hv_font_t *f, SDL_Surface *dst, const SDL_Rect *clip, int x,
                  int y, const char *utf8, unsigned style, uint32_t rgb);

/* A 32-bit surface of the scene's size (caller frees). */
SDL_Surface *hv_surface_new(int w, int h, char *err, size_t errlen);
/* Draw the scene into dst (ARGB8888, at least the scene's size). */
void hv_viz_draw(const hv_viz_scene_t *sc, hv_font_t *f, SDL_Surface *dst);

/* PNG of an ARGB8888 surface in memory, through libpng at zlib's fastest
 * level (caller frees *out with SDL_free). */
bool hv_png_encode(SDL_Surface *s, uint8_t **out, size_t *len, char *err,
                   size_t errlen);
/* The libpng version linked ("1.6.39"). */
const char *hv_png_version(void);

#endif

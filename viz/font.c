/* font.c — text through SDL2_ttf with DejaVu Sans Mono, and a glyph cache.
 *
 * The layout measures text without a font (a fixed advance per code point,
 * scene.h), so the drawer puts every glyph in its own fixed-width cell; a
 * monospaced font makes that exact.  Glyphs are rendered once, white with
 * alpha, and blended in any colour: this is fast (a 100k-block heap has a
 * lot of labels) and deterministic (no subpixel positioning).  Glyphs the
 * monospaced font lacks (✖, ❚) come from DejaVu Sans when it is there.
 */
#include <SDL_ttf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "scene.h"

enum { VARIANTS = 4, CACHE = 1024 }; /* normal, small, bold, small bold */

typedef struct glyph {
    uint32_t cp;
    SDL_Surface *s; /* ARGB8888, white, alpha = coverage (NULL: blank) */
} glyph_t;

struct hv_font {
    TTF_Font *font[VARIANTS];
    TTF_Font *fallback[VARIANTS];
    glyph_t cache[VARIANTS][CACHE]; /* open addressing by code point */
    char path[512];
    bool ttf_inited;
};

static const char *const FONT_DIRS[] = {
    "/usr/share/fonts/truetype/dejavu/",
    "/usr/share/fonts/dejavu/",
    "/usr/share/fonts/TTF/",
    "/usr/local/share/fonts/",
    "/opt/homebrew/share/fonts/",
    "/Library/Fonts/",
};

static bool exists(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* The font file: $HEAPVIZ_FONT, the usual places, then fc-match. */
static bool find_font(const char *file, const char *family, char *out,
                      size_t len)
{
    const char *env = getenv("HEAPVIZ_FONT");
    if (env && *env && strcmp(file, "DejaVuSansMono.ttf") == 0 && exists(env)) {
        snprintf(out, len, "%s", env);
        return true;
    }
    for (size_t i = 0; i < sizeof FONT_DIRS / sizeof FONT_DIRS[0]; i++) {
        snprintf(out, len, "%s%s", FONT_DIRS[i], file);
        if (exists(out)) return true;
    }
    char cmd[160];
    snprintf(cmd, sizeof cmd, "fc-match -f '%%{file}' '%s' 2>/dev/null", family);
    FILE *p = popen(cmd, "r");
    if (p == NULL) return false;
    size_t n = fread(out, 1, len - 1, p);
    pclose(p);
    out[n] = '\0';
    return n > 0 && exists(out);
}

static TTF_Font *open_variant(const char *path, int v)
{
    int px = (v & 1) ? HV_FONT_SMALL_PX : HV_FONT_PX;
    TTF_Font *f = TTF_OpenFont(path, px);
    if (f == NULL) return NULL;
    TTF_SetFontHinting(f, TTF_HINTING_LIGHT);
    if (v & 2) TTF_SetFontStyle(f, TTF_STYLE_BOLD);
    return f;
}

static bool open_all(hv_font_t *f, char *err, size_t errlen)
{
    char bold[512], sans[512];
    if (!find_font("DejaVuSansMono.ttf", "DejaVu Sans Mono", f->path,
                   sizeof f->path)) {
        snprintf(err, errlen,
                 "heapviz: DejaVu Sans Mono not found (install fonts-dejavu-core "
                 "or set HEAPVIZ_FONT to a monospaced .ttf)");
        return false;
    }
    bool have_bold = find_font("DejaVuSansMono-Bold.ttf",
                               "DejaVu Sans Mono:bold", bold, sizeof bold);
    bool have_sans = find_font("DejaVuSans.ttf", "DejaVu Sans", sans, sizeof sans);
    for (int v = 0; v < VARIANTS; v++) {
        /* A real bold face beats synthetic emboldening. */
        const char *p = (v & 2) && have_bold ? bold : f->path;
        f->font[v] = open_variant(p, (v & 2) && have_bold ? (v & 1) : v);
        if (f->font[v] == NULL) {
            snprintf(err, errlen, "heapviz: TTF_OpenFont(%s): %s", p,
                     TTF_GetError());
            return false;
        }
        if (have_sans) f->fallback[v] = open_variant(sans, v);
    }
    return true;
}

hv_font_t *hv_font_open(char *err, size_t errlen)
{
    hv_font_t *f = calloc(1, sizeof *f);
    if (f == NULL) {
        snprintf(err, errlen, "heapviz: out of memory");
        return NULL;
    }
    if (!TTF_WasInit() && TTF_Init() != 0) {
        snprintf(err, errlen, "heapviz: TTF_Init: %s", TTF_GetError());
        free(f);
        return NULL;
    }
    f->ttf_inited = true;
    if (!open_all(f, err, errlen)) {
        hv_font_close(f);
        return NULL;
    }
    return f;
}

void hv_font_close(hv_font_t *f)
{
    if (f == NULL) return;
    for (int v = 0; v < VARIANTS; v++) {
        for (int i = 0; i < CACHE; i++) SDL_FreeSurface(f->cache[v][i].s);
        if (f->font[v]) TTF_CloseFont(f->font[v]);
        if (f->fallback[v]) TTF_CloseFont(f->fallback[v]);
    }
    /* TTF_Quit is reference counted by TTF_Init; balance ours. */
    if (f->ttf_inited) TTF_Quit();
    free(f);
}

const char *hv_font_path(const hv_font_t *f) { return f->path; }

static SDL_Surface *render_glyph(hv_font_t *f, int v, uint32_t cp)
{
    TTF_Font *font = f->font[v];
    if (!TTF_GlyphIsProvided32(font, cp) && f->fallback[v] &&
        TTF_GlyphIsProvided32(f->fallback[v], cp))
        font = f->fallback[v];
    SDL_Color white = {255, 255, 255, 255};
    SDL_Surface *g = TTF_RenderGlyph32_Blended(font, cp, white);
    if (g == NULL) return NULL; /* drawn as a blank cell */
    SDL_Surface *c = SDL_ConvertSurfaceFormat(g, SDL_PIXELFORMAT_ARGB8888, 0);
    SDL_FreeSurface(g);
    return c;
}

static SDL_Surface *glyph(hv_font_t *f, int v, uint32_t cp)
{
    uint32_t i = (cp * 2654435761u) & (CACHE - 1);
    for (int probes = 0; probes < CACHE; probes++, i = (i + 1) & (CACHE - 1)) {
        glyph_t *g = &f->cache[v][i];
        if (g->cp == cp && (g->s || cp == ' ')) return g->s;
        if (g->cp == 0) {
            g->cp = cp;
            g->s = cp == ' ' ? NULL : render_glyph(f, v, cp);
            return g->s;
        }
    }
    return NULL; /* cache full: very unusual text; leave a blank cell */
}

static uint32_t next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t cp = *s++;
    int extra = cp >= 0xF0 ? 3 : cp >= 0xE0 ? 2 : cp >= 0xC0 ? 1 : 0;
    if (extra) cp &= 0x3Fu >> extra;
    for (; extra > 0 && (*s & 0xC0) == 0x80; extra--) cp = (cp << 6) | (*s++ & 0x3F);
    *p = s;
    return cp;
}

/* dst = dst * (1 - a) + rgb * a, per channel, integers only. */
static void blend_glyph(SDL_Surface *dst, const SDL_Rect *clip,
                        const SDL_Surface *g, int x, int y, uint32_t rgb)
{
    int x0 = x < clip->x ? clip->x : x, y0 = y < clip->y ? clip->y : y;
    int x1 = x + g->w, y1 = y + g->h;
    if (x1 > clip->x + clip->w) x1 = clip->x + clip->w;
    if (y1 > clip->y + clip->h) y1 = clip->y + clip->h;
    uint32_t r = (rgb >> 16) & 255, gr = (rgb >> 8) & 255, b = rgb & 255;
    for (int yy = y0; yy < y1; yy++) {
        const uint32_t *src = (const uint32_t *)((const uint8_t *)g->pixels +
                                                 (yy - y) * g->pitch);
        uint32_t *d = (uint32_t *)((uint8_t *)dst->pixels + yy * dst->pitch);
        for (int xx = x0; xx < x1; xx++) {
            uint32_t a = src[xx - x] >> 24;
            if (a == 0) continue;
            uint32_t o = d[xx], ia = 255 - a;
            uint32_t nr = (((o >> 16) & 255) * ia + r * a + 127) / 255;
            uint32_t ng = (((o >> 8) & 255) * ia + gr * a + 127) / 255;
            uint32_t nb = ((o & 255) * ia + b * a + 127) / 255;
            d[xx] = 0xFF000000u | nr << 16 | ng << 8 | nb;
        }
    }
}

void hv_font_draw(hv_font_t *f, SDL_Surface *dst, const SDL_Rect *clip, int x,
                  int y, const char *utf8, unsigned style, uint32_t rgb)
{
    bool small = (style & HV_TEXT_SMALL) != 0;
    int v = (small ? 1 : 0) | ((style & HV_TEXT_BOLD) ? 2 : 0);
    int adv = small ? HV_CHAR_SMALL_W : HV_CHAR_W;
    const unsigned char *p = (const unsigned char *)utf8;
    for (int cell = 0; *p; cell++) {
        uint32_t cp = next_cp(&p);
        int gx = x + cell * adv;
        if (gx >= clip->x + clip->w) break;
        SDL_Surface *g = glyph(f, v, cp);
        if (g) blend_glyph(dst, clip, g, gx, y, rgb);
    }
}

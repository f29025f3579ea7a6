/* png.c — a surface as PNG bytes in memory, through libpng.
 *
 * Speed matters more than size here: a 10k-block heap is a 1200x1800
 * picture (6.5 MB of RGB), and a notebook or a screenshot wants it at
 * once.  zlib's fastest level without row filters is several times faster
 * than the defaults (level 6, adaptive filters: what SDL2_image's encoder
 * uses) and still shrinks these flat-coloured pictures some 25 times,
 * because a row is mostly runs and usually repeats the row above.
 * Decoders see an ordinary 8-bit RGB PNG; the pixels are the same.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "render.h"

typedef struct membuf {
    uint8_t *data;
    size_t len, cap;
    bool failed;
} membuf_t;

static void mem_write(png_structp png, png_bytep p, size_t n)
{
    membuf_t *m = png_get_io_ptr(png);
    if (m->failed) return;
    if (m->len + n > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 1u << 18;
        while (ncap < m->len + n) ncap *= 2;
        uint8_t *d = SDL_realloc(m->data, ncap);
        if (d == NULL) {
            m->failed = true;
            return;
        }
        m->data = d;
        m->cap = ncap;
    }
    memcpy(m->data + m->len, p, n);
    m->len += n;
}

static void mem_flush(png_structp png) { (void)png; }

typedef struct png_ctx {
    char *err;
    size_t errlen;
} png_ctx_t;

static void on_error(png_structp png, png_const_charp msg)
{
    png_ctx_t *c = png_get_error_ptr(png);
    snprintf(c->err, c->errlen, "heapviz: libpng: %s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg;
}

const char *hv_png_version(void) { return png_get_libpng_ver(NULL); }

bool hv_png_encode(SDL_Surface *s, uint8_t **out, size_t *len, char *err,
                   size_t errlen)
{
    if (s->format->format != SDL_PIXELFORMAT_ARGB8888 &&
        s->format->format != SDL_PIXELFORMAT_RGB888) {
        snprintf(err, errlen, "heapviz: PNG of a surface that is not [AX]RGB8888");
        return false;
    }
    png_ctx_t ctx = {err, errlen};
    /* volatile: read after a longjmp back into this frame */
    membuf_t *volatile m = calloc(1, sizeof *m);
    uint8_t *volatile row = malloc((size_t)s->w * 3);
    png_structp png = NULL;
    png_infop info = NULL;
    if (m == NULL || row == NULL) {
        snprintf(err, errlen, "heapviz: out of memory");
        goto fail;
    }
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error,
                                  on_warning);
    info = png ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        snprintf(err, errlen, "heapviz: libpng: out of memory");
        goto fail;
    }
    if (setjmp(png_jmpbuf(png))) goto fail;
    png_set_write_fn(png, m, mem_write, mem_flush);
    png_set_compression_level(png, Z_BEST_SPEED);
    png_set_compression_strategy(png, Z_DEFAULT_STRATEGY);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
    png_set_IHDR(png, info, (png_uint_32)s->w, (png_uint_32)s->h, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < s->h; y++) {
        /* [AX]RGB8888 is one native uint32_t per pixel: 0xAARRGGBB. */
        const uint32_t *src =
            (const uint32_t *)((const uint8_t *)s->pixels + (size_t)y * s->pitch);
        uint8_t *d = row;
        for (int x = 0; x < s->w; x++, d += 3) {
            uint32_t p = src[x];
            d[0] = (uint8_t)(p >> 16), d[1] = (uint8_t)(p >> 8), d[2] = (uint8_t)p;
        }
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    if (m->failed) {
        snprintf(err, errlen, "heapviz: PNG: out of memory");
        SDL_free(m->data);
        free(m);
        return false;
    }
    *out = m->data;
    *len = m->len;
    free(m);
    return true;
fail:
    if (png) png_destroy_write_struct(&png, info ? &info : NULL);
    if (m) SDL_free(m->data);
    free(m);
    free(row);
    return false;
}

/* window.h — the live viewer window (viewer process). */
#ifndef HEAPVIZ_VIZ_WINDOW_H
#define HEAPVIZ_VIZ_WINDOW_H

#include <stdbool.h>
#include <stddef.h>

#include "heapviz/viz.h"

typedef struct hv_window_opts {
    int fd;       /* the arena's memfd, mapped read-only                 */
    int ctl_fd;   /* control socket to the script (-1: none)             */
    bool step;    /* start in step mode                                   */
    int width, height;
    double zoom;  /* initial zoom (1: the heap fits the width)            */
    int frames;   /* > 0: draw this many frames flat out, then return
                     (benchmarks); prints "frames N seconds S" on stderr  */
    char screenshot_dir[400];
    /* Slides instead of a heap (fd unused): a list of states shown one at
     * a time with the step keys (an OSTEP run).  Owned by the caller. */
    const hv_viz_state_t *slides;
    size_t nslides;
} hv_window_opts_t;

void hv_window_opts_default(hv_window_opts_t *o);
/* Runs until the window is closed.  0 on a normal close, -1 with a
 * message in err when SDL or the arena could not be set up. */
int hv_window_run(const hv_window_opts_t *o, char *err, size_t errlen);

/* ---- the control protocol (ctl.c) ---------------------------------------
 * Messages both ways: u32 little-endian length of what follows, u8 type,
 * payload.  Script -> viewer: 'V' variables ("name\taddr-hex\n"...),
 * 'W' the script waits in step mode (u64 ops), 'E' events (u64 first seq +
 * raw hv_event_t records), 'X' the script ended (text).  Viewer -> script:
 * 'A' run the next operation, 'S' step mode on/off ("1"/"0"), 'H' send
 * events (u64 first, u64 count), 'R' ready (window is up), 'Q' closed. */
typedef struct hv_ctl hv_ctl_t;
typedef void (*hv_ctl_fn)(void *arg, int type, const char *data, size_t len);
hv_ctl_t *hv_ctl_new(int fd);
void hv_ctl_free(hv_ctl_t *c);
/* Read what is there without blocking; call fn per whole message.
 * Returns false once the other end is gone. */
bool hv_ctl_poll(hv_ctl_t *c, hv_ctl_fn fn, void *arg);
bool hv_ctl_send(hv_ctl_t *c, int type, const void *data, size_t len);
bool hv_ctl_alive(const hv_ctl_t *c);

#endif

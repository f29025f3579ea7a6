/* window.c — the live viewer: a window that follows a script's heap.
 *
 * This runs in its own process (DESIGN decision 6), on its main thread,
 * with SDL's signal handlers off.  It maps the script's arena read-only
 * and, every frame:
 *   1. reads new events from the shared ring into its own copy of the
 *      history (asking the script for any it missed: the ring is finite) —
 *      while the script runs flat out, only once it pauses or the ring is
 *      half full, so that following never competes with it;
 *   2. if the heap changed (hv_heap_version), copies it under the seqlock —
 *      the heap itself is the truth, so a viewer that fell behind
 *      resynchronizes from it, never from a guess; a busy heap is pictured
 *      at a rate that keeps this under 1/20 of a CPU;
 *   3. lays out and draws the state straight into the window's pixels.
 * Going back in time replays the history on a private heap from the
 * nearest checkpoint (replay.c).  Nothing here waits for the script, and
 * the script waits for the viewer only in step mode, by its own request.
 *
 * With opts.slides the window shows a list of states instead (an OSTEP
 * run: play_ostep), stepped with the same keys.
 */
#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layout.h"
#include "render.h"
#include "window.h"

enum { ANIM_MS = 150, SLOW_OP_MS = 250, BLINK_MS = 3000, CHUNK = 65536,
       BUSY_SNAPSHOT_MS = 100, FRAME_MS = 16, REPLAY_OPS = 16384,
       BUSY_SHARE = 20 /* busy pictures cost <= 1/20 of a CPU */ };

typedef struct viewer {
    hv_window_opts_t o;
    hv_heap_t *live;
    hv_ctl_t *ctl;
    SDL_Window *win;
    SDL_Surface *canvas; /* when the window's pixels are not ours      */
    bool want_shot;      /* save the next frame drawn as a PNG         */
    hv_font_t *font;
    hv_viz_state_t state;
    hv_viz_scene_t scene;
    hv_viz_opts_t vo;
    hv_event_t *ev; /* our copy of the history: seq [0, nev)           */
    uint64_t nev, cap_ev;
    bool asked;     /* a request for missed events is out              */
    bool broken;    /* events were lost for good: no replay past here  */
    hv_viz_track_t *track;
    hv_viz_replay_t *replay;
    uint64_t version, seen_nev, applied_nev;
    uint64_t snap_ms; /* when the last snapshot was taken              */
    uint64_t ver_seen, ver_ms;  /* heap version and when it last moved  */
    uint64_t busy_cost_us;      /* CPU of the last picture of a busy heap */
    bool busy_picture;          /* the frame being made is one of those  */
    uint64_t head_seen, head_ms; /* ring head and when it last moved    */
    bool follow;     /* show the live heap (else the replay at pos)     */
    uint64_t pos, shown_pos;
    bool playing;
    double speed, play_acc;
    bool step_mode, waiting;
    bool replaying;   /* on the way to pos, a piece per frame            */
    bool lagging;     /* events left in the ring while the script runs   */
    int pending_next; /* "next" presses not yet given to the script      */
    bool script_gone;
    char notice[160];
    hv_viz_var_t vars[HV_VIZ_MAX_VARS];
    int nvars;
    uint64_t last_op_ms, anim_start, error_ms, errors_seen, notice_ms;
    hv_viz_state_t anim; /* just the anim fields are used              */
    bool dirty, drag_timeline, quit;
    int shots;
} viewer_t;

void hv_window_opts_default(hv_window_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->ctl_fd = -1;
    o->width = 1280;
    o->height = 800;
    o->zoom = 1.0;
    snprintf(o->screenshot_dir, sizeof o->screenshot_dir, ".");
}

static void set_notice(viewer_t *v, const char *msg)
{
    snprintf(v->notice, sizeof v->notice, "%.150s", msg);
    v->notice_ms = SDL_GetTicks64();
    v->dirty = true;
}

/* ---- the history ------------------------------------------------------------ */
/* Our copy of the history grows by millions of events a second while a
 * script runs flat out: a buffer doubled by realloc (glibc moves a large
 * block with mremap, not by copying).  Only csrc/core/os.c maps memory. */
static void store_init(viewer_t *v)
{
    v->ev = NULL;
    v->cap_ev = 0;
}

static void store_free(viewer_t *v)
{
    free(v->ev);
    v->ev = NULL;
}

static bool store_event(viewer_t *v, const hv_event_t *e)
{
    if (v->nev == v->cap_ev) {
        uint64_t ncap = v->cap_ev ? v->cap_ev * 2 : CHUNK;
        hv_event_t *n = realloc(v->ev, ncap * sizeof *n);
        if (n == NULL) return false;
        v->ev = n;
        v->cap_ev = ncap;
    }
    v->ev[v->nev++] = *e;
    hv_viz_track_event(v->track, v->live, e);
    if (e->kind == HV_EV_ERROR) v->error_ms = SDL_GetTicks64();
    return true;
}

static bool store_get(void *arg, uint64_t seq, hv_event_t *out)
{
    viewer_t *v = arg;
    if (seq >= v->nev) return false;
    *out = v->ev[seq];
    return true;
}

static void events_src(viewer_t *v, hv_viz_events_t *src)
{
    src->get = store_get;
    src->arg = v;
    src->first = 0;
    src->count = v->nev;
    src->sites = v->live;
}

/* The script is gone and the ring has moved on: those events are lost.
 * Fill the hole with empty records so seq numbers stay indexes. */
static void give_up_gap(viewer_t *v, uint64_t oldest)
{
    hv_event_t hole = {0};
    hole.op = v->nev ? v->ev[v->nev - 1].op : 0;
    while (v->nev < oldest) {
        hole.seq = v->nev;
        if (!store_event(v, &hole)) break;
    }
    v->broken = true;
    set_notice(v, "some history was lost: the viewer fell behind");
}

static void follow_ring(viewer_t *v)
{
    uint64_t head = hv_ring_head(v->live), cap = hv_ring_capacity(v->live);
    uint64_t oldest = head > cap ? head - cap : 0;
    uint64_t now = SDL_GetTicks64();
    bool moving = head != v->head_seen;
    if (moving) v->head_seen = head, v->head_ms = now;
    if (v->nev < oldest) { /* we fell behind the ring */
        if (hv_ctl_alive(v->ctl)) {
            /* Ask for the missed history only once the script pauses: the
             * reply costs the script time, and the live picture comes from
             * the heap itself anyway. */
            if (!v->asked && now - v->head_ms >= 200) {
                uint64_t req[2] = {v->nev, CHUNK};
                v->asked = hv_ctl_send(v->ctl, 'H', req, sizeof req);
            }
            return; /* the live picture still shows; history comes later */
        }
        give_up_gap(v, oldest);
    }
    /* While the script runs flat out, copying its events as they come
     * competes with it for a CPU (and for the cache line of the ring's
     * head): the ring holds them, so take them when it pauses (the head
     * stood still for a frame), or when the ring is half full.  Meanwhile
     * the picture comes from the heap and the log from the ring's newest
     * events (live_state). */
    if (moving && head - v->nev < cap / 2 && !v->waiting) {
        v->lagging = head > v->nev;
        return;
    }
    v->lagging = false;
    /* Only the newest events make log lines: formatting every one of a
     * burst would cost more than the script spends making them. */
    uint64_t loud = head > HV_VIZ_LOG_LINES * 4 ? head - HV_VIZ_LOG_LINES * 4 : 0;
    hv_event_t e;
    while (v->nev < head && hv_ring_get(v->live, v->nev, &e)) {
        hv_viz_track_quiet(v->track, v->nev < loud);
        if (!store_event(v, &e)) break;
    }
    hv_viz_track_quiet(v->track, false);
}

/* ---- messages from the script --------------------------------------------- */
static void on_vars(viewer_t *v, const char *d, size_t len)
{
    v->nvars = 0;
    const char *end = d + len;
    while (d < end && v->nvars < HV_VIZ_MAX_VARS) {
        const char *nl = memchr(d, '\n', (size_t)(end - d));
        const char *tab = memchr(d, '\t', (size_t)((nl ? nl : end) - d));
        if (tab == NULL) break;
        hv_viz_var_t *var = &v->vars[v->nvars++];
        snprintf(var->name, sizeof var->name, "%.*s", (int)(tab - d), d);
        var->addr = strtoull(tab + 1, NULL, 16);
        d = nl ? nl + 1 : end;
    }
    v->dirty = true;
}

static void on_events(viewer_t *v, const char *d, size_t len)
{
    uint64_t first;
    if (len < 8) return;
    memcpy(&first, d, 8);
    size_t n = (len - 8) / sizeof(hv_event_t);
    v->asked = false;
    if (first != v->nev) return; /* stale reply */
    if (n == 0) { /* the script no longer has them */
        uint64_t head = hv_ring_head(v->live), cap = hv_ring_capacity(v->live);
        give_up_gap(v, head > cap ? head - cap : 0);
        return;
    }
    uint64_t head = hv_ring_head(v->live);
    uint64_t loud = head > HV_VIZ_LOG_LINES * 4 ? head - HV_VIZ_LOG_LINES * 4 : 0;
    for (size_t i = 0; i < n; i++) {
        hv_event_t e;
        memcpy(&e, d + 8 + i * sizeof e, sizeof e);
        hv_viz_track_quiet(v->track, v->nev < loud);
        if (!store_event(v, &e)) break;
    }
    hv_viz_track_quiet(v->track, false);
}

static void on_message(void *arg, int type, const char *d, size_t len)
{
    viewer_t *v = arg;
    switch (type) {
    case 'V':
        on_vars(v, d, len);
        break;
    case 'W':
        v->step_mode = true;
        v->dirty = true;
        if (v->pending_next > 0) { /* pressed while the op was running */
            v->pending_next--;
            hv_ctl_send(v->ctl, 'A', "", 0);
        } else {
            v->waiting = true;
        }
        break;
    case 'E':
        on_events(v, d, len);
        break;
    case 'X': {
        char msg[160];
        snprintf(msg, sizeof msg, "%.*s", (int)(len < 150 ? len : 150), d);
        v->script_gone = true;
        v->waiting = false;
        set_notice(v, msg);
        break;
    }
    default:
        break;
    }
}

static void poll_script(viewer_t *v)
{
    bool was = hv_ctl_alive(v->ctl);
    if (!hv_ctl_poll(v->ctl, on_message, v) && was && !v->script_gone) {
        v->script_gone = true;
        v->waiting = false;
        set_notice(v, "script ended");
    }
}

/* ---- the state on screen ---------------------------------------------------- */
static uint64_t ops_total(const viewer_t *v)
{
    if (v->o.slides) return v->o.nslides ? v->o.nslides - 1 : 0;
    return hv_viz_track_ops(v->track);
}

/* Slides (a list of states, e.g. an OSTEP run): the one at pos. */
static void slide_state(viewer_t *v)
{
    if (v->pos == v->shown_pos && v->state.nblocks && !v->dirty) return;
    if (v->pos >= v->o.nslides) v->pos = v->o.nslides ? v->o.nslides - 1 : 0;
    if (v->o.nslides) hv_viz_state_copy(&v->state, &v->o.slides[v->pos]);
    v->shown_pos = v->pos;
    v->dirty = true;
}

static void pick_anim(viewer_t *v, uint64_t now)
{
    /* Animate the newest op if the script is slow enough to see it. */
    uint64_t ops = ops_total(v);
    if (ops == 0 || ops == v->seen_nev) return;
    bool slow = now - v->last_op_ms > SLOW_OP_MS || v->step_mode;
    v->seen_nev = ops;
    v->last_op_ms = now;
    v->anim.anim_kind = 0;
    if (!slow || v->nev == 0) return;
    uint64_t last = v->ev[v->nev - 1].op, q = v->nev;
    int best = 0;
    while (q > 0 && v->ev[q - 1].op == last) {
        const hv_event_t *e = &v->ev[--q];
        int rank = e->kind == HV_EV_GROW       ? 5
                   : e->kind == HV_EV_COALESCE ? 4
                   : (e->kind == HV_EV_MALLOC || e->kind == HV_EV_CALLOC ||
                      e->kind == HV_EV_REALLOC)
                       ? 3
                   : e->kind == HV_EV_FREE  ? 2
                   : e->kind == HV_EV_SPLIT ? 1
                                            : 0;
        if (rank > best) {
            best = rank;
            v->anim.anim_kind = e->kind;
            v->anim.anim_addr = e->kind == HV_EV_FREE ? e->a : e->addr;
            v->anim.anim_addr2 = e->a;
            v->anim.anim_size = e->size;
        }
    }
    if (best) v->anim_start = now;
}

/* CPU time of this thread in microseconds (what a frame costs us, however
 * loaded the machine is). */
static uint64_t cpu_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* While lagging: the log panel from the ring's newest events, and the op
 * count from the newest event's op (the tracker has not seen them yet). */
static void ring_tail(viewer_t *v, hv_viz_state_t *s)
{
    uint64_t head = hv_ring_head(v->live);
    char lines[HV_VIZ_LOG_LINES][160];
    int n = 0;
    hv_event_t e, last = {0};
    bool have_last = false;
    for (uint64_t q = head; q > v->nev && q + 64 > head && n < HV_VIZ_LOG_LINES;) {
        if (!hv_ring_get(v->live, --q, &e)) break;
        if (!have_last) last = e, have_last = true;
        if (hv_viz_event_logged(&e))
            hv_viz_event_line(v->live, &e, lines[n++], sizeof lines[0]);
    }
    if (n == 0) return;
    s->nlog = 0;
    while (n > 0) hv_viz_state_add_log(s, lines[--n]);
    if (have_last && v->nev > 0 && last.op > v->ev[v->nev - 1].op)
        s->op = s->ops_total = ops_total(v) + (last.op - v->ev[v->nev - 1].op);
}

static void live_state(viewer_t *v)
{
    uint64_t ver = hv_heap_version(v->live), now = SDL_GetTicks64();
    if (ver != v->ver_seen) v->ver_seen = ver, v->ver_ms = now;
    if (ver == v->version && v->nev == v->applied_nev && v->state.nblocks)
        return; /* nothing new */
    if (ver != v->version || v->state.nblocks == 0) {
        /* While the script runs flat out the eye cannot follow anyway:
         * take a picture now and then, so that following costs at most
         * BUSY_SHARE of a CPU (the last picture's own CPU time decides how
         * rarely), and leave the CPU and the memory bus to the script.
         * When it pauses (no change for a frame): at once. */
        bool busy = now - v->ver_ms < FRAME_MS + 4;
        uint64_t every = v->busy_cost_us * BUSY_SHARE / 1000;
        if (every < BUSY_SNAPSHOT_MS) every = BUSY_SNAPSHOT_MS;
        if (every > 1000) every = 1000;
        if (busy && v->state.nblocks && now - v->snap_ms < every) return;
        v->snap_ms = now;
        v->busy_picture = busy;
        if (!hv_viz_state_snapshot(&v->state, v->live, busy ? 1 : 2)) return;
        v->version = ver;
    }
    for (size_t i = 0; i < v->state.nblocks; i++) v->state.marks[i] = 0;
    hv_viz_track_apply(v->track, &v->state);
    v->applied_nev = v->nev;
    v->state.ops_total = v->state.op = ops_total(v);
    if (v->lagging) ring_tail(v, &v->state);
    v->dirty = true;
}

/* A past moment, rebuilt from the nearest checkpoint.  The first trip
 * through a long history (which makes the checkpoints) is cut into pieces
 * of REPLAY_OPS a frame, so the window keeps answering meanwhile. */
static void replay_state(viewer_t *v)
{
    if (v->pos == v->shown_pos && !v->dirty && !v->replaying) return;
    hv_viz_events_t src;
    events_src(v, &src);
    if (!hv_viz_replay_goto_some(v->replay, &src, v->pos, REPLAY_OPS)) {
        const char *err = hv_viz_replay_error(v->replay);
        if (err[0]) {
            set_notice(v, err);
            v->follow = true;
            v->replaying = false;
            return;
        }
        char msg[80];
        uint64_t at = hv_viz_replay_pos(v->replay);
        snprintf(msg, sizeof msg, "replaying: op %llu of %llu", (unsigned long long)at,
                 (unsigned long long)v->pos);
        set_notice(v, msg);
        v->replaying = true;
        return;
    }
    if (v->replaying) v->notice[0] = '\0';
    v->replaying = false;
    hv_viz_replay_state(v->replay, &src, &v->state);
    hv_viz_replay_anim(v->replay, &src, &v->anim);
    v->anim_start = SDL_GetTicks64();
    v->state.ops_total = ops_total(v);
    v->shown_pos = v->pos;
    v->dirty = true;
}

static void selection_sites(viewer_t *v)
{
    v->state.sel_alloc[0] = v->state.sel_free[0] = '\0';
    long k = v->vo.selected ? hv_viz_state_find(&v->state, v->vo.selected) : -1;
    if (k < 0) return;
    const hv_block_t *b = &v->state.blocks[k];
    const char *file, *func;
    uint32_t line;
    if (v->live == NULL) return;
    if (b->site && hv_site_get(v->live, b->site, &file, &line, &func))
        snprintf(v->state.sel_alloc, sizeof v->state.sel_alloc, "%s:%u", file, line);
    if (b->free_site && hv_site_get(v->live, b->free_site, &file, &line, &func))
        snprintf(v->state.sel_free, sizeof v->state.sel_free, "%s:%u", file, line);
}

static void decorate(viewer_t *v, uint64_t now)
{
    hv_viz_state_t *s = &v->state;
    s->live = v->follow;
    if (v->o.slides) { /* the slide's own notice and variables */
        s->playing = v->playing;
        s->speed = v->speed;
        if (v->notice[0]) snprintf(s->notice, sizeof s->notice, "%s", v->notice);
        float t = (float)(now - v->anim_start) / ANIM_MS;
        s->anim_kind = 0;
        s->anim_t = t;
        v->vo.blink = false;
        return;
    }
    s->playing = v->follow ? !v->waiting : v->playing;
    s->stepping = v->step_mode;
    s->speed = v->speed;
    snprintf(s->notice, sizeof s->notice, "%s", v->notice);
    if (v->waiting && !v->notice[0])
        snprintf(s->notice, sizeof s->notice, "paused: n runs the next operation");
    /* The script's variables are today's: a past moment shows none. */
    s->nvars = v->follow ? v->nvars : 0;
    memcpy(s->vars, v->vars, sizeof v->vars);
    float t = (float)(now - v->anim_start) / ANIM_MS;
    s->anim_kind = t < 1.f ? v->anim.anim_kind : 0;
    s->anim_addr = v->anim.anim_addr;
    s->anim_addr2 = v->anim.anim_addr2;
    s->anim_size = v->anim.anim_size;
    s->anim_t = t;
    v->vo.blink = v->error_ms && now - v->error_ms < BLINK_MS && (now / 400) % 2;
    selection_sites(v);
}

/* ---- drawing ----------------------------------------------------------------- */
static void save_shot(viewer_t *v, SDL_Surface *pixels)
{
    uint8_t *png;
    size_t len;
    char err[256], path[512];
    if (!hv_png_encode(pixels, &png, &len, err, sizeof err)) {
        set_notice(v, err);
        return;
    }
    snprintf(path, sizeof path, "%s/heapviz-op%llu-%d.png", v->o.screenshot_dir,
             (unsigned long long)v->state.op, ++v->shots);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(png, 1, len, f) == len;
    if (f) ok = fclose(f) == 0 && ok;
    SDL_free(png);
    char msg[160];
    snprintf(msg, sizeof msg, ok ? "saved %.140s" : "could not save %.130s", path);
    set_notice(v, msg);
}

/* Our pixels are 0xFFRRGGBB words: a window surface of that layout
 * (XRGB8888 under X11, ARGB8888) is drawn into directly; any other goes
 * through a canvas and a converting blit. */
static bool direct_format(const SDL_Surface *s)
{
    return s->format->format == SDL_PIXELFORMAT_RGB888 ||
           s->format->format == SDL_PIXELFORMAT_ARGB8888;
}

static int present(viewer_t *v)
{
    SDL_Surface *ws = SDL_GetWindowSurface(v->win);
    if (ws == NULL) {
        SDL_Log("heapviz: the window surface: %s", SDL_GetError());
        return -1;
    }
    int w = ws->w, h = ws->h;
    bool direct = direct_format(ws);
    if (!direct && (v->canvas == NULL || v->canvas->w != w || v->canvas->h != h)) {
        char err[256];
        SDL_FreeSurface(v->canvas);
        v->canvas = hv_surface_new(w, h, err, sizeof err);
        if (v->canvas == NULL) {
            SDL_Log("%s", err);
            return -1;
        }
        SDL_SetSurfaceBlendMode(v->canvas, SDL_BLENDMODE_NONE);
    }
    v->vo.width = w;
    v->vo.height = h;
    if (!hv_viz_layout(&v->state, &v->vo, &v->scene)) return -1;
    int max_scroll = v->scene.content_h - (v->scene.heap_clip_y1 - v->scene.heap_clip_y0) + HV_ROW_H;
    if (v->vo.scroll > max_scroll) v->vo.scroll = max_scroll > 0 ? max_scroll : 0;
    SDL_Surface *dst = direct ? ws : v->canvas;
    if (SDL_MUSTLOCK(dst) && SDL_LockSurface(dst) != 0) return -1;
    hv_viz_draw(&v->scene, v->font, dst);
    if (SDL_MUSTLOCK(dst)) SDL_UnlockSurface(dst);
    if ((!direct && SDL_BlitSurface(v->canvas, NULL, ws, NULL) != 0) ||
        SDL_UpdateWindowSurface(v->win) != 0) {
        SDL_Log("heapviz: presenting the frame: %s", SDL_GetError());
        return -1;
    }
    if (v->want_shot) {
        v->want_shot = false;
        save_shot(v, dst);
    }
    return 0;
}

/* ---- input --------------------------------------------------------------------- */
static void go_to(viewer_t *v, int64_t op)
{
    int64_t ops = (int64_t)ops_total(v);
    if (op < 0) op = 0;
    if (v->o.slides) { /* no live end: the last slide is a slide */
        v->follow = false;
        if (op >= ops) op = ops, v->playing = false;
        v->pos = (uint64_t)op;
        v->dirty = true;
        return;
    }
    if (op >= ops) {
        v->follow = true;
        v->playing = false;
    } else {
        v->follow = false;
        v->pos = (uint64_t)op;
    }
    v->dirty = true;
}

/* In step mode every press is one operation: a press that comes while the
 * script is still running the operation the last one released (before it
 * says it waits again) is kept for then, not lost. */
static void next_op(viewer_t *v)
{
    if (!v->follow) {
        go_to(v, (int64_t)v->pos + 1);
    } else if (v->waiting) {
        v->waiting = false;
        hv_ctl_send(v->ctl, 'A', "", 0);
    } else if (v->step_mode && hv_ctl_alive(v->ctl) && v->pending_next < 1000) {
        v->pending_next++;
    }
}

static void toggle_step(viewer_t *v)
{
    if (v->o.slides) return; /* nobody to pause */
    v->step_mode = !v->step_mode;
    v->pending_next = 0;
    hv_ctl_send(v->ctl, 'S', v->step_mode ? "1" : "0", 1);
    if (!v->step_mode && v->waiting) next_op(v);
    v->dirty = true;
}

static void on_key(viewer_t *v, SDL_Keycode k)
{
    int64_t at = v->follow ? (int64_t)ops_total(v) : (int64_t)v->pos;
    int page = v->scene.heap_clip_y1 - v->scene.heap_clip_y0 - HV_ROW_H;
    v->notice[0] = '\0';
    switch (k) {
    case SDLK_q: case SDLK_ESCAPE: v->quit = true; break;
    case SDLK_SLASH: case SDLK_QUESTION: case SDLK_h: v->vo.help = !v->vo.help; break;
    case SDLK_SPACE:
        if (v->follow || (v->o.slides && at >= (int64_t)ops_total(v))) go_to(v, 0);
        v->playing = !v->playing;
        break;
    case SDLK_n: case SDLK_RETURN: case SDLK_RIGHT: next_op(v); break;
    case SDLK_LEFT: case SDLK_b: case SDLK_BACKSPACE: go_to(v, at - 1); break;
    case SDLK_HOME: go_to(v, 0); break;
    case SDLK_END: go_to(v, INT64_MAX / 2); break;
    case SDLK_s: toggle_step(v); break;
    case SDLK_LEFTBRACKET: v->speed = v->speed > 0.25 ? v->speed / 2 : 0.25; break;
    case SDLK_RIGHTBRACKET: v->speed = v->speed < 256 ? v->speed * 2 : 256; break;
    case SDLK_PLUS: case SDLK_EQUALS: case SDLK_KP_PLUS: v->vo.zoom *= 1.5; break;
    case SDLK_MINUS: case SDLK_KP_MINUS: v->vo.zoom /= 1.5; break;
    case SDLK_0: v->vo.zoom = 1.0, v->vo.scroll = 0; break;
    case SDLK_UP: v->vo.scroll -= HV_ROW_H; break;
    case SDLK_DOWN: v->vo.scroll += HV_ROW_H; break;
    case SDLK_PAGEUP: v->vo.scroll -= page; break;
    case SDLK_PAGEDOWN: v->vo.scroll += page; break;
    case SDLK_p: v->want_shot = true; break;
    default: return;
    }
    if (v->vo.zoom < 0.01) v->vo.zoom = 0.01;
    if (v->vo.zoom > 200) v->vo.zoom = 200;
    if (v->vo.scroll < 0) v->vo.scroll = 0;
    v->dirty = true;
}

static bool on_timeline(const viewer_t *v, int y)
{
    return y >= v->vo.height - HV_TIMELINE_H;
}

static void scrub(viewer_t *v, int x)
{
    double f = (double)(x - HV_PAD) / (double)(v->vo.width - 2 * HV_PAD);
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    go_to(v, (int64_t)(f * (double)ops_total(v) + 0.5));
}

static void on_event(viewer_t *v, const SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT: v->quit = true; break;
    case SDL_KEYDOWN: on_key(v, e->key.keysym.sym); break;
    case SDL_TEXTINPUT:
        if (e->text.text[0] == '?') v->vo.help = !v->vo.help, v->dirty = true;
        break;
    case SDL_MOUSEWHEEL:
        v->vo.scroll -= e->wheel.y * HV_ROW_H;
        if (v->vo.scroll < 0) v->vo.scroll = 0;
        v->dirty = true;
        break;
    case SDL_MOUSEBUTTONDOWN:
        if (on_timeline(v, e->button.y)) {
            v->drag_timeline = true;
            scrub(v, e->button.x);
        } else {
            hv_addr_t a = hv_viz_hit(&v->scene, e->button.x, e->button.y);
            v->vo.selected = a == v->vo.selected ? 0 : a;
            v->dirty = true;
        }
        break;
    case SDL_MOUSEMOTION:
        if (v->drag_timeline) scrub(v, e->motion.x);
        break;
    case SDL_MOUSEBUTTONUP: v->drag_timeline = false; break;
    case SDL_WINDOWEVENT: v->dirty = true; break;
    default: break;
    }
}

/* ---- set-up and the loop --------------------------------------------------------- */
static int setup(viewer_t *v, char *err, size_t errlen)
{
    if (v->o.slides == NULL) {
        hv_err_t e = hv_heap_attach(v->o.fd, &v->live);
        if (e != HV_OK) {
            snprintf(err, errlen, "heapviz viewer: cannot map the heap (fd %d): %s",
                     v->o.fd, hv_strerror(e));
            return -1;
        }
        v->replay = hv_viz_replay_new(hv_heap_config(v->live), &e);
        if (v->replay == NULL) {
            snprintf(err, errlen, "heapviz viewer: the replay heap: %s", hv_strerror(e));
            return -1;
        }
    }
    v->track = hv_viz_track_new();
    v->ctl = hv_ctl_new(v->o.ctl_fd);
    v->font = hv_font_open(err, errlen);
    if (v->track == NULL || v->ctl == NULL || v->font == NULL) {
        if (!err[0]) snprintf(err, errlen, "heapviz viewer: out of memory");
        return -1;
    }
    /* SDL must not take SIGINT/SIGTERM from us: the script's terminal
     * owns them, and our death must not look like the script's. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
    /* We draw every pixel ourselves: the plain window framebuffer (XShm on
     * X11) is all we need.  Without this SDL may back the surface with an
     * OpenGL texture, recreating the window on first use. */
    SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        snprintf(err, errlen, "heapviz viewer: SDL_Init: %s", SDL_GetError());
        return -1;
    }
    v->win = SDL_CreateWindow("heapviz", SDL_WINDOWPOS_UNDEFINED,
                              SDL_WINDOWPOS_UNDEFINED, v->o.width, v->o.height,
                              SDL_WINDOW_RESIZABLE);
    if (v->win == NULL) {
        snprintf(err, errlen, "heapviz viewer: SDL_CreateWindow: %s", SDL_GetError());
        return -1;
    }
    if (SDL_GetWindowSurface(v->win) == NULL) {
        snprintf(err, errlen, "heapviz viewer: SDL_GetWindowSurface: %s", SDL_GetError());
        return -1;
    }
    SDL_StartTextInput();
    return 0;
}

static void teardown(viewer_t *v)
{
    if (v->ctl) hv_ctl_send(v->ctl, 'Q', "", 0);
    SDL_FreeSurface(v->canvas);
    if (v->win) SDL_DestroyWindow(v->win);
    if (SDL_WasInit(SDL_INIT_VIDEO)) SDL_Quit();
    hv_font_close(v->font);
    hv_ctl_free(v->ctl);
    hv_viz_replay_free(v->replay);
    hv_viz_track_free(v->track);
    hv_viz_scene_free(&v->scene);
    hv_viz_state_free(&v->state);
    store_free(v);
    if (v->live) hv_heap_destroy(v->live);
}

static void advance_playback(viewer_t *v, uint64_t dt_ms)
{
    if (!v->playing || v->follow) return;
    /* 4 ops/s at 1×; slides (each a whole step to read): 1 a second */
    double rate = v->o.slides ? 1.0 : 4.0;
    v->play_acc += (double)dt_ms / 1000.0 * rate * v->speed;
    if (v->play_acc >= 1.0) {
        go_to(v, (int64_t)v->pos + (int64_t)v->play_acc);
        v->play_acc -= (double)(int64_t)v->play_acc;
    }
}

static bool animating(const viewer_t *v, uint64_t now)
{
    return (v->anim.anim_kind && now - v->anim_start < ANIM_MS + 20) ||
           (v->error_ms && now - v->error_ms < BLINK_MS + 500);
}

/* One frame: input, script, history, state; draw only when needed. */
static int frame(viewer_t *v, uint64_t *last)
{
    uint64_t now = SDL_GetTicks64(), cpu0 = cpu_us();
    SDL_Event e;
    while (SDL_PollEvent(&e)) on_event(v, &e);
    if (v->o.slides == NULL) {
        poll_script(v);
        follow_ring(v);
    }
    advance_playback(v, now - *last);
    *last = now;
    if (v->o.slides) {
        slide_state(v);
    } else if (v->follow) {
        live_state(v);
        pick_anim(v, now);
    } else {
        replay_state(v);
    }
    if (v->notice[0] && now - v->notice_ms > 4000 && !v->script_gone)
        v->notice[0] = '\0', v->dirty = true;
    if (!v->dirty && !animating(v, now) && v->o.frames == 0) return 0;
    decorate(v, now);
    v->dirty = false;
    int rc = present(v);
    if (v->busy_picture) v->busy_cost_us = cpu_us() - cpu0;
    v->busy_picture = false;
    return rc;
}

int hv_window_run(const hv_window_opts_t *o, char *err, size_t errlen)
{
    viewer_t *v = calloc(1, sizeof *v);
    if (v == NULL) {
        snprintf(err, errlen, "heapviz viewer: out of memory");
        return -1;
    }
    int rc = 0;
    err[0] = '\0';
    v->o = *o;
    v->follow = o->slides == NULL;
    v->speed = 1.0;
    v->step_mode = o->step;
    v->error_ms = 0;
    hv_viz_state_init(&v->state);
    store_init(v);
    hv_viz_state_init(&v->anim);
    hv_viz_scene_init(&v->scene);
    hv_viz_opts_default(&v->vo);
    v->vo.chrome = true;
    if (o->zoom > 0.01 && o->zoom <= 200) v->vo.zoom = o->zoom;
    if (setup(v, err, errlen) < 0) {
        rc = -1;
    } else {
        hv_ctl_send(v->ctl, 'R', "", 0);
        uint64_t last = SDL_GetTicks64(), t0 = last, c0 = cpu_us();
        int n = 0;
        while (!v->quit && rc == 0) {
            v->dirty |= o->frames > 0;
            rc = frame(v, &last);
            if (o->frames > 0 && ++n >= o->frames) break;
            if (o->frames == 0) { /* 60 frames a second at most */
                uint64_t spent = SDL_GetTicks64() - last;
                SDL_Delay(spent < FRAME_MS ? (Uint32)(FRAME_MS - spent) : 1);
            }
        }
        if (o->frames > 0)
            fprintf(stderr, "frames %d seconds %.4f cpu %.4f\n", n,
                    (double)(SDL_GetTicks64() - t0) / 1000.0,
                    (double)(cpu_us() - c0) / 1e6);
    }
    teardown(v);
    free(v);
    return rc;
}

/* viz.h — heapviz's renderer: heap state -> scene -> pixels.
 *
 * One pipeline serves every output (DESIGN decision 7):
 *
 *   hv_viz_state_t  what is in the heap at one moment: blocks, free lists,
 *        |          stats, frames, variables, recent events, the error
 *        |          (filled from a live heap, an attached one, or a replay)
 *        v
 *   hv_viz_layout   where each thing goes and in which colour
 *        |
 *        v
 *   hv_viz_scene_t  a flat list of rects, hatches, lines, arrows and texts
 *        |
 *        +--> hv_viz_draw        pixels in an SDL software surface (window,
 *        |                       PNG, GIF/APNG frames)
 *        +--> Python (py_viz.c)  dicts for the notebook's SVG/HTML views
 *
 * Nothing here needs Python; the viewer process and the extension module
 * are both clients of it.
 */
#ifndef HEAPVIZ_VIZ_H
#define HEAPVIZ_VIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heapviz/heapviz.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * The legend: one palette (Okabe–Ito) for every output.
 * ---------------------------------------------------------------------- */
typedef enum hv_viz_role {
    HV_ROLE_BACKGROUND = 0,
    HV_ROLE_PANEL,      /* panel backgrounds                                */
    HV_ROLE_TEXT,       /* ordinary text                                    */
    HV_ROLE_MUTED,      /* secondary text, rules                            */
    HV_ROLE_PAYLOAD,    /* allocated payload (requested bytes)              */
    HV_ROLE_META,       /* header / footer                                  */
    HV_ROLE_PADDING,    /* alignment padding, unused tail of a block        */
    HV_ROLE_UNINIT,     /* hatch over never-written payload bytes           */
    HV_ROLE_FREE,       /* free block                                       */
    HV_ROLE_JUST_FREED, /* freed in the last few operations                 */
    HV_ROLE_LEAKED,     /* no pointer left to it                            */
    HV_ROLE_CORRUPT,    /* metadata the checker found damaged               */
    HV_ROLE_ERROR,      /* the block an error is about, faulting bytes      */
    HV_ROLE_LINK,       /* free-list arrows                                 */
    HV_ROLE_MMAP,       /* mmapped chunks and raw mappings                  */
    HV_ROLE_STACK,      /* stack frames                                     */
    HV_ROLE_RESERVE,    /* reserved but beyond the break                    */
    HV_ROLE_SBRK,       /* raw bytes obtained with sbrk                     */
    HV_ROLE_VAR,        /* variable arrows                                  */
    HV_ROLE_ROVER,      /* next fit's roving pointer                        */
    HV_ROLE_SELECT,     /* the selected / hovered block                     */
    HV_ROLE_TIMELINE,   /* timeline track and cursor                        */
    HV_ROLE_COUNT
} hv_viz_role_t;

/* 0xRRGGBB of a role, its name ("payload") and a one-line description. */
uint32_t hv_viz_role_color(hv_viz_role_t role);
const char *hv_viz_role_name(hv_viz_role_t role);
const char *hv_viz_role_label(hv_viz_role_t role);

/* ------------------------------------------------------------------------
 * The state: what to draw.  Owned arrays, reset and refilled in place so a
 * live viewer allocates nothing per frame once warmed up.
 * ---------------------------------------------------------------------- */
enum {
    HV_MARK_JUST_FREED = 1u << 0,
    HV_MARK_LEAKED = 1u << 1,
    HV_MARK_CORRUPT = 1u << 2,
    HV_MARK_ERROR = 1u << 3, /* the block the current error is about   */
    HV_MARK_NEW = 1u << 4,   /* allocated by the last operation         */
};

typedef struct hv_viz_run { /* a byte range of a block: uninit bytes     */
    hv_addr_t addr;
    uint64_t len;
} hv_viz_run_t;

typedef struct hv_viz_frame {
    char name[32];
    hv_addr_t lo, hi;
} hv_viz_frame_t;

typedef struct hv_viz_var {
    char name[32];
    hv_addr_t addr;
} hv_viz_var_t;

#define HV_VIZ_LOG_LINES  8
#define HV_VIZ_MAX_FRAMES 32
#define HV_VIZ_MAX_VARS   32

typedef struct hv_viz_state {
    hv_config_t cfg;
    hv_layout_t layout;
    hv_stats_t stats;
    hv_addr_t brk;
    hv_addr_t rover;

    hv_block_t *blocks; /* address order: heap, mmapped, stack            */
    uint8_t *marks;     /* HV_MARK_* per block                            */
    size_t nblocks, cap_blocks;

    hv_viz_run_t *uninit; /* never-written payload bytes, address order   */
    size_t nuninit, cap_uninit;

    int nlists;           /* free lists and their members in list order  */
    uint32_t *list_start; /* nlists + 1 offsets into list_addr            */
    uint64_t *list_lo, *list_hi;
    hv_addr_t *list_addr;
    size_t nlist_addr, cap_lists, cap_list_addr;

    hv_viz_frame_t frames[HV_VIZ_MAX_FRAMES];
    int nframes;
    hv_viz_var_t vars[HV_VIZ_MAX_VARS];
    int nvars;

    char log[HV_VIZ_LOG_LINES][160]; /* oldest first                     */
    int nlog;

    bool has_error; /* the last error, drawn as the banner          */
    uint32_t error_kind;
    hv_addr_t error_addr;
    uint64_t error_size;
    char error_text[1024];

    uint64_t op, ops_total; /* timeline: this op of ops_total              */
    bool playing, stepping, live;
    double speed;
    char notice[160]; /* "script ended", "viewer fell behind", …    */
    int anim_kind;    /* hv_event_kind_t being animated, 0 none     */
    hv_addr_t anim_addr;
    uint64_t anim_size;
    hv_addr_t anim_addr2; /* split: remainder; coalesce: absorbed       */
    float anim_t;         /* 0..1                                        */
    char sel_alloc[96];   /* the selected block's sites, resolved by   */
    char sel_free[96];    /* whoever has the heap ("lesson.py:12")     */
} hv_viz_state_t;

void hv_viz_state_init(hv_viz_state_t *s);
void hv_viz_state_free(hv_viz_state_t *s);
/* Empty the per-moment arrays, keep capacity. */
void hv_viz_state_clear(hv_viz_state_t *s);
/* Back to a fresh state (every field), keeping the arrays' capacity. */
void hv_viz_state_reset(hv_viz_state_t *s);
/* dst becomes a copy of src (its own arrays); false when out of memory
 * (dst is then empty). */
bool hv_viz_state_copy(hv_viz_state_t *dst, const hv_viz_state_t *src);
/* Append; false when out of memory. */
bool hv_viz_state_add_block(hv_viz_state_t *s, const hv_block_t *b,
                            uint8_t marks);
bool hv_viz_state_add_uninit(hv_viz_state_t *s, hv_addr_t a, uint64_t len);
/* Start a new free list with size range [lo, hi], then add its members. */
bool hv_viz_state_add_list(hv_viz_state_t *s, uint64_t lo, uint64_t hi);
bool hv_viz_state_add_list_member(hv_viz_state_t *s, hv_addr_t block);
void hv_viz_state_add_var(hv_viz_state_t *s, const char *name, hv_addr_t a);
void hv_viz_state_add_log(hv_viz_state_t *s, const char *line);
/* Index of the block containing a, or -1 (binary search). */
long hv_viz_state_find(const hv_viz_state_t *s, hv_addr_t a);

/* Fill the heap-derived parts (blocks, lists, stats, frames, uninit runs,
 * corruption) from a heap: live, attached read-only, or a replay heap.
 * For an attached heap in another process use hv_viz_state_snapshot,
 * which retries under the seqlock.  Returns false when out of memory. */
bool hv_viz_state_from_heap(hv_viz_state_t *s, const hv_heap_t *h);
/* Seqlock-consistent copy from a heap another process is changing: tries
 * up to `tries` times; false when the writer never stood still. */
bool hv_viz_state_snapshot(hv_viz_state_t *s, const hv_heap_t *h, int tries);

/* ------------------------------------------------------------------------
 * Event tracking: what recent events say about the picture (log lines,
 * just freed, leaked, the error).  Feed every event in order.
 * ---------------------------------------------------------------------- */
typedef struct hv_viz_track hv_viz_track_t;
hv_viz_track_t *hv_viz_track_new(void);
void hv_viz_track_free(hv_viz_track_t *t);
void hv_viz_track_reset(hv_viz_track_t *t);
/* h resolves sites (may be NULL). */
void hv_viz_track_event(hv_viz_track_t *t, const hv_heap_t *h,
                        const hv_event_t *ev);
/* Marks, log, error and op counter into s (after the blocks are in). */
void hv_viz_track_apply(const hv_viz_track_t *t, hv_viz_state_t *s);
uint64_t hv_viz_track_ops(const hv_viz_track_t *t);
/* Quiet: skip the log lines (fast scan of old history). */
void hv_viz_track_quiet(hv_viz_track_t *t, bool quiet);
/* ---- words.c: the one wording of events, for every output ----------- */
/* One human line for an event: "malloc(24) → 0x10010".  `sites` (the heap
 * that recorded it, may be NULL) gives reports, frame names and notes. */
void hv_viz_event_words(const hv_heap_t *sites, const hv_event_t *ev, char *buf,
                        size_t len);
/* The same without sites. */
void hv_viz_event_text(const hv_event_t *ev, char *buf, size_t len);
/* What one operation (its n events) did, in one line; *site: where it
 * happened (0: unknown).  Returns whether it was a memory error. */
bool hv_viz_op_words(const hv_heap_t *sites, const hv_event_t *evs, size_t n,
                     char *buf, size_t len, uint32_t *site);
/* "buffer overflow" for HV_ERR_OVERFLOW. */
const char *hv_viz_error_name(uint64_t kind);
/* Its line in the event log: op, text and "file:line" (h resolves sites,
 * may be NULL); which events have one. */
void hv_viz_event_line(const hv_heap_t *h, const hv_event_t *ev, char *buf,
                       size_t len);
bool hv_viz_event_logged(const hv_event_t *ev);
/* A copy (for checkpoints; NULL when out of memory) and its size. */
hv_viz_track_t *hv_viz_track_clone(const hv_viz_track_t *t);
size_t hv_viz_track_bytes(const hv_viz_track_t *t);

/* ------------------------------------------------------------------------
 * Replay: a past moment rebuilt by re-running the history's operations on
 * a private heap of the same configuration.  The allocator is
 * deterministic and addresses are base + offset, so the replayed heap is
 * the recorded one, free-list order and rover included.
 * ---------------------------------------------------------------------- */
typedef struct hv_viz_events { /* where a replay reads events from     */
    bool (*get)(void *arg, uint64_t seq, hv_event_t *out);
    void *arg;
    uint64_t first, count;  /* events [first, count) are available      */
    const hv_heap_t *sites; /* resolves site ids (may be NULL)          */
} hv_viz_events_t;

typedef struct hv_viz_replay hv_viz_replay_t;
hv_viz_replay_t *hv_viz_replay_new(const hv_config_t *cfg, hv_err_t *err);
void hv_viz_replay_free(hv_viz_replay_t *r);
/* Index new events (cheap, incremental); returns the number of ops. */
uint64_t hv_viz_replay_index(hv_viz_replay_t *r, const hv_viz_events_t *src);
uint64_t hv_viz_replay_ops(const hv_viz_replay_t *r);
/* Rebuild the state after `op` operations (0: the fresh heap), from the
 * nearest checkpoint before it (or where the replay is, when that is
 * nearer).  False on failure (message in hv_viz_replay_error). */
bool hv_viz_replay_goto(hv_viz_replay_t *r, const hv_viz_events_t *src,
                        uint64_t op);
/* The same, re-running at most `max_ops` operations in this call (0: no
 * limit): true when `op` is reached, false with an empty error when it is
 * not yet (call again: a window stays responsive meanwhile). */
bool hv_viz_replay_goto_some(hv_viz_replay_t *r, const hv_viz_events_t *src,
                             uint64_t op, uint64_t max_ops);
/* Checkpoints: how many, every how many ops, bytes they hold. */
typedef struct hv_viz_replay_info {
    uint64_t checkpoints, every, bytes, ops_rerun;
} hv_viz_replay_info_t;
void hv_viz_replay_info(const hv_viz_replay_t *r, hv_viz_replay_info_t *out);
uint64_t hv_viz_replay_pos(const hv_viz_replay_t *r);
/* Seq of the first event after `op` operations (the end when op = ops). */
uint64_t hv_viz_replay_op_seq(const hv_viz_replay_t *r, uint64_t op);
const hv_heap_t *hv_viz_replay_heap(const hv_viz_replay_t *r);
const char *hv_viz_replay_error(const hv_viz_replay_t *r);
/* The current moment as a state (blocks, marks, log, error, timeline). */
bool hv_viz_replay_state(hv_viz_replay_t *r, const hv_viz_events_t *src,
                         hv_viz_state_t *s);
/* The animation the last op calls for: its most telling event. */
void hv_viz_replay_anim(const hv_viz_replay_t *r, const hv_viz_events_t *src,
                        hv_viz_state_t *s);

/* ------------------------------------------------------------------------
 * The scene.
 * ---------------------------------------------------------------------- */
typedef enum hv_viz_kind {
    HV_ITEM_RECT = 0, /* filled rectangle                                  */
    HV_ITEM_BOX,      /* outline: style solid / dotted / jagged / thick     */
    HV_ITEM_HATCH,    /* diagonal hatch over a rectangle                    */
    HV_ITEM_LINE,     /* x,y -> x2,y2                                       */
    HV_ITEM_ARROW,    /* line with a head at x2,y2; bend: curve control     */
    HV_ITEM_TEXT,     /* text at x,y (top-left; align right: x is right)   */
    HV_ITEM_KIND_COUNT
} hv_viz_kind_t;

enum {
    HV_STYLE_SOLID = 0,
    HV_STYLE_DOTTED = 1,
    HV_STYLE_JAGGED = 2,
    HV_STYLE_THICK = 3,
    HV_TEXT_SMALL = 1u << 4, /* small font                               */
    HV_TEXT_RIGHT = 1u << 5, /* x is the right edge                      */
    HV_TEXT_BOLD = 1u << 6,
    HV_STYLE_SCROLL = 1u << 8, /* in the scrolling heap area (clipped)    */
};

typedef struct hv_viz_item {
    uint8_t kind;       /* hv_viz_kind_t                                     */
    uint8_t role;       /* hv_viz_role_t: the legend entry                   */
    uint16_t style;     /* HV_STYLE_* | HV_TEXT_*                            */
    uint32_t color;     /* 0xRRGGBB (usually the role's)                     */
    int32_t x, y, w, h; /* rect; for lines and arrows x2 = x+w, y2 = y+h  */
    int32_t bend;       /* arrows: how far the curve bulges up (px)          */
    uint32_t text;      /* offset into the string pool (text items)          */
    hv_addr_t addr;     /* the block this belongs to (0: none)               */
} hv_viz_item_t;

typedef struct hv_viz_scene {
    int width, height;
    uint32_t background;
    hv_viz_item_t *items;
    size_t nitems, cap_items;
    char *strings;
    size_t nstrings, cap_strings;
    /* Where heap rows are, for hit tests and panning: y of the first row,
     * the row pitch, the number of rows and the x of the heap area.     */
    int heap_x, heap_y, heap_w, row_h, nrows;
    int heap_clip_y0, heap_clip_y1; /* the visible heap band (window)    */
    int content_h;                  /* height of the scrolling content   */
} hv_viz_scene_t;

void hv_viz_scene_init(hv_viz_scene_t *sc);
void hv_viz_scene_free(hv_viz_scene_t *sc);
void hv_viz_scene_clear(hv_viz_scene_t *sc);
const char *hv_viz_item_text(const hv_viz_scene_t *sc, const hv_viz_item_t *it);

/* ------------------------------------------------------------------------
 * Layout: state -> scene.
 * ---------------------------------------------------------------------- */
typedef struct hv_viz_opts {
    int width;          /* canvas width in px                             */
    int height;         /* 0: as tall as the content (pictures)           */
    double zoom;        /* 1: fit the heap to the width                   */
    int scroll;         /* heap rows scrolled away (window)               */
    hv_addr_t selected; /* block to show the whole record of (0: none)    */
    bool help;          /* the key help overlay                           */
    bool chrome;        /* title and timeline bars (window, timelines)    */
    bool blink;         /* banner blink phase                             */
    int min_block;      /* minimum block width in px (0: automatic)       */
} hv_viz_opts_t;

void hv_viz_opts_default(hv_viz_opts_t *o);
/* false when out of memory. */
bool hv_viz_layout(const hv_viz_state_t *s, const hv_viz_opts_t *o,
                   hv_viz_scene_t *sc);
/* Which block (start address) is at pixel (x, y) of a scene laid out from
 * s; 0 when none. */
hv_addr_t hv_viz_hit(const hv_viz_scene_t *sc, int x, int y);

#ifdef __cplusplus
}
#endif
#endif /* HEAPVIZ_VIZ_H */

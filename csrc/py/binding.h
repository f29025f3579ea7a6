/* binding.h — shared declarations of the CPython binding (heapviz._core).
 *
 * The binding is the only part of heapviz that includes Python.h.  One file
 * per concern:
 *   module.c          module state, multi-phase init, module-level functions
 *   heap_type.c       the Heap type: creation, the arena's owners (the heap
 *                     and its capsules), close, GC, attributes, and the
 *                     method tables of the files below put together
 *   heap_memory.c     the memory API: malloc, calloc, realloc, free, sbrk,
 *                     mmap, munmap
 *   heap_introspect.c what the heap looks like now: blocks, free lists,
 *                     stats, check, layout, raw bytes and shadow
 *   heap_history.c    the recorded history: events, notes, sites, the step
 *                     hook
 *   heap_frames.c     the simulated stack: frames and their objects
 *   args.c            argument parsing shared by the methods (sizes,
 *                     pointers, unsigned ints), each error naming the call
 *   records.c         Block and Event records built in C (heapviz.records)
 *   pointer.c         the Pointer type: arithmetic, comparison, hashing, GC
 *   access.c          every byte a script reads or writes goes through here
 *   ctype.c           C type names: sizeof("int[10]"), cast("int*")
 *   sites.c           the caller's file:line, interned once per call site
 *   roots.c           which Pointers the script holds (leak roots, "lost")
 *   errors.c          core errors and memory errors become exceptions here,
 *                     and only here
 *   leaks.c           h.leaks() on the core's scanner; the report words the
 *                     core owns
 */
#ifndef HEAPVIZ_BINDING_H
#define HEAPVIZ_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "heapviz/heapviz.h"

/* checks= modes */
enum { CHECKS_STRICT = 0, CHECKS_REPORT = 1, CHECKS_OFF = 2 };

/* Where a Pointer's value came from (its provenance). */
enum {
    PROV_NONE = 0,  /* NULL, an int cast, or arithmetic on those        */
    PROV_BLOCK = 1, /* derived from a heap block or mmapped chunk       */
    PROV_STACK = 2, /* derived from a stack object of a frame           */
    PROV_RAW = 3,   /* from sbrk/mmap: raw memory, bounds = the region  */
};

/* Element types of a Pointer (what p[i] reads and writes). */
typedef enum {
    T_BYTE = 0, /* unsigned char: the default, p[i] is 0..255 */
    T_CHAR,     /* signed char                                */
    T_SHORT,
    T_USHORT,
    T_INT,
    T_UINT,
    T_LONG,
    T_ULONG,
    T_FLOAT,
    T_DOUBLE,
    T_PTR, /* a pointer: elements read and write Pointers  */
    T_VOID /* void: no element access, arithmetic by bytes */
} tcode_t;

typedef struct site_cache site_cache_t;
typedef struct root_map root_map_t;
typedef struct hvpy_arena hvpy_arena_t;

typedef struct module_state module_state;

#define HVPY_SPARE_POINTERS 64

typedef struct HeapObject {
    PyObject_HEAD
        /* what every malloc and free reads: one cache line */
        hv_heap_t *h;    /* NULL once closed                          */
    module_state *st;    /* the module's state, cached for hot paths  */
    site_cache_t *sites; /* (code, lasti) -> site id, site records    */
    root_map_t *roots;   /* block start -> live Pointer count         */
    PyObject *step_hook; /* called after each operation (viewer)      */
    int checks;          /* CHECKS_*                                  */
    PyObject *prov;      /* dict: address -> (value, bstart, seq, prov)
                            for pointer values stored in the heap     */
    PyObject *weakreflist;
    PyObject *dict;      /* the Python subclass's attributes          */
    hvpy_arena_t *arena; /* h's owners: this heap and its capsules    */
    uint64_t next_frame_serial;
    uint64_t frame_serial[HV_FRAMES_MAX]; /* serial of each live depth  */
} HeapObject;

/* PointerObject.rooted */
enum {
    ROOTED_NO = 0,
    ROOTED = 1,
    ROOTED_FREED = 2 /* and free()d through
                        this very Pointer */
};

typedef struct PointerObject {
    PyObject_HEAD HeapObject *heap; /* strong ref; NULL for NULL/int pointers
                                       with no heap */
    uint64_t addr;     /* user address                                 */
    uint64_t bstart;   /* provenance: block start (user address)       */
    uint64_t pstart;   /* provenance: payload start (bounds begin)     */
    uint64_t seq;      /* provenance: allocation number / frame serial */
    uint64_t plen;     /* stack and raw memory: bytes from pstart      */
    uint8_t prov;      /* PROV_*                                       */
    uint8_t tcode;     /* tcode_t of the elements                      */
    uint8_t uninit;    /* made by Pointer(): never assigned            */
    uint8_t rooted;    /* counted in heap->roots (ROOTED_*)             */
    uint32_t tsize;    /* element size in bytes (1 for void)           */
    PyObject *pointee; /* T_PTR: the element's pointee type name (str) */
} PointerObject;

struct module_state {
    PyTypeObject *heap_type;
    PyTypeObject *pointer_type;
    PyTypeObject *block_base; /* _core.BlockRecord (records.c)          */
    PyTypeObject *event_base; /* _core.EventRecord                      */
    PyTypeObject *block_cls;  /* heapviz.records.Block, once registered */
    PyTypeObject *event_cls;  /* heapviz.records.Event                  */
    PyObject *site_cls;       /* heapviz.records.Site (None: tuples)    */
    PyObject *state_names;    /* tuple: hv_block_state_t -> str         */
    PyObject *kind_names;     /* tuple: hv_event_kind_t -> str          */
    PyObject *null;           /* heapviz.NULL                              */
    PyObject *error_hook;     /* heapviz.errors._memory_error(...)         */
    PyObject *heaps;          /* list of weakrefs to open heaps (wild ptrs) */
    PyObject *pkg_prefix;     /* str: directory of the heapviz package     */
    PyObject *segv_type;      /* heapviz.SegmentationFault (set by Python) */
    /* dead Pointers kept for reuse (they hold no references): every malloc
       makes a Pointer and most die soon, as floats do in CPython */
    PointerObject *spare[HVPY_SPARE_POINTERS];
    int nspare;
};

/* The module state reached from a Pointer: through its heap when it has
 * one (cached, no type walk), else through its type. */
module_state *hvpy_state_of_type(PyTypeObject *tp);
static inline module_state *hvpy_pointer_state(PyObject *p, HeapObject *heap)
{
    return heap != NULL && heap->st != NULL ? heap->st
                                            : hvpy_state_of_type(Py_TYPE(p));
}

/* module.c */
module_state *hvpy_state(PyObject *module);
HeapObject *hvpy_heap_for_address(module_state *st, uint64_t addr);

/* heap_type.c */
extern PyType_Spec hvpy_heap_spec;
int hvpy_heap_ready(PyTypeObject *heap_type); /* add every concern's methods */
int hvpy_heap_own_methods(PyTypeObject *cls);
int hvpy_heap_alive(HeapObject *self); /* 0 + exception when closed */
int hvpy_after_op(HeapObject *self);   /* the step hook, if any     */

/* The method (and attribute) tables of each concern, put together on the
 * type by hvpy_heap_ready(). */
extern PyMethodDef hvpy_heap_memory_methods[];
extern PyGetSetDef hvpy_heap_memory_getset[];
extern PyMethodDef hvpy_heap_introspect_methods[];
extern PyGetSetDef hvpy_heap_introspect_getset[];
extern PyMethodDef hvpy_heap_history_methods[];
extern PyMethodDef hvpy_heap_frame_methods[];

/* args.c: each returns 0, or -1 with a TypeError/OverflowError/ValueError
 * that names the call and the argument. */
int hvpy_nargs(const char *signature, Py_ssize_t nargs, Py_ssize_t want);
/* A size_t argument.  Negative values are "fishy" (valgrind's word): *fishy
 * is set and *out holds what C would see (the value wrapped to size_t). */
int hvpy_size_arg(PyObject *o, const char *fn, const char *name, uint64_t *out,
                  int *fishy);
/* Report a fishy size (valgrind's words); -1 raised, 0 reported only: go on
 * with the wrapped value, as C would. */
int hvpy_fishy_size(module_state *st, HeapObject *heap, const char *fn,
                    const char *name, uint64_t value);
/* An unsigned 64-bit integer (an address, a sequence number, a site id). */
int hvpy_u64_arg(PyObject *o, const char *fn, const char *name, uint64_t *out);
/* A signed int that fits in 32 bits (a list index, a mode). */
int hvpy_int_arg(PyObject *o, const char *fn, const char *name, int *out);
/* A str, as UTF-8 (borrowed from o). */
int hvpy_str_arg(PyObject *o, const char *fn, const char *name,
                 const char **out);
int hvpy_pointer_arg(module_state *st, PyObject *o, const char *fn,
                     PointerObject **out);

/* pointer.c */
extern PyType_Spec hvpy_pointer_spec;
PyObject *hvpy_pointer_new(module_state *st, HeapObject *heap, uint64_t addr,
                           uint64_t bstart, uint64_t pstart, uint64_t seq,
                           int prov);
PyObject *hvpy_pointer_retype(PointerObject *p, uint64_t addr, int tcode,
                              uint32_t tsize, PyObject *pointee);
int hvpy_is_pointer(module_state *st, PyObject *o);
void hvpy_pointer_spares_free(module_state *st);

/* access.c */
PyObject *hvpy_ptr_getitem(PyObject *self, PyObject *key);
int hvpy_ptr_setitem(PyObject *self, PyObject *key, PyObject *value);
PyObject *hvpy_ptr_read(PyObject *self, PyObject *arg);
PyObject *hvpy_ptr_write(PyObject *self, PyObject *arg);
PyObject *hvpy_ptr_string(PyObject *self, PyObject *unused);
/* Check an access of n bytes at a through p; returns real memory or NULL
 * with an exception set.  *proceed is 0 when the access must be skipped
 * (an error was only reported). */
enum { ACC_READ = 0, ACC_WRITE = 1, ACC_COPY = 2 /* read, state copied */ };
uint8_t *hvpy_check_access(PointerObject *p, uint64_t a, uint64_t n, int mode,
                           int *proceed);
PyObject *hvpy_memcpy(PyObject *module, PyObject *const *args, Py_ssize_t n);
PyObject *hvpy_memset(PyObject *module, PyObject *const *args, Py_ssize_t n);

/* ctype.c */
int hvpy_parse_ctype(PyObject *name, int *tcode, uint32_t *tsize,
                     PyObject **pointee, uint64_t *total);
const char *hvpy_tcode_name(int tcode);

/* sites.c */
site_cache_t *hvpy_sites_new(void);
void hvpy_sites_free(site_cache_t *c);
uint32_t hvpy_current_site(HeapObject *heap);
PyObject *hvpy_site_tuple(HeapObject *heap, uint32_t site);
/* The heapviz.records.Site of a site id (None for 0 or unknown), made once
 * per heap and kept: a new reference. */
PyObject *hvpy_site_record(HeapObject *heap, uint32_t site);

/* records.c */
int hvpy_records_init(PyObject *module, module_state *st);
PyObject *hvpy_block_record(HeapObject *heap, const hv_block_t *b);
PyObject *hvpy_event_record(HeapObject *heap, const hv_event_t *e);
PyObject *hvpy_block_tuple(const hv_block_t *b);
PyObject *hvpy_event_tuple(const hv_event_t *e);
int hvpy_records_register(module_state *st, PyObject *site, PyObject *block,
                          PyObject *event);

/* roots.c */
root_map_t *hvpy_roots_new(uint64_t heap_base, uint64_t heap_max);
void hvpy_roots_free(root_map_t *m);
void hvpy_root_add(PointerObject *p);
void hvpy_root_drop(PointerObject *p);
PyObject *hvpy_roots_list(HeapObject *heap);
void hvpy_roots_visit(HeapObject *heap,
                      void (*fn)(uint64_t bstart, uint64_t seq, unsigned starts,
                                 void *arg),
                      void *arg);

/* leaks.c — the core's leak scanner and report words for heapviz/leaks.py and
 * heapviz/errors.py */
PyObject *hvpy_leak_scan(PyObject *module, PyObject *const *args,
                         Py_ssize_t nargs);
PyObject *hvpy_advice(PyObject *module, PyObject *unused);
PyObject *hvpy_glibc_words(PyObject *module, PyObject *const *args,
                           Py_ssize_t nargs);

/* errors.c */

/* What a failed call was, for the one function that turns a core error
 * into an exception.  Built only on the error path. */
typedef enum hvpy_op {
    OP_HEAP = 0, /* Heap(...): arg names the configuration field     */
    OP_MALLOC,
    OP_CALLOC,
    OP_REALLOC,
    OP_FREE,
    OP_SBRK, /* value: the increment                                 */
    OP_MMAP, /* value: the length                                    */
    OP_MUNMAP,
    OP_FRAME_PUSH,
    OP_FRAME_ALLOC, /* value: the size                               */
    OP_FRAME_POP,
    OP_RAW_READ, /* arg: the range asked for                         */
    OP_OTHER,    /* another call: arg names it                       */
    OP_COUNT
} hvpy_op_t;

typedef struct hvpy_call {
    hvpy_op_t op;
    const char *arg;    /* OP_HEAP: the field; OP_OTHER: the call      */
    PointerObject *ptr; /* the pointer argument (free, realloc, munmap) */
    long long value;    /* the size or increment argument             */
} hvpy_call_t;

/* Turn the core's hv_err_t of a call into an exception, or into a memory
 * error (a double free, an invalid free, heap corruption) that the heap's
 * checks= mode may only report.  Returns -1 when an exception is set, 0
 * when the error was only reported and the call goes on as C would. */
int hvpy_core_error(HeapObject *heap, hv_err_t err, const hvpy_call_t *call);
/* A memory error the binding detected: build it through heapviz.errors,
 * record the event, and raise it (strict) or print and go on (report).
 * Returns -1 when raised, 0 when only reported. */
int hvpy_memory_error(module_state *st, HeapObject *heap, int kind,
                      uint64_t addr, uint64_t size, int write, PointerObject *p,
                      PyObject *extra);

#endif

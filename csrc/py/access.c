/* access.c — every byte a script reads or writes goes through here.
 *
 * hvpy_check_access() judges one access the way valgrind's memcheck would,
 * but with the pointer's provenance to help:
 *
 *   outside every mapping                 -> SegmentationFault (always)
 *   through a pointer whose allocation
 *   has been freed (even if reused)       -> UseAfterFree
 *   outside [payload, payload+requested)  -> BufferOverflow
 *   a stack object whose frame returned   -> UseAfterReturn
 *   a read of bytes never written         -> UninitializedRead
 *
 * In checks="strict" the error is raised before anything changes; in
 * "report" it is recorded and the access happens as it would in C (inside
 * the arena, so an overflow really lands in the next header); in "off"
 * only the mapping check remains.  Nothing here can touch memory outside
 * the arena: hv_resolve() bounds every real pointer.
 */
#include "binding.h"

#include <string.h>

/* A many-byte access (read(n), write(), slices of bytes, memcpy, memset):
 * valgrind's replacements of memcpy and friends report the first bad byte,
 * and so do we.  An element access reports its start, as valgrind does for
 * one instruction. */
#define ACC_BULK 8

/* The heap an error through a heapless pointer (NULL, Pointer(), a wild
 * address in no heap) is recorded on: the most recently created open one,
 * the heap the script is working with. */
static HeapObject *latest_heap(module_state *st)
{
    if (st == NULL || st->heaps == NULL) return NULL;
    for (Py_ssize_t i = PyList_GET_SIZE(st->heaps) - 1; i >= 0; i--) {
        PyObject *obj = PyWeakref_GetObject(PyList_GET_ITEM(st->heaps, i));
        if (obj != Py_None && ((HeapObject *)obj)->h != NULL)
            return (HeapObject *)obj;
    }
    return NULL;
}

static int segv(module_state *st, HeapObject *heap, PointerObject *p,
                uint64_t a, uint64_t n, int write)
{
    if (hvpy_memory_error(st, heap, HV_ERR_SEGV, a, n, write, p, NULL) == 0 &&
        !PyErr_Occurred())
        PyErr_Format(PyExc_RuntimeError,
                     "segmentation fault at %llu was not raised",
                     (unsigned long long)a);
    return -1;
}

/* The first byte of [a, a+n) outside every mapping (a when a is). */
static uint64_t first_unmapped(HeapObject *heap, uint64_t a, uint64_t n)
{
    hv_region_t region;
    uint8_t *mem;
    if (n <= 1 || hv_resolve(heap->h, a, 1, &region, &mem) != HV_OK) return a;
    uint64_t ok = 1, bad = n; /* [a, a+ok) resolves, [a, a+bad) does not */
    while (bad - ok > 1) {
        uint64_t mid = ok + (bad - ok) / 2;
        if (hv_resolve(heap->h, a, mid, &region, &mem) == HV_OK)
            ok = mid;
        else
            bad = mid;
    }
    return a + ok;
}

static int frame_alive(HeapObject *heap, uint64_t serial)
{
    uint32_t depth = hv_frame_depth(heap->h);
    for (uint32_t d = 0; d < depth && d < HV_FRAMES_MAX; d++)
        if (heap->frame_serial[d] == serial) return 1;
    return 0;
}

static int outside(uint64_t a, uint64_t n, uint64_t lo, uint64_t len)
{
    return a < lo || a - lo > len || n > len - (a - lo);
}

/* The error kind of an access through p's provenance, or 0 when fine;
 * [*lo, *hi) are the bounds the access was judged against. */
static int judge(HeapObject *heap, PointerObject *p, uint64_t a, uint64_t n,
                 uint64_t *lo, uint64_t *hi)
{
    hv_block_t b;
    *lo = *hi = a;
    switch (p->prov) {
    case PROV_BLOCK:
        if (hv_block_at(heap->h, p->bstart, &b) != HV_OK || b.seq != p->seq ||
            (b.state != HV_BLOCK_ALLOCATED && b.state != HV_BLOCK_MMAPPED))
            return HV_ERR_USE_AFTER_FREE;
        *lo = b.payload, *hi = b.payload + b.requested;
        return outside(a, n, b.payload, b.requested) ? HV_ERR_OVERFLOW : 0;
    case PROV_STACK:
    case PROV_RAW:
        if (p->prov == PROV_STACK && !frame_alive(heap, p->seq))
            return HV_ERR_USE_AFTER_RETURN;
        *lo = p->pstart, *hi = p->pstart + p->plen;
        return outside(a, n, p->pstart, p->plen) ? HV_ERR_OVERFLOW : 0;
    default: /* an address made from an integer: judge by what is there */
        if (hv_block_containing(heap->h, a, &b) != HV_OK)
            return HV_ERR_OVERFLOW;
        if (b.state == HV_BLOCK_FREE) return HV_ERR_USE_AFTER_FREE;
        if (b.state == HV_BLOCK_ALLOCATED || b.state == HV_BLOCK_MMAPPED) {
            *lo = b.payload, *hi = b.payload + b.requested;
            return outside(a, n, b.payload, b.requested) ? HV_ERR_OVERFLOW : 0;
        }
        return 0; /* raw sbrk/mmap memory or a stack object: anything goes */
    }
}

/* The first never-written byte of [a, a+n), if any. */
static int uninitialized(HeapObject *heap, uint64_t a, uint64_t n,
                         uint64_t *first)
{
    const uint8_t *sh = hv_shadow(heap->h, a, n);
    if (sh == NULL) return 0;
    const uint8_t *u = memchr(sh, HV_SH_UNINIT, n);
    if (u == NULL) return 0;
    *first = a + (uint64_t)(u - sh);
    return 1;
}

/* Where a reported use after return goes on when no frame covers the
 * address any more: the C program would touch dead stack; we give it a
 * scratch buffer, so nothing outside the arena is ever touched. */
static uint8_t *dead_stack(uint64_t n)
{
    static uint8_t *buf;
    static uint64_t cap;
    if (n > cap) {
        uint8_t *fresh = PyMem_Realloc(buf, n);
        if (fresh == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        buf = fresh;
        cap = n;
    }
    return buf;
}

uint8_t *hvpy_check_access(PointerObject *p, uint64_t a, uint64_t n, int mode,
                           int *proceed)
{
    int bulk = (mode & ACC_BULK) != 0;
    mode &= ~ACC_BULK;
    int write = mode == ACC_WRITE;
    module_state *st = hvpy_pointer_state((PyObject *)p, p->heap);
    HeapObject *heap = p->heap;
    *proceed = 1;
    if (heap == NULL && st != NULL && a != 0)
        heap = hvpy_heap_for_address(st, a);
    if (heap == NULL || a == 0) {
        segv(st, heap != NULL ? heap : latest_heap(st), p, a, n, write);
        return NULL;
    }
    if (!hvpy_heap_alive(heap)) return NULL;
    hv_region_t region;
    uint8_t *mem = NULL;
    hv_err_t rc = hv_resolve(heap->h, a, n, &region, &mem);
    if (heap->checks == CHECKS_OFF) {
        if (rc == HV_OK) return mem;
        if (p->prov == PROV_STACK && region == HV_REGION_NONE &&
            !frame_alive(heap, p->seq))
            return dead_stack(n); /* C reads and writes dead stack unharmed */
        segv(st, heap, p, bulk ? first_unmapped(heap, a, n) : a, n, write);
        return NULL;
    }
    uint64_t lo, hi, where = a;
    int kind = p->prov == PROV_NONE && region == HV_REGION_NONE
                   ? HV_ERR_SEGV
                   : judge(heap, p, a, n, &lo, &hi);
    if (kind == 0 && rc != HV_OK)
        kind = HV_ERR_SEGV; /* runs off the end of its mapping */
    if (kind == HV_ERR_SEGV) {
        segv(st, heap, p, bulk ? first_unmapped(heap, a, n) : a, n, write);
        return NULL;
    }
    if (kind == 0 && mode == ACC_READ && uninitialized(heap, a, n, &where))
        kind = HV_ERR_UNINIT;
    if (kind == 0) return mem;
    if (!bulk)
        where = a;
    else if (kind == HV_ERR_OVERFLOW)
        where = a < lo || a >= hi ? a : hi; /* the first byte outside */
    /* the bounds judged against (a stack object's exact size is known only
       here) and where the access starts (`where` may be its first bad byte) */
    PyObject *bounds =
        kind == HV_ERR_OVERFLOW
            ? Py_BuildValue("(KKK)", (unsigned long long)lo,
                            (unsigned long long)hi, (unsigned long long)a)
            : NULL;
    int raised =
        hvpy_memory_error(st, heap, kind, where, n, write, p, bounds) < 0;
    Py_XDECREF(bounds);
    if (raised) return NULL;
    /* Reported only: C goes on.  The hook ran Python code: look again. */
    if (!hvpy_heap_alive(heap)) return NULL;
    *proceed = 2; /* reported: do not mark metadata or free bytes written,
                     nor copy their state */
    if (hv_resolve(heap->h, a, n, &region, &mem) == HV_OK)
        return mem; /* inside the arena: an overflow really lands */
    if (kind == HV_ERR_USE_AFTER_RETURN && region == HV_REGION_NONE)
        return dead_stack(n);
    /* the C program runs off the mapping here and dies */
    segv(st, heap, p, first_unmapped(heap, a, n), n, write);
    return NULL;
}

/* After a successful write: the bytes are now initialized. */
static void mark_written(PointerObject *p, uint64_t a, uint64_t n, int proceed)
{
    HeapObject *heap = p->heap;
    if (heap == NULL || heap->h == NULL || proceed != 1 ||
        heap->checks == CHECKS_OFF)
        return;
    hv_shadow_set(heap->h, a, n, HV_SH_INIT);
}

/* --- element loads and stores ------------------------------------------ */

static PyObject *load_pointer(PointerObject *p, uint64_t a, uint64_t v);

static PyObject *load(PointerObject *p, uint64_t a, const uint8_t *m)
{
    switch (p->tcode) {
    case T_BYTE:
        return PyLong_FromLong(m[0]);
    case T_CHAR:
        return PyLong_FromLong((signed char)m[0]);
#define LOAD(T, conv)                                                          \
    {                                                                          \
        T v;                                                                   \
        memcpy(&v, m, sizeof v);                                               \
        return conv(v);                                                        \
    }
    case T_SHORT:
        LOAD(int16_t, PyLong_FromLong)
    case T_USHORT:
        LOAD(uint16_t, PyLong_FromLong)
    case T_INT:
        LOAD(int32_t, PyLong_FromLong)
    case T_UINT:
        LOAD(uint32_t, PyLong_FromUnsignedLong)
    case T_LONG:
        LOAD(int64_t, PyLong_FromLongLong)
    case T_ULONG:
        LOAD(uint64_t, PyLong_FromUnsignedLongLong)
    case T_FLOAT:
        LOAD(float, PyFloat_FromDouble)
    case T_DOUBLE:
        LOAD(double, PyFloat_FromDouble)
#undef LOAD
    case T_PTR: {
        uint64_t v;
        memcpy(&v, m, 8);
        return load_pointer(p, a, v);
    }
    default:
        PyErr_SetString(PyExc_TypeError,
                        "cannot read through a void pointer: cast it first, "
                        "e.g. p.cast(\"int\")[0]");
        return NULL;
    }
}

/* v as an integer in [lo, hi]; element ranges accept both the signed and
 * the unsigned reading (p[0] = 255 and p[0] = -1 both fill a char). */
static int int_range(PyObject *v, long long lo, unsigned long long hi,
                     const char *tname, uint64_t *out)
{
    if (!PyIndex_Check(v)) {
        PyErr_Format(PyExc_TypeError, "a %s element takes an int, not %.100s",
                     tname, Py_TYPE(v)->tp_name);
        return -1;
    }
    PyObject *idx = PyNumber_Index(v);
    if (idx == NULL) return -1;
    int overflow, fits;
    long long s = PyLong_AsLongLongAndOverflow(idx, &overflow);
    unsigned long long u = (unsigned long long)s;
    if (overflow > 0) {
        u = PyLong_AsUnsignedLongLong(idx);
        fits = !PyErr_Occurred() && u <= hi;
        PyErr_Clear();
    } else
        fits = overflow == 0 && s >= lo && (s < 0 || u <= hi);
    Py_DECREF(idx);
    if (!fits) {
        PyErr_Format(PyExc_OverflowError, "%R does not fit in %s (%lld..%llu)",
                     v, tname, lo, hi);
        return -1;
    }
    *out = u;
    return 0;
}

static int char_value(PyObject *v, PyObject **conv)
{
    /* p[0] = "a" or b"a": a one-character string is that character */
    *conv = NULL;
    if (PyUnicode_Check(v) && PyUnicode_GET_LENGTH(v) == 1 &&
        PyUnicode_READ_CHAR(v, 0) < 256)
        *conv = PyLong_FromLong((long)PyUnicode_READ_CHAR(v, 0));
    else if (PyBytes_Check(v) && PyBytes_GET_SIZE(v) == 1)
        *conv = PyLong_FromLong((unsigned char)PyBytes_AS_STRING(v)[0]);
    return *conv == NULL && PyErr_Occurred() ? -1 : 0;
}

static int encode_pointer(PointerObject *p, PyObject *v, uint64_t *out);

/* Convert v for an element of p's type into raw bytes (little endian). */
static int encode(PointerObject *p, PyObject *v, uint8_t *buf)
{
    static const struct {
        long long lo;
        unsigned long long hi;
    } range[] = {
        [T_BYTE] = {0, 255},
        [T_CHAR] = {-128, 255},
        [T_SHORT] = {-32768, 65535},
        [T_USHORT] = {0, 65535},
        [T_INT] = {INT32_MIN, UINT32_MAX},
        [T_UINT] = {0, UINT32_MAX},
        [T_LONG] = {INT64_MIN, UINT64_MAX},
        [T_ULONG] = {0, UINT64_MAX},
    };
    uint64_t u;
    switch (p->tcode) {
    case T_FLOAT:
    case T_DOUBLE: {
        double d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Format(PyExc_TypeError,
                         "a %s element takes a number, not %.100s",
                         hvpy_tcode_name(p->tcode), Py_TYPE(v)->tp_name);
            return -1;
        }
        if (p->tcode == T_FLOAT) {
            float f = (float)d;
            memcpy(buf, &f, 4);
        } else
            memcpy(buf, &d, 8);
        return 0;
    }
    case T_PTR:
        if (encode_pointer(p, v, &u) < 0) return -1;
        memcpy(buf, &u, 8);
        return 0;
    case T_VOID:
        PyErr_SetString(PyExc_TypeError,
                        "cannot write through a void pointer: cast it first, "
                        "e.g. p.cast(\"int\")[0] = 7");
        return -1;
    default: {
        PyObject *conv = NULL;
        if ((p->tcode == T_BYTE || p->tcode == T_CHAR) &&
            char_value(v, &conv) < 0)
            return -1;
        int rc = int_range(conv ? conv : v, range[p->tcode].lo,
                           range[p->tcode].hi, hvpy_tcode_name(p->tcode), &u);
        Py_XDECREF(conv);
        if (rc < 0) return -1;
        memcpy(buf, &u, p->tsize); /* little endian: the low bytes */
        return 0;
    }
    }
}

/* --- pointers stored in the heap keep their provenance ---------------- */

static int encode_pointer(PointerObject *p, PyObject *v, uint64_t *out)
{
    module_state *st = hvpy_pointer_state((PyObject *)p, p->heap);
    if (v == Py_None || (PyLong_CheckExact(v) && PyLong_AsLong(v) == 0)) {
        *out = 0;
        return 0;
    }
    if (st == NULL || !hvpy_is_pointer(st, v)) {
        PyErr_Format(PyExc_TypeError,
                     "a %U* element holds a Pointer (or NULL), not %.100s; "
                     "use heapviz.Pointer(n) to make one from an int",
                     p->pointee, Py_TYPE(v)->tp_name);
        return -1;
    }
    *out = ((PointerObject *)v)->addr;
    return 0;
}

static void remember_pointer(PointerObject *p, uint64_t a, PyObject *v)
{
    HeapObject *heap = p->heap;
    if (heap == NULL || heap->prov == NULL) return;
    PyObject *key = PyLong_FromUnsignedLongLong(a);
    if (key == NULL) {
        PyErr_Clear();
        return;
    }
    module_state *st = hvpy_pointer_state((PyObject *)p, p->heap);
    if (st != NULL && hvpy_is_pointer(st, v) && ((PointerObject *)v)->addr) {
        PointerObject *q = (PointerObject *)v;
        PyObject *val = Py_BuildValue(
            "(KKKKKi)", (unsigned long long)q->addr,
            (unsigned long long)q->bstart, (unsigned long long)q->pstart,
            (unsigned long long)q->seq, (unsigned long long)q->plen,
            (int)q->prov);
        if (val == NULL || PyDict_SetItem(heap->prov, key, val) < 0)
            PyErr_Clear();
        Py_XDECREF(val);
    } else if (PyDict_DelItem(heap->prov, key) < 0)
        PyErr_Clear();
    Py_DECREF(key);
}

static int parse_pointee(PointerObject *p, int *tcode, uint32_t *tsize,
                         PyObject **pointee)
{
    uint64_t total;
    return hvpy_parse_ctype(p->pointee, tcode, tsize, pointee, &total);
}

static PyObject *load_pointer(PointerObject *p, uint64_t a, uint64_t v)
{
    module_state *st = hvpy_pointer_state((PyObject *)p, p->heap);
    HeapObject *heap = p->heap;
    int tcode;
    uint32_t tsize;
    PyObject *pointee;
    if (st == NULL || parse_pointee(p, &tcode, &tsize, &pointee) < 0)
        return NULL;
    uint64_t bstart = 0, pstart = 0, seq = 0, plen = 0;
    int prov = PROV_NONE;
    PyObject *key = PyLong_FromUnsignedLongLong(a);
    PyObject *known = key && heap && heap->prov
                          ? PyDict_GetItemWithError(heap->prov, key)
                          : NULL;
    Py_XDECREF(key);
    unsigned long long kv, kb, kp, ks, kl;
    if (known != NULL &&
        PyArg_ParseTuple(known, "KKKKKi", &kv, &kb, &kp, &ks, &kl, &prov) &&
        kv == v) {
        bstart = kb, pstart = kp, seq = ks, plen = kl;
    } else {
        PyErr_Clear();
        prov = PROV_NONE;
        hv_block_t b;
        if (heap != NULL && v != 0 &&
            hv_block_containing(heap->h, v, &b) == HV_OK &&
            (b.state == HV_BLOCK_ALLOCATED || b.state == HV_BLOCK_MMAPPED)) {
            prov = PROV_BLOCK;
            bstart = b.addr, pstart = b.payload, seq = b.seq;
        }
    }
    PyObject *q =
        hvpy_pointer_new(st, v ? heap : NULL, v, bstart, pstart, seq, prov);
    if (q != NULL) {
        PointerObject *qp = (PointerObject *)q;
        qp->plen = plen;
        qp->tcode = (uint8_t)tcode;
        qp->tsize = tsize;
        qp->pointee = pointee;
    } else
        Py_XDECREF(pointee);
    return q;
}

/* --- indexing: C's, not Python's -------------------------------------- */

static int element_address(PointerObject *p, PyObject *key, uint64_t *a)
{
    long long i = PyLong_AsLongLong(key);
    if (i == -1 && PyErr_Occurred()) return -1;
    __int128 x = (__int128)p->addr + (__int128)i * p->tsize;
    if (x < 0 || x > (__int128)UINT64_MAX) {
        PyErr_SetString(PyExc_OverflowError, "index leaves the address space");
        return -1;
    }
    *a = (uint64_t)x;
    return 0;
}

static int slice_bounds(PointerObject *p, PyObject *key, int64_t *start,
                        int64_t *count, PyObject *value)
{
    PySliceObject *s = (PySliceObject *)key;
    if (s->step != Py_None) {
        PyErr_SetString(PyExc_ValueError,
                        "pointer slices take no step: p[i:j] is the "
                        "elements from p[i] up to p[j-1]");
        return -1;
    }
    long long lo = 0, hi;
    if (s->start != Py_None && (lo = PyLong_AsLongLong(s->start)) == -1 &&
        PyErr_Occurred())
        return -1;
    if (s->stop == Py_None) {
        Py_ssize_t len = value ? PyObject_Length(value) : -1;
        if (len < 0) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError,
                                "p[i:] needs an end: a pointer does not know "
                                "how long its memory is (write p[i:j])");
            return -1;
        }
        hi = lo + len;
    } else if ((hi = PyLong_AsLongLong(s->stop)) == -1 && PyErr_Occurred())
        return -1;
    if (hi < lo) {
        PyErr_Format(PyExc_ValueError, "slice [%lld:%lld] runs backwards", lo,
                     hi);
        return -1;
    }
    if ((unsigned long long)(hi - lo) > (1ull << 32)) {
        PyErr_SetString(PyExc_OverflowError, "slice too long");
        return -1;
    }
    (void)p;
    *start = lo;
    *count = hi - lo;
    return 0;
}

static PyObject *read_elements(PointerObject *p, int64_t start, int64_t count)
{
    uint64_t a = p->addr + (uint64_t)(start * (int64_t)p->tsize);
    uint64_t n = (uint64_t)count * p->tsize;
    if (p->tcode == T_BYTE || p->tcode == T_CHAR || p->tcode == T_VOID) {
        if (n == 0) return PyBytes_FromStringAndSize("", 0);
        int proceed;
        uint8_t *m = hvpy_check_access(p, a, n, ACC_READ | ACC_BULK, &proceed);
        return m ? PyBytes_FromStringAndSize((char *)m, (Py_ssize_t)n) : NULL;
    }
    PyObject *list = PyList_New(0);
    for (int64_t i = 0; list != NULL && i < count; i++) {
        uint64_t ea = a + (uint64_t)i * p->tsize;
        int proceed;
        uint8_t *m = hvpy_check_access(p, ea, p->tsize, ACC_READ, &proceed);
        PyObject *v = m ? load(p, ea, m) : NULL;
        if (v == NULL || PyList_Append(list, v) < 0) {
            Py_XDECREF(v);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(v);
    }
    return list;
}

PyObject *hvpy_ptr_getitem(PyObject *self, PyObject *key)
{
    PointerObject *p = (PointerObject *)self;
    if (PySlice_Check(key)) {
        int64_t start, count;
        if (slice_bounds(p, key, &start, &count, NULL) < 0) return NULL;
        return read_elements(p, start, count);
    }
    if (!PyIndex_Check(key)) {
        PyErr_Format(PyExc_TypeError,
                     "pointer index must be an int, not %.100s",
                     Py_TYPE(key)->tp_name);
        return NULL;
    }
    if (p->tcode == T_VOID)
        return load(p, 0, NULL); /* the void-pointer explanation */
    uint64_t a;
    if (element_address(p, key, &a) < 0) return NULL;
    int proceed;
    uint8_t *m = hvpy_check_access(p, a, p->tsize, ACC_READ, &proceed);
    return m ? load(p, a, m) : NULL;
}

static int store_one(PointerObject *p, uint64_t a, PyObject *value)
{
    uint8_t buf[8];
    if (encode(p, value, buf) < 0) return -1;
    int proceed;
    uint8_t *m = hvpy_check_access(p, a, p->tsize, ACC_WRITE, &proceed);
    if (m == NULL) return -1;
    memcpy(m, buf, p->tsize);
    mark_written(p, a, p->tsize, proceed);
    if (p->tcode == T_PTR) remember_pointer(p, a, value);
    return 0;
}

static int write_bytes(PointerObject *p, uint64_t a, const char *data,
                       uint64_t n)
{
    if (n == 0) return 0;
    int proceed;
    uint8_t *m = hvpy_check_access(p, a, n, ACC_WRITE | ACC_BULK, &proceed);
    if (m == NULL) return -1;
    memmove(m, data, n);
    mark_written(p, a, n, proceed);
    return 0;
}

static int store_slice(PointerObject *p, PyObject *key, PyObject *value)
{
    int64_t start, count;
    if (slice_bounds(p, key, &start, &count, value) < 0) return -1;
    uint64_t a = p->addr + (uint64_t)(start * (int64_t)p->tsize);
    if (p->tsize == 1 && PyObject_CheckBuffer(value)) {
        Py_buffer view;
        if (PyObject_GetBuffer(value, &view, PyBUF_SIMPLE) < 0) return -1;
        int rc = -1;
        if (view.len != count)
            PyErr_Format(PyExc_ValueError,
                         "p[%lld:%lld] holds %lld bytes but %zd were given",
                         (long long)start, (long long)(start + count),
                         (long long)count, view.len);
        else
            rc = write_bytes(p, a, view.buf, (uint64_t)count);
        PyBuffer_Release(&view);
        return rc;
    }
    PyObject *seq = PySequence_Fast(value, "a slice takes bytes or a sequence");
    if (seq == NULL) return -1;
    int rc = 0;
    if (PySequence_Fast_GET_SIZE(seq) != count) {
        PyErr_Format(PyExc_ValueError,
                     "p[%lld:%lld] holds %lld elements but %zd were given",
                     (long long)start, (long long)(start + count),
                     (long long)count, PySequence_Fast_GET_SIZE(seq));
        rc = -1;
    }
    for (int64_t i = 0; rc == 0 && i < count; i++)
        rc = store_one(p, a + (uint64_t)i * p->tsize,
                       PySequence_Fast_GET_ITEM(seq, i));
    Py_DECREF(seq);
    return rc;
}

int hvpy_ptr_setitem(PyObject *self, PyObject *key, PyObject *value)
{
    PointerObject *p = (PointerObject *)self;
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "cannot delete heap memory with del; use free()");
        return -1;
    }
    if (PySlice_Check(key)) return store_slice(p, key, value);
    if (!PyIndex_Check(key)) {
        PyErr_Format(PyExc_TypeError,
                     "pointer index must be an int, not %.100s",
                     Py_TYPE(key)->tp_name);
        return -1;
    }
    uint64_t a;
    if (element_address(p, key, &a) < 0) return -1;
    return store_one(p, a, value);
}

/* --- read / write / string --------------------------------------------- */

PyObject *hvpy_ptr_read(PyObject *self, PyObject *arg)
{
    PointerObject *p = (PointerObject *)self;
    long long n = PyLong_AsLongLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_TypeError))
            PyErr_Format(PyExc_TypeError,
                         "read(n) takes an int count, not %.100s",
                         Py_TYPE(arg)->tp_name);
        return NULL;
    }
    if (n < 0) {
        PyErr_Format(PyExc_ValueError, "read(n): n must be >= 0, got %lld", n);
        return NULL;
    }
    if (n == 0) return PyBytes_FromStringAndSize("", 0);
    int proceed;
    uint8_t *m = hvpy_check_access(p, p->addr, (uint64_t)n, ACC_READ | ACC_BULK,
                                   &proceed);
    return m ? PyBytes_FromStringAndSize((char *)m, (Py_ssize_t)n) : NULL;
}

PyObject *hvpy_ptr_write(PyObject *self, PyObject *arg)
{
    PointerObject *p = (PointerObject *)self;
    PyObject *bytes = NULL;
    if (PyUnicode_Check(arg)) arg = bytes = PyUnicode_AsUTF8String(arg);
    if (arg == NULL) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        Py_XDECREF(bytes);
        PyErr_Format(PyExc_TypeError, "write() takes bytes or str, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    int rc = write_bytes(p, p->addr, view.buf, (uint64_t)view.len);
    PyBuffer_Release(&view);
    Py_XDECREF(bytes);
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
}

PyObject *hvpy_ptr_string(PyObject *self, PyObject *unused)
{
    (void)unused;
    PointerObject *p = (PointerObject *)self;
    PyObject *out = PyBytes_FromStringAndSize(NULL, 0);
    char chunk[256];
    size_t used = 0;
    for (uint64_t a = p->addr;; a++) {
        int proceed;
        uint8_t *m = hvpy_check_access(p, a, 1, ACC_READ, &proceed);
        if (m == NULL) {
            Py_XDECREF(out);
            return NULL;
        }
        if (*m == 0 || used == sizeof chunk) {
            PyObject *part = PyBytes_FromStringAndSize(chunk, (Py_ssize_t)used);
            PyBytes_ConcatAndDel(&out, part);
            if (out == NULL) return NULL;
            used = 0;
            if (*m == 0) break;
        }
        chunk[used++] = (char)*m;
    }
    PyObject *s = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(out),
                                       PyBytes_GET_SIZE(out), "replace");
    Py_DECREF(out);
    return s;
}

/* --- memcpy / memset: state moves with the bytes ----------------------- */

static int ptr_arg(module_state *st, PyObject *o, const char *fn,
                   const char *which)
{
    if (hvpy_is_pointer(st, o)) return 0;
    PyErr_Format(PyExc_TypeError, "%s(): %s must be a Pointer, not %.100s", fn,
                 which, Py_TYPE(o)->tp_name);
    return -1;
}

/* The byte count n of memcpy/memset: one rule with malloc's size (a
 * negative n is what C sees as a huge size_t, reported as fishy). */
static int count_arg(module_state *st, HeapObject *heap, PyObject *o,
                     const char *fn, uint64_t *out)
{
    int fishy;
    if (hvpy_size_arg(o, fn, "n", out, &fishy) < 0) return -1;
    return fishy ? hvpy_fishy_size(st, heap, fn, "n", *out) : 0;
}

PyObject *hvpy_memcpy(PyObject *module, PyObject *const *args, Py_ssize_t n)
{
    module_state *st = hvpy_state(module);
    uint64_t len;
    if (hvpy_nargs("memcpy(dst, src, n)", n, 3) < 0 ||
        ptr_arg(st, args[0], "memcpy", "dst") < 0 ||
        ptr_arg(st, args[1], "memcpy", "src") < 0)
        return NULL;
    PointerObject *dst = (PointerObject *)args[0];
    PointerObject *src = (PointerObject *)args[1];
    HeapObject *heap = dst->heap ? dst->heap : src->heap;
    if (count_arg(st, heap, args[2], "memcpy", &len) < 0) return NULL;
    if (len == 0) return Py_NewRef(args[0]);
    if (heap != NULL && heap->checks != CHECKS_OFF &&
        dst->addr < src->addr + len && src->addr < dst->addr + len) {
        PyObject *extra = PyLong_FromUnsignedLongLong(src->addr);
        int rc = hvpy_memory_error(st, heap, HV_ERR_OVERLAP, dst->addr, len, 1,
                                   dst, extra);
        Py_XDECREF(extra);
        if (rc < 0) return NULL;
    }
    int p1, p2;
    uint8_t *s =
        hvpy_check_access(src, src->addr, len, ACC_COPY | ACC_BULK, &p1);
    if (s == NULL) return NULL;
    /* dst's check may run Python code (a report): hold the bytes first */
    uint8_t *tmp = PyMem_Malloc(len);
    if (tmp == NULL) return PyErr_NoMemory();
    memcpy(tmp, s, len);
    uint8_t *d =
        hvpy_check_access(dst, dst->addr, len, ACC_WRITE | ACC_BULK, &p2);
    if (d != NULL) memmove(d, tmp, len);
    PyMem_Free(tmp);
    if (d == NULL) return NULL;
    if (p1 == 1 && p2 == 1 && src->heap == dst->heap &&
        heap->checks != CHECKS_OFF)
        hv_shadow_copy(heap->h, dst->addr, src->addr, len);
    else
        mark_written(dst, dst->addr, len, p2);
    return Py_NewRef(args[0]);
}

PyObject *hvpy_memset(PyObject *module, PyObject *const *args, Py_ssize_t n)
{
    module_state *st = hvpy_state(module);
    uint64_t len;
    int c;
    if (hvpy_nargs("memset(dst, c, n)", n, 3) < 0 ||
        ptr_arg(st, args[0], "memset", "dst") < 0 ||
        hvpy_int_arg(args[1], "memset", "c", &c) < 0 ||
        count_arg(st, ((PointerObject *)args[0])->heap, args[2], "memset",
                  &len) < 0)
        return NULL;
    PointerObject *dst = (PointerObject *)args[0];
    if (len == 0) return Py_NewRef(args[0]);
    int proceed;
    uint8_t *d =
        hvpy_check_access(dst, dst->addr, len, ACC_WRITE | ACC_BULK, &proceed);
    if (d == NULL) return NULL;
    memset(d, (int)(unsigned char)c, len);
    mark_written(dst, dst->addr, len, proceed);
    return Py_NewRef(args[0]);
}

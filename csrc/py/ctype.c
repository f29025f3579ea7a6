/* ctype.c — C type names as students write them.
 *
 * sizeof("int") == 4, sizeof("int*") == 8, sizeof("int[10]") == 40, and
 * p.cast("double") for typed element access.  The machine model is LP64
 * (Linux x86-64 and arm64), the one the chapter's examples assume.
 */
#include "binding.h"

#include <ctype.h>
#include <string.h>

typedef struct {
    const char *name;
    tcode_t code;
    uint32_t size;
} base_type_t;

static const base_type_t base_types[] = {
    {"char", T_CHAR, 1},
    {"signed char", T_CHAR, 1},
    {"int8_t", T_CHAR, 1},
    {"unsigned char", T_BYTE, 1},
    {"uint8_t", T_BYTE, 1},
    {"byte", T_BYTE, 1},
    {"bool", T_BYTE, 1},
    {"_Bool", T_BYTE, 1},
    {"short", T_SHORT, 2},
    {"short int", T_SHORT, 2},
    {"int16_t", T_SHORT, 2},
    {"unsigned short", T_USHORT, 2},
    {"uint16_t", T_USHORT, 2},
    {"int", T_INT, 4},
    {"signed", T_INT, 4},
    {"signed int", T_INT, 4},
    {"int32_t", T_INT, 4},
    {"unsigned", T_UINT, 4},
    {"unsigned int", T_UINT, 4},
    {"uint32_t", T_UINT, 4},
    {"long", T_LONG, 8},
    {"long int", T_LONG, 8},
    {"long long", T_LONG, 8},
    {"int64_t", T_LONG, 8},
    {"ssize_t", T_LONG, 8},
    {"ptrdiff_t", T_LONG, 8},
    {"intptr_t", T_LONG, 8},
    {"unsigned long", T_ULONG, 8},
    {"unsigned long long", T_ULONG, 8},
    {"uint64_t", T_ULONG, 8},
    {"size_t", T_ULONG, 8},
    {"uintptr_t", T_ULONG, 8},
    {"float", T_FLOAT, 4},
    {"double", T_DOUBLE, 8},
    {"void", T_VOID, 1},
};

static const char *tnames[] = {
    "unsigned char", "char",         "short",   "unsigned short",
    "int",           "unsigned int", "long",    "unsigned long",
    "float",         "double",       "pointer", "void",
};

const char *hvpy_tcode_name(int tcode)
{
    return tcode >= 0 && tcode <= T_VOID ? tnames[tcode] : "?";
}

/* Collapse runs of blanks to one, drop blanks around '*', '[' and ']'. */
static void normalize(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    int pending_space = 0;
    for (; *in && n + 2 < cap; in++) {
        unsigned char ch = (unsigned char)*in;
        if (isspace(ch)) {
            pending_space = n > 0;
            continue;
        }
        if (pending_space && strchr("*[]", ch) == NULL &&
            strchr("*[]", out[n - 1]) == NULL)
            out[n++] = ' ';
        pending_space = 0;
        out[n++] = (char)ch;
    }
    out[n] = '\0';
}

static int bad_type(PyObject *name, const char *why)
{
    PyErr_Format(PyExc_ValueError,
                 "unknown C type %R: %s (known: char, short, int, long, "
                 "float, double, their unsigned forms, size_t, intN_t, "
                 "void, pointers like \"int*\" and arrays like \"int[10]\")",
                 name, why);
    return -1;
}

/* Strip trailing array dimensions, multiplying them into *count. */
static int strip_arrays(PyObject *name, char *t, uint64_t *count)
{
    *count = 1;
    size_t len = strlen(t);
    while (len > 0 && t[len - 1] == ']') {
        char *open = strrchr(t, '[');
        if (open == NULL) return bad_type(name, "unbalanced brackets");
        char *end;
        unsigned long long dim = strtoull(open + 1, &end, 10);
        if (end == open + 1 || *end != ']')
            return bad_type(name, "an array size must be a number");
        if (dim != 0 && *count > UINT64_MAX / dim / 16) {
            PyErr_Format(PyExc_OverflowError, "array type %R is too large",
                         name);
            return -1;
        }
        *count *= dim;
        *open = '\0';
        len = strlen(t);
    }
    return 0;
}

int hvpy_parse_ctype(PyObject *name, int *tcode, uint32_t *tsize,
                     PyObject **pointee, uint64_t *total)
{
    *pointee = NULL;
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError,
                     "a C type name must be a str like \"int\" or \"char*\", "
                     "not %.100s",
                     Py_TYPE(name)->tp_name);
        return -1;
    }
    const char *raw = PyUnicode_AsUTF8(name);
    if (raw == NULL) return -1;
    char t[128];
    if (strlen(raw) >= sizeof t) return bad_type(name, "too long");
    normalize(raw, t, sizeof t);
    uint64_t count;
    if (strip_arrays(name, t, &count) < 0) return -1;
    size_t len = strlen(t);
    if (len > 0 && t[len - 1] == '*') {
        t[len - 1] = '\0';
        if (t[0] == '\0')
            return bad_type(name, "a pointer needs a type before '*'");
        *pointee = PyUnicode_FromString(t);
        if (*pointee == NULL) return -1;
        *tcode = T_PTR;
        *tsize = 8;
        *total = 8 * count;
        return 0;
    }
    if (strncmp(t, "struct ", 7) == 0)
        return bad_type(name, "heapviz does not know struct layouts; use "
                              "\"struct name*\" for a pointer, or sizes");
    for (size_t i = 0; i < sizeof base_types / sizeof base_types[0]; i++) {
        if (strcmp(t, base_types[i].name) == 0) {
            *tcode = base_types[i].code;
            *tsize = base_types[i].size;
            if (base_types[i].code == T_VOID && count != 1)
                return bad_type(name, "there are no arrays of void");
            *total = (uint64_t)base_types[i].size * count;
            return 0;
        }
    }
    return bad_type(name, "not a type heapviz knows");
}

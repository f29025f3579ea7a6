/* vector.c — homework question 8: a vector that grows with realloc() as
 * elements are added (and frees what it made).  Run: ./vector N */
#include <stdio.h>
#include <stdlib.h>

typedef struct vector {
    int *items;
    size_t len, cap;
} vector_t;

static int push(vector_t *v, int x)
{
    if (v->len == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 2;
        int *items = realloc(v->items, cap * sizeof *items);
        if (!items) return -1;
        v->items = items;
        v->cap = cap;
    }
    v->items[v->len++] = x;
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    vector_t v = {NULL, 0, 0};
    for (int i = 0; i < n; i++)
        if (push(&v, i * 10)) return 1;
    long sum = 0;
    for (size_t i = 0; i < v.len; i++)
        sum += v.items[i];
    printf("%zu items (capacity %zu), sum %ld\n", v.len, v.cap, sum);
    free(v.items);
    return 0;
}

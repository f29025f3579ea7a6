/* workload.c — an allocation-heavy C program for bench/bench_c.py: words
 * counted in a hash table of malloc'd strings and nodes (the table doubles
 * and rehashes as it fills), a realloc'd array of every word seen, a qsort
 * of it, and everything freed.
 *
 *     ./workload N      (N words, drawn from a fixed generator) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *word;
    unsigned count;
    struct entry *next;
} entry_t;

static unsigned long long state = 88172645463325252ull;

static unsigned long long next_random(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static void make_word(char *buf)
{
    unsigned long long r = next_random();
    int len = 3 + (int)(r % 9);
    for (int i = 0; i < len; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (char)('a' + (r >> 59) % 12);
    }
    buf[len] = 0;
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Twice the buckets, every entry moved over. */
static entry_t **grow(entry_t **table, size_t *nbuckets)
{
    size_t n = *nbuckets * 2;
    entry_t **t = calloc(n, sizeof *t);
    for (size_t b = 0; b < *nbuckets; b++)
        for (entry_t *e = table[b], *next; e; e = next) {
            next = e->next;
            entry_t **slot = &t[hash(e->word) % n];
            e->next = *slot;
            *slot = e;
        }
    free(table);
    *nbuckets = n;
    return t;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    size_t nbuckets = 64, entries = 0;
    entry_t **table = calloc(nbuckets, sizeof *table);
    char **seen = NULL;
    size_t nseen = 0, cap = 0;
    char word[16];
    for (long i = 0; i < n; i++) {
        make_word(word);
        entry_t **slot = &table[hash(word) % nbuckets];
        entry_t *e = *slot;
        while (e && strcmp(e->word, word) != 0)
            e = e->next;
        if (!e) {
            e = malloc(sizeof *e);
            e->word = strdup(word);
            e->count = 0;
            e->next = *slot;
            *slot = e;
            if (++entries > nbuckets) table = grow(table, &nbuckets);
        }
        e->count++;
        if (nseen == cap) {
            cap = cap ? cap * 2 : 16;
            seen = realloc(seen, cap * sizeof *seen);
        }
        seen[nseen++] = e->word;
    }
    qsort(seen, nseen, sizeof *seen, by_text);
    printf("%ld words, first %s, last %s\n", n, nseen ? seen[0] : "-",
           nseen ? seen[nseen - 1] : "-");
    unsigned long distinct = 0, longest = 0;
    for (size_t b = 0; b < nbuckets; b++)
        for (entry_t *e = table[b], *next; e; e = next) {
            next = e->next;
            distinct++;
            if (e->count > longest) longest = e->count;
            free(e->word);
            free(e);
        }
    printf("%lu distinct, the most frequent %lu times\n", distinct, longest);
    free(seen);
    free(table);
    return 0;
}

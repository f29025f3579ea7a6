/* threads.c — four threads allocate and free at once on the one heap; each
 * leaves one block behind (held by a global table: still reachable), and
 * one thread loses a block (definitely lost). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
static char *kept[THREADS];

static void *work(void *arg)
{
    int id = (int)(long)arg;
    for (int i = 0; i < 2000; i++) {
        char *s = malloc(16 + (size_t)(i % 200));
        memset(s, 'a' + id, 16);
        free(s);
    }
    kept[id] = malloc(32);
    strcpy(kept[id], "kept");
    if (id == 2) {
        char *lost = malloc(24); /* <- leak in thread 2 */
        lost[0] = 1;
    }
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, work, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("%s %s\n", kept[0], kept[3]);
    return 0;
}

/* clean_realloc: growing and shrinking with realloc, keeping its result. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int n = 4;
    int *a = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++)
        a[i] = i;
    while (n < 64) {
        a = realloc(a, 2 * n * sizeof(int));
        for (int i = n; i < 2 * n; i++)
            a[i] = i;
        n *= 2;
    }
    a = realloc(a, 8 * sizeof(int));
    printf("%d %d\n", a[0], a[7]);
    free(a); /* realloc(a, 0) also frees, but glibc and valgrind differ on it */
    return 0;
}

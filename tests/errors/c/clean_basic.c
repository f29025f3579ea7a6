/* clean_basic: the chapter's API used correctly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    int *x = malloc(10 * sizeof(int));
    for (int i = 0; i < 10; i++)
        x[i] = i * i;
    int sum = 0;
    for (int i = 0; i < 10; i++)
        sum += x[i];
    printf("%d\n", sum);
    double *z = calloc(8, sizeof(double));
    printf("%g\n", z[7]);
    memset(x, 0, 10 * sizeof(int));
    int *y = malloc(10 * sizeof(int));
    memcpy(y, x, 10 * sizeof(int));
    printf("%d\n", y[9]);
    free(x);
    free(y);
    free(z);
    free(NULL);
    return 0;
}

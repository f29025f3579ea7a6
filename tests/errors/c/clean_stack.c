/* clean_stack: stack memory used only while its frame lives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int *square_all(const int *values, int n)
{
    int tmp[16];
    for (int i = 0; i < n; i++)
        tmp[i] = values[i] * values[i];
    int *result = malloc(n * sizeof(int));
    memcpy(result, tmp, n * sizeof(int));
    return result; /* heap memory outlives the frame */
}

int main(void)
{
    int counter[1];
    counter[0] = 0;
    int values[3] = {1, 2, 3};
    int *squares = square_all(values, 3);
    counter[0] += squares[2];
    printf("%d\n", counter[0]);
    free(squares);
    return 0;
}

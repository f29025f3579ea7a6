/* overflow_int_array: OSTEP homework — data[100] on malloc(100 ints). */
#include <stdlib.h>

int main(void)
{
    int *data = malloc(100 * sizeof(int));
    data[100] = 0; /* <- error */
    free(data);
    return 0;
}

/* funny_free.c — homework question 7: pass a funny value to free, a pointer
 * into the middle of the array. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *data = malloc(100 * sizeof(int));
    data[50] = 7;
    free(data + 50); /* <- error: Invalid free(), 200 bytes inside */
    printf("still running\n");
    free(data);
    return 0;
}

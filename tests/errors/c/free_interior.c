/* free_interior: free(data + 50) is not a pointer malloc() returned. */
#include <stdlib.h>

int main(void)
{
    int *data = malloc(100 * sizeof(int));
    free(data + 50); /* <- error */
    free(data);
    return 0;
}

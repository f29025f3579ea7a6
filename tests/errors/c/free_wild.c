/* free_wild: freeing a made-up address. */
#include <stdint.h>
#include <stdlib.h>

int main(void)
{
    int *p = (int *)(uintptr_t)0x87654321;
    free(p); /* <- error */
    return 0;
}

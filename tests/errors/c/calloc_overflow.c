/* calloc_overflow: nmemb * size does not fit in a size_t. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    size_t n = (size_t)1 << 62;
    long *table = calloc(n, sizeof(long)); /* <- error */
    printf("%s\n", table == NULL ? "NULL" : "not NULL");
    free(table);
    return 0;
}

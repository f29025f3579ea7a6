/* fishy_negative: a negative size becomes a huge size_t. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int count = 3, used = 5;
    char *p = malloc(count - used); /* <- error */
    printf("%s\n", p == NULL ? "NULL" : "not NULL");
    free(p);
    return 0;
}

/* double_free_corrupts_list: free(a); free(b); free(a) puts a on a LIFO free
 * list twice (glibc's fast bins only check the top of the list). */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    char *a = malloc(16);
    char *guard1 = malloc(16);
    char *b = malloc(16);
    char *guard2 = malloc(16);
    free(a);
    free(b);
    free(a); /* <- error */
    char *c = malloc(16);
    char *d = malloc(16);
    char *e = malloc(16);
    printf("%s\n", c == e ? "c and e are the same block" : "distinct");
    (void)guard1, (void)guard2, (void)d;
    return 0;
}

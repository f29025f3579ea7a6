/* forgot_free.c — homework question 4: allocate with malloc() and forget to
 * free before exiting.  The program runs fine; the leak check finds the
 * block, definitely lost, and the line that allocated it. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *numbers = malloc(10 * sizeof(int)); /* <- leak: 40 bytes */
    for (int i = 0; i < 10; i++)
        numbers[i] = i * i;
    printf("numbers[9] = %d\n", numbers[9]);
    return 0; /* no free(numbers) */
}

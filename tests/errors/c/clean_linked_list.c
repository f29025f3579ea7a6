/* clean_linked_list: a linked list built, walked and freed node by node. */
#include <stdio.h>
#include <stdlib.h>

struct node {
    int value;
    struct node *next;
};

static struct node *push(struct node *head, int value)
{
    struct node *n = malloc(sizeof *n);
    n->value = value;
    n->next = head;
    return n;
}

int main(void)
{
    struct node *head = NULL;
    for (int i = 0; i < 5; i++)
        head = push(head, i);
    int total = 0;
    for (struct node *n = head; n != NULL; n = n->next)
        total += n->value;
    printf("%d\n", total);
    while (head != NULL) {
        struct node *next = head->next;
        free(head);
        head = next;
    }
    return 0;
}

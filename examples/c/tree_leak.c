/* tree_leak.c — a binary tree whose left subtree is cut off without being
 * freed: its root is definitely lost, the nodes below it indirectly lost
 * (freeing the root would have freed them too). */
#include <stdio.h>
#include <stdlib.h>

typedef struct node {
    int key;
    struct node *left, *right;
} node_t;

static node_t *insert(node_t *t, int key)
{
    if (!t) {
        t = malloc(sizeof *t); /* <- every node is allocated here */
        t->key = key;
        t->left = t->right = NULL;
    } else if (key < t->key) {
        t->left = insert(t->left, key);
    } else {
        t->right = insert(t->right, key);
    }
    return t;
}

static void destroy(node_t *t)
{
    if (!t) return;
    destroy(t->left);
    destroy(t->right);
    free(t);
}

int main(void)
{
    int keys[] = {50, 30, 70, 20, 40, 60, 80, 35};
    node_t *root = NULL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        root = insert(root, keys[i]);
    root->left = NULL; /* <- the subtree 30 (20, 40, 35) is lost */
    printf("root %d, right %d\n", root->key, root->right->key);
    destroy(root);
    return 0;
}

#include "harness.h"
void test_realloc(void) {}

#include "harness.h"
void test_buddy(void) {}

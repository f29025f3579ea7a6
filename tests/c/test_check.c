#include "harness.h"
void test_check(void) {}

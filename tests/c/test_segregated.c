#include "harness.h"
void test_segregated(void) {}

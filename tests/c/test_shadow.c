#include "harness.h"
void test_shadow(void) {}

#include "harness.h"
void test_fit(void) {}

#include "harness.h"
void test_coalesce(void) {}

#include "harness.h"
void test_mmap(void) {}

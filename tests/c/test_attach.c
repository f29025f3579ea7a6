#include "harness.h"
void test_attach(void) {}

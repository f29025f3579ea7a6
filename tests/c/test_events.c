#include "harness.h"
void test_events(void) {}

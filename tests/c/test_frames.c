#include "harness.h"
void test_frames(void) {}

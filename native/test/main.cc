#include <cstdio>

#include "check.h"

int main() {
  int passed = 0, failed = 0;
  for (const check::Case& c : check::registry()) {
    const int before = check::failures();
    c.fn();
    if (check::failures() == before) {
      ++passed;
      std::printf("  ok   %s\n", c.name);
    } else {
      ++failed;
      std::printf("  FAIL %s\n", c.name);
    }
  }
  std::printf("core tests: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

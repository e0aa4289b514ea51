#include <chrono>
#include <cstdio>

#include "check.h"

int main() {
  int passed = 0, failed = 0;
  for (const check::Case& c : check::registry()) {
    const int before = check::failures();
    const auto start = std::chrono::steady_clock::now();
    c.fn();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (check::failures() == before) {
      ++passed;
      std::printf("  ok   %s (%.2f s)\n", c.name, seconds);
    } else {
      ++failed;
      std::printf("  FAIL %s (%.2f s)\n", c.name, seconds);
    }
  }
  std::printf("core tests: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

// A minimal test harness for the core (no third-party code): TEST(name) registers a function;
// CHECK(cond) records a failure with its location and continues.
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace check {

struct Case {
  const char* name;
  void (*fn)();
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& failures() {
  static int n = 0;
  return n;
}

struct Register {
  Register(const char* name, void (*fn)()) { registry().push_back(Case{name, fn}); }
};

}  // namespace check

#define TEST(name)                                                   \
  static void test_##name();                                         \
  static ::check::Register register_##name(#name, &test_##name);     \
  static void test_##name()

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      ++::check::failures();                                                     \
      std::fprintf(stderr, "  CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                            \
  } while (0)

// Input decoding shared by the harnesses of native/fuzz (docs/fuzzing.md).
//
// Shapes, modes and edge values come from the input bytes (FuzzedDataProvider); bulk data too,
// while bytes last. When they run out, values continue from a splitmix64 stream seeded by a
// hash of the whole input, so a large shape needs few bytes, is not degenerate (the provider
// alone returns zeros once exhausted) and is still a pure function of the input: every saved
// input replays exactly.
//
// Expensive cases (batches big enough to be split over threads) are gated by that hash, not by
// a byte the fuzzer can set, and only the first execution of a given input in a process takes
// the expensive path (Input::rare). libFuzzer runs many inputs again unchanged (a mutation can
// give back its parent: half the executions of a measured fuzz_rng_noise run were repeats), and
// a large input that entered the corpus with new coverage was re-run about 40 times as often as
// the hash alone allows, until the large cases took most of the time. So about one execution in
// `one_in` is large, whatever the corpus holds; a repeat runs as an ordinary case, and a saved
// input still replays its large case (the first execution in a fresh process).
#pragma once
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "../core/kernels.h"
#include "../core/parallel.h"

// Checking code (references, comparisons, invariants) is compiled without coverage hooks:
// it does not steer the fuzzer, and with comparison tracing its loops cost more than the
// kernels under test. Wrap it in FUZZ_UNCOVERED_BEGIN / FUZZ_UNCOVERED_END.
#define FUZZ_UNCOVERED_BEGIN _Pragma("clang attribute push(__attribute__((no_sanitize(\"coverage\"))), apply_to = function)")
#define FUZZ_UNCOVERED_END _Pragma("clang attribute pop")

namespace fuzz {

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data, size) {
    uint64_t h = 0xcbf29ce484222325ULL ^ size;  // FNV-1a, then a final mix
    for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ULL;
    hash_ = mix64(h);
    state_ = hash_;
  }

  // True for about one input in one_in (a property of the whole input), on its first execution
  // in this process only (see the top of this file).
  bool rare(uint64_t one_in) const {
    if ((hash_ >> 7) % one_in != 0) return false;
    static std::unordered_set<uint64_t> seen;
    return seen.insert(hash_).second;
  }
  bool exhausted() { return p_.remaining_bytes() == 0; }

  uint64_t bits() { return exhausted() ? next() : p_.ConsumeIntegral<uint64_t>(); }

  template <typename I>
  I range(I lo, I hi) {
    static_assert(std::is_integral<I>::value, "integral");
    if (!exhausted()) return p_.ConsumeIntegralInRange<I>(lo, hi);
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    const uint64_t r = span == UINT64_MAX ? next() : next() % (span + 1);
    return static_cast<I>(static_cast<uint64_t>(lo) + r);
  }
  bool flag() { return range<int>(0, 1) == 1; }
  // True with probability about 1/n.
  bool one_in(int n) { return range<int>(0, n - 1) == 0; }

  double uniform(double lo, double hi) {
    if (!exhausted()) return p_.ConsumeFloatingPointInRange<double>(lo, hi);
    const double u = static_cast<double>(next() >> 11) * 0x1p-53;
    return lo + (hi - lo) * u;
  }
  // Any double bit pattern, weighted towards the special ones (+-0, +-inf, NaN, subnormals,
  // extremes, 1) as FuzzedDataProvider::ConsumeFloatingPoint does.
  double any() {
    if (!exhausted()) return p_.ConsumeFloatingPoint<double>();
    const uint64_t b = next();
    switch (b & 15) {
      case 0: return 0.0;
      case 1: return -0.0;
      case 2: return std::numeric_limits<double>::infinity();
      case 3: return -std::numeric_limits<double>::infinity();
      case 4: return std::numeric_limits<double>::quiet_NaN();
      case 5: return std::numeric_limits<double>::denorm_min() * static_cast<double>(b >> 40);
      case 6: return std::numeric_limits<double>::max();
      case 7: return 1.0;
      default: {
        const uint64_t raw = mix64(b);
        double d;
        std::memcpy(&d, &raw, sizeof d);
        return d;
      }
    }
  }
  // A Gaussian-ish value from 16 bits (heavy tails up to about 1 in size), scaled.
  double gaussish(double scale) {
    const double u = (static_cast<double>(range<uint16_t>(0, 65535)) + 0.5) / 65536.0;
    return scale * std::tan(3.0 * (u - 0.5)) / 14.1;
  }

 private:
  uint64_t next() { return mix64(state_ += 0x9e3779b97f4a7c15ULL); }

  FuzzedDataProvider p_;
  uint64_t hash_, state_;
};

FUZZ_UNCOVERED_BEGIN

// Bitwise equality, any NaN equal to any NaN (payloads are not part of the contract).
template <typename T>
bool same(T a, T b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof(T)) == 0;
}

// A buffer whose data starts `shift` elements past a 64-byte boundary (odd offsets for the
// vector loads), with guard elements on both sides that must survive every call.
template <typename T>
class Shifted {
 public:
  Shifted(size_t n, size_t shift) : n_(n), shift_(shift), store_(new T[n + shift + kGuard + 64 / sizeof(T)]) {
    const uintptr_t at = reinterpret_cast<uintptr_t>(store_);
    base_ = store_ + (64 - at % 64) % 64 / sizeof(T);
    for (size_t i = 0; i < shift_; ++i) base_[i] = guard_value();
    for (size_t i = 0; i < kGuard; ++i) base_[shift_ + n_ + i] = guard_value();
  }
  ~Shifted() { delete[] store_; }
  Shifted(const Shifted&) = delete;
  Shifted& operator=(const Shifted&) = delete;

  T* data() { return base_ + shift_; }
  const T* data() const { return base_ + shift_; }
  T& operator[](size_t i) { return base_[shift_ + i]; }
  const T& operator[](size_t i) const { return base_[shift_ + i]; }
  size_t size() const { return n_; }
  bool guards_intact() const {
    for (size_t i = 0; i < shift_; ++i)
      if (!same(base_[i], guard_value())) return false;
    for (size_t i = 0; i < kGuard; ++i)
      if (!same(base_[shift_ + n_ + i], guard_value())) return false;
    return true;
  }

 private:
  static constexpr size_t kGuard = 8;
  static T guard_value() { return static_cast<T>(-1234.5); }
  size_t n_, shift_;
  T* store_;
  T* base_;
};

FUZZ_UNCOVERED_END

// The vector levels this CPU and build have, found by asking the dispatcher about every level
// number (so a level added to native/core/kernels.h is fuzzed without touching the harnesses).
inline const std::vector<tweedie::SimdLevel>& vector_levels() {
  static const std::vector<tweedie::SimdLevel> levels = [] {
    std::vector<tweedie::SimdLevel> out;
    for (int l = 1; l < 32; ++l) {
      const auto level = static_cast<tweedie::SimdLevel>(l);
      if (tweedie::simd_level_supported(level)) out.push_back(level);
    }
    return out;
  }();
  return levels;
}

// Restores the SIMD level and thread count when a check returns.
struct LevelGuard {
  tweedie::SimdLevel level = tweedie::current_simd_level();
  int threads = tweedie::thread_count();
  ~LevelGuard() {
    tweedie::set_simd_level(level);
    tweedie::set_thread_count(threads);
  }
};

}  // namespace fuzz

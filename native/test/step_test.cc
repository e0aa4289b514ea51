// The step family against direct per-element references: lincomb_rows (every term count, with
// and without noise, per-row coefficients, rows that straddle the noise chunk and the thread
// split) bit for bit at every SIMD level and thread count; copy_finite for every dtype pair,
// bad values anywhere, in place.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "../core/kernels.h"
#include "../core/parallel.h"
#include "../core/step.h"
#include "check.h"

using namespace tweedie;

namespace {

std::vector<SimdLevel> levels() {
  std::vector<SimdLevel> out;
  for (SimdLevel l : {SimdLevel::kScalar, SimdLevel::kSse2, SimdLevel::kAvx2, SimdLevel::kAvx512, SimdLevel::kNeon}) {
    if (simd_level_supported(l)) out.push_back(l);
  }
  return out;
}

// out[r, e] = sum_j c_j t_j (+ c_n z), z = T(normal(seed, stream_r, (index_hi << 32) + e)) from
// the scalar generator, accumulated left to right in double and rounded once.
template <typename T>
std::vector<T> reference(size_t rows, size_t dim, const std::vector<std::vector<T>>& terms, const std::vector<double>& coef,
                         bool per_row, const StepNoise* noise) {
  const int n = static_cast<int>(terms.size());
  std::vector<T> out(rows * dim);
  std::vector<double> z(dim);
  for (size_t r = 0; r < rows; ++r) {
    auto c = [&](int j) { return per_row ? coef[static_cast<size_t>(j) * rows + r] : coef[j]; };
    if (noise) scalar_kernels().f64.normal_fill(z.data(), dim, noise->seed, r, static_cast<uint64_t>(noise->index_hi) << 32);
    for (size_t e = 0; e < dim; ++e) {
      const size_t i = r * dim + e;
      double acc = c(0) * static_cast<double>(terms[0][i]);
      for (int j = 1; j < n; ++j) acc = acc + c(j) * static_cast<double>(terms[j][i]);
      if (noise) acc = acc + c(n) * static_cast<double>(static_cast<T>(z[e]));
      out[i] = static_cast<T>(acc);
    }
  }
  return out;
}

template <typename T>
void check_lincomb() {
  const size_t shapes[][2] = {{1, 1}, {3, 7}, {2, 511}, {2, 512}, {1, 513}, {3, 1500}, {2, 40001}, {70001, 1}};
  uint64_t salt = 1;
  for (const auto& shape : shapes) {
    const size_t rows = shape[0], dim = shape[1], len = rows * dim;
    for (int n = 1; n <= kMaxStepTerms; ++n) {
      if (len > 10000 && n != 2 && n != kMaxStepTerms) continue;  // the big shapes test the split, not the term count
      for (int variant = 0; variant < 4; ++variant) {
        const bool with_noise = variant & 1, per_row = variant & 2;
        std::vector<std::vector<T>> terms(n, std::vector<T>(len));
        for (int j = 0; j < n; ++j) {
          for (size_t i = 0; i < len; ++i) terms[j][i] = static_cast<T>(std::sin(static_cast<double>(i * 7 + j * 13 + salt)) * 5);
        }
        ++salt;
        const size_t n_coef = (n + (with_noise ? 1 : 0)) * (per_row ? rows : 1);
        std::vector<double> coef(n_coef);
        for (size_t k = 0; k < n_coef; ++k) coef[k] = std::cos(static_cast<double>(k) * 1.7 + salt);
        const StepNoise spec{0x0123456789abcdefull, nullptr, 0x10000000u + 8u * static_cast<uint32_t>(n)};
        const std::vector<T> want = reference<T>(rows, dim, terms, coef, per_row, with_noise ? &spec : nullptr);
        std::vector<const T*> ptrs(n);
        for (int j = 0; j < n; ++j) ptrs[j] = terms[j].data();
        for (SimdLevel level : levels()) {
          set_simd_level(level);
          for (int threads = 1; threads <= 3; ++threads) {
            set_thread_count(threads);
            std::vector<T> got(len);
            lincomb_rows(got.data(), rows, dim, ptrs.data(), n, coef.data(), per_row, with_noise ? &spec : nullptr);
            CHECK(std::memcmp(got.data(), want.data(), len * sizeof(T)) == 0);
          }
        }
      }
    }
  }
  set_simd_level(best_simd_level());
  set_thread_count(2);
}

template <typename T, typename U>
void check_copy_finite() {
  const U bad[] = {std::numeric_limits<U>::quiet_NaN(), std::numeric_limits<U>::infinity(), -std::numeric_limits<U>::infinity()};
  for (size_t n : {size_t{0}, size_t{1}, size_t{1023}, size_t{1025}, size_t{70001}, size_t{200000}}) {
    std::vector<U> src(n);
    for (size_t i = 0; i < n; ++i) src[i] = static_cast<U>(std::sin(static_cast<double>(i)) * 1e30);
    for (int threads = 1; threads <= 3; ++threads) {
      set_thread_count(threads);
      std::vector<T> out(n);
      CHECK(copy_finite(out.data(), src.data(), n) == n);
      for (size_t i = 0; i < n; ++i) CHECK(out[i] == static_cast<T>(src[i]));
      if (n == 0) continue;
      // bad values: the first one wins, wherever the others are
      const size_t spots[] = {n - 1, n / 2, n / 3, 0};
      std::vector<U> dirty = src;
      for (size_t s = 0; s < 4; ++s) {
        dirty[spots[s]] = bad[s % 3];
        const size_t first = *std::min_element(spots, spots + s + 1);
        CHECK(copy_finite(out.data(), dirty.data(), n) == first);
      }
    }
  }
  set_thread_count(2);
}

}  // namespace

TEST(lincomb_rows_matches_reference_float64) { check_lincomb<double>(); }
TEST(lincomb_rows_matches_reference_float32) { check_lincomb<float>(); }

TEST(copy_finite_all_dtype_pairs) {
  check_copy_finite<double, double>();
  check_copy_finite<double, float>();
  check_copy_finite<float, double>();
  check_copy_finite<float, float>();
}

TEST(copy_finite_in_place_only_checks) {
  std::vector<float> a(5000, 1.5f);
  CHECK(copy_finite(a.data(), a.data(), a.size()) == a.size());
  a[4321] = std::numeric_limits<float>::infinity();
  CHECK(copy_finite(a.data(), a.data(), a.size()) == 4321);
  // a finite double beyond float's range rounds to infinity in a float32 output (as a JS set() does)
  std::vector<double> big(3, 1e300);
  std::vector<float> out(3);
  CHECK(copy_finite(out.data(), big.data(), 3) == 3);
  CHECK(std::isinf(out[0]));
}

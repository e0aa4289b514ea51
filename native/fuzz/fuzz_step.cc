// libFuzzer harness: the step kernel (lincomb_rows) against a plain reference loop written
// here from its definition (left-to-right float64 accumulation, one rounding, noise z rounded
// to T), bit for bit, for any shape, coefficients (including non-finite), noise tag and stream
// ids, in place or not.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../core/kernels.h"
#include "../core/step.h"

using namespace tweedie;

namespace {

template <typename T>
void check_equal(const std::vector<T>& a, const std::vector<T>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    const bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
    if (!both_nan && std::memcmp(&a[i], &b[i], sizeof(T)) != 0) std::abort();
  }
}

template <typename T>
void run(FuzzedDataProvider& p) {
  const size_t rows = p.ConsumeIntegralInRange<size_t>(1, 6);
  const size_t dim = p.ConsumeIntegralInRange<size_t>(1, 70);
  const int n_terms = p.ConsumeIntegralInRange<int>(1, kMaxStepTerms);
  const bool per_row = p.ConsumeBool();
  const bool with_noise = p.ConsumeBool();
  const bool in_place = p.ConsumeBool();
  const bool own_streams = p.ConsumeBool();
  const size_t n = rows * dim;
  std::vector<std::vector<T>> terms(n_terms, std::vector<T>(n));
  for (auto& t : terms)
    for (auto& v : t) v = static_cast<T>(p.ConsumeFloatingPointInRange<double>(-1e3, 1e3));
  const int n_coef = n_terms + (with_noise ? 1 : 0);
  std::vector<double> coef(static_cast<size_t>(n_coef) * (per_row ? rows : 1));
  for (auto& c : coef) c = p.ConsumeBool() ? p.ConsumeFloatingPoint<double>() : p.ConsumeFloatingPointInRange<double>(-5, 5);
  StepNoise noise{p.ConsumeIntegral<uint64_t>(), nullptr, p.ConsumeIntegral<uint32_t>()};
  std::vector<uint32_t> words(2 * rows);
  for (auto& w : words) w = p.ConsumeIntegral<uint32_t>();
  if (own_streams) noise.stream_words = words.data();

  // reference
  std::vector<T> want(n);
  for (size_t r = 0; r < rows; ++r) {
    std::vector<T> z(dim);
    if (with_noise) {
      const uint64_t stream = own_streams ? (static_cast<uint64_t>(words[2 * r + 1]) << 32) | words[2 * r] : r;
      if constexpr (sizeof(T) == 8) scalar_kernels().f64.normal_fill(z.data(), dim, noise.seed, stream, static_cast<uint64_t>(noise.index_hi) << 32);
      else scalar_kernels().f32.normal_fill(z.data(), dim, noise.seed, stream, static_cast<uint64_t>(noise.index_hi) << 32);
    }
    for (size_t e = 0; e < dim; ++e) {
      const size_t i = r * dim + e;
      auto cf = [&](int j) { return per_row ? coef[static_cast<size_t>(j) * rows + r] : coef[j]; };
      double acc = cf(0) * static_cast<double>(terms[0][i]);
      for (int j = 1; j < n_terms; ++j) {
        const double prod = cf(j) * static_cast<double>(terms[j][i]);
        acc = acc + prod;
      }
      if (with_noise) {
        const double pz = cf(n_terms) * static_cast<double>(z[e]);
        acc = acc + pz;
      }
      want[i] = static_cast<T>(acc);
    }
  }
  std::vector<std::vector<T>> ts(terms);
  std::vector<T> got(n);
  T* out = in_place ? ts[0].data() : got.data();
  std::vector<const T*> ptrs;
  for (auto& t : ts) ptrs.push_back(t.data());
  lincomb_rows(out, rows, dim, ptrs.data(), n_terms, coef.data(), per_row, with_noise ? &noise : nullptr);
  check_equal(want, in_place ? ts[0] : got);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  if (p.ConsumeBool()) run<double>(p);
  else run<float>(p);
  return 0;
}

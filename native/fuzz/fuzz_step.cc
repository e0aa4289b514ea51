// libFuzzer harness: the step kernels. lincomb_rows at the scalar level and every vector level
// against a plain reference loop written here from its definition (left-to-right float64
// accumulation, one rounding, noise z rounded to T), bit for bit, for any shape, coefficients
// (including non-finite), noise tag and stream ids (edges of the 32-bit words included), out of
// place or in place over any one of the terms. Work per input is capped (terms x elements <=
// 4096, dim mostly <= 20); about one input in 4096 has 2^15..1.5 * 2^16 elements and runs at 3
// threads, so the call is split into 2 or 3 parts with split points inside rows. Every buffer
// starts 0-7 elements past a 64-byte boundary and has guard elements after it. Then copy_finite
// (one code path for every level) on the first term with up to three elements made NaN or
// infinite, for each pair of float32 / float64 types and in place: the index of the first
// non-finite element, and the copy rounded once when there is none.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "../core/kernels.h"
#include "../core/parallel.h"
#include "../core/step.h"
#include "fuzz_input.h"

using namespace tweedie;
using fuzz::Input;
using fuzz::Shifted;

namespace {

constexpr size_t kMaxWork = 4096;

// ---- decoding (instrumented: it steers the fuzzer) ---------------------------------------------

uint32_t edge_u32(Input& in) {
  const uint32_t small = in.range<uint32_t>(0, 16);
  switch (in.range<int>(0, 2)) {
    case 0: return small;
    case 1: return UINT32_MAX - small;
    default: return in.range<uint32_t>(0, UINT32_MAX);
  }
}

struct Case {
  bool large = false;
  size_t rows = 1, dim = 1, shift = 0;
  int n_terms = 1, in_place = -1;  // out is term in_place (or a buffer of its own when -1)
  bool per_row = false, with_noise = false, own_streams = false;
  std::vector<std::vector<double>> terms;
  std::vector<double> coef;
  uint64_t seed = 0;
  uint32_t index_hi = 0;
  std::vector<uint32_t> words;
  // copy_finite: the first term with these elements replaced by NaN, +inf or -inf
  std::vector<size_t> bad_at;
  std::vector<double> bad_value;
};

void decode(Input& in, Case* k, bool large) {
  k->large = large;
  if (large) {
    k->n_terms = in.range<int>(1, 3);
    k->dim = in.one_in(4) ? in.range<size_t>(1, 7) : in.range<size_t>(8, 5000);
    const size_t want = (size_t(1) << 15) + 1 + in.range<size_t>(0, (size_t(1) << 16) + (size_t(1) << 14));
    k->rows = (want + k->dim - 1) / k->dim;
  } else {
    k->n_terms = in.range<int>(1, kMaxStepTerms);
    k->rows = in.range<size_t>(1, 8);
    k->dim = in.one_in(4) ? in.range<size_t>(1, 130) : in.range<size_t>(1, 20);
    const size_t nt = static_cast<size_t>(k->n_terms);
    while (k->rows > 1 && k->rows * k->dim * nt > kMaxWork) --k->rows;
  }
  k->per_row = in.flag();
  k->with_noise = in.flag();
  k->in_place = in.flag() ? in.range<int>(0, k->n_terms - 1) : -1;
  k->own_streams = in.flag();
  k->shift = in.range<size_t>(0, 7);
  const size_t n = k->rows * k->dim;
  k->terms.assign(static_cast<size_t>(k->n_terms), std::vector<double>(n));
  for (auto& t : k->terms)
    for (double& v : t) v = in.uniform(-1e3, 1e3);
  const int n_coef = k->n_terms + (k->with_noise ? 1 : 0);
  k->coef.resize(static_cast<size_t>(n_coef) * (k->per_row ? k->rows : 1));
  for (double& c : k->coef) c = in.flag() ? in.any() : in.uniform(-5, 5);
  k->seed = in.bits();
  k->index_hi = edge_u32(in);
  k->words.resize(2 * k->rows);
  for (uint32_t& w : k->words) w = edge_u32(in);
  const int n_bad = in.range<int>(0, 3);
  const double specials[3] = {NAN, HUGE_VAL, -HUGE_VAL};
  for (int b = 0; b < n_bad; ++b) {
    k->bad_at.push_back(in.range<size_t>(0, n - 1));
    k->bad_value.push_back(specials[in.range<int>(0, 2)]);
  }
}

// ---- checking (not instrumented) -------------------------------------------------------------
FUZZ_UNCOVERED_BEGIN

template <typename T>
void check_equal(const Shifted<T>& want, const Shifted<T>& got) {
  if (std::memcmp(want.data(), got.data(), want.size() * sizeof(T)) != 0) {
    for (size_t i = 0; i < want.size(); ++i) {
      if (!fuzz::same(want[i], got[i])) std::abort();
    }
  }
  if (!got.guards_intact()) std::abort();
}

template <typename T>
void check(const Case& k) {
  const size_t rows = k.rows, dim = k.dim, n = rows * dim, shift = k.shift;
  const int n_terms = k.n_terms;
  std::vector<std::unique_ptr<Shifted<T>>> terms;
  for (int j = 0; j < n_terms; ++j) {
    terms.emplace_back(new Shifted<T>(n, (shift + static_cast<size_t>(j)) % 8));
    for (size_t i = 0; i < n; ++i) (*terms[j])[i] = static_cast<T>(k.terms[j][i]);
  }
  StepNoise noise{k.seed, k.own_streams ? k.words.data() : nullptr, k.index_hi};

  // reference
  Shifted<T> want(n, shift);
  std::vector<T> z(dim);
  for (size_t r = 0; r < rows; ++r) {
    if (k.with_noise) {
      const uint64_t stream = k.own_streams ? (static_cast<uint64_t>(k.words[2 * r + 1]) << 32) | k.words[2 * r] : r;
      const uint64_t index0 = static_cast<uint64_t>(k.index_hi) << 32;
      if constexpr (sizeof(T) == 8) scalar_kernels().f64.normal_fill(z.data(), dim, k.seed, stream, index0);
      else scalar_kernels().f32.normal_fill(z.data(), dim, k.seed, stream, index0);
    }
    auto cf = [&](int j) { return k.per_row ? k.coef[static_cast<size_t>(j) * rows + r] : k.coef[j]; };
    for (size_t e = 0; e < dim; ++e) {
      const size_t i = r * dim + e;
      double acc = cf(0) * static_cast<double>((*terms[0])[i]);
      for (int j = 1; j < n_terms; ++j) {
        const double prod = cf(j) * static_cast<double>((*terms[j])[i]);
        acc = acc + prod;
      }
      if (k.with_noise) {
        const double pz = cf(n_terms) * static_cast<double>(z[e]);
        acc = acc + pz;
      }
      want[i] = static_cast<T>(acc);
    }
  }

  fuzz::LevelGuard guard;
  set_thread_count(k.large ? 3 : 1);
  std::vector<SimdLevel> levels{SimdLevel::kScalar};
  levels.insert(levels.end(), fuzz::vector_levels().begin(), fuzz::vector_levels().end());
  const bool in_place = k.in_place >= 0;
  Shifted<T> got(n, in_place ? (shift + static_cast<size_t>(k.in_place)) % 8 : shift);
  std::vector<const T*> ptrs(static_cast<size_t>(n_terms));
  for (SimdLevel level : levels) {
    if (!set_simd_level(level)) std::abort();
    for (int j = 0; j < n_terms; ++j) ptrs[j] = terms[j]->data();
    if (in_place) {
      std::memcpy(got.data(), terms[k.in_place]->data(), n * sizeof(T));
      ptrs[k.in_place] = got.data();
    }
    lincomb_rows(got.data(), rows, dim, ptrs.data(), n_terms, k.coef.data(), k.per_row, k.with_noise ? &noise : nullptr);
    check_equal(want, got);
  }
  for (const auto& t : terms)
    if (!t->guards_intact()) std::abort();
}

// copy_finite from U to T, out of place and (T = U) in place.
template <typename T, typename U>
void check_copy(const Case& k) {
  const size_t n = k.rows * k.dim;
  Shifted<U> src(n, k.shift);
  for (size_t i = 0; i < n; ++i) src[i] = static_cast<U>(k.terms[0][i]);
  size_t first = n;
  for (size_t b = 0; b < k.bad_at.size(); ++b) {
    src[k.bad_at[b]] = static_cast<U>(k.bad_value[b]);
    first = k.bad_at[b] < first ? k.bad_at[b] : first;
  }
  std::vector<U> before(src.data(), src.data() + n);
  Shifted<T> out(n, (k.shift + 3) % 8);
  if (copy_finite(out.data(), src.data(), n) != first) std::abort();
  if (first == n) {
    for (size_t i = 0; i < n; ++i)
      if (!fuzz::same(out[i], static_cast<T>(src[i]))) std::abort();
  }
  if (!out.guards_intact() || std::memcmp(before.data(), src.data(), n * sizeof(U)) != 0) std::abort();
  if constexpr (std::is_same_v<T, U>) {
    if (copy_finite(src.data(), src.data(), n) != first) std::abort();
    if (std::memcmp(before.data(), src.data(), n * sizeof(U)) != 0 || !src.guards_intact()) std::abort();
  }
}

template <typename T>
void check_copies(const Case& k) {
  set_thread_count(k.large ? 3 : 1);
  check_copy<T, double>(k);
  check_copy<T, float>(k);
}

FUZZ_UNCOVERED_END

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  Case k;
  const bool large = in.rare(4096);
  const bool f64 = in.flag();
  decode(in, &k, large);
  if (f64) check<double>(k);
  else check<float>(k);
  if (f64) check_copies<double>(k);
  else check_copies<float>(k);
  return 0;
}

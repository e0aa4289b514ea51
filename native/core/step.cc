#include "step.h"

#include <atomic>
#include <cmath>
#include <cstring>

#include "kernels.h"
#include "parallel.h"

namespace tweedie {
namespace {

constexpr size_t kMinGrain = 1 << 15;

// Chunk of normals drawn at once by the noisy combination (on the stack).
constexpr size_t kNoiseChunk = 512;

// One run with a compile-time term count, so that the loop over i vectorises (element-wise
// IEEE operations in the reference's order: the same bits as the scalar loop). z, when given,
// holds the run's normals already rounded to T.
template <typename T, int N>
void lincomb_fixed(T* out, const T* const* terms, const double* c, size_t len, const T* z, double cz) {
  const T* t[N];
  for (int j = 0; j < N; ++j) t[j] = terms[j];
  if (z == nullptr) {
    for (size_t i = 0; i < len; ++i) {
      double acc = c[0] * static_cast<double>(t[0][i]);
      for (int j = 1; j < N; ++j) acc = acc + c[j] * static_cast<double>(t[j][i]);
      out[i] = static_cast<T>(acc);
    }
  } else {
    for (size_t i = 0; i < len; ++i) {
      double acc = c[0] * static_cast<double>(t[0][i]);
      for (int j = 1; j < N; ++j) acc = acc + c[j] * static_cast<double>(t[j][i]);
      out[i] = static_cast<T>(acc + cz * static_cast<double>(z[i]));
    }
  }
}

template <typename T>
void lincomb_run(T* out, const T* const* terms, int n_terms, const double* c, size_t len, const T* z, double cz) {
  switch (n_terms) {
    case 1: return lincomb_fixed<T, 1>(out, terms, c, len, z, cz);
    case 2: return lincomb_fixed<T, 2>(out, terms, c, len, z, cz);
    case 3: return lincomb_fixed<T, 3>(out, terms, c, len, z, cz);
    case 4: return lincomb_fixed<T, 4>(out, terms, c, len, z, cz);
    case 5: return lincomb_fixed<T, 5>(out, terms, c, len, z, cz);
    case 6: return lincomb_fixed<T, 6>(out, terms, c, len, z, cz);
    case 7: return lincomb_fixed<T, 7>(out, terms, c, len, z, cz);
    default: return lincomb_fixed<T, kMaxStepTerms>(out, terms, c, len, z, cz);
  }
}

// The noisy run: normals index0, index0 + 1, ... of (seed, stream) in chunks, drawn by the
// active SIMD level's generator (bit-identical to the scalar one) and rounded to T as addNoise's
// eps is.
template <typename T>
void lincomb_noise_run(T* out, const T* const* terms, int n_terms, const double* c, size_t len, uint64_t seed,
                       uint64_t stream, uint64_t index0) {
  const auto& k = kernels_for<T>(active_kernels());
  T z[kNoiseChunk];
  const T* shifted[kMaxStepTerms];
  for (size_t i = 0; i < len; i += kNoiseChunk) {
    const size_t m = len - i < kNoiseChunk ? len - i : kNoiseChunk;
    k.normal_fill(z, m, seed, stream, index0 + i);
    for (int j = 0; j < n_terms; ++j) shifted[j] = terms[j] + i;
    lincomb_run(out + i, shifted, n_terms, c, m, z, c[n_terms]);
  }
}

// Bits of the exponent field: a value is NaN or infinite exactly when all of them are set.
template <typename U>
struct ExponentBits;
template <>
struct ExponentBits<double> {
  using Word = uint64_t;
  static constexpr Word kMask = 0x7FF0000000000000ull;
};
template <>
struct ExponentBits<float> {
  using Word = uint32_t;
  static constexpr Word kMask = 0x7F800000u;
};

// Whether src[0, n) is all finite: branch-free over the exponent bits (vectorises).
template <typename U>
bool all_finite(const U* src, size_t n) {
  using Word = typename ExponentBits<U>::Word;
  constexpr Word kMask = ExponentBits<U>::kMask;
  Word any = 0;
  for (size_t i = 0; i < n; ++i) {
    Word w;
    std::memcpy(&w, src + i, sizeof w);
    any |= static_cast<Word>((w & kMask) == kMask);
  }
  return any == 0;
}

// Elements checked and then copied at a time, so that the copy reads them from L1.
constexpr size_t kCheckBlock = 1024;

}  // namespace

template <typename T>
void lincomb_rows(T* out, size_t rows, size_t dim, const T* const* terms, int n_terms, const double* coef,
                  bool coef_per_row, const StepNoise* noise) {
  if (rows == 0 || dim == 0 || n_terms < 1 || n_terms > kMaxStepTerms) return;
  const int n_coef = n_terms + (noise ? 1 : 0);
  parallel_for(rows * dim, kMinGrain, 8, [&](size_t begin, size_t end) {
    size_t row = begin / dim;
    size_t e0 = begin - row * dim;
    size_t flat = begin;
    const T* shifted[kMaxStepTerms];
    double c[kMaxStepTerms + 1];
    while (flat < end) {
      const size_t e1 = (end - flat < dim - e0) ? e0 + (end - flat) : dim;
      for (int j = 0; j < n_terms; ++j) shifted[j] = terms[j] + flat;
      for (int j = 0; j < n_coef; ++j) c[j] = coef_per_row ? coef[static_cast<size_t>(j) * rows + row] : coef[j];
      if (noise) {
        const uint64_t stream = noise->stream_words
                                    ? (static_cast<uint64_t>(noise->stream_words[2 * row + 1]) << 32) |
                                          noise->stream_words[2 * row]
                                    : static_cast<uint64_t>(row);
        lincomb_noise_run(out + flat, shifted, n_terms, c, e1 - e0, noise->seed, stream,
                          (static_cast<uint64_t>(noise->index_hi) << 32) | e0);
      } else {
        lincomb_run<T>(out + flat, shifted, n_terms, c, e1 - e0, nullptr, 0.0);
      }
      flat += e1 - e0;
      ++row;
      e0 = 0;
    }
  });
}

template <typename T, typename U>
size_t copy_finite(T* out, const U* src, size_t n) {
  // Each part checks and copies its range block by block and stops at a bad block; the smallest
  // bad index over the parts wins, so the result does not depend on the split.
  std::atomic<size_t> first{n};
  const bool copy = static_cast<const void*>(out) != static_cast<const void*>(src);
  parallel_for(n, kMinGrain, 8, [&](size_t begin, size_t end) {
    for (size_t b = begin; b < end; b += kCheckBlock) {
      const size_t e = end - b < kCheckBlock ? end : b + kCheckBlock;
      if (!all_finite(src + b, e - b)) {
        size_t bad = b;
        while (std::isfinite(src[bad])) ++bad;
        size_t seen = first.load(std::memory_order_relaxed);
        while (bad < seen && !first.compare_exchange_weak(seen, bad, std::memory_order_relaxed)) {
        }
        return;
      }
      if (copy) {
        for (size_t i = b; i < e; ++i) out[i] = static_cast<T>(src[i]);
      }
    }
  });
  return first.load(std::memory_order_relaxed);
}

template void lincomb_rows<double>(double*, size_t, size_t, const double* const*, int, const double*, bool,
                                   const StepNoise*);
template void lincomb_rows<float>(float*, size_t, size_t, const float* const*, int, const double*, bool,
                                  const StepNoise*);

template size_t copy_finite<double, double>(double*, const double*, size_t);
template size_t copy_finite<double, float>(double*, const float*, size_t);
template size_t copy_finite<float, double>(float*, const double*, size_t);
template size_t copy_finite<float, float>(float*, const float*, size_t);

}  // namespace tweedie

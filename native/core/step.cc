#include "step.h"

#include "parallel.h"
#include "pbm.h"

namespace tweedie {
namespace {

constexpr size_t kMinGrain = 1 << 15;

template <typename T>
void lincomb_run(T* out, const T* const* terms, int n_terms, const double* c, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    double acc = c[0] * static_cast<double>(terms[0][i]);
    for (int j = 1; j < n_terms; ++j) {
      const double p = c[j] * static_cast<double>(terms[j][i]);
      acc = acc + p;
    }
    out[i] = static_cast<T>(acc);
  }
}

template <typename T>
void lincomb_noise_run(T* out, const T* const* terms, int n_terms, const double* c, size_t len, uint64_t seed,
                       uint64_t stream, uint64_t index0) {
  const double cz = c[n_terms];
  size_t i = 0;
  uint64_t block = index0 >> 2;
  unsigned lane = static_cast<unsigned>(index0 & 3u);
  while (i < len) {
    double z[4];
    pbm::normals4(philox_normal_block(seed, stream, block), z);
    for (; lane < 4 && i < len; ++lane, ++i) {
      double acc = c[0] * static_cast<double>(terms[0][i]);
      for (int j = 1; j < n_terms; ++j) {
        const double p = c[j] * static_cast<double>(terms[j][i]);
        acc = acc + p;
      }
      const double pz = cz * static_cast<double>(static_cast<T>(z[lane]));
      out[i] = static_cast<T>(acc + pz);
    }
    lane = 0;
    ++block;
  }
}

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
        lincomb_run(out + flat, shifted, n_terms, c, e1 - e0);
      }
      flat += e1 - e0;
      ++row;
      e0 = 0;
    }
  });
}

template void lincomb_rows<double>(double*, size_t, size_t, const double* const*, int, const double*, bool,
                                   const StepNoise*);
template void lincomb_rows<float>(float*, size_t, size_t, const float* const*, int, const double*, bool,
                                  const StepNoise*);

}  // namespace tweedie

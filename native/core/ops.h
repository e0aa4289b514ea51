// The core's entry points: whole-array operations on plain pointers, split over threads and
// dispatched to the active SIMD level. No Node headers; callers validate shapes and aliasing.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tweedie {

// out[i] = normal(seed, stream, offset + i) for i < n; offset + n must not exceed 2^64.
template <typename T>
void normal_fill(T* out, size_t n, uint64_t seed, uint64_t stream, uint64_t offset);

// Per-row coefficients: a[row * a_stride] (a_stride 0 broadcasts one value).
struct RowCoefficients {
  const double* a;
  size_t a_stride;
  const double* c;
  size_t c_stride;
};

// out[r, e] = a_r * x[r, e] + c_r * y[r, e] over rows x dim, in double, rounded once.
// out may equal x or y (same pointer); other overlap is not allowed.
template <typename T>
void combine2_rows(T* out, const T* x, const T* y, size_t rows, size_t dim, RowCoefficients k);

// eps[r, e] = T(normal(seed, stream_r, e)) with stream_r = the 64-bit id in stream_words[2r]
// (low word) and stream_words[2r + 1] (high word), or r when stream_words is null;
// out[r, e] = a_r * x0[r, e] + c_r * eps[r, e]; eps_out (nullable) receives eps.
template <typename T>
void add_noise_rows(T* out, T* eps_out, const T* x0, size_t rows, size_t dim, RowCoefficients k,
                    uint64_t seed, const uint32_t* stream_words);

}  // namespace tweedie

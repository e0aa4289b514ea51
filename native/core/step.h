// The `step` family: the fused linear combinations samplers need, so a sampler step over a
// large batch is one pass over memory:
//   out[r, e] = sum_j coef[j][r] * term_j[r, e]  (+ coef[n][r] * z[r, e])
// accumulated left to right in double, rounded once to T. z is the normal
// normal(seed, stream_r, index_hi * 2^32 + e) rounded to T (as addNoise's eps is).
#pragma once
#include <cstddef>
#include <cstdint>

namespace tweedie {

constexpr int kMaxStepTerms = 8;

struct StepNoise {
  uint64_t seed;
  const uint32_t* stream_words;  // (lo, hi) per row, or null for stream = row index
  uint32_t index_hi;             // purpose tag: high word of the normal index
};

// coef holds n_terms (+1 with noise) coefficients: coef[j] for every row, or coef[j * rows + r]
// when coef_per_row. out may be one of the terms (same pointer); no other overlap.
template <typename T>
void lincomb_rows(T* out, size_t rows, size_t dim, const T* const* terms, int n_terms, const double* coef,
                  bool coef_per_row, const StepNoise* noise);

// Copies src[0, n) into out, rounded once to T (float64 to float32) or exactly, and returns the
// index of the first element of src that is NaN or infinite, or n when all are finite (the
// check a model's output gets before a sampler uses it, in the same pass as the copy). out may
// be src itself (then it only checks); no other overlap. When the result is below n, out's
// content is unspecified.
template <typename T, typename U>
size_t copy_finite(T* out, const U* src, size_t n);

}  // namespace tweedie

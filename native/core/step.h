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

}  // namespace tweedie

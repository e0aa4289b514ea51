#include "ops.h"

#include "kernels.h"
#include "parallel.h"

namespace tweedie {
namespace {

// Below this many elements a job runs on the calling thread: waking workers costs more.
constexpr size_t kMinGrain = 1 << 15;

// Calls fn(row, e0, e1, flat) for each run of row `row`, columns [e0, e1), that meets the flat
// range [begin, end) of a rows x dim array; flat = row * dim + e0.
template <typename Fn>
inline void for_row_runs(size_t begin, size_t end, size_t dim, Fn fn) {
  size_t row = begin / dim;
  size_t e0 = begin - row * dim;
  size_t flat = begin;
  while (flat < end) {
    const size_t e1 = (end - flat < dim - e0) ? e0 + (end - flat) : dim;
    fn(row, e0, e1, flat);
    flat += e1 - e0;
    ++row;
    e0 = 0;
  }
}

}  // namespace

template <typename T>
void normal_fill(T* out, size_t n, uint64_t seed, uint64_t stream, uint64_t offset) {
  const auto& k = kernels_for<T>(active_kernels());
  parallel_for(n, kMinGrain, 4, [&](size_t begin, size_t end) {
    k.normal_fill(out + begin, end - begin, seed, stream, offset + begin);
  });
}

template <typename T>
void combine2_rows(T* out, const T* x, const T* y, size_t rows, size_t dim, RowCoefficients c) {
  if (rows == 0 || dim == 0) return;
  const auto& k = kernels_for<T>(active_kernels());
  parallel_for(rows * dim, kMinGrain, 8, [&](size_t begin, size_t end) {
    for_row_runs(begin, end, dim, [&](size_t row, size_t e0, size_t e1, size_t flat) {
      (void)e0;
      k.combine2(out + flat, x + flat, y + flat, c.a[row * c.a_stride], c.c[row * c.c_stride], e1 - e0);
    });
  });
}

template <typename T>
void add_noise_rows(T* out, T* eps_out, const T* x0, size_t rows, size_t dim, RowCoefficients c,
                    uint64_t seed, const uint32_t* stream_words) {
  if (rows == 0 || dim == 0) return;
  const auto& k = kernels_for<T>(active_kernels());
  parallel_for(rows * dim, kMinGrain, 8, [&](size_t begin, size_t end) {
    for_row_runs(begin, end, dim, [&](size_t row, size_t e0, size_t e1, size_t flat) {
      const uint64_t stream =
          stream_words ? (static_cast<uint64_t>(stream_words[2 * row + 1]) << 32) | stream_words[2 * row]
                       : static_cast<uint64_t>(row);
      k.noise_inline(out + flat, eps_out ? eps_out + flat : nullptr, x0 + flat, c.a[row * c.a_stride],
                     c.c[row * c.c_stride], e1 - e0, seed, stream, e0);
    });
  });
}

template void normal_fill<double>(double*, size_t, uint64_t, uint64_t, uint64_t);
template void normal_fill<float>(float*, size_t, uint64_t, uint64_t, uint64_t);
template void combine2_rows<double>(double*, const double*, const double*, size_t, size_t, RowCoefficients);
template void combine2_rows<float>(float*, const float*, const float*, size_t, size_t, RowCoefficients);
template void add_noise_rows<double>(double*, double*, const double*, size_t, size_t, RowCoefficients,
                                     uint64_t, const uint32_t*);
template void add_noise_rows<float>(float*, float*, const float*, size_t, size_t, RowCoefficients,
                                    uint64_t, const uint32_t*);

}  // namespace tweedie

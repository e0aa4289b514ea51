// The scalar reference kernels: the definition every vector path is tested against.
#include "kernels.h"
#include "pbm.h"

namespace tweedie {
namespace {

// Calls emit(i, z) for normals index0 .. index0 + n - 1 of (seed, stream), in order.
template <typename Emit>
inline void for_each_normal(size_t n, uint64_t seed, uint64_t stream, uint64_t index0, Emit emit) {
  size_t i = 0;
  uint64_t block = index0 >> 2;
  unsigned lane = static_cast<unsigned>(index0 & 3u);
  while (i < n) {
    double z[4];
    pbm::normals4(philox_normal_block(seed, stream, block), z);
    for (; lane < 4 && i < n; ++lane, ++i) emit(i, z[lane]);
    lane = 0;
    ++block;
  }
}

template <typename T>
void normal_fill(T* out, size_t n, uint64_t seed, uint64_t stream, uint64_t index0) {
  for_each_normal(n, seed, stream, index0, [out](size_t i, double z) { out[i] = static_cast<T>(z); });
}

template <typename T>
void combine2(T* out, const T* x, const T* y, double a, double c, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const double ax = a * static_cast<double>(x[i]);
    const double cy = c * static_cast<double>(y[i]);
    out[i] = static_cast<T>(ax + cy);
  }
}

template <typename T>
void noise_inline(T* out, T* eps_out, const T* x, double a, double c, size_t n, uint64_t seed,
                  uint64_t stream, uint64_t index0) {
  for_each_normal(n, seed, stream, index0, [=](size_t i, double z) {
    const T eps = static_cast<T>(z);
    const double ax = a * static_cast<double>(x[i]);
    const double ce = c * static_cast<double>(eps);
    out[i] = static_cast<T>(ax + ce);
    if (eps_out) eps_out[i] = eps;
  });
}

template <typename T>
constexpr TypedKernels<T> typed() {
  return TypedKernels<T>{&normal_fill<T>, &combine2<T>, &noise_inline<T>};
}

const KernelTable kScalar{SimdLevel::kScalar, typed<double>(), typed<float>()};

}  // namespace

const KernelTable& scalar_kernels() { return kScalar; }

}  // namespace tweedie

// The scalar reference kernels: the definition every vector path is tested against.
#include "kernels.h"
#include "pbm.h"

namespace tweedie {
namespace {

// Blocks evaluated together (pbm.h's lock step): enough independent chains to keep the FP
// units busy, few enough to stay in registers.
constexpr int kLockStep = 2;

// Calls emit(i, z) for normals index0 .. index0 + n - 1 of (seed, stream), in order.
template <typename Emit>
inline void for_each_normal(size_t n, uint64_t seed, uint64_t stream, uint64_t index0, Emit emit) {
  size_t i = 0;
  uint64_t block = index0 >> 2;
  unsigned lane = static_cast<unsigned>(index0 & 3u);
  if (lane != 0 && n > 0) {  // the first block's tail
    double z[4];
    pbm::normals4(philox_normal_block(seed, stream, block), z);
    for (; lane < 4 && i < n; ++lane, ++i) emit(i, z[lane]);
    ++block;
  }
  while (n - i >= 4 * kLockStep) {
    PhiloxBlock b[kLockStep];
    for (int k = 0; k < kLockStep; ++k) b[k] = philox_normal_block(seed, stream, block + k);
    double z[4 * kLockStep];
    pbm::normals<kLockStep>(b, z);
    for (int k = 0; k < 4 * kLockStep; ++k) emit(i + k, z[k]);
    i += 4 * kLockStep;
    block += kLockStep;
  }
  while (i < n) {
    double z[4];
    pbm::normals4(philox_normal_block(seed, stream, block), z);
    for (unsigned k = 0; k < 4 && i < n; ++k, ++i) emit(i, z[k]);
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

void pbm_words(double* out, const uint32_t* words, size_t nblocks) {
  for (size_t b = 0; b < nblocks; ++b) {
    const uint32_t* w = words + 4 * b;
    pbm::normals4(PhiloxBlock{{w[0], w[1], w[2], w[3]}}, out + 4 * b);
  }
}

template <typename T>
constexpr TypedKernels<T> typed() {
  return TypedKernels<T>{&normal_fill<T>, &combine2<T>, &noise_inline<T>};
}

const KernelTable kScalar{SimdLevel::kScalar, typed<double>(), typed<float>(), &pbm_words};

}  // namespace

const KernelTable& scalar_kernels() { return kScalar; }

}  // namespace tweedie

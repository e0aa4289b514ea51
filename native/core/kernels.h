// Row-level kernels, one table per SIMD level. Each function works on one contiguous run of a
// row; the drivers in ops.cc split batches into such runs and over threads. Every vector
// table must give bit-identical results to the scalar table (native/test checks it).
#pragma once
#include <cstddef>
#include <cstdint>

namespace tweedie {

// Values are stable (tests and the addon iterate 0 .. kLastSimdLevel); new levels go at the end.
enum class SimdLevel : int { kScalar = 0, kSse2 = 1, kAvx2 = 2, kNeon = 3, kAvx512 = 4 };
constexpr int kLastSimdLevel = 4;

const char* simd_level_name(SimdLevel level);
// Parses "scalar" | "sse2" | "avx2" | "avx512" | "neon"; returns false for anything else.
bool parse_simd_level(const char* name, SimdLevel* level);

template <typename T>
struct TypedKernels {
  // out[i] = normal(seed, stream, index0 + i), i < n.
  void (*normal_fill)(T* out, size_t n, uint64_t seed, uint64_t stream, uint64_t index0);
  // out[i] = a * x[i] + c * y[i], in double, rounded once to T. out may equal x or y.
  void (*combine2)(T* out, const T* x, const T* y, double a, double c, size_t n);
  // eps_i = T(normal(seed, stream, index0 + i)); out[i] = a * x[i] + c * eps_i rounded once;
  // eps_out (may be null) receives eps_i. out may equal x.
  void (*noise_inline)(T* out, T* eps_out, const T* x, double a, double c, size_t n, uint64_t seed,
                       uint64_t stream, uint64_t index0);
};

struct KernelTable {
  SimdLevel level;
  TypedKernels<double> f64;
  TypedKernels<float> f32;
  // out[4b .. 4b + 3] = the four PBM normals of the Philox words words[4b .. 4b + 3], b < nblocks.
  // Lets the tests feed chosen words (0, powers of two, fold and quadrant edges) to every level.
  void (*pbm_words)(double* out, const uint32_t* words, size_t nblocks);
};

// The table's kernels for element type T (double or float).
template <typename T>
const TypedKernels<T>& kernels_for(const KernelTable& t);
template <>
inline const TypedKernels<double>& kernels_for<double>(const KernelTable& t) { return t.f64; }
template <>
inline const TypedKernels<float>& kernels_for<float>(const KernelTable& t) { return t.f32; }

const KernelTable& scalar_kernels();
#if defined(__x86_64__) || defined(_M_X64)
const KernelTable& sse2_kernels();  // native/core/simd/sse2.cc, built when TWEEDIE_X86_SIMD
const KernelTable& avx2_kernels();  // native/core/simd/avx2.cc (-mavx2 -mfma), idem
// native/core/simd/avx512.cc (-mavx512f -mavx512dq -mavx512vl), built when TWEEDIE_X86_AVX512
const KernelTable& avx512_kernels();
#endif
#if defined(__aarch64__)
const KernelTable& neon_kernels();  // native/core/simd/neon.cc, built when TWEEDIE_ARM_NEON
#endif

// CPU support and the level in use (process-wide; set once at load, or by tests).
bool simd_level_supported(SimdLevel level);
SimdLevel best_simd_level();
SimdLevel current_simd_level();
// Returns false (and changes nothing) if the CPU lacks the level or it is not compiled in.
bool set_simd_level(SimdLevel level);
const KernelTable& active_kernels();

}  // namespace tweedie

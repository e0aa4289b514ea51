// The AVX2 kernel table (compiled with -mavx2 -mfma; chosen at run time only on CPUs that have
// both). Tier A: bit-identical to the scalar table, so no FMA instruction is used anywhere here
// (-ffp-contract=off keeps the compiler from fusing the explicit mul and add either).
// Only avx2_kernels() has external linkage; see pbm_lanes.h for why.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "../kernels.h"
#include "pbm_lanes.h"

namespace tweedie {
namespace {

// Four doubles (and their bits as four 64-bit integers).
struct V4 {
  using D = __m256d;
  using I = __m256i;
  static constexpr uint64_t kLanes = 4;
  static D set1(double x) { return _mm256_set1_pd(x); }
  static D add(D a, D b) { return _mm256_add_pd(a, b); }
  static D sub(D a, D b) { return _mm256_sub_pd(a, b); }
  static D mul(D a, D b) { return _mm256_mul_pd(a, b); }
  static D div(D a, D b) { return _mm256_div_pd(a, b); }
  static D sqrt(D a) { return _mm256_sqrt_pd(a); }
  static D gt(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
  static D and_(D a, D b) { return _mm256_and_pd(a, b); }
  static I as_i(D a) { return _mm256_castpd_si256(a); }
  static D as_d(I a) { return _mm256_castsi256_pd(a); }
  static I set1_i(uint64_t x) { return _mm256_set1_epi64x(static_cast<long long>(x)); }
  static I and_i(I a, I b) { return _mm256_and_si256(a, b); }
  static I or_i(I a, I b) { return _mm256_or_si256(a, b); }
  static I xor_i(I a, I b) { return _mm256_xor_si256(a, b); }
  static I add_i(I a, I b) { return _mm256_add_epi64(a, b); }
  static I sub_i(I a, I b) { return _mm256_sub_epi64(a, b); }
  template <int n>
  static I srl_i(I a) { return _mm256_srli_epi64(a, n); }
  template <int n>
  static I sll_i(I a) { return _mm256_slli_epi64(a, n); }
  static I mul_lo32(I a, I b) { return _mm256_mul_epu32(a, b); }
  static I sign_mask(I a) { return _mm256_cmpgt_epi64(_mm256_setzero_si256(), a); }
  static I iota() { return _mm256_setr_epi64x(0, 1, 2, 3); }
};

// Vectors of four blocks evaluated in lock step (pbm_lanes.h): 3 and 4 measured alike, about
// 10% faster than 2; 3 keeps groups (and the work wasted on partial ones) smaller.
constexpr int kLockStep = 3;
constexpr size_t kBlocks = 4 * kLockStep;  // Philox blocks per group
constexpr size_t kGroup = 4 * kBlocks;     // normals per group

// The normals of blocks block .. block + 4K - 1 as rows: rows[b] = the four normals of block b.
template <int K>
inline void normal_rows(const Stream& st, uint64_t block, __m256d rows[4 * K]) {
  __m256d z[4][K];
  normals_of_blocks<V4, K>(st, block, z);
  for (int h = 0; h < K; ++h) {
    // 4 x 4 transpose: lanes are blocks, rows must be blocks.
    const __m256d t0 = _mm256_unpacklo_pd(z[0][h], z[1][h]);  // z0b0 z1b0 z0b2 z1b2
    const __m256d t1 = _mm256_unpackhi_pd(z[0][h], z[1][h]);  // z0b1 z1b1 z0b3 z1b3
    const __m256d t2 = _mm256_unpacklo_pd(z[2][h], z[3][h]);
    const __m256d t3 = _mm256_unpackhi_pd(z[2][h], z[3][h]);
    rows[4 * h + 0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    rows[4 * h + 1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    rows[4 * h + 2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    rows[4 * h + 3] = _mm256_permute2f128_pd(t1, t3, 0x31);
  }
}

// Calls sink(b, row) for blocks b = 0 .. nblocks - 1 (rounded up to 4) of the group at `block`.
template <class Sink>
inline void group(const Stream& st, uint64_t block, size_t nblocks, Sink sink) {
  __m256d rows[kBlocks];
  if (nblocks > 8) {
    normal_rows<kLockStep>(st, block, rows);
    for (size_t b = 0; b < kBlocks; ++b) sink(b, rows[b]);
  } else if (nblocks > 4) {  // partial groups: no more lanes than needed
    normal_rows<2>(st, block, rows);
    for (size_t b = 0; b < 8; ++b) sink(b, rows[b]);
  } else {
    normal_rows<1>(st, block, rows);
    for (size_t b = 0; b < 4; ++b) sink(b, rows[b]);
  }
}

// normals skip .. skip + count - 1 of the group at `block`, into z[0 .. count)
inline void partial_group(const Stream& st, uint64_t block, size_t skip, size_t count, double* z) {
  alignas(32) double buf[kGroup];
  group(st, block, (skip + count + 3) / 4, [&](size_t b, __m256d row) { _mm256_store_pd(buf + 4 * b, row); });
  for (size_t j = 0; j < count; ++j) z[j] = buf[skip + j];
}

inline void store_row(double* p, __m256d row) { _mm256_storeu_pd(p, row); }
inline void store_row(float* p, __m256d row) { _mm_storeu_ps(p, _mm256_cvtpd_ps(row)); }

template <typename T>
void normal_fill(T* out, size_t n, uint64_t seed, uint64_t stream, uint64_t index0) {
  const Stream st = make_stream(seed, stream);
  for_normal_groups<kBlocks>(
      n, index0,
      [&](size_t i, uint64_t block) {
        T* o = out + i;
        group(st, block, kBlocks, [o](size_t b, __m256d row) { store_row(o + 4 * b, row); });
      },
      [&](size_t i, uint64_t block, size_t skip, size_t count) {
        double z[kGroup];
        partial_group(st, block, skip, count, z);
        scalar_store_normals(out + i, z, count);
      });
}

// out = a x + c eps, eps = T(z) for one block of four; x is read before out is written.
inline void noise_row(double* out, double* eps_out, const double* x, __m256d a, __m256d c, __m256d z) {
  const __m256d ax = _mm256_mul_pd(a, _mm256_loadu_pd(x));
  const __m256d ce = _mm256_mul_pd(c, z);
  _mm256_storeu_pd(out, _mm256_add_pd(ax, ce));
  if (eps_out) _mm256_storeu_pd(eps_out, z);
}

inline void noise_row(float* out, float* eps_out, const float* x, __m256d a, __m256d c, __m256d z) {
  const __m128 eps = _mm256_cvtpd_ps(z);
  const __m256d ax = _mm256_mul_pd(a, _mm256_cvtps_pd(_mm_loadu_ps(x)));
  const __m256d ce = _mm256_mul_pd(c, _mm256_cvtps_pd(eps));
  _mm_storeu_ps(out, _mm256_cvtpd_ps(_mm256_add_pd(ax, ce)));
  if (eps_out) _mm_storeu_ps(eps_out, eps);
}

template <typename T>
void noise_inline(T* out, T* eps_out, const T* x, double a, double c, size_t n, uint64_t seed,
                  uint64_t stream, uint64_t index0) {
  const Stream st = make_stream(seed, stream);
  const __m256d va = _mm256_set1_pd(a), vc = _mm256_set1_pd(c);
  for_normal_groups<kBlocks>(
      n, index0,
      [&](size_t i, uint64_t block) {
        T* o = out + i;
        T* e = eps_out ? eps_out + i : nullptr;
        const T* xi = x + i;
        group(st, block, kBlocks, [=](size_t b, __m256d row) {
          noise_row(o + 4 * b, e ? e + 4 * b : nullptr, xi + 4 * b, va, vc, row);
        });
      },
      [&](size_t i, uint64_t block, size_t skip, size_t count) {
        double z[kGroup];
        partial_group(st, block, skip, count, z);
        scalar_noise(out + i, eps_out ? eps_out + i : nullptr, x + i, a, c, z, count);
      });
}

void combine2_f64(double* out, const double* x, const double* y, double a, double c, size_t n) {
  const __m256d va = _mm256_set1_pd(a), vc = _mm256_set1_pd(c);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d ax = _mm256_mul_pd(va, _mm256_loadu_pd(x + i));
    const __m256d cy = _mm256_mul_pd(vc, _mm256_loadu_pd(y + i));
    _mm256_storeu_pd(out + i, _mm256_add_pd(ax, cy));
  }
  scalar_combine2(out + i, x + i, y + i, a, c, n - i);
}

void combine2_f32(float* out, const float* x, const float* y, double a, double c, size_t n) {
  const __m256d va = _mm256_set1_pd(a), vc = _mm256_set1_pd(c);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xs = _mm256_loadu_ps(x + i);
    const __m256 ys = _mm256_loadu_ps(y + i);
    const __m256d lo = _mm256_add_pd(_mm256_mul_pd(va, _mm256_cvtps_pd(_mm256_castps256_ps128(xs))),
                                     _mm256_mul_pd(vc, _mm256_cvtps_pd(_mm256_castps256_ps128(ys))));
    const __m256d hi = _mm256_add_pd(_mm256_mul_pd(va, _mm256_cvtps_pd(_mm256_extractf128_ps(xs, 1))),
                                     _mm256_mul_pd(vc, _mm256_cvtps_pd(_mm256_extractf128_ps(ys, 1))));
    _mm256_storeu_ps(out + i, _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo)));
  }
  scalar_combine2(out + i, x + i, y + i, a, c, n - i);
}

// Test hook: the normals of given Philox words, through the same lane code as the kernels.
void pbm_words(double* out, const uint32_t* words, size_t nblocks) {
  for (size_t b0 = 0; b0 < nblocks; b0 += 4) {
    alignas(32) uint64_t soa[4][4] = {};  // word j of block b0 + lane; missing blocks are 0
    const size_t m = nblocks - b0 < 4 ? nblocks - b0 : 4;
    for (size_t l = 0; l < m; ++l)
      for (size_t j = 0; j < 4; ++j) soa[j][l] = words[4 * (b0 + l) + j] | 0xABCD000000000000ull;  // junk high half
    __m256d wd[4][1];
    for (size_t j = 0; j < 4; ++j)
      wd[j][0] = word_plus_2p52<V4>(_mm256_load_si256(reinterpret_cast<const __m256i*>(soa[j])));
    __m256d z[4][1];
    pbm_normals<V4, 1>(wd[0], wd[1], wd[2], wd[3], z);
    alignas(32) double buf[4][4];
    for (size_t j = 0; j < 4; ++j) _mm256_store_pd(buf[j], z[j][0]);
    for (size_t l = 0; l < m; ++l)
      for (size_t j = 0; j < 4; ++j) out[4 * (b0 + l) + j] = buf[j][l];
  }
}

const KernelTable kAvx2{SimdLevel::kAvx2,
                        TypedKernels<double>{&normal_fill<double>, &combine2_f64, &noise_inline<double>},
                        TypedKernels<float>{&normal_fill<float>, &combine2_f32, &noise_inline<float>},
                        &pbm_words};

}  // namespace

const KernelTable& avx2_kernels() { return kAvx2; }

}  // namespace tweedie

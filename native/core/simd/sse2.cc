// The SSE2 kernel table (the x86-64 baseline: compiled with the common flags only). Tier A:
// bit-identical to the scalar table, lane by lane in the same operation order.
// Only sse2_kernels() has external linkage; see pbm_lanes.h for why.
#include <emmintrin.h>

#include <cstddef>
#include <cstdint>

#include "../kernels.h"
#include "pbm_lanes.h"

namespace tweedie {
namespace {

// Two doubles (and their bits as two 64-bit integers).
struct V2 {
  using D = __m128d;
  using I = __m128i;
  static constexpr uint64_t kLanes = 2;
  static D set1(double x) { return _mm_set1_pd(x); }
  static D add(D a, D b) { return _mm_add_pd(a, b); }
  static D sub(D a, D b) { return _mm_sub_pd(a, b); }
  static D mul(D a, D b) { return _mm_mul_pd(a, b); }
  static D div(D a, D b) { return _mm_div_pd(a, b); }
  static D sqrt(D a) { return _mm_sqrt_pd(a); }
  static D gt(D a, D b) { return _mm_cmpgt_pd(a, b); }
  static D and_(D a, D b) { return _mm_and_pd(a, b); }
  static I as_i(D a) { return _mm_castpd_si128(a); }
  static D as_d(I a) { return _mm_castsi128_pd(a); }
  static I set1_i(uint64_t x) { return _mm_set1_epi64x(static_cast<long long>(x)); }
  static I and_i(I a, I b) { return _mm_and_si128(a, b); }
  static I or_i(I a, I b) { return _mm_or_si128(a, b); }
  static I xor_i(I a, I b) { return _mm_xor_si128(a, b); }
  static I add_i(I a, I b) { return _mm_add_epi64(a, b); }
  static I sub_i(I a, I b) { return _mm_sub_epi64(a, b); }
  template <int n>
  static I srl_i(I a) { return _mm_srli_epi64(a, n); }
  template <int n>
  static I sll_i(I a) { return _mm_slli_epi64(a, n); }
  static I mul_lo32(I a, I b) { return _mm_mul_epu32(a, b); }
  // SSE2 has no 64-bit compare or arithmetic shift: spread the top bit of each high half.
  static I sign_mask(I a) { return _mm_shuffle_epi32(_mm_srai_epi32(a, 31), _MM_SHUFFLE(3, 3, 1, 1)); }
  static I iota() { return _mm_set_epi64x(1, 0); }
};

// Vectors of two blocks evaluated in lock step (pbm_lanes.h): 3 measured best (about 15%
// faster than 2).
constexpr int kLockStep = 3;
constexpr size_t kBlocks = 2 * kLockStep;  // Philox blocks per group
constexpr size_t kGroup = 4 * kBlocks;     // normals per group

// One block's four normals as two pairs.
struct Row {
  __m128d lo, hi;
};

// The normals of blocks block .. block + 2K - 1 as rows (one per block).
template <int K>
inline void normal_rows(const Stream& st, uint64_t block, Row rows[2 * K]) {
  __m128d z[4][K];
  normals_of_blocks<V2, K>(st, block, z);
  for (int h = 0; h < K; ++h) {
    rows[2 * h] = Row{_mm_unpacklo_pd(z[0][h], z[1][h]), _mm_unpacklo_pd(z[2][h], z[3][h])};
    rows[2 * h + 1] = Row{_mm_unpackhi_pd(z[0][h], z[1][h]), _mm_unpackhi_pd(z[2][h], z[3][h])};
  }
}

// Calls sink(b, row) for blocks b = 0 .. nblocks - 1 (rounded up to 2) of the group at `block`.
template <class Sink>
inline void group(const Stream& st, uint64_t block, size_t nblocks, Sink sink) {
  Row rows[kBlocks];
  if (nblocks > 4) {
    normal_rows<kLockStep>(st, block, rows);
    for (size_t b = 0; b < kBlocks; ++b) sink(b, rows[b]);
  } else if (nblocks > 2) {  // partial groups: no more lanes than needed
    normal_rows<2>(st, block, rows);
    for (size_t b = 0; b < 4; ++b) sink(b, rows[b]);
  } else {
    normal_rows<1>(st, block, rows);
    for (size_t b = 0; b < 2; ++b) sink(b, rows[b]);
  }
}

// normals skip .. skip + count - 1 of the group at `block`, into z[0 .. count)
inline void partial_group(const Stream& st, uint64_t block, size_t skip, size_t count, double* z) {
  alignas(16) double buf[kGroup];
  group(st, block, (skip + count + 3) / 4, [&](size_t b, const Row& row) {
    _mm_store_pd(buf + 4 * b, row.lo);
    _mm_store_pd(buf + 4 * b + 2, row.hi);
  });
  for (size_t j = 0; j < count; ++j) z[j] = buf[skip + j];
}

inline __m128 to_f32(const Row& row) { return _mm_movelh_ps(_mm_cvtpd_ps(row.lo), _mm_cvtpd_ps(row.hi)); }

inline void store_row(double* p, const Row& row) {
  _mm_storeu_pd(p, row.lo);
  _mm_storeu_pd(p + 2, row.hi);
}
inline void store_row(float* p, const Row& row) { _mm_storeu_ps(p, to_f32(row)); }

template <typename T>
void normal_fill(T* out, size_t n, uint64_t seed, uint64_t stream, uint64_t index0) {
  const Stream st = make_stream(seed, stream);
  for_normal_groups<kBlocks>(
      n, index0,
      [&](size_t i, uint64_t block) {
        T* o = out + i;
        group(st, block, kBlocks, [o](size_t b, const Row& row) { store_row(o + 4 * b, row); });
      },
      [&](size_t i, uint64_t block, size_t skip, size_t count) {
        double z[kGroup];
        partial_group(st, block, skip, count, z);
        scalar_store_normals(out + i, z, count);
      });
}

// out = a x + c eps, eps = T(z), for one pair; x is read before out is written.
inline __m128d noise_pair(__m128d x, __m128d a, __m128d c, __m128d eps) {
  return _mm_add_pd(_mm_mul_pd(a, x), _mm_mul_pd(c, eps));
}

inline void noise_row(double* out, double* eps_out, const double* x, __m128d a, __m128d c, const Row& z) {
  const __m128d lo = noise_pair(_mm_loadu_pd(x), a, c, z.lo);
  const __m128d hi = noise_pair(_mm_loadu_pd(x + 2), a, c, z.hi);
  _mm_storeu_pd(out, lo);
  _mm_storeu_pd(out + 2, hi);
  if (eps_out) store_row(eps_out, z);
}

inline void noise_row(float* out, float* eps_out, const float* x, __m128d a, __m128d c, const Row& z) {
  const __m128 eps = to_f32(z);
  const __m128 xs = _mm_loadu_ps(x);
  const __m128d lo = noise_pair(_mm_cvtps_pd(xs), a, c, _mm_cvtps_pd(eps));
  const __m128d hi = noise_pair(_mm_cvtps_pd(_mm_movehl_ps(xs, xs)), a, c, _mm_cvtps_pd(_mm_movehl_ps(eps, eps)));
  _mm_storeu_ps(out, _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi)));
  if (eps_out) _mm_storeu_ps(eps_out, eps);
}

template <typename T>
void noise_inline(T* out, T* eps_out, const T* x, double a, double c, size_t n, uint64_t seed,
                  uint64_t stream, uint64_t index0) {
  const Stream st = make_stream(seed, stream);
  const __m128d va = _mm_set1_pd(a), vc = _mm_set1_pd(c);
  for_normal_groups<kBlocks>(
      n, index0,
      [&](size_t i, uint64_t block) {
        T* o = out + i;
        T* e = eps_out ? eps_out + i : nullptr;
        const T* xi = x + i;
        group(st, block, kBlocks, [=](size_t b, const Row& row) {
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
  const __m128d va = _mm_set1_pd(a), vc = _mm_set1_pd(c);
  size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const __m128d ax = _mm_mul_pd(va, _mm_loadu_pd(x + i));
    const __m128d cy = _mm_mul_pd(vc, _mm_loadu_pd(y + i));
    _mm_storeu_pd(out + i, _mm_add_pd(ax, cy));
  }
  scalar_combine2(out + i, x + i, y + i, a, c, n - i);
}

void combine2_f32(float* out, const float* x, const float* y, double a, double c, size_t n) {
  const __m128d va = _mm_set1_pd(a), vc = _mm_set1_pd(c);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 xs = _mm_loadu_ps(x + i);
    const __m128 ys = _mm_loadu_ps(y + i);
    const __m128d lo = _mm_add_pd(_mm_mul_pd(va, _mm_cvtps_pd(xs)), _mm_mul_pd(vc, _mm_cvtps_pd(ys)));
    const __m128d hi = _mm_add_pd(_mm_mul_pd(va, _mm_cvtps_pd(_mm_movehl_ps(xs, xs))),
                                  _mm_mul_pd(vc, _mm_cvtps_pd(_mm_movehl_ps(ys, ys))));
    _mm_storeu_ps(out + i, _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi)));
  }
  scalar_combine2(out + i, x + i, y + i, a, c, n - i);
}

// Test hook: the normals of given Philox words, through the same lane code as the kernels.
void pbm_words(double* out, const uint32_t* words, size_t nblocks) {
  for (size_t b0 = 0; b0 < nblocks; b0 += 2) {
    alignas(16) uint64_t soa[4][2] = {};  // word j of block b0 + lane; missing blocks are 0
    const size_t m = nblocks - b0 < 2 ? nblocks - b0 : 2;
    for (size_t l = 0; l < m; ++l)
      for (size_t j = 0; j < 4; ++j) soa[j][l] = words[4 * (b0 + l) + j] | 0xABCD000000000000ull;  // junk high half
    __m128d wd[4][1];
    for (size_t j = 0; j < 4; ++j)
      wd[j][0] = word_plus_2p52<V2>(_mm_load_si128(reinterpret_cast<const __m128i*>(soa[j])));
    __m128d z[4][1];
    pbm_normals<V2, 1>(wd[0], wd[1], wd[2], wd[3], z);
    alignas(16) double buf[4][2];
    for (size_t j = 0; j < 4; ++j) _mm_store_pd(buf[j], z[j][0]);
    for (size_t l = 0; l < m; ++l)
      for (size_t j = 0; j < 4; ++j) out[4 * (b0 + l) + j] = buf[j][l];
  }
}

const KernelTable kSse2{SimdLevel::kSse2,
                        TypedKernels<double>{&normal_fill<double>, &combine2_f64, &noise_inline<double>},
                        TypedKernels<float>{&normal_fill<float>, &combine2_f32, &noise_inline<float>},
                        &pbm_words};

}  // namespace

const KernelTable& sse2_kernels() { return kSse2; }

}  // namespace tweedie

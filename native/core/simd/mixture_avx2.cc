// The AVX2+FMA mixture-posterior table (compiled with -mavx2 -mfma; chosen at run time only on
// CPUs that have both). Tolerance tier: FMA is used on purpose (see mixture_lanes.h). Only the
// functions declared in mixture_kernels.h have external linkage.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "mixture_kernels.h"
#include "mixture_lanes.h"
#include "mixture_small.h"

namespace tweedie {
namespace {

struct LAvx2 {
  using D = __m256d;
  using F = __m256;
  static constexpr size_t kD = 4;
  static constexpr size_t kF = 8;
  static constexpr int kScreenRows = 6;  // 6 rows x 16 components: 12 accumulators
  static constexpr int kMeanRows = 4;    // 4 rows x 12 dimensions
  static constexpr int kMeanVecs = 3;

  static D dzero() { return _mm256_setzero_pd(); }
  static D dset(double x) { return _mm256_set1_pd(x); }
  static D dload(const double* p) { return _mm256_loadu_pd(p); }
  static void dstore(double* p, D v) { _mm256_storeu_pd(p, v); }
  static D dadd(D a, D b) { return _mm256_add_pd(a, b); }
  static D dsub(D a, D b) { return _mm256_sub_pd(a, b); }
  static D dmul(D a, D b) { return _mm256_mul_pd(a, b); }
  static D ddiv(D a, D b) { return _mm256_div_pd(a, b); }
  static D dsqrt(D a) { return _mm256_sqrt_pd(a); }
  static D dmax(D a, D b) { return _mm256_max_pd(a, b); }
  static D dabs(D a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  // v where r > 0, else +0
  static D dkeep_pos(D r, D v) { return _mm256_and_pd(_mm256_cmp_pd(r, _mm256_setzero_pd(), _CMP_GT_OQ), v); }
  static D dfma(D a, D b, D c) { return _mm256_fmadd_pd(a, b, c); }
  static D dfnma(D a, D b, D c) { return _mm256_fnmadd_pd(a, b, c); }
  static D dmin(D a, D b) { return _mm256_min_pd(a, b); }
  static D dlt(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
  static bool dany(D m) { return _mm256_movemask_pd(m) != 0; }
  static D dand(D a, D b) { return _mm256_and_pd(a, b); }
  static D dor(D a, D b) { return _mm256_or_pd(a, b); }
  static D dandnot(D m, D b) { return _mm256_andnot_pd(m, b); }
  static D dbits_add(D a, D b) {
    return _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(a), _mm256_castpd_si256(b)));
  }
  static D dshl52(D a) { return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(a), 52)); }
  static D dsub_bits(D a, D b) {
    return _mm256_castsi256_pd(_mm256_sub_epi64(_mm256_castpd_si256(a), _mm256_castpd_si256(b)));
  }
  static double dhsum(D v) {
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
  static double dhmax(D v) {
    const __m128d s = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)));
  }
  // 2^n: n + 1.5 * 2^52 holds n in its low bits; rebias to the exponent field.
  static D dpow2(D n) {
    const __m256i t = _mm256_castpd_si256(_mm256_add_pd(n, _mm256_set1_pd(0x1.8p52)));
    const __m256i e = _mm256_sub_epi64(t, _mm256_set1_epi64x(0x4338000000000000LL - 1023));
    return _mm256_castsi256_pd(_mm256_slli_epi64(e, 52));
  }

  // dst[jj * ds + c] = float(m[c * ms + jj]) for c, jj < 4 (dst 16-byte aligned).
  static void pack4x4(const double* m, size_t ms, float* dst, size_t ds) {
    __m128 r0 = _mm256_cvtpd_ps(_mm256_loadu_pd(m)), r1 = _mm256_cvtpd_ps(_mm256_loadu_pd(m + ms));
    __m128 r2 = _mm256_cvtpd_ps(_mm256_loadu_pd(m + 2 * ms)), r3 = _mm256_cvtpd_ps(_mm256_loadu_pd(m + 3 * ms));
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_store_ps(dst, r0);
    _mm_store_ps(dst + ds, r1);
    _mm_store_ps(dst + 2 * ds, r2);
    _mm_store_ps(dst + 3 * ds, r3);
  }

  // dst[jj * ds + c] = m[c * ms + jj] for c, jj < 4.
  static void pack4x4d(const double* m, size_t ms, double* dst, size_t ds) {
    const __m256d r0 = _mm256_loadu_pd(m), r1 = _mm256_loadu_pd(m + ms);
    const __m256d r2 = _mm256_loadu_pd(m + 2 * ms), r3 = _mm256_loadu_pd(m + 3 * ms);
    const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
    const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
    _mm256_storeu_pd(dst, _mm256_permute2f128_pd(t0, t2, 0x20));
    _mm256_storeu_pd(dst + ds, _mm256_permute2f128_pd(t1, t3, 0x20));
    _mm256_storeu_pd(dst + 2 * ds, _mm256_permute2f128_pd(t0, t2, 0x31));
    _mm256_storeu_pd(dst + 3 * ds, _mm256_permute2f128_pd(t1, t3, 0x31));
  }

  // Lane bit masks (bit i for lane i) of a <= b and a == b.
  static int dle_mask(D a, D b) { return _mm256_movemask_pd(_mm256_cmp_pd(a, b, _CMP_LE_OQ)); }
  static int deq_mask(D a, D b) { return _mm256_movemask_pd(_mm256_cmp_pd(a, b, _CMP_EQ_OQ)); }
  // Lanes of four doubles at p, p + s, p + 2s, p + 3s (floats widened).
  static D dgather(const double* p, size_t s) { return _mm256_set_pd(p[3 * s], p[2 * s], p[s], p[0]); }
  static D dgather(const float* p, size_t s) { return _mm256_cvtps_pd(_mm_set_ps(p[3 * s], p[2 * s], p[s], p[0])); }

  // out[r * stride + j] = T(c[j][r]) for r, j < 4 (T double or float).
  static void store_block(double* out, size_t stride, const D* c) {
    const __m256d t0 = _mm256_unpacklo_pd(c[0], c[1]), t1 = _mm256_unpackhi_pd(c[0], c[1]);
    const __m256d t2 = _mm256_unpacklo_pd(c[2], c[3]), t3 = _mm256_unpackhi_pd(c[2], c[3]);
    _mm256_storeu_pd(out, _mm256_permute2f128_pd(t0, t2, 0x20));
    _mm256_storeu_pd(out + stride, _mm256_permute2f128_pd(t1, t3, 0x20));
    _mm256_storeu_pd(out + 2 * stride, _mm256_permute2f128_pd(t0, t2, 0x31));
    _mm256_storeu_pd(out + 3 * stride, _mm256_permute2f128_pd(t1, t3, 0x31));
  }
  static void store_block(float* out, size_t stride, const D* c) {
    __m128 r0 = _mm256_cvtpd_ps(c[0]), r1 = _mm256_cvtpd_ps(c[1]), r2 = _mm256_cvtpd_ps(c[2]), r3 = _mm256_cvtpd_ps(c[3]);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(out, r0);
    _mm_storeu_ps(out + stride, r1);
    _mm_storeu_ps(out + 2 * stride, r2);
    _mm_storeu_ps(out + 3 * stride, r3);
  }
  // the same for j < 2
  static void store_block2(double* out, size_t stride, const D* c) {
    const __m256d lo = _mm256_unpacklo_pd(c[0], c[1]), hi = _mm256_unpackhi_pd(c[0], c[1]);
    _mm_storeu_pd(out, _mm256_castpd256_pd128(lo));
    _mm_storeu_pd(out + stride, _mm256_castpd256_pd128(hi));
    _mm_storeu_pd(out + 2 * stride, _mm256_extractf128_pd(lo, 1));
    _mm_storeu_pd(out + 3 * stride, _mm256_extractf128_pd(hi, 1));
  }
  static void store_block2(float* out, size_t stride, const D* c) {
    const __m128 a = _mm256_cvtpd_ps(c[0]), b = _mm256_cvtpd_ps(c[1]);
    const __m128 lo = _mm_unpacklo_ps(a, b), hi = _mm_unpackhi_ps(a, b);
    _mm_storel_pi(reinterpret_cast<__m64*>(out), lo);
    _mm_storeh_pi(reinterpret_cast<__m64*>(out + stride), lo);
    _mm_storel_pi(reinterpret_cast<__m64*>(out + 2 * stride), hi);
    _mm_storeh_pi(reinterpret_cast<__m64*>(out + 3 * stride), hi);
  }

  // c[j][r] = double(in[r * stride + j]) for r, j < 4.
  static void load_block(const double* in, size_t stride, D* c) {
    const __m256d r0 = _mm256_loadu_pd(in), r1 = _mm256_loadu_pd(in + stride);
    const __m256d r2 = _mm256_loadu_pd(in + 2 * stride), r3 = _mm256_loadu_pd(in + 3 * stride);
    const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
    const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
    c[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    c[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    c[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    c[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
  }
  static void load_block(const float* in, size_t stride, D* c) {
    __m128 r0 = _mm_loadu_ps(in), r1 = _mm_loadu_ps(in + stride), r2 = _mm_loadu_ps(in + 2 * stride),
           r3 = _mm_loadu_ps(in + 3 * stride);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    c[0] = _mm256_cvtps_pd(r0);
    c[1] = _mm256_cvtps_pd(r1);
    c[2] = _mm256_cvtps_pd(r2);
    c[3] = _mm256_cvtps_pd(r3);
  }

  static F fzero() { return _mm256_setzero_ps(); }
  static F fload(const float* p) { return _mm256_load_ps(p); }
  static F fbroadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static F ffma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static void fstore(float* p, F v) { _mm256_storeu_ps(p, v); }
};

const MixtureVectorTable kTable{&mixlanes::workspace_bytes<LAvx2>, &mixlanes::row_work, &mixlanes::dynamic_split,
                                &mixlanes::coop_block<LAvx2>,
                                &mixlanes::rows<LAvx2, double>,
                                &mixlanes::rows<LAvx2, float>, &mixlanes::exp_test<LAvx2>,
                                &mixlanes::g_test_flags};

}  // namespace

const MixtureVectorTable& mixture_avx2_table() { return kTable; }

// 10 independent chains per round (more than the FMA latency x ports), two rounds per iteration.
float fma_peak_avx2_f32(long iterations) {
  __m256 acc[10];
  for (int i = 0; i < 10; ++i) acc[i] = _mm256_set1_ps(0.5f + 0.01f * static_cast<float>(i));
  const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it) {
    for (int r = 0; r < 2; ++r)
      for (int i = 0; i < 10; ++i) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 10; ++i) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  float total = 0;
  for (float v : out) total += v;
  return total;
}

double fma_peak_avx2_f64(long iterations) {
  __m256d acc[10];
  for (int i = 0; i < 10; ++i) acc[i] = _mm256_set1_pd(0.5 + 0.01 * i);
  const __m256d b = _mm256_set1_pd(0.999999), c = _mm256_set1_pd(1e-7);
  for (long it = 0; it < iterations; ++it) {
    for (int r = 0; r < 2; ++r)
      for (int i = 0; i < 10; ++i) acc[i] = _mm256_fmadd_pd(acc[i], b, c);
  }
  __m256d s = acc[0];
  for (int i = 1; i < 10; ++i) s = _mm256_add_pd(s, acc[i]);
  alignas(32) double out[4];
  _mm256_store_pd(out, s);
  return out[0] + out[1] + out[2] + out[3];
}

}  // namespace tweedie

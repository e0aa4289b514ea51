// The AVX-512 mixture-posterior table (compiled with -mavx512f -mavx512dq -mavx512vl, as
// avx512.cc; chosen at run time only on CPUs, and under operating systems, that have all of
// them). Eight doubles and sixteen floats a vector, 32 vector registers. Tolerance tier: FMA is
// used on purpose (the 512-bit fused multiply-adds of AVX-512F; see mixture_lanes.h). Only the
// functions declared in mixture_kernels.h have external linkage.

// GCC 12's AVX-512 headers make their "undefined" vectors by self-initialisation, which -Wall
// reports as uninitialised wherever those intrinsics are inlined (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "mixture_kernels.h"
#include "mixture_lanes.h"
#include "mixture_small.h"

namespace tweedie {
namespace {

// r[j][i] = r[i][j] for i, j < 8 (eight vectors of eight doubles).
__attribute__((always_inline)) inline void transpose8(__m512d* r) {
  __m512d t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);      // 128-bit lane q: (r_i[2q], r_i+1[2q])
    t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);  // (r_i[2q + 1], r_i+1[2q + 1])
  }
  for (int o = 0; o < 2; ++o) {  // o = 0: even columns (t0, t2, t4, t6); 1: odd
    const __m512d u0 = _mm512_shuffle_f64x2(t[o], t[o + 2], 0x88), u1 = _mm512_shuffle_f64x2(t[o + 4], t[o + 6], 0x88);
    const __m512d v0 = _mm512_shuffle_f64x2(t[o], t[o + 2], 0xDD), v1 = _mm512_shuffle_f64x2(t[o + 4], t[o + 6], 0xDD);
    r[o] = _mm512_shuffle_f64x2(u0, u1, 0x88);
    r[o + 4] = _mm512_shuffle_f64x2(u0, u1, 0xDD);
    r[o + 2] = _mm512_shuffle_f64x2(v0, v1, 0x88);
    r[o + 6] = _mm512_shuffle_f64x2(v0, v1, 0xDD);
  }
}

struct LAvx512 {
  using D = __m512d;
  using F = __m512;
  static constexpr size_t kD = 8;
  static constexpr size_t kF = 16;
  static constexpr int kScreenRows = 12;  // 12 rows x 32 components: 24 accumulators (measured: as fast as 6)
  static constexpr int kMeanRows = 4;     // 4 rows x 32 dimensions: 16 accumulators
  static constexpr int kMeanVecs = 4;

  static D dzero() { return _mm512_setzero_pd(); }
  static D dset(double x) { return _mm512_set1_pd(x); }
  static D dload(const double* p) { return _mm512_loadu_pd(p); }
  static void dstore(double* p, D v) { _mm512_storeu_pd(p, v); }
  static D dadd(D a, D b) { return _mm512_add_pd(a, b); }
  static D dsub(D a, D b) { return _mm512_sub_pd(a, b); }
  static D dmul(D a, D b) { return _mm512_mul_pd(a, b); }
  static D ddiv(D a, D b) { return _mm512_div_pd(a, b); }
  static D dsqrt(D a) { return _mm512_sqrt_pd(a); }
  static D dmax(D a, D b) { return _mm512_max_pd(a, b); }
  static D dabs(D a) { return _mm512_andnot_pd(_mm512_set1_pd(-0.0), a); }
  // v where r > 0, else +0
  static D dkeep_pos(D r, D v) { return _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(r, _mm512_setzero_pd(), _CMP_GT_OQ), v); }
  static D dfma(D a, D b, D c) { return _mm512_fmadd_pd(a, b, c); }
  static D dfnma(D a, D b, D c) { return _mm512_fnmadd_pd(a, b, c); }
  static D dmin(D a, D b) { return _mm512_min_pd(a, b); }
  // Lane masks as vectors (all bits set where true), as the templates combine them bitwise.
  static D dlt(D a, D b) { return _mm512_castsi512_pd(_mm512_movm_epi64(_mm512_cmp_pd_mask(a, b, _CMP_LT_OQ))); }
  static bool dany(D m) { return _mm512_movepi64_mask(_mm512_castpd_si512(m)) != 0; }
  static D dand(D a, D b) { return _mm512_and_pd(a, b); }
  static D dor(D a, D b) { return _mm512_or_pd(a, b); }
  static D dandnot(D m, D b) { return _mm512_andnot_pd(m, b); }
  static D dbits_add(D a, D b) {
    return _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(a), _mm512_castpd_si512(b)));
  }
  static D dshl52(D a) { return _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_castpd_si512(a), 52)); }
  static D dsub_bits(D a, D b) {
    return _mm512_castsi512_pd(_mm512_sub_epi64(_mm512_castpd_si512(a), _mm512_castpd_si512(b)));
  }
  // fixed order: halves, then quarters, then the two lanes
  static double dhsum(D v) {
    const __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
  static double dhmax(D v) {
    const __m256d h = _mm256_max_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    const __m128d s = _mm_max_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)));
  }
  // 2^n: n + 1.5 * 2^52 holds n in its low bits; rebias to the exponent field.
  static D dpow2(D n) {
    const __m512i t = _mm512_castpd_si512(_mm512_add_pd(n, _mm512_set1_pd(0x1.8p52)));
    const __m512i e = _mm512_sub_epi64(t, _mm512_set1_epi64(0x4338000000000000LL - 1023));
    return _mm512_castsi512_pd(_mm512_slli_epi64(e, 52));
  }

  // dst[jj * ds + c] = float(m[c * ms + jj]) for c, jj < 4 (dst 16-byte aligned): 256-bit (VL).
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

  // Lane bit masks (bit i for lane i) of a <= b and a == b: the comparison's mask register.
  static int dle_mask(D a, D b) { return static_cast<int>(_mm512_cmp_pd_mask(a, b, _CMP_LE_OQ)); }
  static int deq_mask(D a, D b) { return static_cast<int>(_mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ)); }
  // Lanes of eight doubles at p, p + s, ..., p + 7s (floats widened, exactly).
  static D dgather(const double* p, size_t s) {
    return _mm512_set_pd(p[7 * s], p[6 * s], p[5 * s], p[4 * s], p[3 * s], p[2 * s], p[s], p[0]);
  }
  static D dgather(const float* p, size_t s) {
    return _mm512_cvtps_pd(_mm256_set_ps(p[7 * s], p[6 * s], p[5 * s], p[4 * s], p[3 * s], p[2 * s], p[s], p[0]));
  }

  // out[r * stride + j] = T(c[j][r]) for r, j < 8 (T double or float: one rounding).
  static void store_block(double* out, size_t stride, const D* c) {
    D t[8];
    for (int i = 0; i < 8; ++i) t[i] = c[i];
    transpose8(t);
    for (size_t r = 0; r < 8; ++r) _mm512_storeu_pd(out + r * stride, t[r]);
  }
  static void store_block(float* out, size_t stride, const D* c) {
    D t[8];
    for (int i = 0; i < 8; ++i) t[i] = c[i];
    transpose8(t);
    for (size_t r = 0; r < 8; ++r) _mm256_storeu_ps(out + r * stride, _mm512_cvtpd_ps(t[r]));
  }
  // the same for j < 2: unpacklo / unpackhi pair the two columns, one 128-bit lane per row
  static void store_block2(double* out, size_t stride, const D* c) {
    const D lo = _mm512_unpacklo_pd(c[0], c[1]), hi = _mm512_unpackhi_pd(c[0], c[1]);
    _mm_storeu_pd(out, _mm512_castpd512_pd128(lo));
    _mm_storeu_pd(out + stride, _mm512_castpd512_pd128(hi));
    _mm_storeu_pd(out + 2 * stride, _mm512_extractf64x2_pd(lo, 1));
    _mm_storeu_pd(out + 3 * stride, _mm512_extractf64x2_pd(hi, 1));
    _mm_storeu_pd(out + 4 * stride, _mm512_extractf64x2_pd(lo, 2));
    _mm_storeu_pd(out + 5 * stride, _mm512_extractf64x2_pd(hi, 2));
    _mm_storeu_pd(out + 6 * stride, _mm512_extractf64x2_pd(lo, 3));
    _mm_storeu_pd(out + 7 * stride, _mm512_extractf64x2_pd(hi, 3));
  }
  static void store_block2(float* out, size_t stride, const D* c) {
    // (c0[0], c1[0], c0[2], c1[2], ...) and (c0[1], c1[1], ...) rounded once to float32
    const __m256 lo = _mm512_cvtpd_ps(_mm512_unpacklo_pd(c[0], c[1]));
    const __m256 hi = _mm512_cvtpd_ps(_mm512_unpackhi_pd(c[0], c[1]));
    const __m128 l0 = _mm256_castps256_ps128(lo), l1 = _mm256_extractf128_ps(lo, 1);
    const __m128 h0 = _mm256_castps256_ps128(hi), h1 = _mm256_extractf128_ps(hi, 1);
    _mm_storel_pi(reinterpret_cast<__m64*>(out), l0);
    _mm_storel_pi(reinterpret_cast<__m64*>(out + stride), h0);
    _mm_storeh_pi(reinterpret_cast<__m64*>(out + 2 * stride), l0);
    _mm_storeh_pi(reinterpret_cast<__m64*>(out + 3 * stride), h0);
    _mm_storel_pi(reinterpret_cast<__m64*>(out + 4 * stride), l1);
    _mm_storel_pi(reinterpret_cast<__m64*>(out + 5 * stride), h1);
    _mm_storeh_pi(reinterpret_cast<__m64*>(out + 6 * stride), l1);
    _mm_storeh_pi(reinterpret_cast<__m64*>(out + 7 * stride), h1);
  }

  // c[j][r] = double(in[r * stride + j]) for r, j < 8.
  static void load_block(const double* in, size_t stride, D* c) {
    for (size_t r = 0; r < 8; ++r) c[r] = _mm512_loadu_pd(in + r * stride);
    transpose8(c);
  }
  static void load_block(const float* in, size_t stride, D* c) {
    for (size_t r = 0; r < 8; ++r) c[r] = _mm512_cvtps_pd(_mm256_loadu_ps(in + r * stride));
    transpose8(c);
  }

  static F fzero() { return _mm512_setzero_ps(); }
  static F fload(const float* p) { return _mm512_load_ps(p); }
  static F fbroadcast(const float* p) { return _mm512_set1_ps(*p); }
  static F ffma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static void fstore(float* p, F v) { _mm512_storeu_ps(p, v); }
};

const MixtureVectorTable kTable{&mixlanes::workspace_bytes<LAvx512>, &mixlanes::row_work, &mixlanes::dynamic_split,
                                &mixlanes::coop_block<LAvx512>,
                                &mixlanes::rows<LAvx512, double>,
                                &mixlanes::rows<LAvx512, float>, &mixlanes::exp_test<LAvx512>,
                                &mixlanes::g_test_flags};

}  // namespace

const MixtureVectorTable& mixture_avx512_table() { return kTable; }

// 12 independent chains per round (the FMA latency of 4 cycles x 2 ports needs 8), two rounds
// per iteration: 768 flops per iteration (float32), 384 (float64). The accumulators are loop
// carried through an empty asm that claims to modify them in vector registers ("+v"), so the
// compiler neither folds the chains nor spills them: the loop is vfmadd on zmm registers with
// no memory operand (checked with objdump).
float fma_peak_avx512_f32(long iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(0.5f + 0.01f * static_cast<float>(i));
  __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  __asm__("" : "+v"(b), "+v"(c));
  for (long it = 0; it < iterations; ++it) {
    for (int r = 0; r < 2; ++r)
      for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], b, c);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  float total = 0;
  for (float v : out) total += v;
  return total;
}

double fma_peak_avx512_f64(long iterations) {
  __m512d acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_pd(0.5 + 0.01 * i);
  __m512d b = _mm512_set1_pd(0.999999), c = _mm512_set1_pd(1e-7);
  __asm__("" : "+v"(b), "+v"(c));
  for (long it = 0; it < iterations; ++it) {
    for (int r = 0; r < 2; ++r)
      for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_pd(acc[i], b, c);
  }
  __m512d s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_pd(s, acc[i]);
  alignas(64) double out[8];
  _mm512_store_pd(out, s);
  double total = 0;
  for (double v : out) total += v;
  return total;
}

}  // namespace tweedie

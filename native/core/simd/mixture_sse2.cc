// The SSE2 mixture-posterior table (x86-64 baseline flags). SSE2 has no FMA: dfma is a
// multiply then an add (two roundings), which the tolerance tier allows (see mixture_lanes.h).
// Only mixture_sse2_table() has external linkage.
#include <emmintrin.h>

#include <cstddef>
#include <cstdint>

#include "mixture_kernels.h"
#include "mixture_lanes.h"
#include "mixture_small.h"

namespace tweedie {
namespace {

struct LSse2 {
  using D = __m128d;
  using F = __m128;
  static constexpr size_t kD = 2;
  static constexpr size_t kF = 4;
  static constexpr int kScreenRows = 6;  // 6 rows x 8 components: 12 accumulators
  static constexpr int kMeanRows = 4;    // 4 rows x 6 dimensions
  static constexpr int kMeanVecs = 3;

  static D dzero() { return _mm_setzero_pd(); }
  static D dset(double x) { return _mm_set1_pd(x); }
  static D dload(const double* p) { return _mm_loadu_pd(p); }
  static void dstore(double* p, D v) { _mm_storeu_pd(p, v); }
  static D dadd(D a, D b) { return _mm_add_pd(a, b); }
  static D dsub(D a, D b) { return _mm_sub_pd(a, b); }
  static D dmul(D a, D b) { return _mm_mul_pd(a, b); }
  static D ddiv(D a, D b) { return _mm_div_pd(a, b); }
  static D dsqrt(D a) { return _mm_sqrt_pd(a); }
  static D dmax(D a, D b) { return _mm_max_pd(a, b); }
  static D dabs(D a) { return _mm_andnot_pd(_mm_set1_pd(-0.0), a); }
  // v where r > 0, else +0
  static D dkeep_pos(D r, D v) { return _mm_and_pd(_mm_cmpgt_pd(r, _mm_setzero_pd()), v); }
  static D dfma(D a, D b, D c) { return _mm_add_pd(_mm_mul_pd(a, b), c); }
  static D dfnma(D a, D b, D c) { return _mm_sub_pd(c, _mm_mul_pd(a, b)); }
  static D dmin(D a, D b) { return _mm_min_pd(a, b); }
  static D dlt(D a, D b) { return _mm_cmplt_pd(a, b); }
  static bool dany(D m) { return _mm_movemask_pd(m) != 0; }
  static D dand(D a, D b) { return _mm_and_pd(a, b); }
  static D dor(D a, D b) { return _mm_or_pd(a, b); }
  static D dandnot(D m, D b) { return _mm_andnot_pd(m, b); }
  static D dbits_add(D a, D b) { return _mm_castsi128_pd(_mm_add_epi64(_mm_castpd_si128(a), _mm_castpd_si128(b))); }
  static D dshl52(D a) { return _mm_castsi128_pd(_mm_slli_epi64(_mm_castpd_si128(a), 52)); }
  static D dsub_bits(D a, D b) { return _mm_castsi128_pd(_mm_sub_epi64(_mm_castpd_si128(a), _mm_castpd_si128(b))); }
  static double dhsum(D v) { return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v))); }
  static double dhmax(D v) { return _mm_cvtsd_f64(_mm_max_sd(v, _mm_unpackhi_pd(v, v))); }
  static D dpow2(D n) {
    const __m128i t = _mm_castpd_si128(_mm_add_pd(n, _mm_set1_pd(0x1.8p52)));
    const __m128i e = _mm_sub_epi64(t, _mm_set1_epi64x(0x4338000000000000LL - 1023));
    return _mm_castsi128_pd(_mm_slli_epi64(e, 52));
  }

  // dst[jj * ds + c] = float(m[c * ms + jj]) for c, jj < 4 (dst 16-byte aligned).
  static __m128 row4(const double* m) {
    return _mm_movelh_ps(_mm_cvtpd_ps(_mm_loadu_pd(m)), _mm_cvtpd_ps(_mm_loadu_pd(m + 2)));
  }
  static void pack4x4(const double* m, size_t ms, float* dst, size_t ds) {
    __m128 r0 = row4(m), r1 = row4(m + ms), r2 = row4(m + 2 * ms), r3 = row4(m + 3 * ms);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_store_ps(dst, r0);
    _mm_store_ps(dst + ds, r1);
    _mm_store_ps(dst + 2 * ds, r2);
    _mm_store_ps(dst + 3 * ds, r3);
  }

  // dst[jj * ds + c] = m[c * ms + jj] for c, jj < 4 (2 x 2 blocks).
  static void pack4x4d(const double* m, size_t ms, double* dst, size_t ds) {
    for (size_t c = 0; c < 4; c += 2) {
      for (size_t j = 0; j < 4; j += 2) {
        const __m128d a = _mm_loadu_pd(m + c * ms + j), b = _mm_loadu_pd(m + (c + 1) * ms + j);
        _mm_storeu_pd(dst + j * ds + c, _mm_unpacklo_pd(a, b));
        _mm_storeu_pd(dst + (j + 1) * ds + c, _mm_unpackhi_pd(a, b));
      }
    }
  }

  // Lane bit masks (bit i for lane i) of a <= b and a == b.
  static int dle_mask(D a, D b) { return _mm_movemask_pd(_mm_cmple_pd(a, b)); }
  static int deq_mask(D a, D b) { return _mm_movemask_pd(_mm_cmpeq_pd(a, b)); }
  // Lanes of two doubles at p, p + s (floats widened).
  static D dgather(const double* p, size_t s) { return _mm_set_pd(p[s], p[0]); }
  static D dgather(const float* p, size_t s) {
    return _mm_set_pd(static_cast<double>(p[s]), static_cast<double>(p[0]));
  }

  // out[r * stride + j] = T(c[j][r]) for r, j < 2 (T double or float).
  static void store_block(double* out, size_t stride, const D* c) {
    _mm_storeu_pd(out, _mm_unpacklo_pd(c[0], c[1]));
    _mm_storeu_pd(out + stride, _mm_unpackhi_pd(c[0], c[1]));
  }
  static void store_block(float* out, size_t stride, const D* c) {
    const __m128 t = _mm_unpacklo_ps(_mm_cvtpd_ps(c[0]), _mm_cvtpd_ps(c[1]));  // r0j0 r0j1 r1j0 r1j1
    _mm_storel_pi(reinterpret_cast<__m64*>(out), t);
    _mm_storeh_pi(reinterpret_cast<__m64*>(out + stride), t);
  }
  static void store_block2(double* out, size_t stride, const D* c) { store_block(out, stride, c); }
  static void store_block2(float* out, size_t stride, const D* c) { store_block(out, stride, c); }

  // c[j][r] = double(in[r * stride + j]) for r, j < 2.
  static void load_block(const double* in, size_t stride, D* c) {
    const __m128d r0 = _mm_loadu_pd(in), r1 = _mm_loadu_pd(in + stride);
    c[0] = _mm_unpacklo_pd(r0, r1);
    c[1] = _mm_unpackhi_pd(r0, r1);
  }
  static void load_block(const float* in, size_t stride, D* c) {
    // (two floats by an unaligned 64-bit load)
    const __m128 r0 = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(in)));
    const __m128 r1 = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + stride)));
    const __m128 t = _mm_unpacklo_ps(r0, r1);  // r0j0 r1j0 r0j1 r1j1
    c[0] = _mm_cvtps_pd(t);
    c[1] = _mm_cvtps_pd(_mm_movehl_ps(t, t));
  }

  static F fzero() { return _mm_setzero_ps(); }
  static F fload(const float* p) { return _mm_load_ps(p); }
  static F fbroadcast(const float* p) { return _mm_set1_ps(*p); }
  static F ffma(F a, F b, F c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
  static void fstore(float* p, F v) { _mm_storeu_ps(p, v); }
};

const MixtureVectorTable kTable{&mixlanes::workspace_bytes<LSse2>, &mixlanes::row_work, &mixlanes::dynamic_split,
                                &mixlanes::coop_block<LSse2>,
                                &mixlanes::rows<LSse2, double>,
                                &mixlanes::rows<LSse2, float>, &mixlanes::exp_test<LSse2>,
                                &mixlanes::g_test_flags};

}  // namespace

const MixtureVectorTable& mixture_sse2_table() { return kTable; }

}  // namespace tweedie

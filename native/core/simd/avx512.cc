// The AVX-512 kernel table (compiled with -mavx512f -mavx512dq -mavx512vl, which imply AVX2 but
// not FMA; chosen at run time only on CPUs, and under operating systems, that have all of them).
// Tier A: bit-identical to the scalar table, so no FMA instruction is used anywhere here
// (-ffp-contract=off keeps the compiler from fusing the explicit mul and add either).
// Only avx512_kernels() has external linkage; see pbm_lanes.h for why.

// GCC 12's AVX-512 headers make their "undefined" vectors by self-initialisation, which -Wall
// reports as uninitialised wherever those intrinsics are inlined (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "../kernels.h"
#include "pbm_lanes.h"

namespace tweedie {
namespace {

// Eight doubles (and their bits as eight 64-bit integers).
struct V8 {
  using D = __m512d;
  using I = __m512i;
  static constexpr uint64_t kLanes = 8;
  static D set1(double x) { return _mm512_set1_pd(x); }
  static D add(D a, D b) { return _mm512_add_pd(a, b); }
  static D sub(D a, D b) { return _mm512_sub_pd(a, b); }
  static D mul(D a, D b) { return _mm512_mul_pd(a, b); }
  static D div(D a, D b) { return _mm512_div_pd(a, b); }
  static D sqrt(D a) { return _mm512_sqrt_pd(a); }
  static D gt(D a, D b) { return as_d(_mm512_movm_epi64(_mm512_cmp_pd_mask(a, b, _CMP_GT_OQ))); }
  static D and_(D a, D b) { return _mm512_and_pd(a, b); }
  static I as_i(D a) { return _mm512_castpd_si512(a); }
  static D as_d(I a) { return _mm512_castsi512_pd(a); }
  static I set1_i(uint64_t x) { return _mm512_set1_epi64(static_cast<long long>(x)); }
  static I and_i(I a, I b) { return _mm512_and_si512(a, b); }
  static I or_i(I a, I b) { return _mm512_or_si512(a, b); }
  static I xor_i(I a, I b) { return _mm512_xor_si512(a, b); }
  static I add_i(I a, I b) { return _mm512_add_epi64(a, b); }
  static I sub_i(I a, I b) { return _mm512_sub_epi64(a, b); }
  template <int n>
  static I srl_i(I a) { return _mm512_srli_epi64(a, n); }
  template <int n>
  static I sll_i(I a) { return _mm512_slli_epi64(a, n); }
  static I mul_lo32(I a, I b) { return _mm512_mul_epu32(a, b); }
  static I sign_mask(I a) { return _mm512_srai_epi64(a, 63); }
  static I iota() { return _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7); }

  // pbm_lanes.h's optional steps, with AVX-512's exact tools (masks, getmant/getexp, ternary
  // logic): fewer instructions, the same values.
  // Radius, part 1: m = 2w + 1 in [1, 2^33) = f 2^e; getmant gives f in [1, 2) and getexp e (as
  // a double), both exact. Under the fold mask, g = f * 0.5 (the reference's select) and
  // n = (e - 33) + 1, else g = f and n = e - 33: small integers, exact (0 comes out +0).
  static void fold_split(D m, D* g, D* n) {
    const D f = _mm512_getmant_pd(m, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
    const __mmask8 fold = _mm512_cmp_pd_mask(f, set1(lanes::kSqrt2), _CMP_GT_OQ);
    *g = _mm512_mask_mul_pd(f, fold, f, set1(0.5));
    const D e33 = _mm512_sub_pd(_mm512_getexp_pd(m), set1(33.0));
    *n = _mm512_mask_add_pd(e33, fold, e33, set1(1.0));
  }
  // Angle, part 2 (see pbm_lanes.h): swap cos and sin where q is odd, then flip the sign of cos
  // where bit 1 of q + 1 is set and of sin where bit 1 of q is set (xor of the sign bit).
  static void quadrant(D pc, D sinr, I q_bits, D* c, D* sn) {
    const __mmask8 odd = _mm512_test_epi64_mask(q_bits, set1_i(1));
    const I c0 = as_i(_mm512_mask_blend_pd(odd, pc, sinr));
    const I s0 = as_i(_mm512_mask_blend_pd(odd, sinr, pc));
    const I sign = set1_i(lanes::kSignBit);
    constexpr int kXorAnd = 0x78;  // a ^ (b & c)
    *c = as_d(_mm512_ternarylogic_epi64(c0, sll_i<62>(add_i(q_bits, set1_i(1))), sign, kXorAnd));
    *sn = as_d(_mm512_ternarylogic_epi64(s0, sll_i<62>(q_bits), sign, kXorAnd));
  }
};

// Vectors of eight blocks evaluated in lock step (pbm_lanes.h): 3 measured best on a Xeon with
// two 512-bit FMA ports (normal_fill about 12% faster than with 2, 8% faster than with 4: 2
// leaves too little independent work beside the divider and the long Horner chains, 4 spills
// more of the 32 registers). The divider (vdivpd 16 and vsqrtpd 18 cycles per zmm there, the
// same per lane as ymm) is busy about 40% of the time; -fschedule-insns gains about 11% here.
constexpr int kLockStep = 3;
constexpr size_t kBlocks = 8 * kLockStep;  // Philox blocks per group
constexpr size_t kGroup = 4 * kBlocks;     // normals per group

// The normals of blocks block .. block + 8K - 1 as rows of eight: rows[r] = the four normals of
// block 2r, then the four of block 2r + 1.
template <int K>
inline void normal_rows(const Stream& st, uint64_t block, __m512d rows[4 * K]) {
  __m512d z[4][K];
  normals_of_blocks<V8, K>(st, block, z);
  for (int h = 0; h < K; ++h) {
    // 4 x 8 transpose: lanes are blocks, rows must be (pairs of) blocks. Within each 128-bit
    // part i: t0 = z0 z1 of block 2i, t1 = z0 z1 of block 2i + 1, t2, t3 = z2 z3 of the same.
    const __m512d t0 = _mm512_unpacklo_pd(z[0][h], z[1][h]);
    const __m512d t1 = _mm512_unpackhi_pd(z[0][h], z[1][h]);
    const __m512d t2 = _mm512_unpacklo_pd(z[2][h], z[3][h]);
    const __m512d t3 = _mm512_unpackhi_pd(z[2][h], z[3][h]);
    const __m512d a = _mm512_shuffle_f64x2(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));  // t0.0 t0.1 t2.0 t2.1
    const __m512d b = _mm512_shuffle_f64x2(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));  // t1.0 t1.1 t3.0 t3.1
    const __m512d c = _mm512_shuffle_f64x2(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));  // t0.2 t0.3 t2.2 t2.3
    const __m512d d = _mm512_shuffle_f64x2(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));  // t1.2 t1.3 t3.2 t3.3
    rows[4 * h + 0] = _mm512_shuffle_f64x2(a, b, _MM_SHUFFLE(2, 0, 2, 0));    // blocks 0, 1
    rows[4 * h + 1] = _mm512_shuffle_f64x2(a, b, _MM_SHUFFLE(3, 1, 3, 1));    // blocks 2, 3
    rows[4 * h + 2] = _mm512_shuffle_f64x2(c, d, _MM_SHUFFLE(2, 0, 2, 0));    // blocks 4, 5
    rows[4 * h + 3] = _mm512_shuffle_f64x2(c, d, _MM_SHUFFLE(3, 1, 3, 1));    // blocks 6, 7
  }
}

// Calls sink(r, row) for the rows r = 0 .. 4k - 1 of the group at `block`, with k <= K the
// fewest vectors that cover `nblocks` blocks (partial groups: no more lanes than needed).
template <int K, class Sink>
inline void group_upto(const Stream& st, uint64_t block, size_t nblocks, Sink sink) {
  if constexpr (K > 1) {
    if (nblocks <= 8 * (K - 1)) return group_upto<K - 1>(st, block, nblocks, sink);
  }
  __m512d rows[4 * K];
  normal_rows<K>(st, block, rows);
  for (size_t r = 0; r < 4 * K; ++r) sink(r, rows[r]);
}

template <class Sink>
inline void group(const Stream& st, uint64_t block, size_t nblocks, Sink sink) {
  group_upto<kLockStep>(st, block, nblocks, sink);
}

// normals skip .. skip + count - 1 of the group at `block`, into z[0 .. count)
inline void partial_group(const Stream& st, uint64_t block, size_t skip, size_t count, double* z) {
  alignas(64) double buf[kGroup];
  group(st, block, (skip + count + 3) / 4, [&](size_t r, __m512d row) { _mm512_store_pd(buf + 8 * r, row); });
  for (size_t j = 0; j < count; ++j) z[j] = buf[skip + j];
}

inline void store_row(double* p, __m512d row) { _mm512_storeu_pd(p, row); }
inline void store_row(float* p, __m512d row) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(row)); }

template <typename T>
void normal_fill(T* out, size_t n, uint64_t seed, uint64_t stream, uint64_t index0) {
  const Stream st = make_stream(seed, stream);
  for_normal_groups<kBlocks>(
      n, index0,
      [&](size_t i, uint64_t block) {
        T* o = out + i;
        group(st, block, kBlocks, [o](size_t r, __m512d row) { store_row(o + 8 * r, row); });
      },
      [&](size_t i, uint64_t block, size_t skip, size_t count) {
        double z[kGroup];
        partial_group(st, block, skip, count, z);
        scalar_store_normals(out + i, z, count);
      });
}

// out = a x + c eps, eps = T(z) for one row of eight; x is read before out is written.
inline void noise_row(double* out, double* eps_out, const double* x, __m512d a, __m512d c, __m512d z) {
  const __m512d ax = _mm512_mul_pd(a, _mm512_loadu_pd(x));
  const __m512d ce = _mm512_mul_pd(c, z);
  _mm512_storeu_pd(out, _mm512_add_pd(ax, ce));
  if (eps_out) _mm512_storeu_pd(eps_out, z);
}

inline void noise_row(float* out, float* eps_out, const float* x, __m512d a, __m512d c, __m512d z) {
  const __m256 eps = _mm512_cvtpd_ps(z);
  const __m512d ax = _mm512_mul_pd(a, _mm512_cvtps_pd(_mm256_loadu_ps(x)));
  const __m512d ce = _mm512_mul_pd(c, _mm512_cvtps_pd(eps));
  _mm256_storeu_ps(out, _mm512_cvtpd_ps(_mm512_add_pd(ax, ce)));
  if (eps_out) _mm256_storeu_ps(eps_out, eps);
}

template <typename T>
void noise_inline(T* out, T* eps_out, const T* x, double a, double c, size_t n, uint64_t seed,
                  uint64_t stream, uint64_t index0) {
  const Stream st = make_stream(seed, stream);
  const __m512d va = _mm512_set1_pd(a), vc = _mm512_set1_pd(c);
  for_normal_groups<kBlocks>(
      n, index0,
      [&](size_t i, uint64_t block) {
        T* o = out + i;
        T* e = eps_out ? eps_out + i : nullptr;
        const T* xi = x + i;
        group(st, block, kBlocks, [=](size_t r, __m512d row) {
          noise_row(o + 8 * r, e ? e + 8 * r : nullptr, xi + 8 * r, va, vc, row);
        });
      },
      [&](size_t i, uint64_t block, size_t skip, size_t count) {
        double z[kGroup];
        partial_group(st, block, skip, count, z);
        scalar_noise(out + i, eps_out ? eps_out + i : nullptr, x + i, a, c, z, count);
      });
}

void combine2_f64(double* out, const double* x, const double* y, double a, double c, size_t n) {
  const __m512d va = _mm512_set1_pd(a), vc = _mm512_set1_pd(c);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d ax = _mm512_mul_pd(va, _mm512_loadu_pd(x + i));
    const __m512d cy = _mm512_mul_pd(vc, _mm512_loadu_pd(y + i));
    _mm512_storeu_pd(out + i, _mm512_add_pd(ax, cy));
  }
  scalar_combine2(out + i, x + i, y + i, a, c, n - i);
}

void combine2_f32(float* out, const float* x, const float* y, double a, double c, size_t n) {
  const __m512d va = _mm512_set1_pd(a), vc = _mm512_set1_pd(c);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 xs = _mm512_loadu_ps(x + i);
    const __m512 ys = _mm512_loadu_ps(y + i);
    const __m512d lo = _mm512_add_pd(_mm512_mul_pd(va, _mm512_cvtps_pd(_mm512_castps512_ps256(xs))),
                                     _mm512_mul_pd(vc, _mm512_cvtps_pd(_mm512_castps512_ps256(ys))));
    const __m512d hi =
        _mm512_add_pd(_mm512_mul_pd(va, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xs), 1)))),
                      _mm512_mul_pd(vc, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(ys), 1)))));
    _mm256_storeu_ps(out + i, _mm512_cvtpd_ps(lo));
    _mm256_storeu_ps(out + i + 8, _mm512_cvtpd_ps(hi));
  }
  scalar_combine2(out + i, x + i, y + i, a, c, n - i);
}

// Test hook: the normals of given Philox words, through the same lane code as the kernels.
void pbm_words(double* out, const uint32_t* words, size_t nblocks) {
  for (size_t b0 = 0; b0 < nblocks; b0 += 8) {
    alignas(64) uint64_t soa[4][8] = {};  // word j of block b0 + lane; missing blocks are 0
    const size_t m = nblocks - b0 < 8 ? nblocks - b0 : 8;
    for (size_t l = 0; l < m; ++l)
      for (size_t j = 0; j < 4; ++j) soa[j][l] = words[4 * (b0 + l) + j] | 0xABCD000000000000ull;  // junk high half
    __m512d wd[4][1];
    for (size_t j = 0; j < 4; ++j) wd[j][0] = word_plus_2p52<V8>(_mm512_load_si512(soa[j]));
    __m512d z[4][1];
    pbm_normals<V8, 1>(wd[0], wd[1], wd[2], wd[3], z);
    alignas(64) double buf[4][8];
    for (size_t j = 0; j < 4; ++j) _mm512_store_pd(buf[j], z[j][0]);
    for (size_t l = 0; l < m; ++l)
      for (size_t j = 0; j < 4; ++j) out[4 * (b0 + l) + j] = buf[j][l];
  }
}

const KernelTable kAvx512{SimdLevel::kAvx512,
                          TypedKernels<double>{&normal_fill<double>, &combine2_f64, &noise_inline<double>},
                          TypedKernels<float>{&normal_fill<float>, &combine2_f32, &noise_inline<float>},
                          &pbm_words};

}  // namespace

const KernelTable& avx512_kernels() { return kAvx512; }

}  // namespace tweedie

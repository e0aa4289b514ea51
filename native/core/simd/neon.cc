// The NEON kernel table (AArch64, where Advanced SIMD with float64 lanes is always present).
// Tier A: bit-identical to the scalar table, lane by lane in the same operation order; no fmla
// (-ffp-contract=off keeps the compiler from fusing the explicit mul and add).
// Only neon_kernels() has external linkage; see pbm_lanes.h for why.
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "../kernels.h"
#include "pbm_lanes.h"

namespace tweedie {
namespace {

// Two doubles (and their bits as two 64-bit integers).
struct V2 {
  using D = float64x2_t;
  using I = uint64x2_t;
  static constexpr uint64_t kLanes = 2;
  static D set1(double x) { return vdupq_n_f64(x); }
  static D add(D a, D b) { return vaddq_f64(a, b); }
  static D sub(D a, D b) { return vsubq_f64(a, b); }
  static D mul(D a, D b) { return vmulq_f64(a, b); }
  static D div(D a, D b) { return vdivq_f64(a, b); }
  static D sqrt(D a) { return vsqrtq_f64(a); }
  static D gt(D a, D b) { return vreinterpretq_f64_u64(vcgtq_f64(a, b)); }
  static D and_(D a, D b) { return as_d(vandq_u64(as_i(a), as_i(b))); }
  static I as_i(D a) { return vreinterpretq_u64_f64(a); }
  static D as_d(I a) { return vreinterpretq_f64_u64(a); }
  static I set1_i(uint64_t x) { return vdupq_n_u64(x); }
  static I and_i(I a, I b) { return vandq_u64(a, b); }
  static I or_i(I a, I b) { return vorrq_u64(a, b); }
  static I xor_i(I a, I b) { return veorq_u64(a, b); }
  static I add_i(I a, I b) { return vaddq_u64(a, b); }
  static I sub_i(I a, I b) { return vsubq_u64(a, b); }
  template <int n>
  static I srl_i(I a) { return vshrq_n_u64(a, n); }
  template <int n>
  static I sll_i(I a) { return vshlq_n_u64(a, n); }
  static I mul_lo32(I a, I b) { return vmull_u32(vmovn_u64(a), vmovn_u64(b)); }
  static I sign_mask(I a) { return vreinterpretq_u64_s64(vshrq_n_s64(vreinterpretq_s64_u64(a), 63)); }
  static I iota() {
    const uint64_t v[2] = {0, 1};
    return vld1q_u64(v);
  }
};

// Vectors of two blocks evaluated in lock step (pbm_lanes.h); AArch64 has 32 vector registers.
constexpr int kLockStep = 3;
constexpr size_t kBlocks = 2 * kLockStep;  // Philox blocks per group
constexpr size_t kGroup = 4 * kBlocks;     // normals per group

// One block's four normals as two pairs.
struct Row {
  float64x2_t lo, hi;
};

// The normals of blocks block .. block + 2K - 1 as rows (one per block).
template <int K>
inline void normal_rows(const Stream& st, uint64_t block, Row rows[2 * K]) {
  float64x2_t z[4][K];
  normals_of_blocks<V2, K>(st, block, z);
  for (int h = 0; h < K; ++h) {
    rows[2 * h] = Row{vzip1q_f64(z[0][h], z[1][h]), vzip1q_f64(z[2][h], z[3][h])};
    rows[2 * h + 1] = Row{vzip2q_f64(z[0][h], z[1][h]), vzip2q_f64(z[2][h], z[3][h])};
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
  double buf[kGroup];
  group(st, block, (skip + count + 3) / 4, [&](size_t b, const Row& row) {
    vst1q_f64(buf + 4 * b, row.lo);
    vst1q_f64(buf + 4 * b + 2, row.hi);
  });
  for (size_t j = 0; j < count; ++j) z[j] = buf[skip + j];
}

inline float32x4_t to_f32(const Row& row) { return vcombine_f32(vcvt_f32_f64(row.lo), vcvt_f32_f64(row.hi)); }

inline void store_row(double* p, const Row& row) {
  vst1q_f64(p, row.lo);
  vst1q_f64(p + 2, row.hi);
}
inline void store_row(float* p, const Row& row) { vst1q_f32(p, to_f32(row)); }

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

// out = a x + c eps for one pair (explicit mul, mul, add: no fmla).
inline float64x2_t noise_pair(float64x2_t x, float64x2_t a, float64x2_t c, float64x2_t eps) {
  return vaddq_f64(vmulq_f64(a, x), vmulq_f64(c, eps));
}

// x is read before out is written (out may equal x).
inline void noise_row(double* out, double* eps_out, const double* x, float64x2_t a, float64x2_t c, const Row& z) {
  const float64x2_t lo = noise_pair(vld1q_f64(x), a, c, z.lo);
  const float64x2_t hi = noise_pair(vld1q_f64(x + 2), a, c, z.hi);
  vst1q_f64(out, lo);
  vst1q_f64(out + 2, hi);
  if (eps_out) store_row(eps_out, z);
}

inline void noise_row(float* out, float* eps_out, const float* x, float64x2_t a, float64x2_t c, const Row& z) {
  const float32x4_t eps = to_f32(z);
  const float32x4_t xs = vld1q_f32(x);
  const float64x2_t lo = noise_pair(vcvt_f64_f32(vget_low_f32(xs)), a, c, vcvt_f64_f32(vget_low_f32(eps)));
  const float64x2_t hi = noise_pair(vcvt_high_f64_f32(xs), a, c, vcvt_high_f64_f32(eps));
  vst1q_f32(out, vcombine_f32(vcvt_f32_f64(lo), vcvt_f32_f64(hi)));
  if (eps_out) vst1q_f32(eps_out, eps);
}

template <typename T>
void noise_inline(T* out, T* eps_out, const T* x, double a, double c, size_t n, uint64_t seed,
                  uint64_t stream, uint64_t index0) {
  const Stream st = make_stream(seed, stream);
  const float64x2_t va = vdupq_n_f64(a), vc = vdupq_n_f64(c);
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
  const float64x2_t va = vdupq_n_f64(a), vc = vdupq_n_f64(c);
  size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const float64x2_t ax = vmulq_f64(va, vld1q_f64(x + i));
    const float64x2_t cy = vmulq_f64(vc, vld1q_f64(y + i));
    vst1q_f64(out + i, vaddq_f64(ax, cy));
  }
  scalar_combine2(out + i, x + i, y + i, a, c, n - i);
}

void combine2_f32(float* out, const float* x, const float* y, double a, double c, size_t n) {
  const float64x2_t va = vdupq_n_f64(a), vc = vdupq_n_f64(c);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t xs = vld1q_f32(x + i);
    const float32x4_t ys = vld1q_f32(y + i);
    const float64x2_t lo = vaddq_f64(vmulq_f64(va, vcvt_f64_f32(vget_low_f32(xs))),
                                     vmulq_f64(vc, vcvt_f64_f32(vget_low_f32(ys))));
    const float64x2_t hi = vaddq_f64(vmulq_f64(va, vcvt_high_f64_f32(xs)), vmulq_f64(vc, vcvt_high_f64_f32(ys)));
    vst1q_f32(out + i, vcombine_f32(vcvt_f32_f64(lo), vcvt_f32_f64(hi)));
  }
  scalar_combine2(out + i, x + i, y + i, a, c, n - i);
}

// Test hook: the normals of given Philox words, through the same lane code as the kernels.
void pbm_words(double* out, const uint32_t* words, size_t nblocks) {
  for (size_t b0 = 0; b0 < nblocks; b0 += 2) {
    uint64_t soa[4][2] = {};  // word j of block b0 + lane; missing blocks are 0
    const size_t m = nblocks - b0 < 2 ? nblocks - b0 : 2;
    for (size_t l = 0; l < m; ++l)
      for (size_t j = 0; j < 4; ++j) soa[j][l] = words[4 * (b0 + l) + j] | 0xABCD000000000000ull;  // junk high half
    float64x2_t wd[4][1];
    for (size_t j = 0; j < 4; ++j) wd[j][0] = word_plus_2p52<V2>(vld1q_u64(soa[j]));
    float64x2_t z[4][1];
    pbm_normals<V2, 1>(wd[0], wd[1], wd[2], wd[3], z);
    double buf[4][2];
    for (size_t j = 0; j < 4; ++j) vst1q_f64(buf[j], z[j][0]);
    for (size_t l = 0; l < m; ++l)
      for (size_t j = 0; j < 4; ++j) out[4 * (b0 + l) + j] = buf[j][l];
  }
}

const KernelTable kNeon{SimdLevel::kNeon,
                        TypedKernels<double>{&normal_fill<double>, &combine2_f64, &noise_inline<double>},
                        TypedKernels<float>{&normal_fill<float>, &combine2_f32, &noise_inline<float>},
                        &pbm_words};

}  // namespace

const KernelTable& neon_kernels() { return kNeon; }

}  // namespace tweedie

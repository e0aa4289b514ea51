// The NEON mixture-posterior table (AArch64, where Advanced SIMD with float64 lanes and fused
// multiply-add are always present). Tolerance tier: FMA is used on purpose (see
// mixture_lanes.h). Only mixture_neon_table() has external linkage.
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "mixture_kernels.h"
#include "mixture_lanes.h"
#include "mixture_small.h"

namespace tweedie {
namespace {

struct LNeon {
  using D = float64x2_t;
  using F = float32x4_t;
  static constexpr size_t kD = 2;
  static constexpr size_t kF = 4;
  static constexpr int kScreenRows = 6;  // 6 rows x 8 components: 12 accumulators
  static constexpr int kMeanRows = 4;    // 4 rows x 6 dimensions
  static constexpr int kMeanVecs = 3;

  static D dzero() { return vdupq_n_f64(0.0); }
  static D dset(double x) { return vdupq_n_f64(x); }
  static D dload(const double* p) { return vld1q_f64(p); }
  static void dstore(double* p, D v) { vst1q_f64(p, v); }
  static D dadd(D a, D b) { return vaddq_f64(a, b); }
  static D dsub(D a, D b) { return vsubq_f64(a, b); }
  static D dmul(D a, D b) { return vmulq_f64(a, b); }
  static D ddiv(D a, D b) { return vdivq_f64(a, b); }
  static D dsqrt(D a) { return vsqrtq_f64(a); }
  static D dmax(D a, D b) { return vmaxnmq_f64(a, b); }
  static D dabs(D a) { return vabsq_f64(a); }
  // v where r > 0, else +0
  static D dkeep_pos(D r, D v) {
    return vreinterpretq_f64_u64(vandq_u64(vcgtq_f64(r, vdupq_n_f64(0.0)), vreinterpretq_u64_f64(v)));
  }
  static D dfma(D a, D b, D c) { return vfmaq_f64(c, a, b); }
  static D dfnma(D a, D b, D c) { return vfmsq_f64(c, a, b); }
  static D dmin(D a, D b) { return vminnmq_f64(a, b); }
  static D dlt(D a, D b) { return vreinterpretq_f64_u64(vcltq_f64(a, b)); }
  static bool dany(D m) {
    const uint64x2_t u = vreinterpretq_u64_f64(m);
    return (vgetq_lane_u64(u, 0) | vgetq_lane_u64(u, 1)) != 0;
  }
  static D dand(D a, D b) {
    return vreinterpretq_f64_u64(vandq_u64(vreinterpretq_u64_f64(a), vreinterpretq_u64_f64(b)));
  }
  static D dor(D a, D b) {
    return vreinterpretq_f64_u64(vorrq_u64(vreinterpretq_u64_f64(a), vreinterpretq_u64_f64(b)));
  }
  static D dandnot(D m, D b) {
    return vreinterpretq_f64_u64(vbicq_u64(vreinterpretq_u64_f64(b), vreinterpretq_u64_f64(m)));
  }
  static D dbits_add(D a, D b) {
    return vreinterpretq_f64_s64(vaddq_s64(vreinterpretq_s64_f64(a), vreinterpretq_s64_f64(b)));
  }
  static D dshl52(D a) { return vreinterpretq_f64_s64(vshlq_n_s64(vreinterpretq_s64_f64(a), 52)); }
  static D dsub_bits(D a, D b) {
    return vreinterpretq_f64_s64(vsubq_s64(vreinterpretq_s64_f64(a), vreinterpretq_s64_f64(b)));
  }
  static double dhsum(D v) { return vgetq_lane_f64(v, 0) + vgetq_lane_f64(v, 1); }
  static double dhmax(D v) {
    const double a = vgetq_lane_f64(v, 0), b = vgetq_lane_f64(v, 1);
    return a > b ? a : b;
  }
  static D dpow2(D n) {
    const int64x2_t t = vreinterpretq_s64_f64(vaddq_f64(n, vdupq_n_f64(0x1.8p52)));
    const int64x2_t e = vsubq_s64(t, vdupq_n_s64(0x4338000000000000LL - 1023));
    return vreinterpretq_f64_s64(vshlq_n_s64(e, 52));
  }
  static int mask(uint64x2_t m) {
    return static_cast<int>((vgetq_lane_u64(m, 0) & 1) | ((vgetq_lane_u64(m, 1) & 1) << 1));
  }
  static int dle_mask(D a, D b) { return mask(vcleq_f64(a, b)); }
  static int deq_mask(D a, D b) { return mask(vceqq_f64(a, b)); }
  static D dgather(const double* p, size_t s) { return vcombine_f64(vld1_f64(p), vld1_f64(p + s)); }
  static D dgather(const float* p, size_t s) {
    return vcombine_f64(vdup_n_f64(static_cast<double>(p[0])), vdup_n_f64(static_cast<double>(p[s])));
  }
  // dst[jj * ds + c] = float(m[c * ms + jj]) for c, jj < 4.
  static float32x4_t row4(const double* m) { return vcombine_f32(vcvt_f32_f64(vld1q_f64(m)), vcvt_f32_f64(vld1q_f64(m + 2))); }
  static void pack4x4(const double* m, size_t ms, float* dst, size_t ds) {
    const float32x4_t r0 = row4(m), r1 = row4(m + ms), r2 = row4(m + 2 * ms), r3 = row4(m + 3 * ms);
    const float32x4x2_t a = vtrnq_f32(r0, r1), b = vtrnq_f32(r2, r3);  // (00 10 02 12) (01 11 03 13) ...
    vst1q_f32(dst, vcombine_f32(vget_low_f32(a.val[0]), vget_low_f32(b.val[0])));
    vst1q_f32(dst + ds, vcombine_f32(vget_low_f32(a.val[1]), vget_low_f32(b.val[1])));
    vst1q_f32(dst + 2 * ds, vcombine_f32(vget_high_f32(a.val[0]), vget_high_f32(b.val[0])));
    vst1q_f32(dst + 3 * ds, vcombine_f32(vget_high_f32(a.val[1]), vget_high_f32(b.val[1])));
  }
  // dst[jj * ds + c] = m[c * ms + jj] for c, jj < 4 (2 x 2 blocks).
  static void pack4x4d(const double* m, size_t ms, double* dst, size_t ds) {
    for (size_t c = 0; c < 4; c += 2) {
      for (size_t j = 0; j < 4; j += 2) {
        const float64x2_t a = vld1q_f64(m + c * ms + j), b = vld1q_f64(m + (c + 1) * ms + j);
        vst1q_f64(dst + j * ds + c, vzip1q_f64(a, b));
        vst1q_f64(dst + (j + 1) * ds + c, vzip2q_f64(a, b));
      }
    }
  }

  // out[r * stride + j] = T(c[j][r]) for r, j < 2 (T double or float).
  static void store_block(double* out, size_t stride, const D* c) {
    vst1q_f64(out, vzip1q_f64(c[0], c[1]));
    vst1q_f64(out + stride, vzip2q_f64(c[0], c[1]));
  }
  static void store_block(float* out, size_t stride, const D* c) {
    const float32x2_t a = vcvt_f32_f64(c[0]), b = vcvt_f32_f64(c[1]);
    vst1_f32(out, vzip1_f32(a, b));
    vst1_f32(out + stride, vzip2_f32(a, b));
  }
  static void store_block2(double* out, size_t stride, const D* c) { store_block(out, stride, c); }
  static void store_block2(float* out, size_t stride, const D* c) { store_block(out, stride, c); }

  // c[j][r] = double(in[r * stride + j]) for r, j < 2.
  static void load_block(const double* in, size_t stride, D* c) {
    const float64x2_t r0 = vld1q_f64(in), r1 = vld1q_f64(in + stride);
    c[0] = vzip1q_f64(r0, r1);
    c[1] = vzip2q_f64(r0, r1);
  }
  static void load_block(const float* in, size_t stride, D* c) {
    const float32x2_t r0 = vld1_f32(in), r1 = vld1_f32(in + stride);
    c[0] = vcvt_f64_f32(vzip1_f32(r0, r1));
    c[1] = vcvt_f64_f32(vzip2_f32(r0, r1));
  }

  static F fzero() { return vdupq_n_f32(0.0f); }
  static F fload(const float* p) { return vld1q_f32(p); }
  static F fbroadcast(const float* p) { return vld1q_dup_f32(p); }
  static F ffma(F a, F b, F c) { return vfmaq_f32(c, a, b); }
  static void fstore(float* p, F v) { vst1q_f32(p, v); }
};

const MixtureVectorTable kTable{&mixlanes::workspace_bytes<LNeon>, &mixlanes::row_work, &mixlanes::dynamic_split,
                                &mixlanes::coop_block<LNeon>,
                                &mixlanes::rows<LNeon, double>,
                                &mixlanes::rows<LNeon, float>, &mixlanes::exp_test<LNeon>,
                                &mixlanes::g_test_flags};

}  // namespace

const MixtureVectorTable& mixture_neon_table() { return kTable; }

}  // namespace tweedie

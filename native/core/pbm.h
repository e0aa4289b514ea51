// "PBM" normals: Philox words -> Box-Muller with our own log and sincos, built only from
// + - * / and sqrt in a fixed order, so C++ (any SIMD level) and TypeScript give the same bits.
// The TypeScript twin is src/js/pbm.ts; any change here must be made there in the same order.
// Vector versions (native/core/simd/*) follow the same operation order lane by lane.
#pragma once
#include <cmath>
#include <cstdint>

#include "philox.h"

namespace tweedie {
namespace pbm {

// log: u = (w + 0.5) 2^-32 = m 2^-33 with m = 2w + 1 = f 2^e, f in [1, 2), folded to
// (sqrt(1/2), sqrt(2)]; log f = 2 atanh(s), s = (f - 1)/(f + 1), by its series (11 terms).
constexpr double kLn2Hi = 0.6931471803691238;      // 0x1.62e42fee00000p-1: n * kLn2Hi is exact
constexpr double kLn2Lo = 1.9082149292705877e-10;  // ln 2 - kLn2Hi
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kLogQ[11] = {0.6666666666666666,  0.4,
                              0.2857142857142857,  0.2222222222222222,
                              0.18181818181818182, 0.15384615384615385,
                              0.13333333333333333, 0.11764705882352941,
                              0.10526315789473684, 0.09523809523809523,
                              0.08695652173913043};  // 2 / (2k + 1), k = 1..11

// sincos(2 pi r) for r in [-1/8, 1/8) turns: Taylor coefficients (+-)(2 pi)^n / n!.
constexpr double kSin[9] = {6.283185307179586,   -41.34170224039976, 81.60524927607506,
                            -76.70585975306139,  42.058693944897655, -15.09464257682299,
                            3.819952584848282,   -0.7181223017785006, 0.10422916220813984};
constexpr double kCos[10] = {1.0,                 -19.739208802178716, 64.9393940226683,
                             -85.45681720669373,  60.24464137187666,   -26.4262567833744,
                             7.903536371318469,   -1.714390711088672,  0.28200596845579123,
                             -0.03638284114254567};
constexpr double kTwoPow30 = 1073741824.0;
// 2^-e for e = 0..32: scaling by it is exact.
constexpr double kPow2Neg[33] = {
    1.0, 0x1p-1, 0x1p-2, 0x1p-3, 0x1p-4, 0x1p-5, 0x1p-6, 0x1p-7, 0x1p-8, 0x1p-9, 0x1p-10,
    0x1p-11, 0x1p-12, 0x1p-13, 0x1p-14, 0x1p-15, 0x1p-16, 0x1p-17, 0x1p-18, 0x1p-19, 0x1p-20,
    0x1p-21, 0x1p-22, 0x1p-23, 0x1p-24, 0x1p-25, 0x1p-26, 0x1p-27, 0x1p-28, 0x1p-29, 0x1p-30,
    0x1p-31, 0x1p-32};
constexpr double kTwoPowNeg32 = 2.3283064365386963e-10;

// log((w + 0.5) 2^-32)
inline double log_u(uint32_t w) {
  int e = w ? 32 - __builtin_clz(w) : 0;
  double f = (2.0 * static_cast<double>(w) + 1.0) * kPow2Neg[e];  // exact, in [1, 2)
  if (f > kSqrt2) {
    f = f * 0.5;
    e = e + 1;
  }
  const double s = (f - 1.0) / (f + 1.0);
  const double z = s * s;
  double q = kLogQ[10];
  for (int k = 9; k >= 0; --k) q = q * z + kLogQ[k];
  const double log_f = 2.0 * s + s * (z * q);
  const double n = static_cast<double>(e - 33);
  return n * kLn2Hi + (n * kLn2Lo + log_f);
}

// radius sqrt(-2 log u(w))
inline double radius(uint32_t w) { return std::sqrt(-2.0 * log_u(w)); }

// cos and sin of 2 pi (w + 0.5) 2^-32: exact reduction to a quadrant and r in [-1/8, 1/8) turns.
inline void sincos_turns(uint32_t w, double* c, double* s) {
  const uint32_t q = static_cast<uint32_t>((static_cast<uint64_t>(w) + 0x20000000u) >> 30);
  const double r = ((static_cast<double>(w) + 0.5) - static_cast<double>(q) * kTwoPow30) * kTwoPowNeg32;
  const double r2 = r * r;
  double ps = kSin[8];
  for (int k = 7; k >= 0; --k) ps = ps * r2 + kSin[k];
  double pc = kCos[9];
  for (int k = 8; k >= 0; --k) pc = pc * r2 + kCos[k];
  const double sn = ps * r;
  switch (q & 3u) {
    case 0: *c = pc; *s = sn; break;
    case 1: *c = -sn; *s = pc; break;
    case 2: *c = -pc; *s = -sn; break;
    default: *c = sn; *s = -pc; break;
  }
}

// The four normals of one Philox block: z0 = r(w0) cos t(w1), z1 = r(w0) sin t(w1),
// z2 = r(w2) cos t(w3), z3 = r(w2) sin t(w3).
inline void normals4(const PhiloxBlock& b, double z[4]) {
  double c, s;
  const double r0 = radius(b.w[0]);
  sincos_turns(b.w[1], &c, &s);
  z[0] = r0 * c;
  z[1] = r0 * s;
  const double r2 = radius(b.w[2]);
  sincos_turns(b.w[3], &c, &s);
  z[2] = r2 * c;
  z[3] = r2 * s;
}

}  // namespace pbm
}  // namespace tweedie

// "PBM" normals: Philox words -> Box-Muller with our own log and sincos, built only from
// + - * / and sqrt in a fixed order, so C++ (any SIMD level) and TypeScript give the same bits.
// The TypeScript twin is src/js/pbm.ts; any change here must be made there in the same order.
// Vector versions (native/core/simd/*) follow the same operation order lane by lane.
#pragma once
#include <cmath>
#include <cstring>
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

// Branch-free helpers on the bit patterns (both results are exact: a pick and a sign flip).
inline uint64_t bits_of(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
inline double from_bits(uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
// cond ? a : b
inline double select(bool cond, double a, double b) {
  const uint64_t m = 0 - static_cast<uint64_t>(cond);
  return from_bits((bits_of(a) & m) | (bits_of(b) & ~m));
}
// cond ? -x : x
inline double flip_sign(double x, bool cond) {
  return from_bits(bits_of(x) ^ (static_cast<uint64_t>(cond) << 63));
}

// The functions below evaluate K independent words at once, statement by statement ("lock
// step"; PBM_EACH is the loop over them, fully unrolled since K is a constant). Each word sees
// exactly the operations of the one-word formula, in the same order; the lock step only puts
// the long dependency chains (a division, a square root, 8- to 10-step Horner loops) of
// different words next to each other, so the out-of-order core overlaps them instead of
// waiting on one chain at a time. There are no branches: the fold and the quadrant are random,
// and a mispredicted branch would also throw away the neighbouring chains' work.
#define PBM_EACH for (int k = 0; k < K; ++k)
// Forced inlining keeps a caller's blocks in one straight run of code (GCC otherwise calls the
// larger instances out of line, which splits the chains apart again).
#if defined(__GNUC__)
#define PBM_INLINE inline __attribute__((always_inline))
#else
#define PBM_INLINE inline
#endif

// out[k] = log((w[k] + 0.5) 2^-32)
template <int K>
PBM_INLINE void log_u(const uint32_t* w, double* out) {
  double f[K], n[K], s[K], z[K], q[K];
  PBM_EACH {
    int e = w[k] ? 32 - __builtin_clz(w[k]) : 0;
    double fk = (2.0 * static_cast<double>(w[k]) + 1.0) * kPow2Neg[e];  // exact, in [1, 2)
    // if (f > kSqrt2) { f = f * 0.5; e = e + 1; }, without a branch
    const bool fold = fk > kSqrt2;
    f[k] = select(fold, fk * 0.5, fk);
    e = e + static_cast<int>(fold);
    n[k] = static_cast<double>(e - 33);
  }
  PBM_EACH s[k] = (f[k] - 1.0) / (f[k] + 1.0);
  PBM_EACH z[k] = s[k] * s[k];
  PBM_EACH q[k] = kLogQ[10];
  PBM_EACH q[k] = q[k] * z[k] + kLogQ[9];
  PBM_EACH q[k] = q[k] * z[k] + kLogQ[8];
  PBM_EACH q[k] = q[k] * z[k] + kLogQ[7];
  PBM_EACH q[k] = q[k] * z[k] + kLogQ[6];
  PBM_EACH q[k] = q[k] * z[k] + kLogQ[5];
  PBM_EACH q[k] = q[k] * z[k] + kLogQ[4];
  PBM_EACH q[k] = q[k] * z[k] + kLogQ[3];
  PBM_EACH q[k] = q[k] * z[k] + kLogQ[2];
  PBM_EACH q[k] = q[k] * z[k] + kLogQ[1];
  PBM_EACH q[k] = q[k] * z[k] + kLogQ[0];
  PBM_EACH {
    const double log_f = 2.0 * s[k] + s[k] * (z[k] * q[k]);
    out[k] = n[k] * kLn2Hi + (n[k] * kLn2Lo + log_f);
  }
}

// out[k] = radius sqrt(-2 log u(w[k]))
template <int K>
PBM_INLINE void radius(const uint32_t* w, double* out) {
  double l[K];
  log_u<K>(w, l);
  PBM_EACH out[k] = std::sqrt(-2.0 * l[k]);
}

// c[k], s[k] = cos and sin of 2 pi (w[k] + 0.5) 2^-32: exact reduction to a quadrant and
// r in [-1/8, 1/8) turns.
template <int K>
PBM_INLINE void sincos_turns(const uint32_t* w, double* c, double* s) {
  uint32_t q[K];
  double r[K], r2[K], ps[K], pc[K];
  PBM_EACH {
    q[k] = static_cast<uint32_t>((static_cast<uint64_t>(w[k]) + 0x20000000u) >> 30);
    r[k] = ((static_cast<double>(w[k]) + 0.5) - static_cast<double>(q[k]) * kTwoPow30) * kTwoPowNeg32;
    r2[k] = r[k] * r[k];
  }
  PBM_EACH ps[k] = kSin[8];
  PBM_EACH pc[k] = kCos[9];
  PBM_EACH ps[k] = ps[k] * r2[k] + kSin[7];
  PBM_EACH pc[k] = pc[k] * r2[k] + kCos[8];
  PBM_EACH ps[k] = ps[k] * r2[k] + kSin[6];
  PBM_EACH pc[k] = pc[k] * r2[k] + kCos[7];
  PBM_EACH ps[k] = ps[k] * r2[k] + kSin[5];
  PBM_EACH pc[k] = pc[k] * r2[k] + kCos[6];
  PBM_EACH ps[k] = ps[k] * r2[k] + kSin[4];
  PBM_EACH pc[k] = pc[k] * r2[k] + kCos[5];
  PBM_EACH ps[k] = ps[k] * r2[k] + kSin[3];
  PBM_EACH pc[k] = pc[k] * r2[k] + kCos[4];
  PBM_EACH ps[k] = ps[k] * r2[k] + kSin[2];
  PBM_EACH pc[k] = pc[k] * r2[k] + kCos[3];
  PBM_EACH ps[k] = ps[k] * r2[k] + kSin[1];
  PBM_EACH pc[k] = pc[k] * r2[k] + kCos[2];
  PBM_EACH ps[k] = ps[k] * r2[k] + kSin[0];
  PBM_EACH pc[k] = pc[k] * r2[k] + kCos[1];
  PBM_EACH pc[k] = pc[k] * r2[k] + kCos[0];
  PBM_EACH {
    const double sn = ps[k] * r[k];
    // Quadrant q & 3 = 0: (pc, sn), 1: (-sn, pc), 2: (-pc, -sn), 3: (sn, -pc): swap on odd q,
    // then flip signs (exact).
    const bool odd = (q[k] & 1u) != 0;
    c[k] = flip_sign(select(odd, sn, pc[k]), ((q[k] + 1u) & 2u) != 0);
    s[k] = flip_sign(select(odd, pc[k], sn), (q[k] & 2u) != 0);
  }
}

// The four normals of each of B Philox blocks: z[4b + 0] = r(w0) cos t(w1),
// z[4b + 1] = r(w0) sin t(w1), z[4b + 2] = r(w2) cos t(w3), z[4b + 3] = r(w2) sin t(w3).
template <int B>
PBM_INLINE void normals(const PhiloxBlock* b, double* z) {
  constexpr int K = 2 * B;
  uint32_t wr[K], wt[K];
  PBM_EACH {
    wr[k] = b[k / 2].w[2 * (k % 2)];      // w0, w2 of each block
    wt[k] = b[k / 2].w[2 * (k % 2) + 1];  // w1, w3
  }
  double r[K], c[K], s[K];
  radius<K>(wr, r);
  sincos_turns<K>(wt, c, s);
  PBM_EACH {
    z[2 * k] = r[k] * c[k];
    z[2 * k + 1] = r[k] * s[k];
  }
}

#undef PBM_EACH
#undef PBM_INLINE

// One word at a time (the plain formulas).
inline double log_u(uint32_t w) {
  double out;
  log_u<1>(&w, &out);
  return out;
}
inline double radius(uint32_t w) {
  double out;
  radius<1>(&w, &out);
  return out;
}
inline void sincos_turns(uint32_t w, double* c, double* s) { sincos_turns<1>(&w, c, s); }
inline void normals4(const PhiloxBlock& b, double z[4]) { normals<1>(&b, z); }

}  // namespace pbm
}  // namespace tweedie

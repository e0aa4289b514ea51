// Lane-wise Philox and PBM (native/core/philox.h, pbm.h) and the kernel drivers shared by the
// vector levels. Included only by the vector translation units; everything here has internal
// linkage (anonymous namespace) so a copy compiled with -mavx2 can never be picked by the linker
// for code that runs on a CPU without AVX2.
//
// Every lane performs the scalar reference's floating-point operations in the same order
// (explicit mul then add, never FMA), so the results are bit-identical. Where the scalar code
// has integer steps (word to double, bit length, the fold, the quadrant) the lanes get the same
// exact values by other exact means, noted where they occur.
//
// V provides, for D = a vector of V::kLanes doubles and I = the same bits as 64-bit lanes:
//   set1(double), add, sub, mul, div, sqrt, gt (all-ones where a > b), and_(D, D);
//   as_i(D), as_d(I), set1_i(uint64_t), and_i, or_i, xor_i, add_i, sub_i, srl_i<n>, sll_i<n>,
//   mul_lo32(I, I) (the 64-bit products of the low 32 bits of each lane: pmuludq),
//   sign_mask(I) (all-ones where the lane's top bit is set), iota() (0, 1, ..., kLanes - 1).
// and may provide (detected at compile time; otherwise the generic code below does the step):
//   fold_split(D m, D* g, D* n): radius part 1 below, from m to g and n, by its own exact means;
//   quadrant(D pc, D sinr, I q_bits, D* c, D* sn): angle part 2 below, idem.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../kernels.h"

namespace tweedie {
namespace {

// The constants of native/core/philox.h and pbm.h (same values; repeated so that nothing of
// those headers is odr-used from a vector translation unit).
namespace lanes {
constexpr double kLn2Hi = 0.6931471803691238;
constexpr double kLn2Lo = 1.9082149292705877e-10;
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kLogQ[11] = {0.6666666666666666,  0.4,
                              0.2857142857142857,  0.2222222222222222,
                              0.18181818181818182, 0.15384615384615385,
                              0.13333333333333333, 0.11764705882352941,
                              0.10526315789473684, 0.09523809523809523,
                              0.08695652173913043};
constexpr double kSin[9] = {6.283185307179586,   -41.34170224039976, 81.60524927607506,
                            -76.70585975306139,  42.058693944897655, -15.09464257682299,
                            3.819952584848282,   -0.7181223017785006, 0.10422916220813984};
constexpr double kCos[10] = {1.0,                 -19.739208802178716, 64.9393940226683,
                             -85.45681720669373,  60.24464137187666,   -26.4262567833744,
                             7.903536371318469,   -1.714390711088672,  0.28200596845579123,
                             -0.03638284114254567};
constexpr double kTwoPow30 = 1073741824.0;
constexpr double kTwoPowNeg32 = 2.3283064365386963e-10;
constexpr double kTwoPowNeg30 = 0x1p-30;
constexpr double kTwoPow52 = 0x1p52;
constexpr uint64_t kLow32 = 0x00000000FFFFFFFFull;
constexpr uint64_t kMantissaBits = 0x000FFFFFFFFFFFFFull;
constexpr uint64_t kOneBits = 0x3FF0000000000000ull;       // 1.0
constexpr uint64_t kTwoPow52Bits = 0x4330000000000000ull;  // 2^52
constexpr uint64_t kSignBit = 0x8000000000000000ull;

constexpr uint32_t kM0 = 0xD2511F53u;
constexpr uint32_t kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u;
constexpr uint32_t kW1 = 0xBB67AE85u;
}  // namespace lanes

// A seed's ten round keys and a stream's two counter words.
struct Stream {
  uint32_t k0[10], k1[10];
  uint32_t stream_lo, stream_hi;
};

inline Stream make_stream(uint64_t seed, uint64_t stream) {
  Stream st;
  uint32_t a = static_cast<uint32_t>(seed), b = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    st.k0[r] = a;
    st.k1[r] = b;
    a += lanes::kW0;
    b += lanes::kW1;
  }
  st.stream_lo = static_cast<uint32_t>(stream);
  st.stream_hi = static_cast<uint32_t>(stream >> 32);
  return st;
}

// Lock-step helper: the code below evaluates K independent vectors at once, statement by
// statement, so that the long dependency chains (a division, a square root and 8- to 10-step
// Horner loops) of different vectors sit next to each other in program order and the
// out-of-order core overlaps them (chain after chain, its scheduler fills with one chain's
// waiting instructions and the FP units idle).
#define TWEEDIE_EACH(k, K) for (int k = 0; k < K; ++k)

// Whether V provides the optional steps (see the top of this file).
template <class V, class = void>
struct HasFoldSplit : std::false_type {};
template <class V>
struct HasFoldSplit<V, std::void_t<decltype(V::fold_split(typename V::D(), nullptr, nullptr))>> : std::true_type {};
template <class V, class = void>
struct HasQuadrant : std::false_type {};
template <class V>
struct HasQuadrant<V, std::void_t<decltype(V::quadrant(typename V::D(), typename V::D(), typename V::I(), nullptr,
                                                       nullptr))>> : std::true_type {};

// Philox4x32-10 of K x kLanes consecutive blocks, block + kLanes k + lane. One block per 64-bit
// lane: the 32-bit words live in the low halves and the high halves are don't-care (pmuludq
// reads only the low halves; the caller masks them off), which saves the shuffles a 32-bit-lane
// layout needs. Output: w[j][k] = word j of the blocks of vector k.
template <class V, int K>
inline void philox_lanes(const Stream& st, uint64_t block, typename V::I (*w)[K]) {
  using I = typename V::I;
  I c0[K], c1[K], c2[K], c3[K];
  TWEEDIE_EACH(k, K) {
    // the 64-bit block number: low word in c0, high word (with any carry) in c1
    const I b = V::add_i(V::set1_i(block + static_cast<uint64_t>(k) * V::kLanes), V::iota());
    c0[k] = b;
    c1[k] = V::template srl_i<32>(b);
    c2[k] = V::set1_i(st.stream_lo);
    c3[k] = V::set1_i(st.stream_hi);
  }
  const I m0 = V::set1_i(lanes::kM0), m1 = V::set1_i(lanes::kM1);
  auto round = [&](int r) {
    const I k0 = V::set1_i(st.k0[r]), k1 = V::set1_i(st.k1[r]);
    TWEEDIE_EACH(k, K) {
      const I p0 = V::mul_lo32(c0[k], m0);
      const I p1 = V::mul_lo32(c2[k], m1);
      c0[k] = V::xor_i(V::xor_i(V::template srl_i<32>(p1), c1[k]), k0);
      c1[k] = p1;
      c2[k] = V::xor_i(V::xor_i(V::template srl_i<32>(p0), c3[k]), k1);
      c3[k] = p0;
    }
  };
  // written out round by round, like the Horner steps below (some compilers keep a loop)
  round(0);
  round(1);
  round(2);
  round(3);
  round(4);
  round(5);
  round(6);
  round(7);
  round(8);
  round(9);
  TWEEDIE_EACH(k, K) {
    w[0][k] = c0[k];
    w[1][k] = c1[k];
    w[2][k] = c2[k];
    w[3][k] = c3[k];
  }
}

// A word (low half of a lane) as the double 2^52 + w, exactly: its bits are those of 2^52 with
// w in the low mantissa bits. The lane math below takes words in this form.
template <class V>
inline typename V::D word_plus_2p52(typename V::I w) {
  return V::as_d(V::or_i(V::and_i(w, V::set1_i(lanes::kLow32)), V::set1_i(lanes::kTwoPow52Bits)));
}

// The normals of K x kLanes Philox blocks, one block per lane: w0[k]..w3[k] are the blocks'
// words as 2^52 + w (word_plus_2p52); z[j][k] receive r(w0) cos t(w1), r(w0) sin t(w1),
// r(w2) cos t(w3), r(w2) sin t(w3) for j = 0..3. The radius r(w) = sqrt(-2 log u(w)) follows
// pbm::log_u and pbm::radius, the angle follows pbm::sincos_turns; their Horner loops run side
// by side.
template <class V, int K>
inline void pbm_normals(const typename V::D* w0, const typename V::D* w1, const typename V::D* w2,
                        const typename V::D* w3, typename V::D (*z)[K]) {
  using D = typename V::D;
  using I = typename V::I;
  constexpr int R = 2 * K;  // radius chains (w0, w2) and angle chains (w1, w3)
  D wr[R], wt[R];
  TWEEDIE_EACH(k, K) {
    wr[k] = w0[k];
    wr[K + k] = w2[k];
    wt[k] = w1[k];
    wt[K + k] = w3[k];
  }
  // Radius, part 1. m = 2w + 1 = 2 (2^52 + w) - (2^53 - 1), exact like the scalar 2.0 * w + 1.0.
  // m = f 2^e: f is m's significand (exponent field set to 0) and e its exponent; these equal
  // the scalar's bit-length construction (m * 2^-e is exact). The fold f > sqrt(2): f - f/2 is
  // exactly f * 0.5 (Sterbenz), and e + 1 is taken in the integer exponent field. Then
  // n = e - 33 as a double: (2^52 + biased exponent) - (2^52 + 1023 + 33), exact.
  D n[R], s[R], zz[R], q[R];
  TWEEDIE_EACH(k, R) {
    const D m = V::sub(V::mul(V::set1(2.0), wr[k]), V::set1(0x1p53 - 1.0));
    D g;
    if constexpr (HasFoldSplit<V>::value) {
      V::fold_split(m, &g, &n[k]);
    } else {
      const I bits = V::as_i(m);
      const D f = V::as_d(V::or_i(V::and_i(bits, V::set1_i(lanes::kMantissaBits)), V::set1_i(lanes::kOneBits)));
      const D fold = V::gt(f, V::set1(lanes::kSqrt2));
      g = V::sub(f, V::and_(fold, V::mul(f, V::set1(0.5))));
      const I exponent = V::sub_i(V::template srl_i<52>(bits), V::as_i(fold));  // mask = -1: e + 1
      n[k] = V::sub(V::as_d(V::or_i(exponent, V::set1_i(lanes::kTwoPow52Bits))), V::set1(lanes::kTwoPow52 + 1056.0));
    }
    s[k] = V::div(V::sub(g, V::set1(1.0)), V::add(g, V::set1(1.0)));
  }
  // Angle, part 1. x = w + 0.5 = (2^52 + w) - (2^52 - 0.5), exact. q = floor((w + 2^29) / 2^30)
  // = round-to-nearest(x 2^-30) (never a tie): adding 2^52 rounds it and leaves q in the low
  // bits. r = (x - q 2^30) 2^-32 as in the scalar code.
  D r[R], r2[R], ps[R], pc[R];
  I q_bits[R];
  TWEEDIE_EACH(k, R) {
    const D x = V::sub(wt[k], V::set1(lanes::kTwoPow52 - 0.5));
    const D q_big = V::add(V::mul(x, V::set1(lanes::kTwoPowNeg30)), V::set1(lanes::kTwoPow52));
    q_bits[k] = V::as_i(q_big);
    const D qd = V::sub(q_big, V::set1(lanes::kTwoPow52));
    r[k] = V::mul(V::sub(x, V::mul(qd, V::set1(lanes::kTwoPow30))), V::set1(lanes::kTwoPowNeg32));
    r2[k] = V::mul(r[k], r[k]);
  }
  // The three Horner loops side by side, step by step: cos (9 steps), sin (8), log (10).
  TWEEDIE_EACH(k, R) {
    pc[k] = V::set1(lanes::kCos[9]);
    ps[k] = V::set1(lanes::kSin[8]);
    q[k] = V::set1(lanes::kLogQ[10]);
    zz[k] = V::mul(s[k], s[k]);
  }
  // (written out step by step: as a loop, GCC kept the accumulators on the stack)
  auto step = [&](int j) {
    if (j < 9) {
      TWEEDIE_EACH(k, R) pc[k] = V::add(V::mul(pc[k], r2[k]), V::set1(lanes::kCos[8 - j]));
    }
    if (j < 8) {
      TWEEDIE_EACH(k, R) ps[k] = V::add(V::mul(ps[k], r2[k]), V::set1(lanes::kSin[7 - j]));
    }
    TWEEDIE_EACH(k, R) q[k] = V::add(V::mul(q[k], zz[k]), V::set1(lanes::kLogQ[9 - j]));
  };
  step(0);
  step(1);
  step(2);
  step(3);
  step(4);
  step(5);
  step(6);
  step(7);
  step(8);
  step(9);
  // Angle, part 2: quadrant q & 3 = 0: (pc, sn), 1: (-sn, pc), 2: (-pc, -sn), 3: (sn, -pc). Swap
  // on odd q (xor swap under a mask), then flip the sign of cos when bit 1 of q + 1 (= bit 1 of
  // q xor bit 0) is set and of sin when bit 1 of q is set; q = 4 acts as 0.
  D c[R], sn[R];
  TWEEDIE_EACH(k, R) {
    const D sinr = V::mul(ps[k], r[k]);
    if constexpr (HasQuadrant<V>::value) {
      V::quadrant(pc[k], sinr, q_bits[k], &c[k], &sn[k]);
    } else {
      const I odd_bit = V::template sll_i<63>(q_bits[k]);
      const I s_sign = V::and_i(V::template sll_i<62>(q_bits[k]), V::set1_i(lanes::kSignBit));
      const I c_sign = V::xor_i(s_sign, odd_bit);
      const I t = V::and_i(V::sign_mask(odd_bit), V::xor_i(V::as_i(sinr), V::as_i(pc[k])));
      c[k] = V::as_d(V::xor_i(V::xor_i(V::as_i(pc[k]), t), c_sign));
      sn[k] = V::as_d(V::xor_i(V::xor_i(V::as_i(sinr), t), s_sign));
    }
  }
  // Radius, part 2.
  D rad[R];
  TWEEDIE_EACH(k, R) {
    const D log_f = V::add(V::mul(V::set1(2.0), s[k]), V::mul(s[k], V::mul(zz[k], q[k])));
    const D log_u =
        V::add(V::mul(n[k], V::set1(lanes::kLn2Hi)), V::add(V::mul(n[k], V::set1(lanes::kLn2Lo)), log_f));
    rad[k] = V::sqrt(V::mul(V::set1(-2.0), log_u));
  }
  TWEEDIE_EACH(k, K) {
    z[0][k] = V::mul(rad[k], c[k]);
    z[1][k] = V::mul(rad[k], sn[k]);
    z[2][k] = V::mul(rad[K + k], c[K + k]);
    z[3][k] = V::mul(rad[K + k], sn[K + k]);
  }
}

// The normals of the K x kLanes blocks block, block + 1, ...: z[j][k] as in pbm_normals.
template <class V, int K>
inline void normals_of_blocks(const Stream& st, uint64_t block, typename V::D (*z)[K]) {
  typename V::I w[4][K];
  philox_lanes<V, K>(st, block, w);
  typename V::D wd[4][K];
  for (int j = 0; j < 4; ++j) {
    TWEEDIE_EACH(k, K) wd[j][k] = word_plus_2p52<V>(w[j][k]);
  }
  pbm_normals<V, K>(wd[0], wd[1], wd[2], wd[3], z);
}

#undef TWEEDIE_EACH

// Walks the normals index0 .. index0 + n - 1 in groups of G = 4 * kBlocks (kBlocks Philox
// blocks each). full(i, block) must produce normals i .. i + G - 1 from blocks block ..
// block + kBlocks - 1; part(i, block, skip, count) produces normals i .. i + count - 1 from the
// group starting at `block`, skipping its first `skip` normals. Full groups start on a block
// boundary, so an offset that is not a multiple of 4, and the tail, go through part.
template <size_t kBlocks, class Full, class Part>
inline void for_normal_groups(size_t n, uint64_t index0, Full full, Part part) {
  constexpr size_t kGroup = 4 * kBlocks;
  uint64_t block = index0 >> 2;
  size_t i = 0;
  const size_t skip = static_cast<size_t>(index0 & 3u);
  if (n == 0) return;
  if (skip != 0 || n < kGroup) {
    const size_t count = n < kGroup - skip ? n : kGroup - skip;
    part(i, block, skip, count);
    i += count;
    block += kBlocks;
  }
  for (; n - i >= kGroup; i += kGroup, block += kBlocks) full(i, block);
  if (i < n) part(i, block, 0, n - i);
}

// The elementwise steps of the kernels, in the scalar reference's order, for partial groups and
// tails (compiled here with -ffp-contract=off like the reference, so no FMA).
template <typename T>
inline void scalar_store_normals(T* out, const double* z, size_t count) {
  for (size_t j = 0; j < count; ++j) out[j] = static_cast<T>(z[j]);
}

template <typename T>
inline void scalar_noise(T* out, T* eps_out, const T* x, double a, double c, const double* z,
                         size_t count) {
  for (size_t j = 0; j < count; ++j) {
    const T eps = static_cast<T>(z[j]);
    const double ax = a * static_cast<double>(x[j]);
    const double ce = c * static_cast<double>(eps);
    out[j] = static_cast<T>(ax + ce);
    if (eps_out) eps_out[j] = eps;
  }
}

template <typename T>
inline void scalar_combine2(T* out, const T* x, const T* y, double a, double c, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    const double ax = a * static_cast<double>(x[j]);
    const double cy = c * static_cast<double>(y[j]);
    out[j] = static_cast<T>(ax + cy);
  }
}

}  // namespace
}  // namespace tweedie

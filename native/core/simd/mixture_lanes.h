// The vector mixture-posterior path (see mixture_kernels.h for the algorithm), written once over
// a level's lane traits and instantiated by each vector translation unit. Included only by
// those units; everything here has internal linkage (anonymous namespace) and instantiates no
// std template, so a copy compiled with -mavx2 can never be picked by the linker for code that
// runs on a CPU without AVX2.
//
// Tolerance tier: FMA (where the level has it) and a different summation order than the scalar
// reference are allowed here; every float64 result stays within the twin rule of the scalar
// path (native/test/mixture_test.cc checks it, level by level).
//
// The traits L provide, for D = a vector of L::kD doubles and F = a vector of L::kF floats:
//   dzero, dset(double), dload(const double*) (unaligned), dstore(double*, D), dadd, dsub, dmul,
//   dkeep_pos(r, v) (v where r > 0, else 0), ddiv, dsqrt, dmax, dmin, dabs, dfma(a, b, c) = a*b + c
//   and dfnma(a, b, c) = c - a*b (fused where the level has FMA), dhsum(D) and dhmax(D) (fixed
//   order), dpow2(D n) (2^n for integer-valued n in [-1022, 1023]), dlt(a, b) (lane mask of
//   a < b), dany(m) (whether any lane of a mask is set), dand / dor / dandnot(m, b) (~m & b) on the bits, dbits_add / dsub_bits (the bit
//   patterns added / subtracted as 64-bit integers), dshl52 (64-bit lanes shifted left by 52),
//   dle_mask / deq_mask (lane bit masks), dgather(p, stride) (kD doubles or widened floats),
//   pack4x4 / pack4x4d (4 x 4 transposes into the float32 / float64 panels);
//   fzero, fload(const float*) (64-byte aligned), fbroadcast(const float*), ffma(a, b, c), fstore;
//   store_block(T* out, size_t stride, const D* c) (out[r * stride + j] = T(c[j][r]) for r, j <
//   kD, T double or float: one rounding) and store_block2 (the same for j < 2); load_block(const
//   T* in, size_t stride, D* c) (c[j][r] = double(in[r * stride + j]) for r, j < kD).
// and the tile shapes kScreenRows (rows of the float32 screen tile, whose columns are 2 F
// vectors of components), kMeanRows and kMeanVecs (weighted-mean tile: rows x kMeanVecs D
// vectors of dimensions).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../mixture.h"
#include "mixture_kernels.h"

namespace tweedie {
namespace {
namespace mixlanes {

constexpr double kInf = __builtin_inf();
constexpr double kLog2Pi = 1.8378770664093454835606594728112;  // as in mixture.cc
constexpr double kEps64 = 0x1p-53;                             // float64 unit roundoff
constexpr double kU32 = 0x1p-24;                               // float32 unit roundoff
// The float32 screen pays off from this dimension on (below, every row takes the dense path).
constexpr size_t kScreenMinDim = 64;
constexpr size_t kScreenMinComponents = 8;
// Dense rows compute the cross term x.mu_k (one multiply-add per element, with a cancellation
// check) from this dimension on; below, the direct difference (two).
constexpr size_t kCrossMinDim = 64;
// The dense posterior mean and score as a product weights x means from this many components on.
constexpr size_t kMeanGemmMinComponents = 8;
// Workspace budget for the per-row arrays of one part (the chunk of rows processed together).
constexpr size_t kRowBudgetBytes = size_t(32) << 20;
// Panels of means are packed in blocks of about this many bytes (L2-resident).
constexpr size_t kPanelBytes = size_t(384) << 10;
// Small isotropic problems (K <= kSmallLanes, dim <= kSmallDim) take the rows-in-lanes kernel
// (mixture_small.h): tiles of kSmallRowVecs (kSmallRowVecsWide) vectors of rows.
constexpr size_t kSmallLanes = 64;
constexpr size_t kSmallDim = 64;
constexpr int kSmallRowVecs = 2;          // row vectors per small tile
constexpr int kSmallRowVecsWide = 4;      // ... when K <= kSmallWideK (more independent work per tile)
constexpr size_t kSmallWideK = 16;
constexpr size_t kSmallCrossMinDim = 8;   // the small path's cross-term form from this dim on
// Without the screen, rows are processed in chunks of at most this many (small workspace).
constexpr size_t kDenseChunkRows = 64;
// The float32 panel of every component is packed once per part when it is at most this big.
constexpr size_t kFullPanelBytes = size_t(32) << 20;
// The largest L::kScreenRows (rows of a screen tile).
constexpr int kMaxScreenRows = 16;

inline size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
inline size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }
inline double min_d(double a, double b) { return a < b ? a : b; }
inline double max_d(double a, double b) { return a > b ? a : b; }
inline double abs_d(double a) { return __builtin_fabs(a); }
inline size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

// e = x - a mu as the scalar reference computes it: a*mu rounded, then the difference rounded
// (never fused). Near x = a mu far from the origin, the rounding of a*mu is amplified by 1/C;
// doing it exactly as the twin does keeps the vector path within the twin rule there.
template <class L>
inline typename L::D diff(typename L::D a, typename L::D mu, typename L::D x) {
  return L::dsub(x, L::dmul(a, mu));
}

// ------------------------------------------------------------------------------------------
// Vector exp for x <= 0 (including -inf): exact range reduction x = n ln2 + r, |r| <= ln2 / 2
// (fused where the level has FMA), a degree-11 minimax polynomial, scaling by 2^n on the bits so
// that a subnormal result is rounded once. About 1 ulp from the correctly rounded value (tested
// against the C library).

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 32 significant bits: n * kLn2Hi is exact
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLog2e = 1.4426950408889634;
constexpr double kRound = 0x1.8p52;
// Minimax on [-ln2/2, ln2/2] for the relative error, c0 = c1 = 1 fixed (Remez in 50-digit
// arithmetic): 7.7e-18 before rounding, so the result is within about an ulp.
constexpr double kExpCoef[12] = {1.0,
                                 1.0,
                                 0.500000000000001,
                                 0.16666666666666674,
                                 0.041666666666522106,
                                 0.008333333333322215,
                                 0.0013888888947786544,
                                 0.00019841269886564585,
                                 2.4801487364871305e-05,
                                 2.7557242366561972e-06,
                                 2.7632641110638405e-07,
                                 2.511003863139111e-08};

// The shared part of the vector exps: x = n ln2 + r (xc = max(x, -746), n = round(xc / ln2) in
// [-1076, 0], held in the low bits of *t), p = exp(r) by the polynomial; returns p 2^n by its
// bits (exact where it is a normal number, garbage below) and n in *n.
template <class L>
inline typename L::D vexp_parts(typename L::D x, typename L::D* nout) {
  using D = typename L::D;
  const D xc = L::dmax(x, L::dset(-746.0));  // exp(-746) rounds to 0; so does -inf
  const D t = L::dfma(xc, L::dset(kLog2e), L::dset(kRound));
  const D n = L::dsub(t, L::dset(kRound));  // round(x / ln2), in [-1076, 0]
  D r = L::dfnma(n, L::dset(kLn2Hi), xc);   // exact (Sterbenz)
  r = L::dfnma(n, L::dset(kLn2Lo), r);
  D p = L::dset(kExpCoef[11]);
  for (int i = 10; i >= 0; --i) p = L::dfma(p, r, L::dset(kExpCoef[i]));
  *nout = n;
  return L::dbits_add(p, L::dshl52(L::dsub_bits(t, L::dset(kRound))));
}

// exp(x) for x <= 0 (including -inf), rounded once, with no subnormal operand or result in any
// floating-point operation (each costs a microcode assist of ~100 cycles on x86), by integer
// arithmetic on the bits of p 2^n (vexp_parts):
// - a normal result (n >= -1021, or n = -1022 with p >= 1): p's exponent field plus n, exact;
// - otherwise w = p 2^(n + 1074) (the same bits plus 1074: w in [2^-3, 2^52) for
//   n in [-1076, -1022]), and w + 2^52 rounds w to an integer exactly as p 2^n rounds to a
//   multiple of 2^-1074 (to nearest, ties to even); that integer is the result's bit pattern
//   (2^52 itself is the smallest normal). Where n > -1022 the bits of w are garbage, masked.
// With `scaled`, also exp(x) 2^900 (in [2^-176, 2^1] for x > -746: never subnormal, and exact
// where exp(x) itself is not).
template <class L>
inline typename L::D vexp_nonpositive(typename L::D x, typename L::D* scaled = nullptr) {
  using D = typename L::D;
  D n;
  const D pn = vexp_parts<L>(x, &n);
  if (scaled) *scaled = L::dbits_add(pn, L::dset(0x1p-123));  // bit pattern 900 << 52
  const D w = L::dbits_add(pn, L::dset(0x1p51));                // bit pattern 1074 << 52
  const D sub = L::dand(L::dlt(n, L::dset(-1021.5)), L::dlt(w, L::dset(0x1p52)));
  const D tiny = L::dsub_bits(L::dadd(L::dand(sub, w), L::dset(0x1p52)), L::dset(0x1p52));
  return L::dor(tiny, L::dandnot(sub, pn));
}

// exp(x) for -708 <= x <= 0 (normal results; the same bits as vexp_nonpositive there, garbage
// below), and exp(x) 2^900 in *scaled for -746 <= x <= 0 (as vexp_nonpositive): the rounding
// into the subnormal range is left out.
template <class L>
inline typename L::D vexp_normal(typename L::D x, typename L::D* scaled) {
  using D = typename L::D;
  D n;
  const D pn = vexp_parts<L>(x, &n);
  *scaled = L::dbits_add(pn, L::dset(0x1p-123));  // bit pattern 900 << 52
  return pn;
}

// out[i] = exp(d[i]) for d[i] <= 0; returns the sum of out (fixed order).
template <class L>
double exp_sum(const double* d, double* out, size_t n) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  D s = L::dzero();
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const D e = vexp_nonpositive<L>(L::dload(d + i));
    L::dstore(out + i, e);
    s = L::dadd(s, e);
  }
  double sum = L::dhsum(s);
  if (i < n) {
    double buf[N], res[N];
    for (size_t k = 0; k < N; ++k) buf[k] = i + k < n ? d[i + k] : -kInf;
    L::dstore(res, vexp_nonpositive<L>(L::dload(buf)));
    for (size_t k = 0; i + k < n; ++k) {
      out[i + k] = res[k];
      sum += res[k];
    }
  }
  return sum;
}

// max_i x[i] (-inf for n = 0).
template <class L>
double max_array(const double* x, size_t n) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  D m = L::dset(-kInf);
  size_t i = 0;
  for (; i + N <= n; i += N) m = L::dmax(m, L::dload(x + i));
  double r = L::dhmax(m);
  for (; i < n; ++i) r = max_d(r, x[i]);
  return r;
}

// x[i] = x[i] - c.
template <class L>
void sub_array(double* x, size_t n, double c) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  const D vc = L::dset(c);
  size_t i = 0;
  for (; i + N <= n; i += N) L::dstore(x + i, L::dsub(L::dload(x + i), vc));
  for (; i < n; ++i) x[i] = x[i] - c;
}

// x[i] = x[i] / c.
template <class L>
void div_array(double* x, size_t n, double c) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  const D vc = L::dset(c);
  size_t i = 0;
  for (; i + N <= n; i += N) L::dstore(x + i, L::ddiv(L::dload(x + i), vc));
  for (; i < n; ++i) x[i] = x[i] / c;
}

// out[i] = x[i] * y[i]; returns sum_i x[i] * z[i] (z may be null: then sum out).
template <class L>
double mul_arrays(double* out, const double* x, const double* y, const double* z, size_t n) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  D s = L::dzero();
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const D vx = L::dload(x + i), w = L::dmul(vx, L::dload(y + i));
    L::dstore(out + i, w);
    s = z ? L::dfma(vx, L::dload(z + i), s) : L::dadd(s, w);
  }
  double r = L::dhsum(s);
  for (; i < n; ++i) {
    out[i] = x[i] * y[i];
    r = r + (z ? x[i] * z[i] : out[i]);
  }
  return r;
}

// l[i] = h[i] - 0.5 (q[i] ic[i]).
template <class L>
void logs_array(double* l, const double* h, const double* q, const double* ic, size_t n) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  const D half = L::dset(0.5);
  size_t i = 0;
  for (; i + N <= n; i += N)
    L::dstore(l + i, L::dsub(L::dload(h + i), L::dmul(half, L::dmul(L::dload(q + i), L::dload(ic + i)))));
  for (; i < n; ++i) l[i] = h[i] - 0.5 * (q[i] * ic[i]);
}

// ------------------------------------------------------------------------------------------
// Row-level float64 kernels, vectorised over dim (fixed order: lanes, then the scalar tail).

// sum_j x_j^2 and max_j |x_j|; with kCheck also whether every x_j is finite (x - x is +0 for
// a finite x and NaN otherwise, and NaN sticks in a sum), in the same pass.
template <class L, bool kCheck = false>
void norms(const double* x, size_t n, double* sumsq, double* maxabs, bool* finite = nullptr) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  D s0 = L::dzero(), s1 = L::dzero(), m = L::dzero(), f = L::dzero();
  size_t j = 0;
  for (; j + 2 * N <= n; j += 2 * N) {
    const D v0 = L::dload(x + j), v1 = L::dload(x + j + N);
    s0 = L::dfma(v0, v0, s0);
    s1 = L::dfma(v1, v1, s1);
    m = L::dmax(m, L::dmax(L::dabs(v0), L::dabs(v1)));
    if (kCheck) f = L::dadd(f, L::dadd(L::dsub(v0, v0), L::dsub(v1, v1)));
  }
  for (; j + N <= n; j += N) {
    const D v0 = L::dload(x + j);
    s0 = L::dfma(v0, v0, s0);
    m = L::dmax(m, L::dabs(v0));
    if (kCheck) f = L::dadd(f, L::dsub(v0, v0));
  }
  double s = L::dhsum(L::dadd(s0, s1)), mx = L::dhmax(m);
  double ft = 0;
  for (; j < n; ++j) {
    const double v = x[j];
    s = s + v * v;
    mx = max_d(mx, abs_d(v));
    if (kCheck) ft = ft + (v - v);
  }
  *sumsq = s;
  *maxabs = mx;
  if (kCheck) *finite = L::dhsum(f) + ft == 0;
}

// sum_j (x_j - a mu_j)^2.
template <class L>
double direct_q(const double* x, const double* mu, double a, size_t n) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  const D va = L::dset(a);
  D s0 = L::dzero(), s1 = L::dzero();
  size_t j = 0;
  for (; j + 2 * N <= n; j += 2 * N) {
    const D e0 = diff<L>(va, L::dload(mu + j), L::dload(x + j));
    const D e1 = diff<L>(va, L::dload(mu + j + N), L::dload(x + j + N));
    s0 = L::dfma(e0, e0, s0);
    s1 = L::dfma(e1, e1, s1);
  }
  for (; j + N <= n; j += N) {
    const D e0 = diff<L>(va, L::dload(mu + j), L::dload(x + j));
    s0 = L::dfma(e0, e0, s0);
  }
  double s = L::dhsum(L::dadd(s0, s1));
  for (; j < n; ++j) {
    const double e = x[j] - a * mu[j];
    s = s + e * e;
  }
  return s;
}

// sum_j (x_j - a mu_j)^2 / (a2 v_j + s2).
template <class L>
double direct_q_diag(const double* x, const double* mu, const double* v, double a, double a2, double s2, size_t n) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  const D va = L::dset(a), va2 = L::dset(a2), vs2 = L::dset(s2);
  D s0 = L::dzero();
  size_t j = 0;
  for (; j + N <= n; j += N) {
    const D e = diff<L>(va, L::dload(mu + j), L::dload(x + j));
    const D c = L::dfma(va2, L::dload(v + j), vs2);
    s0 = L::dadd(s0, L::ddiv(L::dmul(e, e), c));
  }
  double s = L::dhsum(s0);
  for (; j < n; ++j) {
    const double e = x[j] - a * mu[j];
    const double c = a2 * v[j] + s2;
    s = s + e * e / c;
  }
  return s;
}

// am_j += r (mu_j + g (x_j - a mu_j)); as_j += r ((x_j - a mu_j) ic) (either may be null).
template <class L>
void accumulate_iso(double* am, double* as, const double* x, const double* mu, double a, double g, double r,
                    double ic, size_t n) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  const D va = L::dset(a), vg = L::dset(g), vr = L::dset(r), vic = L::dset(ic);
  size_t j = 0;
  for (; j + N <= n; j += N) {
    const D m = L::dload(mu + j);
    const D e = diff<L>(va, m, L::dload(x + j));
    if (am) L::dstore(am + j, L::dfma(vr, L::dfma(vg, e, m), L::dload(am + j)));
    if (as) L::dstore(as + j, L::dfma(vr, L::dmul(e, vic), L::dload(as + j)));
  }
  for (; j < n; ++j) {
    const double e = x[j] - a * mu[j];
    if (am) am[j] = am[j] + r * (mu[j] + g * e);
    if (as) as[j] = as[j] + r * (e * ic);
  }
}

// Diagonal variances: am_j += r (mu_j + a v_j ic_j e_j); as_j += r e_j ic_j, ic_j = 1 / (a2 v_j + s2).
template <class L>
void accumulate_diag(double* am, double* as, const double* x, const double* mu, const double* v, double a, double a2,
                     double s2, double r, size_t n) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  const D va = L::dset(a), va2 = L::dset(a2), vs2 = L::dset(s2), vr = L::dset(r), one = L::dset(1.0);
  size_t j = 0;
  for (; j + N <= n; j += N) {
    const D m = L::dload(mu + j), vv = L::dload(v + j);
    const D e = diff<L>(va, m, L::dload(x + j));
    const D u = L::dmul(e, L::ddiv(one, L::dfma(va2, vv, vs2)));  // e / C
    if (am) L::dstore(am + j, L::dfma(vr, L::dfma(L::dmul(va, vv), u, m), L::dload(am + j)));
    if (as) L::dstore(as + j, L::dfma(vr, u, L::dload(as + j)));
  }
  for (; j < n; ++j) {
    const double e = x[j] - a * mu[j];
    const double ic = 1.0 / (a2 * v[j] + s2);
    if (am) am[j] = am[j] + r * (mu[j] + a * v[j] * ic * e);
    if (as) as[j] = as[j] + r * (e * ic);
  }
}

// sum_j (mu_j + g (x_j - a mu_j) - D_j)^2.
template <class L>
double spread_iso(const double* x, const double* mu, const double* dm, double a, double g, size_t n) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  const D va = L::dset(a), vg = L::dset(g);
  D s0 = L::dzero();
  size_t j = 0;
  for (; j + N <= n; j += N) {
    const D m = L::dload(mu + j);
    const D e = diff<L>(va, m, L::dload(x + j));
    const D d = L::dsub(L::dfma(vg, e, m), L::dload(dm + j));
    s0 = L::dfma(d, d, s0);
  }
  double s = L::dhsum(s0);
  for (; j < n; ++j) {
    const double e = x[j] - a * mu[j];
    const double d = mu[j] + g * e - dm[j];
    s = s + d * d;
  }
  return s;
}

// Diagonal: sum_j (mu_j + a v_j ic_j e_j - D_j)^2 into *d2 and sum_j v_j s2 ic_j into *trv.
template <class L>
void spread_diag(const double* x, const double* mu, const double* v, const double* dm, double a, double a2, double s2,
                 size_t n, double* d2, double* trv) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  const D va = L::dset(a), va2 = L::dset(a2), vs2 = L::dset(s2), one = L::dset(1.0);
  D s0 = L::dzero(), t0 = L::dzero();
  size_t j = 0;
  for (; j + N <= n; j += N) {
    const D m = L::dload(mu + j), vv = L::dload(v + j);
    const D ic = L::ddiv(one, L::dfma(va2, vv, vs2));
    const D e = diff<L>(va, m, L::dload(x + j));
    const D d = L::dsub(L::dfma(L::dmul(L::dmul(va, vv), ic), e, m), L::dload(dm + j));
    s0 = L::dfma(d, d, s0);
    t0 = L::dfma(L::dmul(vv, vs2), ic, t0);
  }
  double s = L::dhsum(s0), t = L::dhsum(t0);
  for (; j < n; ++j) {
    const double e = x[j] - a * mu[j];
    const double ic = 1.0 / (a2 * v[j] + s2);
    const double d = mu[j] + a * v[j] * ic * e - dm[j];
    s = s + d * d;
    t = t + v[j] * s2 * ic;
  }
  *d2 = s;
  *trv = t;
}

// ------------------------------------------------------------------------------------------
// Packed panels of means: components in lanes, dim the reduction. Panel p of a block holds
// components k0 + p*KP .. + KP - 1 as [dim][KP]; missing components are zeros.

// The float32 panel, four components by four dimensions at a time (L::pack4x4: transposed,
// rounded to float32).
template <class L>
void pack_panel_f32(const double* mu, size_t k0, size_t k1, size_t dim, float* panel) {
  constexpr size_t KP = 2 * L::kF;
  const size_t n = k1 - k0, np = (n + KP - 1) / KP;
  if (n % KP) std::memset(panel + (np - 1) * dim * KP, 0, dim * KP * sizeof(float));
  size_t kk = 0;
  for (; kk + 4 <= n; kk += 4) {
    const double* m = mu + (k0 + kk) * dim;
    float* dst = panel + (kk / KP) * dim * KP + kk % KP;  // kk % KP is a multiple of 4
    size_t j = 0;
    for (; j + 4 <= dim; j += 4) L::pack4x4(m + j, dim, dst + j * KP, KP);
    for (; j < dim; ++j)
      for (size_t c = 0; c < 4; ++c) dst[j * KP + c] = static_cast<float>(m[c * dim + j]);
  }
  for (; kk < n; ++kk) {
    const double* m = mu + (k0 + kk) * dim;
    float* dst = panel + (kk / KP) * dim * KP + kk % KP;
    for (size_t j = 0; j < dim; ++j) dst[j * KP] = static_cast<float>(m[j]);
  }
}

// The float64 panel, four components by four dimensions at a time (L::pack4x4d: transposed).
template <class L>
void pack_panel_f64(const double* mu, size_t k0, size_t k1, size_t dim, double* panel) {
  constexpr size_t KP = 2 * L::kD;
  const size_t n = k1 - k0, np = (n + KP - 1) / KP;
  if (n % KP) std::memset(panel + (np - 1) * dim * KP, 0, dim * KP * sizeof(double));
  size_t kk = 0;
  for (; kk + 4 <= n && KP % 4 == 0; kk += 4) {
    const double* m = mu + (k0 + kk) * dim;
    double* dst = panel + (kk / KP) * dim * KP + kk % KP;
    size_t j = 0;
    for (; j + 4 <= dim; j += 4) L::pack4x4d(m + j, dim, dst + j * KP, KP);
    for (; j < dim; ++j)
      for (size_t c = 0; c < 4; ++c) dst[j * KP + c] = m[c * dim + j];
  }
  for (; kk < n; ++kk) {
    const double* m = mu + (k0 + kk) * dim;
    double* dst = panel + (kk / KP) * dim * KP + kk % KP;
    for (size_t j = 0; j < dim; ++j) dst[j * KP] = m[j];
  }
}

// The float32 screen: dots[r][p*KP + c] = sum_j x32[r][j] * panel_p[j][c] in float32 (one
// FMA per element, sequential over j in each lane: the rigorous bound gamma_dim applies).
template <class L, int R>
void screen_tile(const float* const* xr, const float* panel, size_t np, size_t dim, float* dots, size_t ds) {
  using F = typename L::F;
  constexpr size_t NF = L::kF, KP = 2 * L::kF;
  for (size_t p = 0; p < np; ++p) {
    const float* pp = panel + p * dim * KP;
    F a0[R], a1[R];
    for (int r = 0; r < R; ++r) a0[r] = a1[r] = L::fzero();
    for (size_t j = 0; j < dim; ++j) {
      const F m0 = L::fload(pp + j * KP), m1 = L::fload(pp + j * KP + NF);
      for (int r = 0; r < R; ++r) {
        const F xb = L::fbroadcast(xr[r] + j);
        a0[r] = L::ffma(xb, m0, a0[r]);
        a1[r] = L::ffma(xb, m1, a1[r]);
      }
    }
    for (int r = 0; r < R; ++r) {
      L::fstore(dots + r * ds + p * KP, a0[r]);
      L::fstore(dots + r * ds + p * KP + NF, a1[r]);
    }
  }
}

// Tiles of 1 to L::kScreenRows rows (the largest for rows >= kScreenRows).
template <class L, int R>
void screen_rows_upto(int rows, const float* const* xr, const float* panel, size_t np, size_t dim, float* dots,
                      size_t ds) {
  if constexpr (R > 1) {
    if (rows < R) {
      screen_rows_upto<L, R - 1>(rows, xr, panel, np, dim, dots, ds);
      return;
    }
  }
  screen_tile<L, R>(xr, panel, np, dim, dots, ds);
}

template <class L>
void screen_rows(int rows, const float* const* xr, const float* panel, size_t np, size_t dim, float* dots, size_t ds) {
  static_assert(L::kScreenRows >= 1 && L::kScreenRows <= kMaxScreenRows, "screen tiles of 1 to kMaxScreenRows rows");
  screen_rows_upto<L, L::kScreenRows>(rows, xr, panel, np, dim, dots, ds);
}

// Float64 tile over (rows x components): kDirect: out = sum_j (x_j - a_r mu_j)^2; else the
// cross term out = sum_j x_j mu_j. Sequential over j in each lane.
template <class L, int R, bool kDirect>
void cross_tile(const double* const* xr, const double* alpha, const double* panel, size_t np, size_t dim, double* out,
                size_t os) {
  using D = typename L::D;
  constexpr size_t N = L::kD, KP = 2 * L::kD;
  for (size_t p = 0; p < np; ++p) {
    const double* pp = panel + p * dim * KP;
    D a0[R], a1[R];
    for (int r = 0; r < R; ++r) a0[r] = a1[r] = L::dzero();
    for (size_t j = 0; j < dim; ++j) {
      const D m0 = L::dload(pp + j * KP), m1 = L::dload(pp + j * KP + N);
      for (int r = 0; r < R; ++r) {
        const D xb = L::dset(xr[r][j]);
        if (kDirect) {
          const D va = L::dset(alpha[r]);
          const D e0 = diff<L>(va, m0, xb), e1 = diff<L>(va, m1, xb);
          a0[r] = L::dfma(e0, e0, a0[r]);
          a1[r] = L::dfma(e1, e1, a1[r]);
        } else {
          a0[r] = L::dfma(xb, m0, a0[r]);
          a1[r] = L::dfma(xb, m1, a1[r]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      L::dstore(out + r * os + p * KP, a0[r]);
      L::dstore(out + r * os + p * KP + N, a1[r]);
    }
  }
}

// Tiles of up to 6 rows (cross term: 12 accumulators) or 4 (direct difference: 8).
template <class L, bool kDirect>
void cross_rows(int rows, const double* const* xr, const double* alpha, const double* panel, size_t np, size_t dim,
                double* out, size_t os) {
  switch (rows) {
    case 1: cross_tile<L, 1, kDirect>(xr, alpha, panel, np, dim, out, os); break;
    case 2: cross_tile<L, 2, kDirect>(xr, alpha, panel, np, dim, out, os); break;
    case 3: cross_tile<L, 3, kDirect>(xr, alpha, panel, np, dim, out, os); break;
    case 4: cross_tile<L, 4, kDirect>(xr, alpha, panel, np, dim, out, os); break;
    case 5: cross_tile<L, kDirect ? 4 : 5, kDirect>(xr, alpha, panel, np, dim, out, os); break;
    default: cross_tile<L, kDirect ? 4 : 6, kDirect>(xr, alpha, panel, np, dim, out, os); break;
  }
}

// Weighted sums over components: acc[r][j] += sum_{k < nk} w[r][k] mu[k][j] for j in
// [0, dim), k sequential (so each (row, j) sees the same operations whatever the tile). The
// means of the block are packed first as column strips [dim / JW][nk][JW], JW = kMeanVecs
// vectors, then [nk][dim % JW] for the rest, so that the tile streams contiguous memory.
template <class L>
void pack_mean_panel(const double* mu, size_t nk, size_t dim, double* panel) {
  constexpr size_t JW = L::kMeanVecs * L::kD;
  const size_t ns = dim / JW, tail = dim - ns * JW;
  for (size_t sj = 0; sj < ns; ++sj) {
    double* dst = panel + sj * nk * JW;
    for (size_t k = 0; k < nk; ++k) std::memcpy(dst + k * JW, mu + k * dim + sj * JW, JW * sizeof(double));
  }
  if (tail) {
    double* dst = panel + ns * nk * JW;
    for (size_t k = 0; k < nk; ++k) std::memcpy(dst + k * tail, mu + k * dim + ns * JW, tail * sizeof(double));
  }
}

template <class L, int R, int NV>
inline void wsum_strip(const double* const* w, const double* strip, size_t nk, size_t width, size_t j0,
                       double* const* acc) {
  using D = typename L::D;
  constexpr size_t N = L::kD;
  D a[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) a[r][v] = L::dload(acc[r] + j0 + v * N);
  for (size_t k = 0; k < nk; ++k) {
    const double* mk = strip + k * width;
    D m[NV];
    for (int v = 0; v < NV; ++v) m[v] = L::dload(mk + v * N);
    for (int r = 0; r < R; ++r) {
      const D wb = L::dset(w[r][k]);
      for (int v = 0; v < NV; ++v) a[r][v] = L::dfma(wb, m[v], a[r][v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) L::dstore(acc[r] + j0 + v * N, a[r][v]);
}

template <class L, int R>
void wsum_tile(const double* const* w, const double* panel, size_t nk, size_t dim, double* const* acc) {
  constexpr size_t N = L::kD, NV = L::kMeanVecs, JW = NV * N;
  const size_t ns = dim / JW, tail = dim - ns * JW;
  for (size_t sj = 0; sj < ns; ++sj) wsum_strip<L, R, NV>(w, panel + sj * nk * JW, nk, JW, sj * JW, acc);
  const double* tp = panel + ns * nk * JW;
  size_t j = 0;
  for (; j + N <= tail; j += N) wsum_strip<L, R, 1>(w, tp + j, nk, tail, ns * JW + j, acc);
  for (; j < tail; ++j) {
    for (size_t k = 0; k < nk; ++k) {
      const double m = tp[k * tail + j];
      for (int r = 0; r < R; ++r) acc[r][ns * JW + j] = acc[r][ns * JW + j] + w[r][k] * m;
    }
  }
}

template <class L>
void wsum_rows(int rows, const double* const* w, const double* panel, size_t nk, size_t dim, double* const* acc) {
  switch (rows) {
    case 1: wsum_tile<L, 1>(w, panel, nk, dim, acc); break;
    case 2: wsum_tile<L, 2>(w, panel, nk, dim, acc); break;
    case 3: wsum_tile<L, 3>(w, panel, nk, dim, acc); break;
    default: wsum_tile<L, 4>(w, panel, nk, dim, acc); break;
  }
}

// ------------------------------------------------------------------------------------------
// Workspace layout of one part.

struct Layout {
  size_t K, dim, vlen;
  bool diag, screen, cross, mean_gemm, f32, small;
  size_t Kp;                // K rounded up to whole vectors of doubles
  bool full_panel;          // the float32 panel of all components, packed once per part
  size_t RB;                // rows per chunk
  size_t KB32, KB64, KBm;   // components per packed block (screen, dense cross term, mean)
  size_t cap;               // candidates kept per row by the screen
  size_t total;
  // byte offsets
  size_t o_rows, o_x64, o_x32, o_l, o_t, o_w, o_ck, o_am, o_as, o_mm, o_mn, o_bh, o_bic, o_fh, o_fic, o_fg, o_ff, o_pm,
      o_p32, o_p64, o_d32, o_d64, o_idx, o_coop;
};

struct RowState {
  double a, s, xx, xn, xmax, T, mlo, mx, log_sum;
  const double* x64;
  const float* x32;
  size_t count;  // candidates kept (sparse rows)
  bool dense, done, t_ready;
  bool score_direct;  // dense row whose score takes the direct form (the product form could overflow)
};

class Sizer {
 public:
  // Reserves n items of `size` bytes, 64-byte aligned; returns the offset.
  size_t take(size_t n, size_t size) {
    size_t bytes, end;
    if (__builtin_mul_overflow(n, size, &bytes) || __builtin_add_overflow(total_, bytes, &end) ||
        __builtin_add_overflow(end, size_t(63), &end)) {
      ok_ = false;
      return 0;
    }
    const size_t at = total_;
    total_ = end / 64 * 64;
    return at;
  }
  bool ok() const { return ok_; }
  size_t total() const { return total_; }

 private:
  size_t total_ = 0;
  bool ok_ = true;
};

// Whether the rows-in-lanes kernel (mixture_small.h) takes this shape.
inline bool small_shape(size_t K, size_t dim, size_t vlen) {
  return vlen != K * dim && K <= kSmallLanes && dim <= kSmallDim;
}

// The work of a row (see MixtureVectorTable::row_work): K dim multiply-adds for the GEMM-shaped
// paths; for the rows-in-lanes kernel, whose vector exp and per-component passes cost about 16
// multiply-adds of a row and which runs at about a quarter of the screen's rate per unit, 4 K
// (dim + 16).
inline size_t row_work(size_t K, size_t dim, size_t vlen) {
  size_t w;
  if (small_shape(K, dim, vlen)) return 4 * K * (dim + 16);
  return __builtin_mul_overflow(K, dim, &w) ? ~size_t(0) : w;
}

// Workspace of the rows-in-lanes kernel (mixture_small.h) for one part: byte offsets of
// double arrays, RN rows per tile.
struct SmallLayout {
  size_t RN;
  size_t o_lt, o_tt, o_tf, o_ts, o_wm;      // [K][RN]
  size_t o_ph, o_pic, o_pg, o_pff;          // per-lane level constants [K][RN]
  size_t o_h, o_ic, o_g, o_ff, o_mm, o_mn;  // [K]
  size_t o_amu;                                    // [K][dim]
  size_t o_x, o_dm, o_sc, o_dmt, o_sct;            // [dim][RN]
  size_t total;
};

template <class L>
bool small_layout(size_t K, size_t dim, SmallLayout* sl) {
  const size_t RN = (K <= kSmallWideK ? kSmallRowVecsWide : kSmallRowVecs) * L::kD;
  size_t kr, kd, dr;
  if (__builtin_mul_overflow(K, RN, &kr) || __builtin_mul_overflow(K, dim, &kd) || __builtin_mul_overflow(dim, RN, &dr))
    return false;
  Sizer s;
  sl->RN = RN;
  sl->o_lt = s.take(kr, 8);
  sl->o_tt = s.take(kr, 8);
  sl->o_tf = s.take(kr, 8);
  sl->o_ts = s.take(kr, 8);
  sl->o_wm = s.take(kr, 8);
  sl->o_ph = s.take(kr, 8);
  sl->o_pic = s.take(kr, 8);
  sl->o_pg = s.take(kr, 8);
  sl->o_pff = s.take(kr, 8);
  sl->o_h = s.take(K, 8);
  sl->o_ic = s.take(K, 8);
  sl->o_g = s.take(K, 8);
  sl->o_ff = s.take(K, 8);
  sl->o_mm = s.take(K, 8);
  sl->o_mn = s.take(K, 8);
  sl->o_amu = s.take(kd, 8);
  sl->o_x = s.take(dr, 8);
  sl->o_dm = s.take(dr, 8);
  sl->o_sc = s.take(dr, 8);
  sl->o_dmt = s.take(dr, 8);
  sl->o_sct = s.take(dr, 8);
  if (!s.ok()) return false;
  sl->total = s.total();
  return true;
}

template <class L>
bool make_layout(size_t rows, size_t K, size_t dim, size_t vlen, bool f32, Layout* lay) {
  constexpr size_t KP32 = 2 * L::kF, KP64 = 2 * L::kD;
  size_t kd;
  if (__builtin_mul_overflow(K, dim, &kd)) return false;
  lay->K = K;
  lay->dim = dim;
  lay->vlen = vlen;
  lay->f32 = f32;
  lay->diag = vlen == kd;
  lay->Kp = round_up(K, L::kD);
  lay->small = small_shape(K, dim, vlen);
  if (lay->small) {
    SmallLayout sl;
    if (!small_layout<L>(K, dim, &sl)) return false;
    lay->total = sl.total;
    return true;
  }
  lay->screen = !lay->diag && !lay->small && dim >= kScreenMinDim && K >= kScreenMinComponents && dim < (size_t(1) << 22);
  lay->cross = !lay->diag && dim >= kCrossMinDim;
  lay->mean_gemm = !lay->diag && K >= kMeanGemmMinComponents;
  const size_t dimc = max_sz(dim, 1);
  lay->KB32 = min_sz(round_up(K, KP32), max_sz(KP32, kPanelBytes / (dimc * 4) / KP32 * KP32));
  lay->KB64 = min_sz(round_up(K, KP64), max_sz(KP64, kPanelBytes / (dimc * 8) / KP64 * KP64));
  lay->KBm = min_sz(K, max_sz(4, 2 * kPanelBytes / (dimc * 8)));
  lay->cap = lay->screen ? min_sz(K, max_sz(16, K / 8)) : 0;
  // Per row: l, t (and w for the dense mean product) [K]; candidates; x in float64 (float32
  // input) and float32 (screen of float64 input); the two accumulators [dim].
  size_t per_row = 0, t;
  const size_t arrays = lay->mean_gemm ? 3 : 2;
  bool ok = !__builtin_mul_overflow(K, arrays * 8, &per_row);
  ok = ok && !__builtin_mul_overflow(lay->cap, size_t(8), &t) && !__builtin_add_overflow(per_row, t, &per_row);
  const size_t xbytes = (f32 ? 8 : 0) + (lay->screen && !f32 ? 4 : 0) + 16;
  ok = ok && !__builtin_mul_overflow(dim, xbytes, &t) && !__builtin_add_overflow(per_row, t, &per_row);
  ok = ok && !__builtin_add_overflow(per_row, sizeof(RowState) + 64 * 8, &per_row);
  if (!ok) return false;
  lay->RB = max_sz(1, min_sz(min_sz(rows, lay->screen ? rows : kDenseChunkRows), kRowBudgetBytes / per_row));
  const size_t RB = lay->RB;
  size_t rk, rd, rc;
  if (__builtin_mul_overflow(RB, K, &rk) || __builtin_mul_overflow(RB, dim, &rd) ||
      __builtin_mul_overflow(RB, max_sz(lay->cap, 1), &rc))
    return false;
  Sizer s;
  lay->o_rows = s.take(RB, sizeof(RowState));
  lay->o_x64 = s.take(f32 ? rd : 0, 8);
  lay->o_x32 = s.take(lay->screen && !f32 ? rd : 0, 4);
  lay->o_l = s.take(rk, 8);
  lay->o_t = s.take(rk, 8);
  lay->o_w = s.take(lay->mean_gemm ? rk : 0, 8);
  lay->o_ck = s.take(lay->screen ? rc : 0, 8);
  lay->o_am = s.take(rd, 8);
  lay->o_as = s.take(rd, 8);
  const bool norms = lay->screen || lay->cross;
  lay->o_mm = s.take(norms ? K : 0, 8);
  lay->o_mn = s.take(norms ? K : 0, 8);
  const size_t kb = max_sz(lay->KB32, lay->KB64);
  lay->o_bh = s.take(kb, 8);
  lay->o_bic = s.take(kb, 8);
  lay->o_fh = s.take(lay->Kp, 8);
  lay->o_fic = s.take(lay->Kp, 8);
  lay->o_fg = s.take(lay->Kp, 8);
  lay->o_ff = s.take(lay->Kp, 8);
  size_t p32 = 0, p64 = 0, full;
  lay->full_panel = lay->screen && !__builtin_mul_overflow(round_up(K, KP32), dim * 4, &full) &&
                    full <= kFullPanelBytes && rows > lay->RB;
  if (lay->screen && __builtin_mul_overflow(lay->full_panel ? round_up(K, KP32) : lay->KB32, dim, &p32)) return false;
  if (!lay->diag && __builtin_mul_overflow(lay->KB64, dim, &p64)) return false;
  lay->o_p32 = s.take(p32, 4);
  lay->o_p64 = s.take(p64, 8);
  size_t pm = 0;
  if (lay->mean_gemm && __builtin_mul_overflow(lay->KBm, dim, &pm)) return false;
  lay->o_pm = s.take(pm, 8);
  lay->o_d32 = s.take(lay->screen ? L::kScreenRows * lay->KB32 : 0, 4);
  lay->o_d64 = s.take(lay->diag ? 0 : 6 * lay->KB64, 8);
  lay->o_idx = s.take(RB, sizeof(size_t));
  lay->o_coop = s.take(1, sizeof(double));  // a cooperative call's phase 1: max |mu| of the part's blocks
  if (!s.ok()) return false;
  lay->total = s.total();
  return true;
}

// MixtureVectorTable::coop_block: the screen's block of components, where the shape has the
// screen and all the rows fit one chunk.
template <class L>
size_t coop_block(size_t rows, size_t K, size_t dim, size_t vlen, bool f32) {
  Layout lay;
  if (!make_layout<L>(rows, K, dim, vlen, f32, &lay) || lay.small || !lay.screen || lay.RB < rows || lay.full_panel)
    return 0;
  return lay.KB32;
}

inline bool dynamic_split(size_t K, size_t dim, size_t vlen) { return small_shape(K, dim, vlen); }

template <class L>
bool workspace_bytes(size_t rows, size_t K, size_t dim, size_t vlen, bool f32, size_t* bytes) {
  Layout lay;
  if (!make_layout<L>(rows, K, dim, vlen, f32, &lay)) return false;
  *bytes = lay.total;
  return true;
}

// ------------------------------------------------------------------------------------------
// The driver for one part.

template <class L, typename T>
class Driver {
 public:
  Driver(const MixturePart<T>& p, const Layout& lay) : p_(p), lay_(lay), m_(*p.model), out_(*p.out) {
    K_ = m_.components;
    dim_ = m_.dim;
    mu_ = m_.means;
    var_ = m_.variances;
    lw_ = m_.log_weights;
    vstride_ = (!lay.diag && m_.variances_length == K_) ? 1 : 0;
    unsigned char* w = p.workspace;
    rows_ = reinterpret_cast<RowState*>(w + lay.o_rows);
    x64_ = reinterpret_cast<double*>(w + lay.o_x64);
    x32_ = reinterpret_cast<float*>(w + lay.o_x32);
    l_ = reinterpret_cast<double*>(w + lay.o_l);
    t_ = reinterpret_cast<double*>(w + lay.o_t);
    wgt_ = reinterpret_cast<double*>(w + lay.o_w);
    ck_ = reinterpret_cast<size_t*>(w + lay.o_ck);
    am_ = reinterpret_cast<double*>(w + lay.o_am);
    as_ = reinterpret_cast<double*>(w + lay.o_as);
    mm_ = reinterpret_cast<double*>(w + lay.o_mm);
    mn_ = reinterpret_cast<double*>(w + lay.o_mn);
    bh_ = reinterpret_cast<double*>(w + lay.o_bh);
    bic_ = reinterpret_cast<double*>(w + lay.o_bic);
    fh_ = reinterpret_cast<double*>(w + lay.o_fh);
    fic_ = reinterpret_cast<double*>(w + lay.o_fic);
    fg_ = reinterpret_cast<double*>(w + lay.o_fg);
    ff_ = reinterpret_cast<double*>(w + lay.o_ff);
    pm_ = reinterpret_cast<double*>(w + lay.o_pm);
    p32_ = reinterpret_cast<float*>(w + lay.o_p32);
    p64_ = reinterpret_cast<double*>(w + lay.o_p64);
    d32_ = reinterpret_cast<float*>(w + lay.o_d32);
    d64_ = reinterpret_cast<double*>(w + lay.o_d64);
    idx_ = reinterpret_cast<size_t*>(w + lay.o_idx);
    if (p.coop_phase) {
      // A cooperative call: the screen's bounds (l) and the norms of the means are part 0's
      // arrays (the parts' blocks of components are disjoint); phase 1 keeps its own row
      // states, phase 2 finishes rows [begin, end) in part 0's row arrays (the parts' rows
      // are disjoint), with its own scratch.
      unsigned char* sh = p.coop_shared;
      l_ = reinterpret_cast<double*>(sh + lay.o_l);
      mm_ = reinterpret_cast<double*>(sh + lay.o_mm);
      mn_ = reinterpret_cast<double*>(sh + lay.o_mn);
      if (p.coop_phase == 2 && p.begin < p.end) {
        const size_t b0 = p.begin;
        rows_ = reinterpret_cast<RowState*>(sh + lay.o_rows) + b0;
        l_ += b0 * K_;
        t_ = reinterpret_cast<double*>(sh + lay.o_t) + b0 * K_;
        if (lay.mean_gemm) wgt_ = reinterpret_cast<double*>(sh + lay.o_w) + b0 * K_;
        ck_ = reinterpret_cast<size_t*>(sh + lay.o_ck) + b0 * lay.cap;
        am_ = reinterpret_cast<double*>(sh + lay.o_am) + b0 * dim_;
        as_ = reinterpret_cast<double*>(sh + lay.o_as) + b0 * dim_;
      }
    }
  }

  void run() {
    if (p_.coop_phase == 1) {
      coop_screen();
      return;
    }
    if (p_.coop_phase == 2) {
      coop_finish();
      return;
    }
    model_constants();
    for (size_t c0 = p_.begin; c0 < p_.end; c0 += lay_.RB) chunk(c0, min_sz(p_.end, c0 + lay_.RB));
  }

 private:
  // ---- model-level constants (a pure function of the model: the same in every part)
  // With the screen, the norms of the means are computed block by block as the screen first
  // packs them (the block is then in cache); otherwise here.
  void model_constants() {
    mumax_ = 0;
    norms_upto_ = 0;
    if (!lay_.screen) complete_norms();
    vmax_ = 0;
    for (size_t i = 0; i < m_.variances_length; ++i) vmax_ = max_d(vmax_, var_[i]);
    bkey_valid_ = fkey_valid_ = false;
  }

  // |mu_k|^2 and |mu_k| (when needed) and max |mu| for components [norms_upto_, k1); with
  // check_means_, whether they are finite (means_bad_ set where not).
  void norms_to(size_t k1) {
    const bool want = lay_.screen || lay_.cross;
    for (size_t k = norms_upto_; k < k1; ++k) {
      double ss, mx;
      if (check_means_) {
        bool finite;
        norms<L, true>(mu_ + k * dim_, dim_, &ss, &mx, &finite);
        means_bad_ = means_bad_ || !finite;
      } else {
        norms<L>(mu_ + k * dim_, dim_, &ss, &mx);
      }
      mumax_ = max_d(mumax_, mx);
      if (want) {
        mm_[k] = ss;
        mn_[k] = __builtin_sqrt(ss);
      }
    }
    if (k1 > norms_upto_) norms_upto_ = k1;
  }
  void complete_norms() { norms_to(K_); }

  double variance_of(size_t k) const { return var_[k * vstride_]; }

  // h_k, 1 / C_k and the gain a v_k / C_k at level (a, s) (isotropic): the same expressions as
  // the scalar reference's prepare().
  void comp_params(size_t k, double a, double s, double* h, double* ic, double* g) const {
    const double lw = lw_[k];
    if (lw == -kInf) {  // r_k = 0; ic = 1 keeps h - q ic / 2 = -inf (never NaN) for any q
      *h = -kInf;
      *ic = 1;
      *g = 0;
      return;
    }
    const double a2 = a * a, s2 = s * s;
    const double v = variance_of(k);
    const double c = a2 * v + s2;
    *h = lw - 0.5 * (static_cast<double>(dim_) * (kLog2Pi + __builtin_log(c)));
    *ic = 1.0 / c;
    *g = a * v * *ic;
  }

  // Block cache: h and 1/C for components [k0, k1) at (a, s).
  void block_params(double a, double s, size_t k0, size_t k1) {
    if (bkey_valid_ && bk_a_ == a && bk_s_ == s && bk_k0_ == k0 && bk_k1_ == k1) return;
    double g;
    for (size_t k = k0; k < k1; ++k) comp_params(k, a, s, &bh_[k - k0], &bic_[k - k0], &g);
    bkey_valid_ = true;
    bk_a_ = a;
    bk_s_ = s;
    bk_k0_ = k0;
    bk_k1_ = k1;
  }

  // Full cache: h, 1/C and g for every component at (a, s); for diagonal variances h only.
  void full_params(double a, double s) {
    if (fkey_valid_ && fk_a_ == a && fk_s_ == s) return;
    if (lay_.diag) {
      const double a2 = a * a, s2 = s * s;
      for (size_t k = 0; k < K_; ++k) {
        const double lw = lw_[k];
        if (lw == -kInf) {
          fh_[k] = -kInf;
          continue;
        }
        const double* v = var_ + k * dim_;
        double sumlog = 0;
        for (size_t j = 0; j < dim_; ++j) {
          const double c = a2 * v[j] + s2;
          sumlog += __builtin_log(c);
        }
        fh_[k] = lw - 0.5 * (static_cast<double>(dim_) * kLog2Pi + sumlog);
      }
    } else {
      const double s2 = s * s;
      for (size_t k = 0; k < K_; ++k) {
        comp_params(k, a, s, &fh_[k], &fic_[k], &fg_[k]);
        // s^2 / C_k = 1 - a g_k, exactly 1 for zero variances (an empirical mean stays a point)
        ff_[k] = variance_of(k) == 0 ? 1.0 : s2 * fic_[k];
      }
    }
    fkey_valid_ = true;
    fk_a_ = a;
    fk_s_ = s;
  }

  // ---- a cooperative call (MixturePart::coop_phase)
  // Phase 1: all the rows, in this part's own row states, screened against the blocks of
  // components this part takes; bounds and norms into part 0's arrays; max |mu| of the blocks
  // into this part's coop slot.
  void coop_screen() {
    mumax_ = 0;
    bkey_valid_ = fkey_valid_ = false;
    check_means_ = p_.check_means;
    means_bad_ = false;
    const size_t n = p_.coop_rows, KB = p_.coop_block;
    for (size_t i = 0; i < n; ++i) prepare_row(i, i);
    for (;;) {
      const size_t k0 = p_.next_chunk->fetch_add(1, std::memory_order_relaxed) * KB;
      if (k0 >= K_) break;
      const size_t k1 = min_sz(K_, k0 + KB);
      norms_upto_ = k0;
      screen_block(n, k0, k1);
      norms_to(k1);  // where no row was left to screen
    }
    *reinterpret_cast<double*>(p_.workspace + lay_.o_coop) = mumax_;
    if (means_bad_) *p_.means_bad = true;
  }

  // Phase 2: rows [begin, end) (this Driver's row 0 is row begin) with every part's screen: the
  // max lower bound of a row is the max over the parts, and it is dense where any part found it so.
  void coop_finish() {
    const size_t n = p_.end - p_.begin;
    if (n == 0) return;
    vmax_ = 0;
    for (size_t i = 0; i < m_.variances_length; ++i) vmax_ = max_d(vmax_, var_[i]);
    mumax_ = 0;
    for (int q = 0; q < p_.coop_parts; ++q) {
      const unsigned char* w = p_.coop_shared + static_cast<size_t>(q) * p_.coop_stride;
      mumax_ = max_d(mumax_, *reinterpret_cast<const double*>(w + lay_.o_coop));
      if (q == 0) continue;
      const RowState* o = reinterpret_cast<const RowState*>(w + lay_.o_rows) + p_.begin;
      for (size_t i = 0; i < n; ++i) {
        rows_[i].mlo = max_d(rows_[i].mlo, o[i].mlo);
        rows_[i].dense = rows_[i].dense || o[i].dense;
      }
    }
    norms_upto_ = K_;
    bkey_valid_ = fkey_valid_ = false;
    finish(p_.begin, n);
  }

  // ---- one chunk of rows
  void chunk(size_t c0, size_t c1) {
    const size_t n = c1 - c0;
    for (size_t i = 0; i < n; ++i) prepare_row(i, c0 + i);
    if (lay_.screen) screen_pass(n);
    finish(c0, n);
  }

  // The rest of a chunk of n rows from row c0, after the screen.
  void finish(size_t c0, size_t n) {
    complete_norms();
    for (size_t i = 0; i < n; ++i) {
      RowState& st = rows_[i];
      if (!st.dense) finish_candidates(st, i);
    }
    if (lay_.diag) {
      for (size_t i = 0; i < n; ++i) diag_exact(i);
    } else {
      dense_exact(n);
      for (size_t i = 0; i < n; ++i) {
        if (!rows_[i].dense) sparse_exact(i);
      }
    }
    for (size_t i = 0; i < n; ++i) softmax(i, c0 + i);
    const bool want_mean = out_.mean || out_.variance;
    if (!want_mean && !out_.score) return;
    if (!lay_.diag && lay_.mean_gemm) dense_mean_score(n, want_mean);
    for (size_t i = 0; i < n; ++i) {
      RowState& st = rows_[i];
      if (st.done) continue;
      if (lay_.diag || !st.dense || !lay_.mean_gemm) direct_mean_score(i, want_mean, out_.score != nullptr);
      else if (out_.score && st.score_direct) direct_mean_score(i, false, true);
      if (!finite_mean_score(i, want_mean)) {
        // A sum overflowed: the scalar reference sums such columns scaled, for this row alone.
        p_.scalar_row.fn(p_.scalar_row.self, c0 + i, p_.scalar_workspace);
        continue;
      }
      write_mean_score(i, c0 + i);
      if (out_.variance) variance(i, c0 + i);
    }
  }

  void prepare_row(size_t i, size_t b) {
    RowState& st = rows_[i];
    const MixtureLevels& lv = *p_.levels;
    st.a = lv.alpha[b * lv.alpha_stride];
    st.s = lv.sigma[b * lv.sigma_stride];
    const T* xr = p_.x + b * dim_;
    if (sizeof(T) == 8) {
      st.x64 = reinterpret_cast<const double*>(xr);
    } else {
      double* dst = x64_ + i * dim_;
      for (size_t j = 0; j < dim_; ++j) dst[j] = static_cast<double>(xr[j]);
      st.x64 = dst;
    }
    norms<L>(st.x64, dim_, &st.xx, &st.xmax);
    st.xn = __builtin_sqrt(st.xx);
    st.t_ready = false;
    st.mlo = -kInf;
    st.count = 0;
    st.done = false;
    st.dense = !lay_.screen;
    st.score_direct = false;
    st.x32 = nullptr;
    if (lay_.screen) {
      // The screen's bound holds whenever nothing overflows in float32; an overflow shows as a
      // non-finite dot product, and analyze() then sends the row to the exact path.
      if (!(st.xx < kInf)) {
        st.dense = true;
      } else if (sizeof(T) == 4) {
        st.x32 = reinterpret_cast<const float*>(xr);
      } else {
        float* dst = x32_ + i * dim_;
        for (size_t j = 0; j < dim_; ++j) dst[j] = static_cast<float>(st.x64[j]);
        st.x32 = dst;
      }
    }
  }

  void ensure_threshold(RowState& st) const {
    if (!st.t_ready) st.T = threshold(st);
    st.t_ready = true;
  }

  // T of the row: components with l_k < max l - T contribute less than 2^-152 (float32 output)
  // or 2^-1076 (float64) in total to every output, so dropping them changes no rounded output
  // by more than the twin rule's allowance (and their responsibilities round to 0).
  double threshold(const RowState& st) const {
    const double a = st.a, s2 = st.s * st.s;
    const double gb = (a > 0 && vmax_ > 0) ? min_d(1.0 / a, a * vmax_ / s2) : 0;
    const double mmean = mumax_ + gb * st.xmax;             // |m_kj| <= |mu_kj| + g |x_j|
    const double mscore = (st.xmax + a * mumax_) / s2;      // |x_j - a mu_kj| / C_k
    const double mvar = vmax_ + 4 * mmean * mmean;          // (tr V_k + |m_k - D|^2) / dim
    const double scale = max_d(1.0, max_d(mmean, max_d(mscore, mvar)));
    const double t0 = sizeof(T) == 4 ? 105.37 : 745.85;     // 152 ln 2, 1076 ln 2
    return t0 + __builtin_log(static_cast<double>(K_)) + __builtin_log(scale) + 10.0;
  }

  // ---- the float32 screen
  void screen_pass(size_t n) {
    const size_t KB = lay_.KB32;
    for (size_t k0 = 0; k0 < K_; k0 += KB) {
      if (!screen_block(n, k0, min_sz(K_, k0 + KB))) break;
    }
    if (lay_.full_panel && norms_upto_ == K_) full_packed_ = true;
  }

  // The rows of the n not yet dense against components [k0, k1) (at most KB32 of them):
  // false when no row is left.
  bool screen_block(size_t n, size_t k0, size_t k1) {
    constexpr size_t KP = 2 * L::kF;
    const size_t KB = lay_.KB32, np = (k1 - k0 + KP - 1) / KP;
    const float* xr[kMaxScreenRows];
    size_t m = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!rows_[i].dense) idx_[m++] = i;
    }
    if (m == 0) return false;
    const float* panel = p32_;
    if (!lay_.full_panel) {
      pack_panel_f32<L>(mu_, k0, k1, dim_, p32_);
    } else {
      if (!full_packed_) pack_panel_f32<L>(mu_, k0, k1, dim_, p32_ + k0 * dim_);
      panel = p32_ + k0 * dim_;
    }
    norms_to(k1);
    for (size_t t0 = 0; t0 < m; t0 += L::kScreenRows) {
      const int rr = static_cast<int>(min_sz(L::kScreenRows, m - t0));
      for (int r = 0; r < rr; ++r) xr[r] = rows_[idx_[t0 + r]].x32;
      screen_rows<L>(rr, xr, panel, np, dim_, d32_, KB);
      for (int r = 0; r < rr; ++r) analyze(idx_[t0 + r], k0, k1, d32_ + r * KB);
    }
    return true;
  }

  // Screened bounds of components [k0, k1) of row i: lo_k <= l_k <= hi_k. Stores hi_k in the
  // row's l array (-inf for zero weights) and raises the row's max lower bound mlo.
  void analyze(size_t i, size_t k0, size_t k1, const float* dots) {
    RowState& st = rows_[i];
    const double a = st.a, ta = 2 * a, a2 = a * a, xx = st.xx, xn = st.xn;
    block_params(a, st.s, k0, k1);
    const double nd = static_cast<double>(dim_);
    const double gam = nd * kU32 / (1 - nd * kU32);
    const double G = gam * (1 + kU32) * (1 + kU32) + 2 * kU32 + kU32 * kU32;
    const double c64 = (nd + 8) * 1.2e-16;
    const double sq = __builtin_sqrt(nd);
    double* hi = l_ + i * K_;
    double mlo = st.mlo;
    bool bad = false;
    for (size_t k = k0; k < k1; ++k) {
      const double h = bh_[k - k0], ic = bic_[k - k0];
      const double dot = static_cast<double>(dots[k - k0]);
      const double mmk = mm_[k], mnk = mn_[k], P = xn * mnk;
      const double q = (xx - ta * dot) + a2 * mmk;
      const double l = h - 0.5 * (q * ic);
      const double mag = xx + ta * P + a2 * mmk;
      const double absb = 0x1p-148 * (sq * (xn + mnk) + nd);
      const double E =
          0.5 * ic * (ta * (G * P + absb) + c64 * mag) * (1 + 1e-6) + 1e-9 * (1 + abs_d(h) + 0.5 * ic * mag);
      const double lo = l - E, up = l + E;
      hi[k] = h == -kInf ? -kInf : up;
      // NaN or overflow: no usable bound, the row takes the exact path
      bad = bad || (h != -kInf && !(lo > -kInf && up < kInf && dot - dot == 0));
      mlo = max_d(mlo, h == -kInf ? -kInf : lo);
    }
    st.mlo = mlo;
    if (bad) st.dense = true;
  }

  // The candidates of a screened row: every k with hi_k >= mlo - T (the component of the true
  // maximum among them); too many, and the row is dense.
  void finish_candidates(RowState& st, size_t i) {
    ensure_threshold(st);
    const double* hi = l_ + i * K_;
    const double cut = st.mlo - st.T;
    size_t* ck = ck_ + i * lay_.cap;
    size_t m = 0;
    for (size_t k = 0; k < K_; ++k) {
      if (hi[k] >= cut) {
        if (m == lay_.cap) {
          st.dense = true;
          return;
        }
        ck[m++] = k;
      }
    }
    st.count = m;
    if (m == 0) st.dense = true;
  }

  // ---- exact log densities
  // Dense rows (isotropic): every component, in float64 tiles.
  void dense_exact(size_t n) {
    constexpr size_t KP = 2 * L::kD;
    const int R = lay_.cross ? 6 : 4;
    size_t m = 0;
    for (size_t i = 0; i < n; ++i) {
      if (rows_[i].dense) idx_[m++] = i;
    }
    if (m == 0) return;
    const size_t KB = lay_.KB64;
    const double* xr[8];
    double al[8];
    for (size_t k0 = 0; k0 < K_; k0 += KB) {
      const size_t k1 = min_sz(K_, k0 + KB), np = (k1 - k0 + KP - 1) / KP;
      pack_panel_f64<L>(mu_, k0, k1, dim_, p64_);
      for (size_t t0 = 0; t0 < m; t0 += R) {
        const int rr = static_cast<int>(min_sz(R, m - t0));
        for (int r = 0; r < rr; ++r) {
          xr[r] = rows_[idx_[t0 + r]].x64;
          al[r] = rows_[idx_[t0 + r]].a;
        }
        if (lay_.cross) cross_rows<L, false>(rr, xr, al, p64_, np, dim_, d64_, KB);
        else cross_rows<L, true>(rr, xr, al, p64_, np, dim_, d64_, KB);
        for (int r = 0; r < rr; ++r) dense_logs(idx_[t0 + r], k0, k1, d64_ + r * KB);
      }
    }
  }

  void dense_logs(size_t i, size_t k0, size_t k1, const double* v) {
    const RowState& st = rows_[i];
    block_params(st.a, st.s, k0, k1);
    double* l = l_ + i * K_;
    if (!lay_.cross) {
      logs_array<L>(l + k0, bh_, v, bic_, k1 - k0);
      return;
    }
    const double a = st.a, ta = 2 * a, a2 = a * a, xx = st.xx, xn = st.xn;
    const double chk = 2 * __builtin_sqrt(static_cast<double>(dim_)) * 2 * kEps64;
    for (size_t k = k0; k < k1; ++k) {
      const double h = bh_[k - k0], ic = bic_[k - k0];
      if (h == -kInf) {
        l[k] = -kInf;
        continue;
      }
      // |x - a mu|^2 = |x|^2 - 2a x.mu + a^2 |mu|^2, unless that cancels beyond what the
      // tolerance allows (x close to a mu far from the origin): then the direct difference.
      // The bound is capped at the largest double, as in logs_cross (mixture_small.h): where
      // err and mag both overflow, inf <= inf passed (fuzz finding
      // responsibility-sse2-dense-cross-near-overflow).
      double q = (xx - ta * v[k - k0]) + a2 * mm_[k];
      const double big = xn + a * mn_[k];
      const double err = 0.5 * ic * chk * big * big;
      const double mag = abs_d(lw_[k]) + abs_d(h - lw_[k]) + 0.5 * ic * max_d(q, 0.0);
      if (!(err <= min_d(1e-13 * (1 + mag), __DBL_MAX__))) q = direct_q<L>(st.x64, mu_ + k * dim_, a, dim_);
      l[k] = h - 0.5 * (q * ic);
    }
  }

  // Sparse rows: the candidates only.
  void sparse_exact(size_t i) {
    const RowState& st = rows_[i];
    const size_t* ck = ck_ + i * lay_.cap;
    double* l = l_ + i * K_;
    for (size_t c = 0; c < st.count; ++c) {
      const size_t k = ck[c];
      double h, ic, g;
      comp_params(k, st.a, st.s, &h, &ic, &g);
      const double q = direct_q<L>(st.x64, mu_ + k * dim_, st.a, dim_);
      l[c] = h - 0.5 * (q * ic);
    }
  }

  void diag_exact(size_t i) {
    const RowState& st = rows_[i];
    full_params(st.a, st.s);
    const double a = st.a, a2 = a * a, s2 = st.s * st.s;
    double* l = l_ + i * K_;
    for (size_t k = 0; k < K_; ++k) {
      if (fh_[k] == -kInf) {
        l[k] = -kInf;
        continue;
      }
      const double q = direct_q_diag<L>(st.x64, mu_ + k * dim_, var_ + k * dim_, a, a2, s2, dim_);
      l[k] = fh_[k] - 0.5 * q;
    }
  }

  size_t comp_of(const RowState& st, size_t i, size_t c) const { return st.dense ? c : ck_[i * lay_.cap + c]; }
  size_t count_of(const RowState& st) const { return st.dense ? K_ : st.count; }

  // ---- log-sum-exp, responsibilities, log density, entropy
  void softmax(size_t i, size_t b) {
    RowState& st = rows_[i];
    const size_t n = count_of(st);
    double* l = l_ + i * K_;
    double* t = t_ + i * K_;
    const double mx = max_array<L>(l, n);
    if (mx == -kInf) {
      // Every quadratic overflowed: the scalar reference's fallback, for this row alone.
      p_.scalar_row.fn(p_.scalar_row.self, b, p_.scalar_workspace);
      st.done = true;
      return;
    }
    sub_array<L>(l, n, mx);
    const double sum = exp_sum<L>(l, t, n);
    const double log_sum = out_.log_density || out_.entropy ? __builtin_log(sum) : 0.0;
    div_array<L>(t, n, sum);
    st.mx = mx;
    st.log_sum = log_sum;
    if (out_.responsibilities) {
      T* o = out_.responsibilities + b * K_;
      if (st.dense) {
        for (size_t k = 0; k < K_; ++k) o[k] = static_cast<T>(t[k]);
      } else {
        for (size_t k = 0; k < K_; ++k) o[k] = T(0);
        const size_t* ck = ck_ + i * lay_.cap;
        for (size_t c = 0; c < n; ++c) o[ck[c]] = static_cast<T>(t[c]);
      }
    }
    if (out_.log_density) out_.log_density[b] = static_cast<T>(mx + log_sum);
    if (out_.entropy) {
      double H = 0;
      for (size_t c = 0; c < n; ++c) {
        if (t[c] > 0) H -= t[c] * (l[c] - log_sum);
      }
      out_.entropy[b] = static_cast<T>(H);
    }
  }

  // Whether component slot c of the row takes part in the mean, score and variance.
  static bool active(const RowState& st, const double* t, const double* d, size_t c) {
    return t[c] > 0 && d[c] >= -st.T;
  }

  // ---- posterior mean and score, direct form: sum over the active components
  void direct_mean_score(size_t i, bool want_mean, bool want_score) {
    RowState& st = rows_[i];
    ensure_threshold(st);
    const size_t n = count_of(st);
    const double* d = l_ + i * K_;
    const double* t = t_ + i * K_;
    double* am = want_mean ? am_ + i * dim_ : nullptr;
    double* as = want_score ? as_ + i * dim_ : nullptr;
    for (size_t j = 0; j < dim_; ++j) {
      if (am) am[j] = 0;
      if (as) as[j] = 0;
    }
    const double a = st.a, a2 = a * a, s2 = st.s * st.s;
    if (lay_.diag || st.dense) full_params(st.a, st.s);
    for (size_t c = 0; c < n; ++c) {
      if (!active(st, t, d, c)) continue;
      const size_t k = comp_of(st, i, c);
      const double* mu = mu_ + k * dim_;
      if (lay_.diag) {
        accumulate_diag<L>(am, as, st.x64, mu, var_ + k * dim_, a, a2, s2, t[c], dim_);
      } else {
        double h, ic, g;
        if (st.dense) {
          ic = fic_[k];
          g = fg_[k];
        } else {
          comp_params(k, a, st.s, &h, &ic, &g);
        }
        accumulate_iso<L>(am, as, st.x64, mu, a, g, t[c], ic, dim_);
      }
    }
    if (as) {
      for (size_t j = 0; j < dim_; ++j) as[j] = -as[j];
    }
  }

  // ---- posterior mean and score of the dense rows (isotropic): weights [rows, K] x means
  // [K, dim] in tiles, plus the x term. m_kj = (s^2 / C_k) mu_kj + g_k x_j and
  // score_j = a sum_k (r_k / C_k) mu_kj - (sum_k r_k / C_k) x_j.
  void dense_mean_score(size_t n, bool want_mean) {
    size_t m = 0;
    for (size_t i = 0; i < n; ++i) {
      if (rows_[i].dense && !rows_[i].done) idx_[m++] = i;
    }
    if (m == 0) return;
    for (int pass = 0; pass < 2; ++pass) {
      const bool score = pass == 1;
      if (score ? !out_.score : !want_mean) continue;
      if (score) {
        // a sum_k (r_k / C_k) mu_kj - (sum_k r_k / C_k) x_j: only where no term can overflow
        // (1/C up to 1e300 at sigma = 1e-150); other rows take the direct form. The sum over mu
        // is formed before it is scaled by a, so the bound takes max(1, a): at a = 0 the sum must
        // stay finite too (else 0 * inf; fuzz finding score-nan-alpha0-dense-rows).
        size_t kept = 0;
        for (size_t q = 0; q < m; ++q) {
          RowState& st = rows_[idx_[q]];
          full_params(st.a, st.s);
          double icmax = 0;
          for (size_t k = 0; k < K_; ++k) icmax = max_d(icmax, fic_[k]);
          st.score_direct = !(icmax * (st.xmax + max_d(1.0, st.a) * mumax_) * static_cast<double>(K_) < 1e300);
          if (!st.score_direct) idx_[kept++] = idx_[q];
        }
        m = kept;
      }
      for (size_t q = 0; q < m; ++q) {
        const size_t i = idx_[q];
        RowState& st = rows_[i];
        full_params(st.a, st.s);
        const double* t = t_ + i * K_;
        double* w = wgt_ + i * K_;
        // mean: w_k = r_k s^2 / C_k, x coefficient sum_k r_k g_k; score: w_k = r_k / C_k and
        // its sum (r_k = 0 gives w_k = 0: the factors are finite)
        const double cterm = score ? mul_arrays<L>(w, t, fic_, nullptr, K_) : mul_arrays<L>(w, t, ff_, fg_, K_);
        double* acc = (score ? as_ : am_) + i * dim_;
        for (size_t j = 0; j < dim_; ++j) acc[j] = 0;
        xcoef(i) = cterm;
      }
      const size_t KB = lay_.KBm;
      const double* wr[8];
      double* ar[8];
      for (size_t k0 = 0; k0 < K_; k0 += KB) {
        const size_t k1 = min_sz(K_, k0 + KB);
        pack_mean_panel<L>(mu_ + k0 * dim_, k1 - k0, dim_, pm_);
        for (size_t t0 = 0; t0 < m; t0 += L::kMeanRows) {
          const int rr = static_cast<int>(min_sz(L::kMeanRows, m - t0));
          for (int r = 0; r < rr; ++r) {
            const size_t i = idx_[t0 + r];
            wr[r] = wgt_ + i * K_ + k0;
            ar[r] = (score ? as_ : am_) + i * dim_;
          }
          wsum_rows<L>(rr, wr, pm_, k1 - k0, dim_, ar);
        }
      }
      for (size_t q = 0; q < m; ++q) {
        const size_t i = idx_[q];
        const RowState& st = rows_[i];
        const double c = xcoef(i);
        const double* x = st.x64;
        if (score) {
          double* acc = as_ + i * dim_;
          const double a = st.a;
          for (size_t j = 0; j < dim_; ++j) acc[j] = a * acc[j] - c * x[j];
        } else {
          double* acc = am_ + i * dim_;
          for (size_t j = 0; j < dim_; ++j) acc[j] = acc[j] + c * x[j];
        }
      }
    }
  }

  // The x coefficient of a dense row's mean or score (kept in mlo: not needed after the screen).
  double& xcoef(size_t i) { return rows_[i].mlo; }

  bool finite_mean_score(size_t i, bool want_mean) const {
    bool ok = true;
    if (want_mean) {
      const double* am = am_ + i * dim_;
      for (size_t j = 0; j < dim_; ++j) ok = ok && __builtin_isfinite(am[j]);
    }
    if (out_.score) {
      const double* as = as_ + i * dim_;
      for (size_t j = 0; j < dim_; ++j) ok = ok && __builtin_isfinite(as[j]);
    }
    return ok;
  }

  void write_mean_score(size_t i, size_t b) {
    if (out_.mean) {
      const double* am = am_ + i * dim_;
      T* o = out_.mean + b * dim_;
      for (size_t j = 0; j < dim_; ++j) o[j] = static_cast<T>(am[j]);
    }
    if (out_.score) {
      const double* as = as_ + i * dim_;
      T* o = out_.score + b * dim_;
      for (size_t j = 0; j < dim_; ++j) o[j] = static_cast<T>(as[j]);
    }
  }

  // ---- trace of the posterior covariance / dim: sum_k r_k (tr V_k + |m_k - D|^2) / dim
  void variance(size_t i, size_t b) {
    RowState& st = rows_[i];
    ensure_threshold(st);
    const size_t n = count_of(st);
    const double* d = l_ + i * K_;
    const double* t = t_ + i * K_;
    const double* dm = am_ + i * dim_;
    const double a = st.a, a2 = a * a, s2 = st.s * st.s;
    if (lay_.diag || st.dense) full_params(st.a, st.s);
    double total = 0;
    for (size_t c = 0; c < n; ++c) {
      if (!active(st, t, d, c)) continue;
      const size_t k = comp_of(st, i, c);
      const double* mu = mu_ + k * dim_;
      double d2, trv;
      if (lay_.diag) {
        spread_diag<L>(st.x64, mu, var_ + k * dim_, dm, a, a2, s2, dim_, &d2, &trv);
      } else {
        double h, ic, g;
        if (st.dense) {
          ic = fic_[k];
          g = fg_[k];
        } else {
          comp_params(k, a, st.s, &h, &ic, &g);
        }
        d2 = spread_iso<L>(st.x64, mu, dm, a, g, dim_);
        trv = static_cast<double>(dim_) * (variance_of(k) * s2 * ic);
      }
      total += t[c] * (trv + d2);
    }
    out_.variance[b] = static_cast<T>(total / static_cast<double>(dim_));
  }

  const MixturePart<T>& p_;
  const Layout& lay_;
  const MixtureModel& m_;
  const MixtureOutputs<T>& out_;
  size_t K_, dim_, vstride_;
  const double* mu_;
  const double* var_;
  const double* lw_;
  RowState* rows_;
  double* x64_;
  float* x32_;
  double *l_, *t_, *wgt_;
  size_t* ck_;
  double *am_, *as_, *mm_, *mn_, *bh_, *bic_, *fh_, *fic_, *fg_, *ff_, *pm_;
  float* p32_;
  double* p64_;
  float* d32_;
  double* d64_;
  size_t* idx_;
  double mumax_ = 0, vmax_ = 0;
  size_t norms_upto_ = 0;
  bool bkey_valid_ = false, fkey_valid_ = false, full_packed_ = false;
  bool check_means_ = false, means_bad_ = false;  // a cooperative phase 1: means checked by norms_to
  double bk_a_ = 0, bk_s_ = 0, fk_a_ = 0, fk_s_ = 0;
  size_t bk_k0_ = 0, bk_k1_ = 0;
};

// The rows-in-lanes kernel (mixture_small.h, included after this header).
template <class L, typename T>
void small_rows(const MixturePart<T>& part, const SmallLayout& lay);

template <class L>
void exp_test(const double* x, double* out, size_t n) {
  (void)exp_sum<L>(x, out, n);
}

template <class L, typename T>
void rows(const MixturePart<T>& part) {
  Layout lay;
  const size_t rows = part.coop_phase ? part.coop_rows : part.end - part.begin;
  if (!make_layout<L>(rows, part.model->components, part.model->dim, part.model->variances_length, sizeof(T) == 4,
                      &lay))
    return;  // cannot happen: mixture.cc sized the workspace with the same layout
  if (lay.small) {
    SmallLayout sl;
    small_layout<L>(part.model->components, part.model->dim, &sl);
    small_rows<L, T>(part, sl);
    return;
  }
  Driver<L, T> d(part, lay);
  d.run();
}

}  // namespace mixlanes
}  // namespace
}  // namespace tweedie

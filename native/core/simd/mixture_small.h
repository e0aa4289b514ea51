// The rows-in-lanes mixture kernel for isotropic mixtures (shared, per-component and empirical
// variances) of small dim and few components, where the GEMM-shaped tiles of mixture_lanes.h
// cannot amortise their packing and per-row bookkeeping: a tile of RN = kRV * L::kD rows is
// held one row per lane, and every operation is vertical (no horizontal reduction), so each
// row's arithmetic is the same in any lane of any tile, whatever rows share it or which thread
// runs it. Components and dimensions are loops with the model's constants broadcast.
//
// Per tile, in float64 (formulas as in ../mixture.h):
//   A  l_k = h_k - q_k / (2 C_k), q_k = sum_j (x_j - a mu_kj)^2 with the twin's two roundings of
//      e_kj = x_j - a mu_kj (a mu_kj is precomputed when the tile shares one level: the same
//      rounded product); from dim kSmallCrossMinDim on the cross-term form |x|^2 - 2a x.mu_k +
//      a^2 |mu_k|^2 where a bound shows it cannot cancel beyond the tolerance, else (per lane)
//      the direct difference; and the running max m per lane;
//   B  t_k = exp(l_k - m) by the assist-free vector exp, S = sum_k t_k;
//   C  r_k = t_k / S (times 1 / S for K > 2), then the posterior mean
//      D_j = sum_k (r_k s^2 / C_k) mu_kj + (sum_k r_k g_k) x_j, the score
//      -sum_k r_k ((x_j - a mu_kj) / C_k), log density, entropy and variance from the r_k.
// Fixed dims 1..kSmallFixedDims are compiled with their loops unrolled and the mean held in
// registers. Rows whose quadratics all overflow (max -inf) go to the scalar reference.
// Included by the per-level translation units after mixture_lanes.h.
#pragma once
#include <cstddef>
#include <cstdint>

#include "mixture_lanes.h"

namespace tweedie {
namespace {
namespace mixlanes {

// Components with l_k - m below this (t_k < 2^-894) take the scaled second pass of the fast
// path: above it every product of the mean stays normal unless s^2 / C_k |mu_kj| < 2^-120.
constexpr double kTinyLog = -620.0;

// MixtureVectorTable::test_flags of this level.
int g_test_flags = 0;

template <class L, typename T>
class SmallKernel {
  using D = typename L::D;
  static constexpr size_t N = L::kD;

 public:
  SmallKernel(const MixturePart<T>& p, const SmallLayout& lay)
      : p_(p), lay_(lay), out_(*p.out), K_(p.model->components), dim_(p.model->dim) {
    const MixtureModel& m = *p.model;
    mu_ = m.means;
    var_ = m.variances;
    lw_ = m.log_weights;
    vstride_ = m.variances_length == K_ ? 1 : 0;
    unsigned char* w = p.workspace;
    auto at = [w](size_t o) { return reinterpret_cast<double*>(w + o); };
    lt_ = at(lay.o_lt);
    tt_ = at(lay.o_tt);
    wm_ = at(lay.o_wm);
    tf_ = at(lay.o_tf);
    ts_ = at(lay.o_ts);
    ph_ = at(lay.o_ph);
    pic_ = at(lay.o_pic);
    pg_ = at(lay.o_pg);
    pff_ = at(lay.o_pff);
    h_ = at(lay.o_h);
    ic_ = at(lay.o_ic);
    g_ = at(lay.o_g);
    ff_ = at(lay.o_ff);
    amu_ = at(lay.o_amu);
    mm_ = at(lay.o_mm);
    mn_ = at(lay.o_mn);
    xw_ = at(lay.o_x);
    dm_ = at(lay.o_dm);
    sc_ = at(lay.o_sc);
    dmt_ = at(lay.o_dmt);
    sct_ = at(lay.o_sct);
  }

  void run() {
    mumax_ = 0;
    for (size_t k = 0; k < K_; ++k) {
      double ss, mx;
      norms<L>(mu_ + k * dim_, dim_, &ss, &mx);
      mumax_ = max_d(mumax_, mx);
      if (cross()) {
        mm_[k] = ss;
        mn_[k] = __builtin_sqrt(ss);
      }
    }
    if (lay_.RN == 4 * N) {
      dims<4>();
    } else {
      dims<2>();
    }
  }

 private:
  bool cross() const { return dim_ >= kSmallCrossMinDim; }

  template <int kRV>
  void dims() {
    switch (dim_) {
      case 1: tiles<kRV, 1>(); break;
      case 2: tiles<kRV, 2>(); break;
      case 3: tiles<kRV, 3>(); break;
      case 4: tiles<kRV, 4>(); break;
      default: tiles<kRV, 0>(); break;
    }
  }

  template <int kRV, int DIM>
  void tiles() {
    if (p_.next_chunk == nullptr) {
      tiles<kRV, DIM>(p_.begin, p_.end);
      return;
    }
    for (;;) {
      const size_t c = p_.next_chunk->fetch_add(1, std::memory_order_relaxed);
      const size_t begin = c * p_.chunk_rows;
      if (begin >= p_.end) return;
      tiles<kRV, DIM>(begin, min_sz(p_.end, begin + p_.chunk_rows));
    }
  }

  template <int kRV, int DIM>
  void tiles(size_t begin, size_t end) {
    constexpr size_t RN = kRV * N;
    const MixtureLevels& lv = *p_.levels;
    for (size_t b0 = begin; b0 < end; b0 += RN) {
      const size_t nr = min_sz(RN, end - b0);
      // the tile shares one level when every lane's (alpha, sigma) is the same (spare lanes
      // repeat the first row)
      const double a0 = lv.alpha[b0 * lv.alpha_stride], s0 = lv.sigma[b0 * lv.sigma_stride];
      bool uniform = true;
      if (lv.alpha_stride | lv.sigma_stride) {
        for (size_t r = 1; r < nr && uniform; ++r)
          uniform = lv.alpha[(b0 + r) * lv.alpha_stride] == a0 && lv.sigma[(b0 + r) * lv.sigma_stride] == s0;
      }
      if (uniform) {
        shared_params(a0, s0);
        tile<kRV, DIM, true>(b0, nr);
      } else {
        tile<kRV, DIM, false>(b0, nr);
      }
    }
  }

  double variance_of(size_t k) const { return var_[k * vstride_]; }

  // h_k, 1 / C_k, the gain a v_k / C_k and s^2 / C_k at level (a, s): the scalar reference's
  // prepare() expressions (mixture.cc); zero weights give h = -inf with ic = 1 (never NaN).
  void comp_params(size_t k, double a, double s, double* h, double* ic, double* g, double* ff) const {
    const double lw = lw_[k];
    if (lw == -kInf) {
      *h = -kInf;
      *ic = 1;
      *g = 0;
      *ff = 1;
      return;
    }
    const double a2 = a * a, s2 = s * s;
    const double v = variance_of(k);
    const double c = a2 * v + s2;
    *h = lw - 0.5 * (static_cast<double>(dim_) * (kLog2Pi + __builtin_log(c)));
    *ic = 1.0 / c;
    *g = a * v * *ic;
    // s^2 / C_k = 1 - a g_k, exactly 1 for zero variances (an empirical mean stays a point)
    *ff = v == 0 ? 1.0 : s2 * *ic;
  }

  // The constants of a shared level, [K] each, and a mu [K][dim]; cached by level.
  void shared_params(double a, double s) {
    if (key_valid_ && key_a_ == a && key_s_ == s) return;
    gmax_ = icmax_ = 0;
    for (size_t k = 0; k < K_; ++k) {
      comp_params(k, a, s, &h_[k], &ic_[k], &g_[k], &ff_[k]);
      if (h_[k] != -kInf) {
        gmax_ = max_d(gmax_, g_[k]);
        icmax_ = max_d(icmax_, ic_[k]);
      }
    }
    const size_t n = K_ * dim_;
    for (size_t i = 0; i < n; ++i) amu_[i] = a * mu_[i];
    if (cross()) {
      // The cross-term form of pair (x, k) passes its cancellation check (logs_cross) when
      // err_k = 0.5 ic_k chk (|x| + a |mu_k|)^2 <= 1e-13 (1 + |lw_k| + |h_k - lw_k|): for every k
      // when |x| <= xlim = min_k sqrt(bound_k / (0.5 ic_k chk)) - a |mu_k| (with a margin for
      // the rounding of this rearrangement).
      const double chk = 2 * __builtin_sqrt(static_cast<double>(dim_)) * 2 * kEps64;
      double lim = kInf;
      for (size_t k = 0; k < K_; ++k) {
        if (h_[k] == -kInf) continue;
        const double bound = 1e-13 * (1 + abs_d(lw_[k]) + abs_d(h_[k] - lw_[k]));
        lim = min_d(lim, __builtin_sqrt(bound / (0.5 * ic_[k] * chk)) * (1 - 1e-6) - a * mn_[k]);
      }
      xlim_ = lim;
    }
    key_valid_ = true;
    key_a_ = a;
    key_s_ = s;
  }

  // Per-lane constants [K][RN] of a tile with several levels.
  void lane_params(const double* av, const double* sv, size_t RN) {
    for (size_t r = 0; r < RN; ++r) {
      for (size_t k = 0; k < K_; ++k) {
        double h, ic, g, ff;
        comp_params(k, av[r], sv[r], &h, &ic, &g, &ff);
        ph_[k * RN + r] = h;
        pic_[k * RN + r] = ic;
        pg_[k * RN + r] = g;
        pff_[k * RN + r] = ff;
      }
    }
  }

  template <int kRV, int DIM, bool kU>
  void tile(size_t b0, size_t nr) {
    constexpr size_t RN = kRV * N;
    const size_t dim = DIM ? static_cast<size_t>(DIM) : dim_;
    const size_t K = K_;
    const MixtureLevels& lv = *p_.levels;
    size_t row[RN];  // the row of each lane; spare lanes repeat the first row and are never stored
    alignas(64) double av[RN], sv[RN];
    for (size_t r = 0; r < RN; ++r) row[r] = b0 + (r < nr ? r : 0);
    if (kU) {
      for (size_t r = 0; r < RN; ++r) {
        av[r] = key_a_;
        sv[r] = key_s_;
      }
    } else {
      for (size_t r = 0; r < RN; ++r) {
        av[r] = lv.alpha[row[r] * lv.alpha_stride];
        sv[r] = lv.sigma[row[r] * lv.sigma_stride];
      }
      lane_params(av, sv, RN);
    }
    // constants of component k for vector v: broadcast (shared level) or per lane
    auto H = [h = kU ? h_ : ph_](size_t k, int v) { return kU ? L::dset(h[k]) : L::dload(h + k * RN + v * N); };
    auto IC = [h = kU ? ic_ : pic_](size_t k, int v) { return kU ? L::dset(h[k]) : L::dload(h + k * RN + v * N); };
    auto G = [h = kU ? g_ : pg_](size_t k, int v) { return kU ? L::dset(h[k]) : L::dload(h + k * RN + v * N); };
    auto FF = [h = kU ? ff_ : pff_](size_t k, int v) { return kU ? L::dset(h[k]) : L::dload(h + k * RN + v * N); };

    // x in float64, [dim][RN] (whole tiles: blocks of N rows x N dims transposed in registers)
    double* X = xw_;
    if (nr == RN) {
      for (int v = 0; v < kRV; ++v) {
        const T* xv = p_.x + (b0 + v * N) * dim;
        size_t j = 0;
        for (; j + N <= dim; j += N) {
          D c[N];
          L::load_block(xv + j, dim, c);
          for (size_t u = 0; u < N; ++u) L::dstore(X + (j + u) * RN + v * N, c[u]);
        }
        for (; j < dim; ++j) L::dstore(X + j * RN + v * N, L::dgather(xv + j, dim));
      }
    } else {
      for (size_t j = 0; j < dim; ++j)
        for (size_t r = 0; r < RN; ++r) X[j * RN + r] = static_cast<double>(p_.x[row[r] * dim + j]);
    }
    auto XV = [&](size_t j, int v) { return L::dload(X + j * RN + v * N); };
    D A[kRV];
    for (int v = 0; v < kRV; ++v) A[v] = L::dload(av + v * N);

    // ---- A: log joint densities and their max per lane
    double* lt = lt_;  // [K][RN]
    D M[kRV];
    for (int v = 0; v < kRV; ++v) M[v] = L::dset(-kInf);
    if (DIM == 0 && cross()) {
      logs_cross<kRV, kU>(b0, nr, row, av, M);
    } else {
      for (size_t k = 0; k < K; ++k) {
        const double* ak = (kU ? amu_ : mu_) + k * dim;
        for (int v = 0; v < kRV; ++v) {
          // e_j = x_j - a mu_j: a mu_j rounded (precomputed when shared), then the difference
          auto E = [&](size_t j) {
            return kU ? L::dsub(XV(j, v), L::dset(ak[j])) : diff<L>(A[v], L::dset(ak[j]), XV(j, v));
          };
          D q;
          if (DIM != 0) {
            const D e0 = E(0);
            q = L::dmul(e0, e0);
            for (size_t j = 1; j < dim; ++j) {
              const D e = E(j);
              q = L::dfma(e, e, q);
            }
          } else {  // two chains (even, odd j)
            D s0 = L::dzero(), s1 = L::dzero();
            size_t j = 0;
            for (; j + 2 <= dim; j += 2) {
              const D e0 = E(j), e1 = E(j + 1);
              s0 = L::dfma(e0, e0, s0);
              s1 = L::dfma(e1, e1, s1);
            }
            if (j < dim) {
              const D e0 = E(j);
              s0 = L::dfma(e0, e0, s0);
            }
            q = L::dadd(s0, s1);
          }
          // h - 0.5 (q ic) as the scalar reference: -inf exactly where its q ic overflows
          const D l = L::dfnma(L::dmul(q, IC(k, v)), L::dset(0.5), H(k, v));
          L::dstore(lt + k * RN + v * N, l);
          M[v] = L::dmax(M[v], l);
        }
      }
    }

    // Rows whose quadratics all overflow (max -inf) go to the scalar reference; their lanes
    // compute with a stand-in max 0 and are never stored.
    unsigned dead = 0;  // bit r: lane r
    for (int v = 0; v < kRV; ++v) {
      const D isdead = L::dlt(M[v], L::dset(-__DBL_MAX__));
      dead |= static_cast<unsigned>(L::dle_mask(M[v], L::dset(-kInf))) << (v * N);
      M[v] = L::dandnot(isdead, M[v]);
    }
    unsigned live = (nr == RN ? ~0u : (1u << nr) - 1) & ~dead & ((RN == 32 ? 0u : 1u << RN) - 1);
    bool fallback = (dead & ((nr == RN ? 0u : 1u << nr) - 1)) != 0;
    alignas(64) double mx[RN];
    for (int v = 0; v < kRV; ++v) L::dstore(mx + v * N, M[v]);

    // ---- B: t_k = exp(l_k - m) (l_k - m kept in lt), S = sum_k t_k. The mean and score take
    // the components below e^kTinyLog of the max out of tt (zero there) and, where a lane has one
    // with t_k > 0, accumulate them in a second pass scaled by 2^900 (tiny_pass): their t_k may be
    // subnormal, and a multiply with a subnormal operand or result costs a microcode assist of
    // ~100 cycles. The responsibilities, entropy and variance take every t_k (tf).
    double* tt = tt_;  // [K][RN]
    const bool full = out_.responsibilities || out_.entropy || out_.variance;
    D S[kRV], Tiny[kRV];
    if (full) pass_b<kRV, true>(M, S, Tiny);
    else pass_b<kRV, false>(M, S, Tiny);
    bool any_tiny = false;
    alignas(64) double sums[RN];
    D Inv[kRV];
    for (int v = 0; v < kRV; ++v) {
      any_tiny = any_tiny || L::dany(Tiny[v]);
      L::dstore(sums + v * N, S[v]);
      Inv[v] = L::ddiv(L::dset(1.0), S[v]);
    }
    const bool want_mean = out_.mean || out_.variance;
    auto lane_ok = [&](size_t r) { return (live >> r & 1) != 0; };

    // ---- C: posterior mean and score (the same operations whatever else is requested), then
    // the responsibilities
    if (want_mean) {
      if (out_.score || DIM == 0) mean_pass<kRV, DIM, kU, true>(tt, S, Inv, dm_);
      else mean_pass<kRV, DIM, kU, false>(tt, S, Inv, dm_);
    } else if (out_.score) {
      normalise<kRV>(tt, S, Inv);
    }
    if (out_.score) score<kRV, kU>(A, tt, sc_);
    if (any_tiny && (want_mean || out_.score) && tiny_needed<kRV, DIM, kU>(Tiny, want_mean))
      tiny_pass<kRV, DIM, kU>(S, Tiny, A, want_mean);
    if (full) normalise<kRV>(tf_, S, Inv);
    tt = tf_;

    // Rows whose mean or score sums overflowed (a term beyond the double range) go to the
    // scalar reference as well: it sums such columns scaled (mixture.cc, sum_big_columns).
    if (want_mean || out_.score) {
      const D big = L::dset(__DBL_MAX__);
      constexpr unsigned kLanes = (1u << N) - 1;
      unsigned finite = ~0u;
      for (size_t j = 0; j < dim; ++j)
        for (int v = 0; v < kRV; ++v) {
          const size_t o = j * RN + v * N;
          unsigned f = kLanes;
          if (want_mean) f &= static_cast<unsigned>(L::dle_mask(L::dabs(L::dload(dm_ + o)), big));
          if (out_.score) f &= static_cast<unsigned>(L::dle_mask(L::dabs(L::dload(sc_ + o)), big));
          finite &= ~((kLanes & ~f) << (v * N));
        }
      const unsigned bad = live & ~finite;
      if (bad) {
        live &= ~bad;
        dead |= bad;
        fallback = true;
      }
    }

    if (out_.responsibilities) {
      for (size_t r = 0; r < nr; ++r) {
        if (!lane_ok(r)) continue;
        T* o = out_.responsibilities + (b0 + r) * K;
        for (size_t k = 0; k < K; ++k) o[k] = static_cast<T>(tt[k * RN + r]);
      }
    }
    if (out_.log_density || out_.entropy) {
      for (size_t r = 0; r < nr; ++r) {
        if (!lane_ok(r)) continue;
        const double ls = __builtin_log(sums[r]);
        if (out_.log_density) out_.log_density[b0 + r] = static_cast<T>(mx[r] + ls);
        if (out_.entropy) {
          double Hs = 0;
          for (size_t k = 0; k < K; ++k) {
            const double rk = tt[k * RN + r];
            if (rk > 0) Hs -= rk * (lt[k * RN + r] - ls);
          }
          out_.entropy[b0 + r] = static_cast<T>(Hs);
        }
      }
    }
    if (out_.mean) write_rows<RN>(out_.mean + b0 * dim, dm_, dim, nr, live, 1.0);
    if (out_.score) write_rows<RN>(out_.score + b0 * dim, sc_, dim, nr, live, -1.0);
    if (out_.variance) {
      // sum_k r_k (tr V_k + sum_j (m_kj - D_j)^2) / dim, m_kj = (s^2 / C_k) mu_kj + g_k x_j
      alignas(64) double s2v[RN], col[RN];
      for (size_t r = 0; r < RN; ++r) s2v[r] = sv[r] * sv[r];
      const D nd = L::dset(static_cast<double>(dim));
      for (int v = 0; v < kRV; ++v) {
        const D S2 = L::dload(s2v + v * N);
        D tot = L::dzero();
        for (size_t k = 0; k < K; ++k) {
          const D r = L::dload(tt + k * RN + v * N);
          const D ff = FF(k, v), g = G(k, v);
          const double* mk = mu_ + k * dim;
          D d2 = L::dzero();
          for (size_t j = 0; j < dim; ++j) {
            const D d = L::dsub(L::dfma(ff, L::dset(mk[j]), L::dmul(g, XV(j, v))), L::dload(dm_ + j * RN + v * N));
            d2 = L::dfma(d, d, d2);
          }
          const D trv = L::dmul(nd, L::dmul(L::dmul(L::dset(variance_of(k)), S2), IC(k, v)));
          tot = L::dadd(tot, L::dkeep_pos(r, L::dmul(r, L::dadd(trv, d2))));  // r_k = 0 adds exactly 0
        }
        L::dstore(col + v * N, L::ddiv(tot, nd));
      }
      for (size_t r = 0; r < nr; ++r)
        if (lane_ok(r)) out_.variance[b0 + r] = static_cast<T>(col[r]);
    }
    if (fallback) {
      for (size_t r = 0; r < nr; ++r)
        if (dead >> r & 1) p_.scalar_row.fn(p_.scalar_row.self, b0 + r, p_.scalar_workspace);
    }
  }

  // Pass B over the tile: d = l_k - m (kept in lt), t_k = exp(d); tt gets t_k where
  // d > kTinyLog, else 0, and S = sum of those (the terms left out are below 2^-894 while S >= 1:
  // S moves by an ulp at most, in a rounding tie); a lane is marked in Tiny when it has
  // some -746 < d <= kTinyLog (t_k may be > 0 there: tiny_pass). With kFull every t_k goes to tf
  // as well (the responsibilities, entropy and variance take them all).
  template <int kRV, bool kFull>
  void pass_b(const D* Mp, D* Sp, D* Tinyp) {
    constexpr size_t RN = kRV * N;
    D M[kRV], S[kRV], Tiny[kRV];  // locals: kept in registers (the vector stores below may alias anything)
    for (int v = 0; v < kRV; ++v) M[v] = Mp[v];
    double* lt = lt_;
    double* tt = tt_;
    double* tf = tf_;
    double* ts = ts_;
    const D cut = L::dset(kTinyLog), low = L::dset(-746.0);
    const size_t K = K_;
    for (int v = 0; v < kRV; ++v) S[v] = Tiny[v] = L::dzero();
    // one row vector at a time (the exps of successive components overlap; fewer live registers)
    for (int v = 0; v < kRV; ++v) {
      for (size_t k = 0; k < K; ++k) {
        const size_t o = k * RN + v * N;
        const D d = L::dsub(L::dload(lt + o), M[v]);
        L::dstore(lt + o, d);
        D sc;
        const D big = L::dlt(cut, d);
        const D e = L::dand(big, vexp_normal<L>(d, &sc));
        S[v] = L::dadd(S[v], e);
        L::dstore(tt + o, e);
        L::dstore(ts + o, sc);
        Tiny[v] = L::dor(Tiny[v], L::dandnot(big, L::dlt(low, d)));
        if (kFull) L::dstore(tf + o, vexp_nonpositive<L>(d));
      }
    }
    for (int v = 0; v < kRV; ++v) {
      Sp[v] = S[v];
      Tinyp[v] = Tiny[v];
    }
  }

  // out[r * dim + j] = T(sign * buf[j][r]) for the live lanes r of a tile (buf [dim][RN]);
  // whole tiles by blocks of N rows x N (or 2) columns transposed in registers.
  template <size_t RN>
  void write_rows(T* out, const double* buf, size_t dim, size_t nr, unsigned live, double sign) const {
    if (nr == RN && live == ((RN == 32 ? 0u : 1u << RN) - 1)) {
      const D sg = L::dset(sign);
      for (size_t r0 = 0; r0 < RN; r0 += N) {
        T* o = out + r0 * dim;
        size_t j = 0;
        D c[N];
        for (; j + N <= dim; j += N) {
          for (size_t u = 0; u < N; ++u) c[u] = L::dmul(sg, L::dload(buf + (j + u) * RN + r0));
          L::store_block(o + j, dim, c);
        }
        if (N > 2 && j + 2 <= dim) {
          for (size_t u = 0; u < 2; ++u) c[u] = L::dmul(sg, L::dload(buf + (j + u) * RN + r0));
          L::store_block2(o + j, dim, c);
          j += 2;
        }
        for (; j < dim; ++j)
          for (size_t r = 0; r < N; ++r) o[r * dim + j] = static_cast<T>(sign * buf[j * RN + r0 + r]);
      }
      return;
    }
    for (size_t r = 0; r < nr; ++r) {
      if (!(live >> r & 1)) continue;
      for (size_t j = 0; j < dim; ++j) out[r * dim + j] = static_cast<T>(sign * buf[j * RN + r]);
    }
  }

  // r_k = t_k / S; with more than two components t_k times 1 / S (one more rounding, well
  // inside the tolerance).
  template <int kRV, bool kDivide>
  static D resp(const double* t, size_t k, int v, const D* S, const D* Inv) {
    const D x = L::dload(t + k * kRV * N + v * N);
    return kDivide ? L::ddiv(x, S[v]) : L::dmul(x, Inv[v]);
  }

  template <int kRV>
  void normalise(double* t, const D* S, const D* Inv) const {
    const size_t K = K_;
    if (K <= 2) {
      for (size_t k = 0; k < K; ++k)
        for (int v = 0; v < kRV; ++v) L::dstore(t + k * kRV * N + v * N, resp<kRV, true>(t, k, v, S, Inv));
    } else {
      for (size_t k = 0; k < K; ++k)
        for (int v = 0; v < kRV; ++v) L::dstore(t + k * kRV * N + v * N, resp<kRV, false>(t, k, v, S, Inv));
    }
  }

  // The posterior mean from the weights t [K][RN] (normalised in place when keep_r):
  // out[j][v] = sum_k (r_k s^2 / C_k) mu_kj + (sum_k r_k g_k) x_j. Fixed dims: in registers,
  // two row vectors at a time; otherwise the weights r_k s^2 / C_k [K][RN] and a blocked product.
  template <int kRV, int DIM, bool kU, bool keep_r>
  void mean_pass(double* t, const D* S, const D* Inv, double* out) {
    if (K_ <= 2) mean_pass<kRV, DIM, kU, keep_r, true>(t, S, Inv, out);
    else mean_pass<kRV, DIM, kU, keep_r, false>(t, S, Inv, out);
  }

  template <int kRV, int DIM, bool kU, bool keep_r, bool kDivide>
  void mean_pass(double* t, const D* S, const D* Inv, double* out) {
    constexpr size_t RN = kRV * N;
    const size_t K = K_;
    auto G = [h = kU ? g_ : pg_](size_t k, int v) { return kU ? L::dset(h[k]) : L::dload(h + k * RN + v * N); };
    auto FF = [h = kU ? ff_ : pff_](size_t k, int v) { return kU ? L::dset(h[k]) : L::dload(h + k * RN + v * N); };
    if (DIM != 0) {
      constexpr size_t dim = DIM ? static_cast<size_t>(DIM) : 1;
      constexpr int VB = 2;
      for (int v0 = 0; v0 < kRV; v0 += VB) {
        D acc[dim][VB], cg[VB];
        for (int u = 0; u < VB; ++u) {
          cg[u] = L::dzero();
          for (size_t j = 0; j < dim; ++j) acc[j][u] = L::dzero();
        }
        const double* const mu = mu_;
        for (size_t k = 0; k < K; ++k) {
          const double* mk = mu + k * dim;
          for (int u = 0; u < VB; ++u) {
            const int v = v0 + u;
            const D r = resp<kRV, kDivide>(t, k, v, S, Inv);
            if (keep_r) L::dstore(t + k * RN + v * N, r);
            const D w = L::dmul(r, FF(k, v));
            for (size_t j = 0; j < dim; ++j) acc[j][u] = L::dfma(w, L::dset(mk[j]), acc[j][u]);
            cg[u] = L::dfma(r, G(k, v), cg[u]);
          }
        }
        const double* const xw = xw_;
        for (int u = 0; u < VB; ++u) {
          const int v = v0 + u;
          for (size_t j = 0; j < dim; ++j) {
            const size_t o = j * RN + v * N;
            L::dstore(out + o, L::dfma(cg[u], L::dload(xw + o), acc[j][u]));
          }
        }
      }
      return;
    }
    D cg[kRV];
    double* const wm = wm_;
    for (int v = 0; v < kRV; ++v) cg[v] = L::dzero();
    for (size_t k = 0; k < K; ++k) {
      for (int v = 0; v < kRV; ++v) {
        const D r = resp<kRV, kDivide>(t, k, v, S, Inv);
        L::dstore(t + k * RN + v * N, r);
        L::dstore(wm + k * RN + v * N, L::dmul(r, FF(k, v)));
        cg[v] = L::dfma(r, G(k, v), cg[v]);
      }
    }
    wsum<kRV>(cg, out);
  }

  // Whether tiny_pass can change any output of the tile. Its sum over the components left out
  // (r_k < 2^-894) is bounded per lane by K (2^-894 max_k |m_kj| + 2^-1074) for the mean (the
  // 2^-1074: its rounding of each term to the subnormal grid), with |m_kj| <= |mu| + g (|x| +
  // a |mu|), and K (2^-894 (|x| + a |mu|) / C + 2^-1074) for the score. Where that is below half
  // an ulp of every main sum (at least |out| 2^-53), out + sum 2^-900 rounds to out: the same
  // bits without the pass (the bound is taken with a margin of 2x for its own rounding). Shared
  // levels only.
  template <int kRV, int DIM, bool kU>
  bool tiny_needed(D* Tiny, bool want_mean) const {
    if (!kU || (g_test_flags & 1)) return true;
    constexpr size_t RN = kRV * N;
    const size_t dim = DIM ? static_cast<size_t>(DIM) : dim_;
    const double Kd = static_cast<double>(K_), am = key_a_ * mumax_;
    bool any = false;
    for (int v = 0; v < kRV; ++v) {
      if (!L::dany(Tiny[v])) continue;
      D xm = L::dzero(), dmin = L::dset(kInf), smin = L::dset(kInf);
      for (size_t j = 0; j < dim; ++j) {
        const size_t o = j * RN + v * N;
        xm = L::dmax(xm, L::dabs(L::dload(xw_ + o)));
        if (want_mean) dmin = L::dmin(dmin, L::dabs(L::dload(dm_ + o)));
        if (out_.score) smin = L::dmin(smin, L::dabs(L::dload(sc_ + o)));
      }
      const D ex = L::dadd(xm, L::dset(am));  // bounds |x_j - a mu_kj|
      // In units of 2^-894 (no subnormal intermediate: each costs an assist): the grid term
      // K 2^-1074 is covered by K 2^-128, and |out| 2^-54 is |out| 2^840.
      const D up = L::dset(0x1p840), grid = L::dset(Kd * 0x1p-128);
      // safe where bound < |out| 2^-54 (false for a NaN or infinite bound)
      D safe = L::dlt(L::dzero(), L::dset(1.0));  // all lanes
      if (want_mean) {
        const D bm = L::dfma(L::dset(Kd), L::dfma(L::dset(gmax_), ex, L::dset(mumax_)), grid);
        safe = L::dand(safe, L::dlt(bm, L::dmul(dmin, up)));
      }
      if (out_.score) {
        const D bs = L::dfma(L::dset(Kd * icmax_), ex, grid);
        safe = L::dand(safe, L::dlt(bs, L::dmul(smin, up)));
      }
      const D need = L::dandnot(safe, L::dlt(L::dzero(), L::dset(1.0)));
      Tiny[v] = L::dand(Tiny[v], need);
      any = any || L::dany(Tiny[v]);
    }
    return any;
  }

  // The components left out of tt by pass B (0 < t_k, l_k - m <= kTinyLog), by the scalar
  // reference's own arithmetic in a domain scaled by 2^900, where it involves no subnormal
  // number: t_k and r_k = t_k / S rounded to the (scaled) subnormal grid as the reference's exp
  // and division round them, each term r_k (mu_kj + g_k e_kj) and r_k (e_kj / C_k) rounded as
  // the reference's products, summed in k order; then out += that sum 2^-900 by one fused
  // multiply-add, in the lanes that have any. (Where r_k is subnormal the reference keeps only
  // a few of its bits, and the score multiplies that rounding by |e| / C: an exact sum would
  // differ from the reference by more than the twin rule allows.)
  template <int kRV, int DIM, bool kU>
  void tiny_pass(const D* S, const D* Tiny, const D* A, bool want_mean) {
    constexpr size_t RN = kRV * N;
    const size_t dim = DIM ? static_cast<size_t>(DIM) : dim_;
    const D cut = L::dset(kTinyLog), low = L::dset(-746.0);
    const D grid = L::dset(0x1p-122), sign = L::dset(-0.0);
    // |p| < 2^-122 (a subnormal, scaled) rounded to a multiple of 2^-174 (the subnormal spacing,
    // scaled), to nearest, ties to even: p + copysign(2^-122, p) has that spacing.
    auto ground = [&](D p) {
      const D c = L::dor(L::dand(p, sign), grid);
      const D small = L::dlt(L::dabs(p), grid);
      return L::dor(L::dand(small, L::dsub(L::dadd(p, c), c)), L::dandnot(small, p));
    };
    for (size_t i = 0; i < dim * RN; ++i) dmt_[i] = sct_[i] = 0;
    for (size_t k = 0; k < K_; ++k) {
      const double* mk = mu_ + k * dim;
      const double* ak = (kU ? amu_ : mu_) + k * dim;
      for (int v = 0; v < kRV; ++v) {
        const size_t ko = k * RN + v * N;
        const D d = L::dload(lt_ + ko);
        const D tiny = L::dandnot(L::dlt(cut, d), L::dlt(low, d));
        if (!L::dany(tiny)) continue;
        // t_k > 0 there: exp(d) rounds to 0 only below -745.13 (and then so does its scaled form
        // rounded to the scaled subnormal grid)
        const D r = ground(L::ddiv(L::dand(tiny, ground(L::dload(ts_ + ko))), S[v]));
        const D g = kU ? L::dset(g_[k]) : L::dload(pg_ + k * RN + v * N);
        const D ic = kU ? L::dset(ic_[k]) : L::dload(pic_ + k * RN + v * N);
        for (size_t j = 0; j < dim; ++j) {
          const size_t o = j * RN + v * N;
          const D x = L::dload(xw_ + o);
          const D ej = kU ? L::dsub(x, L::dset(ak[j])) : diff<L>(A[v], L::dset(ak[j]), x);
          if (want_mean) {
            const D m = L::dadd(L::dset(mk[j]), L::dmul(g, ej));
            L::dstore(dmt_ + o, L::dadd(L::dload(dmt_ + o), ground(L::dmul(r, m))));
          }
          // masked after the product: a lane with r = 0 may have an overflowing e / C (0 * inf)
          if (out_.score) L::dstore(sct_ + o, L::dadd(L::dload(sct_ + o), ground(L::dand(tiny, L::dmul(r, L::dmul(ej, ic))))));
        }
      }
    }
    const D down = L::dset(0x1p-900);
    for (int v = 0; v < kRV; ++v) {
      for (size_t j = 0; j < dim; ++j) {
        const size_t o = j * RN + v * N;
        if (want_mean) {
          const D m = L::dload(dm_ + o);
          L::dstore(dm_ + o, L::dor(L::dand(Tiny[v], L::dfma(L::dload(dmt_ + o), down, m)), L::dandnot(Tiny[v], m)));
        }
        if (out_.score) {
          const D c = L::dload(sc_ + o);
          L::dstore(sc_ + o, L::dor(L::dand(Tiny[v], L::dfma(L::dload(sct_ + o), down, c)), L::dandnot(Tiny[v], c)));
        }
      }
    }
  }

  // Pass A in the cross-term form (runtime dim >= kSmallCrossMinDim): l_k from |x|^2 -
  // 2a x.mu_k + a^2 |mu_k|^2 where it cannot cancel beyond the tolerance, else (per lane) the
  // direct difference as the twin computes it.
  template <int kRV, bool kU>
  void logs_cross(size_t b0, size_t nr, const size_t* row, const double* av, D* Mp) {
    constexpr size_t RN = kRV * N;
    const size_t dim = dim_, K = K_;
    const double* X = xw_;
    auto H = [h = kU ? h_ : ph_](size_t k, int v) { return kU ? L::dset(h[k]) : L::dload(h + k * RN + v * N); };
    auto IC = [h = kU ? ic_ : pic_](size_t k, int v) { return kU ? L::dset(h[k]) : L::dload(h + k * RN + v * N); };
    D A[kRV], A2[kRV], AA[kRV], XX[kRV], XN[kRV], M[kRV];
    for (int v = 0; v < kRV; ++v) {
      M[v] = Mp[v];
      A[v] = L::dload(av + v * N);
      A2[v] = L::dadd(A[v], A[v]);
      AA[v] = L::dmul(A[v], A[v]);
      XX[v] = L::dzero();
    }
    for (size_t j = 0; j < dim; ++j)
      for (int v = 0; v < kRV; ++v) {
        const D x = L::dload(X + j * RN + v * N);
        XX[v] = L::dfma(x, x, XX[v]);
      }
    for (int v = 0; v < kRV; ++v) XN[v] = L::dsqrt(XX[v]);
    // The per-pair check below is skipped when a bound over the whole tile passes it:
    // err_k <= 0.5 ic_k chk (xn_max + a |mu_k|)^2 and mag_k >= |lw_k| + |h_k - lw_k|.
    // The per-pair check below is skipped when the tile's largest |x| is within the shared
    // level's limit (shared_params): then every pair passes it.
    bool check = true;
    if (kU) {
      alignas(64) double xb[RN];
      double xnmax = 0;
      for (int v = 0; v < kRV; ++v) L::dstore(xb + v * N, XN[v]);
      for (size_t r = 0; r < RN; ++r) xnmax = max_d(xnmax, xb[r]);
      check = !(xnmax <= xlim_);
    }
    double* const lt = lt_;
    const double* const mm = mm_;
    const double* const mn = mn_;
    const double* const lws = lw_;
    const double* const mus = mu_;
    const D half = L::dset(0.5), ninf = L::dset(-kInf), tiny = L::dset(1e-13), one = L::dset(1.0);
    const D chk = L::dset(2 * __builtin_sqrt(static_cast<double>(dim)) * 2 * kEps64);
    // cross terms x.mu_k, four components at a time (each x load feeds four FMAs); each pair
    // is one FMA chain over j in order, whatever block it is computed in
    D dots[4][kRV];
    // (blocks of 8 / kRV components: kRV x that accumulators stay in registers)
    constexpr size_t KB = kRV >= 4 ? 2 : 4;
    for (size_t k0 = 0; k0 < K; k0 += KB) {
      const size_t nk = min_sz(KB, K - k0);
      if (nk == 4) small_dots<KB == 4 ? 4 : 1, kRV>(k0, dots);
      else if (nk == 3) small_dots<KB == 4 ? 3 : 1, kRV>(k0, dots);
      else if (nk == 2) small_dots<2, kRV>(k0, dots);
      else small_dots<1, kRV>(k0, dots);
      for (size_t k = k0; k < k0 + nk; ++k) {
        const double* mk = mus + k * dim;
        for (int v = 0; v < kRV; ++v) {
          const D q = L::dadd(L::dsub(XX[v], L::dmul(A2[v], dots[k - k0][v])), L::dmul(AA[v], L::dset(mm[k])));
          const D h = H(k, v), ic = IC(k, v);
          D l = L::dfnma(L::dmul(q, ic), half, h);
          if (check) {
            const D big = L::dfma(A[v], L::dset(mn[k]), XN[v]);
            const D err = L::dmul(L::dmul(L::dmul(half, ic), chk), L::dmul(big, big));
            const D lw = L::dset(lws[k]);
            const D mag = L::dadd(L::dadd(L::dabs(lw), L::dabs(L::dsub(h, lw))),
                                  L::dmul(L::dmul(half, ic), L::dmax(q, L::dzero())));
            // (the bound capped at the largest double: where err and mag both overflow, the
            // cross form's cancellation is unbounded, fuzz finding
            // responsibility-sse2-small-tile-near-overflow)
            const D bound = L::dmin(L::dmul(tiny, L::dadd(one, mag)), L::dset(__DBL_MAX__));
            const int ok = L::dle_mask(err, bound) | L::deq_mask(h, ninf);
            if (ok != (1 << N) - 1) {
              alignas(64) double lb[N], hb[N], ib[N];
              L::dstore(lb, l);
              L::dstore(hb, h);
              L::dstore(ib, ic);
              for (size_t c = 0; c < N; ++c) {
                if (ok >> c & 1) continue;
                const size_t rw = row[v * N + c];
                const double a = av[v * N + c];
                double qd = 0;
                for (size_t jj = 0; jj < dim; ++jj) {
                  const double e = static_cast<double>(p_.x[rw * dim + jj]) - a * mk[jj];
                  qd = qd + e * e;
                }
                lb[c] = hb[c] - 0.5 * (qd * ib[c]);
              }
              l = L::dload(lb);
            }
          }
          L::dstore(lt + k * RN + v * N, l);
          M[v] = L::dmax(M[v], l);
        }
      }
    }
    for (int v = 0; v < kRV; ++v) Mp[v] = M[v];
    (void)b0;
    (void)nr;
  }

  // dots[c][v] = sum_j x_j mu_{k0 + c, j}, one FMA chain per pair, j in order.
  template <int NK, int kRV>
  void small_dots(size_t k0, D (*dots)[kRV]) const {
    constexpr size_t RN = kRV * N;
    D acc[NK][kRV];
    for (int c = 0; c < NK; ++c)
      for (int v = 0; v < kRV; ++v) acc[c][v] = L::dzero();
    const size_t dim = dim_;
    const double* const m = mu_ + k0 * dim;
    const double* const xw = xw_;
    for (size_t j = 0; j < dim; ++j) {
      D x[kRV];
      for (int v = 0; v < kRV; ++v) x[v] = L::dload(xw + j * RN + v * N);
      for (int c = 0; c < NK; ++c) {
        const D b = L::dset(m[c * dim + j]);
        for (int v = 0; v < kRV; ++v) acc[c][v] = L::dfma(x[v], b, acc[c][v]);
      }
    }
    for (int c = 0; c < NK; ++c)
      for (int v = 0; v < kRV; ++v) dots[c][v] = acc[c][v];
  }

  // out[j][v] = sum_k wm[k][v] mu_kj (k sequential) + cg[v] x_j, dimensions in register blocks.
  template <int JB, int kRV>
  void wsum_block(size_t j0, const D* cg, double* out) {
    constexpr size_t RN = kRV * N;
    D acc[JB][kRV];
    for (int u = 0; u < JB; ++u)
      for (int v = 0; v < kRV; ++v) acc[u][v] = L::dzero();
    const double* mk = mu_ + j0;
    const double* const wm = wm_;
    const double* const xw = xw_;
    const size_t K = K_, dim = dim_;
    for (size_t k = 0; k < K; ++k, mk += dim) {
      D wk[kRV];
      for (int v = 0; v < kRV; ++v) wk[v] = L::dload(wm + k * RN + v * N);
      for (int u = 0; u < JB; ++u) {
        const D m = L::dset(mk[u]);
        for (int v = 0; v < kRV; ++v) acc[u][v] = L::dfma(wk[v], m, acc[u][v]);
      }
    }
    for (int u = 0; u < JB; ++u)
      for (int v = 0; v < kRV; ++v) {
        const size_t o = (j0 + u) * RN + v * N;
        L::dstore(out + o, L::dfma(cg[v], L::dload(xw + o), acc[u][v]));
      }
  }

  template <int kRV>
  void wsum(const D* cg, double* out) {
    size_t j = 0;
    constexpr int JB = kRV >= 4 ? 2 : 4;  // kRV x JB accumulators in registers
    for (; j + JB <= dim_; j += JB) wsum_block<JB, kRV>(j, cg, out);
    for (; j < dim_; ++j) wsum_block<1, kRV>(j, cg, out);
  }

  // out[j][v] = sum_k r[k][v] ((x_j - a mu_kj) / C_k), k sequential (the score's negative; the
  // twin's form: the product form a sum_k (r_k / C_k) mu_kj - (sum_k r_k / C_k) x_j can
  // overflow where this does not). Components with r_k = 0 add nothing, as in the twin, even
  // where (x_j - a mu_kj) / C_k overflows (fuzz finding score-nan-small-tile-zero-r).
  template <int JB, int kRV, bool kU>
  void score_block(const D* A, const double* r, size_t j0, double* out) {
    constexpr size_t RN = kRV * N;
    D acc[JB][kRV];
    for (int u = 0; u < JB; ++u)
      for (int v = 0; v < kRV; ++v) acc[u][v] = L::dzero();
    for (size_t k = 0; k < K_; ++k) {
      const double* mk = (kU ? amu_ : mu_) + k * dim_ + j0;
      D rk[kRV], ic[kRV], live[kRV];
      for (int v = 0; v < kRV; ++v) {
        rk[v] = L::dload(r + k * RN + v * N);
        ic[v] = kU ? L::dset(ic_[k]) : L::dload(pic_ + k * RN + v * N);
        live[v] = L::dlt(L::dzero(), rk[v]);
      }
      for (int u = 0; u < JB; ++u) {
        const D m = L::dset(mk[u]);
        for (int v = 0; v < kRV; ++v) {
          const D x = L::dload(xw_ + (j0 + u) * RN + v * N);
          const D e = kU ? L::dsub(x, m) : diff<L>(A[v], m, x);
          acc[u][v] = L::dfma(rk[v], L::dand(live[v], L::dmul(e, ic[v])), acc[u][v]);
        }
      }
    }
    for (int u = 0; u < JB; ++u)
      for (int v = 0; v < kRV; ++v) L::dstore(out + (j0 + u) * RN + v * N, acc[u][v]);
  }

  template <int kRV, bool kU>
  void score(const D* A, const double* r, double* out) {
    size_t j = 0;
    constexpr int JB = kRV >= 4 ? 2 : 4;
    for (; j + JB <= dim_; j += JB) score_block<JB, kRV, kU>(A, r, j, out);
    for (; j < dim_; ++j) score_block<1, kRV, kU>(A, r, j, out);
  }

  const MixturePart<T>& p_;
  const SmallLayout& lay_;
  const MixtureOutputs<T>& out_;
  size_t K_, dim_, vstride_;
  const double* mu_;
  const double* var_;
  const double* lw_;
  double *lt_, *tt_, *tf_, *ts_, *wm_, *ph_, *pic_, *pg_, *pff_, *h_, *ic_, *g_, *ff_, *amu_, *mm_, *mn_, *xw_,
      *dm_, *sc_, *dmt_, *sct_;
  bool key_valid_ = false;
  double key_a_ = 0, key_s_ = 0, xlim_ = 0;
  double mumax_ = 0, gmax_ = 0, icmax_ = 0;  // max |mu_kj|; max g_k and 1 / C_k of the shared level
};

template <class L, typename T>
void small_rows(const MixturePart<T>& part, const SmallLayout& lay) {
  SmallKernel<L, T> kernel(part, lay);
  kernel.run();
}

}  // namespace mixlanes
}  // namespace
}  // namespace tweedie

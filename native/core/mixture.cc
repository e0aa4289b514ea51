// The mixture posterior: the scalar reference kernel (see mixture.h for the formulas), used at
// SIMD level "scalar", and the dispatch to the vector path of the active SIMD level
// (native/core/simd/mixture_kernels.h; tolerance tier, checked against this reference by
// native/test/mixture_test.cc). Every expression of the scalar kernel has a twin in
// src/js/mixture.ts with the same operands in the same order; only exp and log may differ (by an
// ulp) between the two languages.
#include "mixture.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>

#include "kernels.h"
#include "parallel.h"
#include "simd/mixture_kernels.h"

namespace tweedie {
namespace {

constexpr double kLog2Pi = 1.8378770664093454835606594728112;  // log(2 pi)
constexpr double kInf = std::numeric_limits<double>::infinity();
// Rows of less work than this (K * dim multiply-adds) share a part: waking threads costs more.
constexpr size_t kMinWorkPerPart = 1 << 16;
// The same for the vector path, which does that work several times faster.
constexpr size_t kMinVectorWorkPerPart = 1 << 18;
// Paths that take rows in dynamic chunks (MixtureVectorTable::dynamic_split, the rows-in-lanes
// kernel): at least this much work per part (about 70 us: waking a thread and sharing the rows
// costs more below; 1024 x 8 x 2 is one part), about this many chunks per part, of at least
// this much work (and whole 16-row tiles).
constexpr size_t kMinDynamicWorkPerPart = 1 << 21;
constexpr size_t kChunksPerPart = 8;
constexpr size_t kMinChunkWork = 1 << 16;
// Calls of at most this many rows per part that the float32 screen takes in one chunk are
// split cooperatively (MixturePart::coop_phase): the parts share the components for the
// screen, each streaming its share of the means once, rather than the rows, each streaming all
// the means (and packing them) for a few rows (64 x 10000 x 3072 float32 at 2 threads: 136 ->
// 86 ms of CPU a call; at 128 rows a part, 256 x 1024 x 3072, it was slower: 41 -> 49 ms). With
// one part it is the same work as one chunk, and checks the means (check_means) as it packs them.
constexpr size_t kCoopMaxRowsPerPart = 64;

bool mul_ok(size_t a, size_t b, size_t* out) { return !__builtin_mul_overflow(a, b, out); }
bool add_ok(size_t a, size_t b, size_t* out) { return !__builtin_add_overflow(a, b, out); }

// Doubles one part needs: l, r, h, ic, g (K each) and acc_mean, acc_score, xr, big_mean,
// big_score (dim each).
bool part_doubles(size_t components, size_t dim, size_t* n) {
  size_t a, b;
  return mul_ok(components, 5, &a) && mul_ok(dim, 5, &b) && add_ok(a, b, n);
}

// Columns whose sums overflow are summed again scaled by 2^-1040, as two exact multiplications
// by 2^-520 (2^1040 is not a double), with x - alpha mu formed from scaled operands (alpha mu
// may overflow itself). A mean term is then below 2^993 (|gain (x - alpha mu)| <= gain |x| +
// |mu|, gain < 2^1008 as sigma >= 1e-150); a scaled score term overflows only where the true
// one is beyond 2^2064.
constexpr double kDown = 0x1p-520;
constexpr double kUp = 0x1p520;
inline double scale_down(double v) { return v * kDown * kDown; }
inline double scale_up(double v) { return v * kUp * kUp; }

struct Workspace {
  double* l;          // l_k - m after pass 1
  double* r;          // responsibilities (float64)
  double* h;          // log w_k - 1/2 log det(2 pi C_k) at the cached level
  double* ic;         // 1 / C_k (isotropic components)
  double* g;          // gain alpha v_k / C_k (isotropic components)
  double* acc_mean;   // sum_k r_k m_kj
  double* acc_score;  // sum_k r_k u_kj
  double* xr;         // the row in float64
  double* big_mean;   // column j's mean sum scaled by 2^-1040 when it overflowed, else NaN
  double* big_score;  // the same for the score
  bool cached;
  double cached_alpha, cached_sigma;
};

// A part's workspace in `base` (part_doubles of them).
Workspace carve_workspace(double* base, size_t K, size_t dim) {
  Workspace w;
  w.l = base;
  w.r = w.l + K;
  w.h = w.r + K;
  w.ic = w.h + K;
  w.g = w.ic + K;
  w.acc_mean = w.g + K;
  w.acc_score = w.acc_mean + dim;
  w.xr = w.acc_score + dim;
  w.big_mean = w.xr + dim;
  w.big_score = w.big_mean + dim;
  w.cached = false;
  w.cached_alpha = w.cached_sigma = 0;
  return w;
}

class Kernel {
 public:
  explicit Kernel(const MixtureModel& m)
      : K_(m.components), dim_(m.dim), means_(m.means), var_(m.variances), lw_(m.log_weights) {
    diag_ = m.variances_length == K_ * dim_;
    vstride_ = (!diag_ && m.variances_length == K_) ? 1 : 0;
  }

  // The level-dependent constants; a pure function of (alpha, sigma), so reusing them across
  // rows changes no result.
  void prepare(double a, double s, Workspace& w) const {
    const double a2 = a * a, s2 = s * s;
    for (size_t k = 0; k < K_; ++k) {
      const double lw = lw_[k];
      if (lw == -kInf) {
        w.h[k] = -kInf;
        continue;
      }
      if (diag_) {
        const double* v = var_ + k * dim_;
        double sumlog = 0;
        for (size_t j = 0; j < dim_; ++j) {
          const double c = a2 * v[j] + s2;
          sumlog += std::log(c);
        }
        w.h[k] = lw - 0.5 * (static_cast<double>(dim_) * kLog2Pi + sumlog);
      } else {
        const double v = var_[k * vstride_];
        const double c = a2 * v + s2;
        w.h[k] = lw - 0.5 * (static_cast<double>(dim_) * (kLog2Pi + std::log(c)));
        w.ic[k] = 1.0 / c;
        w.g[k] = a * v * w.ic[k];
      }
    }
    w.cached = true;
    w.cached_alpha = a;
    w.cached_sigma = s;
  }

  // log q_k = log sum_j e_j^2 / C_j for the overflow fallback, by a streaming log-sum-exp of
  // 2 log|e_j| - log C_j, so that it is finite (and ordered right) where q_k overflows.
  double log_quadratic(size_t k, double a, double a2, double s2, const Workspace& w) const {
    const double* mu = means_ + k * dim_;
    const double* v = var_ + (diag_ ? k * dim_ : k * vstride_);
    double mx = -kInf, sum = 0;
    for (size_t j = 0; j < dim_; ++j) {
      const double e = w.xr[j] - a * mu[j];
      const double c = a2 * v[diag_ ? j : 0] + s2;
      const double t = 2.0 * std::log(std::fabs(e)) - std::log(c);
      if (t == -kInf) continue;
      if (t > mx) {
        sum = sum * std::exp(mx - t) + 1.0;
        mx = t;
      } else {
        sum += std::exp(t - mx);
      }
    }
    return mx + std::log(sum);
  }

  // Pass 2 again for the columns whose mean or score sum overflowed (fuzz finding
  // variance-nan-mean-overflow): a component's term beyond the double range, or +inf and -inf
  // from two components. Summed scaled (scale_down), only a true value beyond the range
  // overflows, and the variance gets m_kj - D_j from the scaled sums instead of inf - inf.
  void sum_big_columns(double a, double a2, double s2, Workspace& w) const {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    for (size_t j = 0; j < dim_; ++j) {
      w.big_mean[j] = std::isfinite(w.acc_mean[j]) ? kNaN : 0.0;
      w.big_score[j] = std::isfinite(w.acc_score[j]) ? kNaN : 0.0;
    }
    for (size_t k = 0; k < K_; ++k) {
      const double rk = w.r[k];
      if (!(rk > 0)) continue;
      const double* mu = means_ + k * dim_;
      for (size_t j = 0; j < dim_; ++j) {
        if (std::isnan(w.big_mean[j]) && std::isnan(w.big_score[j])) continue;
        // (x - alpha mu) scaled, from scaled operands: alpha mu may itself overflow
        const double es = scale_down(w.xr[j]) - a * scale_down(mu[j]);
        double ic, m;
        if (diag_) {
          const double v = var_[k * dim_ + j];
          ic = 1.0 / (a2 * v + s2);
          m = scale_down(mu[j]) + a * v * ic * es;
        } else {
          ic = w.ic[k];
          m = scale_down(mu[j]) + w.g[k] * es;
        }
        if (!std::isnan(w.big_mean[j])) w.big_mean[j] += rk * m;
        if (!std::isnan(w.big_score[j])) w.big_score[j] += rk * (es * ic);
      }
    }
    for (size_t j = 0; j < dim_; ++j) {
      if (!std::isnan(w.big_mean[j])) w.acc_mean[j] = scale_up(w.big_mean[j]);
      if (!std::isnan(w.big_score[j])) w.acc_score[j] = scale_up(w.big_score[j]);
    }
  }

  // Pass 3 when some columns were summed scaled: their |m_kj - D_j|^2 are summed scaled by
  // 2^-2080 and added at the end.
  double variance_big_columns(double a, double a2, double s2, const Workspace& w) const {
    double total = 0, total_big = 0;
    for (size_t k = 0; k < K_; ++k) {
      const double rk = w.r[k];
      if (!(rk > 0)) continue;
      const double* mu = means_ + k * dim_;
      double d2 = 0, d2_big = 0, trv = 0;
      for (size_t j = 0; j < dim_; ++j) {
        const double e = w.xr[j] - a * mu[j];
        double gain = diag_ ? 0.0 : w.g[k];
        if (diag_) {
          const double v = var_[k * dim_ + j];
          const double ic = 1.0 / (a2 * v + s2);
          gain = a * v * ic;
          trv += v * s2 * ic;
        }
        if (std::isnan(w.big_mean[j])) {
          const double d = mu[j] + gain * e - w.acc_mean[j];
          d2 += d * d;
        } else {
          const double d = scale_down(mu[j]) + gain * (scale_down(w.xr[j]) - a * scale_down(mu[j])) - w.big_mean[j];
          d2_big += d * d;
        }
      }
      if (!diag_) trv = static_cast<double>(dim_) * (var_[k * vstride_] * s2 * w.ic[k]);
      total += rk * (trv + d2);
      total_big += rk * d2_big;
    }
    const double n = static_cast<double>(dim_);
    return total / n + scale_up(scale_up(total_big / n));
  }

  template <typename T>
  void row(size_t b, const T* xrow, double a, double s, Workspace& w, const MixtureOutputs<T>& out) const {
    if (!w.cached || w.cached_alpha != a || w.cached_sigma != s) prepare(a, s, w);
    const double a2 = a * a, s2 = s * s;
    for (size_t j = 0; j < dim_; ++j) w.xr[j] = static_cast<double>(xrow[j]);

    // Pass 1: log joint densities l_k and their maximum.
    double mx = -kInf;
    for (size_t k = 0; k < K_; ++k) {
      if (w.h[k] == -kInf) {
        w.l[k] = -kInf;
        continue;
      }
      const double* mu = means_ + k * dim_;
      double q = 0;
      double lk;
      if (diag_) {
        const double* v = var_ + k * dim_;
        for (size_t j = 0; j < dim_; ++j) {
          const double e = w.xr[j] - a * mu[j];
          const double c = a2 * v[j] + s2;
          q += e * e / c;
        }
        lk = w.h[k] - 0.5 * q;
      } else {
        for (size_t j = 0; j < dim_; ++j) {
          const double e = w.xr[j] - a * mu[j];
          q += e * e;
        }
        lk = w.h[k] - 0.5 * (q * w.ic[k]);
      }
      w.l[k] = lk;
      if (lk > mx) mx = lk;
    }
    bool overflow = false;
    if (mx == -kInf) {
      // Every quadratic overflowed (|x - alpha mu|^2 / C beyond 1e308): log p is below the
      // double range, and the components nearest x (smallest log q) take all the
      // responsibility, in proportion to their weights; all of them if even log q is infinite.
      overflow = true;
      double best = kInf;
      for (size_t k = 0; k < K_; ++k) {
        if (lw_[k] == -kInf) {
          w.l[k] = kInf;
          continue;
        }
        const double lq = log_quadratic(k, a, a2, s2, w);
        w.l[k] = lq;
        if (lq < best) best = lq;
      }
      const bool tie_all = !(best < kInf);
      for (size_t k = 0; k < K_; ++k) {
        const bool keep = lw_[k] != -kInf && (tie_all || w.l[k] == best);
        w.l[k] = keep ? lw_[k] : -kInf;
        if (w.l[k] > mx) mx = w.l[k];
      }
    }

    // Responsibilities, normalised by the sum (reliability.md 5.1), and log p.
    const size_t K = K_;
    double sum = 0;
    for (size_t k = 0; k < K; ++k) {
      const double d = w.l[k] - mx;
      w.l[k] = d;
      const double t = std::exp(d);
      w.r[k] = t;
      sum += t;
    }
    const double log_sum = std::log(sum);
    for (size_t k = 0; k < K; ++k) w.r[k] = w.r[k] / sum;
    if (out.responsibilities) {
      T* o = out.responsibilities + b * K;
      for (size_t k = 0; k < K; ++k) o[k] = static_cast<T>(w.r[k]);
    }
    if (out.log_density) out.log_density[b] = static_cast<T>(overflow ? -kInf : mx + log_sum);
    if (out.entropy) {
      double H = 0;
      for (size_t k = 0; k < K; ++k) {
        if (w.r[k] > 0) H -= w.r[k] * (w.l[k] - log_sum);
      }
      out.entropy[b] = static_cast<T>(H);
    }
    if (!out.mean && !out.score && !out.variance) return;

    // Pass 2: posterior mean and score, over the components with r_k > 0.
    const bool want_mean = out.mean || out.variance;
    const bool want_score = out.score != nullptr;
    for (size_t j = 0; j < dim_; ++j) {
      w.acc_mean[j] = 0;
      w.acc_score[j] = 0;
    }
    for (size_t k = 0; k < K; ++k) {
      const double rk = w.r[k];
      if (!(rk > 0)) continue;
      const double* mu = means_ + k * dim_;
      if (diag_) {
        const double* v = var_ + k * dim_;
        for (size_t j = 0; j < dim_; ++j) {
          const double e = w.xr[j] - a * mu[j];
          const double ic = 1.0 / (a2 * v[j] + s2);
          if (want_score) w.acc_score[j] += rk * (e * ic);
          if (want_mean) w.acc_mean[j] += rk * (mu[j] + a * v[j] * ic * e);
        }
      } else {
        const double ic = w.ic[k], g = w.g[k];
        for (size_t j = 0; j < dim_; ++j) {
          const double e = w.xr[j] - a * mu[j];
          if (want_score) w.acc_score[j] += rk * (e * ic);
          if (want_mean) w.acc_mean[j] += rk * (mu[j] + g * e);
        }
      }
    }
    bool big = false;
    for (size_t j = 0; j < dim_; ++j) big = big || !std::isfinite(w.acc_mean[j]) || !std::isfinite(w.acc_score[j]);
    if (big) sum_big_columns(a, a2, s2, w);
    if (out.mean) {
      T* o = out.mean + b * dim_;
      for (size_t j = 0; j < dim_; ++j) o[j] = static_cast<T>(w.acc_mean[j]);
    }
    if (out.score) {
      T* o = out.score + b * dim_;
      for (size_t j = 0; j < dim_; ++j) o[j] = static_cast<T>(-w.acc_score[j]);
    }
    if (!out.variance) return;

    // Pass 3: trace of the posterior covariance as sum_k r_k (tr V_k + |m_k - D|^2): no
    // E[x^2] - E[x]^2 cancellation. V_kj = v_kj - alpha^2 v_kj^2 / C_kj = v_kj sigma^2 / C_kj.
    if (big) {
      out.variance[b] = static_cast<T>(variance_big_columns(a, a2, s2, w));
      return;
    }
    double total = 0;
    for (size_t k = 0; k < K; ++k) {
      const double rk = w.r[k];
      if (!(rk > 0)) continue;
      const double* mu = means_ + k * dim_;
      double d2 = 0, trv = 0;
      if (diag_) {
        const double* v = var_ + k * dim_;
        for (size_t j = 0; j < dim_; ++j) {
          const double e = w.xr[j] - a * mu[j];
          const double ic = 1.0 / (a2 * v[j] + s2);
          const double d = mu[j] + a * v[j] * ic * e - w.acc_mean[j];
          d2 += d * d;
          trv += v[j] * s2 * ic;
        }
      } else {
        const double ic = w.ic[k], g = w.g[k];
        for (size_t j = 0; j < dim_; ++j) {
          const double e = w.xr[j] - a * mu[j];
          const double d = mu[j] + g * e - w.acc_mean[j];
          d2 += d * d;
        }
        trv = static_cast<double>(dim_) * (var_[k * vstride_] * s2 * ic);
      }
      total += rk * (trv + d2);
    }
    out.variance[b] = static_cast<T>(total / static_cast<double>(dim_));
  }

 private:
  size_t K_, dim_;
  const double* means_;
  const double* var_;
  const double* lw_;
  bool diag_;
  size_t vstride_;
};

// Parts for rows of `work` each: enough rows per part to be worth a thread.
size_t part_count_for(size_t rows, size_t work, size_t min_work) {
  if (work == 0) work = 1;
  const size_t min_rows = work >= min_work ? 1 : min_work / work;
  size_t parts = (rows + min_rows - 1) / min_rows;
  const size_t threads = static_cast<size_t>(thread_count());
  if (parts > threads) parts = threads;
  return parts == 0 ? 1 : parts;
}

// Parts for rows of K * dim work each (the scalar reference).
size_t part_count(size_t rows, size_t components, size_t dim) {
  size_t work;
  if (!mul_ok(components, dim, &work)) work = ~size_t(0);
  return part_count_for(rows, work, kMinWorkPerPart);
}

// The vector table of the active SIMD level, or null for the scalar reference.
const MixtureVectorTable* vector_table() {
  switch (current_simd_level()) {
#if defined(TWEEDIE_X86_SIMD)
    case SimdLevel::kSse2: return &mixture_sse2_table();
    case SimdLevel::kAvx2: return &mixture_avx2_table();
#endif
#if defined(TWEEDIE_X86_AVX512)
    case SimdLevel::kAvx512: return &mixture_avx512_table();
#elif defined(TWEEDIE_X86_SIMD)
    case SimdLevel::kAvx512: return &mixture_avx2_table();  // built without the AVX-512 flags
#endif
#if defined(TWEEDIE_ARM_NEON)
    case SimdLevel::kNeon: return &mixture_neon_table();
#endif
    default: return nullptr;
  }
}

// How one call is split: parts, rows per part and bytes of workspace per part (vector path:
// its own workspace, then the scalar row workspace for rows handed back).
// Dynamic splits: parts take chunks of chunk_rows rows from a shared counter (0: static split,
// part p takes rows [p chunk, (p + 1) chunk)).
// Cooperative calls: coop_block > 0 (components per block of the screen; every part's
// workspace is sized for all the rows).
struct VectorPlan {
  size_t parts, chunk, chunk_rows, vector_bytes, scalar_bytes, part_bytes, coop_block;
};

bool vector_plan(const MixtureVectorTable& t, size_t rows, const MixtureModel& model, bool f32, VectorPlan* plan) {
  const size_t K = model.components, dim = model.dim;
  const size_t work = t.row_work(K, dim, model.variances_length);
  const bool dynamic = t.dynamic_split(K, dim, model.variances_length);
  size_t parts = part_count_for(rows, work, dynamic ? kMinDynamicWorkPerPart : kMinVectorWorkPerPart);
  size_t chunk = (rows + parts - 1) / parts, chunk_rows = 0, coop_block = 0;
  if (!dynamic && rows <= kCoopMaxRowsPerPart * parts)
    coop_block = t.coop_block(rows, K, dim, model.variances_length, f32);
  if (coop_block) {
    chunk = rows;
  } else if (parts > 1 && dynamic) {
    const size_t min_rows = work >= kMinChunkWork ? 1 : kMinChunkWork / (work == 0 ? 1 : work);
    const size_t want = (rows + kChunksPerPart * parts - 1) / (kChunksPerPart * parts);
    chunk_rows = (want > min_rows ? want : min_rows);
    // whole rows-in-lanes tiles of every level (the widest: AVX-512's 4 x 8 rows)
    chunk_rows = (chunk_rows + 31) / 32 * 32;
    chunk = chunk_rows;
  } else {
    parts = (rows + chunk - 1) / chunk;
  }
  size_t vbytes, sdoubles, sbytes, pbytes;
  if (!t.workspace_bytes(chunk, K, dim, model.variances_length, f32, &vbytes) || !part_doubles(K, dim, &sdoubles) ||
      !mul_ok(sdoubles, sizeof(double), &sbytes) || !add_ok(vbytes, sbytes, &pbytes) || !add_ok(pbytes, 63, &pbytes))
    return false;
  pbytes = pbytes / 64 * 64;
  *plan = VectorPlan{parts, chunk, chunk_rows, vbytes, sbytes, pbytes, coop_block};
  return true;
}

// The scalar fallback row for the vector path (rows whose quadratics all overflow).
template <typename T>
struct ScalarRow {
  const Kernel* kernel;
  const T* x;
  size_t dim;
  const MixtureLevels* levels;
  const MixtureOutputs<T>* out;
  size_t K;

  static void call(const void* self, size_t b, void* buffer) {
    const ScalarRow& s = *static_cast<const ScalarRow*>(self);
    double* base = static_cast<double*>(buffer);
    Workspace w = carve_workspace(base, s.K, s.dim);
    s.kernel->row(b, s.x + b * s.dim, s.levels->alpha[b * s.levels->alpha_stride],
                  s.levels->sigma[b * s.levels->sigma_stride], w, *s.out);
  }
};

void call_rows(const MixtureVectorTable& t, const MixturePart<double>& part) { t.rows_f64(part); }
void call_rows(const MixtureVectorTable& t, const MixturePart<float>& part) { t.rows_f32(part); }

template <typename T>
MixtureStatus vector_posterior(const MixtureVectorTable& t, const T* x, size_t rows, const MixtureModel& model,
                               const MixtureLevels& levels, const MixtureOutputs<T>& out, MixtureWorkspace& ws) {
  VectorPlan plan;
  size_t total;
  if (!vector_plan(t, rows, model, sizeof(T) == 4, &plan) || !mul_ok(plan.part_bytes, plan.parts, &total))
    return MixtureStatus::kSizeOverflow;
  if (!ws.reserve(total)) return MixtureStatus::kNoMemory;
  unsigned char* aligned = ws.data();
  const Kernel kernel(model);
  const ScalarRow<T> scalar{&kernel, x, model.dim, &levels, &out, model.components};
  // The means are checked first (before any output is written), except by a cooperative call,
  // whose first phase checks them as it streams them.
  if (model.check_means && !plan.coop_block && !mixture_all_finite(model.means, model.components * model.dim))
    return MixtureStatus::kNotFinite;
  const auto common = [&](int p, MixturePart<T>* part) {
    unsigned char* base = aligned + static_cast<size_t>(p) * plan.part_bytes;
    part->x = x;
    part->model = &model;
    part->levels = &levels;
    part->out = &out;
    part->workspace = base;
    part->scalar_workspace = base + plan.vector_bytes;
    part->scalar_row = MixtureScalarRow{&ScalarRow<T>::call, &scalar};
    part->coop_phase = 0;
    part->coop_parts = static_cast<int>(plan.parts);
    part->coop_rows = rows;
    part->coop_block = plan.coop_block;
    part->coop_stride = plan.part_bytes;
    part->coop_shared = aligned;
    part->check_means = model.check_means;
    part->means_bad = nullptr;
  };
  std::atomic<size_t> next_chunk{0};
  if (plan.coop_block) {
    // Phase 1: the screen, components shared out in blocks; phase 2: the rows, split evenly.
    bool bad[256] = {};  // one per part (thread_count() <= 256)
    run_parts(static_cast<int>(plan.parts), [&](int p) {
      MixturePart<T> part;
      common(p, &part);
      part.begin = 0;
      part.end = rows;
      part.next_chunk = &next_chunk;
      part.chunk_rows = 0;
      part.coop_phase = 1;
      part.means_bad = &bad[p];
      call_rows(t, part);
    });
    for (size_t p = 0; p < plan.parts; ++p) {
      if (bad[p]) return MixtureStatus::kNotFinite;
    }
    const size_t per = (rows + plan.parts - 1) / plan.parts;
    run_parts(static_cast<int>(plan.parts), [&](int p) {
      MixturePart<T> part;
      common(p, &part);
      part.begin = static_cast<size_t>(p) * per < rows ? static_cast<size_t>(p) * per : rows;
      part.end = part.begin + per < rows ? part.begin + per : rows;
      part.next_chunk = nullptr;
      part.chunk_rows = 0;
      part.coop_phase = 2;
      call_rows(t, part);
    });
    return MixtureStatus::kOk;
  }
  run_parts(static_cast<int>(plan.parts), [&](int p) {
    MixturePart<T> part;
    common(p, &part);
    if (plan.chunk_rows) {
      part.begin = 0;
      part.end = rows;
      part.next_chunk = &next_chunk;
      part.chunk_rows = plan.chunk_rows;
    } else {
      part.begin = static_cast<size_t>(p) * plan.chunk;
      part.end = part.begin + plan.chunk < rows ? part.begin + plan.chunk : rows;
      part.next_chunk = nullptr;
      part.chunk_rows = 0;
    }
    call_rows(t, part);
  });
  return MixtureStatus::kOk;
}

// Whether p[0, n) is all finite: a value is NaN or infinite when its exponent field is all
// ones, i.e. when (bits & exp) + 2^52 carries into the sign bit. Branch-free over blocks (the
// loop vectorises at baseline flags), stopping at the first block that has one.
bool range_finite(const double* p, size_t n) {
  constexpr uint64_t kExp = 0x7ff0000000000000ULL, kOne = 0x0010000000000000ULL;
  constexpr size_t kBlock = 4096;
  for (size_t i0 = 0; i0 < n; i0 += kBlock) {
    const size_t i1 = n - i0 < kBlock ? n : i0 + kBlock;
    uint64_t acc = 0;
    for (size_t i = i0; i < i1; ++i) {
      uint64_t bits;
      std::memcpy(&bits, p + i, sizeof bits);
      acc |= (bits & kExp) + kOne;
    }
    if (acc >> 63) return false;
  }
  return true;
}

}  // namespace

bool mixture_all_finite(const double* p, size_t n) {
  std::atomic<bool> ok{true};
  parallel_for(n, size_t(1) << 18, 8, [&](size_t begin, size_t end) {
    if (!range_finite(p + begin, end - begin)) ok.store(false, std::memory_order_relaxed);
  });
  return ok.load(std::memory_order_relaxed);
}

MixtureStatus mixture_workspace_bytes(size_t rows, size_t components, size_t dim, size_t* bytes) {
  size_t per_part, total;
  if (!part_doubles(components, dim, &per_part) || !mul_ok(per_part, part_count(rows, components, dim), &total) ||
      !mul_ok(total, sizeof(double), bytes))
    return MixtureStatus::kSizeOverflow;
  if (const MixtureVectorTable* t = vector_table()) {
    // The vector path's need: the largest over float32 and float64 input and isotropic
    // (shared, per component and empirical variances need the same) and diagonal variances.
    size_t kd;
    if (!mul_ok(components, dim, &kd)) return MixtureStatus::kSizeOverflow;
    for (size_t vlen : {size_t(1), kd}) {
      const MixtureModel probe{components, dim, nullptr, nullptr, vlen, nullptr};
      for (bool f32 : {false, true}) {
        VectorPlan plan;
        size_t vtotal;
        if (rows > 0 && (!vector_plan(*t, rows, probe, f32, &plan) || !mul_ok(plan.part_bytes, plan.parts, &vtotal)))
          return MixtureStatus::kSizeOverflow;
        if (rows > 0 && vtotal > *bytes) *bytes = vtotal;
      }
    }
  }
  return MixtureStatus::kOk;
}

MixtureWorkspace::~MixtureWorkspace() { delete[] raw_; }

bool MixtureWorkspace::reserve(size_t bytes) {
  if (bytes <= size_) return true;
  size_t total;
  if (!add_ok(bytes, 64, &total)) return false;
  unsigned char* raw = new (std::nothrow) unsigned char[total];
  if (raw == nullptr) return false;
  delete[] raw_;
  raw_ = raw;
  aligned_ = raw + (64 - reinterpret_cast<uintptr_t>(raw) % 64) % 64;
  size_ = bytes;
  return true;
}

template <typename T>
MixtureStatus mixture_posterior(const T* x, size_t rows, const MixtureModel& model, const MixtureLevels& levels,
                                const MixtureOutputs<T>& out) {
  MixtureWorkspace ws;
  return mixture_posterior(x, rows, model, levels, out, &ws);
}

template <typename T>
MixtureStatus mixture_posterior(const T* x, size_t rows, const MixtureModel& model, const MixtureLevels& levels,
                                const MixtureOutputs<T>& out, MixtureWorkspace* workspace) {
  const MixtureVectorTable* t = vector_table();
  // (the vector path checks the means itself: see vector_posterior)
  if (model.check_means && (rows == 0 || t == nullptr) &&
      !mixture_all_finite(model.means, model.components * model.dim))
    return MixtureStatus::kNotFinite;
  if (rows == 0) return MixtureStatus::kOk;
  MixtureWorkspace& ws = *workspace;
  if (t) return vector_posterior(*t, x, rows, model, levels, out, ws);
  const size_t K = model.components, dim = model.dim;
  size_t per_part, total, bytes;
  size_t parts = part_count(rows, K, dim);
  if (!part_doubles(K, dim, &per_part) || !mul_ok(per_part, parts, &total) || !mul_ok(total, sizeof(double), &bytes))
    return MixtureStatus::kSizeOverflow;
  if (!ws.reserve(bytes)) return MixtureStatus::kNoMemory;
  double* buffer = reinterpret_cast<double*>(ws.data());

  const size_t chunk = (rows + parts - 1) / parts;
  parts = (rows + chunk - 1) / chunk;
  const Kernel kernel(model);
  run_parts(static_cast<int>(parts), [&](int p) {
    double* base = buffer + static_cast<size_t>(p) * per_part;
    Workspace w = carve_workspace(base, K, dim);
    const size_t begin = static_cast<size_t>(p) * chunk;
    const size_t end = begin + chunk < rows ? begin + chunk : rows;
    for (size_t b = begin; b < end; ++b) {
      kernel.row(b, x + b * dim, levels.alpha[b * levels.alpha_stride], levels.sigma[b * levels.sigma_stride], w,
                 out);
    }
  });
  return MixtureStatus::kOk;
}

template MixtureStatus mixture_posterior<double>(const double*, size_t, const MixtureModel&, const MixtureLevels&,
                                                 const MixtureOutputs<double>&);
template MixtureStatus mixture_posterior<float>(const float*, size_t, const MixtureModel&, const MixtureLevels&,
                                                const MixtureOutputs<float>&);
template MixtureStatus mixture_posterior<double>(const double*, size_t, const MixtureModel&, const MixtureLevels&,
                                                 const MixtureOutputs<double>&, MixtureWorkspace*);
template MixtureStatus mixture_posterior<float>(const float*, size_t, const MixtureModel&, const MixtureLevels&,
                                                const MixtureOutputs<float>&, MixtureWorkspace*);

}  // namespace tweedie

// The mixture posterior's vector path, level by level, against the scalar reference (the exact
// twin of src/js/mixture.ts) under the twin rule of reliability.md 3.3: per output element
// |a - b| <= 2 ulp(b) + 1e-12 C, with C the condition sum of test/helpers/mixture-reference.ts
// (native/test/mixture_condition.h). Random K, dim, batch, variance kinds, weights (some zero), per-row and shared
// noise levels from 1e-6 to 1e4, alpha = 0, shapes that reach every path (small tiles, dense
// chunks, the float32 screen with sparse and dense rows), inputs near a mean far from the
// origin (where |x|^2 - 2a x.mu + a^2 |mu|^2 cancels), far-away and overflowing inputs; results
// bit-identical for 1, 2 and 3 threads, and independent of which other outputs are requested.
// The worst |a - b| / tolerance per level is printed: that is the accuracy we state.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "../core/kernels.h"
#include "../core/mixture.h"
#include "../core/parallel.h"
#include "../core/simd/mixture_kernels.h"
#include "check.h"
#include "mixture_condition.h"

using namespace tweedie;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1p-53; }
  double gauss() { return std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  double log_uniform(double lo, double hi) { return std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * uniform()); }
};

enum Kind { kShared = 0, kComponent = 1, kDiagonal = 2, kEmpirical = 3 };
const char* kKindNames[] = {"shared", "component", "diagonal", "empirical"};

struct Case {
  size_t K = 1, dim = 1, rows = 1;
  Kind kind = kShared;
  bool f32 = false;
  std::vector<double> means, variances, weights, logw, alpha, sigma, x;
  double var(size_t k, size_t j) const {
    return variances.size() == K * dim ? variances[k * dim + j] : variances[variances.size() == 1 ? 0 : k];
  }
  double a(size_t b) const { return alpha[alpha.size() == 1 ? 0 : b]; }
  double s(size_t b) const { return sigma[sigma.size() == 1 ? 0 : b]; }
};

using mixture_condition::Cond;

Cond condition(const Case& c, size_t b) {
  const mixture_condition::Model m{c.K, c.dim, c.means.data(), c.variances.data(), c.variances.size(), c.weights.data()};
  return mixture_condition::condition(m, &c.x[b * c.dim], c.a(b), c.s(b));
}

template <typename T>
struct Outs {
  std::vector<T> r, mean, score, logd, entropy, variance;
};

// Which outputs: bit 0 responsibilities .. bit 5 variance.
template <typename T>
Outs<T> run(const Case& c, unsigned want = 63) {
  Outs<T> o;
  std::vector<T> x(c.x.begin(), c.x.end());
  const T nan = std::numeric_limits<T>::quiet_NaN();
  if (want & 1) o.r.assign(c.rows * c.K, nan);
  if (want & 2) o.mean.assign(c.rows * c.dim, nan);
  if (want & 4) o.score.assign(c.rows * c.dim, nan);
  if (want & 8) o.logd.assign(c.rows, nan);
  if (want & 16) o.entropy.assign(c.rows, nan);
  if (want & 32) o.variance.assign(c.rows, nan);
  auto p = [](std::vector<T>& v) { return v.empty() ? nullptr : v.data(); };
  const MixtureModel model{c.K, c.dim, c.means.data(), c.variances.data(), c.variances.size(), c.logw.data()};
  const MixtureLevels levels{c.alpha.data(), c.alpha.size() == 1 ? 0u : 1u, c.sigma.data(), c.sigma.size() == 1 ? 0u : 1u};
  const MixtureOutputs<T> out{p(o.r), p(o.mean), p(o.score), p(o.logd), p(o.entropy), p(o.variance)};
  CHECK(mixture_posterior(x.data(), c.rows, model, levels, out) == MixtureStatus::kOk);
  return o;
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

template <typename T>
bool same_bits(const Outs<T>& a, const Outs<T>& b) {
  return same_bits(a.r, b.r) && same_bits(a.mean, b.mean) && same_bits(a.score, b.score) && same_bits(a.logd, b.logd) &&
         same_bits(a.entropy, b.entropy) && same_bits(a.variance, b.variance);
}

struct Stats {
  double worst = 0;  // max |a - b| / tolerance
  int failures = 0;
  char where[160] = "-";  // the output and case of the worst
};

void note_worst(Stats* st, double ratio, const char* what, const Case& c) {
  if (!(ratio > st->worst)) return;
  st->worst = ratio;
  std::snprintf(st->where, sizeof st->where, "%s, %s K=%zu dim=%zu %s", what, kKindNames[c.kind], c.K, c.dim,
                c.f32 ? "float32" : "float64");
}

void expect_close(double a, double b, double cond, bool f32, Stats* st, const char* what, const Case& c, size_t i) {
  const double tol = mixture_condition::tolerance(b, cond, f32);
  const double d = std::fabs(a - b);
  if (a == b) return;
  if (!(d <= tol)) {
    if (st->failures++ < 8)
      std::fprintf(stderr, "    %s[%zu]: %.17g vs %.17g (|diff| %.3g > tol %.3g; %s K=%zu dim=%zu rows=%zu %s)\n", what, i, a, b, d,
                   tol, kKindNames[c.kind], c.K, c.dim, c.rows, c.f32 ? "f32" : "f64");
    note_worst(st, std::isfinite(d / tol) ? d / tol : 1e300, what, c);
    return;
  }
  note_worst(st, d / tol, what, c);
}

template <typename T>
void compare(const Case& c, const Outs<T>& got, const Outs<T>& want, Stats* st) {
  for (size_t b = 0; b < c.rows; ++b) {
    const Cond cd = condition(c, b);
    for (size_t k = 0; k < c.K; ++k) expect_close(got.r[b * c.K + k], want.r[b * c.K + k], cd.r[k], c.f32, st, "r", c, b * c.K + k);
    for (size_t j = 0; j < c.dim; ++j) {
      const size_t i = b * c.dim + j;
      expect_close(got.mean[i], want.mean[i], cd.mean[j], c.f32, st, "mean", c, i);
      expect_close(got.score[i], want.score[i], cd.score[j], c.f32, st, "score", c, i);
    }
    expect_close(got.logd[b], want.logd[b], cd.logd, c.f32, st, "logDensity", c, b);
    expect_close(got.entropy[b], want.entropy[b], cd.entropy, c.f32, st, "entropy", c, b);
    expect_close(got.variance[b], want.variance[b], cd.variance, c.f32, st, "variance", c, b);
  }
}

// Inputs: 0 generic (a mu_k + (sigma + scale) z), 1 near a mean (a mu_k + sigma z), 2 far
// (1e4 scale), 3 near a mean with every mean far from the origin (offset up to 1e6 scale), 4
// pure noise at large sigma (spread posterior).
Case make_case(Rng& g, size_t K, size_t dim, size_t rows, Kind kind, bool f32, int mode) {
  Case c;
  c.K = K;
  c.dim = dim;
  c.rows = rows;
  c.kind = kind;
  c.f32 = f32;
  const double scale = std::pow(10.0, static_cast<double>(g.below(3)) - 1);  // 0.1, 1, 10
  const double offset = mode == 3 ? scale * std::pow(10.0, 2 + static_cast<double>(g.below(5))) : 0;
  c.means.resize(K * dim);
  for (size_t i = 0; i < K * dim; ++i) c.means[i] = offset * (i % 3 == 0 ? -1 : 1) + scale * g.gauss();
  const size_t vlen = kind == kShared || kind == kEmpirical ? 1 : kind == kComponent ? K : K * dim;
  c.variances.resize(vlen);
  for (double& v : c.variances) v = kind == kEmpirical ? 0 : scale * scale * std::exp(2 * g.gauss() - 1);
  c.weights.resize(K);
  double sum = 0;
  const bool zeros = g.below(3) == 0;
  for (size_t k = 0; k < K; ++k) sum += (c.weights[k] = zeros && k % 3 == 1 ? 0 : 0.05 + g.uniform());
  c.logw.resize(K);
  for (size_t k = 0; k < K; ++k) {
    c.weights[k] /= sum;
    c.logw[k] = std::log(c.weights[k]);
  }
  const size_t nl = g.below(2) ? rows : 1;
  c.alpha.resize(nl);
  c.sigma.resize(nl);
  const double slo = mode == 4 ? 3 * scale : mode == 1 || mode == 3 ? g.log_uniform(1e-6, 0.3) * scale : g.log_uniform(1e-6, 1e4);
  for (size_t i = 0; i < nl; ++i) {
    c.alpha[i] = g.below(6) == 0 ? 0 : (mode == 3 ? 1 : 2 * g.uniform());
    c.sigma[i] = slo * std::exp(g.uniform());
  }
  c.x.resize(rows * dim);
  for (size_t b = 0; b < rows; ++b) {
    const size_t k = g.below(K);
    const double a = c.a(b), s = c.s(b);
    for (size_t j = 0; j < dim; ++j) {
      const double mu = a * c.means[k * dim + j];
      double v;
      switch (mode) {
        case 1: case 3: v = mu + s * g.gauss(); break;
        case 2: v = mu + 1e4 * scale * g.gauss(); break;
        case 4: v = s * g.gauss() + 0.1 * mu; break;
        default: v = mu + (s + scale) * g.gauss(); break;
      }
      c.x[b * dim + j] = f32 ? static_cast<double>(static_cast<float>(v)) : v;
    }
  }
  return c;
}

std::vector<SimdLevel> vector_levels() {
  std::vector<SimdLevel> out;
  for (SimdLevel l : {SimdLevel::kSse2, SimdLevel::kAvx2, SimdLevel::kAvx512, SimdLevel::kNeon}) {
    if (simd_level_supported(l)) out.push_back(l);
  }
  return out;
}

struct LevelGuard {
  SimdLevel level = current_simd_level();
  int threads = thread_count();
  ~LevelGuard() {
    set_simd_level(level);
    set_thread_count(threads);
  }
};

template <typename T>
void check_case(const Case& c, Stats* stats, const char* tag) {
  set_simd_level(SimdLevel::kScalar);
  set_thread_count(1);
  const Outs<T> ref = run<T>(c);
  size_t li = 0;
  for (SimdLevel level : vector_levels()) {
    set_simd_level(level);
    set_thread_count(1);
    const Outs<T> one = run<T>(c);
    compare(c, one, ref, &stats[li]);
    for (int t : {2, 3}) {
      set_thread_count(t);
      const Outs<T> many = run<T>(c);
      if (!same_bits(many, one)) {
        std::fprintf(stderr, "    %s: %s at %d threads differs from 1 thread (%s K=%zu dim=%zu rows=%zu)\n", tag,
                     simd_level_name(level), t, kKindNames[c.kind], c.K, c.dim, c.rows);
        CHECK(false);
      }
    }
    set_thread_count(1);
    const Outs<T> mean_only = run<T>(c, 2);
    CHECK(same_bits(mean_only.mean, one.mean));
    ++li;
  }
}

void report(const char* what, const Stats* stats) {
  size_t li = 0;
  for (SimdLevel level : vector_levels()) {
    std::printf("       %s, %s: worst |diff| / twin tolerance = %.3g (%s)\n", what, simd_level_name(level), stats[li].worst,
                stats[li].where);
    CHECK(stats[li].failures == 0);
    ++li;
  }
}

void run_family(const char* what, int mode, const size_t* Ks, size_t nK, const size_t* dims, size_t ndims,
                uint64_t seed, int reps) {
  LevelGuard guard;
  Rng g{seed};
  Stats stats[4];
  for (int rep = 0; rep < reps; ++rep) {
    for (size_t a = 0; a < nK; ++a) {
      for (size_t d = 0; d < ndims; ++d) {
        const Kind kind = static_cast<Kind>(g.below(4));
        const size_t rows = 1 + g.below(13);
        const bool f32 = g.below(2) == 0;
        const Case c = make_case(g, Ks[a], dims[d], rows, kind, f32, mode);
        if (f32) check_case<float>(c, stats, what);
        else check_case<double>(c, stats, what);
      }
    }
  }
  report(what, stats);
}

}  // namespace

const char* const kModeNames[] = {"generic", "near a mean", "far", "near a mean far from the origin", "spread"};

TEST(mixture_vector_levels_match_scalar_small_shapes) {
  const size_t Ks[] = {1, 2, 3, 5, 8, 9, 16, 31, 64, 65};
  const size_t dims[] = {1, 2, 3, 4, 7, 16, 17, 32, 33};
  char what[96];
  for (int mode = 0; mode <= 4; ++mode) {
    std::snprintf(what, sizeof what, "small shapes, %s", kModeNames[mode]);
    run_family(what, mode, Ks, 10, dims, 9, 100 + mode, 1);
  }
}

TEST(mixture_vector_levels_match_scalar_screened_shapes) {
  // dim >= 64 and K >= 8: the float32 screen (sparse rows near a mean, dense rows elsewhere)
  const size_t Ks[] = {8, 17, 100, 257};
  const size_t dims[] = {64, 65, 130, 301};
  char what[96];
  for (int mode = 0; mode <= 4; ++mode) {
    std::snprintf(what, sizeof what, "screened shapes, %s", kModeNames[mode]);
    run_family(what, mode, Ks, 4, dims, 4, 200 + mode, 1);
  }
}

TEST(mixture_near_mean_far_from_origin) {
  // |x|^2 - 2a x.mu + a^2 |mu|^2 cancels by up to 1e12 here: the vector path must detect it and
  // keep the direct difference (mode 3), at every dim including the cross-term ones.
  const size_t Ks[] = {2, 9, 70};
  const size_t dims[] = {3, 20, 64, 100, 513};
  run_family("near a mean far from the origin", 3, Ks, 3, dims, 5, 300, 3);
}

TEST(mixture_vector_exp_is_accurate) {
  // exp(x) for x in [-746, 0] against the C library (itself within an ulp of exact): at most 2 ulp
  // where the result is normal, at most 1 subnormal step below.
  for (SimdLevel level : vector_levels()) {
    const MixtureVectorTable* t = nullptr;
#if defined(TWEEDIE_X86_SIMD)
    if (level == SimdLevel::kAvx2) t = &mixture_avx2_table();
    if (level == SimdLevel::kSse2) t = &mixture_sse2_table();
#endif
#if defined(TWEEDIE_X86_AVX512)
    if (level == SimdLevel::kAvx512) t = &mixture_avx512_table();
#endif
#if defined(TWEEDIE_ARM_NEON)
    if (level == SimdLevel::kNeon) t = &mixture_neon_table();
#endif
    if (!t) continue;
    Rng g{7};
    const size_t n = 200003;
    std::vector<double> x(n), y(n);
    for (size_t i = 0; i < n; ++i) x[i] = i < 16 ? -static_cast<double>(i) * 0.5 : -746 * std::pow(g.uniform(), 3);
    x[16] = -0.0;
    x[17] = -kInf;
    x[18] = -745.13321910194122;
    x[19] = -708.39641853226410;
    x[20] = -1e-300;
    t->exp_nonpositive(x.data(), y.data(), n);
    double worst = 0;
    for (size_t i = 0; i < n; ++i) {
      const double want = std::exp(x[i]);
      if (want >= 0x1p-1022) {
        const double ulps = std::fabs(y[i] - want) / (std::fabs(want) * 0x1p-52);
        worst = std::fmax(worst, ulps);
        if (!(ulps <= 2)) {
          std::fprintf(stderr, "    exp(%.17g) = %.17g vs %.17g\n", x[i], y[i], want);
          CHECK(false);
          break;
        }
      } else {
        CHECK(std::fabs(y[i] - want) <= 0x1p-1074);
      }
    }
    CHECK(y[16] == 1 && y[17] == 0 && y[20] == 1);
    std::printf("       vector exp, %s: worst %.2f ulp (normal results)\n", simd_level_name(level), worst);
  }
}

TEST(mixture_vector_overflow_rows_use_the_scalar_fallback) {
  // Rows whose every quadratic overflows (logDensity -inf, the nearest component takes all),
  // mixed with ordinary rows in the same tile: bit-identical to the scalar reference there.
  LevelGuard guard;
  for (size_t dim : {1, 3, 70}) {
    Case c;
    c.K = 3;
    c.dim = dim;
    c.rows = 5;
    c.kind = kShared;
    c.means.assign(3 * dim, 0);
    for (size_t j = 0; j < dim; ++j) {
      c.means[dim + j] = 1e199;
      c.means[2 * dim + j] = -1e199;
    }
    c.variances = {1};
    c.weights = {1.0 / 3, 1.0 / 3, 1.0 / 3};
    c.logw.assign(3, std::log(1.0 / 3));
    c.alpha = {1};
    c.sigma = {1};
    c.x.assign(5 * dim, 0.5);
    for (size_t j = 0; j < dim; ++j) {
      c.x[j] = 1e200;
      c.x[3 * dim + j] = -1e200;
    }
    set_simd_level(SimdLevel::kScalar);
    const Outs<double> ref = run<double>(c);
    CHECK(ref.logd[0] == -kInf && ref.r[1] == 1);
    for (SimdLevel level : vector_levels()) {
      set_simd_level(level);
      const Outs<double> got = run<double>(c);
      for (size_t b : {size_t(0), size_t(3)}) {
        CHECK(got.logd[b] == -kInf);
        for (size_t k = 0; k < 3; ++k) CHECK(got.r[b * 3 + k] == ref.r[b * 3 + k]);
        for (size_t j = 0; j < dim; ++j) CHECK(got.mean[b * dim + j] == ref.mean[b * dim + j]);
      }
      Stats st;
      compare(c, got, ref, &st);
      CHECK(st.failures == 0);
    }
  }
}

TEST(mixture_vector_exact_special_cases) {
  // K = 1: r = 1 and entropy 0 exactly; an empirical mixture at sigma = 1e-150 returns the data
  // point exactly with variance and entropy 0.
  LevelGuard guard;
  for (SimdLevel level : vector_levels()) {
    set_simd_level(level);
    for (size_t dim : {1, 5, 80}) {
      Case c;
      c.K = 1;
      c.dim = dim;
      c.rows = 3;
      c.means.assign(dim, 0.25);
      c.variances = {0.7};
      c.weights = {1};
      c.logw = {0};
      c.alpha = {0.8};
      c.sigma = {0.6};
      c.x.assign(3 * dim, -1.5);
      const Outs<double> o = run<double>(c);
      for (size_t b = 0; b < 3; ++b) CHECK(o.r[b] == 1 && o.entropy[b] == 0);
    }
    for (size_t dim : {1, 4, 90}) {
      Case c;
      c.K = 3;
      c.dim = dim;
      c.rows = 1;
      c.means.resize(3 * dim);
      for (size_t i = 0; i < 3 * dim; ++i) c.means[i] = static_cast<double>(i / dim) * 2 + 1;  // 1, 3, 5
      c.variances = {0};
      c.weights = {1.0 / 3, 1.0 / 3, 1.0 / 3};
      c.logw.assign(3, std::log(1.0 / 3));
      c.alpha = {1};
      c.sigma = {1e-150};
      c.x.assign(dim, 3.1);
      const Outs<double> o = run<double>(c);
      for (size_t j = 0; j < dim; ++j) CHECK(o.mean[j] == 3);
      CHECK(o.variance[0] == 0 && o.entropy[0] == 0 && !std::signbit(o.entropy[0]));
    }
  }
}

TEST(mixture_workspace_bytes_covers_the_vector_path) {
  // mixture_workspace_bytes reports the vector path's need too; absurd shapes overflow.
  size_t bytes = 0;
  CHECK(mixture_workspace_bytes(100, 1000, 3072, &bytes) == MixtureStatus::kOk && bytes > 0);
  CHECK(mixture_workspace_bytes(1, ~size_t(0) / 4, 3, &bytes) == MixtureStatus::kSizeOverflow);
}

TEST(mixture_vector_large_batches_identical_for_any_thread_count) {
  // Batches big enough to be split into parts at every thread count, on every path (small
  // tiles, dense chunks, screened rows near a mean and spread rows), per-row noise levels
  // (the last four: few rows against many components, which the screen's parts share out in
  // blocks (mixture.cc, kCoopMaxRowsPerPart), the last block partial).
  LevelGuard guard;
  Rng g{4242};
  struct Shape {
    size_t K, dim, rows;
    int mode;
  };
  const Shape shapes[] = {{8, 2, 20000, 0}, {64, 16, 700, 1}, {40, 48, 500, 4}, {100, 130, 90, 1}, {100, 130, 90, 4},
                          {1000, 200, 40, 1}, {1000, 200, 40, 4}};
  for (const Shape& sh : shapes) {
    for (Kind kind : {kShared, kComponent, kDiagonal, kEmpirical}) {
      for (bool f32 : {false, true}) {
        Case c = make_case(g, sh.K, sh.dim, sh.rows, kind, f32, sh.mode);
        if (c.alpha.size() == 1) {  // per-row levels
          c.alpha.assign(c.rows, c.alpha[0]);
          c.sigma.assign(c.rows, c.sigma[0]);
          for (size_t b = 0; b < c.rows; b += 3) c.sigma[b] *= 1.5;
        }
        for (SimdLevel level : vector_levels()) {
          set_simd_level(level);
          set_thread_count(1);
          bool same = true;
          if (f32) {
            const Outs<float> one = run<float>(c);
            for (int t = 2; t <= 5; ++t) {
              set_thread_count(t);
              same = same && same_bits(run<float>(c), one);
            }
          } else {
            const Outs<double> one = run<double>(c);
            for (int t = 2; t <= 5; ++t) {
              set_thread_count(t);
              same = same && same_bits(run<double>(c), one);
            }
          }
          if (!same)
            std::fprintf(stderr, "    %s K=%zu dim=%zu rows=%zu %s %s: thread counts differ\n", kKindNames[kind], sh.K,
                         sh.dim, sh.rows, f32 ? "f32" : "f64", simd_level_name(level));
          CHECK(same);
        }
      }
    }
  }
}

namespace {

// Row b of c as a one-row case.
Case row_case(const Case& c, size_t b) {
  Case r = c;
  r.rows = 1;
  r.x.assign(c.x.begin() + static_cast<std::ptrdiff_t>(b * c.dim), c.x.begin() + static_cast<std::ptrdiff_t>((b + 1) * c.dim));
  r.alpha = {c.a(b)};
  r.sigma = {c.s(b)};
  return r;
}

template <typename T>
bool row_matches(const Outs<T>& all, const Outs<T>& one, const Case& c, size_t b) {
  auto same = [](const std::vector<T>& v, size_t at, const std::vector<T>& w, size_t n) {
    return std::memcmp(v.data() + at, w.data(), n * sizeof(T)) == 0;
  };
  return same(all.r, b * c.K, one.r, c.K) && same(all.mean, b * c.dim, one.mean, c.dim) &&
         same(all.score, b * c.dim, one.score, c.dim) && same(all.logd, b, one.logd, 1) &&
         same(all.entropy, b, one.entropy, 1) && same(all.variance, b, one.variance, 1);
}

// Every row of a batch gives the bits it gives alone (a one-row call: always a tile of its
// own, with a single level), at 1 and 2 threads, and the batch is within the twin rule.
template <typename T>
void check_rows_alone(const Case& c, Stats* stats, const char* tag) {
  set_simd_level(SimdLevel::kScalar);
  set_thread_count(1);
  const Outs<T> ref = run<T>(c);
  size_t li = 0;
  for (SimdLevel level : vector_levels()) {
    set_simd_level(level);
    for (int t : {1, 2}) {
      set_thread_count(t);
      const Outs<T> all = run<T>(c);
      if (t == 1) compare(c, all, ref, &stats[li]);
      // an output does not depend on which others are requested
      const Outs<T> mean_only = run<T>(c, 2), score_only = run<T>(c, 4), some = run<T>(c, 2 | 4 | 8);
      CHECK(same_bits(mean_only.mean, all.mean) && same_bits(score_only.score, all.score) &&
            same_bits(some.mean, all.mean) && same_bits(some.score, all.score) && same_bits(some.logd, all.logd));
      for (size_t b = 0; b < c.rows; ++b) {
        const Outs<T> one = run<T>(row_case(c, b));
        if (!row_matches(all, one, c, b)) {
          std::fprintf(stderr, "    %s: %s row %zu of %zu differs from the row alone (%s K=%zu dim=%zu %s, %d threads)\n",
                       tag, simd_level_name(level), b, c.rows, kKindNames[c.kind], c.K, c.dim, c.f32 ? "f32" : "f64", t);
          CHECK(false);
          break;
        }
      }
    }
    ++li;
  }
}

// Levels in runs (tiles with one shared level, tiles straddling two), or all shared.
void level_runs(Rng& g, Case* c) {
  if (g.below(4) == 0) return;
  const double a0 = c->a(0), s0 = c->s(0);
  const size_t run = 1 + g.below(20);
  c->alpha.resize(c->rows);
  c->sigma.resize(c->rows);
  for (size_t b = 0; b < c->rows; ++b) {
    const size_t r = b / run;
    c->alpha[b] = r % 3 == 2 ? a0 * 0.5 : a0;
    c->sigma[b] = s0 * (r % 2 ? 1.7 : 1.0);
  }
}

}  // namespace

TEST(mixture_rows_in_lanes_boundaries_and_rows_alone) {
  // The rows-in-lanes kernel (mixture_small.h) and its neighbours: dims 1-4 (unrolled), 5 and 7
  // (direct, runtime dim), 8 (cross-term form from there), 63-65 (its dim limit), K at its
  // tile-width and size limits; batches of several tiles with partial last tiles, levels in
  // runs; every noise regime. Each row must give the same bits alone as in the batch.
  LevelGuard guard;
  Rng g{9001};
  const size_t Ks[] = {1, 2, 7, 16, 17, 64, 65};
  const size_t dims[] = {1, 2, 3, 4, 5, 7, 8, 63, 64, 65};
  Stats stats[4];
  for (size_t K : Ks) {
    for (size_t dim : dims) {
      const int mode = static_cast<int>(g.below(5));
      const Kind kind = static_cast<Kind>(g.below(4));
      const bool f32 = g.below(2) == 0;
      const size_t rows = 17 + g.below(40);
      Case c = make_case(g, K, dim, rows, kind, f32, mode);
      level_runs(g, &c);
      if (f32) check_rows_alone<float>(c, stats, "rows in lanes");
      else check_rows_alone<double>(c, stats, "rows in lanes");
    }
  }
  report("rows in lanes, boundaries and rows alone", stats);
}

TEST(mixture_rows_in_lanes_subnormal_responsibilities) {
  // Components at log-distance -708..-745 from the nearest (several at once for K > 2):
  // responsibilities in the subnormal range, where the vector exp rounds by integer arithmetic
  // and the mean and score take them by the reference's arithmetic scaled by 2^900 (no
  // subnormal operation). With x_0 = mu_00 = 0 the score and mean in dimension 0 are made of
  // those terms alone (subnormal outputs). Each output within the twin rule of the reference,
  // the same bits alone and in the batch, whatever else is requested.
  LevelGuard guard;
  Stats stats[4];
  for (size_t dim : {1, 2, 3}) {
    for (size_t K : {2, 3, 8}) {
      Case c;
      c.K = K;
      c.dim = dim;
      c.rows = 40;
      c.kind = kShared;
      c.means.resize(K * dim);
      for (size_t k = 0; k < K; ++k)
        for (size_t j = 0; j < dim; ++j)
          c.means[k * dim + j] = j == 0 ? (k == 0 ? 0.0 : 1 + 0.02 * static_cast<double>(k)) : 0.3 * static_cast<double>(j);
      c.variances = {0};
      c.weights.assign(K, 1.0 / static_cast<double>(K));
      c.logw.assign(K, std::log(1.0 / static_cast<double>(K)));
      c.alpha = {1};
      c.sigma.resize(c.rows);
      c.x.resize(c.rows * dim);
      for (size_t b = 0; b < c.rows; ++b) {
        // at x = 0, (|x - mu_1|^2 - |x - mu_0|^2) / (2 sigma^2) = 1 / (2 sigma^2) spans [708, 745]
        c.sigma[b] = std::sqrt(0.5 / (708.0 + 37.0 * static_cast<double>(b) / static_cast<double>(c.rows)));
        for (size_t j = 0; j < dim; ++j) c.x[b * dim + j] = j == 0 && b % 2 ? 1e-3 * static_cast<double>(b) : 0;
      }
      for (bool f32 : {false, true}) {
        c.f32 = f32;
        if (f32) check_rows_alone<float>(c, stats, "subnormal responsibilities");
        else check_rows_alone<double>(c, stats, "subnormal responsibilities");
      }
      set_simd_level(SimdLevel::kScalar);
      const Outs<double> ref = run<double>(c);
      bool any_subnormal = false;
      for (double r : ref.r) any_subnormal = any_subnormal || (r > 0 && r < 0x1p-1022);
      CHECK(any_subnormal);
    }
  }
  report("subnormal responsibilities", stats);
}

namespace {

const MixtureVectorTable* table_of(SimdLevel level) {
#if defined(TWEEDIE_X86_SIMD)
  if (level == SimdLevel::kAvx2) return &mixture_avx2_table();
  if (level == SimdLevel::kSse2) return &mixture_sse2_table();
#endif
#if defined(TWEEDIE_X86_AVX512)
  if (level == SimdLevel::kAvx512) return &mixture_avx512_table();
#endif
#if defined(TWEEDIE_ARM_NEON)
  if (level == SimdLevel::kNeon) return &mixture_neon_table();
#endif
  return nullptr;
}

}  // namespace

TEST(mixture_rows_in_lanes_tiny_pass_skipped_only_where_it_changes_nothing) {
  // Rows near one component with others 620..746 nats below it (left out of the main sums): the
  // kernel skips the pass that adds them back where a bound shows it cannot change the rounded
  // outputs. Forcing the pass everywhere must give the same bits: for rows at the origin (the
  // dominant component's mean exactly, empirical: mean and score made of those terms alone),
  // near it, and near the other components.
  LevelGuard guard;
  Rng g{777};
  for (size_t dim : {1, 2, 3, 5, 9}) {
    for (size_t K : {2, 8, 20}) {
      Case c;
      c.K = K;
      c.dim = dim;
      c.rows = 48;
      c.kind = g.below(2) ? kEmpirical : kShared;
      c.variances = {c.kind == kEmpirical ? 0.0 : 1e-5};
      c.alpha = {1};
      c.sigma = {0.005};
      const double C = c.variances[0] + c.sigma[0] * c.sigma[0];
      // component 0 at the origin, the others at squared distance 2 C u from it, u in [560, 800]
      c.means.assign(K * dim, 0);
      for (size_t k = 1; k < K; ++k) {
        std::vector<double> u(dim);
        double n2 = 0;
        for (double& v : u) {
          v = g.gauss();
          n2 += v * v;
        }
        const double r = std::sqrt(2 * C * (560 + 240 * g.uniform()) / n2);
        for (size_t j = 0; j < dim; ++j) c.means[k * dim + j] = r * u[j];
      }
      c.weights.assign(K, 1.0 / static_cast<double>(K));
      c.logw.assign(K, std::log(1.0 / static_cast<double>(K)));
      c.x.resize(c.rows * dim);
      for (size_t b = 0; b < c.rows; ++b) {
        const size_t k = b % 4 == 3 ? g.below(K) : 0;
        for (size_t j = 0; j < dim; ++j)
          c.x[b * dim + j] = c.means[k * dim + j] + (b % 4 == 0 ? 0 : c.sigma[0] * 0.3 * g.gauss());
      }
      for (bool f32 : {false, true}) {
        c.f32 = f32;
        if (f32)
          for (double& v : c.x) v = static_cast<double>(static_cast<float>(v));
        for (SimdLevel level : vector_levels()) {
          const MixtureVectorTable* t = table_of(level);
          if (!t) continue;
          set_simd_level(level);
          set_thread_count(1);
          for (unsigned want : {2u, 4u, 63u}) {
            bool same;
            *t->test_flags = 0;
            if (f32) {
              const Outs<float> a = run<float>(c, want);
              *t->test_flags = 1;
              same = same_bits(run<float>(c, want), a);
            } else {
              const Outs<double> a = run<double>(c, want);
              *t->test_flags = 1;
              same = same_bits(run<double>(c, want), a);
            }
            *t->test_flags = 0;
            if (!same)
              std::fprintf(stderr, "    tiny pass changes bits: %s K=%zu dim=%zu %s want=%u\n", simd_level_name(level), K,
                           dim, f32 ? "f32" : "f64", want);
            CHECK(same);
          }
        }
        // and the batch is within the twin rule of the reference
        Stats st[4];
        if (f32) check_rows_alone<float>(c, st, "tiny pass");
        else check_rows_alone<double>(c, st, "tiny pass");
        for (const Stats& x : st) CHECK(x.failures == 0);
      }
    }
  }
}

TEST(mixture_workspace_reused_across_calls) {
  // One MixtureWorkspace for calls of different shapes, paths and thread counts (growing and
  // not): the same bits as calls with their own workspace.
  LevelGuard guard;
  Rng g{31};
  MixtureWorkspace ws;
  const size_t shapes[][3] = {{8, 2, 300}, {70, 100, 20}, {3, 1, 5}, {64, 16, 200}, {200, 300, 9}, {8, 2, 1000}};
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kSse2, SimdLevel::kAvx2, SimdLevel::kAvx512, SimdLevel::kNeon}) {
    if (!simd_level_supported(level)) continue;
    set_simd_level(level);
    for (const auto& sh : shapes) {
      for (int threads : {1, 2}) {
        set_thread_count(threads);
        const Case c = make_case(g, sh[0], sh[1], sh[2], static_cast<Kind>(g.below(4)), false, static_cast<int>(g.below(5)));
        const Outs<double> fresh = run<double>(c);
        Outs<double> o;
        o.mean.assign(c.rows * c.dim, 0);
        o.r.assign(c.rows * c.K, 0);
        const MixtureModel model{c.K, c.dim, c.means.data(), c.variances.data(), c.variances.size(), c.logw.data()};
        const MixtureLevels levels{c.alpha.data(), c.alpha.size() == 1 ? 0u : 1u, c.sigma.data(),
                                   c.sigma.size() == 1 ? 0u : 1u};
        const MixtureOutputs<double> out{o.r.data(), o.mean.data(), nullptr, nullptr, nullptr, nullptr};
        CHECK(mixture_posterior(c.x.data(), c.rows, model, levels, out, &ws) == MixtureStatus::kOk);
        CHECK(same_bits(o.mean, fresh.mean) && same_bits(o.r, fresh.r));
      }
    }
  }
  CHECK(ws.size() > 0 && reinterpret_cast<uintptr_t>(ws.data()) % 64 == 0);
}

TEST(mixture_check_means_before_any_output) {
  // MixtureModel::check_means: a NaN or infinite mean anywhere gives kNotFinite with no output
  // written, on every path (the cooperative screen checks them as it streams them, the others
  // before they start), at every level and thread count; finite means give the unchecked results.
  LevelGuard guard;
  Rng g{77};
  const size_t shapes[][3] = {{8, 2, 300}, {64, 16, 200}, {100, 130, 5}, {1000, 200, 40}, {1000, 200, 300}, {3, 70, 4}};
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kSse2, SimdLevel::kAvx2, SimdLevel::kAvx512, SimdLevel::kNeon}) {
    if (!simd_level_supported(level)) continue;
    set_simd_level(level);
    for (const auto& sh : shapes) {
      for (int threads : {1, 2, 3}) {
        set_thread_count(threads);
        Case c = make_case(g, sh[0], sh[1], sh[2], static_cast<Kind>(g.below(4)), g.below(2) == 0, 1);
        const Outs<float> fresh = run<float>(c);
        std::vector<float> x(c.x.begin(), c.x.end());
        const MixtureLevels levels{c.alpha.data(), c.alpha.size() == 1 ? 0u : 1u, c.sigma.data(),
                                   c.sigma.size() == 1 ? 0u : 1u};
        for (int which = 0; which < 4; ++which) {
          std::vector<double> means = c.means;
          const size_t at = which == 0 ? 0 : which == 1 ? means.size() - 1 : g.below(means.size());
          if (which > 0) means[at] = which == 2 ? std::numeric_limits<double>::quiet_NaN() : (g.below(2) ? kInf : -kInf);
          MixtureModel model{c.K, c.dim, means.data(), c.variances.data(), c.variances.size(), c.logw.data()};
          model.check_means = true;
          std::vector<float> mean(c.rows * c.dim, 7.0f), r(c.rows * c.K, 7.0f);
          const MixtureOutputs<float> out{r.data(), mean.data(), nullptr, nullptr, nullptr, nullptr};
          const MixtureStatus st = mixture_posterior(x.data(), c.rows, model, levels, out);
          if (which == 0) {
            CHECK(st == MixtureStatus::kOk && same_bits(mean, fresh.mean) && same_bits(r, fresh.r));
          } else {
            bool untouched = st == MixtureStatus::kNotFinite;
            for (float v : mean) untouched = untouched && v == 7.0f;
            for (float v : r) untouched = untouched && v == 7.0f;
            if (!untouched)
              std::fprintf(stderr, "    K=%zu dim=%zu rows=%zu %s %d threads: mean %zu not finite, status %d\n", sh[0],
                           sh[1], sh[2], simd_level_name(level), threads, at, static_cast<int>(st));
            CHECK(untouched);
          }
        }
      }
    }
  }
}

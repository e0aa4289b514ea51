// libFuzzer harness: the mixture posterior (native/core/mixture.h) at the scalar reference and
// at every vector level the CPU has, for inputs the addon would accept (finite x and means,
// variances >= 0, log weights not NaN or +inf with one finite, alpha >= 0, sigma >= 1e-150,
// alpha^2 v + sigma^2 <= 1e300), decoded either "sane" (scaled Gaussians near or far from the
// means, sigma from 1e-150 to 1e150) or from raw bit patterns. Invariants, at every level:
// - no NaN in any output (outputs start as NaN, so an output never written is caught too);
// - responsibilities in [0, 1], summing to 1 within K ulps of the output type (+ 1e-12 K);
// - entropy in [0, log K] (to the rounding of a K-term sum), variance >= 0;
// - every vector level within the twin rule (2 ulp + 1e-12 C, native/test/mixture_condition.h)
//   of the scalar reference wherever the reference is finite, and the same infinity where not
//   (a float32 infinity: any float32 rounding of a value within the tolerance of the float64 one);
// - a row's results do not depend on the other rows: in one input in four the decoded rows are
//   repeated 2-6 times and every copy must give the same bits as the original (other tile
//   slots, other chunks);
// - requesting a subset of the outputs gives the same bits for those outputs;
// - about one input in 1024 is repeated up to batch * K * dim >= 2^18 (where calls are split
//   over threads) and must give the same bits at 1 and 3 threads, scalar level included.
// Shapes reach every vector path: small tiles (K, dim <= 64), dense chunks, and the float32
// screen (dim >= 64, K >= 8); x and the outputs start 0-7 elements past a 64-byte boundary.
// Work per input is capped (batch * K * dim <= 16384 outside the rare large case).
//
// The fields up to x are decoded in the order and ranges of the first version of this harness,
// so the inputs saved in native/fuzz/regressions/fuzz_mixture still decode to their cases.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "../core/kernels.h"
#include "../core/mixture.h"
#include "../core/parallel.h"
#include "fuzz_input.h"

FUZZ_UNCOVERED_BEGIN
#include "../test/mixture_condition.h"
FUZZ_UNCOVERED_END

using namespace tweedie;
using fuzz::Input;
using fuzz::Shifted;

namespace {

constexpr size_t kMaxWork = 16384;             // batch * K * dim of an ordinary input
constexpr size_t kLargeWork = size_t(1) << 18;  // where mixture.cc splits a call over threads

struct Case {
  size_t K = 1, dim = 1, rows = 1;  // rows after repetition
  size_t unique = 1;                // rows decoded; row b repeats row b % unique
  bool f32 = false, large = false;
  size_t shift_x = 0, shift_out = 0;
  unsigned mask = 63;  // requested outputs of the subset run: r, mean, score, logd, entropy, variance
  std::vector<double> means, variances, logw, weights, alpha, sigma, x;
  double a(size_t b) const { return alpha[alpha.size() == 1 ? 0 : b]; }
  double s(size_t b) const { return sigma[sigma.size() == 1 ? 0 : b]; }
};

// ---- decoding (instrumented: it steers the fuzzer) ---------------------------------------------

bool decode(Input& in, Case* c) {
  const bool raw = in.range<int>(0, 3) == 0;
  c->f32 = in.flag();
  const int kind = in.range<int>(0, 3);  // shared, component, diagonal, empirical
  const int shape = in.range<int>(0, 2);
  c->K = shape == 2 ? in.range<size_t>(8, 40) : in.range<size_t>(1, 70);
  c->dim = shape == 2 ? in.range<size_t>(64, 90) : in.range<size_t>(1, 70);
  size_t rows = in.range<size_t>(1, 9);
  const size_t K = c->K, dim = c->dim;
  if (rows * K * dim > kMaxWork) rows = kMaxWork / (K * dim) > 0 ? kMaxWork / (K * dim) : 1;
  const double scale = std::pow(10.0, in.range<int>(-3, 4));
  const double offset = in.flag() ? scale * std::pow(10.0, in.range<int>(0, 8)) : 0;
  auto value = [&](double s, double off) { return raw ? in.any() : off + in.gaussish(s); };
  c->means.resize(K * dim);
  for (double& m : c->means) m = value(scale, offset);
  const size_t vlen = kind == 0 || kind == 3 ? 1 : kind == 1 ? K : K * dim;
  c->variances.resize(vlen);
  for (double& v : c->variances) v = kind == 3 ? 0 : raw ? in.any() : std::fabs(in.gaussish(scale * scale));
  c->logw.resize(K);
  c->weights.resize(K);
  double wsum = 0;
  for (size_t k = 0; k < K; ++k) {
    const int w = in.range<int>(0, 255);
    c->weights[k] = w == 0 && k > 0 ? 0 : 1 + w;
    wsum += c->weights[k];
  }
  for (size_t k = 0; k < K; ++k) {
    c->weights[k] /= wsum;
    c->logw[k] = c->weights[k] > 0 ? std::log(c->weights[k]) : -HUGE_VAL;
  }
  const size_t nl = in.flag() ? rows : 1;
  c->alpha.resize(nl);
  c->sigma.resize(nl);
  for (size_t i = 0; i < nl; ++i) {
    c->alpha[i] = raw ? in.any() : (in.range<int>(0, 5) == 0 ? 0 : in.uniform(0, 2));
    c->sigma[i] = raw ? in.any() : std::pow(10.0, in.uniform(-150, 150) * (in.flag() ? 1 : 0.04));
  }
  c->x.resize(rows * dim);
  for (size_t b = 0; b < rows; ++b) {
    const size_t k = in.range<size_t>(0, K - 1);
    const double a = c->alpha[nl == 1 ? 0 : b], s = c->sigma[nl == 1 ? 0 : b];
    const int mode = in.range<int>(0, 3);
    for (size_t j = 0; j < dim; ++j) {
      double v = raw ? in.any() : a * c->means[k * dim + j] + (mode == 0 ? s : mode == 1 ? scale : mode == 2 ? 1e4 * scale : 0) * in.gaussish(1);
      if (c->f32) v = static_cast<double>(static_cast<float>(v));
      c->x[b * dim + j] = v;
    }
  }
  // fields added after the first version
  c->shift_x = in.range<size_t>(0, 7);
  c->shift_out = in.range<size_t>(0, 7);
  c->mask = in.one_in(4) ? in.range<unsigned>(1, 62) : 63;
  const size_t work = rows * K * dim;
  size_t rep = in.one_in(4) ? in.range<size_t>(2, 6) : 1;
  if (c->large) rep = (kLargeWork + in.range<size_t>(0, kLargeWork / 2) + work - 1) / work;
  else if (rep * work > kMaxWork) rep = kMaxWork / work > 0 ? kMaxWork / work : 1;
  c->unique = rows;
  c->rows = rows * rep;
  c->x.resize(c->rows * dim);
  for (size_t i = rows * dim; i < c->rows * dim; ++i) c->x[i] = c->x[i % (rows * dim)];
  if (nl > 1) {
    c->alpha.resize(c->rows);
    c->sigma.resize(c->rows);
    for (size_t b = rows; b < c->rows; ++b) {
      c->alpha[b] = c->alpha[b % rows];
      c->sigma[b] = c->sigma[b % rows];
    }
  }
  // The addon's acceptance rules (native/addon/mixture_binding.cc).
  for (double v : c->x)
    if (!std::isfinite(v)) return false;
  for (double v : c->means)
    if (!std::isfinite(v)) return false;
  double vmax = 0;
  for (double v : c->variances) {
    if (!(v >= 0 && std::isfinite(v))) return false;
    vmax = std::fmax(vmax, v);
  }
  for (size_t i = 0; i < nl; ++i) {
    const double a = c->alpha[i], s = c->sigma[i];
    if (!(a >= 0 && std::isfinite(a)) || !(s >= kMixtureMinSigma && std::isfinite(s))) return false;
    if (!(a * a * vmax + s * s <= kMixtureMaxC)) return false;
  }
  return true;
}

// ---- checking (not instrumented) -------------------------------------------------------------
FUZZ_UNCOVERED_BEGIN

const char* const kOutputNames[] = {"responsibility", "mean", "score", "logDensity", "entropy", "variance"};

template <typename T>
struct Outs {
  // r [rows, K], mean and score [rows, dim], logd, entropy and variance [rows]; null when not requested
  std::unique_ptr<Shifted<T>> o[6];
  size_t width[6];
  const Shifted<T>* get(int i) const { return o[i].get(); }
};

template <typename T>
Outs<T> run(const Case& c, const Shifted<T>& x, unsigned mask = 63) {
  Outs<T> out;
  const size_t widths[6] = {c.K, c.dim, c.dim, 1, 1, 1};
  T* p[6];
  for (int i = 0; i < 6; ++i) {
    out.width[i] = widths[i];
    p[i] = nullptr;
    if (mask & (1u << i)) {
      out.o[i].reset(new Shifted<T>(c.rows * widths[i], c.shift_out));
      for (size_t e = 0; e < c.rows * widths[i]; ++e) (*out.o[i])[e] = std::numeric_limits<T>::quiet_NaN();
      p[i] = out.o[i]->data();
    }
  }
  const MixtureModel model{c.K, c.dim, c.means.data(), c.variances.data(), c.variances.size(), c.logw.data()};
  const MixtureLevels levels{c.alpha.data(), c.alpha.size() == 1 ? 0u : 1u, c.sigma.data(), c.sigma.size() == 1 ? 0u : 1u};
  const MixtureOutputs<T> mo{p[0], p[1], p[2], p[3], p[4], p[5]};
  if (mixture_posterior(x.data(), c.rows, model, levels, mo) != MixtureStatus::kOk) std::abort();
  if (!x.guards_intact()) std::abort();
  for (int i = 0; i < 6; ++i)
    if (out.o[i] && !out.o[i]->guards_intact()) {
      std::fprintf(stderr, "fuzz_mixture: write outside the %s output at %s\n", kOutputNames[i], simd_level_name(current_simd_level()));
      std::abort();
    }
  return out;
}

const Case* g_case = nullptr;  // the case being checked, for failure messages

[[noreturn]] void fail(const char* what, const char* level, size_t i, double got, double want) {
  std::fprintf(stderr, "fuzz_mixture: %s at %s, element %zu: %.17g vs %.17g\n", what, level, i, got, want);
  if (const Case* c = g_case) {
    const size_t vlen = c->variances.size();
    std::fprintf(stderr, "fuzz_mixture: K=%zu dim=%zu rows=%zu (%zu decoded) %s, variances %s, x at +%zu, outputs at +%zu, subset %u%s\n",
                 c->K, c->dim, c->rows, c->unique, c->f32 ? "float32" : "float64",
                 vlen == 1 ? "shared" : vlen == c->K ? "per component" : "diagonal", c->shift_x, c->shift_out, c->mask,
                 c->large ? ", large (1 and 3 threads)" : "");
    for (size_t b = 0; b < c->unique && b < 16; ++b)
      std::fprintf(stderr, "fuzz_mixture:   row %zu: alpha %.17g sigma %.17g\n", b, c->a(b), c->s(b));
  }
  std::abort();
}

// Invariants of the decoded rows (the copies are checked for equal bits separately).
template <typename T>
void invariants(const Case& c, const Outs<T>& o, const char* level) {
  const bool f32 = sizeof(T) == 4;
  const double u = f32 ? 0x1p-24 : 0x1p-53;
  for (int i = 0; i < 6; ++i) {
    const Shifted<T>& v = *o.get(i);
    for (size_t e = 0; e < c.unique * o.width[i]; ++e)
      if (std::isnan(v[e])) {
        char what[64];
        std::snprintf(what, sizeof what, "NaN %s", kOutputNames[i]);
        fail(what, level, e, v[e], 0);
      }
  }
  const Shifted<T>& r = *o.get(0);
  const Shifted<T>& entropy = *o.get(4);
  const Shifted<T>& variance = *o.get(5);
  const double Kd = static_cast<double>(c.K);
  for (size_t b = 0; b < c.unique; ++b) {
    double sum = 0;
    for (size_t k = 0; k < c.K; ++k) {
      const double rk = r[b * c.K + k];
      if (!(rk >= 0 && rk <= 1)) fail("responsibility outside [0, 1]", level, b * c.K + k, rk, 0);
      sum += rk;
    }
    if (!(std::fabs(sum - 1) <= 2 * u * Kd + 1e-12 * Kd)) fail("responsibilities do not sum to 1", level, b, sum, 1);
    const double H = entropy[b];
    // a sum of K terms: up to (2K + 4) roundings (e.g. alpha = 0 at tiny sigma, where every l_k
    // rounds to the same value and r_k = 1/K exactly)
    if (!(H >= 0 && H <= std::log(Kd) * (1 + (2 * Kd + 4) * u) + 4 * u)) fail("entropy outside [0, log K]", level, b, H, 0);
    if (!(variance[b] >= 0)) fail("negative variance", level, b, variance[b], 0);
  }
}

// Every copy of a row has the bits of the original.
template <typename T>
void copies_identical(const Case& c, const Outs<T>& o, const char* level) {
  if (c.rows == c.unique) return;
  for (int i = 0; i < 6; ++i) {
    const Shifted<T>* v = o.get(i);
    if (!v) continue;
    const size_t w = o.width[i];
    const size_t block = c.unique * w;
    for (size_t e = block; e < c.rows * w; ++e) {
      if (std::memcmp(&(*v)[e], &(*v)[e % block], sizeof(T)) != 0) {
        char what[96];
        std::snprintf(what, sizeof what, "%s of row %zu differs from its copy in row %zu", kOutputNames[i], e % block / w, e / w);
        fail(what, level, e, (*v)[e], (*v)[e % block]);
      }
    }
  }
}

template <typename T>
bool same_bits(const Outs<T>& a, const Outs<T>& b, unsigned mask, int* which) {
  for (int i = 0; i < 6; ++i) {
    if (!(mask & (1u << i))) continue;
    const Shifted<T>& x = *a.get(i);
    const Shifted<T>& y = *b.get(i);
    if (std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) != 0) {
      *which = i;
      return false;
    }
  }
  return true;
}

// The condition sums of the twin rule, computed for a row only when one of its outputs differs
// from the reference (most rows of most levels agree bit for bit), once per input.
class Conditions {
 public:
  explicit Conditions(const Case& c) : c_(c), m_{c.K, c.dim, c.means.data(), c.variances.data(), c.variances.size(), c.weights.data()}, rows_(c.unique) {}
  const mixture_condition::Cond& row(size_t b) {
    if (!rows_[b]) rows_[b].reset(new mixture_condition::Cond(mixture_condition::condition(m_, &c_.x[b * c_.dim], c_.a(b), c_.s(b))));
    return *rows_[b];
  }

 private:
  const Case& c_;
  mixture_condition::Model m_;
  std::vector<std::unique_ptr<mixture_condition::Cond>> rows_;
};

// The scalar reference at float64 on the same inputs (a float32 case's x is float32-exact): the
// value a float32 output rounds, computed once per input and only when needed (below).
class Wide {
 public:
  explicit Wide(const Case& c) : c_(c) {}
  double at(int output, size_t i) {
    if (!outs_) {
      Shifted<double> x(c_.x.size(), c_.shift_x);
      for (size_t e = 0; e < c_.x.size(); ++e) x[e] = c_.x[e];
      if (!set_simd_level(SimdLevel::kScalar)) std::abort();  // (each level's run sets its own)
      set_thread_count(1);
      outs_.reset(new Outs<double>(run<double>(c_, x)));
    }
    return (*outs_->get(output))[i];
  }

 private:
  const Case& c_;
  std::unique_ptr<Outs<double>> outs_;
};

// got within the twin rule of the reference want. Where want is +-inf, got must be the same
// infinity, except for a float32 output whose float64 value W is finite (beyond the float32
// range): there any value within the tolerance of W, rounded to float32, is right, an infinity
// of either sign included where W +- tol passes the float32 range (fuzz finding
// score-float32-overflow-near-tie: rounding decides a near-tie between two components whose
// score terms have opposite signs, both beyond the float32 range).
void close(double got, double want, double cond, bool f32, const char* what, const char* level, size_t i, Wide& wide,
           int output) {
  if (got == want) return;
  if (std::isfinite(want)) {
    if (!(std::fabs(got - want) <= mixture_condition::tolerance(want, cond, f32))) fail(what, level, i, got, want);
    return;
  }
  const double W = f32 ? wide.at(output, i) : want;
  if (!std::isfinite(W)) fail(what, level, i, got, want);  // beyond the double range: the same inf
  const double tol = mixture_condition::tolerance(W, cond, true);
  const double top = std::numeric_limits<float>::max();
  const bool ok = std::isfinite(got) ? std::fabs(got - W) <= tol : got > 0 ? W + tol >= top : W - tol <= -top;
  if (!ok) fail(what, level, i, got, want);
}

template <typename T>
void compare(const Case& c, const Outs<T>& got, const Outs<T>& want, Conditions& conds, Wide& wide, const char* level) {
  const bool f32 = sizeof(T) == 4;
  const Shifted<T>*g[6], *w[6];
  for (int i = 0; i < 6; ++i) {
    g[i] = got.get(i);
    w[i] = want.get(i);
  }
  for (size_t b = 0; b < c.unique; ++b) {
    bool same = true;
    for (int i = 0; i < 6 && same; ++i) {
      const size_t n = got.width[i];
      same = std::memcmp(g[i]->data() + b * n, w[i]->data() + b * n, n * sizeof(T)) == 0;
    }
    if (same) continue;
    const mixture_condition::Cond& cd = conds.row(b);
    for (size_t k = 0; k < c.K; ++k) {
      const size_t i = b * c.K + k;
      close((*g[0])[i], (*w[0])[i], cd.r[k], f32, "responsibility differs", level, i, wide, 0);
    }
    for (size_t j = 0; j < c.dim; ++j) {
      const size_t i = b * c.dim + j;
      close((*g[1])[i], (*w[1])[i], cd.mean[j], f32, "mean differs", level, i, wide, 1);
      close((*g[2])[i], (*w[2])[i], cd.score[j], f32, "score differs", level, i, wide, 2);
    }
    close((*g[3])[b], (*w[3])[b], cd.logd, f32, "logDensity differs", level, b, wide, 3);
    close((*g[4])[b], (*w[4])[b], cd.entropy, f32, "entropy differs", level, b, wide, 4);
    close((*g[5])[b], (*w[5])[b], cd.variance, f32, "variance differs", level, b, wide, 5);
  }
}

// One level: all outputs at 1 thread, its invariants; the subset run; 3 threads when large.
template <typename T>
Outs<T> run_level(const Case& c, const Shifted<T>& x, SimdLevel level) {
  const char* name = simd_level_name(level);
  if (!set_simd_level(level)) std::abort();
  set_thread_count(1);
  Outs<T> one = run<T>(c, x);
  invariants(c, one, name);
  copies_identical(c, one, name);
  int which = 0;
  if (c.mask != 63) {
    const Outs<T> part = run<T>(c, x, c.mask);
    if (!same_bits(part, one, c.mask, &which)) fail("a subset of the outputs gives other bits", name, which, 0, 0);
  }
  if (c.large) {
    set_thread_count(3);
    const Outs<T> three = run<T>(c, x);
    set_thread_count(1);
    if (!same_bits(three, one, 63, &which)) fail("3 threads give other bits than 1 thread", name, which, 0, 0);
  }
  return one;
}

template <typename T>
void fuzz_case(const Case& c) {
  fuzz::LevelGuard guard;
  Shifted<T> x(c.x.size(), c.shift_x);
  for (size_t i = 0; i < c.x.size(); ++i) x[i] = static_cast<T>(c.x[i]);
  const Outs<T> ref = run_level<T>(c, x, SimdLevel::kScalar);
  Conditions conds(c);
  Wide wide(c);
  for (SimdLevel level : fuzz::vector_levels()) {
    const Outs<T> got = run_level<T>(c, x, level);
    compare(c, got, ref, conds, wide, simd_level_name(level));
  }
}

// TWEEDIE_FUZZ_DUMP=1: the decoded case as JSON on stderr (for a standalone reproducer).
void dump(const Case& c) {
  static const bool on = [] {
    const char* v = std::getenv("TWEEDIE_FUZZ_DUMP");
    return v != nullptr && v[0] == '1';
  }();
  if (!on) return;
  auto arr = [](const char* name, const std::vector<double>& v, bool last = false) {
    std::fprintf(stderr, "  \"%s\": [", name);
    for (size_t i = 0; i < v.size(); ++i) std::fprintf(stderr, "%s%.17g", i ? ", " : "", v[i]);
    std::fprintf(stderr, "]%s\n", last ? "" : ",");
  };
  std::fprintf(stderr, "{\n  \"K\": %zu, \"dim\": %zu, \"rows\": %zu, \"float32\": %s, \"large\": %s,\n", c.K, c.dim, c.rows,
               c.f32 ? "true" : "false", c.large ? "true" : "false");
  std::fprintf(stderr, "  \"shift_x\": %zu, \"shift_out\": %zu, \"subset\": %u,\n", c.shift_x, c.shift_out, c.mask);
  arr("means", c.means);
  arr("variances", c.variances);
  arr("weights", c.weights);
  arr("alpha", c.alpha);
  arr("sigma", c.sigma);
  arr("x", c.x, true);
  std::fprintf(stderr, "}\n");
}

// Open findings (native/fuzz/regressions/fuzz_mixture/open/). With TWEEDIE_FUZZ_SKIP_OPEN=1 (what
// npm run fuzz sets unless --include-open) inputs that could hit one of them are skipped, so that
// a run looks for other failures instead of finding the same one again; the open inputs are
// replayed without it and must still fail. Delete a condition when its finding is fixed (and move
// its input up to regressions/fuzz_mixture/).
bool hits_open_finding(const Case&) {
  static const bool skip = [] {
    const char* v = std::getenv("TWEEDIE_FUZZ_SKIP_OPEN");
    return v != nullptr && v[0] == '1';
  }();
  // None is open: the last three were fixed (docs/fuzzing.md). A new one adds its condition
  // here: if (skip && <the case could hit it>) return true;
  (void)skip;
  return false;
}

FUZZ_UNCOVERED_END

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  Case c;
  c.large = in.rare(1024);
  if (!decode(in, &c)) return 0;
  dump(c);
  if (hits_open_finding(c)) return 0;
  g_case = &c;
  if (c.f32) fuzz_case<float>(c);
  else fuzz_case<double>(c);
  g_case = nullptr;
  return 0;
}

// libFuzzer harness: the mixture posterior (native/core/mixture.h) at the scalar reference and
// at every vector level the CPU has, for inputs the addon would accept (finite x and means,
// variances >= 0, log weights not NaN or +inf with one finite, alpha >= 0, sigma >= 1e-150,
// alpha^2 v + sigma^2 <= 1e300), decoded either "sane" (scaled Gaussians near or far from the
// means, sigma from 1e-150 to 1e150) or from raw bit patterns. Invariants, at every level:
// - no NaN in any output;
// - responsibilities in [0, 1], summing to 1 within K ulps of the output type (+ 1e-12 K);
// - entropy in [0, log K] (to the rounding of a K-term sum), variance >= 0;
// - every vector level within the twin rule (2 ulp + 1e-12 C, native/test/mixture_condition.h)
//   of the scalar reference wherever the reference is finite, and the same infinity where not;
// - results bit-identical at 1 and 3 threads.
// Shapes reach every vector path: small tiles (K, dim <= 64), dense chunks, and the float32
// screen (dim >= 64, K >= 8).
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "../core/kernels.h"
#include "../core/mixture.h"
#include "../core/parallel.h"
#include "../test/mixture_condition.h"

using namespace tweedie;

namespace {

struct Input {
  size_t K, dim, rows;
  std::vector<double> means, variances, logw, weights, alpha, sigma, x;
};

double sane(FuzzedDataProvider& p, double scale) {
  // a Gaussian-ish value from two bytes, scaled
  const double u = (p.ConsumeIntegral<uint16_t>() + 0.5) / 65536.0;
  return scale * std::tan(3.0 * (u - 0.5)) / 14.1;
}

bool decode(FuzzedDataProvider& p, Input* in, bool* f32) {
  const bool raw = p.ConsumeIntegralInRange<int>(0, 3) == 0;
  *f32 = p.ConsumeBool();
  const int kind = p.ConsumeIntegralInRange<int>(0, 3);  // shared, component, diagonal, empirical
  const int shape = p.ConsumeIntegralInRange<int>(0, 2);
  in->K = shape == 2 ? p.ConsumeIntegralInRange<size_t>(8, 40) : p.ConsumeIntegralInRange<size_t>(1, 70);
  in->dim = shape == 2 ? p.ConsumeIntegralInRange<size_t>(64, 90) : p.ConsumeIntegralInRange<size_t>(1, 70);
  in->rows = p.ConsumeIntegralInRange<size_t>(1, 9);
  const size_t K = in->K, dim = in->dim, rows = in->rows;
  const double scale = std::pow(10.0, p.ConsumeIntegralInRange<int>(-3, 4));
  const double offset = p.ConsumeBool() ? scale * std::pow(10.0, p.ConsumeIntegralInRange<int>(0, 8)) : 0;
  auto value = [&](double s, double off) { return raw ? p.ConsumeFloatingPoint<double>() : off + sane(p, s); };
  in->means.resize(K * dim);
  for (double& m : in->means) m = value(scale, offset);
  const size_t vlen = kind == 0 || kind == 3 ? 1 : kind == 1 ? K : K * dim;
  in->variances.resize(vlen);
  for (double& v : in->variances) v = kind == 3 ? 0 : raw ? p.ConsumeFloatingPoint<double>() : std::fabs(sane(p, scale * scale));
  in->logw.resize(K);
  in->weights.resize(K);
  double wsum = 0;
  for (size_t k = 0; k < K; ++k) {
    const int w = p.ConsumeIntegralInRange<int>(0, 255);
    in->weights[k] = w == 0 && k > 0 ? 0 : 1 + w;
    wsum += in->weights[k];
  }
  for (size_t k = 0; k < K; ++k) {
    in->weights[k] /= wsum;
    in->logw[k] = in->weights[k] > 0 ? std::log(in->weights[k]) : -HUGE_VAL;
  }
  const size_t nl = p.ConsumeBool() ? rows : 1;
  in->alpha.resize(nl);
  in->sigma.resize(nl);
  for (size_t i = 0; i < nl; ++i) {
    in->alpha[i] = raw ? p.ConsumeFloatingPoint<double>() : (p.ConsumeIntegralInRange<int>(0, 5) == 0 ? 0 : p.ConsumeFloatingPointInRange<double>(0, 2));
    in->sigma[i] = raw ? p.ConsumeFloatingPoint<double>() : std::pow(10.0, p.ConsumeFloatingPointInRange<double>(-150, 150) * (p.ConsumeBool() ? 1 : 0.04));
  }
  in->x.resize(rows * dim);
  for (size_t b = 0; b < rows; ++b) {
    const size_t k = p.ConsumeIntegralInRange<size_t>(0, K - 1);
    const double a = in->alpha[nl == 1 ? 0 : b], s = in->sigma[nl == 1 ? 0 : b];
    const int mode = p.ConsumeIntegralInRange<int>(0, 3);
    for (size_t j = 0; j < dim; ++j) {
      double v = raw ? p.ConsumeFloatingPoint<double>() : a * in->means[k * dim + j] + (mode == 0 ? s : mode == 1 ? scale : mode == 2 ? 1e4 * scale : 0) * sane(p, 1);
      if (*f32) v = static_cast<double>(static_cast<float>(v));
      in->x[b * dim + j] = v;
    }
  }
  // The addon's acceptance rules (native/addon/mixture_binding.cc).
  for (double v : in->x)
    if (!std::isfinite(v)) return false;
  for (double v : in->means)
    if (!std::isfinite(v)) return false;
  double vmax = 0;
  for (double v : in->variances) {
    if (!(v >= 0 && std::isfinite(v))) return false;
    vmax = std::fmax(vmax, v);
  }
  for (size_t i = 0; i < nl; ++i) {
    const double a = in->alpha[i], s = in->sigma[i];
    if (!(a >= 0 && std::isfinite(a)) || !(s >= kMixtureMinSigma && std::isfinite(s))) return false;
    if (!(a * a * vmax + s * s <= kMixtureMaxC)) return false;
  }
  return true;
}

template <typename T>
struct Outs {
  std::vector<T> r, mean, score, logd, entropy, variance;
};

template <typename T>
Outs<T> run(const Input& in) {
  Outs<T> o;
  const std::vector<T> x(in.x.begin(), in.x.end());
  o.r.resize(in.rows * in.K);
  o.mean.resize(in.rows * in.dim);
  o.score.resize(in.rows * in.dim);
  o.logd.resize(in.rows);
  o.entropy.resize(in.rows);
  o.variance.resize(in.rows);
  const MixtureModel model{in.K, in.dim, in.means.data(), in.variances.data(), in.variances.size(), in.logw.data()};
  const MixtureLevels levels{in.alpha.data(), in.alpha.size() == 1 ? 0u : 1u, in.sigma.data(), in.sigma.size() == 1 ? 0u : 1u};
  const MixtureOutputs<T> out{o.r.data(), o.mean.data(), o.score.data(), o.logd.data(), o.entropy.data(), o.variance.data()};
  if (mixture_posterior(x.data(), in.rows, model, levels, out) != MixtureStatus::kOk) std::abort();
  return o;
}

[[noreturn]] void fail(const char* what, const char* level, size_t i, double got, double want) {
  std::fprintf(stderr, "fuzz_mixture: %s at %s, element %zu: %.17g vs %.17g\n", what, level, i, got, want);
  std::abort();
}

template <typename T>
void invariants(const Input& in, const Outs<T>& o, const char* level) {
  const bool f32 = sizeof(T) == 4;
  const double u = f32 ? 0x1p-24 : 0x1p-53;
  auto no_nan = [&](const std::vector<T>& v, const char* what) {
    for (size_t i = 0; i < v.size(); ++i)
      if (std::isnan(v[i])) fail(what, level, i, v[i], 0);
  };
  no_nan(o.r, "NaN responsibility");
  no_nan(o.mean, "NaN mean");
  no_nan(o.score, "NaN score");
  no_nan(o.logd, "NaN logDensity");
  no_nan(o.entropy, "NaN entropy");
  no_nan(o.variance, "NaN variance");
  for (size_t b = 0; b < in.rows; ++b) {
    double sum = 0;
    for (size_t k = 0; k < in.K; ++k) {
      const double r = o.r[b * in.K + k];
      if (!(r >= 0 && r <= 1)) fail("responsibility outside [0, 1]", level, b * in.K + k, r, 0);
      sum += r;
    }
    if (!(std::fabs(sum - 1) <= 2 * u * static_cast<double>(in.K) + 1e-12 * static_cast<double>(in.K)))
      fail("responsibilities do not sum to 1", level, b, sum, 1);
    const double H = o.entropy[b];
    // a sum of K terms: up to (2K + 4) roundings (e.g. alpha = 0 at tiny sigma, where every l_k
    // rounds to the same value and r_k = 1/K exactly)
    const double Kd = static_cast<double>(in.K);
    if (!(H >= 0 && H <= std::log(Kd) * (1 + (2 * Kd + 4) * u) + 4 * u)) fail("entropy outside [0, log K]", level, b, H, 0);
    if (!(o.variance[b] >= 0)) fail("negative variance", level, b, o.variance[b], 0);
  }
}

void close(double got, double want, double cond, bool f32, const char* what, const char* level, size_t i) {
  if (got == want) return;
  if (!std::isfinite(want)) fail(what, level, i, got, want);  // the reference is +-inf: the same inf
  if (!(std::fabs(got - want) <= mixture_condition::tolerance(want, cond, f32))) fail(what, level, i, got, want);
}

template <typename T>
void compare(const Input& in, const Outs<T>& got, const Outs<T>& want, const char* level) {
  const bool f32 = sizeof(T) == 4;
  const mixture_condition::Model m{in.K, in.dim, in.means.data(), in.variances.data(), in.variances.size(), in.weights.data()};
  for (size_t b = 0; b < in.rows; ++b) {
    const mixture_condition::Cond c =
        mixture_condition::condition(m, &in.x[b * in.dim], in.alpha[in.alpha.size() == 1 ? 0 : b], in.sigma[in.sigma.size() == 1 ? 0 : b]);
    for (size_t k = 0; k < in.K; ++k) close(got.r[b * in.K + k], want.r[b * in.K + k], c.r[k], f32, "responsibility differs", level, b * in.K + k);
    for (size_t j = 0; j < in.dim; ++j) {
      const size_t i = b * in.dim + j;
      close(got.mean[i], want.mean[i], c.mean[j], f32, "mean differs", level, i);
      close(got.score[i], want.score[i], c.score[j], f32, "score differs", level, i);
    }
    close(got.logd[b], want.logd[b], c.logd, f32, "logDensity differs", level, b);
    close(got.entropy[b], want.entropy[b], c.entropy, f32, "entropy differs", level, b);
    close(got.variance[b], want.variance[b], c.variance, f32, "variance differs", level, b);
  }
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <typename T>
void fuzz(const Input& in) {
  set_thread_count(1);
  set_simd_level(SimdLevel::kScalar);
  const Outs<T> ref = run<T>(in);
  invariants(in, ref, "scalar");
  for (SimdLevel level : {SimdLevel::kSse2, SimdLevel::kAvx2, SimdLevel::kNeon}) {
    if (!simd_level_supported(level)) continue;
    set_simd_level(level);
    set_thread_count(1);
    const Outs<T> one = run<T>(in);
    invariants(in, one, simd_level_name(level));
    compare(in, one, ref, simd_level_name(level));
    set_thread_count(3);
    const Outs<T> three = run<T>(in);
    if (!same_bits(one.r, three.r) || !same_bits(one.mean, three.mean) || !same_bits(one.score, three.score) ||
        !same_bits(one.logd, three.logd) || !same_bits(one.entropy, three.entropy) || !same_bits(one.variance, three.variance))
      fail("thread counts differ", simd_level_name(level), 0, 0, 0);
  }
  set_thread_count(1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  Input in;
  bool f32 = false;
  if (!decode(p, &in, &f32)) return 0;
  if (f32) fuzz<float>(in);
  else fuzz<double>(in);
  return 0;
}

// The condition sums of the twin rule (reliability.md 3.3) for the mixture posterior, ported
// from test/helpers/mixture-reference.ts (referenceRow): per output element, C = the sum of the
// absolute values of the terms that make it up, including the way errors in the log-domain
// terms l_k move the responsibilities. Shared by native/test/mixture_test.cc and
// native/fuzz/fuzz_mixture.cc; a tolerance is then 2 ulp(b) + 1e-12 C.
#pragma once
#include <cmath>
#include <cstddef>
#include <vector>

namespace mixture_condition {

struct Model {
  size_t K, dim;
  const double* means;      // [K, dim]
  const double* variances;  // length K * dim, K or 1
  size_t vlen;
  const double* weights;  // [K], normalised
  double var(size_t k, size_t j) const {
    return vlen == K * dim ? variances[k * dim + j] : variances[vlen == 1 ? 0 : k];
  }
};

struct Cond {
  std::vector<double> r, mean, score;
  double logd = 0, entropy = 0, variance = 0;
};

inline Cond condition(const Model& m, const double* x, double a, double s) {
  const size_t K = m.K, dim = m.dim;
  const double inf = HUGE_VAL;
  std::vector<double> l(K), L(K);
  for (size_t k = 0; k < K; ++k) {
    if (m.weights[k] == 0) {
      l[k] = -inf;
      continue;
    }
    double acc = std::log(m.weights[k]), mag = std::fabs(acc);
    for (size_t j = 0; j < dim; ++j) {
      const double C = a * a * m.var(k, j) + s * s;
      const double e = x[j] - a * m.means[k * dim + j];
      const double t1 = std::log(2 * M_PI * C), t2 = e * e / C;
      acc -= 0.5 * (t1 + t2);
      mag += 0.5 * (std::fabs(t1) + t2);
    }
    l[k] = acc;
    L[k] = mag;
  }
  double mx = -inf;
  for (double v : l) mx = std::fmax(mx, v);
  std::vector<double> r(K);
  // Every quadratic here overflowed (e e / C beyond the range: a kernel's own sum may just
  // stay below it): rounding decides the responsibilities, as below at near-ties; r is then
  // uniform over the components of nonzero weight, each able to take any share.
  const bool all_overflow = mx == -inf;
  if (all_overflow)
    for (size_t k = 0; k < K; ++k) l[k] = m.weights[k] == 0 ? -inf : 0.0;
  if (all_overflow) mx = 0;
  double S = 0;
  for (size_t k = 0; k < K; ++k) S += (r[k] = std::exp(l[k] - mx));
  for (double& v : r) v /= S;
  double Lbar = 0;
  for (size_t k = 0; k < K; ++k)
    if (r[k] > 0) Lbar += r[k] * L[k];  // (a component with r_k = 0 may have L_k = inf)
  Cond out;
  out.r.resize(K);
  // First order, capped at 1e12 (a tolerance of 1: any share; also keeps 0 * inf out)
  for (size_t k = 0; k < K; ++k) out.r[k] = r[k] > 0 ? std::fmin(1e12, r[k] * (1 + L[k] + Lbar)) : 0.0;
  // Beyond first order: where the rounding error of l_k and of the largest l (about
  // eps (L_k + L_top)) reaches 1, a component can take up to exp(l_k - l_top + that error) of
  // the weight whatever its r_k here (0 at near-ties between huge quadratics: rounding decides).
  size_t top = 0;
  for (size_t k = 1; k < K; ++k)
    if (l[k] > l[top]) top = k;
  const double eps = 4 * static_cast<double>(dim + 2) * 0x1p-53;
  for (size_t k = 0; k < K; ++k) {
    const double err = eps * (L[k] + L[top]);
    if (l[k] > -inf && (err >= 1 || all_overflow)) out.r[k] = std::fmax(out.r[k], 1e12 * std::fmin(1.0, std::exp(l[k] - mx + err)));
  }
  for (size_t k = 0; k < K; ++k) {
    if (r[k] > 0) {
      const double lr = l[k] - mx - std::log(S);
      out.entropy += out.r[k] * (1 + std::fabs(lr)) + r[k] * (1 + L[k] + Lbar + std::fabs(lr));
    }
  }
  out.logd = 1 + Lbar + std::fabs(mx + std::log(S)) + std::log(static_cast<double>(K));
  out.mean.assign(dim, 0);
  out.score.assign(dim, 0);
  std::vector<double> mk(K * dim), mterm(K * dim), mean(dim, 0);
  for (size_t k = 0; k < K; ++k) {
    for (size_t j = 0; j < dim; ++j) {
      const double mu = m.means[k * dim + j], v = m.var(k, j), C = a * a * v + s * s;
      const double e = x[j] - a * mu, u = e / C, umag = (std::fabs(x[j]) + std::fabs(a * mu)) / C;
      // a v (.) is exactly 0 when a v = 0, also where e / C overflows (alpha = 0 at tiny sigma)
      const double av = a * v;
      mk[k * dim + j] = mu + (av == 0 ? 0.0 : av * u);
      mterm[k * dim + j] = std::fabs(mu) + (av == 0 ? 0.0 : av * umag);
      mean[j] += r[k] * mk[k * dim + j];
      if (r[k] + out.r[k] == 0) continue;  // a weight-0 term adds 0 (even where its magnitude overflows)
      out.mean[j] += (r[k] + out.r[k]) * mterm[k * dim + j];
      out.score[j] += (r[k] + out.r[k]) * umag;
    }
  }
  for (size_t k = 0; k < K; ++k) {
    double tr = 0, c2 = 0;
    for (size_t j = 0; j < dim; ++j) {
      const double v = m.var(k, j), C = a * a * v + s * s;
      tr += v * s * s / C;
      const double bb = std::fabs(mk[k * dim + j] - mean[j]) + mterm[k * dim + j] + out.mean[j];
      c2 += bb * bb;
    }
    if (r[k] + out.r[k] != 0) out.variance += (r[k] + out.r[k]) * (tr + c2);
  }
  out.variance /= static_cast<double>(dim);
  // Terms that are subnormal round with an absolute error of up to 2^-1075 each, whatever the
  // size of the sum: about 4 K (dim + 1) such roundings at most per output, added to every
  // condition as 1e12 times that (the tolerance takes 1e-12 of it).
  const double floor = 4.0 * static_cast<double>(K) * static_cast<double>(dim + 1) * 0x1p-1074 * 1e12;
  for (double& v : out.r) v += floor;
  for (double& v : out.mean) v += floor;
  for (double& v : out.score) v += floor;
  out.logd += floor;
  out.entropy += floor;
  out.variance += floor;
  return out;
}

// One ulp of b in the output type (an upper bound, as ulpOf in the TS helper).
inline double ulp_of(double b, bool f32) {
  return f32 ? std::fmax(std::fabs(b) * 0x1p-23, 0x1p-149) : std::fmax(std::fabs(b) * 0x1p-52, 4.9406564584124654e-324);
}

inline double tolerance(double b, double cond, bool f32) { return 2 * ulp_of(b, f32) + 1e-12 * cond; }

}  // namespace mixture_condition

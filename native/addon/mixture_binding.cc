// Bindings of the mixture family: mixturePosterior and mixturePosteriorAsync. The TypeScript
// layer (src/mixture.ts) validates first with the user-facing messages; these checks keep a
// direct call into the addon from reading or writing out of bounds or producing NaN from
// out-of-range values.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "../core/kernels.h"
#include "../core/mixture.h"
#include "../core/parallel.h"
#include "../core/simd/mixture_kernels.h"
#include "args.h"
#include "bindings.h"

namespace tweedie_addon {
namespace {

constexpr int kOutputs = 6;
const char* const kOutputNames[kOutputs] = {"responsibilities", "mean", "score", "logDensity", "entropy", "variance"};

struct PosteriorArgs {
  ArrayArg x, means, variances, log_weights, alpha, sigma;
  ArrayArg outs[kOutputs];
  size_t dim = 0, rows = 0, components = 0;
};

// Whether every element of a float64 (U = uint64_t) or float32 (U = uint32_t) array is
// finite: NaN and infinities have an all-ones exponent field, where (bits & exp) + the
// exponent's lowest bit carries into the sign bit. Branch-free over blocks (the loop
// vectorises), stopping after the first block that has one.
template <typename T, typename U>
bool all_finite_as(const ArrayArg& a) {
  static_assert(sizeof(T) == sizeof(U), "bit pattern type");
  constexpr int kBits = 8 * sizeof(U);
  constexpr U kExp = sizeof(U) == 8 ? U(0x7ff0000000000000ULL) : U(0x7f800000u);
  constexpr U kOne = sizeof(U) == 8 ? U(0x0010000000000000ULL) : U(0x00800000u);
  constexpr size_t kBlock = 4096;
  const T* p = static_cast<const T*>(a.data);
  for (size_t i0 = 0; i0 < a.length; i0 += kBlock) {
    const size_t i1 = a.length - i0 < kBlock ? a.length : i0 + kBlock;
    U acc = 0;
    for (size_t i = i0; i < i1; ++i) {
      U bits;
      std::memcpy(&bits, p + i, sizeof bits);
      acc |= (bits & kExp) + kOne;
    }
    if (acc >> (kBits - 1)) return false;
  }
  return true;
}

constexpr const char* kMeansNotFinite = "mixturePosterior: means must be finite";

// Reads and checks mixturePosterior(x, dim, means, variances, logWeights, alpha, sigma,
// responsibilities, mean, score, logDensity, entropy, variance); outputs may be null.
// With defer_means the finiteness of the means is left to the kernel (MixtureModel::check_means:
// checked within its first pass where it can, before any output is written; see
// check_status), except where a later check fails: then it is checked here first, so that
// the error is the same as without defer_means.
bool read_posterior_args(const Napi::CallbackInfo& info, PosteriorArgs* p, bool defer_means) {
  Napi::Env env = info.Env();
  if (!read_array(info, 0, "x", napi_float64_array, napi_float32_array, false, &p->x) ||
      !read_size(info, 1, "dim", &p->dim) ||
      !read_array(info, 2, "means", napi_float64_array, napi_float64_array, false, &p->means) ||
      !read_array(info, 3, "variances", napi_float64_array, napi_float64_array, false, &p->variances) ||
      !read_array(info, 4, "logWeights", napi_float64_array, napi_float64_array, false, &p->log_weights) ||
      !read_array(info, 5, "alpha", napi_float64_array, napi_float64_array, false, &p->alpha) ||
      !read_array(info, 6, "sigma", napi_float64_array, napi_float64_array, false, &p->sigma))
    return false;
  for (int i = 0; i < kOutputs; ++i) {
    if (!read_array(info, 7 + i, kOutputNames[i], p->x.type, p->x.type, true, &p->outs[i])) return false;
  }
  const size_t dim = p->dim;
  if (p->x.length % dim != 0) return throw_range(env, "mixturePosterior: the length of x must be a multiple of dim");
  p->rows = p->x.length / dim;
  p->components = p->log_weights.length;
  const size_t K = p->components;
  size_t kd, rk;
  if (K == 0) return throw_range(env, "mixturePosterior: logWeights must hold at least one component");
  if (__builtin_mul_overflow(K, dim, &kd) || p->means.length != kd)
    return throw_range(env, "mixturePosterior: means must have length components * dim");
  if (p->variances.length != kd && p->variances.length != K && p->variances.length != 1)
    return throw_range(env, "mixturePosterior: variances must have length 1, components or components * dim");
  const size_t rows = p->rows;
  if (p->alpha.length != 1 && p->alpha.length != rows)
    return throw_range(env, "mixturePosterior: alpha must have length 1 or rows");
  if (p->sigma.length != 1 && p->sigma.length != rows)
    return throw_range(env, "mixturePosterior: sigma must have length 1 or rows");
  if (__builtin_mul_overflow(rows, K, &rk)) return throw_range(env, "mixturePosterior: rows * components overflows");
  const size_t want_length[kOutputs] = {rk, p->x.length, p->x.length, rows, rows, rows};
  for (int i = 0; i < kOutputs; ++i) {
    const ArrayArg& o = p->outs[i];
    if (!o.present) continue;
    if (o.length != want_length[i])
      return throw_range(env, std::string("mixturePosterior: wrong length for ") + kOutputNames[i]);
    const ArrayArg* inputs[] = {&p->x, &p->means, &p->variances, &p->log_weights, &p->alpha, &p->sigma};
    for (const ArrayArg* in : inputs) {
      if (any_overlap(o, *in))
        return throw_range(env, std::string("mixturePosterior: ") + kOutputNames[i] + " must not overlap an input");
    }
    for (int j = 0; j < i; ++j) {
      if (any_overlap(o, p->outs[j]))
        return throw_range(env, std::string("mixturePosterior: ") + kOutputNames[i] + " must not overlap " +
                                    kOutputNames[j]);
    }
  }

  // Values: everything finite, variances >= 0, weights a distribution in the log domain.
  if (!(p->x.type == napi_float64_array ? all_finite_as<double, uint64_t>(p->x) : all_finite_as<float, uint32_t>(p->x)))
    return throw_range(env, "mixturePosterior: x must be finite");
  const auto means_ok = [&] {
    return tweedie::mixture_all_finite(static_cast<const double*>(p->means.data), p->means.length);
  };
  if (!defer_means && !means_ok()) return throw_range(env, kMeansNotFinite);
  // a later check's error, unless a mean is not finite (the error checked before it)
  const auto fail = [&](const char* what) {
    return throw_range(env, defer_means && !means_ok() ? kMeansNotFinite : what);
  };
  const double* v = static_cast<const double*>(p->variances.data);
  double vmax = 0;
  for (size_t i = 0; i < p->variances.length; ++i) {
    if (!(v[i] >= 0 && std::isfinite(v[i])))
      return fail("mixturePosterior: variances must be finite and >= 0");
    if (v[i] > vmax) vmax = v[i];
  }
  const double* lw = static_cast<const double*>(p->log_weights.data);
  bool any_weight = false;
  for (size_t k = 0; k < K; ++k) {
    if (std::isnan(lw[k]) || lw[k] == HUGE_VAL)
      return fail("mixturePosterior: logWeights must not be NaN or +Infinity");
    if (std::isfinite(lw[k])) any_weight = true;
  }
  if (!any_weight) return fail("mixturePosterior: at least one log weight must be finite");
  const double* al = static_cast<const double*>(p->alpha.data);
  const double* sg = static_cast<const double*>(p->sigma.data);
  const size_t levels = p->alpha.length > p->sigma.length ? p->alpha.length : p->sigma.length;
  for (size_t i = 0; i < levels; ++i) {
    const double a = al[p->alpha.length == 1 ? 0 : i];
    const double s = sg[p->sigma.length == 1 ? 0 : i];
    if (!(a >= 0 && std::isfinite(a))) return fail("mixturePosterior: alpha must be finite and >= 0");
    if (!(s >= tweedie::kMixtureMinSigma && std::isfinite(s)))
      return fail("mixturePosterior: sigma must be finite and >= 1e-150");
    if (!(a * a * vmax + s * s <= tweedie::kMixtureMaxC))
      return fail("mixturePosterior: alpha^2 * variance + sigma^2 must be at most 1e300");
  }
  return true;
}

template <typename T>
tweedie::MixtureStatus run_posterior(const PosteriorArgs& p, bool check_means) {
  tweedie::MixtureModel model{p.components,
                              p.dim,
                              static_cast<const double*>(p.means.data),
                              static_cast<const double*>(p.variances.data),
                              p.variances.length,
                              static_cast<const double*>(p.log_weights.data)};
  model.check_means = check_means;
  const tweedie::MixtureLevels levels{static_cast<const double*>(p.alpha.data), p.alpha.length == 1 ? 0u : 1u,
                                      static_cast<const double*>(p.sigma.data), p.sigma.length == 1 ? 0u : 1u};
  auto ptr = [&](int i) { return p.outs[i].present ? static_cast<T*>(p.outs[i].data) : nullptr; };
  const tweedie::MixtureOutputs<T> out{ptr(0), ptr(1), ptr(2), ptr(3), ptr(4), ptr(5)};
  return tweedie::mixture_posterior(static_cast<const T*>(p.x.data), p.rows, model, levels, out);
}

bool check_status(Napi::Env env, tweedie::MixtureStatus status) {
  switch (status) {
    case tweedie::MixtureStatus::kOk: return true;
    case tweedie::MixtureStatus::kSizeOverflow:
      return throw_range(env, "mixturePosterior: the workspace size overflows (components and dim too large)");
    case tweedie::MixtureStatus::kNoMemory:
      return throw_range(env, "mixturePosterior: could not allocate the workspace");
    case tweedie::MixtureStatus::kNotFinite: return throw_range(env, kMeansNotFinite);
  }
  return true;
}

// Runs mixturePosterior on the libuv pool. The inputs are copied when the call is made (the
// caller may change or transfer its arrays meanwhile); the outputs are computed into owned
// buffers and copied into the caller's arrays on the main thread, which are kept alive by
// references until then.
class PosteriorWorker : public Napi::AsyncWorker {
 public:
  explicit PosteriorWorker(Napi::Env env)
      : Napi::AsyncWorker(env, "tweedie:mixturePosteriorAsync"), deferred_(Napi::Promise::Deferred::New(env)) {}

  // Copies the inputs and makes the output buffers; false (a JS error thrown) when memory runs out.
  bool init(const Napi::CallbackInfo& info, const PosteriorArgs& p) {
    args_ = p;
    ArrayArg* inputs[] = {&args_.x, &args_.means, &args_.variances, &args_.log_weights, &args_.alpha, &args_.sigma};
    for (int i = 0; i < 6; ++i) {
      if (!copy_in(inputs[i], &in_[i])) return throw_range(info.Env(), "mixturePosteriorAsync: out of memory");
    }
    for (int i = 0; i < kOutputs; ++i) {
      ArrayArg& o = args_.outs[i];
      if (!o.present) continue;
      size_t bytes;
      if (__builtin_mul_overflow(o.length, o.element_size, &bytes) || !out_[i].allocate(bytes))
        return throw_range(info.Env(), "mixturePosteriorAsync: out of memory");
      o.data = out_[i].data();
      refs_[i] = Napi::Persistent(info[7 + i].As<Napi::TypedArray>());
    }
    return true;
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    // the means were checked when the call was made (read_posterior_args)
    status_ = args_.x.type == napi_float64_array ? run_posterior<double>(args_, false) : run_posterior<float>(args_, false);
    if (status_ != tweedie::MixtureStatus::kOk) SetError("workspace");
  }

  void OnOK() override {
    Napi::Env env = Env();
    for (int i = 0; i < kOutputs; ++i) {
      const ArrayArg& o = args_.outs[i];
      if (!o.present) continue;
      napi_typedarray_type type;
      size_t length;
      void* data;
      bool detached;
      const bool readable = typed_info(env, refs_[i].Value(), &type, &length, &data, &detached);
      if (!readable || detached || length != o.length || type != o.type) {
        deferred_.Reject(Napi::TypeError::New(env, std::string("mixturePosteriorAsync: ") + kOutputNames[i] +
                                                       " was detached or changed during the call")
                             .Value());
        return;
      }
      if (o.length) std::memcpy(data, out_[i].data(), o.length * o.element_size);
    }
    deferred_.Resolve(env.Undefined());
  }

  void OnError(const Napi::Error&) override {
    const char* why = status_ == tweedie::MixtureStatus::kSizeOverflow
                          ? "mixturePosteriorAsync: the workspace size overflows (components and dim too large)"
                          : "mixturePosteriorAsync: could not allocate the workspace";
    deferred_.Reject(Napi::RangeError::New(Env(), why).Value());
  }

 private:
  static bool copy_in(ArrayArg* a, OwnedBytes* owned) {
    size_t bytes;
    if (__builtin_mul_overflow(a->length, a->element_size, &bytes) || !owned->allocate(bytes)) return false;
    if (bytes) std::memcpy(owned->data(), a->data, bytes);
    a->data = owned->data();
    return true;
  }

  Napi::Promise::Deferred deferred_;
  PosteriorArgs args_;
  OwnedBytes in_[6];
  OwnedBytes out_[kOutputs];
  Napi::Reference<Napi::TypedArray> refs_[kOutputs];
  tweedie::MixtureStatus status_ = tweedie::MixtureStatus::kOk;
};

}  // namespace

// mixturePosterior(x, dim, means, variances, logWeights, alpha, sigma,
//                  responsibilities | null, mean | null, score | null, logDensity | null, entropy | null, variance | null)
Napi::Value MixturePosterior(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PosteriorArgs p;
  if (!read_posterior_args(info, &p, true)) return env.Undefined();
  size_t bytes;
  tweedie::MixtureStatus sized = tweedie::mixture_workspace_bytes(p.rows, p.components, p.dim, &bytes);
  if (sized != tweedie::MixtureStatus::kOk &&
      !tweedie::mixture_all_finite(static_cast<const double*>(p.means.data), p.means.length))
    sized = tweedie::MixtureStatus::kNotFinite;  // the error checked first
  if (!check_status(env, sized)) return env.Undefined();
  const tweedie::MixtureStatus status =
      p.x.type == napi_float64_array ? run_posterior<double>(p, true) : run_posterior<float>(p, true);
  check_status(env, status);
  return env.Undefined();
}

// mixtureFmaPeak(iterations, dtype, threads, level?) -> number: the benchmarks' compute
// yardstick. Runs `threads` parts at once on the thread pool, each `iterations` rounds of
// independent FMA chains of one width: level 'avx2' (2 x 10 chains of 8 floats / 4 doubles: 320
// float32 flops per round, 160 float64) or 'avx512' (2 x 12 chains of 16 floats / 8 doubles: 768
// per round, 384 float64); without a level, the widest the CPU has (AVX-512 where present, else
// AVX2). Returns a checksum (the caller times the call). Throws a
// RangeError when the CPU lacks the level or the addon was built without it.
Napi::Value MixtureFmaPeak(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsString() || !info[2].IsNumber() ||
      !(info.Length() < 4 || info[3].IsUndefined() || info[3].IsString())) {
    throw_type(env, "mixtureFmaPeak(iterations: number, dtype: 'float32' | 'float64', threads: number, level?: 'avx2' | 'avx512')");
    return env.Undefined();
  }
  const double iters = info[0].As<Napi::Number>().DoubleValue();
  const double threads = info[2].As<Napi::Number>().DoubleValue();
  const std::string dtype = info[1].As<Napi::String>().Utf8Value();
  const std::string level = info.Length() >= 4 && info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "";
  if (!(iters >= 1 && iters <= 1e12) || !(threads >= 1 && threads <= 256) || (dtype != "float32" && dtype != "float64") ||
      !(level.empty() || level == "avx2" || level == "avx512")) {
    throw_range(env, "mixtureFmaPeak: iterations in [1, 1e12], dtype 'float32' or 'float64', threads in [1, 256], level 'avx2' or 'avx512'");
    return env.Undefined();
  }
#if defined(TWEEDIE_X86_SIMD)
  bool wide = level == "avx512";
#if defined(TWEEDIE_X86_AVX512)
  const bool have512 = tweedie::simd_level_supported(tweedie::SimdLevel::kAvx512);
#else
  const bool have512 = false;
#endif
  if (level.empty()) wide = have512;
  if (wide && !have512) {
    throw_range(env, "mixtureFmaPeak: this CPU (or this build) has no AVX-512");
    return env.Undefined();
  }
  if (!wide && !tweedie::simd_level_supported(tweedie::SimdLevel::kAvx2)) {
    throw_range(env, "mixtureFmaPeak: this CPU has no AVX2+FMA");
    return env.Undefined();
  }
  const long n = static_cast<long>(iters);
  const bool f32 = dtype == "float32";
  double sums[256] = {};
  tweedie::run_parts(static_cast<int>(threads), [&](int p) {
#if defined(TWEEDIE_X86_AVX512)
    if (wide) {
      sums[p] = f32 ? static_cast<double>(tweedie::fma_peak_avx512_f32(n)) : tweedie::fma_peak_avx512_f64(n);
      return;
    }
#endif
    sums[p] = f32 ? static_cast<double>(tweedie::fma_peak_avx2_f32(n)) : tweedie::fma_peak_avx2_f64(n);
  });
  double total = 0;
  for (int p = 0; p < static_cast<int>(threads); ++p) total += sums[p];
  return Napi::Number::New(env, total);
#else
  throw_range(env, "mixtureFmaPeak: built without the x86-64 vector levels");
  return env.Undefined();
#endif
}

// mixturePosteriorAsync(same arguments) -> Promise<undefined>: the outputs are filled when it resolves.
Napi::Value MixturePosteriorAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PosteriorArgs p;
  if (!read_posterior_args(info, &p, false)) return env.Undefined();
  size_t bytes;
  if (!check_status(env, tweedie::mixture_workspace_bytes(p.rows, p.components, p.dim, &bytes)))
    return env.Undefined();
  PosteriorWorker* worker = new (std::nothrow) PosteriorWorker(env);
  if (worker == nullptr) {
    throw_range(env, "mixturePosteriorAsync: out of memory");
    return env.Undefined();
  }
  if (!worker->init(info, p)) {
    delete worker;
    return env.Undefined();
  }
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace tweedie_addon

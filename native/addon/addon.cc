// Thin node-addon-api bindings over native/core. No maths here: read and check arguments,
// call the core, return. Per-environment state lives in the Addon instance (context-aware).
#include <napi.h>

#include "../core/kernels.h"
#include "../core/ops.h"
#include "../core/parallel.h"
#include "../core/philox.h"
#include "args.h"

namespace tweedie_addon {
namespace {

using tweedie::RowCoefficients;

bool is_float(const ArrayArg& a) { return a.type == napi_float32_array || a.type == napi_float64_array; }

Napi::Value Philox4x32(const Napi::CallbackInfo& info) {
  ArrayArg counter, key, out;
  if (!read_array(info, 0, "counter", napi_uint32_array, napi_uint32_array, false, &counter) ||
      !read_array(info, 1, "key", napi_uint32_array, napi_uint32_array, false, &key) ||
      !read_array(info, 2, "out", napi_uint32_array, napi_uint32_array, false, &out))
    return info.Env().Undefined();
  if (counter.length != 4 || key.length != 2 || out.length != 4) {
    throw_range(info.Env(), "philox4x32 needs counter[4], key[2], out[4]");
    return info.Env().Undefined();
  }
  const uint32_t* c = static_cast<const uint32_t*>(counter.data);
  const uint32_t* k = static_cast<const uint32_t*>(key.data);
  const tweedie::PhiloxBlock b = tweedie::philox4x32(c[0], c[1], c[2], c[3], k[0], k[1]);
  uint32_t* o = static_cast<uint32_t*>(out.data);
  for (int i = 0; i < 4; ++i) o[i] = b.w[i];
  return info.Env().Undefined();
}

// normalFill(out, seedLo, seedHi, streamLo, streamHi, offsetLo, offsetHi)
Napi::Value NormalFill(const Napi::CallbackInfo& info) {
  ArrayArg out;
  uint64_t seed, stream, offset;
  if (!read_array(info, 0, "out", napi_float64_array, napi_float32_array, false, &out) ||
      !read_u64_pair(info, 1, "seed", &seed) || !read_u64_pair(info, 3, "stream", &stream) ||
      !read_u64_pair(info, 5, "offset", &offset))
    return info.Env().Undefined();
  if (out.length > 0 && offset + (out.length - 1) < offset) {
    throw_range(info.Env(), "offset + out.length exceeds 2^64 normals");
    return info.Env().Undefined();
  }
  if (out.type == napi_float64_array)
    tweedie::normal_fill(static_cast<double*>(out.data), out.length, seed, stream, offset);
  else
    tweedie::normal_fill(static_cast<float*>(out.data), out.length, seed, stream, offset);
  return info.Env().Undefined();
}

// Reads per-row coefficient arrays a (index ai) and c (index ai + 1): Float64Array of length
// 1 (broadcast) or rows.
bool read_coefficients(const Napi::CallbackInfo& info, size_t ai, size_t rows, ArrayArg* a, ArrayArg* c,
                       RowCoefficients* k) {
  if (!read_array(info, ai, "a", napi_float64_array, napi_float64_array, false, a) ||
      !read_array(info, ai + 1, "c", napi_float64_array, napi_float64_array, false, c))
    return false;
  if ((a->length != 1 && a->length != rows) || (c->length != 1 && c->length != rows))
    return throw_range(info.Env(), "row coefficients must have length 1 or rows");
  *k = RowCoefficients{static_cast<const double*>(a->data), a->length == 1 ? 0u : 1u,
                       static_cast<const double*>(c->data), c->length == 1 ? 0u : 1u};
  return true;
}

// combine2(out, x, y, dim, a, c): out = a x + c y per row.
Napi::Value Combine2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArrayArg out, x, y, a, c;
  size_t dim;
  RowCoefficients k;
  if (!read_array(info, 0, "out", napi_float64_array, napi_float32_array, false, &out) ||
      !read_array(info, 1, "x", out.type, out.type, false, &x) ||
      !read_array(info, 2, "y", out.type, out.type, false, &y) || !read_size(info, 3, "dim", &dim))
    return env.Undefined();
  if (x.length != out.length || y.length != out.length || out.length % dim != 0) {
    throw_range(env, "combine2: out, x and y must have the same length, a multiple of dim");
    return env.Undefined();
  }
  const size_t rows = out.length / dim;
  if (!read_coefficients(info, 4, rows, &a, &c, &k)) return env.Undefined();
  if (partial_overlap(out, x) || partial_overlap(out, y)) {
    throw_range(env, "combine2: out may be x or y but must not partly overlap them");
    return env.Undefined();
  }
  if (out.type == napi_float64_array)
    tweedie::combine2_rows(static_cast<double*>(out.data), static_cast<const double*>(x.data),
                           static_cast<const double*>(y.data), rows, dim, k);
  else
    tweedie::combine2_rows(static_cast<float*>(out.data), static_cast<const float*>(x.data),
                           static_cast<const float*>(y.data), rows, dim, k);
  return env.Undefined();
}

// addNoise(out, epsOut | null, x0, dim, a, c, seedLo, seedHi, streams | null)
// streams: Uint32Array [lo0, hi0, lo1, hi1, ...] of length 2 * rows.
Napi::Value AddNoise(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArrayArg out, eps, x0, a, c, streams;
  size_t dim;
  uint64_t seed;
  RowCoefficients k;
  if (!read_array(info, 0, "out", napi_float64_array, napi_float32_array, false, &out) ||
      !read_array(info, 1, "epsOut", out.type, out.type, true, &eps) ||
      !read_array(info, 2, "x0", out.type, out.type, false, &x0) || !read_size(info, 3, "dim", &dim))
    return env.Undefined();
  if (x0.length != out.length || (eps.present && eps.length != out.length) || out.length % dim != 0) {
    throw_range(env, "addNoise: out, epsOut and x0 must have the same length, a multiple of dim");
    return env.Undefined();
  }
  const size_t rows = out.length / dim;
  if (!read_coefficients(info, 4, rows, &a, &c, &k) || !read_u64_pair(info, 6, "seed", &seed) ||
      !read_array(info, 8, "streams", napi_uint32_array, napi_uint32_array, true, &streams))
    return env.Undefined();
  if (streams.present && streams.length != 2 * rows) {
    throw_range(env, "addNoise: streams must hold two words per row");
    return env.Undefined();
  }
  if (partial_overlap(out, x0) || any_overlap(eps, out) || any_overlap(eps, x0)) {
    throw_range(env, "addNoise: out may be x0; epsOut must not overlap out or x0");
    return env.Undefined();
  }
  const uint32_t* sp = streams.present ? static_cast<const uint32_t*>(streams.data) : nullptr;
  if (out.type == napi_float64_array)
    tweedie::add_noise_rows(static_cast<double*>(out.data), static_cast<double*>(eps.present ? eps.data : nullptr),
                            static_cast<const double*>(x0.data), rows, dim, k, seed, sp);
  else
    tweedie::add_noise_rows(static_cast<float*>(out.data), static_cast<float*>(eps.present ? eps.data : nullptr),
                            static_cast<const float*>(x0.data), rows, dim, k, seed, sp);
  return env.Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("simd", tweedie::simd_level_name(tweedie::current_simd_level()));
  o.Set("bestSimd", tweedie::simd_level_name(tweedie::best_simd_level()));
  Napi::Array levels = Napi::Array::New(env);
  uint32_t n = 0;
  for (int l = 0; l <= 3; ++l) {
    const auto level = static_cast<tweedie::SimdLevel>(l);
    if (tweedie::simd_level_supported(level)) levels.Set(n++, tweedie::simd_level_name(level));
  }
  o.Set("simdLevels", levels);
  o.Set("threads", static_cast<double>(tweedie::thread_count()));
  return o;
}

// setSimd(name) -> boolean (false when the CPU lacks the level)
Napi::Value SetSimd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    throw_type(env, "Expected a string for simd level");
    return env.Undefined();
  }
  tweedie::SimdLevel level;
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (!tweedie::parse_simd_level(name.c_str(), &level)) {
    throw_range(env, "Unknown simd level '" + name + "': expected scalar, sse2, avx2 or neon");
    return env.Undefined();
  }
  return Napi::Boolean::New(env, tweedie::set_simd_level(level));
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) {
    throw_type(env, "Expected a number for threads");
    return env.Undefined();
  }
  const double d = info[0].As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= 256) || d != static_cast<double>(static_cast<int>(d))) {
    throw_range(env, "Expected an integer from 1 to 256 for threads");
    return env.Undefined();
  }
  tweedie::set_thread_count(static_cast<int>(d));
  return env.Undefined();
}

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
                             InstanceMethod<&Addon::Call<Philox4x32>>("philox4x32"),
                             InstanceMethod<&Addon::Call<NormalFill>>("normalFill"),
                             InstanceMethod<&Addon::Call<Combine2>>("combine2"),
                             InstanceMethod<&Addon::Call<AddNoise>>("addNoise"),
                             InstanceMethod<&Addon::Call<Info>>("info"),
                             InstanceMethod<&Addon::Call<SetSimd>>("setSimd"),
                             InstanceMethod<&Addon::Call<SetThreads>>("setThreads"),
                         });
  }

 private:
  template <Napi::Value (*F)(const Napi::CallbackInfo&)>
  Napi::Value Call(const Napi::CallbackInfo& info) {
    return F(info);
  }
};

}  // namespace
}  // namespace tweedie_addon

using TweedieAddon = tweedie_addon::Addon;
NODE_API_ADDON(TweedieAddon)

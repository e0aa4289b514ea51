// Bindings of the noise family: combine2, addNoise.
#include <cstring>

#include "../core/ops.h"
#include "args.h"
#include "bindings.h"

namespace tweedie_addon {
namespace {

using tweedie::RowCoefficients;

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

}  // namespace

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

// copyBytes(dst, src): memcpy of equal-sized typed arrays. The benchmarks' bandwidth yardstick.
Napi::Value CopyBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArrayArg dst, src;
  if (!read_array(info, 0, "dst", napi_float64_array, napi_float32_array, false, &dst) ||
      !read_array(info, 1, "src", dst.type, dst.type, false, &src))
    return env.Undefined();
  if (dst.length != src.length || any_overlap(dst, src)) {
    throw_range(env, "copyBytes: dst and src must have the same length and not overlap");
    return env.Undefined();
  }
  if (dst.length) std::memcpy(dst.data, src.data, dst.length * dst.element_size);
  return env.Undefined();
}

}  // namespace tweedie_addon

// Bindings of the step family: lincomb, copyFinite.
#include "../core/step.h"
#include "args.h"
#include "bindings.h"

namespace tweedie_addon {

// lincomb(out, dim, terms: FloatArray[], coef: Float64Array, coefPerRow: boolean,
//         noise: Uint32Array [seedLo, seedHi, indexHi] | null, streams: Uint32Array | null)
Napi::Value Lincomb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArrayArg out, coef, noise, streams;
  size_t dim = 0;
  if (!read_array(info, 0, "out", napi_float64_array, napi_float32_array, false, &out) ||
      !read_size(info, 1, "dim", &dim))
    return env.Undefined();
  if (out.length % dim != 0) {
    throw_range(env, "lincomb: out.length must be a multiple of dim");
    return env.Undefined();
  }
  const size_t rows = out.length / dim;
  if (!info[2].IsArray()) {
    throw_type(env, "Expected an array of typed arrays for terms");
    return env.Undefined();
  }
  Napi::Array list = info[2].As<Napi::Array>();
  const uint32_t n_terms = list.Length();
  if (n_terms < 1 || n_terms > static_cast<uint32_t>(tweedie::kMaxStepTerms)) {
    throw_range(env, "lincomb: 1 to 8 terms");
    return env.Undefined();
  }
  const void* term_ptrs[tweedie::kMaxStepTerms];
  for (uint32_t j = 0; j < n_terms; ++j) {
    ArrayArg t;
    if (!read_typed(env, list.Get(j), "terms", out.type, out.type, &t)) return env.Undefined();
    if (t.length != out.length) {
      throw_range(env, "lincomb: every term must have out's dtype and length");
      return env.Undefined();
    }
    if (partial_overlap(out, t)) {
      throw_range(env, "lincomb: out may be a term but must not partly overlap one");
      return env.Undefined();
    }
    term_ptrs[j] = t.data;
  }
  if (!read_array(info, 3, "coef", napi_float64_array, napi_float64_array, false, &coef) ||
      !read_array(info, 5, "noise", napi_uint32_array, napi_uint32_array, true, &noise) ||
      !read_array(info, 6, "streams", napi_uint32_array, napi_uint32_array, true, &streams))
    return env.Undefined();
  if (!info[4].IsBoolean()) {
    throw_type(env, "Expected a boolean for coefPerRow");
    return env.Undefined();
  }
  const bool per_row = info[4].As<Napi::Boolean>().Value();
  const size_t n_coef = n_terms + (noise.present ? 1u : 0u);
  if (coef.length != n_coef * (per_row ? rows : 1u)) {
    throw_range(env, "lincomb: coef must hold one value per term (and noise), per row when coefPerRow");
    return env.Undefined();
  }
  tweedie::StepNoise spec{};
  if (noise.present) {
    if (noise.length != 3 || (streams.present && streams.length != 2 * rows) || dim > 0xffffffffu) {
      throw_range(env, "lincomb: noise is [seedLo, seedHi, indexHi]; streams two words per row; dim < 2^32");
      return env.Undefined();
    }
    const uint32_t* w = static_cast<const uint32_t*>(noise.data);
    spec.seed = (static_cast<uint64_t>(w[1]) << 32) | w[0];
    spec.index_hi = w[2];
    spec.stream_words = streams.present ? static_cast<const uint32_t*>(streams.data) : nullptr;
  }
  const double* c = static_cast<const double*>(coef.data);
  if (out.type == napi_float64_array) {
    const double* terms[tweedie::kMaxStepTerms];
    for (uint32_t j = 0; j < n_terms; ++j) terms[j] = static_cast<const double*>(term_ptrs[j]);
    tweedie::lincomb_rows(static_cast<double*>(out.data), rows, dim, terms, static_cast<int>(n_terms), c, per_row,
                          noise.present ? &spec : nullptr);
  } else {
    const float* terms[tweedie::kMaxStepTerms];
    for (uint32_t j = 0; j < n_terms; ++j) terms[j] = static_cast<const float*>(term_ptrs[j]);
    tweedie::lincomb_rows(static_cast<float*>(out.data), rows, dim, terms, static_cast<int>(n_terms), c, per_row,
                          noise.present ? &spec : nullptr);
  }
  return env.Undefined();
}

// copyFinite(out, src) -> index of src's first NaN or infinity, or -1 (then out holds src,
// rounded to out's dtype). out may be src itself (only checks); no partial overlap.
Napi::Value CopyFinite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArrayArg out, src;
  if (!read_array(info, 0, "out", napi_float64_array, napi_float32_array, false, &out) ||
      !read_array(info, 1, "src", napi_float64_array, napi_float32_array, false, &src))
    return env.Undefined();
  if (out.length != src.length) {
    throw_range(env, "copyFinite: out and src must have the same length");
    return env.Undefined();
  }
  if (any_overlap(out, src) && !(out.data == src.data && out.type == src.type)) {
    throw_range(env, "copyFinite: out may be src but must not partly overlap it");
    return env.Undefined();
  }
  const size_t n = src.length;
  size_t bad;
  const bool out64 = out.type == napi_float64_array, src64 = src.type == napi_float64_array;
  if (out64 && src64) {
    bad = tweedie::copy_finite(static_cast<double*>(out.data), static_cast<const double*>(src.data), n);
  } else if (out64) {
    bad = tweedie::copy_finite(static_cast<double*>(out.data), static_cast<const float*>(src.data), n);
  } else if (src64) {
    bad = tweedie::copy_finite(static_cast<float*>(out.data), static_cast<const double*>(src.data), n);
  } else {
    bad = tweedie::copy_finite(static_cast<float*>(out.data), static_cast<const float*>(src.data), n);
  }
  return Napi::Number::New(env, bad < n ? static_cast<double>(bad) : -1.0);
}

}  // namespace tweedie_addon

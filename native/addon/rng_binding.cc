// Bindings of the rng family: philox4x32, normalFill.
#include "../core/ops.h"
#include "../core/philox.h"
#include "args.h"
#include "bindings.h"

namespace tweedie_addon {

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

}  // namespace tweedie_addon

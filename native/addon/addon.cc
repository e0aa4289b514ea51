// The addon's entry point: registers every binding. Each family's bindings live in
// <family>_binding.cc; they are thin (read and check arguments, call native/core, return).
// Per-environment state lives in the Addon instance, so the addon is context-aware.
#include <napi.h>

#include "../core/kernels.h"
#include "../core/parallel.h"
#include "args.h"
#include "bindings.h"

namespace tweedie_addon {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("simd", tweedie::simd_level_name(tweedie::current_simd_level()));
  o.Set("bestSimd", tweedie::simd_level_name(tweedie::best_simd_level()));
  Napi::Array levels = Napi::Array::New(env);
  uint32_t n = 0;
  for (int l = 0; l <= tweedie::kLastSimdLevel; ++l) {
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
    throw_range(env, "Unknown simd level '" + name + "': expected scalar, sse2, avx2, avx512 or neon");
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

namespace {

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    (void)env;
    DefineAddon(exports, {
#define TWEEDIE_BINDING(js_name, fn) InstanceMethod<&Addon::Call<fn>>(js_name),
                             TWEEDIE_BINDINGS
#undef TWEEDIE_BINDING
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

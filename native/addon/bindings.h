// Every binding the addon exports, as TWEEDIE_BINDING(js name, C++ function). A new family
// declares its functions here and adds its lines to TWEEDIE_BINDINGS.
#pragma once
#include <napi.h>

namespace tweedie_addon {

// config (addon.cc)
Napi::Value Info(const Napi::CallbackInfo& info);
Napi::Value SetSimd(const Napi::CallbackInfo& info);
Napi::Value SetThreads(const Napi::CallbackInfo& info);
// rng (rng_binding.cc)
Napi::Value Philox4x32(const Napi::CallbackInfo& info);
Napi::Value NormalFill(const Napi::CallbackInfo& info);
// noise (noise_binding.cc)
Napi::Value Combine2(const Napi::CallbackInfo& info);
Napi::Value AddNoise(const Napi::CallbackInfo& info);
Napi::Value CopyBytes(const Napi::CallbackInfo& info);
// mixture (mixture_binding.cc)
Napi::Value MixturePosterior(const Napi::CallbackInfo& info);
Napi::Value MixturePosteriorAsync(const Napi::CallbackInfo& info);
Napi::Value MixtureFmaPeak(const Napi::CallbackInfo& info);
// step (step_binding.cc)
Napi::Value Lincomb(const Napi::CallbackInfo& info);
Napi::Value CopyFinite(const Napi::CallbackInfo& info);
// native sampling loop (program_binding.cc)
Napi::Value ProgramRun(const Napi::CallbackInfo& info);
Napi::Value ProgramRunAsync(const Napi::CallbackInfo& info);
Napi::Value ProgramToken(const Napi::CallbackInfo& info);
Napi::Value ProgramCancel(const Napi::CallbackInfo& info);

}  // namespace tweedie_addon

#define TWEEDIE_BINDINGS                           \
  TWEEDIE_BINDING("info", Info)                    \
  TWEEDIE_BINDING("setSimd", SetSimd)              \
  TWEEDIE_BINDING("setThreads", SetThreads)        \
  TWEEDIE_BINDING("philox4x32", Philox4x32)        \
  TWEEDIE_BINDING("normalFill", NormalFill)        \
  TWEEDIE_BINDING("combine2", Combine2)            \
  TWEEDIE_BINDING("addNoise", AddNoise)            \
  TWEEDIE_BINDING("copyBytes", CopyBytes)          \
  TWEEDIE_BINDING("mixturePosterior", MixturePosterior) \
  TWEEDIE_BINDING("mixturePosteriorAsync", MixturePosteriorAsync) \
  TWEEDIE_BINDING("mixtureFmaPeak", MixtureFmaPeak) \
  TWEEDIE_BINDING("lincomb", Lincomb)              \
  TWEEDIE_BINDING("copyFinite", CopyFinite)        \
  TWEEDIE_BINDING("programRun", ProgramRun)        \
  TWEEDIE_BINDING("programRunAsync", ProgramRunAsync) \
  TWEEDIE_BINDING("programToken", ProgramToken)    \
  TWEEDIE_BINDING("programCancel", ProgramCancel)

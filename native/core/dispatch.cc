// Run-time choice of the SIMD level from the CPU's features.
#include <atomic>
#include <cstring>

#include "kernels.h"

namespace tweedie {

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar: return "scalar";
    case SimdLevel::kSse2: return "sse2";
    case SimdLevel::kAvx2: return "avx2";
    case SimdLevel::kNeon: return "neon";
    case SimdLevel::kAvx512: return "avx512";
  }
  return "unknown";
}

bool parse_simd_level(const char* name, SimdLevel* level) {
  for (int i = 0; i <= kLastSimdLevel; ++i) {
    const SimdLevel l = static_cast<SimdLevel>(i);
    if (std::strcmp(name, simd_level_name(l)) == 0) {
      *level = l;
      return true;
    }
  }
  return false;
}

namespace {

const KernelTable* table_for(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar: return &scalar_kernels();
#if defined(TWEEDIE_X86_SIMD)
    case SimdLevel::kSse2: return &sse2_kernels();
    case SimdLevel::kAvx2: return &avx2_kernels();
#endif
#if defined(TWEEDIE_X86_AVX512)
    case SimdLevel::kAvx512: return &avx512_kernels();
#endif
#if defined(TWEEDIE_ARM_NEON)
    case SimdLevel::kNeon: return &neon_kernels();
#endif
    default: return nullptr;
  }
}

bool cpu_has(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar: return true;
#if defined(TWEEDIE_X86_SIMD)
    case SimdLevel::kSse2: return true;  // the x86-64 baseline
    case SimdLevel::kAvx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if defined(TWEEDIE_X86_AVX512)
    // Every extension avx512.cc and mixture_avx512.cc are compiled for, and AVX2+FMA (which every
    // such CPU has; the fallback of a build without mixture_avx512.cc). GCC's libgcc (checked for GCC 12: xgetbv, XCR0 & 0xe6 == 0xe6) and
    // LLVM's compiler-rt report the AVX-512 features only when the OS saves the opmask and ZMM
    // state (XCR0; Darwin, which enables it on first use, excepted), so no separate OS check.
    case SimdLevel::kAvx512:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if defined(TWEEDIE_ARM_NEON)
    case SimdLevel::kNeon: return true;  // Advanced SIMD (with float64 lanes) is part of AArch64
#endif
    default: return false;
  }
}

SimdLevel detect_best() {
  static const SimdLevel order[] = {SimdLevel::kAvx512, SimdLevel::kAvx2, SimdLevel::kNeon, SimdLevel::kSse2};
  for (SimdLevel l : order) {
    if (simd_level_supported(l)) return l;
  }
  return SimdLevel::kScalar;
}

std::atomic<const KernelTable*> g_active{nullptr};

}  // namespace

bool simd_level_supported(SimdLevel level) { return table_for(level) != nullptr && cpu_has(level); }

SimdLevel best_simd_level() {
  static const SimdLevel best = detect_best();
  return best;
}

const KernelTable& active_kernels() {
  const KernelTable* t = g_active.load(std::memory_order_acquire);
  if (t == nullptr) {
    t = table_for(best_simd_level());
    const KernelTable* expected = nullptr;
    if (!g_active.compare_exchange_strong(expected, t, std::memory_order_acq_rel)) t = expected;
  }
  return *t;
}

SimdLevel current_simd_level() { return active_kernels().level; }

bool set_simd_level(SimdLevel level) {
  if (!simd_level_supported(level)) return false;
  g_active.store(table_for(level), std::memory_order_release);
  return true;
}

}  // namespace tweedie

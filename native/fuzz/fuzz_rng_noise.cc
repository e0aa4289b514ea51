// libFuzzer harness: the RNG and noising kernels at every SIMD level the CPU has must equal the
// scalar reference bit for bit (NaN payloads aside), and normals must be finite and bounded
// (|z| <= sqrt(-2 ln 2^-33) < 6.77), for any seed, stream, offset, length, alignment and data.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../core/kernels.h"

using namespace tweedie;

namespace {

template <typename T>
bool same(T a, T b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <typename T>
void check_equal(const T* a, const T* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!same(a[i], b[i])) std::abort();
  }
}

template <typename T>
void fuzz_typed(FuzzedDataProvider& p, const TypedKernels<T>& (*pick)(const KernelTable&)) {
  const uint64_t seed = p.ConsumeIntegral<uint64_t>();
  const uint64_t stream = p.ConsumeIntegral<uint64_t>();
  const size_t n = p.ConsumeIntegralInRange<size_t>(0, 257);
  uint64_t offset = p.ConsumeIntegral<uint64_t>();
  if (offset > UINT64_MAX - n) offset = UINT64_MAX - n;
  const size_t shift = p.ConsumeIntegralInRange<size_t>(0, 3);  // start off any vector alignment
  const bool raw = p.ConsumeBool();
  double a = raw ? p.ConsumeFloatingPoint<double>() : p.ConsumeFloatingPointInRange<double>(-4, 4);
  double c = raw ? p.ConsumeFloatingPoint<double>() : p.ConsumeFloatingPointInRange<double>(0, 100);
  std::vector<T> x(n + shift), y(n + shift);
  for (size_t i = 0; i < n; ++i) {
    x[i + shift] = static_cast<T>(p.ConsumeFloatingPointInRange<double>(-1e6, 1e6));
    y[i + shift] = static_cast<T>(raw ? p.ConsumeFloatingPoint<double>() : p.ConsumeFloatingPointInRange<double>(-10, 10));
  }
  const TypedKernels<T>& ref = pick(scalar_kernels());
  std::vector<T> want(n + shift), got(n + shift), want_eps(n + shift), got_eps(n + shift);
  ref.normal_fill(want.data() + shift, n, seed, stream, offset);
  for (size_t i = 0; i < n; ++i) {
    const double z = static_cast<double>(want[i + shift]);
    if (!(std::fabs(z) < 6.77)) std::abort();
  }
  for (int l = 1; l <= 3; ++l) {
    const SimdLevel level = static_cast<SimdLevel>(l);
    if (!simd_level_supported(level)) continue;
    const KernelTable* table = nullptr;
#if defined(TWEEDIE_X86_SIMD)
    if (level == SimdLevel::kSse2) table = &sse2_kernels();
    if (level == SimdLevel::kAvx2) table = &avx2_kernels();
#endif
    if (!table) continue;
    const TypedKernels<T>& k = pick(*table);
    ref.normal_fill(want.data() + shift, n, seed, stream, offset);
    k.normal_fill(got.data() + shift, n, seed, stream, offset);
    check_equal(want.data() + shift, got.data() + shift, n);

    ref.combine2(want.data() + shift, x.data() + shift, y.data() + shift, a, c, n);
    k.combine2(got.data() + shift, x.data() + shift, y.data() + shift, a, c, n);
    check_equal(want.data() + shift, got.data() + shift, n);

    ref.noise_inline(want.data() + shift, want_eps.data() + shift, x.data() + shift, a, c, n, seed, stream, offset);
    k.noise_inline(got.data() + shift, got_eps.data() + shift, x.data() + shift, a, c, n, seed, stream, offset);
    check_equal(want.data() + shift, got.data() + shift, n);
    check_equal(want_eps.data() + shift, got_eps.data() + shift, n);

    // in place: out = x
    std::vector<T> in_ref(x), in_got(x);
    ref.noise_inline(in_ref.data() + shift, nullptr, in_ref.data() + shift, a, c, n, seed, stream, offset);
    k.noise_inline(in_got.data() + shift, nullptr, in_got.data() + shift, a, c, n, seed, stream, offset);
    check_equal(in_ref.data() + shift, in_got.data() + shift, n);
  }
}

const TypedKernels<double>& pick64(const KernelTable& t) { return t.f64; }
const TypedKernels<float>& pick32(const KernelTable& t) { return t.f32; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  if (p.ConsumeBool()) fuzz_typed<double>(p, pick64);
  else fuzz_typed<float>(p, pick32);
  return 0;
}

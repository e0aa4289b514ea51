// Every vector level the CPU supports against the scalar reference, bit for bit: all kernels,
// both dtypes, many sizes (tails), offsets (partial first blocks, counter wrap, 2^64 - n),
// seeds and streams with high bits set, unaligned pointers, in place, and thread counts.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "../core/kernels.h"
#include "../core/ops.h"
#include "../core/parallel.h"
#include "check.h"

using namespace tweedie;

namespace {

uint64_t splitmix64(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double uniform(uint64_t* s, double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(splitmix64(s) >> 11) * 0x1p-53;
}

// The levels to compare with scalar (scalar itself excluded).
std::vector<SimdLevel> vector_levels() {
  std::vector<SimdLevel> out;
  for (int i = 1; i <= kLastSimdLevel; ++i) {
    const SimdLevel l = static_cast<SimdLevel>(i);
    if (simd_level_supported(l)) out.push_back(l);
  }
  return out;
}

// The table of a supported level (through the dispatcher; restores the active level).
const KernelTable& table_of(SimdLevel level) {
  const SimdLevel before = current_simd_level();
  set_simd_level(level);
  const KernelTable& t = active_kernels();
  set_simd_level(before);
  return t;
}

// A buffer whose view starts `shift` elements (1 to 7) into a 64-byte aligned block (so never
// vector aligned, and misaligned differently from its neighbours), with guard elements on both
// sides that must stay untouched.
template <typename T>
class Guarded {
 public:
  explicit Guarded(size_t n, size_t shift = 1) : n_(n), shift_(shift), raw_(n + shift + 1 + 64 / sizeof(T)) {
    const uintptr_t p = reinterpret_cast<uintptr_t>(raw_.data());
    base_ = reinterpret_cast<T*>((p + 63) & ~static_cast<uintptr_t>(63));
    for (size_t i = 0; i < n + shift + 1; ++i) base_[i] = sentinel();
  }
  T* data() { return base_ + shift_; }
  size_t size() const { return n_; }
  bool guards_intact() const {
    return same(base_[shift_ - 1], sentinel()) && same(base_[shift_ + n_], sentinel());
  }

 private:
  static T sentinel() { return static_cast<T>(-12345.678); }
  static bool same(T a, T b) { return std::memcmp(&a, &b, sizeof(T)) == 0; }
  size_t n_, shift_;
  std::vector<T> raw_;
  T* base_;
};

template <typename T>
bool same_bits(const T* a, const T* b, size_t n) {
  return n == 0 || std::memcmp(a, b, n * sizeof(T)) == 0;
}

// Equal bits, or both NaN (NaN payloads are not part of the contract).
template <typename T>
bool same_values(const T* a, const T* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::memcmp(a + i, b + i, sizeof(T)) != 0) return false;
  }
  return true;
}

// Sizes around every vector width and group size (SSE2 groups: 24 normals, AVX2: 48, AVX-512:
// 32 per vector of eight blocks, 1 to 4 vectors per group), not multiples of 8 or 32 too.
const size_t kSizes[] = {0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   11,  12,  13,  15,  16,
                         17,  23,  24,  25,  31,  32,  33,  40,  47,  48,  49,  63,  64,  65,  95,
                         96,  97,  100, 127, 128, 129, 159, 160, 161, 191, 192, 193, 255, 256, 257,
                         383, 384, 385, 1000, 4099};
const uint64_t kSeeds[] = {0, 1, 0x9abcdef012345678ull, ~0ull, 0x8000000000000001ull};
const uint64_t kStreams[] = {0, 7, 0xFFFFFFFF00000001ull, ~0ull, 0x80000000FFFFFFFFull};

// Offsets for a run of n normals: small ones (every phase mod 4 and mod the group sizes), one
// where the low counter word wraps inside a group, and the very end of the 2^64 index space.
std::vector<uint64_t> offsets_for(size_t n) {
  std::vector<uint64_t> o = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 23, 25, 30, 31, 32, 33, 45, 47, 49, 63, 95, 1001};
  for (uint64_t d : {1ull, 3ull, 6ull, 11ull, 17ull, 29ull}) o.push_back((4ull << 32) - d);
  for (uint64_t d : {0ull, 1ull, 2ull, 3ull, 5ull, 33ull}) o.push_back(0 - static_cast<uint64_t>(n) - d);
  return o;
}

template <typename T>
void check_normal_fill(SimdLevel level) {
  const TypedKernels<T>& ref = kernels_for<T>(scalar_kernels());
  const TypedKernels<T>& got = kernels_for<T>(table_of(level));
  size_t k = 0, failures = 0;
  for (size_t n : kSizes) {
    for (uint64_t offset : offsets_for(n)) {
      const uint64_t seed = kSeeds[k % 5], stream = kStreams[(k / 5) % 5];
      Guarded<T> want(n), have(n, 1 + k % 7);
      ++k;
      ref.normal_fill(want.data(), n, seed, stream, offset);
      got.normal_fill(have.data(), n, seed, stream, offset);
      const bool ok = same_bits(want.data(), have.data(), n) && have.guards_intact();
      if (!ok && ++failures <= 3) {
        std::fprintf(stderr, "  normal_fill<%s> %s n=%zu offset=%llu seed=%llx stream=%llx differs\n",
                     sizeof(T) == 8 ? "f64" : "f32", simd_level_name(level), n,
                     static_cast<unsigned long long>(offset), static_cast<unsigned long long>(seed),
                     static_cast<unsigned long long>(stream));
      }
      CHECK(ok);
    }
  }
}

template <typename T>
void random_fill(T* p, size_t n, uint64_t* s) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<T>(uniform(s, -4.0, 4.0));
}

template <typename T>
void check_combine2(SimdLevel level) {
  const TypedKernels<T>& ref = kernels_for<T>(scalar_kernels());
  const TypedKernels<T>& got = kernels_for<T>(table_of(level));
  uint64_t s = 99;
  for (size_t n : kSizes) {
    Guarded<T> x(n, 3), y(n, 2), want(n), have(n);
    random_fill(x.data(), n, &s);
    random_fill(y.data(), n, &s);
    const double a = uniform(&s, -2.0, 2.0), c = uniform(&s, -2.0, 2.0);
    ref.combine2(want.data(), x.data(), y.data(), a, c, n);
    got.combine2(have.data(), x.data(), y.data(), a, c, n);
    CHECK(same_bits(want.data(), have.data(), n) && have.guards_intact());
    // in place: out == x, then out == y
    Guarded<T> inout(n);
    if (n) std::memcpy(inout.data(), x.data(), n * sizeof(T));
    got.combine2(inout.data(), inout.data(), y.data(), a, c, n);
    CHECK(same_bits(want.data(), inout.data(), n) && inout.guards_intact());
    if (n) std::memcpy(inout.data(), y.data(), n * sizeof(T));
    got.combine2(inout.data(), x.data(), inout.data(), a, c, n);
    CHECK(same_bits(want.data(), inout.data(), n) && inout.guards_intact());
  }
}

template <typename T>
void check_noise_inline(SimdLevel level) {
  const TypedKernels<T>& ref = kernels_for<T>(scalar_kernels());
  const TypedKernels<T>& got = kernels_for<T>(table_of(level));
  uint64_t s = 7;
  size_t k = 0;
  for (size_t n : kSizes) {
    for (uint64_t offset : offsets_for(n)) {
      const uint64_t seed = kSeeds[k % 5], stream = kStreams[(k / 5) % 5];
      ++k;
      Guarded<T> x(n, 3), want(n), want_eps(n), have(n), have_eps(n, 2), inout(n, 5);
      random_fill(x.data(), n, &s);
      const double a = uniform(&s, 0.0, 1.0), c = uniform(&s, 0.0, 3.0);
      ref.noise_inline(want.data(), want_eps.data(), x.data(), a, c, n, seed, stream, offset);
      got.noise_inline(have.data(), have_eps.data(), x.data(), a, c, n, seed, stream, offset);
      CHECK(same_bits(want.data(), have.data(), n) && have.guards_intact());
      CHECK(same_bits(want_eps.data(), have_eps.data(), n) && have_eps.guards_intact());
      // without eps_out, in place (out == x)
      if (n) std::memcpy(inout.data(), x.data(), n * sizeof(T));
      got.noise_inline(inout.data(), nullptr, inout.data(), a, c, n, seed, stream, offset);
      CHECK(same_bits(want.data(), inout.data(), n) && inout.guards_intact());
    }
  }
}

// Non-finite, signed-zero, subnormal and overflowing inputs go through the same arithmetic.
template <typename T>
void check_special_values(SimdLevel level) {
  const TypedKernels<T>& ref = kernels_for<T>(scalar_kernels());
  const TypedKernels<T>& got = kernels_for<T>(table_of(level));
  const T inf = std::numeric_limits<T>::infinity();
  const T specials[] = {std::numeric_limits<T>::quiet_NaN(), inf, -inf, static_cast<T>(0.0), static_cast<T>(-0.0),
                        std::numeric_limits<T>::denorm_min(), -std::numeric_limits<T>::denorm_min(),
                        std::numeric_limits<T>::min(), std::numeric_limits<T>::max(),
                        -std::numeric_limits<T>::max(), static_cast<T>(1.0), static_cast<T>(-3.5)};
  const size_t m = sizeof(specials) / sizeof(specials[0]);
  const size_t n = m * m;
  Guarded<T> x(n), y(n), want(n), have(n), eps_want(n), eps_have(n);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < m; ++j) {
      x.data()[i * m + j] = specials[i];
      y.data()[i * m + j] = specials[j];
    }
  const double coefs[] = {0.0, -0.0, 1.0, -1.5, 1e300, 3e-310, std::numeric_limits<double>::infinity(),
                          std::numeric_limits<double>::quiet_NaN()};
  for (double a : coefs)
    for (double c : coefs) {
      ref.combine2(want.data(), x.data(), y.data(), a, c, n);
      got.combine2(have.data(), x.data(), y.data(), a, c, n);
      CHECK(same_values(want.data(), have.data(), n));
      ref.noise_inline(want.data(), eps_want.data(), x.data(), a, c, n, 3, 4, 5);
      got.noise_inline(have.data(), eps_have.data(), x.data(), a, c, n, 3, 4, 5);
      CHECK(same_values(want.data(), have.data(), n) && same_bits(eps_want.data(), eps_have.data(), n));
    }
}

// Chosen Philox words straight into the lane code: the ends, every power of two and its
// neighbours (the exponent split), both sides of the sqrt(2) fold for every exponent, and the
// quadrant and octant boundaries of the angle, in every position of a block.
std::vector<uint32_t> edge_words() {
  std::vector<uint32_t> w = {0, 1, 2, 3, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu};
  for (int k = 0; k < 32; ++k) {
    const uint32_t p = 1u << k;
    for (uint32_t d : {p - 2, p - 1, p, p + 1, p + 2}) w.push_back(d);
  }
  for (int e = 0; e <= 32; ++e) {
    // m = 2w + 1 = sqrt(2) 2^e  =>  w = (sqrt(2) 2^e - 1) / 2
    const double edge = (std::sqrt(2.0) * std::ldexp(1.0, e) - 1.0) / 2.0;
    for (int d = -3; d <= 3; ++d) {
      const double v = std::floor(edge) + d;
      if (v >= 0 && v <= 4294967295.0) w.push_back(static_cast<uint32_t>(v));
    }
  }
  for (uint64_t j = 0; j < 8; ++j) {
    const uint64_t center = j << 29;  // multiples of 2^29: quadrant edges at odd ones
    for (int d = -3; d <= 3; ++d) w.push_back(static_cast<uint32_t>(center + static_cast<uint64_t>(d)));
  }
  uint64_t s = 1234;
  for (int i = 0; i < 20000; ++i) w.push_back(static_cast<uint32_t>(splitmix64(&s)));
  return w;
}

void check_pbm_words(SimdLevel level) {
  const std::vector<uint32_t> edges = edge_words();
  const size_t m = edges.size();
  // four rotations so that every word lands in every position of a block
  std::vector<uint32_t> words;
  for (size_t rot = 0; rot < 4; ++rot)
    for (size_t i = 0; i < m; ++i)
      for (size_t k = 0; k < 4; ++k) words.push_back(edges[(i + (k + rot) * 7919) % m]);
  // every word against every word in the other slot of its pair, for the edge values
  for (size_t i = 0; i < 200; ++i)
    for (size_t j = 0; j < 200; ++j) {
      words.push_back(edges[i]);
      words.push_back(edges[j]);
      words.push_back(edges[j]);
      words.push_back(edges[i]);
    }
  const size_t nblocks = words.size() / 4;
  std::vector<double> want(4 * nblocks), have(4 * nblocks);
  scalar_kernels().pbm_words(want.data(), words.data(), nblocks);
  table_of(level).pbm_words(have.data(), words.data(), nblocks);
  CHECK(same_bits(want.data(), have.data(), want.size()));
  for (size_t nb : {1, 2, 3, 5, 7, 8, 9, 15, 17}) {  // partial groups of the hook itself
    table_of(level).pbm_words(have.data(), words.data(), nb);
    CHECK(same_bits(want.data(), have.data(), 4 * nb));
  }
}

}  // namespace

TEST(simd_levels_compiled_and_detected) {
  const std::vector<SimdLevel> levels = vector_levels();
  std::printf("       vector levels tested against scalar:");
  for (SimdLevel l : levels) std::printf(" %s", simd_level_name(l));
  std::printf("%s (best: %s)\n", levels.empty() ? " none" : "", simd_level_name(best_simd_level()));
  CHECK(simd_level_supported(SimdLevel::kScalar));
  for (SimdLevel l : levels) CHECK(table_of(l).level == l);
#if defined(TWEEDIE_X86_SIMD)
  CHECK(simd_level_supported(SimdLevel::kSse2));
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  CHECK(simd_level_supported(SimdLevel::kAvx2) == avx2);
#if defined(TWEEDIE_X86_AVX512)
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vl");
#else
  const bool avx512 = false;
#endif
  CHECK(simd_level_supported(SimdLevel::kAvx512) == avx512);
  CHECK(best_simd_level() == (avx512 ? SimdLevel::kAvx512 : avx2 ? SimdLevel::kAvx2 : SimdLevel::kSse2));
#endif
#if defined(TWEEDIE_ARM_NEON)
  CHECK(simd_level_supported(SimdLevel::kNeon));
  CHECK(best_simd_level() == SimdLevel::kNeon);
#endif
}

TEST(simd_pbm_lanes_match_scalar_on_edge_words) {
  for (SimdLevel l : vector_levels()) check_pbm_words(l);
}

TEST(simd_normal_fill_matches_scalar) {
  for (SimdLevel l : vector_levels()) {
    check_normal_fill<double>(l);
    check_normal_fill<float>(l);
  }
}

TEST(simd_combine2_matches_scalar) {
  for (SimdLevel l : vector_levels()) {
    check_combine2<double>(l);
    check_combine2<float>(l);
  }
}

TEST(simd_noise_inline_matches_scalar) {
  for (SimdLevel l : vector_levels()) {
    check_noise_inline<double>(l);
    check_noise_inline<float>(l);
  }
}

TEST(simd_special_values_match_scalar) {
  for (SimdLevel l : vector_levels()) {
    check_special_values<double>(l);
    check_special_values<float>(l);
  }
}

// The threaded drivers (ops.h) at every level and thread count give the scalar bits.
template <typename T>
void check_drivers(SimdLevel level) {
  const size_t n = 200003;
  const size_t rows = 1000, dim = 137;        // combine2_rows
  const size_t nrows = 401, ndim = 333;       // add_noise_rows
  uint64_t s = 5;
  std::vector<T> x(rows * dim), y(rows * dim), x0(nrows * ndim);
  random_fill(x.data(), x.size(), &s);
  random_fill(y.data(), y.size(), &s);
  random_fill(x0.data(), x0.size(), &s);
  std::vector<double> a(rows), c(rows);  // per-row coefficients for both (rows >= nrows)
  for (size_t r = 0; r < rows; ++r) {
    a[r] = uniform(&s, 0.0, 1.0);
    c[r] = uniform(&s, 0.0, 1.0);
  }
  std::vector<uint32_t> streams(2 * nrows);
  for (uint32_t& w : streams) w = static_cast<uint32_t>(splitmix64(&s));
  const RowCoefficients per_row{a.data(), 1, c.data(), 1};
  const RowCoefficients shared{a.data(), 0, c.data(), 0};

  struct Result {
    std::vector<T> normals, comb, noisy, eps, noisy_default;
  };
  auto run = [&](SimdLevel l, int threads) {
    set_simd_level(l);
    set_thread_count(threads);
    Result r;
    r.normals.resize(n);
    normal_fill(r.normals.data(), n, 0xF00DF00DF00DF00Dull, 0xFFFFFFFF00000003ull, 5);
    r.comb.resize(rows * dim);
    combine2_rows(r.comb.data(), x.data(), y.data(), rows, dim, per_row);
    r.noisy.resize(nrows * ndim);
    r.eps.resize(nrows * ndim);
    add_noise_rows(r.noisy.data(), r.eps.data(), x0.data(), nrows, ndim, per_row, 77, streams.data());
    r.noisy_default = x0;  // in place, default streams (row index), one shared coefficient pair
    add_noise_rows(r.noisy_default.data(), static_cast<T*>(nullptr), r.noisy_default.data(), nrows, ndim, shared,
                   ~0ull, nullptr);
    return r;
  };
  const Result want = run(SimdLevel::kScalar, 1);
  for (int threads : {1, 2, 3}) {
    const Result have = run(level, threads);
    CHECK(same_bits(want.normals.data(), have.normals.data(), n));
    CHECK(same_bits(want.comb.data(), have.comb.data(), want.comb.size()));
    CHECK(same_bits(want.noisy.data(), have.noisy.data(), want.noisy.size()));
    CHECK(same_bits(want.eps.data(), have.eps.data(), want.eps.size()));
    CHECK(same_bits(want.noisy_default.data(), have.noisy_default.data(), want.noisy_default.size()));
  }
}

TEST(simd_threaded_drivers_match_scalar_for_any_thread_count) {
  const SimdLevel level_before = current_simd_level();
  const int threads_before = thread_count();
  for (SimdLevel l : vector_levels()) {
    check_drivers<double>(l);
    check_drivers<float>(l);
  }
  set_simd_level(level_before);
  set_thread_count(threads_before);
}

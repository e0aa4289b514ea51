// libFuzzer harness: the RNG and noising kernels at every SIMD level the CPU has must equal the
// scalar reference bit for bit (NaN payloads aside), and normals must be finite and bounded
// (|z| <= sqrt(-2 ln 2^-33) < 6.77), for any seed, stream, offset (edges of the 32-bit counter
// words included), length (vector tails), alignment and data. Two layers:
// - the row kernels of each level's table (normal_fill, combine2, noise_inline; out of place,
//   in place, with and without eps), lengths 0..300 (mostly 0..40: every vector tail);
// - the drivers of native/core/ops.h (normal_fill, combine2_rows, add_noise_rows: per-row or
//   broadcast coefficients, own stream ids or row indices, in place or not) at the scalar level
//   and every vector level, against a row-by-row use of the scalar table; about one input in
//   8192 has 2^15..1.5 * 2^16 elements and runs at 3 threads, so the call is split into 2 or 3
//   parts with split points inside rows.
// Every buffer starts 0-7 elements past a 64-byte boundary and has guard elements after it.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../core/kernels.h"
#include "../core/ops.h"
#include "../core/parallel.h"
#include "fuzz_input.h"

using namespace tweedie;
using fuzz::Input;
using fuzz::Shifted;

namespace {

// ---- decoding (instrumented: it steers the fuzzer) ---------------------------------------------

// Seeds, streams and offsets: near 0, near 2^64, around multiples of 2^32 (a counter word's
// carry) and of 2^34 (where the block index, offset / 4, carries), or anything.
uint64_t edge_u64(Input& in) {
  const uint64_t small = in.range<uint64_t>(0, 64);
  switch (in.range<int>(0, 5)) {
    case 0: return small;
    case 1: return UINT64_MAX - small;
    case 2: return (in.range<uint64_t>(1, UINT32_MAX) << 32) - small;
    case 3: return (in.range<uint64_t>(1, (uint64_t(1) << 30) - 1) << 34) - small;
    case 4: return (in.range<uint64_t>(0, UINT32_MAX) << 32) + small;
    default: return in.bits();
  }
}

double coefficient(Input& in, bool raw, double lo, double hi) { return raw ? in.any() : in.uniform(lo, hi); }

struct Case {
  bool large = false;
  size_t rows = 1, dim = 0, shift = 0;  // the table checks use one row of dim elements
  uint64_t seed = 0, offset = 0;
  std::vector<uint64_t> streams;  // one per row
  bool per_row_a = false, per_row_c = false, own_streams = false, with_eps = false, in_place = false;
  std::vector<double> a, c;  // one, or one per row
  std::vector<double> x, y;
};

void decode(Input& in, Case* k, bool drivers, bool large) {
  k->large = large;
  if (large) {
    k->dim = in.one_in(4) ? in.range<size_t>(1, 7) : in.range<size_t>(8, 5000);
    const size_t want = (size_t(1) << 15) + 1 + in.range<size_t>(0, (size_t(1) << 16) + (size_t(1) << 14));
    k->rows = (want + k->dim - 1) / k->dim;
  } else if (drivers) {
    k->rows = in.range<size_t>(1, 6);
    k->dim = in.one_in(4) ? in.range<size_t>(1, 80) : in.range<size_t>(1, 20);
  } else {
    k->dim = in.one_in(4) ? in.range<size_t>(0, 300) : in.range<size_t>(0, 40);
  }
  const size_t n = k->rows * k->dim;
  k->shift = in.range<size_t>(0, 7);
  const bool raw = in.one_in(3);
  k->per_row_a = drivers && in.flag();
  k->per_row_c = drivers && in.flag();
  k->own_streams = drivers && in.flag();
  k->with_eps = !drivers || in.flag();
  k->in_place = drivers && in.flag();
  k->seed = edge_u64(in);
  k->offset = edge_u64(in);
  if (k->offset > UINT64_MAX - n) k->offset = UINT64_MAX - n;
  k->a.resize(k->per_row_a ? k->rows : 1);
  k->c.resize(k->per_row_c ? k->rows : 1);
  for (double& v : k->a) v = coefficient(in, raw, -4, 4);
  for (double& v : k->c) v = coefficient(in, raw, 0, 100);
  k->streams.resize(k->rows);
  for (uint64_t& s : k->streams) s = edge_u64(in);
  k->x.resize(n);
  k->y.resize(n);
  for (size_t i = 0; i < n; ++i) {
    k->x[i] = in.uniform(-1e6, 1e6);
    k->y[i] = raw ? in.any() : in.uniform(-10, 10);
  }
}

// ---- checking (not instrumented) -------------------------------------------------------------
FUZZ_UNCOVERED_BEGIN

template <typename T>
void check_equal(const T* want, const T* got, size_t n) {
  if (std::memcmp(want, got, n * sizeof(T)) == 0) return;
  for (size_t i = 0; i < n; ++i) {
    if (!fuzz::same(want[i], got[i])) std::abort();
  }
}

template <typename T>
void check_guards(const Shifted<T>& b) {
  if (!b.guards_intact()) std::abort();
}

template <typename T>
void load(Shifted<T>* dst, const std::vector<double>& src) {
  for (size_t i = 0; i < src.size(); ++i) (*dst)[i] = static_cast<T>(src[i]);
}

// The row kernels of every vector table against the scalar table.
template <typename T>
void table_checks(const Case& k) {
  const size_t n = k.dim, shift = k.shift;
  const uint64_t seed = k.seed, stream = k.streams[0], offset = k.offset;
  const double a = k.a[0], c = k.c[0];
  Shifted<T> x(n, shift), y(n, shift);
  load(&x, k.x);
  load(&y, k.y);
  const TypedKernels<T>& ref = kernels_for<T>(scalar_kernels());
  Shifted<T> fill(n, shift), comb(n, shift), comb_x(n, shift), comb_y(n, shift), noised(n, shift), eps(n, shift),
      scratch(n, shift);
  ref.normal_fill(fill.data(), n, seed, stream, offset);
  for (size_t i = 0; i < n; ++i) {
    if (!(std::fabs(static_cast<double>(fill[i])) < 6.77)) std::abort();
  }
  ref.combine2(comb.data(), x.data(), y.data(), a, c, n);
  std::memcpy(comb_x.data(), x.data(), n * sizeof(T));
  ref.combine2(comb_x.data(), comb_x.data(), y.data(), a, c, n);
  std::memcpy(comb_y.data(), y.data(), n * sizeof(T));
  ref.combine2(comb_y.data(), x.data(), comb_y.data(), a, c, n);
  check_equal(comb.data(), comb_x.data(), n);  // in place changes nothing
  check_equal(comb.data(), comb_y.data(), n);
  ref.noise_inline(noised.data(), eps.data(), x.data(), a, c, n, seed, stream, offset);
  check_equal(fill.data(), eps.data(), n);  // eps is the same normal, rounded to T
  ref.noise_inline(scratch.data(), nullptr, x.data(), a, c, n, seed, stream, offset);
  check_equal(noised.data(), scratch.data(), n);
  std::memcpy(scratch.data(), x.data(), n * sizeof(T));
  ref.noise_inline(scratch.data(), nullptr, scratch.data(), a, c, n, seed, stream, offset);
  check_equal(noised.data(), scratch.data(), n);

  fuzz::LevelGuard guard;
  Shifted<T> got(n, shift), got_eps(n, shift);
  for (SimdLevel level : fuzz::vector_levels()) {
    if (!set_simd_level(level)) std::abort();
    const TypedKernels<T>& t = kernels_for<T>(active_kernels());
    t.normal_fill(got.data(), n, seed, stream, offset);
    check_equal(fill.data(), got.data(), n);

    t.combine2(got.data(), x.data(), y.data(), a, c, n);
    check_equal(comb.data(), got.data(), n);
    std::memcpy(got.data(), x.data(), n * sizeof(T));
    t.combine2(got.data(), got.data(), y.data(), a, c, n);
    check_equal(comb.data(), got.data(), n);
    std::memcpy(got.data(), y.data(), n * sizeof(T));
    t.combine2(got.data(), x.data(), got.data(), a, c, n);
    check_equal(comb.data(), got.data(), n);

    t.noise_inline(got.data(), got_eps.data(), x.data(), a, c, n, seed, stream, offset);
    check_equal(noised.data(), got.data(), n);
    check_equal(eps.data(), got_eps.data(), n);
    t.noise_inline(got.data(), nullptr, x.data(), a, c, n, seed, stream, offset);
    check_equal(noised.data(), got.data(), n);
    std::memcpy(got.data(), x.data(), n * sizeof(T));
    t.noise_inline(got.data(), nullptr, got.data(), a, c, n, seed, stream, offset);
    check_equal(noised.data(), got.data(), n);
  }
  for (const Shifted<T>* b : {&x, &y, &fill, &comb, &comb_x, &comb_y, &noised, &eps, &scratch, &got, &got_eps}) check_guards(*b);
}

// The drivers of ops.h at every level (scalar included) against the scalar table row by row.
template <typename T>
void driver_checks(const Case& k) {
  const size_t rows = k.rows, dim = k.dim, n = rows * dim, shift = k.shift;
  std::vector<uint32_t> words(2 * rows);
  for (size_t r = 0; r < rows; ++r) {
    words[2 * r] = static_cast<uint32_t>(k.streams[r]);
    words[2 * r + 1] = static_cast<uint32_t>(k.streams[r] >> 32);
  }
  Shifted<T> x(n, shift), y(n, shift);
  load(&x, k.x);
  load(&y, k.y);
  const RowCoefficients coef{k.a.data(), k.per_row_a ? 1u : 0u, k.c.data(), k.per_row_c ? 1u : 0u};

  const TypedKernels<T>& ref = kernels_for<T>(scalar_kernels());
  Shifted<T> fill(n, shift), comb(n, shift), noised(n, shift), eps(n, shift);
  ref.normal_fill(fill.data(), n, k.seed, k.streams[0], k.offset);
  for (size_t r = 0; r < rows; ++r) {
    const size_t o = r * dim;
    const double ar = k.a[k.per_row_a ? r : 0], cr = k.c[k.per_row_c ? r : 0];
    const uint64_t stream = k.own_streams ? k.streams[r] : r;
    ref.combine2(comb.data() + o, x.data() + o, y.data() + o, ar, cr, dim);
    ref.noise_inline(noised.data() + o, eps.data() + o, x.data() + o, ar, cr, dim, k.seed, stream, 0);
  }

  fuzz::LevelGuard guard;
  set_thread_count(k.large ? 3 : 1);
  std::vector<SimdLevel> levels{SimdLevel::kScalar};
  levels.insert(levels.end(), fuzz::vector_levels().begin(), fuzz::vector_levels().end());
  Shifted<T> got(n, shift), got_eps(n, shift);
  for (SimdLevel level : levels) {
    if (!set_simd_level(level)) std::abort();
    normal_fill(got.data(), n, k.seed, k.streams[0], k.offset);
    check_equal(fill.data(), got.data(), n);

    if (k.in_place) std::memcpy(got.data(), x.data(), n * sizeof(T));
    combine2_rows(got.data(), k.in_place ? got.data() : x.data(), y.data(), rows, dim, coef);
    check_equal(comb.data(), got.data(), n);

    if (k.in_place) std::memcpy(got.data(), x.data(), n * sizeof(T));
    add_noise_rows(got.data(), k.with_eps ? got_eps.data() : nullptr, k.in_place ? got.data() : x.data(), rows, dim, coef,
                   k.seed, k.own_streams ? words.data() : nullptr);
    check_equal(noised.data(), got.data(), n);
    if (k.with_eps) check_equal(eps.data(), got_eps.data(), n);
  }
  for (const Shifted<T>* b : {&x, &y, &fill, &comb, &noised, &eps, &got, &got_eps}) check_guards(*b);
}

FUZZ_UNCOVERED_END

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  Case k;
  const bool large = in.rare(8192);
  const int what = large ? 2 + in.range<int>(0, 1) : in.range<int>(0, 3);
  decode(in, &k, what >= 2, large);
  switch (what) {
    case 0: table_checks<double>(k); break;
    case 1: table_checks<float>(k); break;
    case 2: driver_checks<double>(k); break;
    default: driver_checks<float>(k); break;
  }
  return 0;
}

// The vector mixture-posterior path: the interface between native/core/mixture.cc (which
// splits rows over threads and owns the scalar reference) and the per-level translation units
// native/core/simd/mixture_<level>.cc (each built with its own target flags). Only plain data
// and function pointers cross it, so nothing compiled with -mavx2 is shared with baseline code.
//
// Algorithm (formulas as in ../mixture.h; everything that reaches an output is float64):
// - isotropic components with K <= 64 and dim <= 64: the rows-in-lanes kernel of
//   mixture_small.h (a tile of rows one per lane, components and dimensions as loops over
//   broadcast constants; taken in dynamic chunks by the threads); otherwise:
// - isotropic components (shared, per component, empirical) with dim >= kMixtureScreenMinDim:
//   a float32 screen computes every cross term x.mu_k in register-blocked tiles (rows x
//   components, dim the reduction), giving each log density l_k with a rigorous error bound;
//   components that are certainly negligible (l_k < max l - T, T chosen per row so that their
//   total contribution to every output is below half the smallest subnormal of the output
//   type) are dropped, and the rest are computed exactly in float64 by direct differences.
//   Rows where too many components survive are "dense" and take the float64 path below.
// - dense rows: float64 tiles over (rows x components) computing the direct difference
//   sum_j (x_j - a mu_kj)^2 (or, for dim >= kMixtureCrossMinDim, the cross-term form
//   |x|^2 - 2a x.mu + a^2 |mu|^2 with a per-pair cancellation check that falls back to the
//   direct difference), then the log-sum-exp with a vector exp, then the posterior mean and
//   score as a second tiled product weights [rows, K] x means [K, dim] plus the x term.
// - diagonal variances: direct differences per (row, component), vectorised over dim.
// Every decision is made per row from that row's data, and every row's arithmetic is the same
// whatever rows share its tile or thread, so results do not depend on the thread count.
#pragma once
#include <atomic>
#include <cstddef>

#include "../mixture.h"

namespace tweedie {

// The scalar reference for one row (native/core/mixture.cc), for the rows the vector path hands
// back: those where every quadratic overflows.
struct MixtureScalarRow {
  void (*fn)(const void* self, size_t row, void* scalar_workspace);
  const void* self;
};

// One part of a call: rows [begin, end) of x; or, where next_chunk is set (tables whose
// dynamic_split says so), the chunks [c chunk_rows, (c + 1) chunk_rows) of [0, end) for
// c = next_chunk++ until it passes the last: the parts of a call share next_chunk, so a part
// on a busy core takes fewer chunks. Which part computes a row changes none of its bits.
template <typename T>
struct MixturePart {
  const T* x;
  size_t begin, end;
  std::atomic<size_t>* next_chunk;
  size_t chunk_rows;
  const MixtureModel* model;
  const MixtureLevels* levels;
  const MixtureOutputs<T>* out;
  unsigned char* workspace;  // workspace_bytes(end - begin, ...) bytes, 64-byte aligned
  void* scalar_workspace;    // for scalar_row
  MixtureScalarRow scalar_row;
  // Cooperative calls (coop_phase 1 or 2; 0: an ordinary part), for few rows against many
  // components (MixtureVectorTable::coop_block): every part's workspace is sized for all
  // coop_rows rows, part q's at coop_shared + q * coop_stride (coop_shared: part 0's).
  // Phase 1: every part screens all the rows against the blocks of coop_block components it
  // takes from next_chunk (block c: components [c coop_block, (c + 1) coop_block)), and, with
  // check_means, sets *means_bad when a mean of its blocks is not finite. Phase 2 (after every
  // part has finished phase 1): rows [begin, end) are finished from the screens of all parts.
  // Which part screens which block changes no bit of any row.
  int coop_phase;
  int coop_parts;
  size_t coop_rows, coop_block, coop_stride;
  unsigned char* coop_shared;
  bool check_means;
  bool* means_bad;
};

struct MixtureVectorTable {
  // Bytes of workspace a part of `rows` rows needs (false when that overflows size_t).
  bool (*workspace_bytes)(size_t rows, size_t components, size_t dim, size_t variances_length, bool f32,
                          size_t* bytes);
  // Work of one row in the units of kMinVectorWorkPerPart (mixture.cc), for splitting rows
  // over threads: about a multiply-add of the float32 screen or a quarter of one of the
  // rows-in-lanes kernel (saturating).
  size_t (*row_work)(size_t components, size_t dim, size_t variances_length);
  // Whether rows of this shape may be taken in dynamic chunks (MixturePart::next_chunk): the
  // path keeps no per-part state worth more than a few rows, and its workspace does not grow
  // with the rows of a part.
  bool (*dynamic_split)(size_t components, size_t dim, size_t variances_length);
  // Components per block of a cooperative call (MixturePart::coop_phase) of this shape, or 0
  // where the shape cannot take one (no float32 screen, or the rows do not fit one chunk).
  size_t (*coop_block)(size_t rows, size_t components, size_t dim, size_t variances_length, bool f32);
  void (*rows_f64)(const MixturePart<double>& part);
  void (*rows_f32)(const MixturePart<float>& part);
  // Test hook: out[i] = exp(x[i]) for x[i] <= 0 by the level's vector exp.
  void (*exp_nonpositive)(const double* x, double* out, size_t n);
  // Test hook: bit 0 makes the rows-in-lanes kernel run its tiny pass wherever a lane has a
  // component left out of the main sums, also where it provably changes nothing (mixture_small.h).
  int* test_flags;
};

#if defined(TWEEDIE_X86_SIMD)
const MixtureVectorTable& mixture_sse2_table();  // mixture_sse2.cc (baseline flags)
const MixtureVectorTable& mixture_avx2_table();  // mixture_avx2.cc (-mavx2 -mfma)
#endif
#if defined(TWEEDIE_X86_AVX512)
const MixtureVectorTable& mixture_avx512_table();  // mixture_avx512.cc (-mavx512f -mavx512dq -mavx512vl)
#endif
#if defined(TWEEDIE_ARM_NEON)
const MixtureVectorTable& mixture_neon_table();  // mixture_neon.cc
#endif

// The FMA peak yardstick (bench): `iterations` rounds of 2 x 10 independent 8-lane float32
// FMA chains (AVX2+FMA) on one thread; returns a value that depends on every lane so that the
// work cannot be elided. 320 flops per iteration.
#if defined(TWEEDIE_X86_SIMD)
float fma_peak_avx2_f32(long iterations);
double fma_peak_avx2_f64(long iterations);  // 4-lane float64 chains: 160 flops per iteration
#endif
// The same with 2 x 12 independent 16-lane float32 (8-lane float64) AVX-512 FMA chains: 768
// flops per iteration (384 for float64).
#if defined(TWEEDIE_X86_AVX512)
float fma_peak_avx512_f32(long iterations);
double fma_peak_avx512_f64(long iterations);
#endif

}  // namespace tweedie

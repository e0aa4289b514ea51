// Exact posteriors of Gaussian mixtures with diagonal covariances (isotropic and zero-variance
// empirical point sets are special cases) under x_t = alpha x0 + sigma eps. Plain functions on
// pointers, no Node headers; callers validate shapes and values (see mixture_posterior).
//
// Per row, in float64, with C_kj = alpha^2 v_kj + sigma^2 and e_kj = x_j - alpha mu_kj:
//   l_k = log w_k - 1/2 sum_j (log(2 pi C_kj) + e_kj^2 / C_kj)
//   r_k = exp(l_k - m) / sum_i exp(l_i - m), m = max_k l_k   (never exp(l_k - log p))
//   log p = m + log sum_i exp(l_i - m);  entropy = -sum_k r_k log r_k
//   score_j = -sum_k r_k e_kj / C_kj;  m_kj = mu_kj + (alpha v_kj / C_kj) e_kj;  D_j = sum_k r_k m_kj
//   (the gain alpha v / C is bounded, so m_kj stays finite where e / C overflows, e.g. zero variances)
//   variance = sum_k r_k (sum_j v_kj sigma^2 / C_kj + |m_k - D|^2) / dim
// At SIMD level "scalar" the operation order is fixed and mirrored by src/js/mixture.ts (the
// reference). The vector levels (native/core/simd/mixture_kernels.h: for isotropic mixtures of
// small dim and K a rows-in-lanes kernel, mixture_small.h; otherwise a float32 screen of the
// cross terms x.mu_k with rigorous error bounds that drops only components negligible in every
// output, float64 tiles for the rest; a vector exp that never computes with a subnormal number)
// are in the tolerance tier: every output within the twin rule 2 ulp + 1e-12 C of the reference
// (native/test/mixture_test.cc, fuzz_mixture.cc), computing e_kj = x_j - alpha mu_kj with the
// reference's two roundings wherever it is used.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tweedie {

struct MixtureModel {
  size_t components;          // K >= 1
  size_t dim;                 // >= 1
  const double* means;        // [K, dim], finite
  const double* variances;    // finite >= 0; length K*dim (diagonal), else K (per component), else 1 (shared)
  size_t variances_length;
  const double* log_weights;  // [K]; -inf for a zero weight, never NaN or +inf, at least one finite
  // Whether mixture_posterior is to check that every mean is finite itself (split over the
  // thread pool, or within the kernel's first pass over the means where the path allows it),
  // before it writes any output: kNotFinite, nothing written, if one is not. When false the
  // caller guarantees it.
  bool check_means = false;
};

// Noise level of row r: alpha[r * alpha_stride], sigma[r * sigma_stride] (stride 0 broadcasts).
// alpha finite >= 0, sigma >= kMixtureMinSigma, and alpha^2 v + sigma^2 <= kMixtureMaxC for every
// variance v, so that every C_kj and 1 / C_kj is a finite normal double.
constexpr double kMixtureMinSigma = 1e-150;
constexpr double kMixtureMaxC = 1e300;
struct MixtureLevels {
  const double* alpha;
  size_t alpha_stride;
  const double* sigma;
  size_t sigma_stride;
};

// Requested outputs (null: not computed). Shapes: responsibilities [rows, K], mean and score
// [rows, dim], log_density, entropy and variance [rows]. None may overlap x or each other.
template <typename T>
struct MixtureOutputs {
  T* responsibilities;
  T* mean;
  T* score;
  T* log_density;
  T* entropy;
  T* variance;
};

// kNotFinite: model.check_means was set and a mean is NaN or infinite.
enum class MixtureStatus : int { kOk = 0, kSizeOverflow = 1, kNoMemory = 2, kNotFinite = 3 };

// Whether every p[i], i < n, is finite (not NaN or infinite); split over the thread pool.
bool mixture_all_finite(const double* p, size_t n);

// Bytes of workspace one call with this shape needs at the current thread count (for any kind
// of variances and either dtype), or kSizeOverflow when that does not fit in size_t.
MixtureStatus mixture_workspace_bytes(size_t rows, size_t components, size_t dim, size_t* bytes);

// Workspace memory kept across calls (a sampling loop's: reserved once, reused by every
// evaluation); grown by a call that needs more. Not for concurrent calls.
class MixtureWorkspace {
 public:
  MixtureWorkspace() = default;
  ~MixtureWorkspace();
  MixtureWorkspace(const MixtureWorkspace&) = delete;
  MixtureWorkspace& operator=(const MixtureWorkspace&) = delete;
  // At least `bytes` bytes, 64-byte aligned (without exceptions); false, leaving it unchanged,
  // when they cannot be allocated.
  bool reserve(size_t bytes);
  unsigned char* data() const { return aligned_; }
  size_t size() const { return size_; }

 private:
  unsigned char* raw_ = nullptr;
  unsigned char* aligned_ = nullptr;
  size_t size_ = 0;
};

// Computes the requested outputs for x [rows, dim] with the kernel of the active SIMD level.
// Rows are split over the thread pool (statically, or in chunks that the threads take as they
// finish; few rows against many components: the float32 screen's components are shared out in
// blocks first, then the rows); each row's arithmetic is the same whatever the split (and
// whatever other rows share its vector tile), so results do not depend on the thread count. Small calls run on the
// calling thread alone: below about 2^18 multiply-adds of the screen, or 2^19 K (dim + 16) for
// the rows-in-lanes kernel (mixture.cc, row_work).
// Workspace is allocated (without exceptions) before anything is written: on kSizeOverflow,
// kNoMemory or kNotFinite no output has been touched.
template <typename T>
MixtureStatus mixture_posterior(const T* x, size_t rows, const MixtureModel& model, const MixtureLevels& levels,
                                const MixtureOutputs<T>& out);
// The same with the workspace taken from (and if need be grown in) `workspace`.
template <typename T>
MixtureStatus mixture_posterior(const T* x, size_t rows, const MixtureModel& model, const MixtureLevels& levels,
                                const MixtureOutputs<T>& out, MixtureWorkspace* workspace);

}  // namespace tweedie

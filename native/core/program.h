// The fully native sampling loop for a Gaussian-mixture denoiser: a sampler's sequence of
// operations, recorded once in TypeScript (src/samplers/program.ts) with every coefficient
// already computed in float64, is replayed here without returning to JavaScript:
//   eval    into <- D(x; sigma) = mixture_posterior(x, alpha = 1, sigma).mean (an x holding NaN
//           or Inf stops the run with kNonFinite, where the JavaScript loop's denoise throws)
//   lincomb out  <- sum_j c_j terms_j (+ c_n z)      (lincomb_rows, the `step` kernel; without
//                                                     noise a flat vectorised pass doing the same
//                                                     operations per element: the same bits)
//   zero    buf  <- 0
//   copy    dst  <- src (rounded once when dst is float32 and src float64)
//   step    a step boundary (a cancellation point)
// The same kernels run on the same operands in the same order as the JavaScript loop on the
// native backend, so the results are the same bits (and do not depend on the thread count).
// Plain C++ on pointers, no Node headers, no exceptions: status codes, nothrow allocation, and
// every index, count, dtype and noise level checked by prepare() before anything runs.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mixture.h"

namespace tweedie {

// Opcodes and their words in Program::code (consts: float64 operands, consumed in op order).
//   kOpEval    [op, x, into, step]                              consts: sigma
//   kOpLincomb [op, out, n_terms, noise, tag, term_0 .. term_n-1] consts: n_terms (+1 if noise) coefficients
//   kOpZero    [op, buf]
//   kOpCopy    [op, dst, src]
//   kOpStep    [op, step]
// noise is 0 or 1; with 1 the noise of row r, element e is normal(seed, stream_r, tag * 2^32 + e).
enum ProgramOp : uint32_t { kOpEval = 1, kOpLincomb = 2, kOpZero = 3, kOpCopy = 4, kOpStep = 5 };

// Buffer kinds: the state's dtype T, or float64 (Brownian-tree values under a float32 state).
// Buffer 0 is the state (kind kBufferState); the others start zeroed.
enum ProgramBufferKind : uint8_t { kBufferState = 0, kBufferF64 = 1 };

struct Program {
  const uint32_t* code;
  size_t code_length;
  const double* consts;
  size_t consts_length;
  const uint8_t* buffer_kinds;  // one per buffer
  size_t buffers;               // >= 1
  uint64_t seed;                // of the inline noise
  const uint32_t* stream_words; // (lo, hi) per row, or null for stream = row index
};

enum class ProgramStatus : int {
  kOk = 0,
  kCancelled = 1,   // the cancel flag was seen between two ops
  kNonFinite = 2,   // an evaluation's input held NaN or +-Inf (ProgramReport: op, step, element, value)
  kBadProgram = 3,  // malformed program or model (prepare; why() says what)
  kSizeOverflow = 4,
  kNoMemory = 5,
};

struct ProgramReport {
  ProgramStatus status = ProgramStatus::kOk;
  size_t nfe = 0;       // evaluations done
  size_t op = 0;        // ordinal of the op that stopped the run
  uint32_t step = 0;    // its sampler step (evaluations)
  size_t element = 0;   // first non-finite element of the evaluation's input
  double value = 0;     // its value
};

// Runs a program for a state of `rows` x model.dim elements of type T (float or double).
// prepare() checks everything and allocates, the mixture kernel's workspace included; run()
// cannot fail except for kCancelled, kNonFinite and, if the thread count grew since prepare(),
// a failed allocation of the larger workspace inside the mixture kernel (kNoMemory).
template <typename T>
class ProgramRunner {
 public:
  ProgramRunner() = default;
  ProgramRunner(const ProgramRunner&) = delete;
  ProgramRunner& operator=(const ProgramRunner&) = delete;
  ~ProgramRunner();

  // The program, model and stream words are referenced, not copied: they must outlive run().
  ProgramStatus prepare(const Program& program, const MixtureModel& model, size_t rows);
  // Why prepare() failed (a static string).
  const char* why() const { return why_; }
  // Evaluations the program makes (after a successful prepare()).
  size_t evaluations() const { return evaluations_; }
  // Bytes of scratch buffers prepare() allocated.
  size_t scratch_bytes() const { return scratch_bytes_; }

  // Runs the program on state [rows, dim] (buffer 0, updated in place). cancel may be null.
  void run(T* state, const std::atomic<bool>* cancel, ProgramReport* report);

 private:
  ProgramStatus fail(ProgramStatus s, const char* why) {
    why_ = why;
    return s;
  }

  Program program_{};
  MixtureModel model_{};
  size_t rows_ = 0, length_ = 0;
  size_t evaluations_ = 0, scratch_bytes_ = 0;
  const char* why_ = "";
  bool prepared_ = false;
  T* state_scratch_ = nullptr;         // buffers of kind kBufferState but 0, length_ each
  double* f64_scratch_ = nullptr;      // buffers of kind kBufferF64, length_ each
  void** pointers_ = nullptr;          // per buffer (entry 0 set by run())
  MixtureWorkspace workspace_;         // the evaluations' (reserved by prepare())
};

// Checks a mixture model as the mixture binding does: K >= 1, dim >= 1, variances of length
// 1, K or K * dim, finite means, finite variances >= 0, log weights never NaN or +inf with at
// least one finite. On success *vmax is the largest variance.
bool program_model_ok(const MixtureModel& model, double* vmax, const char** why);

extern template class ProgramRunner<float>;
extern template class ProgramRunner<double>;

}  // namespace tweedie

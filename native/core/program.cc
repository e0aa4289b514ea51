// The native sampling loop (see program.h).
#include "program.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <new>

#include "parallel.h"
#include "step.h"

namespace tweedie {
namespace {

constexpr size_t kCheckGrain = 1 << 15;

bool mul_ok(size_t a, size_t b, size_t* out) { return !__builtin_mul_overflow(a, b, out); }

// Words of an op (including the opcode), or 0 when the opcode is unknown or the op is cut off.
size_t op_words(const uint32_t* code, size_t at, size_t length) {
  switch (code[at]) {
    case kOpEval: return 4;
    case kOpLincomb: {
      if (length - at < 5) return 5;  // the caller sees it does not fit
      const uint32_t n = code[at + 2];
      return (n >= 1 && n <= static_cast<uint32_t>(kMaxStepTerms)) ? 5 + n : 0;
    }
    case kOpZero: return 2;
    case kOpCopy: return 3;
    case kOpStep: return 2;
    default: return 0;
  }
}

// Bit test for NaN and +-Inf (all exponent bits set): vectorises, no floating-point compare.
inline bool not_finite(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return (b & 0x7f800000u) == 0x7f800000u;
}
inline bool not_finite(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return (b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull;
}

// Index of the first non-finite element of p[0, n), or n.
template <typename T>
size_t first_non_finite(const T* p, size_t n) {
  std::atomic<size_t> first{n};
  parallel_for(n, kCheckGrain, 16, [&](size_t begin, size_t end) {
    constexpr size_t kBlock = 1024;
    for (size_t b0 = begin; b0 < end; b0 += kBlock) {
      const size_t b1 = end - b0 < kBlock ? end : b0 + kBlock;
      bool bad = false;
      for (size_t i = b0; i < b1; ++i) bad |= not_finite(p[i]);
      if (!bad) continue;
      size_t i = b0;
      while (!not_finite(p[i])) ++i;
      size_t seen = first.load(std::memory_order_relaxed);
      while (i < seen && !first.compare_exchange_weak(seen, i, std::memory_order_relaxed)) {
      }
      return;
    }
  });
  return first.load(std::memory_order_relaxed);
}

// out[i] = sum_j c[j] terms_j[i] over [0, n) for coefficients shared by every row and no noise:
// per element the same operations in the same order as lincomb_rows (acc = c0 t0, then
// acc = acc + c_j t_j, left to right in double, one rounding to T), hence the same bits, but
// computed a block at a time into a local array, so that the compiler vectorises the loops
// (lincomb_rows' element loop stays scalar, ~1.5-3 ns per element; this one is several times
// faster) and out may still be one of the terms. Split over the pool like lincomb_rows.
constexpr size_t kFlatBlock = 256;
constexpr size_t kFlatGrain = 1 << 15;

template <typename T>
void flat_block(T* out, const T* const* terms, int n, const double* c, size_t b0, size_t m) {
  double acc[kFlatBlock];
  const T* t0 = terms[0] + b0;
  const double c0 = c[0];
  for (size_t k = 0; k < m; ++k) acc[k] = c0 * static_cast<double>(t0[k]);
  for (int j = 1; j < n; ++j) {
    const T* tj = terms[j] + b0;
    const double cj = c[j];
    for (size_t k = 0; k < m; ++k) {
      const double p = cj * static_cast<double>(tj[k]);
      acc[k] = acc[k] + p;
    }
  }
  T* o = out + b0;
  for (size_t k = 0; k < m; ++k) o[k] = static_cast<T>(acc[k]);
}

template <typename T>
void lincomb_flat(T* out, size_t length, const T* const* terms, int n, const double* c) {
  parallel_for(length, kFlatGrain, kFlatBlock, [&](size_t begin, size_t end) {
    for (size_t b0 = begin; b0 < end; b0 += kFlatBlock) {
      flat_block(out, terms, n, c, b0, end - b0 < kFlatBlock ? end - b0 : kFlatBlock);
    }
  });
}

}  // namespace

bool program_model_ok(const MixtureModel& m, double* vmax, const char** why) {
  size_t kd;
  if (m.components == 0 || m.dim == 0) return (*why = "the mixture needs at least one component and dim >= 1"), false;
  if (!mul_ok(m.components, m.dim, &kd)) return (*why = "components * dim overflows"), false;
  if (m.means == nullptr || m.variances == nullptr || m.log_weights == nullptr)
    return (*why = "missing mixture parameters"), false;
  if (m.variances_length != 1 && m.variances_length != m.components && m.variances_length != kd)
    return (*why = "variances must have length 1, components or components * dim"), false;
  for (size_t i = 0; i < kd; ++i) {
    if (!std::isfinite(m.means[i])) return (*why = "means must be finite"), false;
  }
  double mx = 0;
  for (size_t i = 0; i < m.variances_length; ++i) {
    const double v = m.variances[i];
    if (!(v >= 0 && std::isfinite(v))) return (*why = "variances must be finite and >= 0"), false;
    if (v > mx) mx = v;
  }
  bool any = false;
  for (size_t k = 0; k < m.components; ++k) {
    const double lw = m.log_weights[k];
    if (std::isnan(lw) || lw == HUGE_VAL) return (*why = "logWeights must not be NaN or +Infinity"), false;
    if (std::isfinite(lw)) any = true;
  }
  if (!any) return (*why = "at least one log weight must be finite"), false;
  *vmax = mx;
  return true;
}

template <typename T>
ProgramRunner<T>::~ProgramRunner() {
  delete[] state_scratch_;
  delete[] f64_scratch_;
  delete[] pointers_;
}

template <typename T>
ProgramStatus ProgramRunner<T>::prepare(const Program& p, const MixtureModel& model, size_t rows) {
  if (prepared_) return fail(ProgramStatus::kBadProgram, "prepare() was already called");
  double vmax = 0;
  const char* why = "";
  if (!program_model_ok(model, &vmax, &why)) return fail(ProgramStatus::kBadProgram, why);
  const size_t dim = model.dim;
  size_t length;
  if (rows == 0) return fail(ProgramStatus::kBadProgram, "the state needs at least one row");
  if (!mul_ok(rows, dim, &length)) return fail(ProgramStatus::kSizeOverflow, "rows * dim overflows");
  if (p.buffers == 0 || p.buffer_kinds == nullptr || p.buffer_kinds[0] != kBufferState)
    return fail(ProgramStatus::kBadProgram, "buffer 0 must be the state");
  if ((p.code == nullptr && p.code_length) || (p.consts == nullptr && p.consts_length))
    return fail(ProgramStatus::kBadProgram, "missing program arrays");
  constexpr bool kStateIsF64 = sizeof(T) == sizeof(double);
  auto f64 = [&](uint32_t b) { return kStateIsF64 || p.buffer_kinds[b] == kBufferF64; };
  size_t n_state = 0, n_f64 = 0;
  for (size_t b = 1; b < p.buffers; ++b) {
    if (p.buffer_kinds[b] == kBufferState) ++n_state;
    else if (p.buffer_kinds[b] == kBufferF64) ++n_f64;
    else return fail(ProgramStatus::kBadProgram, "unknown buffer kind");
  }

  // Every op: known, complete, buffer ids in range, dtypes that the kernels accept, sane levels.
  size_t c = 0, evals = 0;
  bool noise_used = false;
  for (size_t at = 0; at < p.code_length;) {
    const size_t words = op_words(p.code, at, p.code_length);
    if (words == 0) return fail(ProgramStatus::kBadProgram, "unknown opcode or term count");
    if (p.code_length - at < words) return fail(ProgramStatus::kBadProgram, "the last op is cut off");
    const uint32_t* w = p.code + at;
    switch (w[0]) {
      case kOpEval: {
        if (w[1] >= p.buffers || w[2] >= p.buffers) return fail(ProgramStatus::kBadProgram, "buffer id out of range");
        if (w[1] == w[2]) return fail(ProgramStatus::kBadProgram, "an evaluation must not write its input");
        if (p.buffer_kinds[w[1]] != kBufferState || p.buffer_kinds[w[2]] != kBufferState)
          return fail(ProgramStatus::kBadProgram, "evaluations read and write state-dtype buffers");
        if (c >= p.consts_length) return fail(ProgramStatus::kBadProgram, "too few constants");
        const double s = p.consts[c++];
        if (!(std::isfinite(s) && s >= kMixtureMinSigma && vmax + s * s <= kMixtureMaxC))
          return fail(ProgramStatus::kBadProgram, "an evaluation's sigma is outside the mixture's range");
        ++evals;
        break;
      }
      case kOpLincomb: {
        const uint32_t out = w[1], n = w[2], noise = w[3];
        if (noise > 1) return fail(ProgramStatus::kBadProgram, "the noise flag must be 0 or 1");
        if (out >= p.buffers) return fail(ProgramStatus::kBadProgram, "buffer id out of range");
        for (uint32_t j = 0; j < n; ++j) {
          const uint32_t t = w[5 + j];
          if (t >= p.buffers) return fail(ProgramStatus::kBadProgram, "buffer id out of range");
          if (f64(t) != f64(out)) return fail(ProgramStatus::kBadProgram, "a lincomb's terms must have its output's dtype");
        }
        const size_t need = n + noise;
        if (p.consts_length - c < need) return fail(ProgramStatus::kBadProgram, "too few constants");
        for (size_t j = 0; j < need; ++j) {
          if (!std::isfinite(p.consts[c + j])) return fail(ProgramStatus::kBadProgram, "a coefficient is not finite");
        }
        c += need;
        noise_used = noise_used || noise;
        break;
      }
      case kOpZero:
        if (w[1] >= p.buffers) return fail(ProgramStatus::kBadProgram, "buffer id out of range");
        break;
      case kOpCopy:
        if (w[1] >= p.buffers || w[2] >= p.buffers) return fail(ProgramStatus::kBadProgram, "buffer id out of range");
        if (w[1] == w[2]) return fail(ProgramStatus::kBadProgram, "a copy must not copy a buffer onto itself");
        break;
      case kOpStep:
        break;
    }
    at += words;
  }
  if (c != p.consts_length) return fail(ProgramStatus::kBadProgram, "too many constants");
  if (noise_used && dim > 0xffffffffu) return fail(ProgramStatus::kBadProgram, "inline noise needs dim < 2^32");
  size_t ws = 0;
  if (evals && mixture_workspace_bytes(rows, model.components, dim, &ws) != MixtureStatus::kOk)
    return fail(ProgramStatus::kSizeOverflow, "the mixture workspace size overflows (components and dim too large)");
  if (evals && !workspace_.reserve(ws))
    return fail(ProgramStatus::kNoMemory, "could not allocate the mixture kernel's workspace");

  // Scratch buffers, once, without exceptions; zeroed like fresh JavaScript arrays.
  size_t state_elems, f64_elems, state_bytes, f64_bytes, ptr_bytes;
  if (!mul_ok(n_state, length, &state_elems) || !mul_ok(n_f64, length, &f64_elems) ||
      !mul_ok(state_elems, sizeof(T), &state_bytes) || !mul_ok(f64_elems, sizeof(double), &f64_bytes) ||
      !mul_ok(p.buffers, sizeof(void*), &ptr_bytes) || state_bytes + f64_bytes < state_bytes)
    return fail(ProgramStatus::kSizeOverflow, "the program's buffers do not fit in memory");
  pointers_ = new (std::nothrow) void*[p.buffers];
  if (pointers_ == nullptr) return fail(ProgramStatus::kNoMemory, "could not allocate the program's buffers");
  if (state_elems) {
    state_scratch_ = new (std::nothrow) T[state_elems];
    if (state_scratch_ == nullptr) return fail(ProgramStatus::kNoMemory, "could not allocate the program's buffers");
    std::memset(static_cast<void*>(state_scratch_), 0, state_bytes);
  }
  if (f64_elems) {
    f64_scratch_ = new (std::nothrow) double[f64_elems];
    if (f64_scratch_ == nullptr) return fail(ProgramStatus::kNoMemory, "could not allocate the program's buffers");
    std::memset(static_cast<void*>(f64_scratch_), 0, f64_bytes);
  }
  size_t si = 0, fi = 0;
  pointers_[0] = nullptr;
  for (size_t b = 1; b < p.buffers; ++b) {
    if (p.buffer_kinds[b] == kBufferState) pointers_[b] = state_scratch_ + (si++) * length;
    else pointers_[b] = f64_scratch_ + (fi++) * length;
  }
  program_ = p;
  model_ = model;
  rows_ = rows;
  length_ = length;
  evaluations_ = evals;
  scratch_bytes_ = state_bytes + f64_bytes;
  prepared_ = true;
  return ProgramStatus::kOk;
}

template <typename T>
void ProgramRunner<T>::run(T* state, const std::atomic<bool>* cancel, ProgramReport* report) {
  *report = ProgramReport{};
  if (!prepared_) {
    report->status = ProgramStatus::kBadProgram;
    return;
  }
  const Program& p = program_;
  constexpr bool kStateIsF64 = sizeof(T) == sizeof(double);
  pointers_[0] = state;
  const size_t dim = model_.dim;
  const double one = 1.0;
  StepNoise noise{p.seed, p.stream_words, 0};
  size_t c = 0, ordinal = 0;
  for (size_t at = 0; at < p.code_length; ++ordinal) {
    const uint32_t* w = p.code + at;
    at += op_words(p.code, at, p.code_length);
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      report->status = ProgramStatus::kCancelled;
      report->op = ordinal;
      return;
    }
    switch (w[0]) {
      case kOpEval: {
        const T* x = static_cast<const T*>(pointers_[w[1]]);
        T* into = static_cast<T*>(pointers_[w[2]]);
        const double sigma = p.consts[c++];
        const size_t bad = first_non_finite(x, length_);
        if (bad < length_) {
          report->status = ProgramStatus::kNonFinite;
          report->op = ordinal;
          report->step = w[3];
          report->element = bad;
          report->value = static_cast<double>(x[bad]);
          return;
        }
        const MixtureLevels levels{&one, 0, &sigma, 0};
        const MixtureOutputs<T> out{nullptr, into, nullptr, nullptr, nullptr, nullptr};
        const MixtureStatus s = mixture_posterior(x, rows_, model_, levels, out, &workspace_);
        if (s != MixtureStatus::kOk) {
          report->status = s == MixtureStatus::kNoMemory ? ProgramStatus::kNoMemory : ProgramStatus::kSizeOverflow;
          report->op = ordinal;
          report->step = w[3];
          return;
        }
        ++report->nfe;
        break;
      }
      case kOpLincomb: {
        const uint32_t n = w[2];
        const bool with_noise = w[3] != 0;
        noise.index_hi = w[4];
        const double* coef = p.consts + c;
        c += n + (with_noise ? 1 : 0);
        const bool f64_out = kStateIsF64 || p.buffer_kinds[w[1]] == kBufferF64;
        if (f64_out) {
          const double* terms[kMaxStepTerms];
          for (uint32_t j = 0; j < n; ++j) terms[j] = static_cast<const double*>(pointers_[w[5 + j]]);
          double* out = static_cast<double*>(pointers_[w[1]]);
          if (with_noise) lincomb_rows(out, rows_, dim, terms, static_cast<int>(n), coef, false, &noise);
          else lincomb_flat(out, length_, terms, static_cast<int>(n), coef);
        } else {
          const float* terms[kMaxStepTerms];
          for (uint32_t j = 0; j < n; ++j) terms[j] = static_cast<const float*>(pointers_[w[5 + j]]);
          float* out = static_cast<float*>(pointers_[w[1]]);
          if (with_noise) lincomb_rows(out, rows_, dim, terms, static_cast<int>(n), coef, false, &noise);
          else lincomb_flat(out, length_, terms, static_cast<int>(n), coef);
        }
        break;
      }
      case kOpZero: {
        const bool f = kStateIsF64 || p.buffer_kinds[w[1]] == kBufferF64;
        std::memset(pointers_[w[1]], 0, length_ * (f ? sizeof(double) : sizeof(float)));
        break;
      }
      case kOpCopy: {
        const bool df = kStateIsF64 || p.buffer_kinds[w[1]] == kBufferF64;
        const bool sf = kStateIsF64 || p.buffer_kinds[w[2]] == kBufferF64;
        if (df == sf) {
          std::memcpy(pointers_[w[1]], pointers_[w[2]], length_ * (df ? sizeof(double) : sizeof(float)));
        } else if (sf) {  // float64 -> float32: one rounding, as TypedArray.prototype.set
          float* d = static_cast<float*>(pointers_[w[1]]);
          const double* s = static_cast<const double*>(pointers_[w[2]]);
          for (size_t i = 0; i < length_; ++i) d[i] = static_cast<float>(s[i]);
        } else {
          double* d = static_cast<double*>(pointers_[w[1]]);
          const float* s = static_cast<const float*>(pointers_[w[2]]);
          for (size_t i = 0; i < length_; ++i) d[i] = static_cast<double>(s[i]);
        }
        break;
      }
      case kOpStep:
        break;
    }
  }
}

template class ProgramRunner<float>;
template class ProgramRunner<double>;

}  // namespace tweedie

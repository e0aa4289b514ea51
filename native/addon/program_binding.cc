// Bindings of the native sampling loop (native/core/program.h): programRun (sync, in place on
// the state), programRunAsync (on the libuv pool, cancellable through a token), programToken
// and programCancel. src/samplers/program.ts records the program and gives the user-facing
// errors; these checks keep a direct call from reading or writing out of bounds. Every error
// in the arguments or the program, and a failed allocation, throws before anything runs.
#include <cstring>
#include <new>
#include <string>

#include "../core/program.h"
#include "args.h"
#include "bindings.h"

namespace tweedie_addon {
namespace {

// report: [status, nfe, op, step, element, value] (ProgramReport as doubles).
constexpr size_t kReportLength = 6;
constexpr napi_type_tag kTokenTag = {0x7477656564696531ull, 0x70726f6772616d31ull};

struct CancelToken {
  std::atomic<bool> cancelled{false};
};

struct ProgramArgs {
  ArrayArg state, means, variances, log_weights, code, consts, kinds, streams, report;
  size_t dim = 0, rows = 0;
  uint64_t seed = 0;
};

// Reads (state, dim, means, variances, logWeights, code, consts, kinds, seedLo, seedHi,
// streams | null, report) starting at argument `first`.
bool read_program_args(const Napi::CallbackInfo& info, size_t first, ProgramArgs* a) {
  Napi::Env env = info.Env();
  const size_t f = first;
  if (!read_array(info, f + 0, "state", napi_float64_array, napi_float32_array, false, &a->state) ||
      !read_size(info, f + 1, "dim", &a->dim) ||
      !read_array(info, f + 2, "means", napi_float64_array, napi_float64_array, false, &a->means) ||
      !read_array(info, f + 3, "variances", napi_float64_array, napi_float64_array, false, &a->variances) ||
      !read_array(info, f + 4, "logWeights", napi_float64_array, napi_float64_array, false, &a->log_weights) ||
      !read_array(info, f + 5, "code", napi_uint32_array, napi_uint32_array, false, &a->code) ||
      !read_array(info, f + 6, "consts", napi_float64_array, napi_float64_array, false, &a->consts) ||
      !read_array(info, f + 7, "kinds", napi_uint8_array, napi_uint8_array, false, &a->kinds) ||
      !read_u64_pair(info, f + 8, "seed", &a->seed) ||
      !read_array(info, f + 10, "streams", napi_uint32_array, napi_uint32_array, true, &a->streams) ||
      !read_array(info, f + 11, "report", napi_float64_array, napi_float64_array, false, &a->report))
    return false;
  if (a->state.length == 0 || a->state.length % a->dim != 0)
    return throw_range(env, "programRun: the length of state must be a positive multiple of dim");
  a->rows = a->state.length / a->dim;
  const size_t K = a->log_weights.length;
  size_t kd;
  if (K == 0 || __builtin_mul_overflow(K, a->dim, &kd) || a->means.length != kd)
    return throw_range(env, "programRun: means must have length components * dim (components = logWeights.length >= 1)");
  if (a->streams.present && a->streams.length != 2 * a->rows)
    return throw_range(env, "programRun: streams must hold two words per row");
  if (a->report.length != kReportLength) return throw_range(env, "programRun: report must have length 6");
  const ArrayArg* others[] = {&a->means, &a->variances, &a->log_weights, &a->code,
                              &a->consts, &a->kinds,    &a->streams,     &a->report};
  for (const ArrayArg* o : others) {
    if (any_overlap(a->state, *o)) return throw_range(env, "programRun: state must not overlap another argument");
  }
  for (const ArrayArg* o : others) {
    if (o != &a->report && any_overlap(a->report, *o))
      return throw_range(env, "programRun: report must not overlap another argument");
  }
  return true;
}

tweedie::Program program_of(const ProgramArgs& a) {
  return tweedie::Program{static_cast<const uint32_t*>(a.code.data),
                          a.code.length,
                          static_cast<const double*>(a.consts.data),
                          a.consts.length,
                          static_cast<const uint8_t*>(a.kinds.data),
                          a.kinds.length,
                          a.seed,
                          a.streams.present ? static_cast<const uint32_t*>(a.streams.data) : nullptr};
}

tweedie::MixtureModel model_of(const ProgramArgs& a) {
  return tweedie::MixtureModel{a.log_weights.length,
                               a.dim,
                               static_cast<const double*>(a.means.data),
                               static_cast<const double*>(a.variances.data),
                               a.variances.length,
                               static_cast<const double*>(a.log_weights.data)};
}

// A failed prepare (kBadProgram, kSizeOverflow, kNoMemory): a RangeError saying why.
bool throw_status(Napi::Env env, const char* why) { return throw_range(env, std::string("programRun: ") + why); }

void write_report(const tweedie::ProgramReport& r, double* out) {
  out[0] = static_cast<double>(static_cast<int>(r.status));
  out[1] = static_cast<double>(r.nfe);
  out[2] = static_cast<double>(r.op);
  out[3] = static_cast<double>(r.step);
  out[4] = static_cast<double>(r.element);
  out[5] = r.value;
}

// A state-dtype runner of either width.
struct Runner {
  tweedie::ProgramRunner<float> f32;
  tweedie::ProgramRunner<double> f64;
  bool is_f64 = false;

  tweedie::ProgramStatus prepare(const tweedie::Program& p, const tweedie::MixtureModel& m, size_t rows) {
    return is_f64 ? f64.prepare(p, m, rows) : f32.prepare(p, m, rows);
  }
  const char* why() const { return is_f64 ? f64.why() : f32.why(); }
  void run(void* state, const std::atomic<bool>* cancel, tweedie::ProgramReport* r) {
    if (is_f64) f64.run(static_cast<double*>(state), cancel, r);
    else f32.run(static_cast<float*>(state), cancel, r);
  }
};

// Runs a program on the libuv pool. The inputs are copied when the call is made (the caller
// may change or transfer its arrays meanwhile); the state is run in an owned buffer and copied
// into the caller's state array (kept alive by a reference) on the main thread, with the report.
class ProgramWorker : public Napi::AsyncWorker {
 public:
  explicit ProgramWorker(Napi::Env env)
      : Napi::AsyncWorker(env, "tweedie:programRunAsync"), deferred_(Napi::Promise::Deferred::New(env)) {}

  // Copies the inputs and prepares the runner; false (a JS error thrown) on any failure.
  bool init(const Napi::CallbackInfo& info, const ProgramArgs& a, Napi::External<CancelToken> token) {
    Napi::Env env = info.Env();
    args_ = a;
    ArrayArg* inputs[] = {&args_.state, &args_.means, &args_.variances, &args_.log_weights,
                          &args_.code,  &args_.consts, &args_.kinds,    &args_.streams};
    for (int i = 0; i < 8; ++i) {
      if (!inputs[i]->present) continue;
      size_t bytes;
      if (__builtin_mul_overflow(inputs[i]->length, inputs[i]->element_size, &bytes) || !in_[i].allocate(bytes))
        return throw_range(env, "programRunAsync: out of memory");
      if (bytes) std::memcpy(in_[i].data(), inputs[i]->data, bytes);
      inputs[i]->data = in_[i].data();
    }
    program_ = program_of(args_);
    model_ = model_of(args_);
    runner_.is_f64 = args_.state.type == napi_float64_array;
    const tweedie::ProgramStatus s = runner_.prepare(program_, model_, args_.rows);
    if (s != tweedie::ProgramStatus::kOk) return throw_status(env, runner_.why());
    state_ref_ = Napi::Persistent(info[1].As<Napi::TypedArray>());
    report_ref_ = Napi::Persistent(info[12].As<Napi::TypedArray>());
    token_ref_ = Napi::Persistent(token);
    token_ = token.Data();
    return true;
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override { runner_.run(args_.state.data, &token_->cancelled, &report_); }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::TypedArray state = state_ref_.Value();
    Napi::TypedArray report = report_ref_.Value();
    if (state.ArrayBuffer().IsDetached() || state.ElementLength() != args_.state.length ||
        state.TypedArrayType() != args_.state.type || report.ArrayBuffer().IsDetached() ||
        report.ElementLength() != kReportLength || report.TypedArrayType() != napi_float64_array) {
      deferred_.Reject(
          Napi::TypeError::New(env, "programRunAsync: state or report was detached or changed during the call").Value());
      return;
    }
    if (report_.status == tweedie::ProgramStatus::kOk) {
      uint8_t* dst = static_cast<uint8_t*>(state.ArrayBuffer().Data()) + state.ByteOffset();
      std::memcpy(dst, args_.state.data, args_.state.length * args_.state.element_size);
    }
    write_report(report_, reinterpret_cast<double*>(static_cast<uint8_t*>(report.ArrayBuffer().Data()) +
                                                    report.ByteOffset()));
    deferred_.Resolve(env.Undefined());
  }

 private:
  Napi::Promise::Deferred deferred_;
  ProgramArgs args_;
  OwnedBytes in_[8];
  tweedie::Program program_{};
  tweedie::MixtureModel model_{};
  Runner runner_;
  tweedie::ProgramReport report_{};
  Napi::Reference<Napi::TypedArray> state_ref_, report_ref_;
  Napi::Reference<Napi::External<CancelToken>> token_ref_;
  CancelToken* token_ = nullptr;
};

bool read_token(const Napi::CallbackInfo& info, size_t i, Napi::External<CancelToken>* out) {
  Napi::Value v = info[i];
  if (!v.IsExternal() || !v.As<Napi::External<CancelToken>>().CheckTypeTag(&kTokenTag))
    return throw_type(info.Env(), "Expected a token from programToken()");
  *out = v.As<Napi::External<CancelToken>>();
  return true;
}

}  // namespace

// programRun(state, dim, means, variances, logWeights, code, consts, kinds, seedLo, seedHi,
//            streams | null, report): runs the program on state in place; report receives
// [status, nfe, op, step, element, value] (status 0 ok, 2 non-finite evaluation input,
// 5 out of memory inside the mixture kernel).
Napi::Value ProgramRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ProgramArgs a;
  if (!read_program_args(info, 0, &a)) return env.Undefined();
  const tweedie::Program program = program_of(a);
  const tweedie::MixtureModel model = model_of(a);
  Runner runner;
  runner.is_f64 = a.state.type == napi_float64_array;
  const tweedie::ProgramStatus s = runner.prepare(program, model, a.rows);
  if (s != tweedie::ProgramStatus::kOk) {
    throw_status(env, runner.why());
    return env.Undefined();
  }
  tweedie::ProgramReport report;
  runner.run(a.state.data, nullptr, &report);
  write_report(report, static_cast<double*>(a.report.data));
  return env.Undefined();
}

// programRunAsync(token, state, ...programRun's other arguments) -> Promise<undefined>: state
// (on success) and report are written when it resolves; status 1 when programCancel(token) was
// called before the run ended.
Napi::Value ProgramRunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::External<CancelToken> token;
  if (!read_token(info, 0, &token)) return env.Undefined();
  ProgramArgs a;
  if (!read_program_args(info, 1, &a)) return env.Undefined();
  ProgramWorker* worker = new (std::nothrow) ProgramWorker(env);
  if (worker == nullptr) {
    throw_range(env, "programRunAsync: out of memory");
    return env.Undefined();
  }
  if (!worker->init(info, a, token)) {
    delete worker;
    return env.Undefined();
  }
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// programToken() -> an opaque token for programRunAsync and programCancel.
Napi::Value ProgramToken(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CancelToken* t = new (std::nothrow) CancelToken();
  if (t == nullptr) {
    throw_range(env, "programToken: out of memory");
    return env.Undefined();
  }
  Napi::External<CancelToken> ext = Napi::External<CancelToken>::New(env, t, [](Napi::Env, CancelToken* p) { delete p; });
  ext.TypeTag(&kTokenTag);
  return ext;
}

// programCancel(token): the runs holding this token stop before their next op.
Napi::Value ProgramCancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::External<CancelToken> token;
  if (!read_token(info, 0, &token)) return env.Undefined();
  token.Data()->cancelled.store(true, std::memory_order_relaxed);
  return env.Undefined();
}

}  // namespace tweedie_addon

// The native sampling loop (core/program.h): a program gives the same bits as the same kernel
// calls made one by one (what the JavaScript loop does), at any thread count; malformed
// programs and models are refused by prepare(); cancellation and non-finite inputs stop a run.
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "../core/mixture.h"
#include "../core/parallel.h"
#include "../core/program.h"
#include "../core/step.h"
#include "check.h"

using namespace tweedie;

namespace {

constexpr size_t kDim = 2;
constexpr size_t kRows = 37;
constexpr size_t kLen = kDim * kRows;

struct Mix {
  std::vector<double> means{2.0, 0.0, -1.0, 1.5, 0.25, -2.0};
  std::vector<double> variances{0.01, 0.04, 0.09};
  std::vector<double> log_weights{std::log(0.5), std::log(0.3), std::log(0.2)};
  MixtureModel model() const {
    return MixtureModel{3, kDim, means.data(), variances.data(), variances.size(), log_weights.data()};
  }
};

struct Builder {
  std::vector<uint32_t> code;
  std::vector<double> consts;
  std::vector<uint8_t> kinds{kBufferState};
  uint32_t buffer(uint8_t kind) {
    kinds.push_back(kind);
    return static_cast<uint32_t>(kinds.size() - 1);
  }
  void eval(uint32_t x, uint32_t into, uint32_t step, double sigma) {
    code.insert(code.end(), {kOpEval, x, into, step});
    consts.push_back(sigma);
  }
  void lincomb(uint32_t out, std::vector<uint32_t> terms, std::vector<double> c, bool noise = false, uint32_t tag = 0) {
    code.insert(code.end(), {kOpLincomb, out, static_cast<uint32_t>(terms.size()), noise ? 1u : 0u, tag});
    code.insert(code.end(), terms.begin(), terms.end());
    consts.insert(consts.end(), c.begin(), c.end());
  }
  void zero(uint32_t b) { code.insert(code.end(), {kOpZero, b}); }
  void copy(uint32_t d, uint32_t s) { code.insert(code.end(), {kOpCopy, d, s}); }
  void step(uint32_t i) { code.insert(code.end(), {kOpStep, i}); }
  Program program(uint64_t seed = 0x1234567890abcdefull, const uint32_t* streams = nullptr) const {
    return Program{code.data(), code.size(), consts.data(), consts.size(), kinds.data(), kinds.size(), seed, streams};
  }
};

const double kSigmas[] = {80.0, 12.5, 3.0, 0.7, 0.05, 0.0};

// An Euler-ancestral-like loop with a Brownian-like float64 detour: every op kind.
Builder euler_like() {
  Builder b;
  const uint32_t D = b.buffer(kBufferState);
  const uint32_t z = b.buffer(kBufferState);
  const uint32_t w = b.buffer(kBufferF64);
  for (uint32_t i = 0; i + 1 < 6; ++i) {
    const double s = kSigmas[i], s1 = kSigmas[i + 1];
    b.eval(0, D, i, s);
    b.step(i);
    const double k = (s1 - s) / s;
    if (s1 > 0) {
      b.zero(w);
      b.lincomb(w, {w}, {0.0, 0.5}, true, 0x20000000u + i);
      b.lincomb(w, {w, w}, {1.0, 0.25});
      b.copy(z, w);
      b.lincomb(0, {0, D, z}, {1 + k, -k, 0.1, 0.3}, true, 0x10000000u + 8 * i);
    } else {
      b.lincomb(0, {D}, {1.0});
    }
  }
  return b;
}

template <typename T>
std::vector<T> start_state() {
  std::vector<T> x(kLen);
  for (size_t i = 0; i < kLen; ++i) x[i] = static_cast<T>(80.0 * std::sin(1.0 + static_cast<double>(i)));
  return x;
}

// The same operations as euler_like(), kernel call by kernel call.
template <typename T>
std::vector<T> manual(const Mix& mix, uint64_t seed, const uint32_t* streams) {
  std::vector<T> x = start_state<T>(), D(kLen), z(kLen);
  std::vector<double> w(kLen);
  const MixtureModel m = mix.model();
  const double one = 1.0;
  for (uint32_t i = 0; i + 1 < 6; ++i) {
    const double s = kSigmas[i], s1 = kSigmas[i + 1];
    const MixtureLevels lv{&one, 0, &s, 0};
    mixture_posterior<T>(x.data(), kRows, m, lv, MixtureOutputs<T>{nullptr, D.data(), nullptr, nullptr, nullptr, nullptr});
    const double k = (s1 - s) / s;
    if (s1 > 0) {
      std::fill(w.begin(), w.end(), 0.0);
      StepNoise nw{seed, streams, 0x20000000u + i};
      const double c1[] = {0.0, 0.5};
      const double* t1[] = {w.data()};
      lincomb_rows<double>(w.data(), kRows, kDim, t1, 1, c1, false, &nw);
      const double c2[] = {1.0, 0.25};
      const double* t2[] = {w.data(), w.data()};
      lincomb_rows<double>(w.data(), kRows, kDim, t2, 2, c2, false, nullptr);
      for (size_t e = 0; e < kLen; ++e) z[e] = static_cast<T>(w[e]);
      StepNoise nx{seed, streams, 0x10000000u + 8 * i};
      const double c3[] = {1 + k, -k, 0.1, 0.3};
      const T* t3[] = {x.data(), D.data(), z.data()};
      lincomb_rows<T>(x.data(), kRows, kDim, t3, 3, c3, false, &nx);
    } else {
      const double c4[] = {1.0};
      const T* t4[] = {D.data()};
      lincomb_rows<T>(x.data(), kRows, kDim, t4, 1, c4, false, nullptr);
    }
  }
  return x;
}

template <typename T>
void check_matches_manual(const uint32_t* streams) {
  const Mix mix;
  const Builder b = euler_like();
  const Program p = b.program(0x1234567890abcdefull, streams);
  const int before = thread_count();
  std::vector<T> first;
  for (int threads : {1, 2, 3, 5}) {
    set_thread_count(threads);
    ProgramRunner<T> r;
    CHECK(r.prepare(p, mix.model(), kRows) == ProgramStatus::kOk);
    CHECK(r.evaluations() == 5);
    std::vector<T> x = start_state<T>();
    ProgramReport rep;
    r.run(x.data(), nullptr, &rep);
    CHECK(rep.status == ProgramStatus::kOk);
    CHECK(rep.nfe == 5);
    const std::vector<T> want = manual<T>(mix, 0x1234567890abcdefull, streams);
    CHECK(std::memcmp(x.data(), want.data(), kLen * sizeof(T)) == 0);
    if (first.empty()) first = x;
    CHECK(std::memcmp(x.data(), first.data(), kLen * sizeof(T)) == 0);
    bool finite = true;
    for (T v : x) finite = finite && std::isfinite(v);
    CHECK(finite);
  }
  set_thread_count(before);
}

ProgramStatus prepare_status(const Builder& b, const Mix& mix, size_t rows = kRows) {
  ProgramRunner<float> r;
  return r.prepare(b.program(), mix.model(), rows);
}

}  // namespace

TEST(program_matches_kernel_calls_float32) { check_matches_manual<float>(nullptr); }
TEST(program_matches_kernel_calls_float64) { check_matches_manual<double>(nullptr); }

TEST(program_matches_kernel_calls_with_streams) {
  std::vector<uint32_t> streams(2 * kRows);
  for (size_t r = 0; r < kRows; ++r) {
    streams[2 * r] = static_cast<uint32_t>(1000 + 7 * r);
    streams[2 * r + 1] = static_cast<uint32_t>(r % 3);
  }
  check_matches_manual<float>(streams.data());
  check_matches_manual<double>(streams.data());
}

TEST(program_rejects_malformed_programs) {
  const Mix mix;
  CHECK(prepare_status(euler_like(), mix) == ProgramStatus::kOk);
  {
    Builder b = euler_like();
    b.code.push_back(99);
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Builder b = euler_like();
    b.code.push_back(kOpEval);  // cut off
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Builder b;
    b.buffer(kBufferState);
    b.eval(0, 7, 0, 1.0);  // no buffer 7
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Builder b;
    b.eval(0, 0, 0, 1.0);  // writes its input
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Builder b;
    const uint32_t w = b.buffer(kBufferF64);
    b.eval(0, w, 0, 1.0);  // float64 scratch under a float32 state
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Builder b;
    const uint32_t w = b.buffer(kBufferF64);
    b.lincomb(0, {0, w}, {1.0, 1.0});  // mixed dtypes
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
    // ... which a float64 state accepts (both are float64 there)
    ProgramRunner<double> r;
    CHECK(r.prepare(b.program(), mix.model(), kRows) == ProgramStatus::kOk);
  }
  {
    Builder b;
    b.lincomb(0, {0, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1, 1});  // 9 terms
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Builder b;
    b.lincomb(0, {0}, {1.0});
    b.consts.push_back(2.0);  // one too many
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
    b.consts.clear();  // too few
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Builder b;
    b.lincomb(0, {0}, {std::numeric_limits<double>::quiet_NaN()});
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Builder b;
    b.code.insert(b.code.end(), {kOpLincomb, 0, 1, 2, 0, 0});  // noise flag 2
    b.consts.insert(b.consts.end(), {1.0, 1.0});
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  for (double s : {0.0, -1.0, 1e-200, 1e200, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN()}) {
    Builder b;
    const uint32_t D = b.buffer(kBufferState);
    b.eval(0, D, 0, s);
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Builder b;
    b.kinds[0] = kBufferF64;  // buffer 0 must be the state
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Builder b;
    b.kinds.push_back(7);  // unknown kind
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  CHECK(prepare_status(euler_like(), mix, 0) == ProgramStatus::kBadProgram);
  {
    Builder b;
    b.copy(0, 0);
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    ProgramRunner<float> r;  // rows * dim overflows
    CHECK(r.prepare(euler_like().program(), mix.model(), ~size_t(0) / 2) == ProgramStatus::kSizeOverflow);
  }
  {
    ProgramRunner<float> r;  // rows * dim fits, the buffers' bytes do not
    CHECK(r.prepare(euler_like().program(), mix.model(), size_t(1) << 61) == ProgramStatus::kSizeOverflow);
  }
}

TEST(program_rejects_bad_models) {
  const Builder b = euler_like();
  {
    Mix mix;
    mix.means[3] = std::numeric_limits<double>::quiet_NaN();
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Mix mix;
    mix.variances[1] = -1;
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Mix mix;
    for (double& lw : mix.log_weights) lw = -std::numeric_limits<double>::infinity();
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Mix mix;
    mix.log_weights[0] = std::numeric_limits<double>::infinity();
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Mix mix;
    mix.variances = {0.1, 0.2};  // neither 1, K nor K * dim
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
  {
    Mix mix;  // a huge variance puts every sigma out of range
    mix.variances = {1e301};
    CHECK(prepare_status(b, mix) == ProgramStatus::kBadProgram);
  }
}

TEST(program_cancels_between_ops) {
  const Mix mix;
  const Builder b = euler_like();
  ProgramRunner<float> r;
  CHECK(r.prepare(b.program(), mix.model(), kRows) == ProgramStatus::kOk);
  std::vector<float> x = start_state<float>();
  const std::vector<float> x0 = x;
  std::atomic<bool> cancel{true};
  ProgramReport rep;
  r.run(x.data(), &cancel, &rep);
  CHECK(rep.status == ProgramStatus::kCancelled);
  CHECK(rep.op == 0);
  CHECK(rep.nfe == 0);
  CHECK(x == x0);
  cancel.store(false);
  r.run(x.data(), &cancel, &rep);  // a runner can run again
  CHECK(rep.status == ProgramStatus::kOk);
  CHECK(rep.nfe == 5);
}

TEST(program_stops_at_a_non_finite_evaluation_input) {
  const Mix mix;
  Builder b;
  const uint32_t D = b.buffer(kBufferState);
  b.eval(0, D, 0, 10.0);
  b.step(0);
  b.lincomb(0, {0, D}, {1e300, 1e300});  // overflows to +-inf in float64 too
  b.eval(0, D, 1, 5.0);
  ProgramRunner<double> r;
  CHECK(r.prepare(b.program(), mix.model(), kRows) == ProgramStatus::kOk);
  std::vector<double> x = start_state<double>();
  ProgramReport rep;
  r.run(x.data(), nullptr, &rep);
  CHECK(rep.status == ProgramStatus::kOk);
  CHECK(rep.nfe == 2);
  b.lincomb(0, {0, D}, {1e300, 1e300});
  b.eval(0, D, 2, 1.0);
  ProgramRunner<double> r2;
  CHECK(r2.prepare(b.program(), mix.model(), kRows) == ProgramStatus::kOk);
  x = start_state<double>();
  x[2 * 7 + 1] = 1e300;  // element 15 overflows first
  r2.run(x.data(), nullptr, &rep);
  CHECK(rep.status == ProgramStatus::kNonFinite);
  CHECK(rep.nfe == 1);
  CHECK(rep.op == 3);
  CHECK(rep.step == 1);
  CHECK(rep.element == 15);
  CHECK(rep.value == std::numeric_limits<double>::infinity());
  std::vector<float> xf = start_state<float>();
  xf[9] = std::numeric_limits<float>::quiet_NaN();
  ProgramRunner<float> r3;
  CHECK(r3.prepare(b.program(), mix.model(), kRows) == ProgramStatus::kOk);
  r3.run(xf.data(), nullptr, &rep);
  CHECK(rep.status == ProgramStatus::kNonFinite);
  CHECK(rep.op == 0);
  CHECK(rep.step == 0);
  CHECK(rep.element == 9);
  CHECK(rep.nfe == 0);
}

// A lincomb without noise runs as one flat, vectorised pass: the same bits as lincomb_rows for
// every term count, with out aliasing a term or not, at lengths that are not whole blocks.
template <typename T>
void check_flat_lincomb() {
  const Mix mix;  // only for prepare(); no evaluation
  const int before = thread_count();
  for (size_t rows : {size_t(1), size_t(129), size_t(40000)}) {
    const size_t len = rows * kDim;
    for (uint32_t n = 1; n <= 8; ++n) {
      for (bool alias : {false, true}) {
        Builder b;
        std::vector<uint32_t> ids;
        for (uint32_t j = 0; j < n; ++j) ids.push_back(alias && j == n / 2 ? 0 : b.buffer(kBufferState));
        std::vector<double> coef;
        for (uint32_t j = 0; j < n; ++j) coef.push_back(0.3 * j - 0.7 + 1.0 / (j + 3));
        // fill the scratch buffers from the state first, then combine into the state
        for (uint32_t j = 0; j < n; ++j) {
          if (ids[j] != 0) b.lincomb(ids[j], {0}, {1.0 + j / 7.0});
        }
        b.lincomb(0, ids, coef);
        std::vector<T> want(len), x0(len);
        for (size_t i = 0; i < len; ++i) x0[i] = static_cast<T>(std::sin(0.37 * static_cast<double>(i)) * 3.0);
        {  // reference: the same calls to lincomb_rows, by rows of kDim
          std::vector<std::vector<T>> bufs(n, std::vector<T>(len));
          std::vector<T> x = x0;
          for (uint32_t j = 0; j < n; ++j) {
            if (ids[j] == 0) continue;
            const double c1[] = {1.0 + j / 7.0};
            const T* t1[] = {x.data()};
            lincomb_rows<T>(bufs[j].data(), rows, kDim, t1, 1, c1, false, nullptr);
          }
          const T* ts[kMaxStepTerms];
          for (uint32_t j = 0; j < n; ++j) ts[j] = ids[j] == 0 ? x.data() : bufs[j].data();
          lincomb_rows<T>(x.data(), rows, kDim, ts, static_cast<int>(n), coef.data(), false, nullptr);
          want = x;
        }
        for (int threads : {1, 3}) {
          set_thread_count(threads);
          ProgramRunner<T> r;
          CHECK(r.prepare(b.program(), mix.model(), rows) == ProgramStatus::kOk);
          std::vector<T> x = x0;
          ProgramReport rep;
          r.run(x.data(), nullptr, &rep);
          CHECK(rep.status == ProgramStatus::kOk);
          CHECK(std::memcmp(x.data(), want.data(), len * sizeof(T)) == 0);
        }
      }
    }
  }
  set_thread_count(before);
}

TEST(program_flat_lincomb_matches_lincomb_rows) {
  check_flat_lincomb<float>();
  check_flat_lincomb<double>();
}

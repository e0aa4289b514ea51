// A small process-wide thread pool. Work is split into a fixed number of contiguous parts
// chosen by the caller's data size and the configured thread count, never by which thread
// runs a part, so results cannot depend on scheduling. Safe to call from several threads at
// once (Node worker threads, async workers); the caller runs parts too, so it never deadlocks.
#pragma once
#include <cstddef>
#include <type_traits>
#include <utility>

namespace tweedie {

// A non-owning reference to a callable (no allocation, unlike std::function).
template <typename Sig>
class FunctionRef;
template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same<std::decay_t<F>, FunctionRef>::value>>
  FunctionRef(F&& f)  // NOLINT: implicit by design
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... a) -> R { return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(a)...); }) {}
  R operator()(Args... a) const { return call_(obj_, std::forward<Args>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, Args...);
};

// Number of parts big jobs are split into (default: hardware threads).
int thread_count();
// 1..256; returns false for anything else.
bool set_thread_count(int n);

// Runs fn(part) for part in [0, parts), possibly concurrently; returns when all are done.
void run_parts(int parts, FunctionRef<void(int)> fn);

// Splits [0, n) into at most thread_count() ranges of at least min_grain items (multiples of
// align except the last) and runs fn(begin, end) on each.
void parallel_for(size_t n, size_t min_grain, size_t align,
                  FunctionRef<void(size_t, size_t)> fn);

}  // namespace tweedie

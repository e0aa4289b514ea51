#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace tweedie {
namespace {

struct Job {
  const FunctionRef<void(int)>* fn;
  int remaining;  // guarded by mu; the Job lives on the caller's stack until it reaches 0
  std::mutex mu;
  std::condition_variable done;
};

struct Task {
  Job* job;
  int part;
};

class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  void ensure_workers(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    while (static_cast<int>(workers_.size()) < n) workers_.emplace_back([this] { loop(); });
  }

  void run(int parts, FunctionRef<void(int)> fn) {
    Job job;
    job.fn = &fn;
    job.remaining = parts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int p = 1; p < parts; ++p) queue_.push_back(Task{&job, p});
    }
    cv_.notify_all();
    execute(Task{&job, 0});
    // Help with queued parts (ours or others') rather than sleep while work is pending.
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(job.mu);
        if (job.remaining == 0) return;
      }
      Task t;
      if (try_pop(&t)) {
        execute(t);
      } else {
        std::unique_lock<std::mutex> lock(job.mu);
        job.done.wait(lock, [&] { return job.remaining == 0; });
        return;
      }
    }
  }

 private:
  static void execute(const Task& t) {
    (*t.job->fn)(t.part);
    std::lock_guard<std::mutex> lock(t.job->mu);
    if (--t.job->remaining == 0) t.job->done.notify_all();
  }

  bool try_pop(Task* t) {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.empty()) return false;
    *t = queue_.front();
    queue_.pop_front();
    return true;
  }

  void loop() {
    for (;;) {
      Task t;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_ && queue_.empty()) return;
        t = queue_.front();
        queue_.pop_front();
      }
      execute(t);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: workers may outlive static destruction order
  return *p;
}

int default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min(hw, 256u));
}

std::atomic<int> g_threads{0};

}  // namespace

int thread_count() {
  int n = g_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    n = default_threads();
    int expected = 0;
    if (!g_threads.compare_exchange_strong(expected, n)) n = expected;
  }
  return n;
}

bool set_thread_count(int n) {
  if (n < 1 || n > 256) return false;
  g_threads.store(n, std::memory_order_relaxed);
  return true;
}

void run_parts(int parts, FunctionRef<void(int)> fn) {
  if (parts <= 1) {
    if (parts == 1) fn(0);
    return;
  }
  pool().ensure_workers(parts - 1);
  pool().run(parts, fn);
}

void parallel_for(size_t n, size_t min_grain, size_t align,
                  FunctionRef<void(size_t, size_t)> fn) {
  if (n == 0) return;
  if (align == 0) align = 1;
  if (min_grain == 0) min_grain = 1;
  size_t parts = std::min(static_cast<size_t>(thread_count()), (n + min_grain - 1) / min_grain);
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  size_t chunk = (n + parts - 1) / parts;
  chunk = (chunk + align - 1) / align * align;
  parts = (n + chunk - 1) / chunk;
  run_parts(static_cast<int>(parts), [&](int p) {
    const size_t begin = static_cast<size_t>(p) * chunk;
    const size_t end = std::min(n, begin + chunk);
    fn(begin, end);
  });
}

}  // namespace tweedie

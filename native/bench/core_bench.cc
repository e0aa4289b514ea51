// Microbenchmark of the core kernels at every SIMD level the CPU supports, on 1 thread and on
// all threads, next to a memcpy of the same size. Prints medians (the machine may be shared and
// noisy). Not run by the tests.
//   tweedie_core_bench [elements = 16777216] [runs = 7]
// GB/s counts every byte read and written (memcpy: n read + n written). "M/cpu-s" divides by the
// process CPU time instead of the wall time. "cyc/el" is the median wall time per element in
// cycles of a clock estimated next to each measurement from a dependent chain of multiplies
// (taken as 4 cycles each): on a shared machine, and in VMs whose stolen time counts as CPU time,
// it stays comparable when the raw rates do not. For threads > 1 it is per element over all threads.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "../core/kernels.h"
#include "../core/ops.h"
#include "../core/parallel.h"

using namespace tweedie;

namespace {

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Timing {
  double wall;  // median wall seconds
  double cpu;   // median process CPU seconds
  double ghz;   // clock estimate around the runs
};

// Clock estimate: a chain of dependent multiplies (4 cycles each on current x86 and arm64
// cores), timed in wall time like the kernels so that time lost to other processes cancels.
volatile double g_one = 1.0;
double clock_ghz() {
  std::vector<double> est;
  for (int r = 0; r < 3; ++r) {
    double x = g_one;
    const double y = g_one;
    const long n = 2000000;
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) x = x * y;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    g_one = x;  // keeps the chain alive
    est.push_back(4.0 * static_cast<double>(n) / t / 1e9);
  }
  std::sort(est.begin(), est.end());
  return est[1];
}

Timing median_times(int runs, const std::function<void()>& fn) {
  fn();  // warm-up: page faults, thread start-up, caches
  std::vector<double> wall, cpu, ghz;
  for (int r = 0; r < runs; ++r) {
    ghz.push_back(clock_ghz());
    const double c0 = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    fn();
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    cpu.push_back(cpu_seconds() - c0);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  std::sort(ghz.begin(), ghz.end());
  return Timing{wall[wall.size() / 2], cpu[cpu.size() / 2], ghz[ghz.size() / 2]};
}

void row(const char* kernel, const char* dtype, const char* level, int threads, size_t n, double bytes,
         Timing t) {
  std::printf("%-13s %-4s %-7s %7d %9.2f %10.1f %8.2f %10.1f %7.2f %6.2f\n", kernel, dtype, level, threads,
              t.wall * 1e3, static_cast<double>(n) / t.wall / 1e6, bytes / t.wall / 1e9,
              static_cast<double>(n) / t.cpu / 1e6, t.wall * t.ghz * 1e9 / static_cast<double>(n), t.ghz);
}

// memcpy of n elements, split over the configured threads like the kernels
template <typename T>
void parallel_copy(T* dst, const T* src, size_t n) {
  parallel_for(n, 1 << 15, 8, [&](size_t b, size_t e) { std::memcpy(dst + b, src + b, (e - b) * sizeof(T)); });
}

template <typename T>
void bench_dtype(const char* dtype, size_t n, int runs, const std::vector<SimdLevel>& levels,
                 const std::vector<int>& thread_counts) {
  std::vector<T> x(n), y(n), out(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = static_cast<T>((i % 1000) * 0.001);
    y[i] = static_cast<T>((i % 777) * 0.002);
  }
  const size_t dim = 4096, rows = n / dim;  // rows x dim views of the same buffers
  const double a = 0.8, c = 0.6;
  const RowCoefficients k{&a, 0, &c, 0};
  const double sz = static_cast<double>(sizeof(T));
  for (int threads : thread_counts) {
    set_thread_count(threads);
    const Timing t = median_times(runs, [&] { parallel_copy(out.data(), x.data(), n); });
    row("memcpy", dtype, "-", threads, n, 2 * sz * n, t);
  }
  for (SimdLevel level : levels) {
    set_simd_level(level);
    const char* name = simd_level_name(level);
    for (int threads : thread_counts) {
      set_thread_count(threads);
      Timing t = median_times(runs, [&] { normal_fill(out.data(), n, 42, 7, 0); });
      row("normal_fill", dtype, name, threads, n, sz * n, t);
      t = median_times(runs, [&] { add_noise_rows(out.data(), static_cast<T*>(nullptr), x.data(), rows, dim, k, 42, nullptr); });
      row("noise_inline", dtype, name, threads, rows * dim, 2 * sz * rows * dim, t);
      t = median_times(runs, [&] { combine2_rows(out.data(), x.data(), y.data(), rows, dim, k); });
      row("combine2", dtype, name, threads, rows * dim, 3 * sz * rows * dim, t);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : (size_t{1} << 24);
  const int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  if (n < 4096 || runs < 1) {
    std::fprintf(stderr, "usage: tweedie_core_bench [elements >= 4096] [runs >= 1]\n");
    return 2;
  }
  std::vector<SimdLevel> levels;
  for (int l = 0; l <= kLastSimdLevel; ++l) {
    if (simd_level_supported(static_cast<SimdLevel>(l))) levels.push_back(static_cast<SimdLevel>(l));
  }
  const int all = thread_count();
  std::vector<int> thread_counts{1};
  if (all > 1) thread_counts.push_back(all);
  std::printf("tweedie core bench: %zu elements, median of %d runs, best level %s, %d threads\n", n, runs,
              simd_level_name(best_simd_level()), all);
  std::printf("%-13s %-4s %-7s %7s %9s %10s %8s %10s %7s %6s\n", "kernel", "type", "level", "threads", "ms",
              "M elem/s", "GB/s", "M/cpu-s", "cyc/el", "GHz~");
  bench_dtype<float>("f32", n, runs, levels, thread_counts);
  bench_dtype<double>("f64", n, runs, levels, thread_counts);
  return 0;
}

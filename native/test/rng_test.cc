#include <cstring>
#include <vector>

#include "../core/kernels.h"
#include "../core/ops.h"
#include "../core/parallel.h"
#include "../core/philox.h"
#include "check.h"

using namespace tweedie;

TEST(philox_random123_known_answers) {
  const PhiloxBlock a = philox4x32(0, 0, 0, 0, 0, 0);
  CHECK(a.w[0] == 0x6627e8d5u && a.w[1] == 0xe169c58du && a.w[2] == 0xbc57ac4cu && a.w[3] == 0x9b00dbd8u);
  const PhiloxBlock b = philox4x32(~0u, ~0u, ~0u, ~0u, ~0u, ~0u);
  CHECK(b.w[0] == 0x408f276du && b.w[1] == 0x41c83b0eu && b.w[2] == 0xa20bc7c6u && b.w[3] == 0x6d5451fdu);
  const PhiloxBlock c = philox4x32(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u);
  CHECK(c.w[0] == 0xd16cfe09u && c.w[1] == 0x94fdccebu && c.w[2] == 0x5001e420u && c.w[3] == 0x24126ea1u);
}

TEST(normals_reference_first_values) {
  float z[4];
  scalar_kernels().f32.normal_fill(z, 4, 0x9abcdef012345678ull, 0, 0);
  uint32_t bits[4];
  std::memcpy(bits, z, sizeof bits);
  CHECK(bits[0] == 0x402d7ebdu && bits[1] == 0xbfb1c487u && bits[2] == 0xbd644915u && bits[3] == 0x3eeae646u);
}

TEST(normals_same_for_any_thread_count_and_split) {
  const size_t n = 200003;
  std::vector<double> ref(n), got(n);
  set_thread_count(1);
  normal_fill(ref.data(), n, 42, 7, 5);
  for (int t : {2, 3, 5}) {
    set_thread_count(t);
    normal_fill(got.data(), n, 42, 7, 5);
    CHECK(std::memcmp(ref.data(), got.data(), n * sizeof(double)) == 0);
  }
  // [0, n) equals [0, m) then [m, n) with offset m, for an m that is not a multiple of 4
  const size_t m = 1001;
  normal_fill(got.data(), m, 42, 7, 5);
  normal_fill(got.data() + m, n - m, 42, 7, 5 + m);
  CHECK(std::memcmp(ref.data(), got.data(), n * sizeof(double)) == 0);
  set_thread_count(2);
}

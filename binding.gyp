{
  # IEEE semantics everywhere: no FMA contraction, no fast-math, no -march. Vector code is
  # compiled per level in its own static library (native/core/simd/, the only code built with
  # -mavx2 -mfma or -mavx512*) and chosen at run time from the CPU's features (native/core/dispatch.cc).
  "variables": {
    "tweedie_cflags": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-math-errno", "-fvisibility=hidden"],
    # vector kernels only, GCC (Linux): the pre-allocation scheduler interleaves the independent
    # PBM chains further (measured 7-14% faster); it only reorders instructions
    "tweedie_simd_cflags": ["-fschedule-insns", "-fsched-pressure"]
  },
  "target_defaults": {
    # Other optimisation levels are dropped so that -O3 (tweedie_cflags, which come last) decides.
    # -O3 itself must not be in these lists: an exclusion also removes it from tweedie_cflags
    # (that is how an earlier version of this file built the addon without any optimisation,
    # at about a fifth of the speed).
    "cflags!": ["-O2", "-Os"],
    "cflags_cc!": ["-O2", "-Os", "-std=gnu++17", "-std=gnu++20", "-std=c++20"],
    "cflags_cc": ["<@(tweedie_cflags)"],
    "xcode_settings": {
      "OTHER_CPLUSPLUSFLAGS": ["<@(tweedie_cflags)"],
      "MACOSX_DEPLOYMENT_TARGET": "11.0"
    },
    "msvs_settings": {
      "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17", "/fp:precise"] }
    }
  },
  "targets": [
    {
      "target_name": "tweedie",
      # Every .cc of native/addon and native/core (vector code lives in native/core/simd/,
      # built by the targets below with per-target flags).
      "sources": [
        "<!@(node -p \"['addon', 'core'].flatMap((d) => require('fs').readdirSync('native/' + d).filter((f) => f.endsWith('.cc')).sort().map((f) => 'native/' + d + '/' + f)).join(' ')\")"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=9",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "ldflags": ["-pthread"],
      "conditions": [
        # GCC or Clang only (dispatch.cc uses __builtin_cpu_supports on x86-64): Windows builds
        # stay scalar for now
        ['target_arch=="x64" and OS!="win"', {
          "defines": ["TWEEDIE_X86_SIMD", "TWEEDIE_X86_AVX512"],
          "dependencies": ["tweedie_sse2", "tweedie_avx2", "tweedie_avx512"]
        }],
        ['target_arch=="arm64" and OS!="win"', {
          "defines": ["TWEEDIE_ARM_NEON"],
          "dependencies": ["tweedie_neon"]
        }]
      ]
    }
  ],
  "conditions": [
    ['target_arch=="x64" and OS!="win"', {
      "targets": [
        {
          # the x86-64 baseline: common flags only
          "target_name": "tweedie_sse2",
          "type": "static_library",
          "sources": ["native/core/simd/sse2.cc", "native/core/simd/mixture_sse2.cc"],
          "cflags_cc": ["<@(tweedie_simd_cflags)"]
        },
        {
          "target_name": "tweedie_avx2",
          "type": "static_library",
          "sources": ["native/core/simd/avx2.cc", "native/core/simd/mixture_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma", "<@(tweedie_simd_cflags)"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"] }
        },
        {
          # AVX-512 F, DQ and VL (dispatch.cc checks exactly these, and the OS's ZMM state). Only
          # flags are added here: no "cflags!" (see target_defaults: that is how -O3 was lost).
          "target_name": "tweedie_avx512",
          "type": "static_library",
          "sources": ["native/core/simd/avx512.cc", "native/core/simd/mixture_avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512dq", "-mavx512vl", "<@(tweedie_simd_cflags)"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512dq", "-mavx512vl"] }
        }
      ]
    }],
    ['target_arch=="arm64" and OS!="win"', {
      "targets": [
        {
          # NEON is part of the arm64 baseline: common flags only
          "target_name": "tweedie_neon",
          "type": "static_library",
          "sources": ["native/core/simd/neon.cc", "native/core/simd/mixture_neon.cc"],
          "cflags_cc": ["<@(tweedie_simd_cflags)"]
        }
      ]
    }]
  ]
}

{
  # IEEE semantics everywhere: no FMA contraction, no fast-math, no -march. Vector code is
  # compiled per named target in its own library and chosen at run time (native/core/dispatch.cc).
  "variables": {
    "tweedie_cflags": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-math-errno", "-fvisibility=hidden"]
  },
  "targets": [
    {
      "target_name": "tweedie",
      # Every .cc of native/addon and native/core (vector code lives in native/core/simd/,
      # built by its own targets with per-target flags).
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
      "cflags!": ["-O2", "-O3", "-Os"],
      "cflags_cc!": ["-O2", "-O3", "-Os", "-std=gnu++17", "-std=gnu++20", "-std=c++20"],
      "cflags_cc": ["<@(tweedie_cflags)"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["<@(tweedie_cflags)"],
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17", "/fp:precise"] }
      }
    }
  ]
}

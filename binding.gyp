{
  "targets": [
    {
      "target_name": "config_reloader_native",
      "sources": [
        "native/addon.cc",
        "native/arguments.cc",
        "native/errno_error.cc",
        "native/inotify_events.cc",
        "native/inotify_handle.cc",
        "native/signals.cc",
        "native/utf8.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=gnu++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS!='linux'", {
          "sources!": [
            "native/addon.cc",
            "native/arguments.cc",
                "native/errno_error.cc",
            "native/inotify_events.cc",
            "native/inotify_handle.cc",
                "native/signals.cc",
            "native/utf8.cc"
          ]
        }]
      ]
    }
  ]
}

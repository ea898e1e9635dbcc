// Node-style errors for failed system calls: the same shape `fs` produces
// (code, errno, syscall, path), so callers can switch on `err.code`.
#pragma once

#include <napi.h>

#include <string>

namespace config_reloader {

// `err` is the positive errno value of the failed call.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall,
                       const std::string& path);

}  // namespace config_reloader

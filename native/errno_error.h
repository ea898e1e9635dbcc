// Node-style errors for failed system calls: the same shape `fs` produces
// (message "CODE: text, syscall 'path'", code, errno, syscall, path), so
// callers can switch on `err.code`.
#pragma once

#include <napi.h>

#include <string>

namespace config_reloader {

// `err` is the positive errno value of the failed call.
//
// For synchronous methods called from JavaScript; throws a C++ Napi::Error if
// the error object itself cannot be built.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall,
                       const std::string& path);

// The same error through the C API, for libuv callbacks: there a C++
// exception must not escape, and while a Worker is being terminated every
// call into JavaScript fails. Returns the failing status instead of throwing;
// `path` may be null.
napi_status ErrnoErrorValue(napi_env env, int err, const char* syscall,
                            const std::string* path, napi_value* result);

}  // namespace config_reloader

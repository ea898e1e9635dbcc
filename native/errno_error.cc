#include "errno_error.h"

#include <string.h>
#include <uv.h>

namespace config_reloader {
namespace {

Napi::Error Build(Napi::Env env, int err, const char* syscall,
                  const std::string* path) {
  char code[64];
  // libuv's codes are negated errno values on Unix; the _r variant never
  // allocates, even for an errno libuv has no name for.
  uv_err_name_r(-err, code, sizeof code);
  char reason[256];
  const char* text = strerror_r(err, reason, sizeof reason);

  std::string message = std::string(code) + ": " + text + ", " + syscall;
  if (path != nullptr) message += " '" + *path + "'";

  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("code", Napi::String::New(env, code));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (path != nullptr) error.Set("path", Napi::String::New(env, *path));
  return error;
}

}  // namespace

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  return Build(env, err, syscall, nullptr);
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall,
                       const std::string& path) {
  return Build(env, err, syscall, &path);
}

}  // namespace config_reloader

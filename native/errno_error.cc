#include "errno_error.h"

#include <string.h>
#include <uv.h>

namespace config_reloader {
namespace {

napi_status SetString(napi_env env, napi_value object, const char* key,
                      const std::string& value) {
  napi_value js;
  napi_status status = napi_create_string_utf8(env, value.data(), value.size(), &js);
  if (status != napi_ok) return status;
  return napi_set_named_property(env, object, key, js);
}

Napi::Error Throwable(Napi::Env env, napi_status status, napi_value value) {
  if (status != napi_ok) throw Napi::Error::New(env);
  return Napi::Error(env, value);
}

}  // namespace

napi_status ErrnoErrorValue(napi_env env, int err, const char* syscall,
                            const std::string* path, napi_value* result) {
  char code[64];
  // libuv's codes are negated errno values on Unix; the _r variant never
  // allocates, even for an errno libuv has no name for.
  uv_err_name_r(-err, code, sizeof code);
  char reason[256];
  // The GNU strerror_r: returns the text, which may not be `reason`.
  const char* text = strerror_r(err, reason, sizeof reason);

  std::string message = std::string(code) + ": " + text + ", " + syscall;
  if (path != nullptr) message += " '" + *path + "'";

  napi_value js_message;
  napi_value error;
  napi_value js_errno;
  napi_status status;
  if ((status = napi_create_string_utf8(env, message.data(), message.size(), &js_message)) != napi_ok ||
      (status = napi_create_error(env, nullptr, js_message, &error)) != napi_ok ||
      (status = napi_create_int32(env, -err, &js_errno)) != napi_ok ||
      (status = napi_set_named_property(env, error, "errno", js_errno)) != napi_ok ||
      (status = SetString(env, error, "code", code)) != napi_ok ||
      (status = SetString(env, error, "syscall", syscall)) != napi_ok ||
      (path != nullptr && (status = SetString(env, error, "path", *path)) != napi_ok)) {
    return status;
  }
  *result = error;
  return napi_ok;
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  napi_value value = nullptr;
  napi_status status = ErrnoErrorValue(env, err, syscall, nullptr, &value);
  return Throwable(env, status, value);
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall,
                       const std::string& path) {
  napi_value value = nullptr;
  napi_status status = ErrnoErrorValue(env, err, syscall, &path, &value);
  return Throwable(env, status, value);
}

}  // namespace config_reloader

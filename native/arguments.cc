#include "arguments.h"

#include <string>

namespace config_reloader {
namespace {

bool IsIntegerIn(const Napi::Value& value, int64_t min, int64_t max) {
  if (!value.IsNumber()) return false;
  double number = value.As<Napi::Number>().DoubleValue();
  return number >= static_cast<double>(min) && number <= static_cast<double>(max) &&
         number == static_cast<double>(static_cast<int64_t>(number));
}

Napi::Error OutOfRange(Napi::Env env, const std::string& what, int64_t min, int64_t max) {
  Napi::Error error = Napi::RangeError::New(
      env, "The value of \"" + what + "\" must be an integer from " + std::to_string(min) +
               " to " + std::to_string(max));
  // Node's own code for this mistake, so callers can tell it from a failed syscall.
  error.Set("code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
  return error;
}

}  // namespace

int32_t IntArgument(const Napi::CallbackInfo& info, size_t index,
                    const char* what, int64_t min, int64_t max) {
  if (info.Length() > index && IsIntegerIn(info[index], min, max)) {
    return static_cast<int32_t>(info[index].As<Napi::Number>().DoubleValue());
  }
  throw OutOfRange(info.Env(), what, min, max);
}

int64_t IntProperty(const Napi::Object& object, const char* name,
                    int64_t min, int64_t max, const char* owner) {
  Napi::Value value = object.Get(name);
  if (IsIntegerIn(value, min, max)) {
    return static_cast<int64_t>(value.As<Napi::Number>().DoubleValue());
  }
  throw OutOfRange(object.Env(), std::string(owner) + "." + name, min, max);
}

}  // namespace config_reloader

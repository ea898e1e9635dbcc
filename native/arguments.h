// Integer arguments, checked the same way by every binding.
#pragma once

#include <napi.h>

#include <cstdint>

namespace config_reloader {

// An integer in [min, max]; anything else (NaN, 1.5, a string) is a
// RangeError with Node's ERR_OUT_OF_RANGE code rather than a truncated value,
// because a truncated pid can be 0.
int32_t IntArgument(const Napi::CallbackInfo& info, size_t index,
                    const char* what, int64_t min, int64_t max);

// The same check for a property of an object argument, named in the error
// as "<owner>.<name>"; max may exceed the int32 range (nanosecond durations).
int64_t IntProperty(const Napi::Object& object, const char* name,
                    int64_t min, int64_t max, const char* owner = "attr");

}  // namespace config_reloader

#include "scheduling.h"

#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arguments.h"
#include "errno_error.h"

namespace config_reloader {
namespace {

// The first version of the kernel's struct sched_attr (SCHED_ATTR_SIZE_VER0),
// declared here because glibc has no wrappers and its headers, like the
// kernel's, may or may not define the struct. Passing this size leaves the
// utilization clamps of later versions untouched.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48, "struct sched_attr, SCHED_ATTR_SIZE_VER0");

// Nanoseconds: the largest whole number a JavaScript number holds exactly.
constexpr int64_t kMaxNanoseconds = (int64_t{1} << 53) - 1;

pid_t TidArgument(const Napi::CallbackInfo& info) {
  return IntArgument(info, 0, "tid", 0, INT32_MAX);
}

}  // namespace

Napi::Value SchedGetattr(const Napi::CallbackInfo& info) {
  pid_t tid = TidArgument(info);
  SchedAttr attr = {};
  if (syscall(SYS_sched_getattr, tid, &attr, sizeof attr, 0) < 0) {
    throw ErrnoError(info.Env(), errno, "sched_getattr");
  }
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("policy", Napi::Number::New(env, attr.sched_policy));
  result.Set("flags", Napi::Number::New(env, static_cast<double>(attr.sched_flags)));
  result.Set("nice", Napi::Number::New(env, attr.sched_nice));
  result.Set("priority", Napi::Number::New(env, attr.sched_priority));
  result.Set("runtime", Napi::Number::New(env, static_cast<double>(attr.sched_runtime)));
  result.Set("deadline", Napi::Number::New(env, static_cast<double>(attr.sched_deadline)));
  result.Set("period", Napi::Number::New(env, static_cast<double>(attr.sched_period)));
  return result;
}

Napi::Value SchedSetattr(const Napi::CallbackInfo& info) {
  pid_t tid = TidArgument(info);
  if (info.Length() < 2 || !info[1].IsObject()) {
    throw Napi::TypeError::New(info.Env(), "attr must be an object");
  }
  Napi::Object object = info[1].As<Napi::Object>();
  SchedAttr attr = {};
  attr.size = sizeof attr;
  attr.sched_policy = static_cast<uint32_t>(IntProperty(object, "policy", 0, INT32_MAX));
  attr.sched_flags = static_cast<uint64_t>(IntProperty(object, "flags", 0, kMaxNanoseconds));
  attr.sched_nice = static_cast<int32_t>(IntProperty(object, "nice", -20, 19));
  attr.sched_priority = static_cast<uint32_t>(IntProperty(object, "priority", 0, 99));
  attr.sched_runtime = static_cast<uint64_t>(IntProperty(object, "runtime", 0, kMaxNanoseconds));
  attr.sched_deadline = static_cast<uint64_t>(IntProperty(object, "deadline", 0, kMaxNanoseconds));
  attr.sched_period = static_cast<uint64_t>(IntProperty(object, "period", 0, kMaxNanoseconds));
  if (syscall(SYS_sched_setattr, tid, &attr, 0) < 0) {
    throw ErrnoError(info.Env(), errno, "sched_setattr");
  }
  return info.Env().Undefined();
}

}  // namespace config_reloader

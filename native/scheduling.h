// sched_getattr(2) and sched_setattr(2) for one thread. What to ask the
// kernel for, and when, is decided in lib/time-slice.ts.
#pragma once

#include <napi.h>

namespace config_reloader {

// (tid) -> { policy, flags, nice, priority, runtime, deadline, period }; tid 0 is the calling thread.
Napi::Value SchedGetattr(const Napi::CallbackInfo& info);
// (tid, { policy, flags, nice, priority, runtime, deadline, period })
Napi::Value SchedSetattr(const Napi::CallbackInfo& info);

}  // namespace config_reloader

// Signal delivery: kill(2) and the pidfd pair. Which process to signal, and
// the start-time check that makes it race-free, are decided in lib/.
#pragma once

#include <napi.h>

namespace config_reloader {

Napi::Value Kill(const Napi::CallbackInfo& info);             // (pid, signal)
Napi::Value PidfdOpen(const Napi::CallbackInfo& info);        // (pid) -> fd
Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info);  // (fd, signal)
Napi::Value CloseFd(const Napi::CallbackInfo& info);          // (fd)

}  // namespace config_reloader

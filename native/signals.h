// Signal delivery: kill(2) and the pidfd pair. Which process to signal, and
// the start-time check that makes it race-free, are decided in lib/.
#pragma once

#include <napi.h>

namespace config_reloader {

Napi::Value Kill(const Napi::CallbackInfo& info);             // (pid, signal)
Napi::Value PidfdOpen(const Napi::CallbackInfo& info);        // (pid) -> fd
Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info);  // (fd, signal)
Napi::Value CloseFd(const Napi::CallbackInfo& info);          // (fd)

// pidfd_send_signal(2) for callers outside JavaScript (the commit signal
// thread): 0 when sent, else the errno.
int SendThroughPidfd(int pidfd, int sig);

}  // namespace config_reloader

#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arguments.h"
#include "errno_error.h"

// glibc before 2.36 has no wrappers and older headers lack the numbers. Both
// syscalls were added after the numbering was unified across architectures,
// so these values hold on every Linux port but alpha.
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace config_reloader {
namespace {

// kill(0, sig) signals our own process group and kill(-1, sig) every process
// we may signal: never what a caller computing a pid meant, so only a
// positive pid is accepted.
pid_t PidArgument(const Napi::CallbackInfo& info, size_t index) {
  return IntArgument(info, index, "pid", 1, INT32_MAX);
}

// 0 probes for existence and permission without sending anything.
int SignalArgument(const Napi::CallbackInfo& info, size_t index) {
  return IntArgument(info, index, "signal", 0, SIGRTMAX);
}

}  // namespace

Napi::Value Kill(const Napi::CallbackInfo& info) {
  pid_t pid = PidArgument(info, 0);
  int sig = SignalArgument(info, 1);
  if (kill(pid, sig) < 0) throw ErrnoError(info.Env(), errno, "kill");
  return info.Env().Undefined();
}

Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  pid_t pid = PidArgument(info, 0);
  // No PIDFD_NONBLOCK: the descriptor is only used to address the process.
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) throw ErrnoError(info.Env(), errno, "pidfd_open");
  // pidfd_open sets O_CLOEXEC itself, so a spawned child never inherits it.
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  int fd = IntArgument(info, 0, "pidfd", 0, INT32_MAX);
  int sig = SignalArgument(info, 1);
  if (syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) < 0) {
    throw ErrnoError(info.Env(), errno, "pidfd_send_signal");
  }
  return info.Env().Undefined();
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = IntArgument(info, 0, "fd", 0, INT32_MAX);
  if (close(fd) < 0) throw ErrnoError(info.Env(), errno, "close");
  return info.Env().Undefined();
}

}  // namespace config_reloader

// One inotify instance bound to the event loop of the environment (main
// thread or Worker) that created it. Policy lives in lib/inotify.ts; this
// class only moves bytes between the kernel and JavaScript.
#pragma once

#include <napi.h>
#include <sys/inotify.h>
#include <uv.h>

namespace config_reloader {

class InotifyHandle;

// The parts that must outlive the JavaScript wrapper: libuv owns the poll
// handle until its close callback runs, so it cannot be a member of an
// object the garbage collector may free first.
struct InotifyPoller {
  // A read returns whole events only, and an event carries at most
  // NAME_MAX + 1 name bytes; 64 KiB holds thousands of events per syscall.
  static constexpr size_t kBufferSize = 64 * 1024;

  uv_poll_t poll;
  int fd = -1;
  bool closing = false;
  InotifyHandle* owner = nullptr;
  napi_async_cleanup_hook_handle cleanup_hook = nullptr;
  alignas(struct inotify_event) char buffer[kBufferSize];
};

class InotifyHandle : public Napi::ObjectWrap<InotifyHandle> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new InotifyHandle(onBatch: (error, events) => void)
  explicit InotifyHandle(const Napi::CallbackInfo& info);
  ~InotifyHandle() override;

  // Called from the poll callback when the descriptor is readable.
  void Drain(int status);
  // Called when the poller is going away underneath us (environment teardown).
  void Detach();

 private:
  Napi::Value AddWatch(const Napi::CallbackInfo& info);
  Napi::Value RemoveWatch(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);

  InotifyPoller* RequireOpen(Napi::Env env, const char* syscall);
  void Deliver(Napi::Value error, Napi::Value events);

  InotifyPoller* poller_ = nullptr;
  Napi::FunctionReference on_batch_;
  Napi::AsyncContext async_context_;
};

}  // namespace config_reloader

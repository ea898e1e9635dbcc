// One inotify instance bound to the event loop of the environment (main
// thread or Worker) that created it. Policy lives in lib/inotify.ts; this
// class only moves bytes between the kernel and JavaScript.
//
// Lifetime, because three parties can end it:
// - JavaScript calls close(): the poll handle stops and closes, and the
//   descriptor is closed in libuv's close callback, never earlier (libuv may
//   still reference it, and a reused number would alias a live handle).
// - The environment is torn down with the instance open (a Worker exits or is
//   terminated, or the main thread finishes with an unref'd instance): an
//   async cleanup hook does the same close and tells Node when it is done, so
//   the loop is not destroyed under a live handle.
// - The garbage collector: an open instance holds a strong reference to its
//   wrapper, so only a closed (or torn-down) instance can be collected.
#pragma once

#include <napi.h>
#include <sys/inotify.h>
#include <uv.h>

#include "inotify_events.h"

namespace config_reloader {

class InotifyHandle;

// The parts that must outlive the JavaScript wrapper: libuv owns the poll
// handle until its close callback runs, so it cannot be a member of an
// object the garbage collector may free first.
struct InotifyPoller {
  // read(2) returns whole events only, and fails with EINVAL when the buffer
  // cannot hold the next one, which needs sizeof(struct inotify_event) +
  // NAME_MAX + 1 bytes. 64 KiB holds hundreds to thousands of events per call.
  static constexpr size_t kBufferSize = 64 * 1024;

  uv_poll_t poll;
  int fd = -1;
  bool closing = false;
  InotifyHandle* owner = nullptr;
  napi_async_cleanup_hook_handle cleanup_hook = nullptr;
  // The records are cast in place, so the buffer must be aligned for them.
  alignas(struct inotify_event) char buffer[kBufferSize];
};

class InotifyHandle : public Napi::ObjectWrap<InotifyHandle> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new InotifyHandle(onEvents: (count, records, names, raws) => void,
  //                   onError: (error) => void); inotify_events.h describes
  // the arguments of onEvents.
  explicit InotifyHandle(const Napi::CallbackInfo& info);
  ~InotifyHandle() override;

  // Called from the poll callback when the descriptor is readable. Never
  // throws: it runs inside libuv.
  void Drain(int status);
  // Called when the poller is going away underneath us (close or teardown).
  void Detach();

 private:
  Napi::Value AddWatch(const Napi::CallbackInfo& info);
  Napi::Value RemoveWatch(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value RefLoop(const Napi::CallbackInfo& info);
  Napi::Value UnrefLoop(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);

  InotifyPoller* RequireOpen(Napi::Env env, const char* syscall);
  // Calls `callback` with `argv`. False when JavaScript can no longer run.
  bool Deliver(napi_env env, napi_ref callback, size_t argc, const napi_value* argv);
  // Hands the parsed batch to onEvents. False when JavaScript can no longer run.
  bool DeliverBatch(napi_env env);
  // Calls onError with a system error for `errnum`.
  bool DeliverError(napi_env env, int errnum, const char* syscall);
  // After a failed N-API call in Drain: a pending JavaScript exception (the
  // consumer threw) becomes an uncaught exception, as one thrown from an
  // fs.watch listener does. False when there is none, which means the
  // environment is shutting down and JavaScript can no longer run.
  bool SurfaceFailure(napi_env env);
  // Stops reading for good: nothing is left to receive events.
  void Quiesce();

  InotifyPoller* poller_ = nullptr;
  Napi::FunctionReference on_events_;
  Napi::FunctionReference on_error_;
  // The Uint32Array most batches' records are copied into (see
  // EventBatchBuilder::Records): one allocation per instance, not per wakeup.
  Napi::Reference<Napi::Uint32Array> records_;
  // Kept between wakeups so that its buffers are too.
  EventBatchBuilder batch_;
  Napi::AsyncContext async_context_;
};

}  // namespace config_reloader

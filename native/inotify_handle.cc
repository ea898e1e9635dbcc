#include "inotify_handle.h"

#include <errno.h>
#include <unistd.h>

#include <string>

#include "errno_error.h"

namespace config_reloader {
namespace {

// Bounds the work done per wakeup so a flood of events cannot starve the
// rest of the event loop; the poll is level-triggered and fires again while
// unread events remain.
constexpr int kMaxReadsPerWakeup = 16;

void OnPollClosed(uv_handle_t* handle) {
  auto* poller = static_cast<InotifyPoller*>(handle->data);
  // Closing the descriptor drops every watch of the instance; events still
  // queued in the kernel are discarded with it. Not retried on EINTR: on
  // Linux the descriptor is released even then, and a retry could close a
  // number another thread has just been given.
  close(poller->fd);
  // Tells Node that teardown may continue, when it was waiting for us.
  if (poller->cleanup_hook != nullptr) {
    napi_remove_async_cleanup_hook(poller->cleanup_hook);
  }
  delete poller;
}

void BeginClose(InotifyPoller* poller) {
  if (poller->closing) return;
  poller->closing = true;
  if (poller->owner != nullptr) {
    poller->owner->Detach();
    poller->owner = nullptr;
  }
  uv_poll_stop(&poller->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&poller->poll), OnPollClosed);
}

// Runs when the environment (a Worker, or the main thread at exit) is torn
// down with the instance still open. Asynchronous so that uv_close can finish
// on the environment's own loop before that loop is closed. If close() had
// already begun, the pending close callback completes the hook.
void OnEnvironmentCleanup(napi_async_cleanup_hook_handle hook, void* data) {
  BeginClose(static_cast<InotifyPoller*>(data));
}

void OnPollEvent(uv_poll_t* poll, int status, int events) {
  auto* poller = static_cast<InotifyPoller*>(poll->data);
  if (poller->owner != nullptr) poller->owner->Drain(status);
}

std::string PathArgument(const Napi::Value& value) {
  if (value.IsBuffer()) {
    auto buffer = value.As<Napi::Buffer<char>>();
    return std::string(buffer.Data(), buffer.Length());
  }
  if (value.IsString()) return value.As<Napi::String>().Utf8Value();
  throw Napi::TypeError::New(value.Env(), "path must be a string or a Buffer");
}

}  // namespace

Napi::Function InotifyHandle::Define(Napi::Env env) {
  return DefineClass(
      env, "InotifyHandle",
      {
          InstanceMethod<&InotifyHandle::AddWatch>("addWatch"),
          InstanceMethod<&InotifyHandle::RemoveWatch>("removeWatch"),
          InstanceMethod<&InotifyHandle::Close>("close"),
          InstanceMethod<&InotifyHandle::RefLoop>("ref"),
          InstanceMethod<&InotifyHandle::UnrefLoop>("unref"),
          InstanceAccessor<&InotifyHandle::GetFd>("fd"),
          InstanceAccessor<&InotifyHandle::GetClosed>("closed"),
      });
}

InotifyHandle::InotifyHandle(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<InotifyHandle>(info),
      async_context_(info.Env(), "InotifyHandle") {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "InotifyHandle needs an events callback and an error callback");
  }
  on_events_ = Napi::Persistent(info[0].As<Napi::Function>());
  on_error_ = Napi::Persistent(info[1].As<Napi::Function>());
  records_ = Napi::Persistent(
      Napi::Uint32Array::New(env, EventBatchBuilder::kReusedRecordsEvents * 3));

  // Non-blocking: the loop must never block in read(). Close-on-exec: a
  // spawned child must not inherit (and keep alive) our watches.
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) throw ErrnoError(env, errno, "inotify_init1");

  // The loop of this environment, never uv_default_loop(): in a Worker that
  // is another thread's loop.
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    close(fd);
    throw Napi::Error::New(env, "no event loop for this environment");
  }

  auto* poller = new InotifyPoller();
  poller->fd = fd;
  poller->poll.data = poller;
  int rc = uv_poll_init(loop, &poller->poll, fd);
  if (rc != 0) {
    // uv_poll_init fails before registering the handle: nothing to uv_close.
    close(fd);
    delete poller;
    throw ErrnoError(env, -rc, "uv_poll_init");
  }
  rc = uv_poll_start(&poller->poll, UV_READABLE, OnPollEvent);
  if (rc == 0 &&
      napi_add_async_cleanup_hook(env, OnEnvironmentCleanup, poller, &poller->cleanup_hook) != napi_ok) {
    poller->cleanup_hook = nullptr;
    rc = UV_ENOMEM;
  }
  if (rc != 0) {
    BeginClose(poller);  // owner is not set yet: only the handle goes
    throw ErrnoError(env, -rc, rc == UV_ENOMEM ? "napi_add_async_cleanup_hook" : "uv_poll_start");
  }
  poller->owner = this;
  poller_ = poller;
  // An open instance keeps its wrapper alive, as an open fs.watch does: the
  // events must have somewhere to go.
  Napi::ObjectWrap<InotifyHandle>::Ref();
}

InotifyHandle::~InotifyHandle() {
  // Reached with the poller still attached only when the environment
  // finalizes a wrapper that was never closed.
  if (poller_ != nullptr) {
    InotifyPoller* poller = poller_;
    poller_ = nullptr;
    poller->owner = nullptr;
    BeginClose(poller);
  }
}

void InotifyHandle::Detach() { poller_ = nullptr; }

InotifyPoller* InotifyHandle::RequireOpen(Napi::Env env, const char* syscall) {
  if (poller_ == nullptr) throw ErrnoError(env, EBADF, syscall);
  return poller_;
}

Napi::Value InotifyHandle::AddWatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "addWatch(path, mask): mask must be a number");
  }
  std::string path = PathArgument(info[0]);
  if (path.find('\0') != std::string::npos) {
    throw Napi::TypeError::New(env, "path must not contain NUL bytes");
  }
  uint32_t mask = info[1].As<Napi::Number>().Uint32Value();
  InotifyPoller* poller = RequireOpen(env, "inotify_add_watch");
  int wd = inotify_add_watch(poller->fd, path.c_str(), mask);
  if (wd < 0) throw ErrnoError(env, errno, "inotify_add_watch", path);
  return Napi::Number::New(env, wd);
}

Napi::Value InotifyHandle::RemoveWatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(env, "removeWatch(wd): wd must be a number");
  }
  int wd = info[0].As<Napi::Number>().Int32Value();
  InotifyPoller* poller = RequireOpen(env, "inotify_rm_watch");
  if (inotify_rm_watch(poller->fd, wd) < 0) {
    throw ErrnoError(env, errno, "inotify_rm_watch");
  }
  return env.Undefined();
}

Napi::Value InotifyHandle::Close(const Napi::CallbackInfo& info) {
  if (poller_ != nullptr) {
    BeginClose(poller_);  // detaches, so poller_ is null from here on
    // The callbacks are strong roots that (through the consumer's closures)
    // reach this wrapper: kept, they would keep every closed instance alive.
    on_events_.Reset();
    on_error_.Reset();
    records_.Reset();
    Napi::ObjectWrap<InotifyHandle>::Unref();
  }
  return info.Env().Undefined();
}

Napi::Value InotifyHandle::RefLoop(const Napi::CallbackInfo& info) {
  if (poller_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&poller_->poll));
  return info.This();
}

Napi::Value InotifyHandle::UnrefLoop(const Napi::CallbackInfo& info) {
  if (poller_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&poller_->poll));
  return info.This();
}

Napi::Value InotifyHandle::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), poller_ != nullptr ? poller_->fd : -1);
}

Napi::Value InotifyHandle::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), poller_ == nullptr);
}

// Everything below runs inside libuv and uses the C API with every status
// checked. node-addon-api's C++ wrappers are not safe here: when a Worker is
// being terminated, JavaScript can no longer run, each N-API call fails, and
// even constructing the Napi::Error that reports the failure aborts the
// process; a C++ exception unwinding into libuv would abort it too.
void InotifyHandle::Drain(int status) {
  napi_env env = Env();
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;

  if (status < 0) {
    // libuv has already stopped the poll; the instance cannot recover.
    if (!DeliverError(env, -status, "uv_poll")) {
      if (!SurfaceFailure(env)) Quiesce();
    }
    napi_close_handle_scope(env, scope);
    return;
  }

  batch_.Clear();
  int read_error = 0;
  for (int reads = 0; reads < kMaxReadsPerWakeup && poller_ != nullptr;) {
    ssize_t n = read(poller_->fd, poller_->buffer, InotifyPoller::kBufferSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) read_error = errno;
      break;
    }
    if (n == 0) break;
    reads++;
    if (!batch_.Append(poller_->buffer, static_cast<size_t>(n))) {
      // The events of this read that did not fit are gone from the kernel
      // queue; the consumer hears of it as an error rather than not at all.
      read_error = ENOMEM;
      break;
    }
  }
  if (batch_.count() > 0 && !DeliverBatch(env)) {
    Quiesce();
  } else if (read_error != 0 && poller_ != nullptr) {
    // No read error is expected on an inotify descriptor; one that happens
    // would recur on every wakeup, so stop reading rather than spin.
    Quiesce();
    if (!DeliverError(env, read_error, "read")) SurfaceFailure(env);
  }
  napi_close_handle_scope(env, scope);
}

bool InotifyHandle::DeliverBatch(napi_env env) {
  napi_ref records_ref = records_;
  napi_value reusable;
  napi_value argv[4];
  if (records_ref == nullptr ||
      napi_get_reference_value(env, records_ref, &reusable) != napi_ok || reusable == nullptr ||
      napi_create_uint32(env, batch_.count(), &argv[0]) != napi_ok ||
      batch_.Records(env, reusable, &argv[1]) != napi_ok ||
      batch_.Names(env, &argv[2]) != napi_ok ||
      batch_.RawNames(env, &argv[3]) != napi_ok) {
    // Only when JavaScript cannot run: the events are dropped with the environment.
    return SurfaceFailure(env);
  }
  return Deliver(env, on_events_, 4, argv);
}

bool InotifyHandle::DeliverError(napi_env env, int errnum, const char* syscall) {
  napi_value error;
  if (ErrnoErrorValue(env, errnum, syscall, nullptr, &error) != napi_ok) return false;
  return Deliver(env, on_error_, 1, &error);
}

bool InotifyHandle::Deliver(napi_env env, napi_ref callback_ref, size_t argc, const napi_value* argv) {
  napi_ref self_ref = *this;
  napi_value self;
  napi_value callback;
  // `self`, held in Drain's handle scope, keeps this wrapper alive until
  // Drain returns, even when the callback closes the instance and drops the
  // last other reference to it.
  if (callback_ref == nullptr ||
      napi_get_reference_value(env, self_ref, &self) != napi_ok || self == nullptr ||
      napi_get_reference_value(env, callback_ref, &callback) != napi_ok || callback == nullptr) {
    return false;
  }
  napi_value result;
  // napi_make_callback opens a callback scope: when the consumer returns,
  // process.nextTick callbacks and promise reactions run, so `for await`
  // loops see the events now rather than on some later tick.
  if (napi_make_callback(env, async_context_, self, callback, argc, argv, &result) == napi_ok) {
    return true;
  }
  return SurfaceFailure(env);
}

bool InotifyHandle::SurfaceFailure(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return false;
  napi_value exception;
  if (napi_get_and_clear_last_exception(env, &exception) != napi_ok) return false;
  // Refuses (and we ignore it) once the environment is stopping, when there
  // is nobody left to tell.
  napi_fatal_exception(env, exception);
  return true;
}

void InotifyHandle::Quiesce() {
  if (poller_ != nullptr) uv_poll_stop(&poller_->poll);
}

}  // namespace config_reloader

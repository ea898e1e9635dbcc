#include "inotify_handle.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <string>

#include "errno_error.h"

namespace config_reloader {
namespace {

// Bounds the work done per wakeup so a flood of events cannot starve the
// rest of the event loop; the poll is level-triggered and fires again.
constexpr int kMaxReadsPerWakeup = 16;

// File names on Linux are bytes. Names that are not UTF-8 still reach
// JavaScript as a lossy string, plus the exact bytes so nothing is lost.
bool IsValidUtf8(const unsigned char* s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char c = s[i];
    size_t extra;
    unsigned int min;
    unsigned int cp;
    if (c < 0x80) { i++; continue; }
    if ((c & 0xE0) == 0xC0) { extra = 1; min = 0x80; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { extra = 2; min = 0x800; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { extra = 3; min = 0x10000; cp = c & 0x07; }
    else return false;
    if (i + extra >= len) return false;
    for (size_t k = 1; k <= extra; k++) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

void OnPollClosed(uv_handle_t* handle) {
  auto* poller = static_cast<InotifyPoller*>(handle->data);
  // The descriptor is closed only now: libuv may still reference it until
  // the close callback, and closing earlier could let the number be reused
  // under a live poll handle.
  close(poller->fd);
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
// on the environment's own loop before the loop is closed.
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
          InstanceMethod<&InotifyHandle::Ref>("ref"),
          InstanceMethod<&InotifyHandle::Unref>("unref"),
          InstanceAccessor<&InotifyHandle::GetFd>("fd"),
          InstanceAccessor<&InotifyHandle::GetClosed>("closed"),
      });
}

InotifyHandle::InotifyHandle(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<InotifyHandle>(info),
      async_context_(info.Env(), "InotifyHandle") {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    throw Napi::TypeError::New(env, "InotifyHandle needs a batch callback");
  }
  on_batch_ = Napi::Persistent(info[0].As<Napi::Function>());

  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) throw ErrnoError(env, errno, "inotify_init1");

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    close(fd);
    throw Napi::Error::New(env, "no event loop for this environment");
  }

  auto* poller = new InotifyPoller();
  poller->fd = fd;
  poller->poll.data = poller;
  int rc = uv_poll_init(loop, &poller->poll, fd);
  if (rc != 0) {
    close(fd);
    delete poller;
    throw ErrnoError(env, -rc, "uv_poll_init");
  }
  rc = uv_poll_start(&poller->poll, UV_READABLE, OnPollEvent);
  if (rc != 0) {
    BeginClose(poller);
    throw ErrnoError(env, -rc, "uv_poll_start");
  }
  napi_add_async_cleanup_hook(env, OnEnvironmentCleanup, poller,
                              &poller->cleanup_hook);
  poller->owner = this;
  poller_ = poller;
  // An open instance keeps its wrapper alive, as an open fs.watch does: the
  // events must have somewhere to go.
  Napi::ObjectWrap<InotifyHandle>::Ref();
}

InotifyHandle::~InotifyHandle() {
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
    InotifyPoller* poller = poller_;
    BeginClose(poller);  // detaches, so poller_ is null from here on
    Napi::ObjectWrap<InotifyHandle>::Unref();
  }
  return info.Env().Undefined();
}

Napi::Value InotifyHandle::Ref(const Napi::CallbackInfo& info) {
  if (poller_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&poller_->poll));
  return info.This();
}

Napi::Value InotifyHandle::Unref(const Napi::CallbackInfo& info) {
  if (poller_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&poller_->poll));
  return info.This();
}

Napi::Value InotifyHandle::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), poller_ != nullptr ? poller_->fd : -1);
}

Napi::Value InotifyHandle::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), poller_ == nullptr);
}

void InotifyHandle::Drain(int status) {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);

  if (status < 0) {
    Deliver(ErrnoError(env, -status, "uv_poll").Value(), env.Null());
    return;
  }

  Napi::Array batch = Napi::Array::New(env);
  uint32_t count = 0;
  int read_error = 0;
  for (int reads = 0; reads < kMaxReadsPerWakeup && poller_ != nullptr;) {
    ssize_t n = read(poller_->fd, poller_->buffer, InotifyPoller::kBufferSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) read_error = errno;
      break;
    }
    reads++;
    const char* cursor = poller_->buffer;
    const char* end = cursor + n;
    while (cursor < end) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(cursor);
      Napi::Object item = Napi::Object::New(env);
      item.Set("wd", Napi::Number::New(env, event->wd));
      item.Set("mask", Napi::Number::New(env, event->mask));
      item.Set("cookie", Napi::Number::New(env, event->cookie));
      if (event->len > 0) {
        // The kernel pads the name with NULs up to `len`.
        size_t length = strnlen(event->name, event->len);
        item.Set("name", Napi::String::New(env, event->name, length));
        if (!IsValidUtf8(reinterpret_cast<const unsigned char*>(event->name), length)) {
          item.Set("raw", Napi::Buffer<char>::Copy(env, event->name, length));
        }
      }
      batch.Set(count++, item);
      cursor += sizeof(struct inotify_event) + event->len;
    }
  }

  if (count > 0) Deliver(env.Null(), batch);
  if (read_error != 0 && poller_ != nullptr) {
    Deliver(ErrnoError(env, read_error, "read").Value(), env.Null());
  }
}

void InotifyHandle::Deliver(Napi::Value error, Napi::Value events) {
  Napi::Env env = Env();
  try {
    // MakeCallback opens a callback scope, so promises resolved by the
    // consumer settle before control returns to libuv.
    on_batch_.MakeCallback(Value(), {error, events}, async_context_);
  } catch (const Napi::Error& thrown) {
    // An exception from the consumer must surface as an uncaught exception,
    // exactly as one thrown from an fs.watch listener would.
    napi_fatal_exception(env, thrown.Value());
  }
}

}  // namespace config_reloader

// Turns the bytes of inotify read()s into JavaScript objects
// { wd, mask, cookie, name?, raw? }. Pure conversion; no policy.
#pragma once

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/inotify.h>

namespace config_reloader {

// Appends the events of one read() to a JS array. Only the C API is used, and
// every status is checked: this runs in a libuv callback, where a C++
// exception must not escape and where, while a Worker is being terminated,
// any call into JavaScript fails. On failure the batch is incomplete and the
// status says why.
class EventBatchBuilder {
 public:
  // Creates the batch array and the property keys, once per wakeup.
  napi_status Begin(napi_env env);
  // `data` holds whole `struct inotify_event` records, as read() returns them.
  napi_status Append(const char* data, size_t size);

  napi_value batch() const { return batch_; }
  uint32_t count() const { return count_; }

 private:
  napi_status AppendOne(const struct inotify_event* event);

  napi_env env_ = nullptr;
  napi_value batch_ = nullptr;
  uint32_t count_ = 0;
  // Created once per batch and passed by value, so V8 does not re-internalize
  // the same five names for each of thousands of events.
  napi_value key_wd_ = nullptr;
  napi_value key_mask_ = nullptr;
  napi_value key_cookie_ = nullptr;
  napi_value key_name_ = nullptr;
  napi_value key_raw_ = nullptr;
};

}  // namespace config_reloader

// Turns the bytes of inotify read()s into the arguments of one JavaScript
// batch call. Pure conversion; no policy.
//
// The batch is a struct of arrays rather than an object per event, because
// building objects through N-API costs several calls (each a property lookup
// in V8) per event, several times what the same objects cost when JavaScript
// builds them with one fixed shape. Nor is it one object holding the arrays:
// each wakeup is one batch, and when another process writes, a wakeup usually
// brings one or two events, so what a batch costs is paid about once per
// event. The arrays go to the callback as separate arguments:
//   count:   how many events the batch holds
//   records: Uint32Array [wd, mask, cookie] per event, in order, in its first
//            count * 3 elements (wd is signed: read it with `| 0`; the
//            overflow event has wd -1). Usually the same array on every call,
//            refilled: valid only until the callback returns.
//   names:   every event's name, joined by '/' into one string; an event
//            without a name (one about the watched inode itself) contributes
//            an empty segment
//   raws:    null, or an array holding, at an event's index, the exact bytes
//            of its name when they are not valid UTF-8
//
// '/' is the one byte besides NUL that a file name can never contain, so
// splitting on it recovers each name exactly. For a malformed name, V8's
// decoder replaces each invalid sequence with U+FFFD and resumes at the next
// byte, and an ASCII '/' always starts a new character, so the joined string
// decodes each name exactly as decoding it alone would.
#pragma once

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

namespace config_reloader {

class EventBatchBuilder {
 public:
  // Events a reused records array holds. A wakeup brings far fewer unless a
  // burst has queued thousands, and such a batch gets an array of its own.
  static constexpr size_t kReusedRecordsEvents = 256;

  EventBatchBuilder() = default;
  EventBatchBuilder(const EventBatchBuilder&) = delete;
  EventBatchBuilder& operator=(const EventBatchBuilder&) = delete;
  ~EventBatchBuilder();

  // Parses the events of one read(): `data` holds whole `struct
  // inotify_event` records. Plain C++, no JavaScript. False when memory ran
  // out; the events parsed so far stay in the batch.
  bool Append(const char* data, size_t size);

  // The JavaScript values of the batch. Only the C API is used, and every
  // status is checked: this runs in a libuv callback, where a C++ exception
  // must not escape and where, while a Worker is being terminated, any call
  // into JavaScript fails.
  //
  // Records: copied into `reusable` (a Uint32Array of kReusedRecordsEvents
  // records) when they fit, else into a new Uint32Array of their own.
  napi_status Records(napi_env env, napi_value reusable, napi_value* result) const;
  napi_status Names(napi_env env, napi_value* result) const;
  napi_status RawNames(napi_env env, napi_value* result) const;

  // Empties the batch for the next wakeup. Its buffers are kept for reuse,
  // unless a burst grew them past a few pages.
  void Clear();

  uint32_t count() const { return count_; }

 private:
  // Where a malformed name's bytes are in `names_`.
  struct RawName {
    uint32_t event;
    size_t offset;
    size_t length;
  };

  bool AddRawName(size_t offset, size_t length);

  // malloc'd rather than std::vector: growth must report failure, not throw
  // into libuv.
  uint32_t* records_ = nullptr;
  size_t records_capacity_ = 0;  // uint32_t fields
  char* names_ = nullptr;
  size_t names_size_ = 0;
  size_t names_capacity_ = 0;
  RawName* raw_names_ = nullptr;
  size_t raw_names_count_ = 0;
  size_t raw_names_capacity_ = 0;
  uint32_t count_ = 0;
};

}  // namespace config_reloader

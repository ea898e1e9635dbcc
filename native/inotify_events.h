// Turns the bytes of inotify read()s into one JavaScript batch. Pure
// conversion; no policy.
//
// The batch is a struct of arrays rather than an object per event, because
// building objects through N-API costs several calls (each a property lookup
// in V8) per event, several times what the same objects cost when JavaScript
// builds them with one fixed shape:
//   records: Uint32Array [wd, mask, cookie] per event, in order (wd is signed:
//            read it with `| 0`; the overflow event has wd -1)
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
  EventBatchBuilder() = default;
  EventBatchBuilder(const EventBatchBuilder&) = delete;
  EventBatchBuilder& operator=(const EventBatchBuilder&) = delete;
  ~EventBatchBuilder();

  // Parses the events of one read(): `data` holds whole `struct
  // inotify_event` records. Plain C++, no JavaScript. False when memory ran
  // out; the events parsed so far stay in the batch.
  bool Append(const char* data, size_t size);

  // Creates the JavaScript batch. Only the C API is used, and every status is
  // checked: this runs in a libuv callback, where a C++ exception must not
  // escape and where, while a Worker is being terminated, any call into
  // JavaScript fails.
  napi_status Finish(napi_env env, napi_value* result) const;

  uint32_t count() const { return count_; }

 private:
  // Where a malformed name's bytes are in `names_`.
  struct RawName {
    uint32_t event;
    size_t offset;
    size_t length;
  };

  bool AddRawName(size_t offset, size_t length);
  napi_status RawNames(napi_env env, napi_value* result) const;

  // malloc'd rather than std::vector: growth must report failure, not throw
  // into libuv.
  uint32_t* records_ = nullptr;
  size_t records_capacity_ = 0;  // events
  char* names_ = nullptr;
  size_t names_size_ = 0;
  size_t names_capacity_ = 0;
  RawName* raw_names_ = nullptr;
  size_t raw_names_count_ = 0;
  size_t raw_names_capacity_ = 0;
  uint32_t count_ = 0;
};

}  // namespace config_reloader

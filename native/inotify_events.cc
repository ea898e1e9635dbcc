#include "inotify_events.h"

#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "utf8.h"

namespace config_reloader {
namespace {

constexpr size_t kFieldsPerEvent = 3;  // wd, mask, cookie
constexpr char kNameSeparator = '/';

// Grows `*buffer` to hold at least `needed` elements, at least doubling so a
// batch of many reads reallocates only a few times.
template <typename T>
bool Reserve(T** buffer, size_t* capacity, size_t needed) {
  if (needed <= *capacity) return true;
  size_t grown = *capacity * 2 > needed ? *capacity * 2 : needed;
  void* moved = realloc(*buffer, grown * sizeof(T));
  if (moved == nullptr) return false;
  *buffer = static_cast<T*>(moved);
  *capacity = grown;
  return true;
}

// Past this many bytes a buffer that a burst grew is freed after its batch
// rather than kept for the next one: a quiet watcher should not keep a
// burst's worth of memory.
constexpr size_t kKeptBufferBytes = 16 * 1024;

template <typename T>
void ReleaseIfLarge(T** buffer, size_t* capacity) {
  if (*capacity * sizeof(T) <= kKeptBufferBytes) return;
  free(*buffer);
  *buffer = nullptr;
  *capacity = 0;
}

}  // namespace

EventBatchBuilder::~EventBatchBuilder() {
  free(records_);
  free(names_);
  free(raw_names_);
}

void EventBatchBuilder::Clear() {
  count_ = 0;
  names_size_ = 0;
  raw_names_count_ = 0;
  ReleaseIfLarge(&records_, &records_capacity_);
  ReleaseIfLarge(&names_, &names_capacity_);
  ReleaseIfLarge(&raw_names_, &raw_names_capacity_);
}

bool EventBatchBuilder::Append(const char* data, size_t size) {
  // Every record takes at least sizeof(struct inotify_event) bytes of `data`
  // and adds at most its `len` name bytes plus one separator to `names_`, so
  // one reservation per read covers all of its events.
  if (!Reserve(&records_, &records_capacity_,
               (count_ + size / sizeof(struct inotify_event)) * kFieldsPerEvent) ||
      !Reserve(&names_, &names_capacity_, names_size_ + size)) {
    return false;
  }
  // The kernel writes whole records only, each `sizeof(inotify_event) + len`
  // bytes with `len` a multiple of the record alignment, so every record
  // starts suitably aligned for a cast as long as the buffer does.
  const char* cursor = data;
  const char* end = data + size;
  while (end - cursor >= static_cast<ptrdiff_t>(sizeof(struct inotify_event))) {
    const auto* event = reinterpret_cast<const struct inotify_event*>(cursor);
    size_t record = sizeof(struct inotify_event) + event->len;
    if (record > static_cast<size_t>(end - cursor)) break;  // cannot happen; never read past the end

    // `len` counts the name plus the NUL padding the kernel adds to keep the
    // next record aligned; 0 means the event is about the watched inode itself.
    size_t length = event->len > 0 ? strnlen(event->name, event->len) : 0;
    size_t offset = names_size_ + (count_ > 0 ? 1 : 0);
    // The string JavaScript gets is lossy for such names (each bad sequence
    // becomes U+FFFD), so the exact bytes travel alongside.
    if (!IsValidUtf8(reinterpret_cast<const unsigned char*>(event->name), length) &&
        !AddRawName(offset, length)) {
      return false;
    }
    if (count_ > 0) names_[names_size_++] = kNameSeparator;
    memcpy(names_ + names_size_, event->name, length);
    names_size_ += length;

    uint32_t* fields = records_ + count_ * kFieldsPerEvent;
    fields[0] = static_cast<uint32_t>(event->wd);
    fields[1] = event->mask;
    fields[2] = event->cookie;
    count_++;
    cursor += record;
  }
  return true;
}

bool EventBatchBuilder::AddRawName(size_t offset, size_t length) {
  if (!Reserve(&raw_names_, &raw_names_capacity_, raw_names_count_ + 1)) return false;
  raw_names_[raw_names_count_++] = RawName{count_, offset, length};
  return true;
}

napi_status EventBatchBuilder::Records(napi_env env, napi_value reusable, napi_value* result) const {
  size_t fields = count_ * kFieldsPerEvent;
  napi_status status;
  if (count_ <= kReusedRecordsEvents) {
    void* data = nullptr;
    size_t length = 0;
    if ((status = napi_get_typedarray_info(env, reusable, nullptr, &length, &data, nullptr, nullptr)) != napi_ok) {
      return status;
    }
    if (length >= fields && data != nullptr) {
      if (fields > 0) memcpy(data, records_, fields * sizeof(uint32_t));
      *result = reusable;
      return napi_ok;
    }
  }
  // One allocation and one copy for every number of the batch.
  void* data;
  napi_value buffer;
  if ((status = napi_create_arraybuffer(env, fields * sizeof(uint32_t), &data, &buffer)) != napi_ok) {
    return status;
  }
  if (fields > 0) memcpy(data, records_, fields * sizeof(uint32_t));
  return napi_create_typedarray(env, napi_uint32_array, fields, buffer, 0, result);
}

napi_status EventBatchBuilder::Names(napi_env env, napi_value* result) const {
  return napi_create_string_utf8(env, names_ != nullptr ? names_ : "", names_size_, result);
}

napi_status EventBatchBuilder::RawNames(napi_env env, napi_value* result) const {
  if (raw_names_count_ == 0) return napi_get_null(env, result);
  napi_value raws;
  napi_status status = napi_create_array(env, &raws);
  for (size_t i = 0; status == napi_ok && i < raw_names_count_; i++) {
    const RawName& name = raw_names_[i];
    void* copy;
    napi_value bytes;
    if ((status = napi_create_buffer_copy(env, name.length, names_ + name.offset, &copy, &bytes)) == napi_ok) {
      status = napi_set_element(env, raws, name.event, bytes);
    }
  }
  if (status == napi_ok) *result = raws;
  return status;
}

}  // namespace config_reloader

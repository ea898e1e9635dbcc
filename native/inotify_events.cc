#include "inotify_events.h"

#include <string.h>
#include <sys/inotify.h>

#include "utf8.h"

namespace config_reloader {
namespace {

napi_status Key(napi_env env, const char* name, napi_value* result) {
  return napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, result);
}

}  // namespace

napi_status EventBatchBuilder::Begin(napi_env env) {
  env_ = env;
  count_ = 0;
  napi_status status;
  if ((status = napi_create_array(env, &batch_)) != napi_ok ||
      (status = Key(env, "wd", &key_wd_)) != napi_ok ||
      (status = Key(env, "mask", &key_mask_)) != napi_ok ||
      (status = Key(env, "cookie", &key_cookie_)) != napi_ok ||
      (status = Key(env, "name", &key_name_)) != napi_ok ||
      (status = Key(env, "raw", &key_raw_)) != napi_ok) {
    return status;
  }
  return napi_ok;
}

napi_status EventBatchBuilder::Append(const char* data, size_t size) {
  // The kernel writes whole records only, each `sizeof(inotify_event) + len`
  // bytes with `len` a multiple of the record alignment, so every record
  // starts suitably aligned for a cast as long as the buffer does.
  const char* cursor = data;
  const char* end = data + size;
  while (end - cursor >= static_cast<ptrdiff_t>(sizeof(struct inotify_event))) {
    const auto* event = reinterpret_cast<const struct inotify_event*>(cursor);
    size_t record = sizeof(struct inotify_event) + event->len;
    if (record > static_cast<size_t>(end - cursor)) break;  // cannot happen; never read past the end
    napi_status status = AppendOne(event);
    if (status != napi_ok) return status;
    cursor += record;
  }
  return napi_ok;
}

napi_status EventBatchBuilder::AppendOne(const struct inotify_event* event) {
  napi_value wd;
  napi_value mask;
  napi_value cookie;
  napi_value item;
  napi_status status;
  if ((status = napi_create_int32(env_, event->wd, &wd)) != napi_ok ||
      (status = napi_create_uint32(env_, event->mask, &mask)) != napi_ok ||
      (status = napi_create_uint32(env_, event->cookie, &cookie)) != napi_ok ||
      (status = napi_create_object(env_, &item)) != napi_ok) {
    return status;
  }

  napi_property_descriptor fields[5] = {
      {nullptr, key_wd_, nullptr, nullptr, nullptr, wd, napi_default_jsproperty, nullptr},
      {nullptr, key_mask_, nullptr, nullptr, nullptr, mask, napi_default_jsproperty, nullptr},
      {nullptr, key_cookie_, nullptr, nullptr, nullptr, cookie, napi_default_jsproperty, nullptr},
  };
  size_t field_count = 3;

  // `len` counts the name plus the NUL padding the kernel adds to keep the
  // next record aligned; 0 means the event is about the watched inode itself.
  if (event->len > 0) {
    size_t length = strnlen(event->name, event->len);
    napi_value name;
    if ((status = napi_create_string_utf8(env_, event->name, length, &name)) != napi_ok) {
      return status;
    }
    fields[field_count++] = {nullptr, key_name_, nullptr, nullptr, nullptr, name,
                             napi_default_jsproperty, nullptr};
    // The string above is lossy for such names (each bad byte becomes
    // U+FFFD), so the exact bytes travel alongside.
    if (!IsValidUtf8(reinterpret_cast<const unsigned char*>(event->name), length)) {
      void* copy;
      napi_value raw;
      if ((status = napi_create_buffer_copy(env_, length, event->name, &copy, &raw)) != napi_ok) {
        return status;
      }
      fields[field_count++] = {nullptr, key_raw_, nullptr, nullptr, nullptr, raw,
                               napi_default_jsproperty, nullptr};
    }
  }

  if ((status = napi_define_properties(env_, item, field_count, fields)) != napi_ok) return status;
  return napi_set_element(env_, batch_, count_++, item);
}

}  // namespace config_reloader

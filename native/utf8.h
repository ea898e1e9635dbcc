// File names on Linux are bytes, not text: any byte but '/' and NUL is
// allowed, so a name need not be UTF-8 at all.
#pragma once

#include <stddef.h>

namespace config_reloader {

// True when `s` is well-formed UTF-8 as the Unicode standard defines it: no
// overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no
// truncated sequence at the end. Exactly the bytes that survive a round trip
// through a JavaScript string unchanged.
bool IsValidUtf8(const unsigned char* s, size_t len);

}  // namespace config_reloader

#include "utf8.h"

namespace config_reloader {

bool IsValidUtf8(const unsigned char* s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char lead = s[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    size_t extra;
    unsigned int min;
    unsigned int cp;
    if ((lead & 0xE0) == 0xC0) {
      extra = 1; min = 0x80; cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2; min = 0x800; cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3; min = 0x10000; cp = lead & 0x07;
    } else {
      return false;  // a continuation byte, or 0xF8..0xFF, cannot start a sequence
    }
    if (len - i <= extra) return false;
    for (size_t k = 1; k <= extra; k++) {
      unsigned char next = s[i + k];
      if ((next & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (next & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace config_reloader

#include "libs/common/time_zone.h"

#include "absl/strings/ascii.h"

namespace crm::common {

bool ZoneNameShaped(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  bool part_start = true;
  for (char c : name) {
    if (c == '/') {
      if (part_start) return false;  // leading or doubled '/'
      part_start = true;
      continue;
    }
    const bool letter = absl::ascii_isalpha(static_cast<unsigned char>(c));
    if (part_start && !letter) return false;  // no "..", no "-x" parts
    if (!letter && !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '_' && c != '+' &&
        c != '-') {
      return false;
    }
    part_start = false;
  }
  return !part_start;  // no trailing '/'
}

bool LoadZone(const std::string& name, absl::TimeZone* tz) {
  return ZoneNameShaped(name) && absl::LoadTimeZone(name, tz);
}

}  // namespace crm::common

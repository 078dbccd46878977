#pragma once
// Time-zone names from clients: an IANA name only. absl::LoadTimeZone reads
// the name as a file under the zone database, so an unchecked name could
// open another file ("../../etc/passwd", an absolute path) or carry a NUL;
// every service loads client-given zones through LoadZone.
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace crm::common {

// "Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5":
// parts of ASCII letters, digits, '_', '+' and '-', each starting with a
// letter, joined by single '/'; 1..64 characters. False for "" and for
// anything path-like (a leading, trailing or doubled '/', "..", '.').
bool ZoneNameShaped(std::string_view name);

// absl::LoadTimeZone for a shaped name. False for a name that is not
// shaped ("" included, as absl) or not in the zone database.
bool LoadZone(const std::string& name, absl::TimeZone* tz);

}  // namespace crm::common

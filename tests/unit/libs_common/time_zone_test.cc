// Client-given time-zone names: IANA names load, path-like ones never reach
// the zone database.
#include "libs/common/time_zone.h"

#include <catch2/catch.hpp>
#include <string>

TEST_CASE("zone names are IANA names, never paths", "[common][time_zone]") {
  using crm::common::LoadZone;
  using crm::common::ZoneNameShaped;
  for (const char* name : {"Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5",
                           "Etc/GMT-14", "America/Port-au-Prince", "Asia/Seoul"}) {
    INFO(name);
    CHECK(ZoneNameShaped(name));
    absl::TimeZone tz;
    CHECK(LoadZone(name, &tz));
    CHECK(tz.name() == name);
  }
  for (const std::string& name :
       {std::string(""), std::string("/etc/localtime"), std::string("../../etc/passwd"),
        std::string("Europe/../Europe/Berlin"), std::string("Europe//Berlin"),
        std::string("Europe/Berlin/"), std::string("Europe/.Berlin"), std::string("-x/y"),
        std::string("Europe/Berlin\0x", 16), std::string(65, 'A'), std::string("Europe/Ber lin")}) {
    INFO(name);
    CHECK_FALSE(ZoneNameShaped(name));
  }
  absl::TimeZone tz;
  CHECK_FALSE(LoadZone("../../../../etc/localtime", &tz));
  CHECK_FALSE(LoadZone("Mars/Olympus", &tz));  // shaped, not in the database
  CHECK_FALSE(LoadZone("", &tz));              // as absl::LoadTimeZone
}

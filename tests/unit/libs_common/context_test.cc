#include "libs/grpcutil/context.h"

#include <catch2/catch.hpp>
#include <string>

namespace {

using crm::grpcutil::TraceIdOf;

TEST_CASE("TraceIdOf extracts the W3C trace id", "[common][grpcutil]") {
  CHECK(TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") ==
        "4bf92f3577b34da6a3ce929d0e0e4736");
  // Future versions may append fields.
  CHECK(TraceIdOf("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra") ==
        "4bf92f3577b34da6a3ce929d0e0e4736");
  for (const char* bad : {"", "garbage",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
                          "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
                          "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}) {
    INFO(bad);
    CHECK(TraceIdOf(bad).empty());
  }
}

}  // namespace

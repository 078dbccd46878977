#include "libs/grpcutil/context.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "libs/common/context_seal.h"

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

TEST_CASE("ContextSealCache reuses a seal only while half its lifetime is left",
          "[common][grpcutil]") {
  auto key = std::make_shared<const std::string>(40, 'k');
  const absl::Time t0 = absl::FromUnixSeconds(1800000000);
  crm::grpcutil::RequestContext rc;
  rc.tenant_id = "6f1c2b9e-0000-4000-8000-000000000001";
  rc.principal = "k0123456789abcdef";
  rc.roles = "admin";
  crm::grpcutil::ContextSealCache cache;
  const std::string first = cache.SealFor(key, rc, t0);
  auto verifies = [&](const std::string& seal, const std::string& k, absl::Time at) {
    return crm::common::VerifyContextSeal(k, {rc.tenant_id, rc.principal, rc.roles}, seal, at)
        .ok();
  };
  CHECK(verifies(first, *key, t0));

  SECTION("the same fields within the first half of the lifetime: the same seal") {
    CHECK(cache.SealFor(key, rc, t0 + crm::common::kContextSealLifetime / 2) == first);
  }
  SECTION("later: a new seal, still valid for at least half a lifetime") {
    absl::Time later = t0 + crm::common::kContextSealLifetime / 2 + absl::Seconds(1);
    std::string renewed = cache.SealFor(key, rc, later);
    CHECK(renewed != first);
    CHECK(verifies(renewed, *key, later + crm::common::kContextSealLifetime / 2));
  }
  SECTION("other fields: their own seal") {
    crm::grpcutil::RequestContext other = rc;
    other.roles = "admin,sales";
    std::string seal = cache.SealFor(key, other, t0);
    CHECK(seal != first);
    CHECK(crm::common::VerifyContextSeal(*key, {other.tenant_id, other.principal, other.roles},
                                         seal, t0)
              .ok());
  }
  SECTION("another key: no seal of the old key is handed out") {
    auto rotated = std::make_shared<const std::string>(40, 'r');
    std::string seal = cache.SealFor(rotated, rc, t0);
    CHECK(verifies(seal, *rotated, t0));
    CHECK_FALSE(verifies(seal, *key, t0));
  }
}

}  // namespace

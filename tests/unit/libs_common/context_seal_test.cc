#include "libs/common/context_seal.h"

#include <catch2/catch.hpp>
#include <string>

#include "libs/common/errors.h"

namespace {

using crm::common::SealContext;
using crm::common::SealedContext;
using crm::common::VerifyContextSeal;

const std::string kKey(40, 'k');
const absl::Time kNow = absl::FromUnixSeconds(1800000000);
const SealedContext kCtx{"5f0c6c2e-8d3c-4c1e-9a4e-3f1f0f6a9b10", "k00000000000000a1", "admin"};

TEST_CASE("A context sealed with the deployment key verifies", "[common][context_seal]") {
  std::string seal = SealContext(kKey, kCtx, kNow + absl::Seconds(120));
  CHECK(seal.rfind("v1.1800000120.", 0) == 0);
  CHECK(VerifyContextSeal(kKey, kCtx, seal, kNow).ok());
  CHECK(VerifyContextSeal(kKey, kCtx, seal, kNow + absl::Seconds(120)).ok());
}

TEST_CASE("Forged, altered, expired and far-future seals are refused", "[common][context_seal]") {
  std::string seal = SealContext(kKey, kCtx, kNow + absl::Seconds(120));
  auto refused = [](const absl::Status& s) {
    return s.code() == absl::StatusCode::kUnauthenticated &&
           crm::common::ReasonOf(s) == "INVALID_TENANT_CONTEXT";
  };
  SECTION("another tenant, principal or role set under the same seal") {
    SealedContext other = kCtx;
    other.tenant_id = "00000000-0000-4000-8000-000000000001";
    CHECK(refused(VerifyContextSeal(kKey, other, seal, kNow)));
    other = kCtx;
    other.principal = "k00000000000000a2";
    CHECK(refused(VerifyContextSeal(kKey, other, seal, kNow)));
    other = kCtx;
    other.roles = "admin,platform-admin";
    CHECK(refused(VerifyContextSeal(kKey, other, seal, kNow)));
  }
  SECTION("a seal made with another key") {
    CHECK(refused(VerifyContextSeal(
        kKey, kCtx, SealContext(std::string(40, 'x'), kCtx, kNow + absl::Seconds(60)), kNow)));
  }
  SECTION("no seal, garbage, or a changed expiry") {
    CHECK(refused(VerifyContextSeal(kKey, kCtx, "", kNow)));
    CHECK(refused(VerifyContextSeal(kKey, kCtx, "v1.x.y", kNow)));
    CHECK(refused(VerifyContextSeal(kKey, kCtx, "v2" + seal.substr(2), kNow)));
    std::string later = seal;
    later.replace(3, 10, "1800000999");
    CHECK(refused(VerifyContextSeal(kKey, kCtx, later, kNow)));
  }
  SECTION("expired, or valid for longer than a verifier accepts") {
    CHECK(refused(VerifyContextSeal(kKey, kCtx, seal, kNow + absl::Seconds(121))));
    std::string far = SealContext(kKey, kCtx, kNow + absl::Hours(1));
    CHECK(refused(VerifyContextSeal(kKey, kCtx, far, kNow)));
  }
  SECTION("a verifier without a key accepts nothing") {
    CHECK(refused(VerifyContextSeal("", kCtx, SealContext("", kCtx, kNow + absl::Seconds(60)),
                                    kNow)));
  }
}

}  // namespace

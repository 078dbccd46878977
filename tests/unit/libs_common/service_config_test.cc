#include "libs/common/service_config.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/support/scoped_env.h"

namespace {

using crm::testing::ScopedEnv;
using namespace crm::common;  // NOLINT

bool Mentions(const absl::Status& s, const std::string& what) {
  return std::string(s.message()).find(what) != std::string::npos;
}

TEST_CASE("LoadPeerConfig reads CRM_<PEER>_ADDR and CRM_<PEER>_TIMEOUT", "[common][config]") {
  ScopedEnv addr("CRM_UNIT_PEER_ADDR", nullptr);
  ScopedEnv timeout("CRM_UNIT_PEER_TIMEOUT", nullptr);

  SECTION("the address is required unless a default is given") {
    auto missing = LoadPeerConfig("unit-peer");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Mentions(missing.status(), "CRM_UNIT_PEER_ADDR"));

    auto defaulted = LoadPeerConfig("unit-peer", {"127.0.0.1:50061", absl::Seconds(1)});
    REQUIRE(defaulted.ok());
    CHECK(defaulted->peer == "unit-peer");
    CHECK(defaulted->addr == "127.0.0.1:50061");
    CHECK(defaulted->timeout == absl::Seconds(1));
  }
  SECTION("set variables win over the defaults; the timeout defaults to 2s") {
    ScopedEnv a("CRM_UNIT_PEER_ADDR", "peer.internal:50051");
    auto c = LoadPeerConfig("unit-peer");
    REQUIRE(c.ok());
    CHECK(c->addr == "peer.internal:50051");
    CHECK(c->timeout == absl::Seconds(2));

    ScopedEnv t("CRM_UNIT_PEER_TIMEOUT", "750ms");
    c = LoadPeerConfig("unit-peer", {"127.0.0.1:1", absl::Seconds(1)});
    REQUIRE(c.ok());
    CHECK(c->addr == "peer.internal:50051");
    CHECK(c->timeout == absl::Milliseconds(750));
  }
  SECTION("unusable values name their variable") {
    ScopedEnv a("CRM_UNIT_PEER_ADDR", "peer:1");
    for (const char* bad : {"soon", "-1s", "0s", "12"}) {
      INFO(bad);
      ScopedEnv t("CRM_UNIT_PEER_TIMEOUT", bad);
      auto c = LoadPeerConfig("unit-peer");
      REQUIRE_FALSE(c.ok());
      CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(Mentions(c.status(), "CRM_UNIT_PEER_TIMEOUT"));
    }
    ScopedEnv spaced("CRM_UNIT_PEER_ADDR", "peer :1");
    auto c = LoadPeerConfig("unit-peer");
    REQUIRE_FALSE(c.ok());
    CHECK(Mentions(c.status(), "CRM_UNIT_PEER_ADDR"));
  }
  SECTION("a peer name that is not lower-case kebab is refused") {
    for (const char* bad : {"", "customer_store", "CUSTOMER-STORE", "a b", "-peer", "9peer"}) {
      INFO(bad);
      CHECK(LoadPeerConfig(bad, {"h:1", absl::Seconds(1)}).status().code() ==
            absl::StatusCode::kInvalidArgument);
    }
  }
  SECTION("dumped as <peer>_addr and <peer>_timeout") {
    PeerConfig c{"customer-store", "customer-store:50051", absl::Milliseconds(1500)};
    ConfigDump dump;
    c.DumpTo(dump);
    CHECK(dump.ToString() ==
          "customer_store_addr=customer-store:50051 customer_store_timeout=1.5s");
  }
}

TEST_CASE("LoadServiceConfig starts from the caller's defaults", "[common][config]") {
  crm::testing::RequiredServiceEnv required;
  ScopedEnv workers("CRM_WORKERS", nullptr);
  ScopedEnv port("CRM_GRPC_PORT", nullptr);
  ScopedEnv ttl("CRM_IDEMPOTENCY_KEY_TTL", nullptr);

  SECTION("a service with an outbox reads and dumps its variables") {
    auto c = LoadServiceConfig();
    REQUIRE(c.ok());
    CHECK(c->workers == 16);
    CHECK(c->outbox);
    ConfigDump dump;
    c->DumpTo(dump);
    CHECK(dump.ToString().find("idempotency_key_ttl=24h") != std::string::npos);

    ScopedEnv short_ttl("CRM_IDEMPOTENCY_KEY_TTL", "1h");
    CHECK(LoadServiceConfig().status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("without an outbox its variables are neither read nor dumped; the key TTL is") {
    ServiceConfig defaults;
    defaults.workers = 8;
    defaults.outbox = false;
    ScopedEnv relay("CRM_EVENT_PARTITIONS", "not-a-number");
    ScopedEnv long_ttl("CRM_IDEMPOTENCY_KEY_TTL", "48h");
    auto c = LoadServiceConfig(defaults);
    REQUIRE(c.ok());
    CHECK(c->workers == 8);
    CHECK_FALSE(c->outbox);
    CHECK(c->idempotency_key_ttl == absl::Hours(48));
    ConfigDump dump;
    c->DumpTo(dump);
    const std::string text = dump.ToString();
    CHECK(text.find("outbox_relay") == std::string::npos);
    CHECK(text.find("event_partitions") == std::string::npos);
    CHECK(text.find("idempotency_key_ttl=48h") != std::string::npos);
    CHECK(text.find("shutdown_grace=10s") != std::string::npos);
    ScopedEnv short_ttl("CRM_IDEMPOTENCY_KEY_TTL", "1h");
    CHECK(LoadServiceConfig(defaults).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("CRM_GRPC_PORT=0 picks a free port") {
    ScopedEnv zero("CRM_GRPC_PORT", "0");
    auto c = LoadServiceConfig();
    REQUIRE(c.ok());
    CHECK(c->grpc_port == 0);
  }
}

}  // namespace

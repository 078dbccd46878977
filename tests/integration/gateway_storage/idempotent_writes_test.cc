// PgKeyStore's writes with an idempotency key against the private
// PostgreSQL: exactly once, the first answer (secret included) replayed,
// sealed at rest, per tenant, IDEMPOTENCY_KEY_REUSED for another body.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "services/gateway/app/access.h"
#include "tests/integration/gateway_storage/gw_env.h"

namespace crm::gateway::itest {
namespace {

using absl::StatusCode;

// What Admin::CreateKey hands the store: a fresh key and secret.
app::CreatedKey FreshKey(const std::string& tenant, const std::string& name = "ci") {
  return app::Admin::NewKey(tenant, name, {domain::Role::kSales},
                            absl::FromUnixMicros(1700000000000000));
}

app::CreatedTenant FreshTenant(const std::string& name) {
  app::CreatedTenant t;
  t.tenant = app::Tenant{common::NewUuid(), name, absl::FromUnixMicros(1700000000000000)};
  t.admin_key = app::Admin::NewKey(t.tenant.id, "initial admin key", {domain::Role::kAdmin},
                                   t.tenant.create_time);
  return t;
}

// One value (count, text) read in `tenant`'s scope.
std::string ReadIn(const std::string& tenant, const std::string& sql) {
  std::string out;
  absl::Status s = KeyPool().WithTenantTx(tenant, [&](pqxx::work& tx) {
    pqxx::result r = tx.exec(sql);
    out = r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
    return absl::OkStatus();
  });
  REQUIRE(s.ok());
  return out;
}

std::string Secret32(const std::string& full) { return full.substr(full.rfind('_') + 1); }

TEST_CASE("InsertKey with a request_id: one key, the first answer replayed, sealed at rest",
          "[gateway][keystore][idempotency]") {
  const std::string tenant = NewTenantWithKey().tenant_id;
  const std::string rid = common::NewUuid();
  const app::WriteContext w = Writer(tenant, "k-caller", "CreateApiKey", rid, "fp-1");
  const app::CreatedKey first_try = FreshKey(tenant);
  auto first = app::WriteKey(Keys(), w, first_try);
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(first->secret == first_try.secret);

  auto replay = app::WriteKey(Keys(), w, FreshKey(tenant));  // a retry makes a new key and secret
  INFO(replay.status().ToString());
  REQUIRE(replay.ok());
  CHECK(replay->secret == first->secret);
  CHECK(replay->key.id == first->key.id);
  CHECK(replay->key.roles == first->key.roles);
  CHECK(replay->key.create_time == first->key.create_time);
  CHECK(replay->key.expire_time == absl::InfiniteFuture());
  CHECK(replay->key.secret_sha256 == first->key.secret_sha256);
  CHECK(ReadIn(tenant, "SELECT count(*) FROM access.api_keys") == "2");  // the first + this one

  const std::string stored = ReadIn(
      tenant, "SELECT response FROM access.idempotency_keys WHERE request_id = '" + rid + "'");
  CHECK(absl::StartsWith(stored, "aes256gcm.v1."));
  CHECK_FALSE(absl::StrContains(stored, Secret32(first->secret)));
  // Each call is audited, the replay too; one key row was written.
  CHECK(ReadIn(tenant,
               "SELECT count(*) FROM access.audit_log WHERE method = 'CreateApiKey' AND "
               "request_id = 'req-itest' AND outcome = 'OK'") == "2");

  SECTION("another body is IDEMPOTENCY_KEY_REUSED and writes nothing") {
    auto other = app::WriteKey(Keys(), Writer(tenant, "k-caller", "CreateApiKey", rid, "fp-2"),
                               FreshKey(tenant));
    REQUIRE(other.status().code() == StatusCode::kInvalidArgument);
    CHECK(common::ReasonOf(other.status()) == "IDEMPOTENCY_KEY_REUSED");
    CHECK(common::FieldOf(other.status()) == "request_id");
    CHECK(ReadIn(tenant, "SELECT count(*) FROM access.api_keys") == "2");
  }
  SECTION("another tenant's same request_id is its own key") {
    const std::string other_tenant = NewTenantWithKey().tenant_id;
    auto theirs =
        app::WriteKey(Keys(), Writer(other_tenant, "k-other", "CreateApiKey", rid, "fp-2"),
                      FreshKey(other_tenant));
    INFO(theirs.status().ToString());
    REQUIRE(theirs.ok());
    CHECK(theirs->key.id != first->key.id);
    CHECK(theirs->key.tenant_id == other_tenant);
  }
  SECTION("a store with another secret cannot open the answer: DATA_LOSS, nothing written") {
    storage::PgKeyStore rotated(KeyPool(), "another-context-key-0123456789abcdefghij");
    auto r = app::WriteKey(rotated, w, FreshKey(tenant));
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK(ReadIn(tenant, "SELECT count(*) FROM access.api_keys") == "2");
  }
  SECTION("an expired key counts as unused: a new key") {
    REQUIRE(KeyPool()
                .WithTenantTx(tenant,
                              [&](pqxx::work& tx) {
                                tx.exec(
                                    "UPDATE access.idempotency_keys SET created_at = now() - "
                                    "interval '25 hours' WHERE request_id = '" +
                                    rid + "'");
                                return absl::OkStatus();
                              })
                .ok());
    auto fresh = app::WriteKey(Keys(), w, FreshKey(tenant));
    REQUIRE(fresh.ok());
    CHECK(fresh->key.id != first->key.id);
  }
}

TEST_CASE("InsertKey: concurrent duplicates make one key and answer the same secret",
          "[gateway][keystore][idempotency]") {
  const std::string tenant = NewTenantWithKey().tenant_id;
  const app::WriteContext w = Writer(tenant, "k-caller", "CreateApiKey", common::NewUuid(), "fp");
  std::vector<absl::StatusOr<app::CreatedKey>> out(4, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < out.size(); ++i) {
    threads.emplace_back([&, i] { out[i] = app::WriteKey(Keys(), w, FreshKey(tenant)); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : out) {
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->secret == out[0]->secret);
  }
  CHECK(ReadIn(tenant, "SELECT count(*) FROM access.api_keys") == "2");
}

TEST_CASE("CreateTenant with a request_id: one tenant, the same admin key on a retry",
          "[gateway][keystore][idempotency]") {
  const std::string platform = NewTenantWithKey().tenant_id;  // the caller's tenant
  const std::string rid = common::NewUuid();
  const app::WriteContext w = Writer(platform, "k-platform", "CreateTenant", rid, "fp-1");
  const std::string name = ts::UniqueName("idem_tenant");
  auto first = app::WriteTenant(Keys(), w, FreshTenant(name));
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  auto replay = app::WriteTenant(Keys(), w, FreshTenant(name));
  INFO(replay.status().ToString());
  REQUIRE(replay.ok());
  CHECK(replay->tenant.id == first->tenant.id);
  CHECK(replay->tenant.display_name == name);
  CHECK(replay->tenant.create_time == first->tenant.create_time);
  CHECK(replay->admin_key.secret == first->admin_key.secret);
  CHECK(replay->admin_key.key.id == first->admin_key.key.id);
  // One tenant by that name, its admin key works.
  auto found = Keys().FindTenantByName(name);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->id == first->tenant.id);
  CHECK(ReadIn(first->tenant.id, "SELECT count(*) FROM access.api_keys") == "1");
  CHECK(Keys().FindKey(first->admin_key.key.id)->has_value());
  // The key and its sealed answer live in the caller's tenant; the audit
  // trail in both.
  CHECK(ReadIn(platform, "SELECT count(*) FROM access.idempotency_keys WHERE request_id = '" + rid +
                             "'") == "1");
  CHECK(ReadIn(first->tenant.id, "SELECT count(*) FROM access.idempotency_keys") == "0");
  CHECK(ReadIn(platform,
               "SELECT count(*) FROM access.audit_log WHERE method = 'CreateTenant' "
               "AND resource = '" +
                   first->tenant.id + "'") == "1");
  CHECK(ReadIn(first->tenant.id,
               "SELECT count(*) FROM access.audit_log WHERE method IN ('CreateTenant', "
               "'CreateApiKey')") == "2");
  CHECK_FALSE(absl::StrContains(
      ReadIn(platform,
             "SELECT response FROM access.idempotency_keys WHERE request_id = '" + rid + "'"),
      Secret32(first->admin_key.secret)));

  auto other = app::WriteTenant(Keys(), Writer(platform, "k-platform", "CreateTenant", rid, "fp-2"),
                                FreshTenant(name + "_other"));
  CHECK(common::ReasonOf(other.status()) == "IDEMPOTENCY_KEY_REUSED");
  CHECK_FALSE(Keys().FindTenantByName(name + "_other")->has_value());
  // The same request_id for another method: INVALID_ARGUMENT on request_id.
  auto method = app::WriteKey(Keys(), Writer(platform, "k-platform", "CreateApiKey", rid, "fp-1"),
                              FreshKey(platform));
  CHECK(method.status().code() == StatusCode::kInvalidArgument);
  CHECK(common::FieldOf(method.status()) == "request_id");
}

}  // namespace
}  // namespace crm::gateway::itest

// ResolveCustomerRefs: app::CustomerResolver over PgCustomerRepository
// (set-based lookups of ids through merges and of identity owners, customers
// created with COPY + INSERT ... SELECT), against the private PostgreSQL.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libs/common/clock.h"
#include "services/customer_store/app/resolve.h"
#include "tests/integration/customer_store/cs_env.h"

namespace crm::customer_store::itest {
namespace {

using domain::RefOutcome;
using domain::RefQuery;

app::CustomerResolver& Resolver() {
  static common::SystemClock clock;
  static common::RandomIdGenerator ids;
  static app::CustomerResolver resolver(Repo(), clock, ids);
  return resolver;
}

app::ResolveOutcome Resolve(const std::string& tenant, const std::vector<RefQuery>& refs,
                            bool create, const std::string& key = "",
                            const std::string& fingerprint = "fp") {
  auto r = Resolver().Resolve(ActorOf(tenant, "ResolveCustomerRefs", key), refs, create,
                            fingerprint);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  REQUIRE(r->results.size() == refs.size());
  return *std::move(r);
}

RefQuery Id(const std::string& id) {
  RefQuery q;
  q.customer_id = id;
  return q;
}
RefQuery Ext(const std::string& number, const std::string& given = "") {
  RefQuery q;
  q.external_id_source = "erp";
  q.external_id = number;
  q.given_name = given;
  return q;
}
RefQuery Mail(const std::string& email) {
  RefQuery q;
  q.email = email;
  return q;
}

domain::Customer Stored(const std::string& tenant, domain::Customer c) {
  auto r = Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("ResolveCustomerRefs finds ids and identities with set-based lookups",
          "[customer_store][resolve][integration]") {
  EnsureSchema();
  const std::string tenant = NewTenant();
  const std::string email = UniqueEmail("ada");
  domain::Customer ada = NewCustomer("Ada", {email});
  ada.external_ids = {{"erp", "C-1"}};
  ada = Stored(tenant, ada);
  const std::string absent = common::NewUuid();

  auto r = Resolve(tenant, {Id(ada.id), Id(absent), Mail(email), Ext("C-1"), Ext("C-404"),
                            Mail("not-an-email")},
                   false);
  CHECK(r.results[0].outcome == RefOutcome::kFound);
  CHECK(r.results[0].customer_id == ada.id);
  CHECK(r.results[1].outcome == RefOutcome::kNotFound);
  CHECK(r.results[1].reason == "CUSTOMER_NOT_FOUND");
  CHECK(r.results[2].customer_id == ada.id);
  CHECK(r.results[3].customer_id == ada.id);
  CHECK(r.results[4].outcome == RefOutcome::kNotFound);  // missing, no create
  CHECK(r.results[4].reason == "CUSTOMER_NOT_RESOLVED");
  CHECK(r.results[5].outcome == RefOutcome::kInvalid);
  CHECK(r.created == 0);
  CHECK(CountCustomers(tenant) == 1);
  // Read only: no audit row, nothing in the outbox but the creation.
  CHECK(CountAudit(tenant, "ResolveCustomerRefs", "OK") == 0);
  CHECK(CountOutbox(tenant) == 1);
}

TEST_CASE("ResolveCustomerRefs: another tenant's customers read as absent",
          "[customer_store][resolve][integration]") {
  EnsureSchema();
  const std::string tenant = NewTenant();
  const std::string other = NewTenant();
  domain::Customer theirs = NewCustomer("Bob", {UniqueEmail("bob")});
  theirs.external_ids = {{"erp", "C-7"}};
  theirs = Stored(other, theirs);
  auto r = Resolve(tenant, {Id(theirs.id), Mail(theirs.emails[0]), Ext("C-7")}, false);
  for (const auto& x : r.results) CHECK(x.outcome == RefOutcome::kNotFound);
  // Creating in this tenant takes the same identities without touching the other's.
  auto c = Resolve(tenant, {Ext("C-7")}, true, "k-iso");
  CHECK(c.results[0].outcome == RefOutcome::kCreated);
  CHECK(c.results[0].customer_id != theirs.id);
  CHECK(CountCustomers(other) == 1);
}

TEST_CASE("ResolveCustomerRefs creates missing customers once, idempotently",
          "[customer_store][resolve][integration]") {
  EnsureSchema();
  const std::string tenant = NewTenant();
  domain::Customer known = NewCustomer("Kim", {});
  known.external_ids = {{"erp", "C-1"}};
  known = Stored(tenant, known);
  std::vector<RefQuery> batch = {Ext("C-1"), Ext("C-2", "Lin"), Ext("C-2"), Ext("C-3")};

  auto r = Resolve(tenant, batch, true, "batch-1");
  CHECK(r.results[0].outcome == RefOutcome::kFound);
  CHECK(r.results[0].customer_id == known.id);
  CHECK(r.results[1].outcome == RefOutcome::kCreated);
  CHECK(r.results[2].customer_id == r.results[1].customer_id);  // duplicate within the batch
  CHECK(r.results[3].outcome == RefOutcome::kCreated);
  CHECK(r.results[3].customer_id != r.results[1].customer_id);
  CHECK(r.created == 2);
  CHECK(CountCustomers(tenant) == 3);
  auto lin = Repo().Get(tenant, r.results[1].customer_id);
  REQUIRE(lin.ok());
  CHECK(lin->given_name == "Lin");
  REQUIRE(lin->external_ids.size() == 1);
  CHECK(lin->external_ids[0].value == "C-2");
  CHECK(CountOutbox(tenant, r.results[1].customer_id, "customer.created") == 1);
  CHECK(CountAudit(tenant, "ResolveCustomerRefs", "OK") == 1);

  // The same request again: the stored answer, nothing written.
  auto replay = Resolve(tenant, batch, true, "batch-1");
  CHECK(replay.replayed);
  CHECK(replay.results[1].customer_id == r.results[1].customer_id);
  CHECK(CountCustomers(tenant) == 3);
  // Another request with the same references: found now, nothing created.
  auto later = Resolve(tenant, batch, true, "batch-2");
  CHECK(later.created == 0);
  CHECK(later.results[1].outcome == RefOutcome::kFound);
  CHECK(later.results[1].customer_id == r.results[1].customer_id);
  CHECK(CountCustomers(tenant) == 3);
  // The key with other references: refused.
  auto reused = Resolver().Resolve(ActorOf(tenant, "ResolveCustomerRefs", "batch-1"), {Ext("C-9")},
                                 true, "fp-other");
  CHECK(ReasonOf(reused.status()) == "IDEMPOTENCY_KEY_REUSED");
  // create_missing needs a request_id.
  auto keyless = Resolver().Resolve(ActorOf(tenant, "ResolveCustomerRefs"), {Ext("C-9")}, true, "");
  CHECK(common::FieldOf(keyless.status()) == "request_id");
}

TEST_CASE("ResolveCustomerRefs follows merges to the survivor, erased ids are absent",
          "[customer_store][resolve][integration]") {
  EnsureSchema();
  const std::string tenant = NewTenant();
  domain::Customer survivor = Stored(tenant, NewCustomer("Sam", {UniqueEmail("sam")}));
  domain::Customer source = Stored(tenant, NewCustomer("Sol", {UniqueEmail("sol")}));
  // What MergeCustomers leaves behind: a merge-log row, the source row gone.
  absl::Status s = AppPool().WithTenantTx(tenant, [&](pqxx::work& tx) {
    tx.exec0(absl::StrCat(
        "INSERT INTO customer_store.merges (tenant_id, id, survivor_id, source_id, "
        "source_snapshot, survivor_before, survivor_after, filled_paths, moved_interactions, "
        "moved_consents, added_consents) VALUES ('",
        tenant, "', '", common::NewUuid(), "', '", survivor.id, "', '", source.id,
        "', '{}', '{}', '{}', '[]', '{}', '{}', '{}')"));
    tx.exec0(absl::StrCat("DELETE FROM customer_store.customers WHERE tenant_id = '", tenant,
                          "' AND id = '", source.id, "'"));
    return absl::OkStatus();
  });
  REQUIRE(s.ok());
  auto r = Resolve(tenant, {Id(source.id), Id(survivor.id)}, false);
  CHECK(r.results[0].outcome == RefOutcome::kMerged);
  CHECK(r.results[0].customer_id == survivor.id);
  CHECK(r.results[1].outcome == RefOutcome::kFound);

  // Erasing the survivor erases the merged id too, and the event says so.
  REQUIRE(Erase(Repo(), ActorOf(tenant, "DeleteCustomer"), survivor.id, "").ok());
  auto gone = Resolve(tenant, {Id(source.id), Id(survivor.id)}, false);
  CHECK(gone.results[0].outcome == RefOutcome::kNotFound);
  CHECK(gone.results[1].outcome == RefOutcome::kNotFound);
  std::string payload;
  s = AppPool().WithTenantTx(tenant, [&](pqxx::work& tx) {
    payload = tx.exec1("SELECT payload::text FROM customer_store.outbox WHERE event_type = "
                       "'customer.erased'")[0]
                  .as<std::string>();
    return absl::OkStatus();
  });
  REQUIRE(s.ok());
  auto j = nlohmann::json::parse(payload);
  CHECK(j.at("customer_id").get<std::string>() == survivor.id);
  CHECK(j.at("erased_customer_ids") ==
        nlohmann::json::array({survivor.id, source.id}));
}

}  // namespace crm::customer_store::itest

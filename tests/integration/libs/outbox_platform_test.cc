// The platform migrations (libs/outbox/platform_schema.h), the idempotency
// key TTL and the key purge, and the unit of work every write runs through
// (libs/outbox/unit_of_work.h), against the private PostgreSQL.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "libs/common/errors.h"
#include "libs/outbox/platform_schema.h"
#include "libs/outbox/purge.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/outbox/writer.h"
#include "libs/pg/migrate.h"
#include "tests/support/pg_test_db.h"

namespace {

namespace ts = crm::test_support;
using absl::StatusCode;

constexpr const char* kTenantA = "11111111-1111-4111-8111-111111111111";
constexpr const char* kTenantB = "22222222-2222-4222-8222-222222222222";

// Applies only the platform migrations into `schema` (an empty folder of
// service files), as crm-migrate does before a service's own files.
absl::StatusOr<std::vector<std::string>> MigratePlatform(const std::string& service,
                                                         const std::string& schema) {
  return crm::pg::Migrate(ts::PgOwnerDsn(),
                          crm::pg::MigrationPlan{service, schema,
                                                 crm::outbox::PlatformMigrations(),
                                                 ts::SourcePath("tests/integration/libs/empty")});
}

std::vector<std::string> Rows(const std::string& sql) {
  pqxx::connection c(ts::PgOwnerDsn());
  pqxx::work w(c);
  std::vector<std::string> out;
  for (const auto& row : w.exec(sql)) {
    std::string line;
    for (const auto& f : row) absl::StrAppend(&line, f.is_null() ? "NULL" : f.c_str(), "|");
    out.push_back(line);
  }
  return out;
}

// What a schema's platform tables look like in the catalog: columns,
// constraints, indexes, row-level security, policies and crm_app's
// privileges, with the schema's name replaced by "S" so two schemas compare.
std::vector<std::string> Shape(const std::string& schema) {
  const std::string q = absl::StrCat("'", schema, "'");
  std::vector<std::string> shape;
  auto add = [&](const std::string& what, const std::string& sql) {
    for (std::string& r : Rows(sql)) {
      shape.push_back(absl::StrCat(what, ":", absl::StrReplaceAll(r, {{schema, "S"}})));
    }
  };
  add("column", absl::StrCat(
                    "SELECT table_name, column_name, data_type, is_nullable, column_default "
                    "FROM information_schema.columns WHERE table_schema = ",
                    q, " ORDER BY 1, 2"));
  add("constraint",
      absl::StrCat("SELECT conrelid::regclass::text, contype, pg_get_constraintdef(c.oid) "
                   "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                   "WHERE n.nspname = ",
                   q, " ORDER BY 1, 2, 3"));
  add("index", absl::StrCat("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = ", q,
                            " ORDER BY 1"));
  add("rls", absl::StrCat("SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class c "
                          "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ",
                          q, " AND relkind = 'r' ORDER BY 1"));
  add("policy", absl::StrCat("SELECT tablename, policyname, cmd, qual, with_check FROM "
                             "pg_policies WHERE schemaname = ",
                             q, " ORDER BY 1, 2"));
  add("grant", absl::StrCat("SELECT table_name, privilege_type FROM "
                            "information_schema.role_table_grants WHERE grantee = 'crm_app' AND "
                            "table_schema = ",
                            q, " ORDER BY 1, 2"));
  add("column_grant",
      absl::StrCat("SELECT table_name, column_name, privilege_type FROM "
                   "information_schema.column_privileges WHERE grantee = 'crm_app' AND "
                   "table_schema = ",
                   q, " AND (table_name, privilege_type) NOT IN (SELECT table_name, "
                   "privilege_type FROM information_schema.role_table_grants WHERE grantee = "
                   "'crm_app' AND table_schema = ",
                   q, ") ORDER BY 1, 2, 3"));
  return shape;
}

// The platform tables as services created them before the platform
// migrations existed (their 001..008 files): the transaction service's shape,
// with processed_events lacking tenant_id and row-level security, plus the
// gateway's audit log keyed by id alone, without request_id. Kept to test
// the in-place migration of existing databases.
std::string LegacyDdl(const std::string& s, bool gateway_audit) {
  std::string audit =
      gateway_audit
          ? "CREATE TABLE S.audit_log (id bigserial PRIMARY KEY, tenant_id uuid NOT NULL, "
            "principal text NOT NULL, method text NOT NULL, resource text NOT NULL, outcome text "
            "NOT NULL, at timestamptz NOT NULL DEFAULT now());"
          : "CREATE TABLE S.audit_log (tenant_id uuid NOT NULL, id bigserial NOT NULL, principal "
            "text NOT NULL, method text NOT NULL, resource text NOT NULL, outcome text NOT NULL, "
            "request_id text NOT NULL DEFAULT '', at timestamptz NOT NULL DEFAULT now(), PRIMARY "
            "KEY (tenant_id, id));";
  std::string ddl = absl::StrCat(
      "CREATE TABLE S.idempotency_keys (tenant_id uuid NOT NULL, request_id text NOT NULL, "
      "method text NOT NULL, resource_id text NOT NULL, created_at timestamptz NOT NULL DEFAULT "
      "now(), PRIMARY KEY (tenant_id, request_id));"
      "ALTER TABLE S.idempotency_keys ADD COLUMN fingerprint text NOT NULL DEFAULT '', ADD "
      "COLUMN error_code int, ADD COLUMN error_reason text, ADD COLUMN error_message text, ADD "
      "COLUMN error_field text, ADD COLUMN response text;",
      audit,
      "CREATE TABLE S.outbox (id bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, tenant_id "
      "uuid NOT NULL, customer_id uuid, event_type text NOT NULL, payload jsonb NOT NULL, "
      "occurred_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz);"
      "CREATE INDEX outbox_unpublished_idx ON S.outbox (id) WHERE published_at IS NULL;"
      "CREATE TABLE S.processed_events (consumer text NOT NULL, event_id uuid NOT NULL, "
      "processed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (consumer, event_id));"
      "ALTER TABLE S.idempotency_keys ENABLE ROW LEVEL SECURITY;"
      "ALTER TABLE S.idempotency_keys FORCE ROW LEVEL SECURITY;"
      "ALTER TABLE S.audit_log ENABLE ROW LEVEL SECURITY;"
      "ALTER TABLE S.audit_log FORCE ROW LEVEL SECURITY;"
      "ALTER TABLE S.outbox ENABLE ROW LEVEL SECURITY;"
      "ALTER TABLE S.outbox FORCE ROW LEVEL SECURITY;"
      "CREATE POLICY tenant_isolation ON S.idempotency_keys USING (tenant_id = "
      "nullif(current_setting('app.tenant_id', true), '')::uuid);"
      "CREATE POLICY tenant_isolation ON S.audit_log USING (tenant_id = "
      "nullif(current_setting('app.tenant_id', true), '')::uuid);"
      "CREATE POLICY tenant_isolation ON S.outbox USING (tenant_id = "
      "nullif(current_setting('app.tenant_id', true), '')::uuid);"
      "CREATE POLICY relay_read ON S.outbox FOR SELECT USING (current_setting('app.relay', true) "
      "= 'on');"
      "GRANT SELECT, INSERT, UPDATE ON S.idempotency_keys, S.outbox TO crm_app;"
      "GRANT SELECT, INSERT, UPDATE, DELETE ON S.audit_log TO crm_app;"
      "GRANT SELECT, INSERT ON S.processed_events TO crm_app;"
      "GRANT USAGE ON ALL SEQUENCES IN SCHEMA S TO crm_app;");
  return absl::StrReplaceAll(ddl, {{"S.", s + "."}, {"SCHEMA S", "SCHEMA " + s}});
}

// Runs sql as the owner inside tenant `tenant` (row-level security is
// forced on the owner too).
void AsOwnerInTenant(const std::string& tenant, const std::string& sql) {
  absl::Status s =
      ts::ExecAsOwner(absl::StrCat("SELECT set_config('app.tenant_id', '", tenant, "', true);", sql));
  INFO(s.ToString());
  REQUIRE(s.ok());
}

int64_t Count(const std::string& sql) {
  pqxx::connection c(ts::PgOwnerDsn());
  pqxx::work w(c);
  return w.exec1(sql)[0].as<int64_t>();
}

// The same within a tenant (row-level security is forced on the owner too).
int64_t CountIn(const std::string& tenant, const std::string& sql) {
  pqxx::connection c(ts::PgOwnerDsn());
  pqxx::work w(c);
  w.exec_params("SELECT set_config('app.tenant_id', $1, true)", tenant);
  return w.exec1(sql)[0].as<int64_t>();
}

// Rows of `sql` within a tenant, fields joined by '|'.
std::vector<std::string> RowsIn(const std::string& tenant, const std::string& sql) {
  pqxx::connection c(ts::PgOwnerDsn());
  pqxx::work w(c);
  w.exec_params("SELECT set_config('app.tenant_id', $1, true)", tenant);
  std::vector<std::string> out;
  for (const auto& row : w.exec(sql)) {
    std::string line;
    for (const auto& f : row) absl::StrAppend(&line, f.is_null() ? "NULL" : f.c_str(), "|");
    out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("Platform migrations create the platform's tables in a fresh schema",
          "[libs][outbox][platform]") {
  const std::string schema = ts::UniqueName("t_platform_fresh");
  const std::string service = ts::UniqueName("svc_platform");
  REQUIRE(ts::RecreateSchema(schema).ok());
  auto applied = MigratePlatform(service, schema);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  CHECK(*applied == std::vector<std::string>{"platform-001", "platform-002", "platform-003"});
  CHECK(MigratePlatform(service, schema)->empty());

  const std::vector<std::string> shape = Shape(schema);
  auto has = [&](const std::string& line) {
    return std::find(shape.begin(), shape.end(), line) != shape.end();
  };
  for (const char* t : {"idempotency_keys", "audit_log", "outbox", "processed_events"}) {
    CHECK(has(absl::StrCat("rls:", t, "|t|t|")));
  }
  // Every table carries tenant_id NOT NULL.
  CHECK(Count(absl::StrCat("SELECT count(*) FROM information_schema.columns WHERE table_schema = '",
                           schema, "' AND column_name = 'tenant_id' AND is_nullable = 'NO'")) == 4);
  // The app role only appends to the audit log and only stamps the outbox;
  // it may delete outbox rows only as the purge (a restrictive policy: the
  // outbox purge section below shows a tenant's own delete removes nothing).
  CHECK(has("grant:audit_log|INSERT|"));
  CHECK_FALSE(has("grant:audit_log|UPDATE|"));
  CHECK_FALSE(has("grant:audit_log|DELETE|"));
  CHECK_FALSE(has("grant:outbox|UPDATE|"));
  CHECK(has("grant:outbox|DELETE|"));
  CHECK(has("column_grant:outbox|published_at|UPDATE|"));
  CHECK(has("grant:idempotency_keys|DELETE|"));

  SECTION("processed events are tenant-scoped: tenant_id comes from the transaction") {
    auto pool = ts::MakeAppPool(1);
    REQUIRE(pool.ok());
    REQUIRE((*pool)
                ->WithTenantTx(kTenantA,
                               [&](pqxx::work& tx) {
                                 tx.exec(absl::StrCat(
                                     "INSERT INTO ", schema,
                                     ".processed_events (consumer, event_id) VALUES ('c', "
                                     "'33333333-3333-4333-8333-333333333333')"));
                                 return absl::OkStatus();
                               })
                .ok());
    int64_t seen_by_b = -1;
    REQUIRE((*pool)
                ->WithTenantTx(kTenantB,
                               [&](pqxx::work& tx) {
                                 seen_by_b = tx.exec1(absl::StrCat("SELECT count(*) FROM ", schema,
                                                                   ".processed_events"))[0]
                                                 .as<int64_t>();
                                 return absl::OkStatus();
                               })
                .ok());
    CHECK(seen_by_b == 0);
    // Without a tenant even the owner sees none: the policy is forced.
    CHECK(Rows(absl::StrCat("SELECT tenant_id FROM ", schema, ".processed_events")).empty());
  }
}

TEST_CASE("Platform migrations convert a schema made before them, keeping its rows",
          "[libs][outbox][platform]") {
  const bool gateway_audit = GENERATE(false, true);
  const std::string fresh = ts::UniqueName("t_platform_ref");
  const std::string legacy = ts::UniqueName("t_platform_old");
  const std::string service = ts::UniqueName("svc_platform_old");
  REQUIRE(ts::RecreateSchema(fresh).ok());
  REQUIRE(MigratePlatform(ts::UniqueName("svc_platform_ref"), fresh).ok());

  REQUIRE(ts::RecreateSchema(legacy).ok());
  REQUIRE(ts::ExecAsOwner(LegacyDdl(legacy, gateway_audit)).ok());
  // Rows of every table, as a running service left them.
  AsOwnerInTenant(kTenantA,
                  absl::StrCat("INSERT INTO ", legacy,
                               ".idempotency_keys (tenant_id, request_id, method, resource_id, "
                               "fingerprint, response) VALUES ('",
                               kTenantA, "', 'req-1', 'CreateOrder', 'order-1', 'fp', 'answer');",
                               "INSERT INTO ", legacy,
                               ".audit_log (tenant_id, principal, method, resource, outcome) "
                               "VALUES ('",
                               kTenantA, "', 'key:1', 'CreateOrder', 'order:1', 'OK');",
                               "INSERT INTO ", legacy,
                               ".outbox (event_id, tenant_id, event_type, payload) VALUES "
                               "('44444444-4444-4444-8444-444444444444', '",
                               kTenantA, "', 'order.placed', '{}');"));
  REQUIRE(ts::ExecAsOwner(absl::StrCat("INSERT INTO ", legacy,
                                       ".processed_events (consumer, event_id) VALUES "
                                       "('transaction', '55555555-5555-4555-8555-555555555555')"))
              .ok());

  auto applied = MigratePlatform(service, legacy);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  CHECK(*applied == std::vector<std::string>{"platform-001", "platform-002", "platform-003"});

  // Same catalog as a fresh install: columns, keys, indexes, policies, grants.
  const std::vector<std::string> want = Shape(fresh);
  const std::vector<std::string> got = Shape(legacy);
  for (const std::string& line : want) {
    INFO(line);
    CHECK(std::find(got.begin(), got.end(), line) != got.end());
  }
  for (const std::string& line : got) {
    INFO(line);
    CHECK(std::find(want.begin(), want.end(), line) != want.end());
  }

  // The rows are all still there.
  auto in_tenant = [&](const std::string& table) {
    pqxx::connection c(ts::PgOwnerDsn());
    pqxx::work w(c);
    w.exec(absl::StrCat("SELECT set_config('app.tenant_id', '", kTenantA, "', true)"));
    return w.exec1(absl::StrCat("SELECT count(*) FROM ", legacy, ".", table))[0].as<int64_t>();
  };
  CHECK(in_tenant("idempotency_keys") == 1);
  CHECK(in_tenant("audit_log") == 1);
  CHECK(in_tenant("outbox") == 1);
  // The processed event recorded before tenant_id existed belongs to the
  // nil tenant and still deduplicates a redelivery.
  auto pool = ts::MakeAppPool(1);
  REQUIRE(pool.ok());
  int64_t inserted = -1;
  REQUIRE((*pool)
              ->WithTenantTx(kTenantA,
                             [&](pqxx::work& tx) {
                               inserted = static_cast<int64_t>(
                                   tx.exec(absl::StrCat(
                                               "INSERT INTO ", legacy,
                                               ".processed_events (consumer, event_id) VALUES "
                                               "('transaction', "
                                               "'55555555-5555-4555-8555-555555555555') ON "
                                               "CONFLICT DO NOTHING"))
                                       .affected_rows());
                               return absl::OkStatus();
                             })
              .ok());
  CHECK(inserted == 0);
}

TEST_CASE("Migrate refuses a platform migration into a schema that is not an identifier",
          "[libs][outbox][platform]") {
  auto r = MigratePlatform(ts::UniqueName("svc_platform_bad"), "Bad-Schema; DROP");
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  auto declared = crm::pg::ReadSchemaName(ts::SourcePath("services/transaction/schema"));
  REQUIRE(declared.ok());
  CHECK(*declared == "txn");
  CHECK(crm::pg::ReadSchemaName(ts::SourcePath("tests/integration/libs/empty")).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("Idempotency keys expire after the TTL and the purge deletes them, bounded",
          "[libs][outbox][platform]") {
  const std::string schema = ts::UniqueName("t_platform_keys");
  REQUIRE(ts::RecreateSchema(schema).ok());
  REQUIRE(MigratePlatform(ts::UniqueName("svc_platform_keys"), schema).ok());
  auto pool = ts::MakeAppPool(2, crm::outbox::TransactionalWriter::Queries(schema));
  REQUIRE(pool.ok());
  crm::outbox::TransactionalWriter writer(**pool, schema);
  REQUIRE(crm::outbox::SetIdempotencyKeyTtl(absl::Hours(24)).ok());
  CHECK(crm::outbox::SetIdempotencyKeyTtl(absl::Hours(23)).code() ==
        StatusCode::kInvalidArgument);

  auto meta = [](const std::string& tenant, const std::string& key, const std::string& fp) {
    crm::outbox::WriteMeta m;
    m.tenant_id = tenant;
    m.principal = "key:test";
    m.method = "CreateThing";
    m.idempotency_key = key;
    m.fingerprint = fp;
    return m;
  };
  // Claims `key` for resource `id`; returns what the claim answered.
  auto claim = [&](const crm::outbox::WriteMeta& m, const std::string& id) {
    absl::StatusOr<std::optional<std::string>> out = std::optional<std::string>();
    absl::Status s = writer.Write(m, "thing:" + id, [&](pqxx::work& tx) {
      out = writer.ClaimIdempotencyKey(tx, m, id);
      return out.status();
    });
    REQUIRE((s.ok() || !out.ok()));
    return out;
  };
  auto age = [&](const std::string& tenant, const std::string& key, int hours) {
    AsOwnerInTenant(tenant, absl::StrCat("UPDATE ", schema,
                                         ".idempotency_keys SET created_at = now() - interval '",
                                         hours, " hours' WHERE request_id = '", key, "'"));
  };

  SECTION("within the TTL a key replays; once expired it is free again") {
    auto first = claim(meta(kTenantA, "k1", "fp-1"), "thing-1");
    REQUIRE(first.ok());
    CHECK_FALSE(first->has_value());
    auto replay = claim(meta(kTenantA, "k1", "fp-1"), "thing-2");
    REQUIRE(replay.ok());
    CHECK(replay->value_or("") == "thing-1");
    auto reused = claim(meta(kTenantA, "k1", "fp-other"), "thing-3");
    CHECK(crm::common::ReasonOf(reused.status()) == "IDEMPOTENCY_KEY_REUSED");

    age(kTenantA, "k1", 25);
    auto again = claim(meta(kTenantA, "k1", "fp-other"), "thing-4");
    INFO(again.status().ToString());
    REQUIRE(again.ok());
    CHECK_FALSE(again->has_value());  // claimed anew, for the new request
    auto replay_new = claim(meta(kTenantA, "k1", "fp-other"), "thing-5");
    REQUIRE(replay_new.ok());
    CHECK(replay_new->value_or("") == "thing-4");
  }

  SECTION("the purge deletes expired keys of every tenant, in bounded rounds") {
    for (int i = 0; i < 5; ++i) {
      REQUIRE(claim(meta(i % 2 == 0 ? kTenantA : kTenantB, absl::StrCat("old-", i), "fp"),
                    absl::StrCat("t", i))
                  .ok());
    }
    REQUIRE(claim(meta(kTenantA, "fresh", "fp"), "tf").ok());
    for (int i = 0; i < 5; ++i) age(i % 2 == 0 ? kTenantA : kTenantB, absl::StrCat("old-", i), 30);

    crm::outbox::KeyPurgeOptions options;
    options.schema = schema;
    options.batch_size = 2;
    options.max_batches = 2;
    crm::outbox::KeyPurger purger(**pool, options);
    auto first = purger.PurgeOnce();
    REQUIRE(first.ok());
    CHECK(*first == 4);  // two batches of two: the round's bound
    auto second = purger.PurgeOnce();
    REQUIRE(second.ok());
    CHECK(*second == 1);
    auto third = purger.PurgeOnce();
    REQUIRE(third.ok());
    CHECK(*third == 0);
    // The fresh key is still there and still replays.
    auto replay = claim(meta(kTenantA, "fresh", "fp"), "other");
    REQUIRE(replay.ok());
    CHECK(replay->value_or("") == "tf");
  }

  SECTION("the outbox purge deletes only rows published before the window, of every tenant") {
    // Rows published 30 h ago (3, two tenants), 2 h ago (1), never (1, 40 h old).
    auto outbox = [&](const std::string& tenant, const std::string& published) {
      AsOwnerInTenant(tenant, absl::StrCat("INSERT INTO ", schema,
                                           ".outbox (event_id, tenant_id, event_type, payload, "
                                           "occurred_at, published_at) VALUES "
                                           "(gen_random_uuid(), '",
                                           tenant,
                                           "', 'thing.done', '{}', now() - interval "
                                           "'40 hours', ",
                                           published, ")"));
    };
    for (int i = 0; i < 3; ++i) outbox(i % 2 ? kTenantB : kTenantA, "now() - interval '30 hours'");
    outbox(kTenantA, "now() - interval '2 hours'");
    outbox(kTenantB, "NULL");
    crm::outbox::KeyPurgeOptions options;
    options.schema = schema;
    options.batch_size = 2;
    options.max_batches = 1;
    crm::outbox::KeyPurger off(**pool, options);
    CHECK(*off.PurgeOutboxOnce() == 0);  // outbox_keep zero: the outbox is not purged
    options.outbox_keep = absl::Hours(25);
    crm::outbox::KeyPurger purger(**pool, options);
    CHECK(*purger.PurgeOutboxOnce() == 2);  // one batch of two: the round's bound
    CHECK(*purger.PurgeOutboxOnce() == 1);
    CHECK(*purger.PurgeOutboxOnce() == 0);
    CHECK(CountIn(kTenantA,
                  absl::StrCat("SELECT count(*) FROM ", schema,
                               ".outbox WHERE published_at > now() - interval '3 hours'")) == 1);
    CHECK(CountIn(kTenantA, absl::StrCat("SELECT count(*) FROM ", schema, ".outbox")) == 1);
    CHECK(CountIn(kTenantB, absl::StrCat("SELECT count(*) FROM ", schema,
                                         ".outbox WHERE published_at IS NULL")) == 1);
    CHECK(CountIn(kTenantB, absl::StrCat("SELECT count(*) FROM ", schema, ".outbox")) == 1);
    // The app role in its tenant (no maintenance flag) deletes nothing, and
    // the purge never deletes an unpublished row.
    auto direct = (*pool)->WithTenantTx(kTenantA, [&](pqxx::work& tx) {
      tx.exec(absl::StrCat("DELETE FROM ", schema, ".outbox"));
      return absl::OkStatus();
    });
    CHECK(direct.ok());
    CHECK(CountIn(kTenantA, absl::StrCat("SELECT count(*) FROM ", schema, ".outbox")) == 1);
  }
}

TEST_CASE("WriteOnce: the work runs once per key, its answer and its refusal replay",
          "[libs][outbox][unit_of_work]") {
  namespace ob = crm::outbox;
  const std::string schema = ts::UniqueName("t_platform_uow");
  REQUIRE(ts::RecreateSchema(schema).ok());
  REQUIRE(MigratePlatform(ts::UniqueName("svc_platform_uow"), schema).ok());
  auto pool = ts::MakeAppPool(2, ob::TransactionalWriter::Queries(schema));
  REQUIRE(pool.ok());
  ob::TransactionalWriter writer(**pool, schema);

  // The "work": counts its runs, emits one event, answers a number (or
  // refuses when told to).
  int runs = 0;
  bool refuse = false;
  const ob::AnswerCodec<int> codec = ob::SnapshotCodec<int>(
      [](const int& n) { return absl::StrCat("n=", n); },
      [](const std::string& s) -> absl::StatusOr<int> {
        int n = 0;
        if (!absl::StartsWith(s, "n=") || !absl::SimpleAtoi(s.substr(2), &n)) {
          return absl::DataLossError("corrupt");
        }
        return n;
      });
  auto write = [&](const std::string& tenant, const std::string& key, const std::string& fp) {
    ob::WriteMeta m;
    m.tenant_id = tenant;
    m.principal = "key:test";
    m.method = "CreateThing";
    m.idempotency_key = key;
    m.fingerprint = fp;
    return ob::WriteOnce<int>(writer, m, "thing", codec,
                              [&](const ob::WriteTx& w) -> absl::StatusOr<int> {
                                ++runs;
                                w.Emit("", "thing.created", absl::StrCat(R"({"run":)", runs, "}"));
                                if (refuse) {
                                  return crm::common::WithReason(
                                      absl::FailedPreconditionError("not now"), "THING_REFUSED");
                                }
                                return 100 + runs;
                              });
  };
  auto events = [&](const std::string& tenant) {
    return CountIn(tenant, absl::StrCat("SELECT count(*) FROM ", schema, ".outbox"));
  };

  SECTION("without a key every call does the work") {
    CHECK(write(kTenantA, "", "").value_or(0) == 101);
    CHECK(write(kTenantA, "", "").value_or(0) == 102);
    CHECK(runs == 2);
    CHECK(events(kTenantA) == 2);
    CHECK(CountIn(kTenantA, absl::StrCat("SELECT count(*) FROM ", schema,
                             ".audit_log WHERE outcome = 'OK'")) == 2);
  }
  SECTION("a retry answers the stored answer without doing the work again") {
    CHECK(write(kTenantA, "k1", "fp").value_or(0) == 101);
    CHECK(write(kTenantA, "k1", "fp").value_or(0) == 101);
    CHECK(runs == 1);
    CHECK(events(kTenantA) == 1);
    CHECK(CountIn(kTenantA, absl::StrCat("SELECT count(*) FROM ", schema,
                             ".idempotency_keys WHERE response = 'n=101'")) == 1);
    // Another body with the key: refused, nothing done.
    auto reused = write(kTenantA, "k1", "fp-other");
    CHECK(reused.status().code() == StatusCode::kInvalidArgument);
    CHECK(crm::common::ReasonOf(reused.status()) == "IDEMPOTENCY_KEY_REUSED");
    CHECK(runs == 1);
    // The same key in another tenant is another key.
    CHECK(write(kTenantB, "k1", "fp").value_or(0) == 102);
    CHECK(events(kTenantB) == 1);
  }
  SECTION("a refusal rolls the work back and replays the same refusal") {
    refuse = true;
    auto first = write(kTenantA, "k2", "fp");
    CHECK(first.status().code() == StatusCode::kFailedPrecondition);
    CHECK(events(kTenantA) == 0);  // rolled back with the work
    refuse = false;                // the state changed: a new call would pass
    auto retry = write(kTenantA, "k2", "fp");
    CHECK(retry.status().code() == first.status().code());
    CHECK(retry.status().message() == first.status().message());
    CHECK(crm::common::ReasonOf(retry.status()) == "THING_REFUSED");
    CHECK(runs == 1);
    CHECK(events(kTenantA) == 0);
    CHECK(CountIn(kTenantA, absl::StrCat("SELECT count(*) FROM ", schema,
                             ".audit_log WHERE outcome = 'FAILED_PRECONDITION'")) == 2);
  }
}

TEST_CASE("Write: the work's events go in after it, in order and byte for byte, with its answer",
          "[libs][outbox][unit_of_work]") {
  namespace ob = crm::outbox;
  const std::string schema = ts::UniqueName("t_platform_finish");
  REQUIRE(ts::RecreateSchema(schema).ok());
  REQUIRE(MigratePlatform(ts::UniqueName("svc_platform_finish"), schema).ok());
  auto pool = ts::MakeAppPool(2, ob::TransactionalWriter::Queries(schema));
  REQUIRE(pool.ok());
  ob::TransactionalWriter writer(**pool, schema);
  ob::WriteMeta m;
  m.tenant_id = kTenantA;
  m.principal = "key:test";
  m.request_id = "req-1";
  m.method = "CreateThing";
  m.idempotency_key = "finish-1";
  m.fingerprint = "fp";
  const std::string subject = "6f1c2a4e-0000-4000-8000-000000000001";
  // jsonb's own text form, so the stored payload reads back as written.
  const std::string tricky = R"({"p": "C:\\dir, {x}", "q": "say \"hi\"", "u": "Zürich"})";

  absl::Status s = writer.Write(m, "thing:1", [&](pqxx::work& tx) -> absl::Status {
    auto claim = writer.ClaimIdempotencyKey(tx, m, "thing:1");
    if (!claim.ok()) return claim.status();
    writer.Emit(tx, m, subject, "thing.created", R"({"n": 1})");
    writer.Emit(tx, m, "", "thing.noted", tricky);
    writer.Emit(tx, m, subject, "thing.updated", R"({"n": 3})");
    writer.SetResponse(tx, m, "answer \"1\"");
    // Inside the work the answer reads back before it is stored.
    CHECK(writer.StoredResponse(tx, m) == "answer \"1\"");
    return absl::OkStatus();
  });
  REQUIRE(s.ok());
  CHECK(RowsIn(kTenantA, absl::StrCat("SELECT event_type, customer_id, payload::text FROM ", schema,
                                      ".outbox ORDER BY id")) ==
        std::vector<std::string>{
            absl::StrCat("thing.created|", subject, "|{\"n\": 1}|"),
            absl::StrCat("thing.noted|NULL|", tricky, "|"),
            absl::StrCat("thing.updated|", subject, "|{\"n\": 3}|"),
        });
  CHECK(RowsIn(kTenantA, absl::StrCat("SELECT principal, method, resource, outcome, request_id "
                                      "FROM ",
                                      schema, ".audit_log")) ==
        std::vector<std::string>{"key:test|CreateThing|thing:1|OK|req-1|"});
  CHECK(RowsIn(kTenantA, absl::StrCat("SELECT response FROM ", schema,
                                      ".idempotency_keys WHERE request_id = 'finish-1'")) ==
        std::vector<std::string>{"answer \"1\"|"});
  // The other tenant sees none of it.
  CHECK(RowsIn(kTenantB, absl::StrCat("SELECT event_id FROM ", schema, ".outbox")).empty());

  SECTION("a write without a stored answer leaves the key's answer empty") {
    ob::WriteMeta n = m;
    n.idempotency_key = "finish-2";
    REQUIRE(writer
                .Write(n, "thing:2",
                       [&](pqxx::work& tx) -> absl::Status {
                         auto claim = writer.ClaimIdempotencyKey(tx, n, "thing:2");
                         return claim.ok() ? absl::OkStatus() : claim.status();
                       })
                .ok());
    CHECK(RowsIn(kTenantA, absl::StrCat("SELECT coalesce(response, 'none') FROM ", schema,
                                        ".idempotency_keys WHERE request_id = 'finish-2'")) ==
          std::vector<std::string>{"none|"});
  }
  SECTION("outside Write an event is inserted at once") {
    REQUIRE((*pool)
                ->WithTenantTx(kTenantA,
                               [&](pqxx::work& tx) -> absl::Status {
                                 writer.Emit(tx, m, "", "thing.direct", R"({"n": 4})");
                                 CHECK(tx.exec1(absl::StrCat("SELECT count(*) FROM ", schema,
                                                             ".outbox WHERE event_type = "
                                                             "'thing.direct'"))[0]
                                           .as<int>() == 1);
                                 return absl::OkStatus();
                               })
                .ok());
  }
}

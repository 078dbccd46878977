// PgCustomerRepository: bulk import. One transaction per batch: rows staged
// with COPY into temporary tables, then set-based INSERT / UPDATE into the
// customer tables, identities, one outbox event per customer, the audit row
// (Write) and the stored report.
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"
#include "services/customer_store/storage/json_codec.h"
#include "services/customer_store/storage/pg_customer_repository.h"

namespace crm::customer_store::storage {
namespace {

// The columns of the import_rows staging table, in COPY order.
const std::vector<std::string>& ImportRowColumns() {
  static const std::vector<std::string> kColumns = {
      "op", "id", "given_name", "family_name", "display_name", "postal_address", "birthday",
      "anniversaries", "locale", "time_zone", "lifecycle_stage", "owner", "attributes", "version",
      "ts"};
  return kColumns;
}

std::string ReportToJson(const app::ImportReport& r) {
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& e : r.errors) {
    errors.push_back({{"line", e.line}, {"field", e.field}, {"reason", e.reason}, {"message", e.message}});
  }
  return nlohmann::json{{"rows_received", r.rows_received},
                        {"created", r.created},
                        {"updated", r.updated},
                        {"failed", r.failed},
                        {"errors", errors}}
      .dump();
}

absl::StatusOr<app::ImportReport> ReportFromJson(const std::string& s) {
  app::ImportReport r;
  try {
    auto j = nlohmann::json::parse(s);
    r.rows_received = j.at("rows_received").get<int64_t>();
    r.created = j.at("created").get<int64_t>();
    r.updated = j.at("updated").get<int64_t>();
    r.failed = j.at("failed").get<int64_t>();
    for (const auto& e : j.at("errors")) {
      r.errors.push_back({e.at("line").get<int64_t>(), e.at("field").get<std::string>(),
                          e.at("reason").get<std::string>(), e.at("message").get<std::string>()});
    }
  } catch (const nlohmann::json::exception&) {
    return absl::DataLossError("stored import report is corrupt");
  }
  return r;
}

std::string OutcomeToJson(const app::ResolveOutcome& o) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& r : o.results) {
    results.push_back({{"i", r.index},
                       {"o", static_cast<int>(r.outcome)},
                       {"c", r.customer_id},
                       {"r", r.reason},
                       {"f", r.field},
                       {"m", r.message}});
  }
  return nlohmann::json{{"created", o.created}, {"results", results}}.dump();
}

absl::StatusOr<app::ResolveOutcome> OutcomeFromJson(const std::string& s) {
  app::ResolveOutcome o;
  try {
    auto j = nlohmann::json::parse(s);
    o.created = j.at("created").get<int>();
    for (const auto& r : j.at("results")) {
      domain::RefResult x;
      x.index = r.at("i").get<int>();
      x.outcome = static_cast<domain::RefOutcome>(r.at("o").get<int>());
      x.customer_id = r.at("c").get<std::string>();
      x.reason = r.at("r").get<std::string>();
      x.field = r.at("f").get<std::string>();
      x.message = r.at("m").get<std::string>();
      o.results.push_back(std::move(x));
    }
  } catch (const nlohmann::json::exception&) {
    return absl::DataLossError("stored resolution results are corrupt");
  }
  o.replayed = true;
  return o;
}

constexpr char kStageRows[] =
    "CREATE TEMP TABLE import_rows (op char(1), id uuid, given_name text, family_name text, "
    "display_name text, postal_address text, birthday text, anniversaries text, locale text, "
    "time_zone text, lifecycle_stage int2, owner text, attributes text, version int8, ts int8) "
    "ON COMMIT DROP";
constexpr char kStageIdentities[] =
    "CREATE TEMP TABLE import_identities (customer_id uuid, kind int2, source text, value text, "
    "position int4) ON COMMIT DROP";

}  // namespace

// ------------------------------------------------------------ queries
// What an import and a reference resolution run (libs/pg/pool.h, NamedQuery:
// a misspelt query does not compile, and the columns read are checked when
// the pool starts), except those on the temporary staging tables.

namespace {

const pg::NamedQuery kInsertImportBatch{
    "insert_import_batch",
    "INSERT INTO customer_store.import_batches (tenant_id, batch_id) VALUES ($1, $2) "
    "ON CONFLICT DO NOTHING RETURNING 1",
    1};
const pg::NamedQuery kSelectImportBatch{
    "select_import_batch",
    "SELECT coalesce(report::text, '') FROM customer_store.import_batches WHERE tenant_id = $1 "
    "AND batch_id = $2",
    1};
const pg::NamedQuery kCompleteImportBatch{
    "complete_import_batch",
    "UPDATE customer_store.import_batches SET report = $3::jsonb, completed_at = now() "
    "WHERE tenant_id = $1 AND batch_id = $2",
    0};
const pg::NamedQuery kSelectIdentityOwners{
    "select_identity_owners",
    "SELECT i.kind, i.source, i.value, i.customer_id::text FROM customer_store.identities i "
    "JOIN unnest($2::int2[], $3::text[], $4::text[]) AS k(kind, source, value) "
    "ON i.tenant_id = $1 AND i.kind = k.kind AND i.source = k.source AND i.value = k.value",
    4};
const pg::NamedQuery kSelectCustomersForUpdate{
    "select_customers_for_update",
    "SELECT id::text FROM customer_store.customers WHERE tenant_id = $1 AND "
    "id = ANY($2::uuid[]) ORDER BY id FOR UPDATE",
    1};
// kUnchecked: temp table import_rows exists only in its transaction, not at start-up.
const pg::NamedQuery kImportInsertCustomers{
    "import_insert_customers",
    "INSERT INTO customer_store.customers (tenant_id, id, given_name, family_name, "
    "display_name, postal_address, birthday, anniversaries, locale, time_zone, lifecycle_stage, "
    "owner, attributes, version, created_at, updated_at) SELECT $1, id, given_name, "
    "family_name, display_name, nullif(postal_address, '')::jsonb, nullif(birthday, '')::jsonb, "
    "anniversaries::jsonb, locale, time_zone, lifecycle_stage, owner, attributes::jsonb, "
    "version, 'epoch'::timestamptz + ts * interval '1 microsecond', "
    "'epoch'::timestamptz + ts * interval '1 microsecond' FROM import_rows WHERE op = 'c'",
    pg::NamedQuery::kUnchecked};
// kUnchecked: temp table import_rows exists only in its transaction, not at start-up.
const pg::NamedQuery kImportUpdateCustomers{
    "import_update_customers",
    "UPDATE customer_store.customers c SET given_name = r.given_name, family_name = "
    "r.family_name, display_name = r.display_name, postal_address = "
    "nullif(r.postal_address, '')::jsonb, birthday = nullif(r.birthday, '')::jsonb, "
    "anniversaries = r.anniversaries::jsonb, locale = r.locale, time_zone = r.time_zone, "
    "lifecycle_stage = r.lifecycle_stage, owner = r.owner, attributes = r.attributes::jsonb, "
    "version = r.version, updated_at = 'epoch'::timestamptz + r.ts * interval '1 microsecond' "
    "FROM import_rows r WHERE r.op = 'u' AND c.tenant_id = $1 AND c.id = r.id",
    pg::NamedQuery::kUnchecked};
// kUnchecked: temp table import_identities exists only in its transaction, not at start-up.
const pg::NamedQuery kImportInsertIdentities{
    "import_insert_identities",
    "INSERT INTO customer_store.identities (tenant_id, kind, source, value, customer_id, "
    "position) SELECT $1, kind, source, value, customer_id, position FROM import_identities",
    pg::NamedQuery::kUnchecked};
// ResolveCustomerRefs: each requested id -> the customer it reads as
// now (itself, or the survivor at the end of its chain of active
// merges), only when that customer exists.
const pg::NamedQuery kResolveCustomerIds{
    "resolve_customer_ids",
    "WITH RECURSIVE up(start, id, depth) AS (SELECT r.id, r.id, 0 FROM unnest($2::uuid[]) "
    "AS r(id) UNION ALL SELECT up.start, g.survivor_id, up.depth + 1 FROM "
    "customer_store.merges g JOIN up ON g.source_id = up.id WHERE g.tenant_id = $1 AND "
    "g.unmerged_at IS NULL AND up.depth < 32), last AS (SELECT DISTINCT ON (start) start, id "
    "FROM up ORDER BY start, depth DESC) SELECT last.start::text, last.id::text FROM last "
    "JOIN customer_store.customers c ON c.tenant_id = $1 AND c.id = last.id",
    2};
// kUnchecked: temp table import_rows exists only in its transaction, not at start-up.
// The payload is storage::CustomerEventJson's, built in SQL.
const pg::NamedQuery kImportInsertEvents{
    "import_insert_events",
    "INSERT INTO customer_store.outbox (event_id, tenant_id, customer_id, event_type, payload) "
    "SELECT gen_random_uuid(), $1, id, CASE op WHEN 'c' THEN 'customer.created' ELSE "
    "'customer.updated' END, jsonb_build_object('customer_id', id::text, 'version', version, "
    "'import_batch', $2::text, 'profile', jsonb_build_object('country', "
    "coalesce(x.a->>'country_code', ''), 'region', coalesce(x.a->>'region', ''), 'city', "
    "coalesce(x.a->>'locality', ''), 'postal_code', coalesce(x.a->>'postal_code', ''), "
    "'locale', locale, 'time_zone', time_zone, 'owner', owner, 'lifecycle_stage', "
    "lifecycle_stage, 'attributes', attributes::jsonb)) FROM import_rows, "
    "LATERAL (SELECT nullif(postal_address, '')::jsonb AS a) x",
    pg::NamedQuery::kUnchecked};

}  // namespace

std::vector<pg::NamedQuery> PgCustomerRepository::ImportQueries() {
  return {kInsertImportBatch,     kSelectImportBatch,        kCompleteImportBatch,
          kSelectIdentityOwners,  kSelectCustomersForUpdate, kImportInsertCustomers,
          kImportUpdateCustomers, kImportInsertIdentities,   kResolveCustomerIds,
          kImportInsertEvents};
}

absl::StatusOr<app::ImportReport> PgCustomerRepository::Import(
    const app::Actor& actor, const std::string& batch_id, int64_t rows_received,
    std::vector<domain::ImportError> row_errors, std::vector<domain::ImportRow> rows,
    const app::ImportPlanner& plan_fn, const app::ImportUpdater& apply) {
  const std::string& t = actor.tenant_id;
  app::ImportReport report;
  const std::string resource = absl::StrCat("batch:", batch_id);
  absl::Status s = writer_.Write(actor, resource, [&](pqxx::work& tx) -> absl::Status {
    report = app::ImportReport{};
    report.batch_id = batch_id;
    if (pool_.Exec(tx, kInsertImportBatch, t, batch_id).empty()) {
      pqxx::result prev = pool_.Exec(tx, kSelectImportBatch, t, batch_id);
      if (prev.empty() || prev[0][0].as<std::string>().empty()) {
        return absl::AbortedError("this batch is being imported by another call; retry later");
      }
      CRM_ASSIGN_OR_RETURN(report, ReportFromJson(prev[0][0].as<std::string>()));
      report.batch_id = batch_id;
      report.replayed = true;
      return absl::OkStatus();
    }
    // Who owns the identities of the batch now.
    std::set<domain::IdentityKey> keys;
    for (const auto& r : rows) {
      for (auto& k : domain::IdentityKeysOf(r.customer)) keys.insert(std::move(k));
    }
    std::vector<std::string> kinds, sources, values;
    for (const auto& [kind, source, value] : keys) {
      kinds.push_back(absl::StrCat(kind));
      sources.push_back(source);
      values.push_back(value);
    }
    std::map<domain::IdentityKey, std::string> owners;
    if (!keys.empty()) {
      for (const auto& r :
           pool_.Exec(tx, kSelectIdentityOwners, t, pg::TextArrayLiteral(kinds),
                      pg::TextArrayLiteral(sources), pg::TextArrayLiteral(values))) {
        owners[{r[0].as<int>(), r[1].as<std::string>(), r[2].as<std::string>()}] =
            r[3].as<std::string>();
      }
    }
    domain::ImportPlan plan = plan_fn(rows, owners);
    std::vector<domain::ImportError> errors = row_errors;
    errors.insert(errors.end(), plan.errors.begin(), plan.errors.end());

    // Existing customers to update, locked, with their identities.
    std::vector<std::string> ids;
    for (const auto& [idx, id] : plan.updates) ids.push_back(id);
    std::map<std::string, domain::Customer> existing;
    if (!ids.empty()) {
      pool_.Exec(tx, kSelectCustomersForUpdate, t, pg::TextArrayLiteral(ids));
      for (const auto& id : ids) {
        CRM_ASSIGN_OR_RETURN(domain::Customer c, LoadCustomer(tx, t, id, false));
        existing.emplace(id, std::move(c));
      }
    }

    // Decide every row first: a transaction holds one COPY stream at a time.
    struct Staged {
      char op;
      const domain::Customer* c;
      int64_t ts;
    };
    std::vector<Staged> staged;
    std::vector<domain::Customer> updated;  // owns the updated customers
    updated.reserve(plan.updates.size());
    std::vector<std::tuple<std::string, int, std::string, std::string, int>> new_identities;
    auto stage_identities = [&](const domain::Customer& c, const domain::Customer* before) {
      std::set<domain::IdentityKey> had;
      if (before) {
        for (auto& k : domain::IdentityKeysOf(*before)) had.insert(std::move(k));
      }
      std::map<int, int> position;
      for (const auto& [kind, source, value] : domain::IdentityKeysOf(c)) {
        int pos = position[kind]++;
        if (!had.count({kind, source, value})) new_identities.emplace_back(c.id, kind, source, value, pos);
      }
    };
    for (size_t idx : plan.creates) {
      const domain::Customer& c = rows[idx].customer;
      staged.push_back({'c', &c, absl::ToUnixMicros(c.create_time)});
      stage_identities(c, nullptr);
      ++report.created;
    }
    for (const auto& [idx, id] : plan.updates) {
      const domain::Customer& before = existing.at(id);
      domain::Customer after = before;
      if (absl::Status st = apply(rows[idx], after); !st.ok()) {
        errors.push_back(domain::RowError(rows[idx].line, st));
        continue;
      }
      after.version = before.version + 1;
      stage_identities(after, &before);
      updated.push_back(std::move(after));
      report.updated_ids.push_back(id);
      ++report.updated;
    }
    for (const auto& c : updated) staged.push_back({'u', &c, absl::ToUnixMicros(c.update_time)});

    tx.exec(kStageRows);
    tx.exec(kStageIdentities);
    {
      pqxx::stream_to out(tx, "import_rows", ImportRowColumns());
      for (const Staged& st : staged) {
        const domain::Customer& c = *st.c;
        out << std::make_tuple(
            std::string(1, st.op), c.id, c.given_name, c.family_name, c.display_name,
            c.postal_address ? AddressToJson(*c.postal_address) : std::string(),
            c.birthday ? DateToJson(*c.birthday) : std::string(),
            AnniversariesToJson(c.anniversaries), c.locale, c.time_zone,
            static_cast<int>(c.lifecycle_stage), c.owner, AttributesToJson(c.attributes),
            c.version, st.ts);
      }
      out.complete();
    }
    {
      pqxx::stream_to out(tx, "import_identities",
                          std::vector<std::string>{"customer_id", "kind", "source", "value",
                                                   "position"});
      for (const auto& row : new_identities) out << row;
      out.complete();
    }
    const int64_t staged_identities = static_cast<int64_t>(new_identities.size());
    // Fresh statistics on the staging tables, or the planner may take them
    // for empty and pick a plan that is quadratic on a large batch.
    tx.exec("ANALYZE import_rows");
    tx.exec("ANALYZE import_identities");
    if (report.created > 0) pool_.Exec(tx, kImportInsertCustomers, t);
    if (report.updated > 0) pool_.Exec(tx, kImportUpdateCustomers, t);
    // The owner lookup above proved every staged identity free; a concurrent
    // writer that took one since makes the plain insert fail, and the whole
    // batch with it (retryable), instead of paying ON CONFLICT on every row.
    if (staged_identities > 0) {
      try {
        pool_.Exec(tx, kImportInsertIdentities, t);
      } catch (const pqxx::unique_violation&) {  // the transaction is rolled back by the caller
        return common::WithReason(
            absl::AbortedError("identities changed while the batch ran; retry the batch"),
            "IMPORT_BATCH_CONFLICT");
      }
    }
    pool_.Exec(tx, kImportInsertEvents, t, batch_id);
    report.rows_received = rows_received;
    report.failed = static_cast<int64_t>(errors.size());
    std::sort(errors.begin(), errors.end(),
              [](const auto& a, const auto& b) { return a.line < b.line; });
    if (errors.size() > static_cast<size_t>(domain::kMaxImportErrorsReported)) {
      errors.resize(domain::kMaxImportErrorsReported);
    }
    report.errors = std::move(errors);
    pool_.Exec(tx, kCompleteImportBatch, t, batch_id, ReportToJson(report));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return report;
}

// ResolveCustomerRefs (app::CustomerResolver): the lookups, then the new
// customers staged with COPY into the import's staging tables and written by
// the import's set-based statements (customers, identities).
domain::RefLookup PgCustomerRepository::LookupRefsTx(pqxx::work& tx, const std::string& t,
                                                     const std::vector<std::string>& ids,
                                                     const std::vector<domain::IdentityKey>& keys) {
  domain::RefLookup lookup;
  if (!ids.empty()) {
    for (const auto& r : pool_.Exec(tx, kResolveCustomerIds, t, pg::TextArrayLiteral(ids))) {
      lookup.ids[r[0].as<std::string>()] = r[1].as<std::string>();
    }
  }
  if (!keys.empty()) {
    std::vector<std::string> kinds, sources, values;
    for (const auto& [kind, source, value] : keys) {
      kinds.push_back(absl::StrCat(kind));
      sources.push_back(source);
      values.push_back(value);
    }
    for (const auto& r : pool_.Exec(tx, kSelectIdentityOwners, t, pg::TextArrayLiteral(kinds),
                                    pg::TextArrayLiteral(sources), pg::TextArrayLiteral(values))) {
      lookup.owners[{r[0].as<int>(), r[1].as<std::string>(), r[2].as<std::string>()}] =
          r[3].as<std::string>();
    }
  }
  return lookup;
}

absl::StatusOr<domain::RefLookup> PgCustomerRepository::LookupRefs(
    const std::string& tenant, const std::vector<std::string>& ids,
    const std::vector<domain::IdentityKey>& keys) {
  domain::RefLookup out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = LookupRefsTx(tx, tenant, ids, keys);
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgCustomerRepository::InsertNewCustomers(
    pqxx::work& tx, const std::string& t, const std::vector<domain::NewCustomer>& creates) {
  if (creates.empty()) return absl::OkStatus();
  tx.exec(kStageRows);
  tx.exec(kStageIdentities);
  {
    pqxx::stream_to out(tx, "import_rows", ImportRowColumns());
    for (const domain::NewCustomer& n : creates) {
      const domain::Customer& c = n.customer;
      out << std::make_tuple(std::string("c"), c.id, c.given_name, c.family_name, c.display_name,
                             std::string(), std::string(), AnniversariesToJson(c.anniversaries),
                             c.locale, c.time_zone, static_cast<int>(c.lifecycle_stage), c.owner,
                             AttributesToJson(c.attributes), c.version,
                             absl::ToUnixMicros(c.create_time));
    }
    out.complete();
  }
  {
    pqxx::stream_to out(
        tx, "import_identities",
        std::vector<std::string>{"customer_id", "kind", "source", "value", "position"});
    for (const domain::NewCustomer& n : creates) {
      std::map<int, int> position;
      for (const auto& [kind, source, value] : domain::IdentityKeysOf(n.customer)) {
        out << std::make_tuple(n.customer.id, kind, source, value, position[kind]++);
      }
    }
    out.complete();
  }
  pool_.Exec(tx, kImportInsertCustomers, t);
  try {
    pool_.Exec(tx, kImportInsertIdentities, t);
  } catch (const pqxx::unique_violation&) {  // rolled back by the caller
    return common::WithReason(
        absl::AbortedError("identities changed while the references were resolved; retry"),
        "IMPORT_BATCH_CONFLICT");
  }
  return absl::OkStatus();
}

outbox::AnswerCodec<app::ResolveOutcome> PgCustomerRepository::ResolveCodec() {
  return outbox::SnapshotCodec<app::ResolveOutcome>(OutcomeToJson, OutcomeFromJson);
}

}  // namespace crm::customer_store::storage

#include "services/personalization/storage/pg_personalization_repository.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/outbox/writer.h"
#include "libs/pg/sql.h"
#include "services/personalization/schema_name.h"

namespace crm::personalization::storage {
namespace {

// Rows of one product per statement: a batch holds few catalog changes.
const pg::NamedQuery kUpsertProduct{
    "upsert_product",
    "INSERT INTO personalization.products (tenant_id, sku, category_path, active, version) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, sku) DO UPDATE SET category_path = "
    "EXCLUDED.category_path, active = EXCLUDED.active, version = EXCLUDED.version WHERE "
    "personalization.products.version < EXCLUDED.version RETURNING 1",
    1};
const pg::NamedQuery kInsertCustomers{
    "insert_customers",
    "INSERT INTO personalization.customers (tenant_id, customer_id) SELECT $1, c::uuid FROM "
    "unnest($2::text[]) AS c ON CONFLICT DO NOTHING",
    0};
const pg::NamedQuery kUpsertConsent{
    "upsert_profiling_consent",
    absl::StrCat("INSERT INTO personalization.profiling_consents (tenant_id, customer_id, channel, "
                 "status, recorded_at) VALUES ($1, $2, $3, $4, ",
                 pg::MicrosParam(5),
                 ") ON CONFLICT (tenant_id, customer_id, channel) DO UPDATE SET status = "
                 "EXCLUDED.status, recorded_at = EXCLUDED.recorded_at WHERE "
                 "personalization.profiling_consents.recorded_at <= EXCLUDED.recorded_at "
                 "RETURNING 1"),
    1};
// The rows not stored yet, of customers not erased: what comes back is new
// (seq numbers them in the order given, the order the engine learns them).
const pg::NamedQuery kInsertInteractions{
    "insert_interactions",
    "INSERT INTO personalization.interactions (tenant_id, source, sku, user_key, signal, "
    "occurred_at) SELECT $1, x.source, x.sku, x.user_key, x.signal, 'epoch'::timestamptz + "
    "x.micros * interval '1 microsecond' FROM unnest($2::text[], $3::text[], $4::text[], "
    "$5::int2[], $6::int8[]) WITH ORDINALITY AS x(source, sku, user_key, signal, micros, n) "
    "WHERE NOT EXISTS (SELECT 1 FROM personalization.customers c WHERE c.tenant_id = $1 AND "
    "c.customer_id::text = x.user_key AND c.erased) ORDER BY x.n ON CONFLICT DO NOTHING "
    "RETURNING source, sku",
    2};
// Erasure: the tombstone, then the customer's rows.
const pg::NamedQuery kEraseCustomers{
    "erase_customers",
    "INSERT INTO personalization.customers (tenant_id, customer_id, erased) SELECT $1, c::uuid, "
    "true FROM unnest($2::text[]) AS c ON CONFLICT (tenant_id, customer_id) DO UPDATE SET "
    "erased = true",
    0};
const pg::NamedQuery kDeleteInteractionsOf{
    "delete_interactions_of",
    "DELETE FROM personalization.interactions WHERE tenant_id = $1 AND user_key = "
    "ANY($2::text[])",
    0};
const pg::NamedQuery kDeleteConsentsOf{
    "delete_profiling_consents_of",
    "DELETE FROM personalization.profiling_consents WHERE tenant_id = $1 AND customer_id::text = "
    "ANY($2::text[])",
    0};

// The rebuild, across tenants (schema 001: scheduler_read).
const pg::NamedQuery kSchedulerOn{"scheduler_on", "SELECT set_config('app.scheduler', 'on', true)",
                                  1};
const pg::NamedQuery kLoadProducts{
    "load_products",
    "SELECT tenant_id::text, sku, category_path, active, version FROM personalization.products",
    5};
const pg::NamedQuery kLoadCustomers{
    "load_customers",
    "SELECT tenant_id::text, customer_id::text FROM personalization.customers WHERE NOT erased", 2};
const pg::NamedQuery kLoadConsents{
    "load_profiling_consents",
    absl::StrCat("SELECT tenant_id::text, customer_id::text, channel, status, ",
                 pg::MicrosColumn("recorded_at"), " FROM personalization.profiling_consents"),
    5};
const pg::NamedQuery kLoadInteractions{
    "load_interactions",
    absl::StrCat("SELECT tenant_id::text, source, sku, user_key, signal, ",
                 pg::MicrosColumn("occurred_at"),
                 " FROM personalization.interactions ORDER BY seq"),
    6};

}  // namespace

std::vector<pg::NamedQuery> PgPersonalizationRepository::Queries() {
  // kLoadInteractions runs through a cursor: listed for its column check.
  std::vector<pg::NamedQuery> q = {kUpsertProduct,      kInsertCustomers, kUpsertConsent,
                                   kInsertInteractions, kEraseCustomers,  kDeleteInteractionsOf,
                                   kDeleteConsentsOf,   kSchedulerOn,     kLoadProducts,
                                   kLoadCustomers,      kLoadConsents,    kLoadInteractions};
  for (pg::NamedQuery& w : outbox::TransactionalWriter::Queries(kSchema)) q.push_back(std::move(w));
  return q;
}

absl::StatusOr<app::StoredBatch> PgPersonalizationRepository::Store(const std::string& tenant,
                                                                    const app::TenantBatch& b) {
  app::StoredBatch out;
  absl::Status s = pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = app::StoredBatch{};
    for (const app::ProductRow& p : b.products) {
      out.newer_products.push_back(
          !pool_.Exec(tx, kUpsertProduct, tenant, p.sku, p.category_path, p.active, p.version)
               .empty());
    }
    if (!b.known_customers.empty()) {
      pool_.Exec(tx, kInsertCustomers, tenant, pg::TextArrayLiteral(b.known_customers));
    }
    for (const app::ProfilingConsentRow& c : b.consents) {
      out.newer_consents.push_back(!pool_.Exec(tx, kUpsertConsent, tenant, c.customer_id, c.channel,
                                               c.status, absl::ToUnixMicros(c.time))
                                        .empty());
    }
    out.new_interactions.assign(b.interactions.size(), false);
    if (!b.interactions.empty()) {
      std::vector<std::string> sources, skus, users, signals, micros;
      for (const app::InteractionRow& r : b.interactions) {
        sources.push_back(r.source);
        skus.push_back(r.sku);
        users.push_back(r.user_key);
        signals.push_back(absl::StrCat(static_cast<int>(r.signal)));
        micros.push_back(absl::StrCat(absl::ToUnixMicros(r.time)));
      }
      pqxx::result inserted = pool_.Exec(
          tx, kInsertInteractions, tenant, pg::TextArrayLiteral(sources),
          pg::TextArrayLiteral(skus), pg::TextArrayLiteral(users), pg::TextArrayLiteral(signals),
          pg::TextArrayLiteral(micros));
      absl::flat_hash_set<std::pair<std::string, std::string>> fresh;
      for (const auto& row : inserted) {
        fresh.emplace(row[0].as<std::string>(), row[1].as<std::string>());
      }
      // A batch may repeat a row (an event delivered twice in one read): the first is new.
      for (std::size_t k = 0; k < b.interactions.size(); ++k) {
        const app::InteractionRow& r = b.interactions[k];
        out.new_interactions[k] = fresh.erase({r.source, r.sku}) > 0;
      }
    }
    if (!b.erased_customers.empty()) {
      const std::string ids = pg::TextArrayLiteral(b.erased_customers);
      pool_.Exec(tx, kEraseCustomers, tenant, ids);
      pool_.Exec(tx, kDeleteInteractionsOf, tenant, ids);
      pool_.Exec(tx, kDeleteConsentsOf, tenant, ids);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status PgPersonalizationRepository::Load(app::StoredRows& rows) {
  return pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    pool_.Exec(tx, kSchedulerOn);
    for (const auto& r : pool_.Exec(tx, kLoadProducts)) {
      rows.Product(r[0].as<std::string>(),
                   app::ProductRow{r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<bool>(),
                                   r[4].as<std::int64_t>()});
    }
    for (const auto& r : pool_.Exec(tx, kLoadCustomers)) {
      rows.Customer(r[0].as<std::string>(), r[1].as<std::string>());
    }
    for (const auto& r : pool_.Exec(tx, kLoadConsents)) {
      rows.Consent(r[0].as<std::string>(),
                   app::ProfilingConsentRow{r[1].as<std::string>(), r[2].as<std::string>(),
                                            r[3].as<std::string>(),
                                            absl::FromUnixMicros(r[4].as<std::int64_t>())});
    }
    // Through a cursor, 10,000 rows a fetch: the interactions may be many.
    tx.exec(absl::StrCat("DECLARE load_interactions NO SCROLL CURSOR FOR ", kLoadInteractions.sql));
    for (;;) {
      pqxx::result batch = tx.exec("FETCH 10000 FROM load_interactions");
      if (batch.empty()) break;
      for (const auto& r : batch) {
        rows.Interaction(r[0].as<std::string>(),
                         app::InteractionRow{r[3].as<std::string>(), r[2].as<std::string>(),
                                             r[1].as<std::string>(),
                                             static_cast<domain::Signal>(r[4].as<int>()),
                                             absl::FromUnixMicros(r[5].as<std::int64_t>())});
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace crm::personalization::storage

#include "services/segmentation/storage/pg_fact_repository.h"

#include "libs/common/status_macros.h"
#include "libs/events/consumer.h"
#include "libs/pg/sql.h"
#include "services/segmentation/schema_name.h"

namespace crm::segmentation::storage {
namespace {

const std::string kPurchaseColumns = "order_id::text, customer_id::text, " +
                                     pg::MicrosColumn("placed_at") +
                                     ", currency_code, net_minor, status, version";
const pg::NamedQuery kSelectPurchases{
    "select_purchases",
    "SELECT " + kPurchaseColumns + " FROM segmentation.purchases WHERE tenant_id = $1", 7};
const pg::NamedQuery kKnowsCustomer{
    "knows_customer",
    "SELECT EXISTS (SELECT 1 FROM segmentation.customers WHERE tenant_id = $1 "
    "AND customer_id = $2::uuid) OR EXISTS (SELECT 1 FROM segmentation.purchases "
    "WHERE tenant_id = $1 AND customer_id = $2::uuid)",
    1};
// The newest version of an order wins; its customer is the survivor of a
// merge of the customer it names, if any.
const pg::NamedQuery kRecordOrder{
    "record_order",
    "INSERT INTO segmentation.purchases AS p (tenant_id, order_id, customer_id, placed_by, "
    "placed_at, currency_code, net_minor, status, version) "
    "SELECT $1, $2::uuid, coalesce(m.survivor_id, $3::uuid), $3::uuid, " +
        pg::MicrosParam(4) +
        ", $5, $6, $7, $8 FROM (SELECT 1) one LEFT JOIN segmentation.merges m "
        "ON m.tenant_id = $1 AND m.source_id = $3::uuid "
        "ON CONFLICT (tenant_id, order_id) DO UPDATE SET placed_at = EXCLUDED.placed_at, "
        "currency_code = EXCLUDED.currency_code, net_minor = EXCLUDED.net_minor, "
        "status = EXCLUDED.status, version = EXCLUDED.version WHERE p.version < EXCLUDED.version",
    0};
const pg::NamedQuery kAddCustomer{
    "add_customer",
    "INSERT INTO segmentation.customers (tenant_id, customer_id) VALUES ($1, $2::uuid) "
    "ON CONFLICT DO NOTHING",
    0};
const pg::NamedQuery kEraseCustomers{
    "erase_customers",
    "WITH ids AS (SELECT unnest($2::uuid[]) AS id), "
    "c AS (DELETE FROM segmentation.customers WHERE tenant_id = $1 "
    "AND customer_id IN (SELECT id FROM ids)), "
    "m AS (DELETE FROM segmentation.merges WHERE tenant_id = $1 "
    "AND (source_id IN (SELECT id FROM ids) OR survivor_id IN (SELECT id FROM ids))) "
    "DELETE FROM segmentation.purchases WHERE tenant_id = $1 "
    "AND (customer_id IN (SELECT id FROM ids) OR placed_by IN (SELECT id FROM ids))",
    0};
// Merge: the source's orders (and those of customers merged into it) count
// for the survivor.
const pg::NamedQuery kMergeCustomer{
    "merge_customer",
    "WITH m AS (INSERT INTO segmentation.merges (tenant_id, source_id, survivor_id) "
    "VALUES ($1, $2::uuid, $3::uuid) ON CONFLICT (tenant_id, source_id) "
    "DO UPDATE SET survivor_id = EXCLUDED.survivor_id), "
    "chain AS (UPDATE segmentation.merges SET survivor_id = $3::uuid "
    "WHERE tenant_id = $1 AND survivor_id = $2::uuid) "
    "UPDATE segmentation.purchases SET customer_id = $3::uuid "
    "WHERE tenant_id = $1 AND customer_id = $2::uuid",
    0};
// Unmerge: the restored customer's own orders count for it again.
const pg::NamedQuery kUnmergeCustomer{
    "unmerge_customer",
    "WITH m AS (DELETE FROM segmentation.merges WHERE tenant_id = $1 AND source_id = $2::uuid) "
    "UPDATE segmentation.purchases SET customer_id = $2::uuid "
    "WHERE tenant_id = $1 AND placed_by = $2::uuid AND customer_id = $3::uuid",
    0};

std::vector<domain::PurchaseRecord> RecordsOf(const pqxx::result& r) {
  std::vector<domain::PurchaseRecord> out;
  out.reserve(r.size());
  for (const pqxx::row& row : r) {
    domain::PurchaseRecord p;
    p.order_id = row[0].as<std::string>();
    p.customer_id = row[1].as<std::string>();
    p.placed_at = absl::FromUnixMicros(row[2].as<int64_t>());
    p.currency_code = row[3].as<std::string>();
    p.net_minor = row[4].as<int64_t>();
    p.status = row[5].as<std::string>();
    p.version = row[6].as<int64_t>();
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

std::vector<pg::NamedQuery> PgFactRepository::Queries() {
  return {kSelectPurchases, kKnowsCustomer, kRecordOrder,    kAddCustomer,
          kEraseCustomers,  kMergeCustomer, kUnmergeCustomer};
}

absl::StatusOr<std::vector<domain::PurchaseRecord>> PgFactRepository::Purchases(
    pg::Pool& pool, pqxx::work& tx, const std::string& tenant) {
  return RecordsOf(pool.Exec(tx, kSelectPurchases, tenant));
}

absl::StatusOr<std::vector<domain::PurchaseRecord>> PgFactRepository::Purchases(
    const std::string& tenant) {
  std::vector<domain::PurchaseRecord> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(out, Purchases(pool_, tx, tenant));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<bool> PgFactRepository::KnowsCustomer(const std::string& tenant,
                                                     const std::string& customer_id) {
  bool known = false;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    known = pool_.Exec(tx, kKnowsCustomer, tenant, customer_id)[0][0].as<bool>();
    return absl::OkStatus();
  }));
  return known;
}

absl::Status PgFactRepository::RecordOrders(const std::string& tenant,
                                            const std::vector<events::OrderFact>& facts) {
  return pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    for (const events::OrderFact& f : facts) {
      pool_.Exec(tx, kRecordOrder, tenant, f.order_id, f.customer_id,
                 absl::ToUnixMicros(f.placed_time), f.currency_code, f.net_minor, f.status,
                 f.version);
    }
    return absl::OkStatus();
  });
}

absl::Status PgFactRepository::ApplyCustomerChange(const events::CustomerChange& c) {
  return pool_.WithTenantTx(c.tenant_id, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(bool first,
                         events::MarkProcessed(tx, kSchema, "segmentation", c.event_id));
    if (!first) return absl::OkStatus();
    switch (c.kind) {
      case events::CustomerChange::Kind::kCreated:
        pool_.Exec(tx, kAddCustomer, c.tenant_id, c.customer_id);
        break;
      case events::CustomerChange::Kind::kErased:
        pool_.Exec(tx, kEraseCustomers, c.tenant_id, pg::TextArrayLiteral(c.erased_ids));
        break;
      case events::CustomerChange::Kind::kMerged:
        pool_.Exec(tx, kMergeCustomer, c.tenant_id, c.other_id, c.customer_id);
        break;
      case events::CustomerChange::Kind::kUnmerged:
        pool_.Exec(tx, kUnmergeCustomer, c.tenant_id, c.other_id, c.customer_id);
        break;
    }
    return absl::OkStatus();
  });
}

}  // namespace crm::segmentation::storage

#include "services/segmentation/storage/pg_fact_repository.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/id.h"
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
const pg::NamedQuery kSelectPurchasesOf{
    "select_purchases_of",
    "SELECT " + kPurchaseColumns +
        " FROM segmentation.purchases WHERE tenant_id = $1 AND customer_id = $2::uuid",
    7};
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
    "placed_at, currency_code, net_minor, status, version, skus) "
    "SELECT $1, $2::uuid, coalesce(m.survivor_id, $3::uuid), $3::uuid, " +
        pg::MicrosParam(4) +
        ", $5, $6, $7, $8, $9::text[] FROM (SELECT 1) one LEFT JOIN segmentation.merges m "
        "ON m.tenant_id = $1 AND m.source_id = $3::uuid "
        "ON CONFLICT (tenant_id, order_id) DO UPDATE SET placed_at = EXCLUDED.placed_at, "
        "currency_code = EXCLUDED.currency_code, net_minor = EXCLUDED.net_minor, "
        "status = EXCLUDED.status, version = EXCLUDED.version, skus = EXCLUDED.skus "
        "WHERE p.version < EXCLUDED.version",
    0};
// The newest version of a catalog product wins.
const pg::NamedQuery kRecordProduct{
    "record_product",
    "INSERT INTO segmentation.products AS p (tenant_id, sku, version, category_path) "
    "VALUES ($1, $2, $3, $4::text[]) ON CONFLICT (tenant_id, sku) DO UPDATE SET "
    "version = EXCLUDED.version, category_path = EXCLUDED.category_path "
    "WHERE p.version < EXCLUDED.version",
    0};
const pg::NamedQuery kSelectProductCategories{
    "select_product_categories",
    "SELECT sku, array_to_string(category_path, '/') FROM segmentation.products "
    "WHERE tenant_id = $1 AND cardinality(category_path) > 0",
    2};
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
    "k AS (DELETE FROM segmentation.consents WHERE tenant_id = $1 "
    "AND customer_id IN (SELECT id FROM ids)), "
    "p AS (DELETE FROM segmentation.profiles WHERE tenant_id = $1 "
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

// Behaviour (schema/004_behaviour.sql). A visitor's anonymous facts and its
// link are written under a transaction-level advisory lock of the visitor
// (taken in key order), so an anonymous fact and the visitor's link (or its
// customer's erasure) committing concurrently cannot miss each other.
const std::string kVisitorLockKey = "hashtext($1::text || ':' || v)";
const std::string kLockVisitorsSql =
    "SELECT pg_advisory_xact_lock(hashtext('segmentation.visitor'), k) FROM (SELECT DISTINCT ";
// behaviour.settings_updated (010_behaviour_retention.sql): the newest
// version wins; a tenant without a settings row gets the defaults with it.
const pg::NamedQuery kRecordBehaviourRetention{
    "record_behaviour_retention",
    "INSERT INTO segmentation.settings (tenant_id, profiling_requires_opt_in, time_zone, version, "
    "updated_at, behaviour_retention_days, behaviour_retention_version) VALUES ($1, false, 'UTC', "
    "0, 'epoch', $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET behaviour_retention_days = "
    "EXCLUDED.behaviour_retention_days, behaviour_retention_version = "
    "EXCLUDED.behaviour_retention_version WHERE settings.behaviour_retention_version < "
    "EXCLUDED.behaviour_retention_version",
    0};
// Across tenants: the caller set app.scheduler (scheduler_read).
const pg::NamedQuery kTenantsWithBehaviourRetention{
    "select_tenants_with_behaviour_retention",
    "SELECT tenant_id::text, behaviour_retention_days FROM segmentation.settings WHERE "
    "behaviour_retention_days > 0 ORDER BY tenant_id",
    2};
// One step: blocks [$3, $3 + $4) (a TID range scan), and the table's size
// in blocks.
const pg::NamedQuery kPurgeBehaviour{
    "purge_behaviour",
    absl::StrCat(
        "WITH d AS (DELETE FROM segmentation.behaviour WHERE tenant_id = $1 AND "
        "occurred_at < ",
        pg::MicrosParam(2),
        " AND ctid >= ('(' || $3::int8 || ',0)')::tid AND ctid < ('(' || ($3::int8 + "
        "$4::int8) || ',0)')::tid RETURNING 1) SELECT (SELECT count(*) FROM d), "
        "pg_relation_size('segmentation.behaviour') / current_setting('block_size')::int8"),
    2};
const pg::NamedQuery kLockVisitors{
    "lock_visitors",
    kLockVisitorsSql + kVisitorLockKey + " AS k FROM unnest($2::text[]) v ORDER BY k) s"};
const pg::NamedQuery kLockLinkedVisitors{
    "lock_linked_visitors",
    kLockVisitorsSql + kVisitorLockKey +
        " AS k FROM (SELECT visitor_id AS v FROM segmentation.visitor_links WHERE tenant_id = $1 "
        "AND customer_id = ANY($2::uuid[])) l ORDER BY k) s"};
// Once per event id. The subject: the customer the fact names, else its
// visitor's linked customer; it counts for the subject's survivor, if any.
const pg::NamedQuery kRecordBehaviour{
    "record_behaviour",
    "INSERT INTO segmentation.behaviour (tenant_id, event_id, customer_id, subject_id, "
    "visitor_id, type, occurred_at, sku, category_path, value, currency_code, quantity, campaign) "
    "SELECT $1, e.id::uuid, coalesce(m.survivor_id, s.subject), s.subject, e.vid, e.type, "
    "'epoch'::timestamptz + e.occ * interval '1 microsecond', nullif(e.sku, ''), "
    "nullif(e.cat, '')::text[], nullif(e.val, 0), nullif(e.cur, ''), nullif(e.qty, 0), "
    "nullif(e.camp, '') FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int8[], "
    "$7::text[], $8::text[], $9::float8[], $10::text[], $11::int8[], $12::text[]) "
    "AS e(id, cid, vid, type, occ, sku, cat, val, cur, qty, camp) "
    "CROSS JOIN LATERAL (SELECT coalesce(nullif(e.cid, '')::uuid, (SELECT l.customer_id FROM "
    "segmentation.visitor_links l WHERE l.tenant_id = $1 AND l.visitor_id = e.vid)) AS subject) s "
    "LEFT JOIN segmentation.merges m ON m.tenant_id = $1 AND m.source_id = s.subject "
    "ON CONFLICT (tenant_id, event_id) DO NOTHING",
    0};
const pg::NamedQuery kAddVisitorLink{
    "add_visitor_link",
    "INSERT INTO segmentation.visitor_links (tenant_id, visitor_id, customer_id) "
    "VALUES ($1, $2, $3::uuid) ON CONFLICT DO NOTHING",
    0};
// The visitor's anonymous facts count for its linked customer (its survivor).
const pg::NamedQuery kStitchVisitor{
    "stitch_visitor",
    "UPDATE segmentation.behaviour b SET subject_id = l.customer_id, "
    "customer_id = coalesce(m.survivor_id, l.customer_id) FROM segmentation.visitor_links l "
    "LEFT JOIN segmentation.merges m ON m.tenant_id = l.tenant_id AND m.source_id = l.customer_id "
    "WHERE l.tenant_id = $1 AND l.visitor_id = $2 AND b.tenant_id = $1 AND b.visitor_id = $2 "
    "AND b.customer_id IS NULL",
    0};
const pg::NamedQuery kMergeBehaviour{"merge_behaviour",
                                     "UPDATE segmentation.behaviour SET customer_id = $3::uuid "
                                     "WHERE tenant_id = $1 AND customer_id = $2::uuid",
                                     0};
const pg::NamedQuery kUnmergeBehaviour{
    "unmerge_behaviour",
    "UPDATE segmentation.behaviour SET customer_id = $2::uuid "
    "WHERE tenant_id = $1 AND subject_id = $2::uuid AND customer_id = $3::uuid",
    0};
const pg::NamedQuery kEraseBehaviour{
    "erase_behaviour",
    "WITH l AS (DELETE FROM segmentation.visitor_links WHERE tenant_id = $1 "
    "AND customer_id = ANY($2::uuid[])) DELETE FROM segmentation.behaviour WHERE tenant_id = $1 "
    "AND (customer_id = ANY($2::uuid[]) OR subject_id = ANY($2::uuid[]))",
    0};
const std::string kBehaviourColumns =
    "customer_id::text, type, " + pg::MicrosColumn("occurred_at") +
    ", coalesce(sku, ''), array_to_json(coalesce(category_path, '{}'))::text, coalesce(value, 0), "
    "coalesce(currency_code::text, ''), coalesce(quantity, 0), coalesce(campaign, '')";
const pg::NamedQuery kSelectBehaviour{
    "select_behaviour",
    "SELECT " + kBehaviourColumns +
        " FROM segmentation.behaviour WHERE tenant_id = $1 AND customer_id IS NOT NULL "
        "ORDER BY customer_id, occurred_at, event_id",
    9};
// The newest recorded status wins (a replayed older event changes nothing).
const pg::NamedQuery kRecordConsent{
    "record_consent",
    "INSERT INTO segmentation.consents AS c (tenant_id, customer_id, channel, purpose, status, "
    "recorded_at) VALUES ($1, $2::uuid, $3, $4, $5, " +
        pg::MicrosParam(6) +
        ") ON CONFLICT (tenant_id, customer_id, channel, purpose) DO UPDATE SET "
        "status = EXCLUDED.status, recorded_at = EXCLUDED.recorded_at "
        "WHERE c.recorded_at <= EXCLUDED.recorded_at",
    0};
// The newest version of the customer's record wins.
const pg::NamedQuery kRecordProfile{
    "record_profile",
    "INSERT INTO segmentation.profiles AS p (tenant_id, customer_id, version, fields) "
    "VALUES ($1, $2::uuid, $3, $4::jsonb) ON CONFLICT (tenant_id, customer_id) DO UPDATE SET "
    "version = EXCLUDED.version, fields = EXCLUDED.fields WHERE p.version < EXCLUDED.version",
    0};
const pg::NamedQuery kSelectProfiles{
    "select_profiles",
    "SELECT customer_id::text, fields::text FROM segmentation.profiles WHERE tenant_id = $1", 2};
const pg::NamedQuery kSelectProfilesOf{
    "select_profiles_of",
    "SELECT customer_id::text, fields::text FROM segmentation.profiles "
    "WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[])",
    2};
const pg::NamedQuery kSelectConsents{
    "select_consents",
    "SELECT customer_id::text, channel, purpose, status FROM segmentation.consents "
    "WHERE tenant_id = $1",
    4};
const pg::NamedQuery kSelectConsentsOf{
    "select_consents_of",
    "SELECT customer_id::text, channel, purpose, status FROM segmentation.consents "
    "WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[])",
    4};
const pg::NamedQuery kSelectBehaviourOf{
    "select_behaviour_of",
    "SELECT " + kBehaviourColumns +
        " FROM segmentation.behaviour WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) "
        "ORDER BY customer_id, occurred_at, event_id",
    9};

absl::StatusOr<std::vector<domain::CustomerEvent>> EventsOf(const std::string& tenant,
                                                            const pqxx::result& r) {
  std::vector<domain::CustomerEvent> out;
  out.reserve(r.size());
  for (const pqxx::row& row : r) {
    events::BehaviourFact f;
    f.tenant_id = tenant;
    f.customer_id = row[0].as<std::string>();
    f.type = row[1].as<std::string>();
    f.occurred_time = absl::FromUnixMicros(row[2].as<int64_t>());
    f.sku = row[3].as<std::string>();
    try {
      f.category_path =
          nlohmann::json::parse(row[4].as<std::string>()).get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception&) {
      return absl::DataLossError("stored behaviour fact with an unreadable category path");
    }
    f.value = row[5].as<double>();
    f.currency_code = row[6].as<std::string>();
    f.quantity = row[7].as<int64_t>();
    f.utm_campaign = row[8].as<std::string>();
    out.push_back({f.customer_id, domain::SegmentEventOf(f)});
  }
  return out;
}

std::string ProfileJson(const std::map<std::string, events::ProfileValue>& fields) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, v] : fields) {
    std::visit([&, &name = name](const auto& x) { j[name] = x; }, v);
  }
  return j.dump();
}

absl::StatusOr<domain::ProfileFields> ProfileFieldsOf(const std::string& text) {
  domain::ProfileFields out;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object()) return absl::DataLossError("stored profile that is not a JSON object");
    for (const auto& [name, v] : j.items()) {
      if (v.is_boolean()) {
        out[name] = v.get<bool>();
      } else if (v.is_number()) {
        out[name] = v.get<double>();
      } else {
        out[name] = v.get<std::string>();
      }
    }
  } catch (const nlohmann::json::exception&) {
    return absl::DataLossError("stored profile that is not a JSON object of values");
  }
  return out;
}

domain::CustomerConsent ConsentOf(const pqxx::row& row) {
  return {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
          row[3].as<std::string>()};
}

absl::StatusOr<domain::CustomerProfile> ProfileOf(const pqxx::row& row) {
  CRM_ASSIGN_OR_RETURN(domain::ProfileFields fields, ProfileFieldsOf(row[1].as<std::string>()));
  return domain::CustomerProfile{row[0].as<std::string>(), std::move(fields)};
}

// The ids that are UUIDs (others match no row).
std::vector<std::string> UuidsOf(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const std::string& id : ids) {
    if (common::IsUuid(id)) out.push_back(id);
  }
  return out;
}

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
  return {kSelectPurchases,
          kSelectPurchasesOf,
          kKnowsCustomer,
          kRecordOrder,
          kAddCustomer,
          kEraseCustomers,
          kMergeCustomer,
          kUnmergeCustomer,
          kLockVisitors,
          kLockLinkedVisitors,
          kRecordBehaviour,
          kAddVisitorLink,
          kStitchVisitor,
          kMergeBehaviour,
          kUnmergeBehaviour,
          kEraseBehaviour,
          kSelectBehaviour,
          kSelectBehaviourOf,
          kRecordConsent,
          kSelectConsents,
          kSelectConsentsOf,
          kRecordProfile,
          kSelectProfiles,
          kSelectProfilesOf,
          kRecordProduct,
          kSelectProductCategories,
          kRecordBehaviourRetention,
          kTenantsWithBehaviourRetention,
          kPurgeBehaviour};
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

absl::StatusOr<std::vector<domain::PurchaseRecord>> PgFactRepository::PurchasesOf(
    const std::string& tenant, const std::string& customer_id) {
  std::vector<domain::PurchaseRecord> out;
  if (!common::IsUuid(customer_id)) return out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = RecordsOf(pool_.Exec(tx, kSelectPurchasesOf, tenant, customer_id));
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
                 f.version, pg::TextArrayLiteral(domain::BoughtSkus(f.lines)));
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
      case events::CustomerChange::Kind::kUpdated:
        pool_.Exec(tx, kAddCustomer, c.tenant_id, c.customer_id);
        if (c.has_profile) {
          pool_.Exec(tx, kRecordProfile, c.tenant_id, c.customer_id, c.version,
                     ProfileJson(c.profile));
        }
        break;
      case events::CustomerChange::Kind::kErased: {
        const std::string ids = pg::TextArrayLiteral(c.erased_ids);
        pool_.Exec(tx, kEraseCustomers, c.tenant_id, ids);
        pool_.Exec(tx, kLockLinkedVisitors, c.tenant_id, ids);
        pool_.Exec(tx, kEraseBehaviour, c.tenant_id, ids);
        break;
      }
      case events::CustomerChange::Kind::kMerged:
        pool_.Exec(tx, kMergeCustomer, c.tenant_id, c.other_id, c.customer_id);
        pool_.Exec(tx, kMergeBehaviour, c.tenant_id, c.other_id, c.customer_id);
        break;
      case events::CustomerChange::Kind::kUnmerged:
        pool_.Exec(tx, kUnmergeCustomer, c.tenant_id, c.other_id, c.customer_id);
        pool_.Exec(tx, kUnmergeBehaviour, c.tenant_id, c.other_id, c.customer_id);
        break;
    }
    return absl::OkStatus();
  });
}

absl::Status PgFactRepository::RecordBehaviour(const std::string& tenant,
                                               const std::vector<events::BehaviourFact>& facts) {
  std::vector<std::string> ids, customers, visitors, types, occurred, skus, categories, values,
      currencies, quantities, campaigns;
  std::set<std::string> anonymous;  // visitors of anonymous facts
  for (const events::BehaviourFact& f : facts) {
    ids.push_back(f.event_id);
    customers.push_back(f.customer_id);
    visitors.push_back(f.visitor_id);
    types.push_back(f.type);
    occurred.push_back(absl::StrCat(absl::ToUnixMicros(f.occurred_time)));
    skus.push_back(f.sku);
    categories.push_back(f.category_path.empty() ? "" : pg::TextArrayLiteral(f.category_path));
    values.push_back(absl::StrFormat("%.17g", f.value));
    currencies.push_back(f.currency_code);
    quantities.push_back(absl::StrCat(f.quantity));
    campaigns.push_back(f.utm_campaign);
    if (f.customer_id.empty() && !f.visitor_id.empty()) anonymous.insert(f.visitor_id);
  }
  return pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    if (!anonymous.empty()) {
      pool_.Exec(
          tx, kLockVisitors, tenant,
          pg::TextArrayLiteral(std::vector<std::string>(anonymous.begin(), anonymous.end())));
    }
    pool_.Exec(tx, kRecordBehaviour, tenant, pg::TextArrayLiteral(ids),
               pg::TextArrayLiteral(customers), pg::TextArrayLiteral(visitors),
               pg::TextArrayLiteral(types), pg::TextArrayLiteral(occurred),
               pg::TextArrayLiteral(skus), pg::TextArrayLiteral(categories),
               pg::TextArrayLiteral(values), pg::TextArrayLiteral(currencies),
               pg::TextArrayLiteral(quantities), pg::TextArrayLiteral(campaigns));
    return absl::OkStatus();
  });
}

absl::Status PgFactRepository::LinkVisitor(const events::CustomerIdentified& link) {
  return pool_.WithTenantTx(link.tenant_id, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(bool first,
                         events::MarkProcessed(tx, kSchema, "segmentation", link.event_id));
    if (!first) return absl::OkStatus();
    pool_.Exec(tx, kLockVisitors, link.tenant_id, pg::TextArrayLiteral({link.visitor_id}));
    pool_.Exec(tx, kAddVisitorLink, link.tenant_id, link.visitor_id, link.customer_id);
    pool_.Exec(tx, kStitchVisitor, link.tenant_id, link.visitor_id);
    return absl::OkStatus();
  });
}

absl::Status PgFactRepository::RecordBehaviourRetention(const events::BehaviourRetention& r) {
  return pool_.WithTenantTx(r.tenant_id, [&](pqxx::work& tx) -> absl::Status {
    pool_.Exec(tx, kRecordBehaviourRetention, r.tenant_id, r.retention_days, r.version);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>
PgFactRepository::TenantsWithBehaviourRetention() {
  std::vector<std::pair<std::string, int64_t>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    tx.exec("SELECT set_config('app.scheduler', 'on', true)");
    for (const auto& row : pool_.Exec(tx, kTenantsWithBehaviourRetention)) {
      out.emplace_back(row[0].as<std::string>(), row[1].as<int64_t>());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<common::PurgeStep> PgFactRepository::PurgeBehaviour(const std::string& tenant,
                                                                   absl::Time cutoff,
                                                                   int64_t from_block, int blocks) {
  common::PurgeStep step;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    const pqxx::row r =
        pool_.Exec(tx, kPurgeBehaviour, tenant, absl::ToUnixMicros(cutoff), from_block, blocks)[0];
    step.deleted = r[0].as<int64_t>();
    step.next_block = from_block + blocks;
    step.done = step.next_block >= r[1].as<int64_t>();
    return absl::OkStatus();
  }));
  return step;
}

absl::StatusOr<std::vector<domain::CustomerEvent>> PgFactRepository::Behaviour(
    const std::string& tenant) {
  std::vector<domain::CustomerEvent> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(out, EventsOf(tenant, pool_.Exec(tx, kSelectBehaviour, tenant)));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<domain::CustomerEvent>> PgFactRepository::BehaviourOf(
    const std::string& tenant, const std::vector<std::string>& customer_ids) {
  std::vector<domain::CustomerEvent> out;
  const std::vector<std::string> ids = UuidsOf(customer_ids);
  if (ids.empty()) return out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(out, EventsOf(tenant, pool_.Exec(tx, kSelectBehaviourOf, tenant,
                                                          pg::TextArrayLiteral(ids))));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgFactRepository::RecordConsent(const events::ConsentFact& c) {
  return pool_.WithTenantTx(c.tenant_id, [&](pqxx::work& tx) -> absl::Status {
    pool_.Exec(tx, kRecordConsent, c.tenant_id, c.customer_id, c.channel, c.purpose, c.status,
               absl::ToUnixMicros(c.recorded_time));
    return absl::OkStatus();
  });
}

absl::Status PgFactRepository::SelectFor(
    const std::string& tenant, const std::optional<std::vector<std::string>>& customer_ids,
    const pg::NamedQuery& all, const pg::NamedQuery& of,
    const std::function<absl::Status(const pqxx::row&)>& on_row) {
  std::vector<std::string> ids;
  if (customer_ids) {
    ids = UuidsOf(*customer_ids);
    if (ids.empty()) return absl::OkStatus();
  }
  pqxx::result r;  // outlives its transaction (a retried one replaces it)
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    r = customer_ids ? pool_.Exec(tx, of, tenant, pg::TextArrayLiteral(ids))
                     : pool_.Exec(tx, all, tenant);
    return absl::OkStatus();
  }));
  for (const pqxx::row& row : r) CRM_RETURN_IF_ERROR(on_row(row));
  return absl::OkStatus();
}

absl::Status PgFactRepository::RecordProducts(const std::string& tenant,
                                              const std::vector<events::ProductFact>& facts) {
  return pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    for (const events::ProductFact& f : facts) {
      pool_.Exec(tx, kRecordProduct, tenant, f.sku, f.version,
                 pg::TextArrayLiteral(f.category_path));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<domain::SkuCategories> PgFactRepository::ProductCategories(
    const std::string& tenant) {
  domain::SkuCategories out;
  CRM_RETURN_IF_ERROR(SelectFor(tenant, std::nullopt, kSelectProductCategories,
                                kSelectProductCategories, [&](const pqxx::row& row) {
                                  out[row[0].as<std::string>()] = row[1].as<std::string>();
                                  return absl::OkStatus();
                                }));
  return out;
}

absl::StatusOr<app::FactRepository::CustomerFacts> PgFactRepository::FactsOf(
    const std::string& tenant, const std::vector<std::string>& customer_ids) {
  CustomerFacts out;
  const std::vector<std::string> ids = UuidsOf(customer_ids);
  if (ids.empty()) return out;
  const std::string literal = pg::TextArrayLiteral(ids);
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = CustomerFacts();  // a retried transaction starts over
    for (const pqxx::row& row : pool_.Exec(tx, kSelectConsentsOf, tenant, literal)) {
      out.consents.push_back(ConsentOf(row));
    }
    for (const pqxx::row& row : pool_.Exec(tx, kSelectProfilesOf, tenant, literal)) {
      CRM_ASSIGN_OR_RETURN(domain::CustomerProfile p, ProfileOf(row));
      out.profiles.push_back(std::move(p));
    }
    CRM_ASSIGN_OR_RETURN(out.behaviour,
                         EventsOf(tenant, pool_.Exec(tx, kSelectBehaviourOf, tenant, literal)));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<domain::CustomerConsent>> PgFactRepository::Consents(
    const std::string& tenant, const std::optional<std::vector<std::string>>& customer_ids) {
  std::vector<domain::CustomerConsent> out;
  CRM_RETURN_IF_ERROR(SelectFor(tenant, customer_ids, kSelectConsents, kSelectConsentsOf,
                                [&](const pqxx::row& row) {
                                  out.push_back(ConsentOf(row));
                                  return absl::OkStatus();
                                }));
  return out;
}

absl::StatusOr<std::vector<domain::CustomerProfile>> PgFactRepository::Profiles(
    const std::string& tenant, const std::optional<std::vector<std::string>>& customer_ids) {
  std::vector<domain::CustomerProfile> out;
  CRM_RETURN_IF_ERROR(SelectFor(tenant, customer_ids, kSelectProfiles, kSelectProfilesOf,
                                [&](const pqxx::row& row) -> absl::Status {
                                  CRM_ASSIGN_OR_RETURN(domain::CustomerProfile p, ProfileOf(row));
                                  out.push_back(std::move(p));
                                  return absl::OkStatus();
                                }));
  return out;
}

}  // namespace crm::segmentation::storage

#include "services/customer_store/storage/pg_customer_repository.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "libs/pg/errors.h"
#include "libs/pg/sql.h"
#include "services/customer_store/domain/rules.h"
#include "services/customer_store/domain/timeline.h"
#include "services/customer_store/storage/json_codec.h"
#include "services/customer_store/storage/shared_queries.h"

namespace crm::customer_store::storage {
namespace {

using domain::Customer;

constexpr char kCustomerColumns[] =
    "id::text, given_name, family_name, display_name, coalesce(postal_address::text, ''), "
    "coalesce(birthday::text, ''), anniversaries::text, locale, time_zone, lifecycle_stage, owner, "
    "attributes::text, version, (extract(epoch from created_at) * 1000000)::int8, "
    "(extract(epoch from updated_at) * 1000000)::int8";

using pg::LikePrefix;
std::string Ts(int param) { return pg::MicrosParam(param); }
std::string Micros(const char* col) { return pg::MicrosColumn(col); }

// The 360 view's sessions: from the newest events of the last 90 days.
constexpr int kViewBehaviourEvents = 1000;
constexpr size_t kViewSessions = 10;
constexpr int kExportBehaviourEvents = 1000000;

constexpr char kNilUuid[] = "00000000-0000-0000-0000-000000000000";

absl::StatusOr<Customer> CustomerFromRow(const pqxx::row& r) {
  Customer c;
  c.id = r[0].as<std::string>();
  c.given_name = r[1].as<std::string>();
  c.family_name = r[2].as<std::string>();
  c.display_name = r[3].as<std::string>();
  if (std::string a = r[4].as<std::string>(); !a.empty()) {
    CRM_ASSIGN_OR_RETURN(c.postal_address, AddressFromJson(a));
  }
  if (std::string b = r[5].as<std::string>(); !b.empty()) {
    CRM_ASSIGN_OR_RETURN(c.birthday, DateFromJson(b));
  }
  CRM_ASSIGN_OR_RETURN(c.anniversaries, AnniversariesFromJson(r[6].as<std::string>()));
  c.locale = r[7].as<std::string>();
  c.time_zone = r[8].as<std::string>();
  c.lifecycle_stage = static_cast<domain::LifecycleStage>(r[9].as<int>());
  c.owner = r[10].as<std::string>();
  CRM_ASSIGN_OR_RETURN(c.attributes, AttributesFromJson(r[11].as<std::string>()));
  c.version = r[12].as<int64_t>();
  c.create_time = absl::FromUnixMicros(r[13].as<int64_t>());
  c.update_time = absl::FromUnixMicros(r[14].as<int64_t>());
  return c;
}

std::string AddressParam(const Customer& c) {
  return c.postal_address ? AddressToJson(*c.postal_address) : std::string();
}
std::string BirthdayParam(const Customer& c) {
  return c.birthday ? DateToJson(*c.birthday) : std::string();
}

domain::Consent ConsentFromRow(const pqxx::row& r) {
  domain::Consent c;
  c.channel = static_cast<domain::ConsentChannel>(r[0].as<int>());
  c.purpose = static_cast<domain::ConsentPurpose>(r[1].as<int>());
  c.status = static_cast<domain::ConsentStatus>(r[2].as<int>());
  c.source = r[3].as<std::string>();
  c.policy_version = r[4].as<std::string>();
  c.record_time = absl::FromUnixMicros(r[5].as<int64_t>());
  return c;
}

domain::Interaction InteractionFromRow(const pqxx::row& r) {
  domain::Interaction i;
  i.id = r[0].as<std::string>();
  i.kind = static_cast<domain::InteractionKind>(r[1].as<int>());
  i.channel = r[2].as<std::string>();
  i.occur_time = absl::FromUnixMicros(r[3].as<int64_t>());
  i.actor = r[4].as<std::string>();
  i.summary = r[5].as<std::string>();
  i.payload_json = r[6].as<std::string>();
  i.source = r[7].as<std::string>();
  return i;
}

// The request_id of an earlier call for another customer.
absl::Status ReusedKey() {
  return common::WithField(
      common::WithReason(absl::InvalidArgumentError(
                             "request_id was already used for another customer; use a new "
                             "request_id for a new request"),
                         "IDEMPOTENCY_KEY_REUSED"),
      "request_id");
}

// The stored answer of a customer write (Insert, Update).
std::string AnswerJson(const Customer& c, bool created) {
  return nlohmann::json{{"created", created}, {"customer", CustomerToJson(c)}}.dump();
}

absl::StatusOr<app::CustomerAnswer> AnswerFromJson(const std::string& s) {
  try {
    nlohmann::json j = nlohmann::json::parse(s);
    CRM_ASSIGN_OR_RETURN(Customer c, CustomerFromJson(j.at("customer").get<std::string>()));
    return app::CustomerAnswer{std::move(c), j.at("created").get<bool>()};
  } catch (const nlohmann::json::exception&) {
    return absl::DataLossError("stored idempotent response is corrupt");
  }
}

// DeleteCustomer's answer: counts only, no personal data.
const outbox::AnswerCodec<domain::ErasureResult> kErasureCodec =
    outbox::SnapshotCodec<domain::ErasureResult>(
        [](const domain::ErasureResult& r) {
          return nlohmann::json{{"interactions", r.interactions_erased},
                                {"identities", r.identities_erased},
                                {"behaviour_events", r.behaviour_events_erased}}
              .dump();
        },
        [](const std::string& s) -> absl::StatusOr<domain::ErasureResult> {
          try {
            nlohmann::json j = nlohmann::json::parse(s);
            return domain::ErasureResult{j.at("interactions").get<int64_t>(),
                                         j.at("identities").get<int64_t>(),
                                         j.value("behaviour_events", int64_t{0})};
          } catch (const nlohmann::json::exception&) {
            return absl::DataLossError("stored idempotent response is corrupt");
          }
        });

std::string IdentityLabel(const domain::Identity& i) {
  switch (i.kind) {
    case domain::IdentityKind::kEmail:
      return "email";
    case domain::IdentityKind::kPhone:
      return "phone";
    default:
      return absl::StrCat("external id of source ", i.source);
  }
}

}  // namespace

// ------------------------------------------------------------ queries
// Every statement of this file (libs/pg/pool.h, NamedQuery: a misspelt query
// does not compile, and the columns read are checked when the pool starts).

// Merge deletes the source customer with it (shared_queries.h).
const pg::NamedQuery kDeleteCustomer{
    "delete_customer", "DELETE FROM customer_store.customers WHERE tenant_id = $1 AND id = $2", 0};
// Behaviour writes lock the customer too (shared_queries.h).
const pg::NamedQuery kLockCustomer{
    "lock_customer",
    "SELECT 1 FROM customer_store.customers WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE", 1};

namespace {

const pg::NamedQuery kInsertCustomer{
    "insert_customer",
    absl::StrCat("INSERT INTO customer_store.customers (tenant_id, id, given_name, family_name, "
                 "display_name, postal_address, birthday, anniversaries, locale, time_zone, "
                 "lifecycle_stage, owner, attributes, version, created_at, updated_at) VALUES "
                 "($1, $2, $3, $4, $5, nullif($6, '')::jsonb, nullif($7, '')::jsonb, $8::jsonb, "
                 "$9, $10, $11, $12, $13::jsonb, $14, ",
                 Ts(15), ", ", Ts(16), ")"),
    0};
const pg::NamedQuery kSelectCustomer{
    "select_customer",
    absl::StrCat("SELECT ", kCustomerColumns,
                 " FROM customer_store.customers WHERE tenant_id = $1 AND id = $2"),
    15};
const pg::NamedQuery kSelectCustomerForUpdate{
    "select_customer_for_update",
    absl::StrCat("SELECT ", kCustomerColumns,
                 " FROM customer_store.customers WHERE tenant_id = $1 AND id = $2 FOR UPDATE"),
    15};
const pg::NamedQuery kUpdateCustomer{
    "update_customer",
    absl::StrCat("UPDATE customer_store.customers SET given_name = $3, family_name = $4, "
                 "display_name = $5, postal_address = nullif($6, '')::jsonb, "
                 "birthday = nullif($7, '')::jsonb, anniversaries = $8::jsonb, locale = $9, "
                 "time_zone = $10, lifecycle_stage = $11, owner = $12, attributes = $13::jsonb, "
                 "version = $14, updated_at = ",
                 Ts(15), " WHERE tenant_id = $1 AND id = $2"),
    0};
// Every stored answer that names one of the erased customers (the
// answers of their creates, updates, merges and unmerges).
const pg::NamedQuery kForgetStoredAnswers{
    "forget_stored_answers",
    "UPDATE customer_store.idempotency_keys SET response = NULL WHERE tenant_id = $1 AND "
    "response IS NOT NULL AND EXISTS (SELECT 1 FROM unnest($2::text[]) e WHERE "
    "strpos(response, e) > 0)",
    0};
const pg::NamedQuery kSelectIdentitiesOf{
    "select_identities_of",
    absl::StrCat("SELECT customer_id::text, kind, source, value, ", Micros("created_at"),
                 " FROM customer_store.identities WHERE tenant_id = $1 AND customer_id = "
                 "ANY($2::uuid[]) ORDER BY customer_id, kind, position, value"),
    5};
const pg::NamedQuery kUpsertIdentity{
    "upsert_identity",
    "INSERT INTO customer_store.identities (tenant_id, kind, source, value, customer_id, "
    "position) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, kind, source, value) "
    "DO UPDATE SET position = EXCLUDED.position "
    "WHERE identities.customer_id = EXCLUDED.customer_id RETURNING customer_id",
    1};
const pg::NamedQuery kDeleteIdentity{
    "delete_identity",
    "DELETE FROM customer_store.identities WHERE tenant_id = $1 AND kind = $2 AND source = $3 "
    "AND value = $4 AND customer_id = $5",
    0};
const pg::NamedQuery kSelectIdentityOwner{
    "select_identity_owner",
    "SELECT customer_id::text FROM customer_store.identities WHERE tenant_id = $1 AND kind = $2 "
    "AND source = $3 AND value = $4",
    1};
const pg::NamedQuery kCountIdentitiesOf{
    "count_identities_of",
    "SELECT count(*) FROM customer_store.identities WHERE tenant_id = $1 AND customer_id = $2", 1};
const pg::NamedQuery kListCustomers{
    "list_customers",
    absl::StrCat("SELECT ", kCustomerColumns,
                 " FROM customer_store.customers WHERE tenant_id = $1 AND ($2::int2 = 0 OR "
                 "lifecycle_stage = $2) AND ($3 = '' OR owner = $3) AND id > $4::uuid "
                 "ORDER BY id LIMIT $5"),
    15};
const pg::NamedQuery kSearchCustomersByIdentity{
    "search_customers_by_identity",
    absl::StrCat("SELECT ", kCustomerColumns,
                 " FROM customer_store.customers WHERE tenant_id = $1 AND id IN (SELECT "
                 "customer_id FROM customer_store.identities WHERE tenant_id = $1 AND kind = $2 "
                 "AND source = $6 AND value = $3) AND id > $4::uuid ORDER BY id LIMIT $5"),
    15};
const pg::NamedQuery kSearchCustomersByName{
    "search_customers_by_name",
    absl::StrCat("SELECT ", kCustomerColumns,
                 " FROM customer_store.customers WHERE tenant_id = $1 AND (lower(given_name) "
                 "LIKE $2 OR lower(family_name) LIKE $2 OR lower(display_name) LIKE $2) AND "
                 "id > $3::uuid ORDER BY id LIMIT $4"),
    15};
const pg::NamedQuery kSelectConsents{
    "select_consents",
    absl::StrCat("SELECT channel, purpose, status, source, policy_version, ", Micros("recorded_at"),
                 " FROM customer_store.consents WHERE tenant_id = $1 AND customer_id = $2 "
                 "ORDER BY recorded_at DESC, id DESC"),
    6};
// Batch reads (GetMany): customers, and their consents newest first with
// the customer id last (ConsentFromRow reads the first six).
const pg::NamedQuery kSelectCustomersByIds{
    "select_customers_by_ids",
    absl::StrCat("SELECT ", kCustomerColumns,
                 " FROM customer_store.customers WHERE tenant_id = $1 AND id = ANY($2::uuid[])"),
    15};
const pg::NamedQuery kSelectConsentsOf{
    "select_consents_of",
    absl::StrCat("SELECT channel, purpose, status, source, policy_version, ", Micros("recorded_at"),
                 ", customer_id::text FROM customer_store.consents WHERE tenant_id = $1 AND "
                 "customer_id = ANY($2::uuid[]) ORDER BY customer_id, recorded_at DESC, id DESC"),
    7};
const pg::NamedQuery kInsertInteraction{
    "insert_interaction",
    absl::StrCat("INSERT INTO customer_store.interactions (tenant_id, id, customer_id, kind, "
                 "channel, occurred_at, actor, summary, payload, source) VALUES ($1, $2, $3, "
                 "$4, $5, ",
                 Ts(6), ", $7, $8, $9::jsonb, $10)"),
    0};
const pg::NamedQuery kSelectInteractions{
    "select_interactions",
    absl::StrCat("SELECT id::text, kind, channel, ", Micros("occurred_at"),
                 ", actor, summary, payload::text, source FROM customer_store.interactions "
                 "WHERE tenant_id = $1 AND customer_id = $2 AND ($3::int2 = 0 OR kind = $3) "
                 "AND (occurred_at, id) < (",
                 Ts(4), ", $5::uuid) ORDER BY occurred_at DESC, id DESC LIMIT $6"),
    8};
// Nothing for an erased customer (a late or repeated fact): no row
// returned, as for a fact that is not newer.
const pg::NamedQuery kUpsertPurchase{
    "upsert_purchase",
    absl::StrCat("INSERT INTO customer_store.purchases (tenant_id, order_id, customer_id, "
                 "currency, total_minor, status, placed_at, order_version, returned_minor, "
                 "net_minor) SELECT $1::uuid, $2::uuid, $3::uuid, $4::text, $5::int8, "
                 "$6::text, ",
                 Ts(7),
                 ", $8::int8, $9::int8, $10::int8 WHERE NOT EXISTS (SELECT 1 FROM "
                 "customer_store.erasures e WHERE e.tenant_id = $1::uuid AND e.customer_id = "
                 "$3::uuid) ON CONFLICT (tenant_id, order_id) DO UPDATE SET status = "
                 "EXCLUDED.status, total_minor = EXCLUDED.total_minor, currency = "
                 "EXCLUDED.currency, order_version = EXCLUDED.order_version, returned_minor = "
                 "EXCLUDED.returned_minor, net_minor = EXCLUDED.net_minor, updated_at = now() "
                 "WHERE purchases.order_version < EXCLUDED.order_version "
                 "RETURNING (xmax = 0) AS inserted"),
    1};
const pg::NamedQuery kInsertInteractionIfAbsent{
    "insert_interaction_if_absent",
    absl::StrCat("INSERT INTO customer_store.interactions (tenant_id, id, customer_id, kind, "
                 "channel, occurred_at, actor, summary, payload, source) VALUES ($1, $2, $3, "
                 "$4, $5, ",
                 Ts(6), ", $7, $8, $9::jsonb, $10) ON CONFLICT DO NOTHING"),
    0};
const pg::NamedQuery kSelectPurchaseAggregates{
    "select_purchase_aggregates",
    absl::StrCat("SELECT currency, count(*) FILTER (WHERE status <> 'cancelled'), count(DISTINCT "
                 "(placed_at AT TIME ZONE 'UTC')::date) FILTER (WHERE status <> 'cancelled'), "
                 "coalesce(sum(net_minor) FILTER (WHERE status <> 'cancelled'), 0)::int8, count(*) "
                 "FILTER (WHERE status = 'cancelled'), coalesce(",
                 Micros("min(placed_at) FILTER (WHERE status <> 'cancelled')"), ", -1), coalesce(",
                 Micros("max(placed_at) FILTER (WHERE status <> 'cancelled')"),
                 ", -1), coalesce(sum(total_minor) FILTER (WHERE status <> 'cancelled'), 0)::int8, "
                 "coalesce(sum(returned_minor) FILTER (WHERE status <> 'cancelled'), 0)::int8, "
                 "count(*) FILTER (WHERE status <> 'cancelled' AND returned_minor > 0) "
                 "FROM customer_store.purchases WHERE tenant_id = $1 AND customer_id IN ",
                 kMergedInto, " GROUP BY currency ORDER BY currency"),
    10};
// The customer whose view shows $2's purchases: $2, or the survivor of
// the chain of active merges it went into.
const pg::NamedQuery kSelectMergeSurvivor{
    "select_merge_survivor",
    "WITH RECURSIVE up(id, depth) AS (SELECT $2::uuid, 0 UNION ALL SELECT g.survivor_id, "
    "up.depth + 1 FROM customer_store.merges g JOIN up ON g.source_id = up.id WHERE "
    "g.tenant_id = $1 AND g.unmerged_at IS NULL AND up.depth < 32) SELECT id::text FROM up "
    "ORDER BY depth DESC LIMIT 1",
    1};
const pg::NamedQuery kDeleteMergesOf{
    "delete_merges_of",
    "DELETE FROM customer_store.merges WHERE tenant_id = $1 AND (survivor_id = $2 OR "
    "source_id = $2)",
    0};
// The erased customer and every customer merged into it (their
// purchases are deleted with it) are remembered as erased.
const pg::NamedQuery kInsertErasuresOf{
    "insert_erasures_of",
    absl::StrCat("INSERT INTO customer_store.erasures (tenant_id, customer_id) SELECT $1, id "
                 "FROM ",
                 kMergedInto, " AS m(id) ON CONFLICT DO NOTHING RETURNING customer_id::text"),
    1};
const pg::NamedQuery kDeletePurchasesOf{
    "delete_purchases_of",
    absl::StrCat("DELETE FROM customer_store.purchases WHERE tenant_id = $1 AND customer_id IN ",
                 kMergedInto),
    0};
const pg::NamedQuery kCountInteractions{
    "count_interactions",
    "SELECT count(*) FROM customer_store.interactions WHERE tenant_id = $1 AND customer_id = $2",
    1};
const pg::NamedQuery kSelectConsentById{
    "select_consent_by_id",
    absl::StrCat("SELECT channel, purpose, status, source, policy_version, ", Micros("recorded_at"),
                 " FROM customer_store.consents WHERE tenant_id = $1 AND id = $2::int8 AND "
                 "customer_id = $3"),
    6};
const pg::NamedQuery kSelectInteractionById{
    "select_interaction_by_id",
    absl::StrCat("SELECT id::text, kind, channel, ", Micros("occurred_at"),
                 ", actor, summary, payload::text, source FROM customer_store.interactions "
                 "WHERE tenant_id = $1 AND id = $2::uuid AND customer_id = $3"),
    8};

}  // namespace

std::vector<pg::NamedQuery> PgCustomerRepository::Queries() {
  std::vector<pg::NamedQuery> queries = outbox::TransactionalWriter::Queries(kSchema);
  for (auto& q : MergeQueries()) queries.push_back(std::move(q));
  for (auto& q : ImportQueries()) queries.push_back(std::move(q));
  for (auto& q : BehaviourQueries()) queries.push_back(std::move(q));
  const std::vector<pg::NamedQuery> own = {kInsertCustomer,
                                           kSelectCustomer,
                                           kSelectCustomerForUpdate,
                                           kUpdateCustomer,
                                           kDeleteCustomer,
                                           kForgetStoredAnswers,
                                           kSelectIdentitiesOf,
                                           kUpsertIdentity,
                                           kDeleteIdentity,
                                           kSelectIdentityOwner,
                                           kCountIdentitiesOf,
                                           kListCustomers,
                                           kSearchCustomersByIdentity,
                                           kSearchCustomersByName,
                                           kLockCustomer,
                                           kSelectConsents,
                                           kSelectCustomersByIds,
                                           kSelectConsentsOf,
                                           kInsertInteraction,
                                           kSelectInteractions,
                                           kUpsertPurchase,
                                           kInsertInteractionIfAbsent,
                                           kSelectPurchaseAggregates,
                                           kSelectMergeSurvivor,
                                           kDeleteMergesOf,
                                           kInsertErasuresOf,
                                           kDeletePurchasesOf,
                                           kCountInteractions,
                                           kSelectConsentById,
                                           kSelectInteractionById};
  queries.insert(queries.end(), own.begin(), own.end());
  return queries;
}

void PgCustomerRepository::InsertProfile(pqxx::work& tx, const std::string& tenant,
                                         const Customer& c) {
  pool_.Exec(tx, kInsertCustomer, tenant, c.id, c.given_name, c.family_name, c.display_name,
             AddressParam(c), BirthdayParam(c), AnniversariesToJson(c.anniversaries), c.locale,
             c.time_zone, static_cast<int>(c.lifecycle_stage), c.owner,
             AttributesToJson(c.attributes), c.version, absl::ToUnixMicros(c.create_time),
             absl::ToUnixMicros(c.update_time));
}

void PgCustomerRepository::WriteProfile(pqxx::work& tx, const std::string& tenant,
                                        const Customer& c) {
  pool_.Exec(tx, kUpdateCustomer, tenant, c.id, c.given_name, c.family_name, c.display_name,
             AddressParam(c), BirthdayParam(c), AnniversariesToJson(c.anniversaries), c.locale,
             c.time_zone, static_cast<int>(c.lifecycle_stage), c.owner,
             AttributesToJson(c.attributes), c.version, absl::ToUnixMicros(c.update_time));
}

absl::StatusOr<std::vector<domain::Consent>> PgCustomerRepository::ConsentHistoryTx(
    pqxx::work& tx, const std::string& tenant, const std::string& id) {
  std::vector<domain::Consent> out;
  for (const auto& row : pool_.Exec(tx, kSelectConsents, tenant, id)) {
    out.push_back(ConsentFromRow(row));
  }
  return out;
}

outbox::AnswerCodec<app::CustomerAnswer> PgCustomerRepository::CustomerCodec() {
  outbox::AnswerCodec<app::CustomerAnswer> codec;
  codec.encode = [](const app::CustomerAnswer& a) { return AnswerJson(a.customer, a.created); };
  codec.replay = [this](const outbox::WriteTx& w, const std::string& stored,
                        const std::string& id) -> absl::StatusOr<app::CustomerAnswer> {
    // No stored answer (a key claimed before answers were stored, or the
    // customer erased since): the customer as it is now.
    if (stored.empty()) {
      CRM_ASSIGN_OR_RETURN(Customer c, LoadCustomer(w.sql(), w.tenant(), id, false));
      return app::CustomerAnswer{std::move(c), false};
    }
    return AnswerFromJson(stored);
  };
  return codec;
}

template <typename T>
outbox::AnswerCodec<T> PgCustomerRepository::RecordCodec(const pg::NamedQuery& query,
                                                         const std::string& customer_id,
                                                         T (*from_row)(const pqxx::row&)) {
  outbox::AnswerCodec<T> codec;
  codec.replay = [this, q = &query, &customer_id, from_row](
                     const outbox::WriteTx& w, const std::string&,
                     const std::string& record_id) -> absl::StatusOr<T> {
    pqxx::result prev = pool_.Exec(w.sql(), *q, w.tenant(), record_id, customer_id);
    if (prev.empty()) return GoneOrReused(w.sql(), w.tenant(), customer_id);
    return from_row(prev[0]);
  };
  return codec;
}

absl::Status PgCustomerRepository::GoneOrReused(pqxx::work& tx, const std::string& tenant,
                                                const std::string& id) {
  if (pool_.Exec(tx, kLockCustomer, tenant, id).empty()) return NotFoundOrMerged(tx, tenant, id);
  return ReusedKey();
}

absl::StatusOr<Customer> PgCustomerRepository::LoadCustomer(pqxx::work& tx,
                                                            const std::string& tenant,
                                                            const std::string& id,
                                                            bool for_update) {
  pqxx::result r =
      pool_.Exec(tx, for_update ? kSelectCustomerForUpdate : kSelectCustomer, tenant, id);
  if (r.empty()) return NotFoundOrMerged(tx, tenant, id);
  CRM_ASSIGN_OR_RETURN(Customer c, CustomerFromRow(r[0]));
  CRM_RETURN_IF_ERROR(LoadIdentities(tx, tenant, {&c}));
  return c;
}

absl::Status PgCustomerRepository::LoadIdentities(pqxx::work& tx, const std::string& tenant,
                                                  std::vector<Customer*> customers) {
  if (customers.empty()) return absl::OkStatus();
  std::map<std::string, Customer*> by_id;
  for (Customer* c : customers) {
    c->emails.clear();
    c->phones.clear();
    c->external_ids.clear();
    by_id[c->id] = c;
  }
  std::string ids = absl::StrCat(
      "{", absl::StrJoin(by_id, ",", [](std::string* o, const auto& kv) { o->append(kv.first); }),
      "}");
  pqxx::result r = pool_.Exec(tx, kSelectIdentitiesOf, tenant, ids);
  for (const auto& row : r) {
    auto it = by_id.find(row[0].as<std::string>());
    if (it == by_id.end()) continue;
    int kind = row[1].as<int>();
    std::string value = row[3].as<std::string>();
    if (kind == 1) {
      it->second->emails.push_back(value);
    } else if (kind == 2) {
      it->second->phones.push_back(value);
    } else {
      it->second->external_ids.push_back({row[2].as<std::string>(), value});
    }
  }
  return absl::OkStatus();
}

absl::Status PgCustomerRepository::WriteIdentities(pqxx::work& tx, const std::string& tenant,
                                                   const Customer& c, const Customer* before) {
  std::vector<domain::Identity> now = domain::IdentitiesOf(c);
  if (before) {
    std::set<std::tuple<int, std::string, std::string>> keep;
    for (const auto& i : now) keep.insert({static_cast<int>(i.kind), i.source, i.value});
    for (const auto& i : domain::IdentitiesOf(*before)) {
      if (!keep.count({static_cast<int>(i.kind), i.source, i.value})) {
        pool_.Exec(tx, kDeleteIdentity, tenant, static_cast<int>(i.kind), i.source, i.value, c.id);
      }
    }
  }
  std::map<int, int> position;
  for (const auto& i : now) {
    int pos = position[static_cast<int>(i.kind)]++;
    pqxx::result r = pool_.Exec(tx, kUpsertIdentity, tenant, static_cast<int>(i.kind), i.source,
                                i.value, c.id, pos);
    if (r.empty()) {
      return common::WithField(
          common::WithReason(absl::AlreadyExistsError(absl::StrCat(
                                 "this ", IdentityLabel(i),
                                 " already belongs to another customer; merge the two customers "
                                 "or use another value")),
                             "IDENTITY_TAKEN"),
          i.kind == domain::IdentityKind::kEmail   ? "emails"
          : i.kind == domain::IdentityKind::kPhone ? "phones"
                                                   : "external_ids");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<app::CustomerAnswer>> PgCustomerRepository::FindAnswer(
    const app::Actor& actor) {
  CRM_ASSIGN_OR_RETURN(std::optional<std::string> stored, writer_.FindStoredResponse(actor));
  if (!stored) return std::optional<app::CustomerAnswer>();
  CRM_ASSIGN_OR_RETURN(app::CustomerAnswer answer, AnswerFromJson(*stored));
  return std::optional<app::CustomerAnswer>(std::move(answer));
}

absl::StatusOr<Customer> PgCustomerRepository::Get(const std::string& tenant,
                                                   const std::string& id) {
  Customer out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(out, LoadCustomer(tx, tenant, id, false));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::Page<Customer>> PgCustomerRepository::List(const std::string& tenant,
                                                               const app::ListQuery& q) {
  app::Page<Customer> page;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    std::string after = q.after_id.empty() ? kNilUuid : q.after_id;
    pqxx::result r = pool_.Exec(tx, kListCustomers, tenant, static_cast<int>(q.stage), q.owner,
                                after, q.limit + 1);
    std::vector<Customer*> ptrs;
    for (const auto& row : r) {
      if (static_cast<int>(page.items.size()) == q.limit) break;
      CRM_ASSIGN_OR_RETURN(Customer c, CustomerFromRow(row));
      page.items.push_back(std::move(c));
    }
    for (auto& c : page.items) ptrs.push_back(&c);
    CRM_RETURN_IF_ERROR(LoadIdentities(tx, tenant, ptrs));
    if (static_cast<int>(r.size()) > q.limit) page.next_cursor = page.items.back().id;
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<app::Page<Customer>> PgCustomerRepository::Search(const std::string& tenant,
                                                                 const app::SearchQuery& q) {
  app::Page<Customer> page;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    std::string after = q.after_id.empty() ? kNilUuid : q.after_id;
    pqxx::result r;
    if (!q.external_id.empty()) {
      r = pool_.Exec(tx, kSearchCustomersByIdentity, tenant, 3, q.external_id, after, q.limit + 1,
                     q.external_id_source);
    } else if (!q.email.empty() || !q.phone.empty()) {
      int kind = q.email.empty() ? 2 : 1;
      r = pool_.Exec(tx, kSearchCustomersByIdentity, tenant, kind,
                     q.email.empty() ? q.phone : q.email, after, q.limit + 1, std::string());
    } else {
      r = pool_.Exec(tx, kSearchCustomersByName, tenant, LikePrefix(q.name_prefix), after,
                     q.limit + 1);
    }
    for (const auto& row : r) {
      if (static_cast<int>(page.items.size()) == q.limit) break;
      CRM_ASSIGN_OR_RETURN(Customer c, CustomerFromRow(row));
      page.items.push_back(std::move(c));
    }
    std::vector<Customer*> ptrs;
    for (auto& c : page.items) ptrs.push_back(&c);
    CRM_RETURN_IF_ERROR(LoadIdentities(tx, tenant, ptrs));
    if (static_cast<int>(r.size()) > q.limit) page.next_cursor = page.items.back().id;
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<std::vector<std::string>> PgCustomerRepository::FindOwners(
    const std::string& tenant, const std::vector<domain::Identity>& identities) {
  std::vector<std::string> owners;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    std::set<std::string> seen;
    for (const auto& i : identities) {
      pqxx::result r =
          pool_.Exec(tx, kSelectIdentityOwner, tenant, static_cast<int>(i.kind), i.source, i.value);
      if (!r.empty() && seen.insert(r[0][0].as<std::string>()).second) {
        owners.push_back(r[0][0].as<std::string>());
      }
    }
    return absl::OkStatus();
  }));
  return owners;
}

absl::StatusOr<std::vector<app::CustomerRepository::CustomerRecord>> PgCustomerRepository::GetMany(
    const std::string& tenant, const std::vector<std::string>& ids, bool with_consents) {
  std::vector<CustomerRecord> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    const std::string id_array = pg::TextArrayLiteral(ids);
    for (const auto& row : pool_.Exec(tx, kSelectCustomersByIds, tenant, id_array)) {
      CRM_ASSIGN_OR_RETURN(Customer c, CustomerFromRow(row));
      out.push_back({std::move(c), {}});
    }
    std::vector<Customer*> ptrs;
    std::map<std::string, CustomerRecord*> by_id;
    for (CustomerRecord& r : out) {
      ptrs.push_back(&r.customer);
      by_id[r.customer.id] = &r;
    }
    CRM_RETURN_IF_ERROR(LoadIdentities(tx, tenant, ptrs));
    if (!with_consents || out.empty()) return absl::OkStatus();
    for (const auto& row : pool_.Exec(tx, kSelectConsentsOf, tenant, id_array)) {
      auto it = by_id.find(row[6].as<std::string>());
      if (it != by_id.end()) it->second->consent_history.push_back(ConsentFromRow(row));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<domain::Consent>> PgCustomerRepository::ConsentHistory(
    const std::string& tenant, const std::string& id) {
  std::vector<domain::Consent> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    if (pool_.Exec(tx, kSelectCustomer, tenant, id).empty()) {
      return NotFoundOrMerged(tx, tenant, id);
    }
    CRM_ASSIGN_OR_RETURN(out, ConsentHistoryTx(tx, tenant, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::Page<domain::Interaction>> PgCustomerRepository::Interactions(
    const std::string& tenant, const std::string& id, const app::InteractionQuery& q) {
  CRM_ASSIGN_OR_RETURN(domain::TimelineCursor cursor, domain::ParseTimelineCursor(q.before_cursor));
  const int64_t before_micros = cursor.time == absl::InfiniteFuture()
                                    ? std::numeric_limits<int64_t>::max() / 2
                                    : absl::ToUnixMicros(cursor.time);
  const std::string& before_id = cursor.id;
  app::Page<domain::Interaction> page;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    if (pool_.Exec(tx, kSelectCustomer, tenant, id).empty()) {
      return NotFoundOrMerged(tx, tenant, id);
    }
    pqxx::result r = pool_.Exec(tx, kSelectInteractions, tenant, id, static_cast<int>(q.kind),
                                before_micros, before_id, q.limit + 1);
    for (const auto& row : r) {
      if (static_cast<int>(page.items.size()) == q.limit) break;
      page.items.push_back(InteractionFromRow(row));
    }
    if (static_cast<int>(r.size()) > q.limit)
      page.next_cursor = domain::TimelineCursorOf(page.items.back());
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<domain::CustomerView> PgCustomerRepository::LoadView(const std::string& tenant,
                                                                    const std::string& id,
                                                                    int interaction_limit) {
  domain::CustomerView v;
  // One snapshot: the purchase aggregates and the purchase entries of the
  // timeline are written together and must be read together.
  CRM_RETURN_IF_ERROR(pool_.WithTenantSnapshot(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(v.customer, LoadCustomer(tx, tenant, id, false));
    for (const auto& row :
         pool_.Exec(tx, kSelectIdentitiesOf, tenant, absl::StrCat("{", id, "}"))) {
      v.identities.push_back({static_cast<domain::IdentityKind>(row[1].as<int>()),
                              row[3].as<std::string>(), row[2].as<std::string>(),
                              absl::FromUnixMicros(row[4].as<int64_t>())});
    }
    CRM_ASSIGN_OR_RETURN(std::vector<domain::Consent> history, ConsentHistoryTx(tx, tenant, id));
    v.consents = domain::CurrentConsents(history);
    for (const auto& row :
         pool_.Exec(tx, kSelectInteractions, tenant, id, 0, std::numeric_limits<int64_t>::max() / 2,
                    "ffffffff-ffff-ffff-ffff-ffffffffffff", interaction_limit)) {
      v.recent_interactions.push_back(InteractionFromRow(row));
    }
    v.interaction_count = pool_.Exec(tx, kCountInteractions, tenant, id)[0][0].as<int64_t>();
    for (const auto& r : pool_.Exec(tx, kSelectPurchaseAggregates, tenant, id)) {
      domain::PurchaseAggregate a;
      a.currency_code = r[0].as<std::string>();
      a.order_count = r[1].as<int64_t>();
      a.purchase_days = r[2].as<int64_t>();
      a.total_spend_minor = r[3].as<int64_t>();
      a.cancelled_orders = r[4].as<int64_t>();
      if (int64_t first = r[5].as<int64_t>(); first >= 0) a.first_purchase = absl::FromUnixMicros(first);
      if (int64_t last = r[6].as<int64_t>(); last >= 0) a.last_purchase = absl::FromUnixMicros(last);
      a.gross_spend_minor = r[7].as<int64_t>();
      a.returned_minor = r[8].as<int64_t>();
      a.returned_orders = r[9].as<int64_t>();
      a.average_order_minor = a.order_count > 0 ? a.total_spend_minor / a.order_count : 0;
      v.purchases.push_back(std::move(a));
    }
    for (domain::Identity& i : VisitorIdentitiesOf(tx, tenant, id))
      v.identities.push_back(std::move(i));
    v.recent_sessions = domain::GroupSessions(
        BehaviourOf(tx, tenant, id, absl::Now() - domain::kMaxEventAge, kViewBehaviourEvents),
        domain::kSessionGap, kViewSessions);
    return absl::OkStatus();
  }));
  return v;
}

absl::StatusOr<domain::CustomerExport> PgCustomerRepository::LoadExport(const std::string& tenant,
                                                                        const std::string& id) {
  domain::CustomerExport e;
  CRM_RETURN_IF_ERROR(pool_.WithTenantSnapshot(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(e.customer, LoadCustomer(tx, tenant, id, false));
    for (const auto& row :
         pool_.Exec(tx, kSelectIdentitiesOf, tenant, absl::StrCat("{", id, "}"))) {
      e.identities.push_back({static_cast<domain::IdentityKind>(row[1].as<int>()),
                              row[3].as<std::string>(), row[2].as<std::string>(),
                              absl::FromUnixMicros(row[4].as<int64_t>())});
    }
    CRM_ASSIGN_OR_RETURN(e.consent_history, ConsentHistoryTx(tx, tenant, id));
    for (const auto& row :
         pool_.Exec(tx, kSelectInteractions, tenant, id, 0, std::numeric_limits<int64_t>::max() / 2,
                    "ffffffff-ffff-ffff-ffff-ffffffffffff", 1000000)) {
      e.interactions.push_back(InteractionFromRow(row));
    }
    for (domain::Identity& i : VisitorIdentitiesOf(tx, tenant, id))
      e.identities.push_back(std::move(i));
    e.behaviour_events = BehaviourOf(tx, tenant, id, absl::InfinitePast(), kExportBehaviourEvents);
    return absl::OkStatus();
  }));
  return e;
}

// ------------------------------------------------------------------- writes

// One write's transaction (app::CustomerTx) over the repository's queries.
class PgCustomerRepository::Tx final : public app::CustomerTx {
 public:
  Tx(PgCustomerRepository& repo, const outbox::WriteTx& w) : repo_(repo), w_(w) {}

  absl::StatusOr<Customer> LoadCustomer(const std::string& id) override {
    return repo_.LoadCustomer(w_.sql(), w_.tenant(), id, true);
  }
  absl::StatusOr<Customer> ReadCustomer(const std::string& id) override {
    return repo_.LoadCustomer(w_.sql(), w_.tenant(), id, false);
  }
  absl::Status LockCustomer(const std::string& id) override {
    if (!Exec(kLockCustomer, id).empty()) return absl::OkStatus();
    return repo_.NotFoundOrMerged(w_.sql(), w_.tenant(), id);
  }
  absl::StatusOr<std::vector<domain::Consent>> ConsentHistory(const std::string& id) override {
    return repo_.ConsentHistoryTx(w_.sql(), w_.tenant(), id);
  }
  domain::RefLookup LookupRefs(const std::vector<std::string>& ids,
                               const std::vector<domain::IdentityKey>& keys) override {
    return repo_.LookupRefsTx(w_.sql(), w_.tenant(), ids, keys);
  }
  void SaveProfile(const Customer& c, bool is_new) override {
    if (is_new) {
      repo_.InsertProfile(w_.sql(), w_.tenant(), c);
    } else {
      repo_.WriteProfile(w_.sql(), w_.tenant(), c);
    }
  }
  absl::Status SaveIdentities(const Customer& c, const Customer* before) override {
    return repo_.WriteIdentities(w_.sql(), w_.tenant(), c, before);
  }
  absl::Status InsertNewCustomers(const std::vector<domain::NewCustomer>& creates) override {
    return repo_.InsertNewCustomers(w_.sql(), w_.tenant(), creates);
  }
  void AppendConsent(const std::string& customer_id, const domain::Consent& c) override {
    pqxx::result inserted =
        Exec(kInsertConsentReturningId, customer_id, static_cast<int>(c.channel),
             static_cast<int>(c.purpose), static_cast<int>(c.status), c.source, c.policy_version,
             absl::ToUnixMicros(c.record_time));
    // The record id is known only now: the key names it from here on.
    w_.SetResource(inserted[0][0].as<std::string>());
  }
  void AppendInteraction(const std::string& customer_id, const domain::Interaction& i) override {
    w_.SetResource(i.id);
    Exec(kInsertInteraction, i.id, customer_id, static_cast<int>(i.kind), i.channel,
         absl::ToUnixMicros(i.occur_time), i.actor, i.summary, i.payload_json, i.source);
  }
  app::MergeMoves MoveToSurvivor(const std::string& survivor_id, const std::string& source_id,
                                 const std::vector<domain::Consent>& resolutions) override {
    return repo_.MoveToSurvivor(w_.sql(), w_.tenant(), survivor_id, source_id, resolutions);
  }
  void DeleteMergedSource(const std::string& source_id) override {
    Exec(kDeleteCustomer, source_id);
  }
  std::string AppendMerge(const app::MergeRecord& record, const app::MergeMoves& moves) override {
    return repo_.AppendMerge(w_.sql(), w_.tenant(), record, moves);
  }
  absl::StatusOr<app::LoggedMerge> LoadMerge(const std::string& survivor_id,
                                             const std::string& merge_id) override {
    return repo_.LoadMerge(w_.sql(), w_.tenant(), survivor_id, merge_id);
  }
  void MoveBack(const app::LoggedMerge& merge) override {
    repo_.MoveBack(w_.sql(), w_.tenant(), merge);
  }
  void MarkUnmerged(const std::string& merge_id) override {
    repo_.MarkUnmerged(w_.sql(), w_.tenant(), merge_id);
  }
  app::Erasure EraseCustomer(const std::string& id) override {
    app::Erasure e;
    e.counts.interactions_erased = Exec(kCountInteractions, id)[0][0].as<int64_t>();
    e.counts.identities_erased = Exec(kCountIdentitiesOf, id)[0][0].as<int64_t>();
    // Every id the erasure covers (this customer and those merged into it).
    e.erased_ids = {id};
    for (const auto& row : Exec(kInsertErasuresOf, id)) {
      if (std::string other = row[0].as<std::string>(); other != id) {
        e.erased_ids.push_back(std::move(other));
      }
    }
    Exec(kDeletePurchasesOf, id);
    // Behaviour events and linked visitor ids (through the merges: before
    // the merge log goes).
    auto [events, links] = repo_.EraseBehaviourOf(w_.sql(), w_.tenant(), id);
    e.counts.behaviour_events_erased = events;
    e.counts.identities_erased += links;
    // Merge-log snapshots hold the customer's personal data too.
    Exec(kDeleteMergesOf, id);
    // Identities and interactions go by ON DELETE CASCADE.
    Exec(kDeleteCustomer, id);
    return e;
  }
  void ForgetStoredAnswers(const std::vector<std::string>& customer_ids) override {
    Exec(kForgetStoredAnswers, pg::TextArrayLiteral(customer_ids));
  }

  void EmitCustomer(const char* type, const Customer& c) override {
    w_.Emit(c.id, type, CustomerEventJson(c));
  }
  void EmitErased(const app::Erasure& e) override {
    const std::string& id = e.erased_ids.front();
    w_.Emit(id, "customer.erased",
            nlohmann::json{{"customer_id", id}, {"erased_customer_ids", e.erased_ids}}.dump());
  }
  void EmitConsent(const std::string& id, const domain::Consent& c) override {
    w_.Emit(id, "consent.recorded",
            absl::StrCat(R"({"customer_id":")", id, R"(","channel":)", static_cast<int>(c.channel),
                         R"(,"purpose":)", static_cast<int>(c.purpose), R"(,"status":)",
                         static_cast<int>(c.status), "}"));
  }
  void EmitInteraction(const std::string& id, const domain::Interaction& i) override {
    w_.Emit(id, "interaction.created",
            absl::StrCat(R"({"customer_id":")", id, R"(","interaction_id":")", i.id, R"(","kind":)",
                         static_cast<int>(i.kind), "}"));
  }
  void EmitMerged(const std::string& survivor_id, const std::string& source_id,
                  const std::string& merge_id) override {
    w_.Emit(survivor_id, "customer.merged",
            absl::StrCat(R"({"customer_id":")", survivor_id, R"(","source_customer_id":")",
                         source_id, R"(","merge_id":")", merge_id, R"("})"));
  }
  void EmitUnmerged(const std::string& survivor_id, const std::string& restored_id,
                    const std::string& merge_id) override {
    w_.Emit(survivor_id, "customer.unmerged",
            absl::StrCat(R"({"customer_id":")", survivor_id, R"(","restored_customer_id":")",
                         restored_id, R"(","merge_id":")", merge_id, R"("})"));
  }

 private:
  // A statement of this write, in its tenant: (tenant, args...).
  template <typename... Args>
  pqxx::result Exec(const pg::NamedQuery& q, Args&&... args) {
    return repo_.pool_.Exec(w_.sql(), q, w_.tenant(), std::forward<Args>(args)...);
  }

  PgCustomerRepository& repo_;
  const outbox::WriteTx& w_;
};

template <typename T>
absl::StatusOr<T> PgCustomerRepository::RunTx(
    const outbox::WriteMeta& meta, const std::string& resource, const outbox::AnswerCodec<T>& codec,
    absl::FunctionRef<absl::StatusOr<T>(app::CustomerTx&)> work) {
  return outbox::WriteOnce<T>(writer_, meta, resource, codec,
                              [&](const outbox::WriteTx& w) -> absl::StatusOr<T> {
                                Tx tx(*this, w);
                                return work(tx);
                              });
}

absl::StatusOr<app::CustomerAnswer> PgCustomerRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::CustomerAnswer>(app::CustomerTx&)> work) {
  return RunTx(meta, resource, CustomerCodec(), work);
}
absl::StatusOr<domain::ErasureResult> PgCustomerRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::ErasureResult>(app::CustomerTx&)> work) {
  return RunTx(meta, resource, kErasureCodec, work);
}
absl::StatusOr<domain::Consent> PgCustomerRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Consent>(app::CustomerTx&)> work) {
  return RunTx(meta, resource, RecordCodec(kSelectConsentById, resource, ConsentFromRow), work);
}
absl::StatusOr<domain::Interaction> PgCustomerRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Interaction>(app::CustomerTx&)> work) {
  return RunTx(meta, resource, RecordCodec(kSelectInteractionById, resource, InteractionFromRow),
               work);
}
absl::StatusOr<app::MergeOutcome> PgCustomerRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::MergeOutcome>(app::CustomerTx&)> work) {
  return RunTx(meta, resource, MergeCodec(), work);
}
absl::StatusOr<app::UnmergeOutcome> PgCustomerRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::UnmergeOutcome>(app::CustomerTx&)> work) {
  return RunTx(meta, resource, UnmergeCodec(), work);
}
absl::StatusOr<app::ResolveOutcome> PgCustomerRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::ResolveOutcome>(app::CustomerTx&)> work) {
  return RunTx(meta, resource, ResolveCodec(), work);
}

}  // namespace crm::customer_store::storage

namespace crm::customer_store::storage {

app::PurchaseRepository::Change PgCustomerRepository::RecordOrderTx(pqxx::work& tx,
                                                                    const domain::OrderFact& f) {
  Change change;
  // A fact about an erased customer (late, or repeated) is dropped: the
  // upsert writes nothing for it.
  pqxx::result r = pool_.Exec(
      tx, kUpsertPurchase, f.tenant_id, f.order_id, f.customer_id, f.currency_code, f.total_minor,
      f.status, absl::ToUnixMicros(f.placed_time), f.version, f.returned_minor, f.net_minor);
  const bool changed = !r.empty();
  const bool first_fact = changed && r[0][0].as<bool>();
  // The timeline entry of a purchase: once per order (its id is the order's).
  if (first_fact && !pool_.Exec(tx, kLockCustomer, f.tenant_id, f.customer_id).empty()) {
    nlohmann::json payload = {{"order_id", f.order_id},
                              {"currency_code", f.currency_code},
                              {"total_minor", absl::StrCat(f.total_minor)}};
    pool_.Exec(tx, kInsertInteractionIfAbsent, f.tenant_id, f.order_id, f.customer_id,
               static_cast<int>(domain::InteractionKind::kPurchase), "order",
               absl::ToUnixMicros(f.placed_time), "transaction",
               absl::StrCat("Order of ", f.total_minor, " (minor units) ", f.currency_code),
               payload.dump(), "transaction");
  }
  change.changed = changed;
  if (changed) {
    change.view_owner =
        pool_.Exec(tx, kSelectMergeSurvivor, f.tenant_id, f.customer_id)[0][0].as<std::string>();
  }
  return change;
}

absl::StatusOr<bool> PgCustomerRepository::RecordActivity(const Activity& a) {
  bool added = false;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(a.tenant_id, [&](pqxx::work& tx) -> absl::Status {
    added = false;
    if (pool_.Exec(tx, kLockCustomer, a.tenant_id, a.customer_id).empty()) {
      return absl::OkStatus();
    }
    added = pool_
                .Exec(tx, kInsertInteractionIfAbsent, a.tenant_id, a.id, a.customer_id,
                      static_cast<int>(a.kind), a.channel, absl::ToUnixMicros(a.time), a.actor,
                      a.summary, a.payload_json, a.source)
                .affected_rows() > 0;
    return absl::OkStatus();
  }));
  return added;
}

absl::StatusOr<app::PurchaseRepository::Change> PgCustomerRepository::RecordOrder(
    const domain::OrderFact& f) {
  Change change;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(f.tenant_id, [&](pqxx::work& tx) -> absl::Status {
    change = RecordOrderTx(tx, f);
    return absl::OkStatus();
  }));
  return change;
}

absl::StatusOr<std::vector<app::PurchaseRepository::Change>> PgCustomerRepository::RecordOrders(
    const std::vector<domain::OrderFact>& facts) {
  std::vector<Change> changes;
  if (facts.empty()) return changes;
  const std::string& tenant = facts.front().tenant_id;
  for (const domain::OrderFact& f : facts) {
    if (f.tenant_id != tenant) {
      return absl::InvalidArgumentError("RecordOrders takes the facts of one tenant");
    }
  }
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    changes.clear();  // a retried transaction starts over
    changes.reserve(facts.size());
    for (const domain::OrderFact& f : facts) changes.push_back(RecordOrderTx(tx, f));
    return absl::OkStatus();
  }));
  return changes;
}

}  // namespace crm::customer_store::storage

#include "services/personalization/storage/pg_personalization_repository.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/outbox/writer.h"
#include "libs/pg/sql.h"
#include "services/personalization/schema_name.h"

namespace crm::personalization::storage {
namespace {

// Rows of one product per statement: a batch holds few catalog changes.
const pg::NamedQuery kUpsertProduct{
    "upsert_product",
    "INSERT INTO personalization.products (tenant_id, sku, category_path, active, version, "
    "price_minor, currency, cost_minor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT "
    "(tenant_id, sku) DO UPDATE SET category_path = EXCLUDED.category_path, active = "
    "EXCLUDED.active, version = EXCLUDED.version, price_minor = EXCLUDED.price_minor, currency "
    "= EXCLUDED.currency, cost_minor = EXCLUDED.cost_minor WHERE "
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
    "occurred_at, topic) SELECT $1, y.source, y.sku, y.user_key, y.signal, "
    "'epoch'::timestamptz + y.micros * interval '1 microsecond', y.topic FROM (SELECT x.n, "
    "x.source, x.sku, COALESCE(l.customer_id::text, x.user_key) AS user_key, x.signal, "
    "x.micros, x.topic FROM unnest($2::text[], $3::text[], $4::text[], $5::int2[], $6::int8[], "
    "$7::text[]) WITH ORDINALITY AS x(source, sku, user_key, signal, micros, topic, n) LEFT "
    "JOIN personalization.visitor_links l ON l.tenant_id = $1 AND x.user_key = 'visitor:' || "
    "l.visitor_id) y WHERE NOT EXISTS (SELECT 1 FROM personalization.customers c WHERE "
    "c.tenant_id = $1 AND c.customer_id::text = y.user_key AND c.erased) ORDER BY y.n ON "
    "CONFLICT DO NOTHING RETURNING source, sku, user_key",
    3};
// Moves (schema 005): a visitor's link and history, a merge, an unmerge.
const pg::NamedQuery kLinkVisitor{
    "link_visitor",
    "INSERT INTO personalization.visitor_links (tenant_id, visitor_id, customer_id) SELECT $1, "
    "$2, $3::uuid WHERE NOT EXISTS (SELECT 1 FROM personalization.customers c WHERE c.tenant_id "
    "= $1 AND c.customer_id = $3::uuid AND c.erased) ON CONFLICT (tenant_id, visitor_id) DO "
    "UPDATE SET customer_id = EXCLUDED.customer_id RETURNING 1",
    1};
const pg::NamedQuery kMoveRows{
    "move_interactions",
    "UPDATE personalization.interactions SET user_key = $3 WHERE tenant_id = $1 AND user_key = $2",
    0};
const pg::NamedQuery kMergeRows{
    "merge_interactions",
    "UPDATE personalization.interactions SET user_key = $3, origin = CASE WHEN origin = '' THEN "
    "$2 ELSE origin END WHERE tenant_id = $1 AND user_key = $2",
    0};
const pg::NamedQuery kUnmergeRows{
    "unmerge_interactions",
    "UPDATE personalization.interactions SET user_key = $3, origin = '' WHERE tenant_id = $1 AND "
    "user_key = $2 AND origin = $3",
    0};
const pg::NamedQuery kRelinkVisitors{
    "relink_visitors",
    "UPDATE personalization.visitor_links SET customer_id = $3::uuid WHERE tenant_id = $1 AND "
    "customer_id = $2::uuid",
    0};
const pg::NamedQuery kForgetMerged{
    "forget_merged_customer",
    "DELETE FROM personalization.customers WHERE tenant_id = $1 AND customer_id = $2::uuid AND "
    "NOT erased",
    0};
const pg::NamedQuery kDeleteChosenOfOne{
    "delete_chosen_topics_of_one",
    "DELETE FROM personalization.chosen_topics WHERE tenant_id = $1 AND customer_id = $2::uuid", 0};
const pg::NamedQuery kHistoryOf{
    "history_of",
    absl::StrCat("SELECT source, sku, signal, ", pg::MicrosColumn("occurred_at"),
                 ", topic FROM personalization.interactions WHERE tenant_id = $1 AND user_key = $2 "
                 "ORDER BY seq"),
    5};
// Unlearnt purchases: an order's rows (all of them, or those skus).
const pg::NamedQuery kUnlearn{
    "unlearn_interactions",
    "DELETE FROM personalization.interactions WHERE tenant_id = $1 AND source = $2 AND "
    "(cardinality($3::text[]) = 0 OR sku = ANY($3::text[])) RETURNING user_key",
    1};
const pg::NamedQuery kDeleteLinksOf{
    "delete_visitor_links_of",
    "DELETE FROM personalization.visitor_links WHERE tenant_id = $1 AND customer_id::text = "
    "ANY($2::text[])",
    0};
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
const pg::NamedQuery kDeleteChosenOf{
    "delete_chosen_topics_of",
    "DELETE FROM personalization.chosen_topics WHERE tenant_id = $1 AND customer_id::text = "
    "ANY($2::text[])",
    0};
const pg::NamedQuery kDeleteOfferDecisionsOf{
    "delete_offer_decisions_of",
    "DELETE FROM personalization.offer_decisions WHERE tenant_id = $1 AND customer_id::text = "
    "ANY($2::text[])",
    0};
const pg::NamedQuery kDeleteOfferCountsOf{
    "delete_offer_counts_of",
    "DELETE FROM personalization.offer_customer_counts WHERE tenant_id = $1 AND "
    "customer_id::text = ANY($2::text[])",
    0};
const pg::NamedQuery kDeletePriceQuotesOf{
    "delete_price_quotes_of",
    "DELETE FROM personalization.price_quotes WHERE tenant_id = $1 AND customer_id::text = "
    "ANY($2::text[])",
    0};
const pg::NamedQuery kDeleteConsentsOf{
    "delete_profiling_consents_of",
    "DELETE FROM personalization.profiling_consents WHERE tenant_id = $1 AND customer_id::text = "
    "ANY($2::text[])",
    0};

// A customer's chosen topics, for update: the customer row (shared, so that
// an erasure waits) and the topics.
const pg::NamedQuery kCustomerForShare{
    "customer_for_share",
    "SELECT erased FROM personalization.customers WHERE tenant_id = $1 AND customer_id = $2::uuid "
    "FOR SHARE",
    1};
const pg::NamedQuery kChosenForUpdate{
    "chosen_topics_for_update",
    absl::StrCat("SELECT topics::text, version, ", pg::MicrosColumn("updated_at"),
                 " FROM personalization.chosen_topics WHERE tenant_id = $1 AND customer_id = "
                 "$2::uuid FOR UPDATE"),
    3};
const pg::NamedQuery kSaveChosen{
    "save_chosen_topics",
    absl::StrCat("INSERT INTO personalization.chosen_topics (tenant_id, customer_id, topics, "
                 "version, updated_at) VALUES ($1, $2::uuid, $3::jsonb, $4, ",
                 pg::MicrosParam(5),
                 ") ON CONFLICT (tenant_id, customer_id) DO UPDATE SET topics = EXCLUDED.topics, "
                 "version = EXCLUDED.version, updated_at = EXCLUDED.updated_at"),
    0};

// The rebuild, across tenants (schema 001: scheduler_read).
const pg::NamedQuery kSchedulerOn{"scheduler_on", "SELECT set_config('app.scheduler', 'on', true)",
                                  1};
const pg::NamedQuery kLoadProducts{
    "load_products",
    "SELECT tenant_id::text, sku, category_path, active, version, price_minor, currency, "
    "cost_minor FROM personalization.products",
    8};
const pg::NamedQuery kLoadCustomers{
    "load_customers",
    "SELECT tenant_id::text, customer_id::text FROM personalization.customers WHERE NOT erased", 2};
const pg::NamedQuery kLoadConsents{
    "load_profiling_consents",
    absl::StrCat("SELECT tenant_id::text, customer_id::text, channel, status, ",
                 pg::MicrosColumn("recorded_at"), " FROM personalization.profiling_consents"),
    5};
const pg::NamedQuery kLoadChosen{
    "load_chosen_topics",
    absl::StrCat("SELECT tenant_id::text, customer_id::text, topics::text, version, ",
                 pg::MicrosColumn("updated_at"), " FROM personalization.chosen_topics"),
    5};
const pg::NamedQuery kLoadInteractions{
    "load_interactions",
    absl::StrCat("SELECT tenant_id::text, source, sku, user_key, signal, ",
                 pg::MicrosColumn("occurred_at"),
                 ", topic FROM personalization.interactions ORDER BY seq"),
    7};

// {"topic": true, ...}
std::string TopicsJson(const absl::flat_hash_map<std::string, bool>& topics) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [topic, interested] : topics) j[topic] = interested;
  return j.dump();
}

absl::StatusOr<absl::flat_hash_map<std::string, bool>> TopicsOf(const std::string& text) {
  return outbox::ParseJsonAnswer<absl::flat_hash_map<std::string, bool>>(
      text,
      [](const nlohmann::json& j, bool& ok) {
        absl::flat_hash_map<std::string, bool> out;
        if (!j.is_object()) ok = false;
        for (const auto& [topic, v] : j.items()) {
          if (!v.is_boolean()) ok = false;
          if (ok) out[topic] = v.get<bool>();
        }
        return out;
      },
      "stored chosen topics unreadable");
}

// The answer kept with a ChooseTopics idempotency key.
std::string EncodeChosen(const app::ChosenTopics& c) {
  return nlohmann::json{{"customer_id", c.customer_id},
                        {"topics", nlohmann::json::parse(TopicsJson(c.topics))},
                        {"version", c.version},
                        {"update_time_us", absl::ToUnixMicros(c.update_time)}}
      .dump();
}

absl::StatusOr<app::ChosenTopics> DecodeChosen(const std::string& text) {
  return outbox::ParseJsonAnswer<app::ChosenTopics>(
      text,
      [](const nlohmann::json& j, bool& ok) {
        app::ChosenTopics c;
        c.customer_id = j.at("customer_id").get<std::string>();
        auto topics = TopicsOf(j.at("topics").dump());
        if (topics.ok()) c.topics = *std::move(topics);
        ok = topics.ok();
        c.version = j.at("version").get<std::int64_t>();
        c.update_time = absl::FromUnixMicros(j.at("update_time_us").get<std::int64_t>());
        return c;
      },
      "stored answer unreadable");
}

const outbox::AnswerCodec<app::ChosenTopics>& ChosenAnswer() {
  static const auto* codec = new outbox::AnswerCodec<app::ChosenTopics>(
      outbox::SnapshotCodec<app::ChosenTopics>(&EncodeChosen, &DecodeChosen));
  return *codec;
}

}  // namespace

PgPersonalizationRepository::PgPersonalizationRepository(pg::Pool& pool)
    : pool_(pool), writer_(pool, kSchema) {}

std::vector<pg::NamedQuery> PgPersonalizationRepository::Queries() {
  // kLoadInteractions runs through a cursor: listed for its column check.
  std::vector<pg::NamedQuery> q = {kUpsertProduct,
                                   kInsertCustomers,
                                   kUpsertConsent,
                                   kInsertInteractions,
                                   kEraseCustomers,
                                   kDeleteInteractionsOf,
                                   kDeleteConsentsOf,
                                   kDeleteChosenOf,
                                   kDeleteOfferDecisionsOf,
                                   kDeleteOfferCountsOf,
                                   kDeletePriceQuotesOf,
                                   kCustomerForShare,
                                   kChosenForUpdate,
                                   kSaveChosen,
                                   kSchedulerOn,
                                   kLoadProducts,
                                   kLoadCustomers,
                                   kLoadConsents,
                                   kLoadChosen,
                                   kLoadInteractions,
                                   kLinkVisitor,
                                   kMoveRows,
                                   kMergeRows,
                                   kUnmergeRows,
                                   kRelinkVisitors,
                                   kForgetMerged,
                                   kDeleteChosenOfOne,
                                   kHistoryOf,
                                   kDeleteLinksOf,
                                   kUnlearn};
  for (pg::NamedQuery& w : outbox::TransactionalWriter::Queries(kSchema)) q.push_back(std::move(w));
  return q;
}

absl::StatusOr<app::StoredBatch> PgPersonalizationRepository::Store(const std::string& tenant,
                                                                    const app::TenantBatch& b) {
  app::StoredBatch out;
  absl::Status s = pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = app::StoredBatch{};
    for (const app::ProductRow& p : b.products) {
      out.newer_products.push_back(!pool_
                                        .Exec(tx, kUpsertProduct, tenant, p.sku, p.category_path,
                                              p.active, p.version, p.price_minor, p.currency_code,
                                              p.cost_minor)
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
      std::vector<std::string> sources, skus, users, signals, micros, topics;
      for (const app::InteractionRow& r : b.interactions) {
        sources.push_back(r.source);
        skus.push_back(r.sku);
        users.push_back(r.user_key);
        signals.push_back(absl::StrCat(static_cast<int>(r.signal)));
        micros.push_back(absl::StrCat(absl::ToUnixMicros(r.time)));
        topics.push_back(r.topic);
      }
      pqxx::result inserted = pool_.Exec(
          tx, kInsertInteractions, tenant, pg::TextArrayLiteral(sources),
          pg::TextArrayLiteral(skus), pg::TextArrayLiteral(users), pg::TextArrayLiteral(signals),
          pg::TextArrayLiteral(micros), pg::TextArrayLiteral(topics));
      absl::flat_hash_map<std::pair<std::string, std::string>, std::string> fresh;
      for (const auto& row : inserted) {
        fresh.emplace(std::make_pair(row[0].as<std::string>(), row[1].as<std::string>()),
                      row[2].as<std::string>());
      }
      // A batch may repeat a row (an event delivered twice in one read): the first is new.
      out.stored_users.assign(b.interactions.size(), "");
      for (std::size_t k = 0; k < b.interactions.size(); ++k) {
        const app::InteractionRow& r = b.interactions[k];
        auto it = fresh.find({r.source, r.sku});
        if (it == fresh.end()) continue;
        out.new_interactions[k] = true;
        out.stored_users[k] = it->second;
        fresh.erase(it);
      }
    }
    // Moves, in event order; then the histories they touched, as stored now.
    std::vector<std::string> touched;
    for (const app::HistoryMove& m : b.moves) {
      switch (m.kind) {
        case app::HistoryMove::Kind::kIdentified:
          if (pool_.Exec(tx, kLinkVisitor, tenant, m.from, m.to).empty()) continue;  // erased
          pool_.Exec(tx, kMoveRows, tenant, app::VisitorKey(m.from), m.to);
          touched.push_back(app::VisitorKey(m.from));
          break;
        case app::HistoryMove::Kind::kMerged:
          pool_.Exec(tx, kMergeRows, tenant, m.from, m.to);
          pool_.Exec(tx, kRelinkVisitors, tenant, m.from, m.to);
          pool_.Exec(tx, kForgetMerged, tenant, m.from);
          pool_.Exec(tx, kDeleteChosenOfOne, tenant, m.from);
          out.merged_away.push_back(m.from);
          touched.push_back(m.from);
          break;
        case app::HistoryMove::Kind::kUnmerged:
          pool_.Exec(tx, kUnmergeRows, tenant, m.from, m.to);
          touched.push_back(m.from);
          break;
      }
      touched.push_back(m.to);
    }
    for (const auto& [source, skus] : b.unlearned) {
      for (const auto& r : pool_.Exec(tx, kUnlearn, tenant, source, pg::TextArrayLiteral(skus))) {
        touched.push_back(r[0].as<std::string>());
      }
    }
    absl::flat_hash_set<std::string> listed;
    for (const std::string& u : touched) {
      if (!listed.insert(u).second) continue;
      app::UserHistory h{u, {}};
      for (const auto& r : pool_.Exec(tx, kHistoryOf, tenant, u)) {
        h.rows.push_back(app::InteractionRow{u, r[1].as<std::string>(), r[0].as<std::string>(),
                                             static_cast<domain::Signal>(r[2].as<int>()),
                                             absl::FromUnixMicros(r[3].as<std::int64_t>()),
                                             r[4].as<std::string>()});
      }
      out.moved.push_back(std::move(h));
    }
    if (!b.erased_customers.empty()) {
      const std::string ids = pg::TextArrayLiteral(b.erased_customers);
      pool_.Exec(tx, kEraseCustomers, tenant, ids);
      pool_.Exec(tx, kDeleteInteractionsOf, tenant, ids);
      pool_.Exec(tx, kDeleteConsentsOf, tenant, ids);
      pool_.Exec(tx, kDeleteChosenOf, tenant, ids);
      pool_.Exec(tx, kDeleteOfferDecisionsOf, tenant, ids);
      pool_.Exec(tx, kDeleteLinksOf, tenant, ids);
      pool_.Exec(tx, kDeleteOfferCountsOf, tenant, ids);
      pool_.Exec(tx, kDeletePriceQuotesOf, tenant, ids);
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
      rows.Product(
          r[0].as<std::string>(),
          app::ProductRow{r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<bool>(),
                          r[4].as<std::int64_t>(), r[5].as<std::int64_t>(), r[6].as<std::string>(),
                          r[7].is_null() ? std::nullopt : std::optional(r[7].as<std::int64_t>())});
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
    for (const auto& r : pool_.Exec(tx, kLoadChosen)) {
      CRM_ASSIGN_OR_RETURN(auto topics, TopicsOf(r[2].as<std::string>()));
      rows.Chosen(
          r[0].as<std::string>(),
          app::ChosenTopics{r[1].as<std::string>(), std::move(topics), r[3].as<std::int64_t>(),
                            absl::FromUnixMicros(r[4].as<std::int64_t>())});
    }
    // Through a cursor, 10,000 rows a fetch: the interactions may be many.
    tx.exec(absl::StrCat("DECLARE load_interactions NO SCROLL CURSOR FOR ", kLoadInteractions.sql));
    for (;;) {
      pqxx::result batch = tx.exec("FETCH 10000 FROM load_interactions");
      if (batch.empty()) break;
      for (const auto& r : batch) {
        rows.Interaction(
            r[0].as<std::string>(),
            app::InteractionRow{r[3].as<std::string>(), r[2].as<std::string>(),
                                r[1].as<std::string>(), static_cast<domain::Signal>(r[4].as<int>()),
                                absl::FromUnixMicros(r[5].as<std::int64_t>()),
                                r[6].as<std::string>()});
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace crm::personalization::storage

namespace crm::personalization::storage {

class PgPersonalizationRepository::Tx final : public app::InterestTx {
 public:
  Tx(pg::Pool& pool, const outbox::WriteTx& w) : pool_(pool), w_(w) {}
  absl::StatusOr<app::ChosenTopics> LoadChosen(const std::string& customer_id) override {
    pqxx::result c = pool_.Exec(w_.sql(), kCustomerForShare, w_.tenant(), customer_id);
    if (c.empty() || c[0][0].as<bool>()) {
      return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
    }
    app::ChosenTopics out;
    out.customer_id = customer_id;
    pqxx::result r = pool_.Exec(w_.sql(), kChosenForUpdate, w_.tenant(), customer_id);
    if (r.empty()) return out;
    CRM_ASSIGN_OR_RETURN(out.topics, TopicsOf(r[0][0].as<std::string>()));
    out.version = r[0][1].as<std::int64_t>();
    out.update_time = absl::FromUnixMicros(r[0][2].as<std::int64_t>());
    return out;
  }
  void SaveChosen(const app::ChosenTopics& c) override {
    pool_.Exec(w_.sql(), kSaveChosen, w_.tenant(), c.customer_id, TopicsJson(c.topics), c.version,
               absl::ToUnixMicros(c.update_time));
  }

 private:
  pg::Pool& pool_;
  const outbox::WriteTx& w_;
};

absl::StatusOr<app::ChosenTopics> PgPersonalizationRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::ChosenTopics>(app::InterestTx&)> work) {
  return outbox::WriteOnce<app::ChosenTopics>(
      writer_, meta, resource, ChosenAnswer(),
      [&](const outbox::WriteTx& w) -> absl::StatusOr<app::ChosenTopics> {
        Tx tx(pool_, w);
        return work(tx);
      });
}

}  // namespace crm::personalization::storage

// Behaviour events over PostgreSQL: the append-only, month-partitioned
// customer_store.behaviour_events (schema/010_behaviour.sql), the visitor
// links, their reads for the 360 view and the export, and their erasure.
// A batch is one multi-row INSERT (unnest of arrays) and its outbox events
// go in with the audit row in one statement (outbox::TransactionalWriter's
// pending write): a fixed number of round trips whatever the batch size.
#include <nlohmann/json.hpp>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "libs/pg/sql.h"
#include "services/customer_store/storage/pg_customer_repository.h"
#include "services/customer_store/storage/shared_queries.h"

namespace crm::customer_store::storage {
namespace {

std::string Micros(const char* col) { return pg::MicrosColumn(col); }

constexpr char kEventColumns[] =
    "id::text, type, (extract(epoch from occurred_at) * 1000000)::int8, "
    "(extract(epoch from received_at) * 1000000)::int8, coalesce(customer_id::text, ''), "
    "visitor_id, properties::text, ip_prefix, device_class";

// The monthly partitions of [$1, $2] (microseconds) exist afterwards.
const pg::NamedQuery kEnsureBehaviourPartitions{
    "ensure_behaviour_partitions",
    absl::StrCat("SELECT customer_store.ensure_behaviour_partitions(", pg::MicrosParam(1), ", ",
                 pg::MicrosParam(2), ")"),
    1};
const pg::NamedQuery kInsertBehaviourEvents{
    "insert_behaviour_events",
    absl::StrCat(
        "INSERT INTO customer_store.behaviour_events (tenant_id, id, occurred_at, received_at, "
        "type, customer_id, visitor_id, properties, ip_prefix, device_class) SELECT $1, "
        "e.id::uuid, 'epoch'::timestamptz + e.occ * interval '1 microsecond', ",
        pg::MicrosParam(2),
        ", e.type, nullif(e.cid, '')::uuid, e.vid, e.props::jsonb, e.ip, e.dev FROM "
        "unnest($3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], "
        "$9::text[], $10::int2[]) AS e(id, occ, type, cid, vid, props, ip, dev)"),
    0};
const pg::NamedQuery kLockCustomers{
    "lock_customers",
    "SELECT id::text FROM customer_store.customers WHERE tenant_id = $1 AND id = "
    "ANY($2::uuid[]) ORDER BY id FOR KEY SHARE",
    1};
const pg::NamedQuery kSelectVisitorOwners{
    "select_visitor_owners",
    "SELECT l.visitor_id, l.customer_id::text FROM customer_store.visitor_links l WHERE "
    "l.tenant_id = $1 AND l.visitor_id = ANY($2::text[])",
    2};
const pg::NamedQuery kInsertVisitorLink{
    "insert_visitor_link",
    "INSERT INTO customer_store.visitor_links (tenant_id, visitor_id, customer_id) VALUES ($1, "
    "$2, $3) ON CONFLICT DO NOTHING RETURNING 1",
    1};
const pg::NamedQuery kCountAnonymousEvents{
    "count_anonymous_events",
    "SELECT count(*) FROM customer_store.behaviour_events WHERE tenant_id = $1 AND visitor_id = "
    "$2 AND customer_id IS NULL",
    1};
// What counts for customer $2: its own events and those of the customers
// merged into it, plus the anonymous events of their linked visitors
// (disjoint: an event tracked for a customer counts for that one only).
const pg::NamedQuery kSelectBehaviourOf{
    "select_behaviour_of",
    absl::StrCat(
        "(SELECT ", kEventColumns,
        " FROM customer_store.behaviour_events WHERE tenant_id = $1 AND customer_id IN ",
        kMergedInto, " AND occurred_at >= ", pg::MicrosParam(3), ") UNION ALL (SELECT ",
        kEventColumns,
        " FROM customer_store.behaviour_events WHERE tenant_id = $1 AND customer_id IS NULL AND "
        "visitor_id IN (SELECT l.visitor_id FROM customer_store.visitor_links l WHERE "
        "l.tenant_id = $1 AND l.customer_id IN ",
        kMergedInto, ") AND occurred_at >= ", pg::MicrosParam(3),
        ") ORDER BY 3 DESC, 1 DESC LIMIT $4"),
    9};
// The same events on one side of $3, for the timeline's visits: at or
// before it newest first, or after it oldest first.
std::string BehaviourSide(const char* cmp, const char* order) {
  const std::string bound = absl::StrCat(" AND occurred_at ", cmp, " ", pg::MicrosParam(3));
  return absl::StrCat("(SELECT ", kEventColumns,
                      " FROM customer_store.behaviour_events WHERE tenant_id = $1 AND customer_id "
                      "IN ",
                      kMergedInto, bound, ") UNION ALL (SELECT ", kEventColumns,
                      " FROM customer_store.behaviour_events WHERE tenant_id = $1 AND customer_id "
                      "IS NULL AND visitor_id IN (SELECT l.visitor_id FROM "
                      "customer_store.visitor_links l WHERE l.tenant_id = $1 AND l.customer_id IN ",
                      kMergedInto, ")", bound, ") ORDER BY 3 ", order, ", 1 ", order, " LIMIT $4");
}
const pg::NamedQuery kSelectBehaviourUpTo{"select_behaviour_up_to", BehaviourSide("<=", "DESC"), 9};
const pg::NamedQuery kSelectBehaviourAfter{"select_behaviour_after", BehaviourSide(">", "ASC"), 9};
// Every event tracked with visitor id $2 on one side of $3, as above
// (behaviour_events_visitor_idx).
std::string VisitorSide(const char* cmp, const char* order) {
  return absl::StrCat("SELECT ", kEventColumns,
                      " FROM customer_store.behaviour_events WHERE tenant_id = $1 AND visitor_id = "
                      "$2 AND visitor_id <> '' AND occurred_at ",
                      cmp, " ", pg::MicrosParam(3), " ORDER BY occurred_at ", order, ", id ", order,
                      " LIMIT $4");
}
const pg::NamedQuery kSelectVisitorUpTo{"select_visitor_up_to", VisitorSide("<=", "DESC"), 9};
const pg::NamedQuery kSelectVisitorAfter{"select_visitor_after", VisitorSide(">", "ASC"), 9};
const pg::NamedQuery kSelectVisitorLinksOf{
    "select_visitor_links_of",
    absl::StrCat("SELECT visitor_id, ", Micros("linked_at"),
                 " FROM customer_store.visitor_links WHERE tenant_id = $1 AND customer_id IN ",
                 kMergedInto, " ORDER BY linked_at, visitor_id"),
    2};
const pg::NamedQuery kDeleteBehaviourOf{
    "delete_behaviour_of",
    absl::StrCat("WITH d AS (DELETE FROM customer_store.behaviour_events WHERE tenant_id = $1 AND "
                 "(customer_id IN ",
                 kMergedInto,
                 " OR (customer_id IS NULL AND visitor_id IN (SELECT l.visitor_id FROM "
                 "customer_store.visitor_links l WHERE l.tenant_id = $1 AND l.customer_id IN ",
                 kMergedInto, "))) RETURNING 1) SELECT count(*) FROM d"),
    1};
const pg::NamedQuery kDeleteVisitorLinksOf{
    "delete_visitor_links_of",
    absl::StrCat("WITH d AS (DELETE FROM customer_store.visitor_links WHERE tenant_id = $1 AND "
                 "customer_id IN ",
                 kMergedInto, " RETURNING 1) SELECT count(*) FROM d"),
    1};

// Retention (schema/011_behaviour_retention.sql). A tenant's first write
// inserts its row with the defaults so that concurrent first writes queue
// on the row lock like any other.
const std::string kSettingsColumns =
    absl::StrCat("retention_days, version, ", Micros("update_time"));
const pg::NamedQuery kSelectBehaviourSettings{
    "select_behaviour_settings",
    absl::StrCat("SELECT ", kSettingsColumns,
                 " FROM customer_store.behaviour_settings WHERE tenant_id = $1"),
    3};
const pg::NamedQuery kInsertDefaultBehaviourSettings{
    "insert_default_behaviour_settings",
    "INSERT INTO customer_store.behaviour_settings (tenant_id, retention_days, version, "
    "update_time) VALUES ($1, 0, 0, 'epoch') ON CONFLICT DO NOTHING",
    0};
const pg::NamedQuery kLockBehaviourSettings{
    "lock_behaviour_settings",
    absl::StrCat("SELECT ", kSettingsColumns,
                 " FROM customer_store.behaviour_settings WHERE tenant_id = $1 FOR UPDATE"),
    3};
const pg::NamedQuery kSaveBehaviourSettings{
    "save_behaviour_settings",
    absl::StrCat("UPDATE customer_store.behaviour_settings SET retention_days = $2, version = $3, "
                 "update_time = ",
                 pg::MicrosParam(4), " WHERE tenant_id = $1"),
    0};
// Across tenants: the caller set app.maintenance (maintenance_read).
const pg::NamedQuery kSelectTenantsWithRetention{
    "select_tenants_with_retention",
    absl::StrCat("SELECT tenant_id::text, ", kSettingsColumns,
                 " FROM customer_store.behaviour_settings WHERE retention_days > 0 ORDER BY "
                 "tenant_id"),
    4};
// One step: blocks [$3, $3 + $4) of every partition old enough (a TID
// range scan each), and the largest partition's size in blocks.
const pg::NamedQuery kDeleteBehaviourBefore{
    "delete_behaviour_before",
    absl::StrCat("WITH d AS (DELETE FROM customer_store.behaviour_events WHERE tenant_id = $1 "
                 "AND occurred_at < ",
                 pg::MicrosParam(2),
                 " AND ctid >= ('(' || $3::int8 || ',0)')::tid AND ctid < ('(' || ($3::int8 + "
                 "$4::int8) || ',0)')::tid RETURNING 1) SELECT (SELECT count(*) FROM d), (SELECT "
                 "coalesce(max(pg_relation_size(i.inhrelid)), 0) / "
                 "current_setting('block_size')::int8 FROM pg_inherits i WHERE i.inhparent = "
                 "'customer_store.behaviour_events'::regclass)"),
    2};
const pg::NamedQuery kDropEmptyBehaviourPartitions{
    "drop_empty_behaviour_partitions",
    absl::StrCat("SELECT customer_store.drop_empty_behaviour_partitions(", pg::MicrosParam(1), ")"),
    1};

domain::BehaviourSettings SettingsFromRow(const pqxx::row& r, int first = 0) {
  domain::BehaviourSettings s;
  s.retention_days = r[first].as<int64_t>();
  s.version = r[first + 1].as<int64_t>();
  if (s.version > 0) s.update_time = absl::FromUnixMicros(r[first + 2].as<int64_t>());
  return s;
}

// Months (year * 12 + month - 1, UTC) whose partition is known to exist.
absl::Mutex months_mu;
std::set<int64_t>& KnownMonths() ABSL_EXCLUSIVE_LOCKS_REQUIRED(months_mu) {
  static auto* months = new std::set<int64_t>();
  return *months;
}
int64_t MonthOf(absl::Time t) {
  const absl::CivilSecond c = absl::ToCivilSecond(t, absl::UTCTimeZone());
  return c.year() * 12 + (c.month() - 1);
}

std::string PropertiesJson(const domain::BehaviourProperties& p) {
  nlohmann::json j = nlohmann::json::object();
  auto text = [&](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = v;
  };
  text("url", p.url);
  text("path", p.path);
  text("referrer", p.referrer);
  text("title", p.title);
  text("sku", p.sku);
  if (!p.category_path.empty()) j["category_path"] = p.category_path;
  text("search_query", p.search_query);
  text("utm_source", p.utm_source);
  text("utm_medium", p.utm_medium);
  text("utm_campaign", p.utm_campaign);
  text("utm_term", p.utm_term);
  text("utm_content", p.utm_content);
  if (p.value != 0) j["value"] = p.value;
  text("currency_code", p.currency_code);
  if (p.quantity != 0) j["quantity"] = p.quantity;
  if (!p.custom.empty()) j["custom"] = p.custom;
  return j.dump();
}

domain::BehaviourProperties PropertiesFromJson(const std::string& s) {
  domain::BehaviourProperties p;
  nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
  if (!j.is_object()) return p;
  auto text = [&](const char* k, std::string& out) {
    if (auto it = j.find(k); it != j.end() && it->is_string()) out = it->get<std::string>();
  };
  text("url", p.url);
  text("path", p.path);
  text("referrer", p.referrer);
  text("title", p.title);
  text("sku", p.sku);
  if (auto it = j.find("category_path"); it != j.end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) p.category_path.push_back(v.get<std::string>());
    }
  }
  text("search_query", p.search_query);
  text("utm_source", p.utm_source);
  text("utm_medium", p.utm_medium);
  text("utm_campaign", p.utm_campaign);
  text("utm_term", p.utm_term);
  text("utm_content", p.utm_content);
  if (auto it = j.find("value"); it != j.end() && it->is_number()) p.value = it->get<double>();
  text("currency_code", p.currency_code);
  if (auto it = j.find("quantity"); it != j.end() && it->is_number_integer()) {
    p.quantity = it->get<int64_t>();
  }
  if (auto it = j.find("custom"); it != j.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      if (v.is_string()) p.custom[k] = v.get<std::string>();
    }
  }
  return p;
}

domain::BehaviourEvent EventFromRow(const pqxx::row& r) {
  domain::BehaviourEvent e;
  e.id = r[0].as<std::string>();
  e.type = r[1].as<std::string>();
  e.occur_time = absl::FromUnixMicros(r[2].as<int64_t>());
  e.receive_time = absl::FromUnixMicros(r[3].as<int64_t>());
  e.customer_id = r[4].as<std::string>();
  e.visitor_id = r[5].as<std::string>();
  e.properties = PropertiesFromJson(r[6].as<std::string>());
  e.ip_prefix = r[7].as<std::string>();
  e.device_class = static_cast<domain::DeviceClass>(r[8].as<int>());
  return e;
}

// The stored answers (snapshots; no personal data but ids).
std::string TrackJson(const app::TrackOutcome& o) {
  nlohmann::json results = nlohmann::json::array();
  for (const app::TrackResult& r : o.results) {
    results.push_back({{"i", r.index},
                       {"a", r.accepted},
                       {"e", r.event_id},
                       {"c", r.customer_id},
                       {"r", r.reason},
                       {"f", r.field},
                       {"m", r.message}});
  }
  return nlohmann::json{{"results", results}, {"accepted", o.accepted}, {"refused", o.refused}}
      .dump();
}

absl::Status ForgottenAnswer() {
  return common::NotFound("CUSTOMER_NOT_FOUND",
                          "the customer this request_id answered about was erased");
}

const outbox::AnswerCodec<app::TrackOutcome> kTrackCodec = outbox::SnapshotCodec<app::TrackOutcome>(
    TrackJson, [](const std::string& s) -> absl::StatusOr<app::TrackOutcome> {
      if (s.empty()) return ForgottenAnswer();
      return outbox::ParseJsonAnswer<app::TrackOutcome>(
          s,
          [](const nlohmann::json& j, bool&) {
            app::TrackOutcome o;
            for (const auto& r : j.at("results")) {
              o.results.push_back({r.at("i").get<int>(), r.at("a").get<bool>(),
                                   r.at("e").get<std::string>(), r.at("c").get<std::string>(),
                                   r.at("r").get<std::string>(), r.at("f").get<std::string>(),
                                   r.at("m").get<std::string>()});
            }
            o.accepted = j.at("accepted").get<int>();
            o.refused = j.at("refused").get<int>();
            return o;
          },
          "stored TrackEvents answer is corrupt");
    });

const outbox::AnswerCodec<app::IdentifyOutcome> kIdentifyCodec =
    outbox::SnapshotCodec<app::IdentifyOutcome>(
        [](const app::IdentifyOutcome& o) {
          return nlohmann::json{{"customer_id", o.customer_id},
                                {"visitor_id", o.visitor_id},
                                {"linked", o.linked},
                                {"earlier_events", o.earlier_events}}
              .dump();
        },
        [](const std::string& s) -> absl::StatusOr<app::IdentifyOutcome> {
          if (s.empty()) return ForgottenAnswer();
          return outbox::ParseJsonAnswer<app::IdentifyOutcome>(
              s,
              [](const nlohmann::json& j, bool&) {
                return app::IdentifyOutcome{
                    j.at("customer_id").get<std::string>(), j.at("visitor_id").get<std::string>(),
                    j.at("linked").get<bool>(), j.at("earlier_events").get<int64_t>()};
              },
              "stored IdentifyCustomer answer is corrupt");
        });

std::string SettingsJson(const domain::BehaviourSettings& s) {
  return nlohmann::json{{"retention_days", s.retention_days},
                        {"version", s.version},
                        {"update_time_us", s.version > 0 ? absl::ToUnixMicros(s.update_time) : 0}}
      .dump();
}

const outbox::AnswerCodec<domain::BehaviourSettings> kSettingsCodec =
    outbox::SnapshotCodec<domain::BehaviourSettings>(
        SettingsJson, [](const std::string& s) -> absl::StatusOr<domain::BehaviourSettings> {
          return outbox::ParseJsonAnswer<domain::BehaviourSettings>(
              s,
              [](const nlohmann::json& j, bool&) {
                domain::BehaviourSettings out;
                out.retention_days = j.at("retention_days").get<int64_t>();
                out.version = j.at("version").get<int64_t>();
                if (out.version > 0) {
                  out.update_time = absl::FromUnixMicros(j.at("update_time_us").get<int64_t>());
                }
                return out;
              },
              "stored behaviour settings answer is corrupt");
        });

}  // namespace

std::vector<pg::NamedQuery> PgCustomerRepository::BehaviourQueries() {
  return {kLockCustomers,
          kEnsureBehaviourPartitions,
          kInsertBehaviourEvents,
          kSelectVisitorOwners,
          kInsertVisitorLink,
          kCountAnonymousEvents,
          kSelectBehaviourOf,
          kSelectVisitorLinksOf,
          kDeleteBehaviourOf,
          kDeleteVisitorLinksOf,
          kSelectBehaviourSettings,
          kInsertDefaultBehaviourSettings,
          kLockBehaviourSettings,
          kSaveBehaviourSettings,
          kSelectTenantsWithRetention,
          kDeleteBehaviourBefore,
          kDropEmptyBehaviourPartitions,
          kSelectBehaviourUpTo,
          kSelectBehaviourAfter,
          kSelectVisitorUpTo,
          kSelectVisitorAfter};
}

class PgCustomerRepository::BehaviourTx final : public app::BehaviourTx {
 public:
  BehaviourTx(PgCustomerRepository& repo, const outbox::WriteTx& w) : repo_(repo), w_(w) {}

  domain::RefLookup LookupRefs(const std::vector<std::string>& ids,
                               const std::vector<domain::IdentityKey>& keys) override {
    return repo_.LookupRefsTx(w_.sql(), w_.tenant(), ids, keys);
  }
  std::map<std::string, std::string> VisitorOwners(
      const std::vector<std::string>& visitor_ids) override {
    std::map<std::string, std::string> out;
    for (const auto& r : Exec(kSelectVisitorOwners, pg::TextArrayLiteral(visitor_ids))) {
      out[r[0].as<std::string>()] = r[1].as<std::string>();
    }
    return out;
  }
  absl::Status LockCustomer(const std::string& id) override {
    if (!Exec(kLockCustomer, id).empty()) return absl::OkStatus();
    return repo_.NotFoundOrMerged(w_.sql(), w_.tenant(), id);
  }
  std::set<std::string> LockCustomers(const std::set<std::string>& ids) override {
    std::set<std::string> out;
    for (const auto& r : Exec(kLockCustomers, pg::TextArrayLiteral(std::vector<std::string>(
                                                  ids.begin(), ids.end())))) {
      out.insert(r[0].as<std::string>());
    }
    return out;
  }
  void AppendEvents(const std::vector<domain::BehaviourEvent>& events) override {
    EnsurePartitions(events);
    std::vector<std::string> ids, occurred, types, customers, visitors, props, ips, devices;
    for (auto* v : {&ids, &occurred, &types, &customers, &visitors, &props, &ips, &devices}) {
      v->reserve(events.size());
    }
    for (const domain::BehaviourEvent& e : events) {
      ids.push_back(e.id);
      occurred.push_back(absl::StrCat(absl::ToUnixMicros(e.occur_time)));
      types.push_back(e.type);
      customers.push_back(e.customer_id);
      visitors.push_back(e.visitor_id);
      props.push_back(PropertiesJson(e.properties));
      ips.push_back(e.ip_prefix);
      devices.push_back(absl::StrCat(static_cast<int>(e.device_class)));
    }
    Exec(kInsertBehaviourEvents, absl::ToUnixMicros(events.front().receive_time),
         pg::TextArrayLiteral(ids), pg::TextArrayLiteral(occurred), pg::TextArrayLiteral(types),
         pg::TextArrayLiteral(customers), pg::TextArrayLiteral(visitors),
         pg::TextArrayLiteral(props), pg::TextArrayLiteral(ips), pg::TextArrayLiteral(devices));
  }
  bool LinkVisitor(const std::string& customer_id, const std::string& visitor_id) override {
    return !Exec(kInsertVisitorLink, visitor_id, customer_id).empty();
  }
  int64_t CountAnonymousEvents(const std::string& visitor_id) override {
    return Exec(kCountAnonymousEvents, visitor_id)[0][0].as<int64_t>();
  }
  // One behaviour.tracked event per call (docs/events.md), on the tenant's
  // partition: a batch is one outbox row, one stream entry and one read for
  // the relay and every consumer, not one per tracked event.
  void EmitEvents(const std::vector<domain::BehaviourEvent>& events) override {
    if (events.empty()) return;
    nlohmann::json list = nlohmann::json::array();
    for (const domain::BehaviourEvent& e : events) {
      nlohmann::json j{{"event_id", e.id},
                       {"type", e.type},
                       {"customer_id", e.customer_id},
                       {"visitor_id", e.visitor_id},
                       {"occurred_at_us", absl::StrCat(absl::ToUnixMicros(e.occur_time))},
                       {"device_class", static_cast<int>(e.device_class)}};
      const domain::BehaviourProperties& p = e.properties;
      if (!p.sku.empty()) j["sku"] = p.sku;
      if (!p.category_path.empty()) j["category_path"] = p.category_path;
      if (p.value != 0) j["value"] = p.value;
      if (!p.currency_code.empty()) j["currency_code"] = p.currency_code;
      if (p.quantity != 0) j["quantity"] = p.quantity;
      if (!p.utm_campaign.empty()) j["utm_campaign"] = p.utm_campaign;
      list.push_back(std::move(j));
    }
    w_.Emit("", "behaviour.tracked", nlohmann::json{{"events", std::move(list)}}.dump());
  }
  void EmitIdentified(const app::IdentifyOutcome& o) override {
    w_.Emit(o.customer_id, "customer.identified",
            nlohmann::json{{"customer_id", o.customer_id},
                           {"visitor_id", o.visitor_id},
                           {"earlier_events", absl::StrCat(o.earlier_events)}}
                .dump());
  }

  domain::BehaviourSettings LoadSettings() override {
    Exec(kInsertDefaultBehaviourSettings);
    return SettingsFromRow(Exec(kLockBehaviourSettings)[0]);
  }
  void SaveSettings(const domain::BehaviourSettings& s) override {
    Exec(kSaveBehaviourSettings, s.retention_days, s.version, absl::ToUnixMicros(s.update_time));
  }
  void EmitSettings(const domain::BehaviourSettings& s) override {
    w_.Emit("", "behaviour.settings_updated",
            nlohmann::json{{"retention_days", s.retention_days}, {"version", s.version}}.dump());
  }

 private:
  // The months of the batch have their partition: asked once per month and
  // process (the function creates what is missing; a month it had to create
  // is asked again next time, so only a committed partition is remembered).
  void EnsurePartitions(const std::vector<domain::BehaviourEvent>& events) {
    absl::Time lo = absl::InfiniteFuture(), hi = absl::InfinitePast();
    std::set<int64_t> months;
    for (const auto& e : events) months.insert(MonthOf(e.occur_time));
    {
      absl::MutexLock lock(&months_mu);
      bool all = true;
      for (int64_t m : months) all = all && KnownMonths().count(m) > 0;
      if (all) return;
    }
    for (const auto& e : events) {
      lo = std::min(lo, e.occur_time);
      hi = std::max(hi, e.occur_time);
    }
    const int created = repo_.pool_
                            .Exec(w_.sql(), kEnsureBehaviourPartitions, absl::ToUnixMicros(lo),
                                  absl::ToUnixMicros(hi))[0][0]
                            .as<int>();
    if (created == 0) {
      absl::MutexLock lock(&months_mu);
      KnownMonths().insert(months.begin(), months.end());
    }
  }

  template <typename... Args>
  pqxx::result Exec(const pg::NamedQuery& q, Args&&... args) {
    return repo_.pool_.Exec(w_.sql(), q, w_.tenant(), std::forward<Args>(args)...);
  }

  PgCustomerRepository& repo_;
  const outbox::WriteTx& w_;
};

absl::StatusOr<app::TrackOutcome> PgCustomerRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::TrackOutcome>(app::BehaviourTx&)> work) {
  return outbox::WriteOnce<app::TrackOutcome>(
      writer_, meta, resource, kTrackCodec,
      [&](const outbox::WriteTx& w) -> absl::StatusOr<app::TrackOutcome> {
        BehaviourTx tx(*this, w);
        return work(tx);
      });
}

absl::StatusOr<app::IdentifyOutcome> PgCustomerRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::IdentifyOutcome>(app::BehaviourTx&)> work) {
  return outbox::WriteOnce<app::IdentifyOutcome>(
      writer_, meta, resource, kIdentifyCodec,
      [&](const outbox::WriteTx& w) -> absl::StatusOr<app::IdentifyOutcome> {
        BehaviourTx tx(*this, w);
        return work(tx);
      });
}

absl::StatusOr<domain::BehaviourSettings> PgCustomerRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::BehaviourSettings>(app::BehaviourTx&)> work) {
  return outbox::WriteOnce<domain::BehaviourSettings>(
      writer_, meta, resource, kSettingsCodec,
      [&](const outbox::WriteTx& w) -> absl::StatusOr<domain::BehaviourSettings> {
        BehaviourTx tx(*this, w);
        return work(tx);
      });
}

absl::StatusOr<domain::BehaviourSettings> PgCustomerRepository::BehaviourSettingsOf(
    const std::string& tenant) {
  domain::BehaviourSettings out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) {
    pqxx::result r = pool_.Exec(tx, kSelectBehaviourSettings, tenant);
    if (!r.empty()) out = SettingsFromRow(r[0]);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, domain::BehaviourSettings>>>
PgCustomerRepository::TenantsWithRetention() {
  std::vector<std::pair<std::string, domain::BehaviourSettings>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) {
    out.clear();
    tx.exec("SELECT set_config('app.maintenance', 'on', true)");
    for (const auto& r : pool_.Exec(tx, kSelectTenantsWithRetention)) {
      out.emplace_back(r[0].as<std::string>(), SettingsFromRow(r, 1));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<common::PurgeStep> PgCustomerRepository::DeleteBehaviourBefore(
    const std::string& tenant, absl::Time cutoff, int64_t from_block, int blocks) {
  common::PurgeStep step;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) {
    const pqxx::row r = pool_.Exec(tx, kDeleteBehaviourBefore, tenant, absl::ToUnixMicros(cutoff),
                                   from_block, blocks)[0];
    step.deleted = r[0].as<int64_t>();
    step.next_block = from_block + blocks;
    step.done = step.next_block >= r[1].as<int64_t>();
    return absl::OkStatus();
  }));
  return step;
}

absl::StatusOr<int> PgCustomerRepository::DropEmptyBehaviourPartitions(absl::Time before) {
  int n = 0;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) {
    n = pool_.Exec(tx, kDropEmptyBehaviourPartitions, absl::ToUnixMicros(before))[0][0].as<int>();
    return absl::OkStatus();
  }));
  if (n > 0) {
    CRM_LOG(Info).Field("component", "behaviour_retention").Field("partitions_dropped", n)
        << "empty monthly partitions of behaviour events dropped";
    // A dropped month is created again when an event needs it.
    absl::MutexLock lock(&months_mu);
    KnownMonths().clear();
  }
  return n;
}

std::vector<domain::BehaviourEvent> PgCustomerRepository::BehaviourOf(pqxx::work& tx,
                                                                      const std::string& tenant,
                                                                      const std::string& id,
                                                                      absl::Time since, int limit) {
  std::vector<domain::BehaviourEvent> out;
  const int64_t since_us = since == absl::InfinitePast() ? 0 : absl::ToUnixMicros(since);
  for (const auto& r : pool_.Exec(tx, kSelectBehaviourOf, tenant, id, since_us, limit)) {
    out.push_back(EventFromRow(r));
  }
  return out;
}

absl::StatusOr<std::vector<domain::BehaviourEvent>> PgCustomerRepository::BehaviourFrom(
    const std::string& tenant, app::BehaviourOwner owner, const std::string& id, absl::Time from,
    bool older, int limit) {
  // Far beyond any stored time, within PostgreSQL's range.
  const int64_t from_us = from == absl::InfiniteFuture() ? int64_t{1} << 52
                          : from == absl::InfinitePast() ? -(int64_t{1} << 52)
                                                         : absl::ToUnixMicros(from);
  std::vector<domain::BehaviourEvent> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) {
    out.clear();
    const bool visitor = owner == app::BehaviourOwner::kVisitor;
    const pg::NamedQuery& q = visitor ? (older ? kSelectVisitorUpTo : kSelectVisitorAfter)
                                      : (older ? kSelectBehaviourUpTo : kSelectBehaviourAfter);
    for (const auto& r : pool_.Exec(tx, q, tenant, id, from_us, limit)) {
      out.push_back(EventFromRow(r));
    }
    return absl::OkStatus();
  }));
  return out;
}

std::vector<domain::Identity> PgCustomerRepository::VisitorIdentitiesOf(pqxx::work& tx,
                                                                        const std::string& tenant,
                                                                        const std::string& id) {
  std::vector<domain::Identity> out;
  for (const auto& r : pool_.Exec(tx, kSelectVisitorLinksOf, tenant, id)) {
    out.push_back({domain::IdentityKind::kVisitor, r[0].as<std::string>(), "",
                   absl::FromUnixMicros(r[1].as<int64_t>())});
  }
  return out;
}

std::pair<int64_t, int64_t> PgCustomerRepository::EraseBehaviourOf(pqxx::work& tx,
                                                                   const std::string& tenant,
                                                                   const std::string& id) {
  const int64_t events = pool_.Exec(tx, kDeleteBehaviourOf, tenant, id)[0][0].as<int64_t>();
  const int64_t links = pool_.Exec(tx, kDeleteVisitorLinksOf, tenant, id)[0][0].as<int64_t>();
  return {events, links};
}

}  // namespace crm::customer_store::storage

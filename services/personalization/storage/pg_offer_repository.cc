#include "services/personalization/storage/pg_offer_repository.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/pg/sql.h"
#include "services/personalization/schema_name.h"

namespace crm::personalization::storage {
namespace {

const std::string kColumns =
    absl::StrCat("offer_id, definition::text, version, retired, ", pg::MicrosColumn("created_at"),
                 ", ", pg::MicrosColumn("updated_at"));

const pg::NamedQuery kOfferForUpdate{
    "offer_for_update",
    absl::StrCat("SELECT ", kColumns,
                 " FROM personalization.offers WHERE tenant_id = $1 AND offer_id = $2 FOR UPDATE"),
    6};
const pg::NamedQuery kSelectOffer{
    "select_offer",
    absl::StrCat("SELECT ", kColumns,
                 " FROM personalization.offers WHERE tenant_id = $1 AND offer_id = $2"),
    6};
const pg::NamedQuery kCountOffers{
    "count_offers", "SELECT count(*) FROM personalization.offers WHERE tenant_id = $1", 1};
const pg::NamedQuery kSaveOffer{
    "save_offer",
    absl::StrCat("INSERT INTO personalization.offers (tenant_id, offer_id, definition, version, "
                 "retired, created_at, updated_at) VALUES ($1, $2, $3::jsonb, $4, $5, ",
                 pg::MicrosParam(6), ", ", pg::MicrosParam(7),
                 ") ON CONFLICT (tenant_id, offer_id) DO UPDATE SET definition = "
                 "EXCLUDED.definition, version = EXCLUDED.version, retired = EXCLUDED.retired, "
                 "updated_at = EXCLUDED.updated_at"),
    0};
// The caps: one more presentation unless the cap ($3, 0: none) is reached.
const pg::NamedQuery kClaimCustomer{
    "claim_offer_customer",
    "INSERT INTO personalization.offer_customer_counts AS c (tenant_id, offer_id, customer_id, "
    "presented) VALUES ($1, $2, $4::uuid, 1) ON CONFLICT (tenant_id, offer_id, customer_id) DO "
    "UPDATE SET presented = c.presented + 1 WHERE $3::int8 = 0 OR c.presented < $3::int8 "
    "RETURNING presented",
    1};
const pg::NamedQuery kUnclaimCustomer{
    "unclaim_offer_customer",
    "UPDATE personalization.offer_customer_counts SET presented = presented - 1 WHERE tenant_id = "
    "$1 AND offer_id = $2 AND customer_id = $3::uuid",
    0};
const pg::NamedQuery kClaimTotal{
    "claim_offer_total",
    "INSERT INTO personalization.offer_totals AS t (tenant_id, offer_id, presented) VALUES ($1, "
    "$2, 1) ON CONFLICT (tenant_id, offer_id) DO UPDATE SET presented = t.presented + 1 WHERE "
    "$3::int8 = 0 OR t.presented < $3::int8 RETURNING presented",
    1};
// A call's decisions in one statement.
const pg::NamedQuery kLogDecisions{
    "log_offer_decisions",
    absl::StrCat(
        "INSERT INTO personalization.offer_decisions (tenant_id, decision_id, customer_id, "
        "offer_id, offer_version, rank, expected_value, relevance, p_alive, reason, "
        "decided_at) SELECT $1, d.id::uuid, $2::uuid, d.offer, d.version, d.rank, d.ev, "
        "d.relevance, d.p_alive, $3, ",
        pg::MicrosParam(4),
        " FROM unnest($5::text[], $6::text[], $7::int8[], $8::int4[], $9::float8[], "
        "$10::float8[], $11::float8[]) AS d(id, offer, version, rank, ev, relevance, "
        "p_alive)"),
    0};
const pg::NamedQuery kPresented{
    "offer_presented",
    "SELECT count(*) FROM personalization.offer_decisions WHERE tenant_id = $1 AND offer_id = $2",
    1};
const pg::NamedQuery kSchedulerOn{"offers_scheduler_on",
                                  "SELECT set_config('app.scheduler', 'on', true)", 1};
const pg::NamedQuery kLoadOffers{
    "load_offers",
    absl::StrCat("SELECT ", kColumns, ", tenant_id::text FROM personalization.offers"), 7};

domain::OfferKind KindOf(const std::string& s) {
  if (s == "discount") return domain::OfferKind::kDiscount;
  if (s == "bundle") return domain::OfferKind::kBundle;
  if (s == "cross_sell") return domain::OfferKind::kCrossSell;
  if (s == "up_sell") return domain::OfferKind::kUpSell;
  return domain::OfferKind::kContent;
}

std::int64_t MicrosOr(absl::Time t) {
  if (t == absl::InfinitePast()) return std::numeric_limits<std::int64_t>::min();
  if (t == absl::InfiniteFuture()) return std::numeric_limits<std::int64_t>::max();
  return absl::ToUnixMicros(t);
}

absl::Time TimeOf(std::int64_t us) {
  if (us == std::numeric_limits<std::int64_t>::min()) return absl::InfinitePast();
  if (us == std::numeric_limits<std::int64_t>::max()) return absl::InfiniteFuture();
  return absl::FromUnixMicros(us);
}

nlohmann::json DefinitionJson(const domain::Offer& o) {
  return {{"display_name", o.display_name},
          {"kind", domain::OfferKindName(o.kind)},
          {"rule", o.rule},
          {"skus", o.skus},
          {"discount_bp", o.discount_bp},
          {"value_minor", o.value_minor},
          {"content", o.content},
          {"start_us", MicrosOr(o.start_time)},
          {"end_us", MicrosOr(o.end_time)},
          {"per_customer_cap", o.per_customer_cap},
          {"global_cap", o.global_cap},
          {"priority", o.priority}};
}

void FromDefinition(const nlohmann::json& j, domain::Offer& o) {
  o.display_name = j.at("display_name").get<std::string>();
  o.kind = KindOf(j.at("kind").get<std::string>());
  o.rule = j.at("rule").get<std::string>();
  o.skus = j.at("skus").get<std::vector<std::string>>();
  o.discount_bp = j.at("discount_bp").get<std::uint32_t>();
  o.value_minor = j.at("value_minor").get<std::int64_t>();
  o.content = j.at("content").get<std::string>();
  o.start_time = TimeOf(j.at("start_us").get<std::int64_t>());
  o.end_time = TimeOf(j.at("end_us").get<std::int64_t>());
  o.per_customer_cap = j.at("per_customer_cap").get<std::int64_t>();
  o.global_cap = j.at("global_cap").get<std::int64_t>();
  o.priority = j.at("priority").get<std::int32_t>();
}

nlohmann::json OfferJson(const domain::Offer& o) {
  return {{"offer_id", o.offer_id},
          {"definition", DefinitionJson(o)},
          {"version", o.version},
          {"retired", o.retired},
          {"create_time_us", absl::ToUnixMicros(o.create_time)},
          {"update_time_us", absl::ToUnixMicros(o.update_time)}};
}

domain::Offer OfferFromJson(const nlohmann::json& j) {
  domain::Offer o;
  o.offer_id = j.at("offer_id").get<std::string>();
  FromDefinition(j.at("definition"), o);
  o.version = j.at("version").get<std::int64_t>();
  o.retired = j.at("retired").get<bool>();
  o.create_time = absl::FromUnixMicros(j.at("create_time_us").get<std::int64_t>());
  o.update_time = absl::FromUnixMicros(j.at("update_time_us").get<std::int64_t>());
  return o;
}

absl::StatusOr<domain::Offer> OfferOf(const pqxx::row& r) {
  return outbox::ParseJsonAnswer<domain::Offer>(
      r[1].as<std::string>(),
      [&](const nlohmann::json& j, bool&) {
        domain::Offer o;
        o.offer_id = r[0].as<std::string>();
        FromDefinition(j, o);
        o.version = r[2].as<std::int64_t>();
        o.retired = r[3].as<bool>();
        o.create_time = absl::FromUnixMicros(r[4].as<std::int64_t>());
        o.update_time = absl::FromUnixMicros(r[5].as<std::int64_t>());
        return o;
      },
      "stored offer unreadable");
}

const outbox::AnswerCodec<domain::Offer>& OfferAnswer() {
  static const auto* codec =
      new outbox::AnswerCodec<domain::Offer>(outbox::SnapshotCodec<domain::Offer>(
          [](const domain::Offer& o) { return OfferJson(o).dump(); },
          [](const std::string& text) {
            return outbox::ParseJsonAnswer<domain::Offer>(
                text, [](const nlohmann::json& j, bool&) { return OfferFromJson(j); },
                "stored answer unreadable");
          }));
  return *codec;
}

// A next-best-offer call's answer, kept with its idempotency key.
const outbox::AnswerCodec<app::NextBestOffers>& DecisionsAnswer() {
  static const auto* codec =
      new outbox::AnswerCodec<app::NextBestOffers>(outbox::SnapshotCodec<app::NextBestOffers>(
          [](const app::NextBestOffers& n) {
            nlohmann::json decisions = nlohmann::json::array();
            for (const app::OfferDecision& d : n.decisions) {
              decisions.push_back({{"decision_id", d.decision_id},
                                   {"offer", OfferJson(d.offer)},
                                   {"rank", d.rank},
                                   {"expected_value", d.expected_value},
                                   {"relevance", d.relevance},
                                   {"p_alive", d.p_alive},
                                   {"reason", d.reason},
                                   {"decide_time_us", absl::ToUnixMicros(d.decide_time)}});
            }
            return nlohmann::json{{"decisions", decisions},
                                  {"personalized", n.personalized},
                                  {"rules_evaluated", n.rules_evaluated}}
                .dump();
          },
          [](const std::string& text) {
            return outbox::ParseJsonAnswer<app::NextBestOffers>(
                text,
                [](const nlohmann::json& j, bool&) {
                  app::NextBestOffers n;
                  n.personalized = j.at("personalized").get<bool>();
                  n.rules_evaluated = j.at("rules_evaluated").get<bool>();
                  for (const auto& d : j.at("decisions")) {
                    app::OfferDecision out;
                    out.decision_id = d.at("decision_id").get<std::string>();
                    out.offer = OfferFromJson(d.at("offer"));
                    out.rank = d.at("rank").get<int>();
                    out.expected_value = d.at("expected_value").get<double>();
                    out.relevance = d.at("relevance").get<double>();
                    out.p_alive = d.at("p_alive").get<double>();
                    out.reason = d.at("reason").get<std::string>();
                    out.decide_time =
                        absl::FromUnixMicros(d.at("decide_time_us").get<std::int64_t>());
                    n.decisions.push_back(std::move(out));
                  }
                  return n;
                },
                "stored answer unreadable");
          }));
  return *codec;
}

}  // namespace

class PgOfferRepository::Tx final : public app::OfferTx {
 public:
  Tx(pg::Pool& pool, const outbox::WriteTx& w) : pool_(pool), w_(w) {}
  absl::StatusOr<std::optional<domain::Offer>> LoadOffer(const std::string& offer_id) override {
    pqxx::result r = pool_.Exec(w_.sql(), kOfferForUpdate, w_.tenant(), offer_id);
    if (r.empty()) return std::optional<domain::Offer>();
    CRM_ASSIGN_OR_RETURN(domain::Offer o, OfferOf(r[0]));
    return std::optional<domain::Offer>(std::move(o));
  }
  absl::StatusOr<std::size_t> CountOffers() override {
    return pool_.Exec(w_.sql(), kCountOffers, w_.tenant())[0][0].as<std::size_t>();
  }
  void SaveOffer(const domain::Offer& o) override {
    pool_.Exec(w_.sql(), kSaveOffer, w_.tenant(), o.offer_id, DefinitionJson(o).dump(), o.version,
               o.retired, absl::ToUnixMicros(o.create_time), absl::ToUnixMicros(o.update_time));
  }
  absl::StatusOr<bool> ClaimPresentation(const domain::Offer& o,
                                         const std::string& customer_id) override {
    const bool mine = o.per_customer_cap > 0;
    if (mine && pool_
                    .Exec(w_.sql(), kClaimCustomer, w_.tenant(), o.offer_id, o.per_customer_cap,
                          customer_id)
                    .empty()) {
      return false;
    }
    if (o.global_cap > 0 &&
        pool_.Exec(w_.sql(), kClaimTotal, w_.tenant(), o.offer_id, o.global_cap).empty()) {
      if (mine) pool_.Exec(w_.sql(), kUnclaimCustomer, w_.tenant(), o.offer_id, customer_id);
      return false;
    }
    return true;
  }
  void LogDecisions(const std::string& customer_id,
                    const std::vector<app::OfferDecision>& decisions) override {
    std::vector<std::string> ids, offers, versions, ranks, evs, relevances, alive;
    nlohmann::json listed = nlohmann::json::array();
    for (const app::OfferDecision& d : decisions) {
      ids.push_back(d.decision_id);
      offers.push_back(d.offer.offer_id);
      versions.push_back(absl::StrCat(d.offer.version));
      ranks.push_back(absl::StrCat(d.rank));
      evs.push_back(absl::StrCat(d.expected_value));
      relevances.push_back(absl::StrCat(d.relevance));
      alive.push_back(absl::StrCat(d.p_alive));
      listed.push_back({{"decision_id", d.decision_id},
                        {"offer_id", d.offer.offer_id},
                        {"offer_version", d.offer.version},
                        {"rank", d.rank},
                        {"expected_value", d.expected_value}});
    }
    const app::OfferDecision& first = decisions.front();
    pool_.Exec(w_.sql(), kLogDecisions, w_.tenant(), customer_id, first.reason,
               absl::ToUnixMicros(first.decide_time), pg::TextArrayLiteral(ids),
               pg::TextArrayLiteral(offers), pg::TextArrayLiteral(versions),
               pg::TextArrayLiteral(ranks), pg::TextArrayLiteral(evs),
               pg::TextArrayLiteral(relevances), pg::TextArrayLiteral(alive));
    w_.Emit(customer_id, "offers.presented",
            nlohmann::json{{"customer_id", customer_id},
                           {"decisions", listed},
                           {"reason", first.reason},
                           {"decided_at_us", std::to_string(absl::ToUnixMicros(first.decide_time))}}
                .dump());
  }

 private:
  pg::Pool& pool_;
  const outbox::WriteTx& w_;
};

PgOfferRepository::PgOfferRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}

std::vector<pg::NamedQuery> PgOfferRepository::Queries() {
  return {kOfferForUpdate, kSelectOffer,     kCountOffers, kSaveOffer,
          kClaimCustomer,  kUnclaimCustomer, kClaimTotal,  kLogDecisions,
          kPresented,      kSchedulerOn,     kLoadOffers};
}

absl::StatusOr<domain::Offer> PgOfferRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Offer>(app::OfferTx&)> work) {
  return outbox::WriteOnce<domain::Offer>(writer_, meta, resource, OfferAnswer(),
                                          [&](const outbox::WriteTx& w) {
                                            Tx tx(pool_, w);
                                            return work(tx);
                                          });
}

absl::StatusOr<app::NextBestOffers> PgOfferRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::NextBestOffers>(app::OfferTx&)> work) {
  return outbox::WriteOnce<app::NextBestOffers>(writer_, meta, resource, DecisionsAnswer(),
                                                [&](const outbox::WriteTx& w) {
                                                  Tx tx(pool_, w);
                                                  return work(tx);
                                                });
}

absl::StatusOr<std::vector<std::pair<std::string, domain::Offer>>>
PgOfferRepository::LoadAllOffers() {
  std::vector<std::pair<std::string, domain::Offer>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pool_.Exec(tx, kSchedulerOn);
    for (const auto& r : pool_.Exec(tx, kLoadOffers)) {
      CRM_ASSIGN_OR_RETURN(domain::Offer o, OfferOf(r));
      out.emplace_back(r[6].as<std::string>(), std::move(o));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<domain::Offer>> PgOfferRepository::CurrentOffer(
    const std::string& tenant, const std::string& offer_id) {
  std::optional<domain::Offer> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.reset();
    pqxx::result r = pool_.Exec(tx, kSelectOffer, tenant, offer_id);
    if (r.empty()) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(domain::Offer o, OfferOf(r[0]));
    out = std::move(o);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::int64_t> PgOfferRepository::Presented(const std::string& tenant,
                                                          const std::string& offer_id) {
  std::int64_t n = 0;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    n = pool_.Exec(tx, kPresented, tenant, offer_id)[0][0].as<std::int64_t>();
    return absl::OkStatus();
  }));
  return n;
}

}  // namespace crm::personalization::storage

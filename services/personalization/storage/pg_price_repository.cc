#include "services/personalization/storage/pg_price_repository.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/pg/sql.h"
#include "services/personalization/schema_name.h"

namespace crm::personalization::storage {
namespace {

const std::string kColumns =
    absl::StrCat("definition::text, version, ", pg::MicrosColumn("updated_at"));

const pg::NamedQuery kPolicyForUpdate{
    "price_policy_for_update",
    absl::StrCat("SELECT ", kColumns,
                 " FROM personalization.price_policies WHERE tenant_id = $1 FOR UPDATE"),
    3};
const pg::NamedQuery kSelectPolicy{
    "select_price_policy",
    absl::StrCat("SELECT ", kColumns, " FROM personalization.price_policies WHERE tenant_id = $1"),
    3};
const pg::NamedQuery kSavePolicy{
    "save_price_policy",
    absl::StrCat("INSERT INTO personalization.price_policies (tenant_id, definition, version, "
                 "updated_at) VALUES ($1, $2::jsonb, $3, ",
                 pg::MicrosParam(4),
                 ") ON CONFLICT (tenant_id) DO UPDATE SET definition = EXCLUDED.definition, "
                 "version = EXCLUDED.version, updated_at = EXCLUDED.updated_at"),
    0};
const pg::NamedQuery kLogQuote{
    "log_price_quote",
    absl::StrCat("INSERT INTO personalization.price_quotes (tenant_id, quote_id, customer_id, "
                 "sku, currency, list_price_minor, unit_price_minor, discount_bp, reason, tier, "
                 "price_limit, quoted_at, expires_at) VALUES ($1, $2::uuid, $3::uuid, $4, $5, $6, "
                 "$7, $8, $9, $10, $11, ",
                 pg::MicrosParam(12), ", ", pg::MicrosParam(13), ")"),
    0};
const pg::NamedQuery kSchedulerOn{"prices_scheduler_on",
                                  "SELECT set_config('app.scheduler', 'on', true)", 1};
const pg::NamedQuery kLoadPolicies{
    "load_price_policies",
    absl::StrCat("SELECT ", kColumns, ", tenant_id::text FROM personalization.price_policies"), 4};

nlohmann::json DefinitionJson(const domain::PricePolicy& p) {
  nlohmann::json tiers = nlohmann::json::array();
  for (const domain::PriceTier& t : p.tiers) {
    tiers.push_back({{"name", t.name}, {"rule", t.rule}, {"discount_bp", t.discount_bp}});
  }
  return {{"max_discount_bp", p.guardrails.max_discount_bp},
          {"min_margin_bp", p.guardrails.min_margin_bp},
          {"quote_ttl_seconds", p.quote_ttl_seconds},
          {"tiers", tiers}};
}

void FromDefinition(const nlohmann::json& j, domain::PricePolicy& p) {
  p.guardrails.max_discount_bp = j.at("max_discount_bp").get<std::uint32_t>();
  p.guardrails.min_margin_bp = j.at("min_margin_bp").get<std::uint32_t>();
  p.quote_ttl_seconds = j.at("quote_ttl_seconds").get<std::int32_t>();
  p.tiers.clear();
  for (const auto& t : j.at("tiers")) {
    p.tiers.push_back(domain::PriceTier{t.at("name").get<std::string>(),
                                        t.at("rule").get<std::string>(),
                                        t.at("discount_bp").get<std::uint32_t>()});
  }
}

absl::StatusOr<domain::PricePolicy> PolicyOf(const pqxx::row& r) {
  return outbox::ParseJsonAnswer<domain::PricePolicy>(
      r[0].as<std::string>(),
      [&](const nlohmann::json& j, bool&) {
        domain::PricePolicy p;
        FromDefinition(j, p);
        p.version = r[1].as<std::int64_t>();
        p.update_time = absl::FromUnixMicros(r[2].as<std::int64_t>());
        return p;
      },
      "stored price policy unreadable");
}

const outbox::AnswerCodec<domain::PricePolicy>& PolicyAnswer() {
  static const auto* codec =
      new outbox::AnswerCodec<domain::PricePolicy>(outbox::SnapshotCodec<domain::PricePolicy>(
          [](const domain::PricePolicy& p) {
            return nlohmann::json{{"definition", DefinitionJson(p)},
                                  {"version", p.version},
                                  {"update_time_us", absl::ToUnixMicros(p.update_time)}}
                .dump();
          },
          [](const std::string& text) {
            return outbox::ParseJsonAnswer<domain::PricePolicy>(
                text,
                [](const nlohmann::json& j, bool&) {
                  domain::PricePolicy p;
                  FromDefinition(j.at("definition"), p);
                  p.version = j.at("version").get<std::int64_t>();
                  p.update_time = absl::FromUnixMicros(j.at("update_time_us").get<std::int64_t>());
                  return p;
                },
                "stored answer unreadable");
          }));
  return *codec;
}

const char* ReasonName(app::QuoteReason r) {
  switch (r) {
    case app::QuoteReason::kTier:
      return "tier";
    case app::QuoteReason::kNoTier:
      return "no_tier";
    case app::QuoteReason::kNotPersonalized:
      return "not_personalized";
    case app::QuoteReason::kRulesUnavailable:
      return "rules_unavailable";
  }
  return "no_tier";
}

const char* LimitName(domain::PriceLimit l) {
  switch (l) {
    case domain::PriceLimit::kNone:
      return "none";
    case domain::PriceLimit::kMaxDiscount:
      return "max_discount";
    case domain::PriceLimit::kMinMargin:
      return "min_margin";
    case domain::PriceLimit::kListPrice:
      return "list_price";
    case domain::PriceLimit::kNoCost:
      return "no_cost";
  }
  return "none";
}

}  // namespace

class PgPriceRepository::Tx final : public app::PriceTx {
 public:
  Tx(pg::Pool& pool, const outbox::WriteTx& w) : pool_(pool), w_(w) {}
  absl::StatusOr<std::optional<domain::PricePolicy>> LoadPolicy() override {
    pqxx::result r = pool_.Exec(w_.sql(), kPolicyForUpdate, w_.tenant());
    if (r.empty()) return std::optional<domain::PricePolicy>();
    CRM_ASSIGN_OR_RETURN(domain::PricePolicy p, PolicyOf(r[0]));
    return std::optional<domain::PricePolicy>(std::move(p));
  }
  void SavePolicy(const domain::PricePolicy& p) override {
    pool_.Exec(w_.sql(), kSavePolicy, w_.tenant(), DefinitionJson(p).dump(), p.version,
               absl::ToUnixMicros(p.update_time));
  }

 private:
  pg::Pool& pool_;
  const outbox::WriteTx& w_;
};

PgPriceRepository::PgPriceRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}

std::vector<pg::NamedQuery> PgPriceRepository::Queries() {
  return {kPolicyForUpdate, kSelectPolicy, kSavePolicy, kLogQuote, kSchedulerOn, kLoadPolicies};
}

absl::StatusOr<domain::PricePolicy> PgPriceRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::PricePolicy>(app::PriceTx&)> work) {
  return outbox::WriteOnce<domain::PricePolicy>(writer_, meta, resource, PolicyAnswer(),
                                                [&](const outbox::WriteTx& w) {
                                                  Tx tx(pool_, w);
                                                  return work(tx);
                                                });
}

absl::StatusOr<std::vector<std::pair<std::string, domain::PricePolicy>>>
PgPriceRepository::LoadAllPolicies() {
  std::vector<std::pair<std::string, domain::PricePolicy>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pool_.Exec(tx, kSchedulerOn);
    for (const auto& r : pool_.Exec(tx, kLoadPolicies)) {
      CRM_ASSIGN_OR_RETURN(domain::PricePolicy p, PolicyOf(r));
      out.emplace_back(r[3].as<std::string>(), std::move(p));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<domain::PricePolicy>> PgPriceRepository::CurrentPolicy(
    const std::string& tenant) {
  std::optional<domain::PricePolicy> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.reset();
    pqxx::result r = pool_.Exec(tx, kSelectPolicy, tenant);
    if (r.empty()) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(domain::PricePolicy p, PolicyOf(r[0]));
    out = std::move(p);
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgPriceRepository::LogQuote(const std::string& tenant, const app::QuoteRecord& q) {
  return pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pool_.Exec(tx, kLogQuote, tenant, q.quote_id, q.customer_id, q.sku, q.currency_code,
               q.price.list_minor, q.price.price_minor, static_cast<int>(q.price.applied_bp),
               ReasonName(q.reason), q.tier, LimitName(q.price.limit),
               absl::ToUnixMicros(q.quote_time), absl::ToUnixMicros(q.expire_time));
    return absl::OkStatus();
  });
}

}  // namespace crm::personalization::storage

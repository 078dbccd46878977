#include "services/personalization/app/prices.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/id.h"
#include "libs/common/price_quote.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "services/personalization/app/rules.h"

namespace crm::personalization::app {
namespace {

const std::string kPolicyId;  // the tenant's one policy in the cache

absl::Status NotQuotable(const std::string& why) {
  return common::WithField(
      common::WithReason(absl::FailedPreconditionError(why), "PRODUCT_NOT_QUOTABLE"), "sku");
}

}  // namespace

Prices::Prices(PriceRepository& repository, const Recommender& recommender,
               SegmentationPeer& segmentation, std::string quote_key, const common::Clock* clock)
    : repository_(repository),
      recommender_(recommender),
      segmentation_(segmentation),
      quote_key_(std::move(quote_key)),
      clock_(clock ? *clock : system_clock_) {}

absl::Status Prices::Load() {
  CRM_ASSIGN_OR_RETURN(auto all, repository_.LoadAllPolicies());
  cache_.Reset(std::move(all), [](const domain::PricePolicy&) { return kPolicyId; });
  return absl::OkStatus();
}

domain::PricePolicy Prices::Policy(const std::string& tenant) const {
  auto p = cache_.Find(tenant, kPolicyId);
  return p ? *p : domain::PricePolicy{};
}

absl::StatusOr<domain::PricePolicy> Prices::UpdatePolicy(const outbox::WriteMeta& meta,
                                                         domain::PricePolicy draft,
                                                         const std::string& if_match) {
  CRM_RETURN_IF_ERROR(domain::NormalizePolicy(draft, &CheckSegmentRule));
  absl::MutexLock w(&write_mu_);
  CRM_ASSIGN_OR_RETURN(
      domain::PricePolicy out,
      repository_.Run<domain::PricePolicy>(
          meta, "price_policy", [&](PriceTx& tx) -> absl::StatusOr<domain::PricePolicy> {
            CRM_ASSIGN_OR_RETURN(std::optional<domain::PricePolicy> existing, tx.LoadPolicy());
            const std::int64_t version = existing ? existing->version : 0;
            CRM_RETURN_IF_ERROR(common::CheckEtag("price policy", absl::StrCat(version), if_match));
            domain::PricePolicy p = draft;
            p.version = version + 1;
            p.update_time = clock_.Now();
            tx.SavePolicy(p);
            return p;
          }));
  CRM_ASSIGN_OR_RETURN(std::optional<domain::PricePolicy> now,
                       repository_.CurrentPolicy(meta.tenant_id));
  cache_.Replace(meta.tenant_id, kPolicyId, std::move(now));
  return out;
}

absl::StatusOr<SignedQuote> Prices::Quote(const std::string& tenant, const std::string& customer_id,
                                          const std::string& sku, const std::string& currency) {
  CRM_ASSIGN_OR_RETURN(Audience audience,
                       recommender_.CustomerAudience(tenant, customer_id, false));
  std::optional<ProductRow> product = recommender_.CatalogProduct(tenant, sku);
  if (!product) {
    return NotQuotable(absl::StrCat("product \"", sku, "\" is not in the catalog"));
  }
  if (!product->active) return NotQuotable(absl::StrCat("product \"", sku, "\" is not sold"));
  if (product->price_minor < 0) {
    return NotQuotable(
        absl::StrCat("product \"", sku, "\" has no list price here yet: update it in the catalog"));
  }
  const std::string asked = absl::AsciiStrToUpper(currency);
  if (!asked.empty() && asked != product->currency_code) {
    return common::WithField(common::WithReason(absl::FailedPreconditionError(absl::StrCat(
                                                    "product \"", sku, "\" is priced in ",
                                                    product->currency_code, ", not ", asked)),
                                                "PRODUCT_NOT_QUOTABLE"),
                             "currency_code");
  }
  const domain::PricePolicy policy = Policy(tenant);
  QuoteRecord q;
  q.quote_id = common::NewUuid();
  q.customer_id = customer_id;
  q.sku = sku;
  q.currency_code = product->currency_code;
  q.quote_time = clock_.Now();
  q.expire_time =
      absl::FromUnixSeconds(absl::ToUnixSeconds(q.quote_time) + policy.quote_ttl_seconds);
  std::uint32_t requested = 0;
  std::string why = "no tier matches";
  q.reason = QuoteReason::kNoTier;
  if (audience.objected) {
    q.reason = QuoteReason::kNotPersonalized;
    why = "not personalized (objected to profiling)";
  } else if (!policy.tiers.empty()) {
    // The rules before the first catch-all tier decide.
    std::vector<std::string> rules;
    for (const domain::PriceTier& t : policy.tiers) {
      if (t.rule.empty()) break;
      rules.push_back(t.rule);
    }
    absl::StatusOr<std::map<std::string, bool>> matched =
        MatchRules(segmentation_, tenant, customer_id, rules);
    if (!matched.ok()) {
      q.reason = QuoteReason::kRulesUnavailable;
      why = "the tiers' rules could not be evaluated";
      CRM_LOG(Warning).Field("code", absl::StatusCodeToString(matched.status().code()))
          << "price tiers not evaluated (list price quoted): " << matched.status().message();
    } else if (const domain::PriceTier* tier =
                   domain::TierFor(policy, [&](const std::string& rule) {
                     auto it = matched->find(rule);
                     return it != matched->end() && it->second;
                   })) {
      q.reason = QuoteReason::kTier;
      q.tier = tier->name;
      requested = tier->discount_bp;
      why = absl::StrCat("tier \"", tier->name, "\"");
    }
  }
  CRM_ASSIGN_OR_RETURN(q.price, domain::QuotePrice(product->price_minor, product->cost_minor,
                                                   requested, policy.guardrails));
  q.explanation = domain::ExplainQuote(q.price, why, policy.guardrails);
  CRM_RETURN_IF_ERROR(repository_.LogQuote(tenant, q));
  SignedQuote out;
  out.token = common::SignPriceQuote(
      quote_key_, common::PriceQuoteClaims{q.quote_id, tenant, customer_id, sku, q.currency_code,
                                           q.price.price_minor, q.price.list_minor, q.expire_time});
  out.quote = std::move(q);
  return out;
}

}  // namespace crm::personalization::app

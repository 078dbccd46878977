#include "services/personalization/app/offers.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "services/personalization/app/rules.h"

namespace crm::personalization::app {
namespace {

absl::Status OfferNotFound() {
  return common::WithReason(absl::NotFoundError("offer not found"), "OFFER_NOT_FOUND");
}

}  // namespace

Offers::Offers(OfferRepository& repository, const Recommender& recommender,
               SegmentationPeer& segmentation, const common::Clock* clock)
    : repository_(repository),
      recommender_(recommender),
      segmentation_(segmentation),
      clock_(clock ? *clock : system_clock_) {}

absl::Status Offers::Load() {
  CRM_ASSIGN_OR_RETURN(auto all, repository_.LoadAllOffers());
  cache_.Reset(std::move(all), [](const domain::Offer& o) { return o.offer_id; });
  return absl::OkStatus();
}

absl::Status Offers::Refresh(const std::string& tenant, const std::string& offer_id) {
  CRM_ASSIGN_OR_RETURN(std::optional<domain::Offer> now,
                       repository_.CurrentOffer(tenant, offer_id));
  cache_.Replace(tenant, offer_id, std::move(now));
  return absl::OkStatus();
}

absl::StatusOr<domain::Offer> Offers::Create(const outbox::WriteMeta& meta, domain::Offer draft) {
  CRM_RETURN_IF_ERROR(domain::NormalizeOffer(draft, &CheckSegmentRule));
  absl::MutexLock w(&write_mu_);
  CRM_ASSIGN_OR_RETURN(
      domain::Offer out,
      repository_.Run<domain::Offer>(
          meta, draft.offer_id, [&](OfferTx& tx) -> absl::StatusOr<domain::Offer> {
            CRM_ASSIGN_OR_RETURN(std::optional<domain::Offer> existing,
                                 tx.LoadOffer(draft.offer_id));
            if (existing) {
              return common::WithReason(
                  absl::AlreadyExistsError(absl::StrCat(
                      "offer \"", draft.offer_id, "\" exists (retired ones too); pick another id")),
                  "OFFER_EXISTS");
            }
            CRM_ASSIGN_OR_RETURN(std::size_t count, tx.CountOffers());
            if (count >= kMaxOffersPerTenant) {
              return common::WithReason(absl::FailedPreconditionError(
                                            "a tenant has at most 1000 offers, retired included"),
                                        "TOO_MANY_OFFERS");
            }
            domain::Offer o = draft;
            o.version = 1;
            o.retired = false;
            o.create_time = o.update_time = clock_.Now();
            tx.SaveOffer(o);
            return o;
          }));
  CRM_RETURN_IF_ERROR(Refresh(meta.tenant_id, out.offer_id));
  return out;
}

absl::StatusOr<domain::Offer> Offers::Change(const outbox::WriteMeta& meta,
                                             const std::string& offer_id,
                                             const std::string& if_match,
                                             const std::function<void(domain::Offer&)>& edit) {
  absl::MutexLock w(&write_mu_);
  CRM_ASSIGN_OR_RETURN(
      domain::Offer out,
      repository_.Run<domain::Offer>(
          meta, offer_id, [&](OfferTx& tx) -> absl::StatusOr<domain::Offer> {
            CRM_ASSIGN_OR_RETURN(std::optional<domain::Offer> existing, tx.LoadOffer(offer_id));
            if (!existing || existing->retired) return OfferNotFound();
            CRM_RETURN_IF_ERROR(
                common::CheckEtag("offer", absl::StrCat(existing->version), if_match));
            domain::Offer o = *existing;
            edit(o);
            o.version = existing->version + 1;
            o.create_time = existing->create_time;
            o.update_time = clock_.Now();
            tx.SaveOffer(o);
            return o;
          }));
  CRM_RETURN_IF_ERROR(Refresh(meta.tenant_id, offer_id));
  return out;
}

absl::StatusOr<domain::Offer> Offers::Update(const outbox::WriteMeta& meta, domain::Offer draft,
                                             const std::string& if_match) {
  CRM_RETURN_IF_ERROR(domain::NormalizeOffer(draft, &CheckSegmentRule));
  return Change(meta, draft.offer_id, if_match, [&](domain::Offer& o) { o = draft; });
}

absl::StatusOr<domain::Offer> Offers::Retire(const outbox::WriteMeta& meta,
                                             const std::string& offer_id,
                                             const std::string& if_match) {
  if (!domain::IsSlotId(offer_id)) return OfferNotFound();
  return Change(meta, offer_id, if_match, [](domain::Offer& o) { o.retired = true; });
}

absl::StatusOr<domain::Offer> Offers::Get(const std::string& tenant,
                                          const std::string& offer_id) const {
  auto o = cache_.Find(tenant, offer_id);
  if (o == nullptr) return OfferNotFound();
  return *o;
}

std::vector<domain::Offer> Offers::List(const std::string& tenant) const {
  std::vector<domain::Offer> out;
  for (const auto& o : cache_.All(tenant)) out.push_back(*o);
  return out;
}

absl::StatusOr<std::int64_t> Offers::Presented(const std::string& tenant,
                                               const std::string& offer_id) const {
  if (cache_.Find(tenant, offer_id) == nullptr) return OfferNotFound();
  return repository_.Presented(tenant, offer_id);
}

absl::StatusOr<NextBestOffers> Offers::Next(const outbox::WriteMeta& meta,
                                            const std::string& customer_id, std::size_t count) {
  const std::string& tenant = meta.tenant_id;
  // Offers read no interests: only whether the customer objected.
  CRM_ASSIGN_OR_RETURN(Audience audience,
                       recommender_.CustomerAudience(tenant, customer_id, false));
  const absl::Time now = clock_.Now();
  std::vector<std::shared_ptr<const domain::Offer>> active;
  for (const auto& o : cache_.All(tenant)) {
    if (domain::Active(*o, now) && (!audience.objected || o->rule.empty())) active.push_back(o);
  }
  NextBestOffers answer;
  answer.personalized = !audience.objected;
  double p_alive = 1;
  std::map<std::string, bool> matched;
  absl::flat_hash_map<std::string, double> relevance;  // by sku
  if (!audience.objected) {
    std::vector<std::string> rules;
    for (const auto& o : active) rules.push_back(o->rule);
    absl::StatusOr<std::map<std::string, bool>> m =
        MatchRules(segmentation_, tenant, customer_id, rules);
    if (m.ok()) {
      matched = *std::move(m);
    } else {
      answer.rules_evaluated = false;
      CRM_LOG(Warning).Field("code", absl::StatusCodeToString(m.status().code()))
          << "the offers' rules were not evaluated (those offers left out): "
          << m.status().message();
    }
    absl::StatusOr<std::optional<double>> alive = segmentation_.PAlive(tenant, customer_id);
    if (alive.ok() && alive->has_value()) p_alive = **alive;
    // Relevance: each sku's recommendation score over the list's best (only
    // when some offer names products).
    const bool about_products =
        std::any_of(active.begin(), active.end(), [](const auto& o) { return !o->skus.empty(); });
    ListRequest r;
    r.count = kMaxCount;
    absl::StatusOr<RecommendationList> list =
        about_products ? recommender_.ForCustomer(tenant, customer_id, r)
                       : absl::StatusOr<RecommendationList>(RecommendationList{});
    if (list.ok() && !list->products.empty() && list->products.front().score > 0) {
      for (const Recommended& p : list->products) {
        relevance[p.sku] = p.score / list->products.front().score;
      }
    }
  }
  std::vector<domain::OfferCandidate> candidates;
  for (const auto& o : active) {
    if (!o->rule.empty() && !(matched.count(o->rule) && matched.at(o->rule))) continue;
    double best = 0;
    for (const std::string& sku : o->skus) {
      auto it = relevance.find(sku);
      if (it != relevance.end()) best = std::max(best, it->second);
    }
    candidates.push_back(domain::OfferCandidate{o.get(), best});
  }
  const std::vector<domain::RankedOffer> ranked = domain::RankOffers(candidates, p_alive);
  const std::string reason = audience.objected ? "not_personalized" : "ranked";
  CRM_ASSIGN_OR_RETURN(NextBestOffers decided,
                       repository_.Run<NextBestOffers>(
                           meta, customer_id, [&](OfferTx& tx) -> absl::StatusOr<NextBestOffers> {
                             NextBestOffers out = answer;
                             out.decisions.clear();
                             for (const domain::RankedOffer& r : ranked) {
                               if (out.decisions.size() >= count) break;
                               if (r.offer->per_customer_cap > 0 || r.offer->global_cap > 0) {
                                 CRM_ASSIGN_OR_RETURN(bool claimed,
                                                      tx.ClaimPresentation(*r.offer, customer_id));
                                 if (!claimed) continue;  // a cap reached: the next one
                               }
                               OfferDecision d;
                               d.decision_id = common::NewUuid();
                               d.offer = *r.offer;
                               d.rank = static_cast<int>(out.decisions.size()) + 1;
                               d.expected_value = r.expected_value;
                               d.relevance = r.relevance;
                               d.p_alive = p_alive;
                               d.reason = reason;
                               d.decide_time = now;
                               out.decisions.push_back(std::move(d));
                             }
                             if (!out.decisions.empty())
                               tx.LogDecisions(customer_id, out.decisions);
                             return out;
                           }));
  return decided;
}

}  // namespace crm::personalization::app

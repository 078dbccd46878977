#include "services/personalization/app/templates.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/time_zone.h"

namespace crm::personalization::app {
namespace {

const char* ReasonName(Reason r) {
  switch (r) {
    case Reason::kBought:
      return "bought";
    case Reason::kViewed:
      return "viewed";
    case Reason::kPopular:
      return "popular";
    case Reason::kRelated:
      return "related";
    case Reason::kPopularInSegment:
      return "popular_in_segment";
  }
  return "popular";
}

// A section the engine cannot fill for a customer it has not learnt yet
// (a new customer whose events are on their way) is empty, not an error.
template <typename T>
absl::StatusOr<std::optional<T>> UnlessUnknown(absl::StatusOr<T> r) {
  if (r.ok()) return std::optional<T>(*std::move(r));
  if (r.status().code() == absl::StatusCode::kNotFound) return std::optional<T>();
  return r.status();
}

}  // namespace

Templates::Templates(TemplateRepository& repository, const Recommender& recommender, Offers& offers,
                     CustomerProfiles& profiles, const common::Clock* clock)
    : recommender_(recommender),
      offers_(offers),
      profiles_(profiles),
      clock_(clock ? *clock : system_clock_),
      templates_(repository, &domain::MessageTemplate::template_id,
                 DefinitionKind{"template", "templates", "TEMPLATE_EXISTS", "TEMPLATE_NOT_FOUND",
                                "TOO_MANY_TEMPLATES", kMaxTemplatesPerTenant},
                 clock_) {}

absl::Status Templates::Load() { return templates_.Load(); }

absl::StatusOr<domain::MessageTemplate> Templates::Create(const outbox::WriteMeta& meta,
                                                          domain::MessageTemplate draft) {
  CRM_RETURN_IF_ERROR(domain::NormalizeTemplate(draft));
  return templates_.Create(meta, draft);
}

absl::StatusOr<domain::MessageTemplate> Templates::Update(const outbox::WriteMeta& meta,
                                                          domain::MessageTemplate draft,
                                                          const std::string& if_match) {
  CRM_RETURN_IF_ERROR(domain::NormalizeTemplate(draft));
  return templates_.Update(meta, draft, if_match);
}

absl::StatusOr<domain::MessageTemplate> Templates::Delete(const outbox::WriteMeta& meta,
                                                          const std::string& template_id,
                                                          const std::string& if_match) {
  return templates_.Delete(meta, template_id, if_match);
}

absl::StatusOr<RenderedMessage> Templates::Preview(const std::string& tenant,
                                                   const std::string& template_id,
                                                   std::optional<domain::MessageTemplate> draft,
                                                   const std::string& locale,
                                                   const nlohmann::json& data) const {
  if (!data.is_null() && !data.is_object()) {
    return common::InvalidField("data", "data is an object of the template data's names");
  }
  domain::MessageTemplate t;
  if (draft) {
    draft->template_id = template_id;
    CRM_RETURN_IF_ERROR(domain::NormalizeTemplate(*draft));
    t = *std::move(draft);
    t.version = 0;
  } else {
    CRM_ASSIGN_OR_RETURN(t, templates_.Get(tenant, template_id));
  }
  nlohmann::json merged = domain::TemplateSample();
  if (data.is_object()) merged.merge_patch(data);
  const domain::TemplateLocale& l = domain::PickLocale(t, locale);
  RenderedMessage out;
  out.template_id = t.template_id;
  out.version = t.version;
  out.locale = l.locale;
  CRM_ASSIGN_OR_RETURN(out.parts, domain::RenderTemplate(t, l, merged));
  return out;
}

absl::StatusOr<RenderedMessage> Templates::Render(const outbox::WriteMeta& meta,
                                                  const std::string& template_id,
                                                  const RenderRequest& r) {
  const std::string& tenant = meta.tenant_id;
  CRM_ASSIGN_OR_RETURN(domain::MessageTemplate t, templates_.Get(tenant, template_id));
  CRM_ASSIGN_OR_RETURN(CustomerProfile p, profiles_.Get(tenant, r.customer_id));
  return RenderFor(meta, t, p, r);
}

std::vector<absl::StatusOr<RenderedMessage>> Templates::RenderBatch(
    const std::vector<RenderItem>& items) {
  std::vector<absl::StatusOr<RenderedMessage>> out;
  if (items.empty()) return out;
  const std::string& tenant = items.front().meta.tenant_id;
  std::vector<std::string> ids;
  for (const RenderItem& i : items) ids.push_back(i.request.customer_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const absl::StatusOr<std::map<std::string, CustomerProfile>> profiles =
      profiles_.GetMany(tenant, ids);
  std::map<std::string, absl::StatusOr<domain::MessageTemplate>> templates;
  out.reserve(items.size());
  for (const RenderItem& i : items) {
    auto t = templates.find(i.template_id);
    if (t == templates.end()) {
      t = templates.emplace(i.template_id, templates_.Get(tenant, i.template_id)).first;
    }
    if (!t->second.ok()) {
      out.push_back(t->second.status());
      continue;
    }
    if (!profiles.ok()) {
      out.push_back(profiles.status());
      continue;
    }
    auto p = profiles->find(i.request.customer_id);
    if (p == profiles->end()) {
      out.push_back(common::NotFound(
          "CUSTOMER_NOT_FOUND", absl::StrCat("customer ", i.request.customer_id, " not found")));
      continue;
    }
    out.push_back(RenderFor(i.meta, *t->second, p->second, i.request));
  }
  return out;
}

absl::StatusOr<RenderedMessage> Templates::RenderFor(const outbox::WriteMeta& meta,
                                                     const domain::MessageTemplate& t,
                                                     const CustomerProfile& p,
                                                     const RenderRequest& r) {
  const std::string& tenant = meta.tenant_id;
  const absl::Time now = clock_.Now();
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!p.time_zone.empty() && !common::LoadZone(p.time_zone, &zone)) zone = absl::UTCTimeZone();
  nlohmann::json attributes = nlohmann::json::object();
  for (const auto& [name, value] : p.attributes) attributes[name] = value;
  nlohmann::json data = {
      {"customer",
       {{"id", p.customer_id},
        {"given_name", p.given_name},
        {"family_name", p.family_name},
        {"display_name", p.display_name},
        {"email", p.email},
        {"phone", p.phone},
        {"locale", p.locale},
        {"time_zone", p.time_zone},
        {"city", p.city},
        {"country", p.country},
        {"lifecycle_stage", p.lifecycle_stage},
        {"attributes", attributes}}},
      {"birthday",
       {{"today",
         p.birthday_month > 0 && domain::IsBirthday(p.birthday_month, p.birthday_day, zone, now)},
        {"month", p.birthday_month > 0 ? absl::StrCat(p.birthday_month) : ""},
        {"day", p.birthday_day > 0 ? absl::StrCat(p.birthday_day) : ""}}},
      {"now",
       {{"date", absl::FormatTime("%Y-%m-%d", now, zone)},
        {"year", absl::FormatTime("%Y", now, zone)}}},
      {"message", {{"unsubscribe_url", r.unsubscribe_url}}},
      {"recommendations", nlohmann::json::array()},
      {"offers", nlohmann::json::array()},
      {"interests", nlohmann::json::array()}};
  RenderedMessage out;
  // Whether the customer objected to profiling (the sections below honour
  // it); a customer the engine has not learnt yet has not.
  CRM_ASSIGN_OR_RETURN(std::optional<Audience> audience,
                       UnlessUnknown(recommender_.CustomerAudience(tenant, r.customer_id, false)));
  out.personalized = !audience || !audience->objected;
  // Sections the template never names are not computed (interests walk
  // every product of the customer).
  if (r.recommendations > 0 && domain::Mentions(t, "recommendations")) {
    ListRequest lr;
    lr.count = std::min(r.recommendations, kMaxRenderRecommendations);
    CRM_ASSIGN_OR_RETURN(std::optional<RecommendationList> recs,
                         UnlessUnknown(recommender_.ForCustomer(tenant, r.customer_id, lr)));
    if (recs) {
      for (const Recommended& x : recs->products) {
        data["recommendations"].push_back({{"sku", x.sku},
                                           {"category", x.category_path},
                                           {"reason", ReasonName(x.reason)},
                                           {"because_sku", x.because_sku}});
      }
    }
  }
  std::optional<InterestsView> interests;
  if (domain::Mentions(t, "interests")) {
    CRM_ASSIGN_OR_RETURN(interests,
                         UnlessUnknown(recommender_.Interests(tenant, r.customer_id, 10)));
  }
  if (interests) {
    for (const domain::Interest& i : interests->interests) {
      data["interests"].push_back(
          {{"topic", i.topic}, {"score", absl::StrFormat("%.2f", i.score)}});
    }
  }
  if (r.offers > 0) {
    CRM_ASSIGN_OR_RETURN(std::optional<NextBestOffers> next,
                         UnlessUnknown(offers_.Next(meta, r.customer_id, r.offers)));
    if (next) {
      for (const OfferDecision& d : next->decisions) {
        data["offers"].push_back(
            {{"offer_id", d.offer.offer_id},
             {"display_name", d.offer.display_name},
             {"kind", domain::OfferKindName(d.offer.kind)},
             {"content", d.offer.content},
             {"discount_percent", d.offer.discount_bp % 100 == 0
                                      ? absl::StrCat(d.offer.discount_bp / 100)
                                      : absl::StrFormat("%.2f", d.offer.discount_bp / 100.0)},
             {"decision_id", d.decision_id}});
        out.decision_ids.push_back(d.decision_id);
        out.offer_ids.push_back(d.offer.offer_id);
      }
    }
  }
  const domain::TemplateLocale& l = domain::PickLocale(t, r.locale.empty() ? p.locale : r.locale);
  out.template_id = t.template_id;
  out.version = t.version;
  out.locale = l.locale;
  CRM_ASSIGN_OR_RETURN(out.parts, domain::RenderTemplate(t, l, data));
  return out;
}

}  // namespace crm::personalization::app

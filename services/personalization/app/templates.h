#pragma once
// The message template use cases: definitions checked at save time
// (domain/templates.h: syntax, names, partials, with line and column) and
// written through the unit of work, kept in memory; previews for marketers
// with the sample data (or data of their own over it); renders for one
// customer (the delivery engine's call) with the customer's profile from
// customer-store and the engine's own recommendations, interests and next
// best offers as the template data.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/outbox/write_meta.h"
#include "services/personalization/app/definitions.h"
#include "services/personalization/app/offers.h"
#include "services/personalization/app/ports.h"
#include "services/personalization/app/recommender.h"
#include "services/personalization/domain/templates.h"

namespace crm::personalization::app {

inline constexpr std::size_t kMaxTemplatesPerTenant = 500;

struct RenderedMessage {
  std::string template_id;
  std::int64_t version = 0;  // 0: a draft
  std::string locale;        // the one rendered (after the fallback)
  std::map<std::string, std::string> parts;
  // Render: the next best offers decided for this message (cite them when
  // it is sent, for attribution), and whether the data was personalized
  // (false: the customer objected to profiling).
  std::vector<std::string> decision_ids;
  std::vector<std::string> offer_ids;  // the offers of decision_ids, in their order
  bool personalized = true;
};

struct RenderRequest {
  std::string customer_id;
  std::string locale;               // "": the customer's
  std::size_t recommendations = 5;  // 0..20 for the recommendations section
  std::size_t offers = 0;           // 0..10 next best offers (claimed and logged)
  std::string unsubscribe_url;      // {{message.unsubscribe_url}}: delivery's link, or ""
};
inline constexpr std::size_t kMaxRenderRecommendations = 20;

class Templates {
 public:
  Templates(TemplateRepository& repository, const Recommender& recommender, Offers& offers,
            CustomerProfiles& profiles, const common::Clock* clock = nullptr);

  absl::Status Load();  // every tenant's templates (at start)

  // ALREADY_EXISTS (TEMPLATE_EXISTS); FAILED_PRECONDITION
  // (TOO_MANY_TEMPLATES) beyond kMaxTemplatesPerTenant; INVALID_ARGUMENT as
  // domain::NormalizeTemplate.
  absl::StatusOr<domain::MessageTemplate> Create(const outbox::WriteMeta& meta,
                                                 domain::MessageTemplate draft);
  // if_match: ABORTED (ETAG_MISMATCH); NOT_FOUND (TEMPLATE_NOT_FOUND).
  absl::StatusOr<domain::MessageTemplate> Update(const outbox::WriteMeta& meta,
                                                 domain::MessageTemplate draft,
                                                 const std::string& if_match);
  absl::StatusOr<domain::MessageTemplate> Delete(const outbox::WriteMeta& meta,
                                                 const std::string& template_id,
                                                 const std::string& if_match);
  absl::StatusOr<domain::MessageTemplate> Get(const std::string& tenant,
                                              const std::string& template_id) const {
    return templates_.Get(tenant, template_id);
  }
  std::vector<domain::MessageTemplate> List(const std::string& tenant) const {
    return templates_.List(tenant);
  }

  // The tenant's template `template_id`, or `draft` (checked first, as a
  // save would), rendered for `locale` (domain::PickLocale) with the sample
  // data, `data`'s keys merged over it (RFC 7386). INVALID_ARGUMENT (field
  // data) when `data` is not an object.
  absl::StatusOr<RenderedMessage> Preview(const std::string& tenant, const std::string& template_id,
                                          std::optional<domain::MessageTemplate> draft,
                                          const std::string& locale,
                                          const nlohmann::json& data) const;

  // The tenant's template rendered for one customer: the locale asked or
  // the customer's; the data from customer-store (now), the customer's
  // recommendations and interests, and, when asked for, next best offers
  // decided once per meta's idempotency key (as NextBestOffers). NOT_FOUND
  // (TEMPLATE_NOT_FOUND, CUSTOMER_NOT_FOUND); customer-store's failures as
  // they come (UNAVAILABLE: retry).
  absl::StatusOr<RenderedMessage> Render(const outbox::WriteMeta& meta,
                                         const std::string& template_id, const RenderRequest& r);
  // Render for each item, the profiles read with one GetMany: one answer
  // per item, in order, each what Render answers for it.
  struct RenderItem {
    outbox::WriteMeta meta;  // of one tenant for all items
    std::string template_id;
    RenderRequest request;
  };
  std::vector<absl::StatusOr<RenderedMessage>> RenderBatch(const std::vector<RenderItem>& items);

 private:
  absl::StatusOr<RenderedMessage> RenderFor(const outbox::WriteMeta& meta,
                                            const domain::MessageTemplate& t,
                                            const CustomerProfile& p, const RenderRequest& r);
  const Recommender& recommender_;
  Offers& offers_;
  CustomerProfiles& profiles_;
  common::SystemClock system_clock_;
  const common::Clock& clock_;
  Definitions<domain::MessageTemplate> templates_;
};

}  // namespace crm::personalization::app

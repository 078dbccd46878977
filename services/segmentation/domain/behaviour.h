#pragma once
// Behaviour events as segments see them: the event types customer-store
// tracks (docs/events.md, behaviour.*), the properties segments may filter
// them on, and a stored behaviour fact as a SegmentEvent.
#include <string>

#include "absl/strings/string_view.h"
#include "libs/events/behaviour_fact.h"
#include "services/segmentation/domain/segment_check.h"
#include "services/segmentation/domain/segment_eval.h"

namespace crm::segmentation::domain {

// The behaviour event types customer-store tracks, besides the custom ones.
inline constexpr const char* kBehaviourEventTypes[] = {"page.viewed",       "product.viewed",
                                                       "search.performed",  "cart.item_added",
                                                       "cart.item_removed", "checkout.started"};

// A tenant's custom event type as customer-store accepts it: "x." and 1..62
// characters of [a-z0-9_.-].
bool IsCustomEventType(absl::string_view type);

// The properties of a behaviour event (every type, custom ones included: the
// events carry them whatever the type, when set).
inline constexpr char kCategoryProperty[] = "category";  // the category path joined with "/"
inline constexpr char kSkuProperty[] = "sku";
inline constexpr char kValueProperty[] = "value";        // number
inline constexpr char kCurrencyProperty[] = "currency";  // ISO 4217
inline constexpr char kQuantityProperty[] = "quantity";  // number
inline constexpr char kCampaignProperty[] = "campaign";  // utm_campaign
PropertySpecs BehaviourPropertySpecs();

// A behaviour event for the evaluator: its type and the properties it has
// (a property not set, a value or quantity of 0 included, is absent).
SegmentEvent SegmentEventOf(const events::BehaviourFact& f);

// A behaviour event and the customer it counts for now (after visitor links
// and merges).
struct CustomerEvent {
  std::string customer_id;
  SegmentEvent event;
};

}  // namespace crm::segmentation::domain

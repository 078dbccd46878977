#pragma once
// A customer as the live segments see it: the purchases the engine keeps,
// turned into the evaluator's snapshot with the features segments read
// (recency, frequency, monetary, RFM, P(alive), expected purchases, CLV).
//
// Features are computed in the tenant's reporting currency (the model's, else
// the currency most purchases are in) from the customer's purchases up to
// `now`, in the model's time zone (UTC without a model):
//   recency    days from the last purchase day to today (absent: no purchase)
//   frequency  purchase days (all purchases of one calendar day are one)
//   monetary   net spend, major units
//   tenure     days from the first purchase day to today
//   monetary_repeat_mean  mean spend of the repeat purchase days (the
//              first day left out: Gamma-Gamma's m_x); absent with one day
//   last_seen  days from the last purchase (any currency) or behaviour
//              event to today (absent: neither)
//   top_category  the category path most often bought or viewed (once per
//              purchase and per event naming one; ties: the smallest path)
//   rfm.r/f/m/score/segment  against the tenant's RFM breakpoints of the
//              context (computed over every customer when the context is
//              built: they move with the population, not with one event)
//   p_alive, expected_purchases (one year), clv  from the tenant's model
// A customer without a purchase in the currency has none of these fields
// but last_seen and top_category
// (a comparison on them is false). The snapshot's purchases (what orders(),
// spent() and purchased() read) are those in the reporting currency too:
// amounts of different currencies are never added up. A purchase's skus are
// its bought lines' and its categories those skus' catalog categories (a sku
// the catalog events have not named has none).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/segmentation/domain/clv_model.h"
#include "services/segmentation/domain/consents.h"
#include "services/segmentation/domain/rfm.h"
#include "services/segmentation/domain/segment_eval.h"

namespace crm::segmentation::domain {

// One counted purchase (cancelled and fully returned orders are not kept).
struct LivePurchase {
  absl::Time time;
  int64_t net_minor = 0;
  std::string currency_code;
  std::vector<std::string> skus;  // bought (BoughtSkus)
};

// sku -> the catalog product's category path, "Music/Jazz".
using SkuCategories = std::map<std::string, std::string>;

// Profile fields and custom attributes by the language's names
// ("profile.country" -> "CH", "attr.seats" -> 12.0): the newest version of
// the customer's record in customer-store.
using ProfileFields = std::map<std::string, SegmentValue>;

struct CustomerProfile {
  std::string customer_id;
  ProfileFields fields;
};

struct LiveCustomer {
  std::string customer_id;
  ProfileFields profile;
  std::vector<LivePurchase> purchases;
  std::vector<SegmentEvent> events;  // behaviour and engagement, any order
  ConsentFields consents;            // the recorded ones (consents.h)
};

struct FeatureContext {
  std::string currency_code;  // "": no purchase yet, no features
  int minor_digits = 2;
  absl::TimeZone time_zone = absl::UTCTimeZone();
  std::optional<ClvModel> model;
  // Set together, when some customer has a purchase in the currency.
  std::optional<RfmBreakpoints> recency, frequency, monetary;
  // The categories of the skus purchases name (nullptr: none known). Owned
  // by the caller; must outlive the snapshots' use of the context.
  const SkuCategories* categories = nullptr;
  // The tenant's retention of behaviour (BehaviourReach of its settings).
  absl::Duration behaviour_reach = absl::InfiniteDuration();
};

// The tenant's context at `now`: currency and time zone from `model` (else
// the main currency of `customers` and `tenant_zone`, the tenant's setting),
// RFM breakpoints over every customer with a purchase in the currency up to
// `now`.
FeatureContext FeatureContextOf(const std::vector<LiveCustomer>& customers,
                                std::optional<ClvModel> model, absl::Time now,
                                absl::TimeZone tenant_zone = absl::UTCTimeZone());
// The same over `customers` and `more` together (a replica's own customers
// and the others' of the tenant).
FeatureContext FeatureContextOf(const std::vector<LiveCustomer>& customers,
                                const std::vector<LiveCustomer>& more,
                                std::optional<ClvModel> model, absl::Time now,
                                absl::TimeZone tenant_zone);

// The evaluator's view of `customer` at `now`: its profile fields always.
// Features are left out when
// `with_features` is false (no segment reads them: they cost a model
// evaluation each); consent fields (every channel and purpose, "unknown"
// where none was recorded) when `with_consents` is false.
CustomerSnapshot SnapshotOf(const LiveCustomer& customer, const FeatureContext& context,
                            absl::Time now, bool with_features, bool with_consents = false);

}  // namespace crm::segmentation::domain

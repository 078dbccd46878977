#pragma once
// Domain types of the customer store. Pure: std + Abseil only.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "libs/events/order_fact.h"
#include "services/customer_store/domain/behaviour.h"

namespace crm::customer_store::domain {

struct Date {
  int year = 0;  // 0 = unknown year
  int month = 0;
  int day = 0;
  bool operator==(const Date& o) const {
    return year == o.year && month == o.month && day == o.day;
  }
};

struct PostalAddress {
  std::vector<std::string> lines;
  std::string locality;
  std::string region;
  std::string postal_code;
  std::string country_code;
  bool empty() const {
    return lines.empty() && locality.empty() && region.empty() && postal_code.empty() &&
           country_code.empty();
  }
};

struct ExternalId {
  std::string source;
  std::string value;
  bool operator==(const ExternalId& o) const { return source == o.source && value == o.value; }
};

struct Anniversary {
  std::string label;
  Date date;
};

using AttributeValue = std::variant<std::string, int64_t, double, bool, absl::Time>;

// Numeric values match the proto enums.
enum class LifecycleStage : int {
  kUnspecified = 0,
  kSubscriber = 1,
  kLead = 2,
  kProspect = 3,
  kCustomer = 4,
  kRepeatCustomer = 5,
  kChurned = 6,
};

struct Customer {
  std::string id;
  std::string given_name;
  std::string family_name;
  std::string display_name;
  std::vector<std::string> emails;  // normalized
  std::vector<std::string> phones;  // E.164
  std::vector<ExternalId> external_ids;
  std::optional<PostalAddress> postal_address;
  std::optional<Date> birthday;
  std::vector<Anniversary> anniversaries;
  std::string locale;
  std::string time_zone;
  LifecycleStage lifecycle_stage = LifecycleStage::kUnspecified;
  std::string owner;
  std::map<std::string, AttributeValue> attributes;
  int64_t version = 0;  // etag source
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

// kVisitor: an anonymous visitor id linked to the customer (IdentifyCustomer;
// stored apart from the other identities, shown in the view and the export).
enum class IdentityKind : int {
  kUnspecified = 0,
  kEmail = 1,
  kPhone = 2,
  kExternalId = 3,
  kVisitor = 4
};

struct Identity {
  IdentityKind kind = IdentityKind::kUnspecified;
  std::string value;
  std::string source;  // external ids only
  absl::Time create_time = absl::InfinitePast();
};

enum class ConsentChannel : int { kUnspecified = 0, kEmail, kSms, kPush, kPhone, kWeb };
enum class ConsentPurpose : int { kUnspecified = 0, kMarketing, kTransactional, kProfiling };
enum class ConsentStatus : int { kUnspecified = 0, kOptedIn = 1, kOptedOut = 2, kPending = 3 };

struct Consent {
  ConsentChannel channel = ConsentChannel::kUnspecified;
  ConsentPurpose purpose = ConsentPurpose::kUnspecified;
  ConsentStatus status = ConsentStatus::kUnspecified;
  std::string source;
  absl::Time record_time = absl::InfinitePast();
  std::string policy_version;
};

enum class InteractionKind : int {
  kUnspecified = 0,
  kCall,
  kEmail,
  kWebVisit,
  kTicket,
  kNote,
  kPurchase,
  kMeeting,
  kChat,
  kSms,
  kPush,
};

struct Interaction {
  std::string id;
  InteractionKind kind = InteractionKind::kUnspecified;
  std::string channel;
  absl::Time occur_time = absl::InfinitePast();
  std::string actor;
  std::string summary;
  std::string payload_json = "{}";  // a JSON object
  std::string source;
};

// Purchases of one currency, from the orders that are not cancelled
// (returned orders still count as orders; their value does not).
struct PurchaseAggregate {
  std::string currency_code;
  int64_t order_count = 0;
  int64_t purchase_days = 0;  // distinct calendar days (UTC) with an order
  int64_t total_spend_minor = 0;  // net: order totals - max(returned, refunded) per order
  int64_t average_order_minor = 0;  // total_spend / count, rounded down
  int64_t cancelled_orders = 0;
  int64_t gross_spend_minor = 0;   // order totals before returns
  int64_t returned_minor = 0;      // value of returned units
  int64_t returned_orders = 0;     // orders with at least one return
  absl::Time first_purchase = absl::InfinitePast();
  absl::Time last_purchase = absl::InfinitePast();
};

// A fact from the transaction engine's order events.
using OrderFact = events::OrderFact;  // the order.* event contract

struct CustomerView {
  Customer customer;
  std::vector<Identity> identities;
  std::vector<Consent> consents;  // current state
  std::vector<Interaction> recent_interactions;
  int64_t interaction_count = 0;
  std::vector<PurchaseAggregate> purchases;  // one per currency
  std::vector<BehaviourSession> recent_sessions;  // newest first
};

struct CustomerExport {
  Customer customer;
  std::vector<Identity> identities;
  std::vector<Consent> consent_history;
  std::vector<Interaction> interactions;
  std::vector<BehaviourEvent> behaviour_events;  // newest first
};

struct ErasureResult {
  int64_t interactions_erased = 0;
  int64_t identities_erased = 0;  // visitor links included
  int64_t behaviour_events_erased = 0;
};

// The etag clients see: the version in decimal.
std::string EtagOf(const Customer& c);

}  // namespace crm::customer_store::domain

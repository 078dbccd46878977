#pragma once
// What a recipient does with a sent email (docs/delivery.md, "Tracking"):
// the gateway serves the open pixel, the click links and the unsubscribe
// link without an API key and passes their token here (DeliveryService.Track).
// The token is checked again (it must be current, of this deployment and
// of the calling tenant); then the open or click is counted on the message,
// a click answers the URL the message contained at that index (never one
// the token names), and an unsubscribe records the customer's opt-out of
// marketing email in customer-store before the message notes it.
#include <string>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/outbox/write_meta.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::app {

struct TrackResult {
  std::string message_id;
  std::string redirect_url;  // a click: where the link goes
};

class Tracking final {
 public:
  // `key`: common::TrackingKey(CRM_CONTEXT_KEY).
  Tracking(DeliveryRepository& repository, CustomerDirectory& directory, std::string key,
           const common::Clock& clock)
      : repository_(repository), directory_(directory), key_(std::move(key)), clock_(clock) {}

  // NOT_FOUND (TRACKING_LINK_INVALID) for a token that is not current, not
  // ours or of another tenant, for a message that is gone (erased) and for
  // a link index the message does not have; UNAVAILABLE when customer-store
  // cannot take an unsubscribe now (the recipient may try again).
  absl::StatusOr<TrackResult> Track(const outbox::WriteMeta& meta, const std::string& token);

 private:
  DeliveryRepository& repository_;
  CustomerDirectory& directory_;
  const std::string key_;
  const common::Clock& clock_;
};

}  // namespace crm::delivery::app

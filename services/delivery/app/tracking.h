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
  // `key`: common::TrackingKey(CRM_CONTEXT_KEY); `base_url`: the gateway as
  // providers reach it (CRM_DELIVERY_TRACKING_BASE_URL): the status
  // callback URLs providers sign are under it.
  Tracking(DeliveryRepository& repository, CustomerDirectory& directory, std::string key,
           const common::Clock& clock, std::string base_url = "")
      : repository_(repository),
        directory_(directory),
        key_(std::move(key)),
        base_url_(std::move(base_url)),
        clock_(clock) {}

  // NOT_FOUND (TRACKING_LINK_INVALID) for a token that is not current, not
  // ours or of another tenant, for a message that is gone (erased) and for
  // a link index the message does not have; UNAVAILABLE when customer-store
  // cannot take an unsubscribe now (the recipient may try again).
  // `peek`: check and answer as for a real use, but record nothing (a HEAD
  // request: link scanners, not the recipient).
  absl::StatusOr<TrackResult> Track(const outbox::WriteMeta& meta, const std::string& token,
                                    bool peek = false);

  // A provider's status callback for a sent message (docs/delivery.md,
  // "Delivery receipts"): the token (action status) names tenant and
  // message, the provider's signature over the callback URL and `body` must
  // verify with the tenant's credentials for the channel; the first final
  // report (delivered, bounced) is kept with its event. NOT_FOUND
  // (TRACKING_LINK_INVALID) for a bad token or signature; INVALID_ARGUMENT
  // (MALFORMED_BODY) for a body that is not a form.
  absl::Status ReportStatus(const outbox::WriteMeta& meta, const std::string& token,
                            const std::string& body, const std::string& signature);

  // An event of the tenant's email service (docs/delivery.md, "Bounces and
  // complaints"), verified with the tenant's email provider (kind
  // mailgun): delivered → the message's receipt DELIVERED; a permanent
  // failure → receipt BOUNCED and the address on the suppression list; a
  // complaint → the customer's opt-out of marketing email (customer-store,
  // source "complaint"). Events of mail that is not ours, or of a message
  // gone since, change nothing. NOT_FOUND (TRACKING_LINK_INVALID) without a
  // provider or for a signature that does not verify; INVALID_ARGUMENT
  // (MALFORMED_BODY); UNAVAILABLE when customer-store cannot take a
  // complaint now (the service retries).
  absl::Status ReportEmailEvent(const outbox::WriteMeta& meta, const std::string& body);

 private:
  DeliveryRepository& repository_;
  CustomerDirectory& directory_;
  const std::string key_;
  const std::string base_url_;
  const common::Clock& clock_;
};

}  // namespace crm::delivery::app

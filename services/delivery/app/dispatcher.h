#pragma once
// Sends one message of the ledger (docs/delivery.md, "Sending"): claim the
// row, then at the moment of sending read the customer (gone: suppressed),
// the consent for the purpose on the channel (none: suppressed), the
// address (none: suppressed; a provider refusing it for good: suppressed
// too), render the content, call the channel, and
// finish the row: sent, retrying after a back-off, or failed (a dead
// letter). A step that cannot be done now (a peer down) is a transient
// failure like a provider's.
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "services/delivery/app/policy_cache.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::app {

// Tracking links in email (docs/delivery.md, "Tracking"): off without a
// base URL.
struct TrackingOptions {
  std::string base_url;  // the gateway as recipients reach it: "https://crm.example.com"
  std::string key;       // common::TrackingKey(CRM_CONTEXT_KEY)
  absl::Duration ttl = absl::Hours(24 * 365);
};

struct DispatcherOptions {
  absl::Duration lease = absl::Seconds(60);  // longer than any channel's timeout
  domain::RetryPolicy retry;
  SenderSettings default_sender;
  TrackingOptions tracking;
};

class Dispatcher final {
 public:
  Dispatcher(Ledger& ledger, DeliveryRepository& settings, PolicyCache& policies,
             CustomerDirectory& directory, Renderer& renderer, EmailChannel& email,
             WebhookChannel& webhook, NotificationChannel& notify, DispatcherOptions options,
             const common::Clock& clock, std::function<double()> jitter)
      : ledger_(ledger),
        settings_(settings),
        policies_(policies),
        directory_(directory),
        renderer_(renderer),
        email_(email),
        webhook_(webhook),
        notify_(notify),
        options_(std::move(options)),
        clock_(clock),
        jitter_(std::move(jitter)) {}

  // The message's state after this attempt; nullopt when it was not this
  // sender's to send (not due, claimed by another, final) or the claim was
  // lost before it finished.
  absl::StatusOr<std::optional<domain::State>> Process(const std::string& tenant,
                                                       const std::string& id);

 private:
  // Everything between the claim and the finish; fills m.
  void Attempt(const std::string& tenant, const domain::DeliveryPolicy& policy, domain::Message& m);
  void Suppress(domain::Message& m, domain::Suppression why, std::string detail);
  void Fail(domain::Message& m, domain::Outcome outcome, std::string detail);

  Ledger& ledger_;
  DeliveryRepository& settings_;
  PolicyCache& policies_;
  CustomerDirectory& directory_;
  Renderer& renderer_;
  EmailChannel& email_;
  WebhookChannel& webhook_;
  NotificationChannel& notify_;  // SMS and push
  const DispatcherOptions options_;
  const common::Clock& clock_;
  std::function<double()> jitter_;
};

// The event a finished attempt emits ("" for none: a retry is not news).
std::string EventTypeOf(domain::State s);

}  // namespace crm::delivery::app

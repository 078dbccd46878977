#pragma once
// Sends the ledger's messages (docs/delivery.md, "Sending"), a batch of one
// tenant's rows at a time: claim the rows in one transaction, read their
// customers' contacts at once, send each in turn, finish them in one
// transaction. For each row, at the moment of sending: the customer (gone: suppressed),
// the consent for the purpose on the channel (none: suppressed), the
// address (none: suppressed; a provider refusing it for good: suppressed
// too), render the content, call the channel, and
// finish the row: sent, retrying after a back-off, or failed (a dead
// letter). A step that cannot be done now (a peer down) is a transient
// failure like a provider's.
//
// A mail of the service desk (m.ticket_mail_id) has no template: its
// content, sender and recipient are the desk's (GetOutboundMail, read at
// the moment of sending). It answers the customer's own request, so no
// consent, frequency cap or quiet hours apply; the suppression list does,
// and it is never tracked.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

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
  // The longest one send may take (the slowest channel's timeout): a row of
  // a batch is sent only while its claim's lease outlasts that; the rest
  // are released unsent (queued again, not an attempt).
  absl::Duration longest_send = absl::Seconds(30);
  domain::RetryPolicy retry;
  SenderSettings default_sender;
  TrackingOptions tracking;
};

class Dispatcher final {
 public:
  Dispatcher(Ledger& ledger, DeliveryRepository& settings, PolicyCache& policies,
             CustomerDirectory& directory, Renderer& renderer, TicketMailSource& desk,
             EmailChannel& email, WebhookChannel& webhook, NotificationChannel& notify,
             DispatcherOptions options, const common::Clock& clock, std::function<double()> jitter)
      : ledger_(ledger),
        settings_(settings),
        policies_(policies),
        directory_(directory),
        renderer_(renderer),
        desk_(desk),
        email_(email),
        webhook_(webhook),
        notify_(notify),
        options_(std::move(options)),
        clock_(clock),
        jitter_(std::move(jitter)) {}

  // One answer per id, in order: the message's state after this attempt;
  // nullopt when it was not this sender's to send (not due, claimed by
  // another, final, or not an id) or the claim was lost before it finished.
  absl::StatusOr<std::vector<std::optional<domain::State>>> ProcessBatch(
      const std::string& tenant, const std::vector<std::string>& ids);
  absl::StatusOr<std::optional<domain::State>> Process(const std::string& tenant,
                                                       const std::string& id) {
    absl::StatusOr<std::vector<std::optional<domain::State>>> r = ProcessBatch(tenant, {id});
    if (!r.ok()) return r.status();
    return r->front();
  }

 private:
  struct Lookups;  // what a batch read once: contacts, endpoints, sender, providers
  // What Prepare found for a message to send.
  struct Prepared {
    const Contact* contact = nullptr;  // in the batch's Lookups
    std::optional<WebhookEndpoint> endpoint;
    std::optional<domain::ProviderSettings> provider;
    bool tracked = false;  // email with tracking links
    absl::Time now;
    std::string unsubscribe_url;
    std::optional<TicketMail> ticket_mail;  // a mail of the service desk
  };
  // Between the claim and the finish, in two steps around the batch's
  // render. Prepare: what needs no content (the customer, quiet hours,
  // consent, address, endpoint or provider); false when that decided the
  // message (suppressed, failed, deferred: m says so). Deliver: the content
  // checked, the provider called, m filled with the outcome (true: sent).
  bool Prepare(const std::string& tenant, const domain::DeliveryPolicy& policy, Lookups& lookups,
               domain::Message& m, Prepared& prepared);
  // Prepare's part for a mail of the service desk.
  bool PrepareTicketMail(const std::string& tenant, domain::Message& m, Prepared& prepared);
  // `started`: the send was marked as started already (with the previous
  // row's finish).
  bool Deliver(const std::string& tenant, Lookups& lookups, const Prepared& prepared,
               absl::StatusOr<Rendered> rendered, domain::Message& m, bool started);
  // Before the provider call of a channel without an idempotency key: the
  // send marked as started unless `started` says it is (false: nothing may
  // be sent; m says why, or is left as claimed when the claim was lost).
  bool StartSend(const std::string& tenant, domain::Message& m, bool started);
  // The lower-cased email addresses of `contacts` on the suppression list.
  absl::StatusOr<std::set<std::string>> BouncedAmong(
      const std::string& tenant, const std::map<std::string, Contact>& contacts);
  // Both answer false (not sent), for Prepare's and Deliver's returns.
  bool Suppress(domain::Message& m, domain::Suppression why, std::string detail);
  bool Fail(domain::Message& m, domain::Outcome outcome, std::string detail);

  Ledger& ledger_;
  DeliveryRepository& settings_;
  PolicyCache& policies_;
  CustomerDirectory& directory_;
  Renderer& renderer_;
  TicketMailSource& desk_;
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

#pragma once
// The delivery engine's requests: messages (send, read, replay), webhook
// endpoints and the sender identity. Sending itself is the dispatcher's
// (dispatcher.h): a request only writes the ledger row and queues it.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/outbox/write_meta.h"
#include "services/delivery/app/policy_cache.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::app {

struct SendRequest {
  std::string customer_id;
  std::optional<domain::Channel> channel;  // nullopt: not given
  domain::Purpose purpose = domain::Purpose::kTransactional;
  std::string template_id;
  std::string locale;
  std::string endpoint_id;
  int offer_count = 0;
};

struct DeliveryOptions {
  int max_attempts = 8;
  SenderSettings default_sender;             // CRM_DELIVERY_EMAIL_FROM
  std::vector<domain::Cidr> allow_networks;  // CRM_DELIVERY_ALLOW_NETWORKS
};

// SMS and push need the tenant's provider of the channel before a message
// or campaign is accepted: FAILED_PRECONDITION
// (CHANNEL_PROVIDER_NOT_CONFIGURED) without one. Other channels: OK.
absl::Status RequireProvider(DeliveryRepository& repository, const std::string& tenant,
                             domain::Channel channel);

// The write of one of the engine's own runners (no caller, no idempotency
// key: each step is guarded by the rows' states and keys).
inline outbox::WriteMeta RunnerMeta(const std::string& tenant, const char* method) {
  return outbox::WriteMeta{tenant, "delivery", "", method, "", ""};
}

// What a message of `channel` needs before it is accepted (a message, a
// campaign's variant, a journey's send step): its template, of the channel
// (TEMPLATE_NOT_FOUND, TEMPLATE_CHANNEL_MISMATCH), the webhook's endpoint
// (WEBHOOK_ENDPOINT_NOT_FOUND) and the channel's provider. Refusals name
// `template_field` or `endpoint_field`.
absl::Status CheckChannelReferences(DeliveryRepository& repository, Renderer& renderer,
                                    const std::string& tenant, domain::Channel channel,
                                    const std::string& template_id, const std::string& endpoint_id,
                                    const std::string& template_field,
                                    const std::string& endpoint_field);

// Checks a webhook URL: its form, then every address its host is or
// resolves to (public, or inside an allowed network). WEBHOOK_URL_FORBIDDEN
// (FAILED_PRECONDITION) for a forbidden address, INVALID_ARGUMENT for a bad
// URL or a host that does not resolve.
absl::StatusOr<domain::WebhookUrl> CheckWebhookUrl(const std::string& url, HostResolver& resolver,
                                                   const std::vector<domain::Cidr>& allow);

class Delivery final {
 public:
  Delivery(DeliveryRepository& repository, PolicyCache& policies, WorkQueue& queue,
           Renderer& renderer, HostResolver& resolver, DeliveryOptions options,
           const common::Clock& clock, common::IdGenerator& ids)
      : repository_(repository),
        policies_(policies),
        queue_(queue),
        renderer_(renderer),
        resolver_(resolver),
        options_(std::move(options)),
        clock_(clock),
        ids_(ids) {}

  absl::StatusOr<domain::Message> Send(const outbox::WriteMeta& meta, const SendRequest& req);
  // A mail of the service desk (its ticket.mail_queued event): an email
  // message without a template, once per mail whatever the event's
  // redeliveries (its request id is "ticket-mail:<mail id>").
  // INVALID_ARGUMENT for ids that are not UUIDs.
  absl::StatusOr<domain::Message> QueueTicketMail(const std::string& tenant,
                                                  const std::string& customer_id,
                                                  const std::string& ticket_id,
                                                  const std::string& mail_id);
  absl::StatusOr<domain::Message> GetMessage(const std::string& tenant, const std::string& id);
  absl::StatusOr<MessagePage> ListCustomerMessages(const std::string& tenant,
                                                   const std::string& customer_id,
                                                   const Page& page);
  absl::StatusOr<MessagePage> ListMessages(const std::string& tenant,
                                           std::optional<domain::State> state, const Page& page);
  absl::StatusOr<domain::Message> Replay(const outbox::WriteMeta& meta, const std::string& id);

  absl::StatusOr<WebhookEndpoint> CreateEndpoint(const outbox::WriteMeta& meta,
                                                 WebhookEndpoint endpoint);
  absl::StatusOr<WebhookEndpoint> GetEndpoint(const std::string& tenant, const std::string& id);
  absl::StatusOr<std::vector<WebhookEndpoint>> ListEndpoints(const std::string& tenant);
  absl::Status DeleteEndpoint(const outbox::WriteMeta& meta, const std::string& id);
  // The email suppression list (docs/delivery.md, "Bounces and
  // complaints"): addresses that bounced for good. Deleting one (any case)
  // lets mail go to it again; NOT_FOUND (SUPPRESSION_NOT_FOUND) when it is
  // not on the list.
  absl::StatusOr<SuppressionPage> ListSuppressions(const std::string& tenant, const Page& page);
  absl::Status DeleteSuppression(const outbox::WriteMeta& meta, const std::string& address);

  // The tenant's, or the operator's default (update_time nullopt).
  absl::StatusOr<SenderSettings> GetSenderSettings(const std::string& tenant);
  absl::StatusOr<SenderSettings> UpdateSenderSettings(const outbox::WriteMeta& meta,
                                                      SenderSettings settings);

  // The tenant's frequency caps and quiet hours (an empty policy, version
  // 0, when never written); `if_match` the version the caller read ("" for
  // any: ETAG_MISMATCH otherwise).
  absl::StatusOr<domain::DeliveryPolicy> GetPolicy(const std::string& tenant);
  absl::StatusOr<domain::DeliveryPolicy> UpdatePolicy(const outbox::WriteMeta& meta,
                                                      domain::DeliveryPolicy policy,
                                                      const std::string& if_match);

  // SMS and push providers (docs/delivery.md, "SMS and push"), one per
  // channel. The base URL passes the webhook URL check (public, or an
  // allowed network). `p.secret` "" keeps the stored secret; what these
  // answer never holds it. `if_match`: the version read ("" for any).
  absl::StatusOr<domain::ProviderSettings> PutProvider(const outbox::WriteMeta& meta,
                                                       domain::ProviderSettings p,
                                                       const std::string& if_match);
  // NOT_FOUND (CHANNEL_PROVIDER_NOT_FOUND).
  absl::StatusOr<domain::ProviderSettings> GetProvider(const std::string& tenant,
                                                       domain::Channel channel);
  absl::StatusOr<std::vector<domain::ProviderSettings>> ListProviders(const std::string& tenant);
  absl::Status DeleteProvider(const outbox::WriteMeta& meta, domain::Channel channel);

  static constexpr int kMaxEndpoints = 100;

 private:
  // Writes a new message (queued now, its request id the key's) with its
  // message.queued event, and queues it; a retry answers the message as
  // it is.
  absl::StatusOr<domain::Message> Write(const outbox::WriteMeta& meta, domain::Message m);
  // Puts the message on the queue; a failure is only logged (the sweeper
  // queues it again).
  void Queue(const std::string& tenant, const domain::Message& m);

  DeliveryRepository& repository_;
  PolicyCache& policies_;
  WorkQueue& queue_;
  Renderer& renderer_;
  HostResolver& resolver_;
  const DeliveryOptions options_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::delivery::app

#include "services/delivery/app/delivery.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "services/delivery/domain/email.h"
#include "services/delivery/domain/not_found.h"

namespace crm::delivery::app {
namespace {

absl::Status CheckUuid(absl::string_view field, const std::string& value) {
  if (value.empty()) return common::InvalidField(field, absl::StrCat(field, " is required"));
  if (!common::IsUuid(value)) {
    return common::InvalidField(field, absl::StrCat(field, " must be a UUID"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSend(const SendRequest& r, const outbox::WriteMeta& meta) {
  CRM_RETURN_IF_ERROR(CheckUuid("customer_id", r.customer_id));
  if (!r.channel.has_value()) {
    return common::InvalidField(
        "channel",
        "channel is required: CHANNEL_EMAIL, CHANNEL_WEBHOOK, CHANNEL_SMS or CHANNEL_PUSH");
  }
  if (r.template_id.empty()) return common::InvalidField("template_id", "template_id is required");
  if (r.template_id.size() > 64) {
    return common::InvalidField("template_id", "template_id is at most 64 characters");
  }
  if (r.locale.size() > 35)
    return common::InvalidField("locale", "locale is at most 35 characters");
  if (*r.channel == domain::Channel::kWebhook) {
    CRM_RETURN_IF_ERROR(CheckUuid("endpoint_id", r.endpoint_id));
  } else if (!r.endpoint_id.empty()) {
    return common::InvalidField("endpoint_id", "endpoint_id is only for channel CHANNEL_WEBHOOK");
  }
  if (r.offer_count < 0 || r.offer_count > 10) {
    return common::InvalidField("offer_count", "offer_count is 0..10");
  }
  if (meta.idempotency_key.empty()) {
    return common::InvalidField("request_id",
                                "request_id is required: it makes the message's send exactly "
                                "once (a retry with it answers the same message)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckChannelReferences(DeliveryRepository& repository, Renderer& renderer,
                                    const std::string& tenant, domain::Channel channel,
                                    const std::string& template_id, const std::string& endpoint_id,
                                    const std::string& template_field,
                                    const std::string& endpoint_field) {
  absl::StatusOr<std::string> template_channel = renderer.TemplateChannel(tenant, template_id);
  if (!template_channel.ok()) return common::WithField(template_channel.status(), template_field);
  if (*template_channel != domain::ChannelName(channel)) {
    return common::WithField(
        common::WithReason(absl::FailedPreconditionError(absl::StrCat(
                               "template ", template_id, " is for the ", *template_channel,
                               " channel, not ", domain::ChannelName(channel))),
                           "TEMPLATE_CHANNEL_MISMATCH"),
        template_field);
  }
  if (channel == domain::Channel::kWebhook) {
    absl::StatusOr<WebhookEndpoint> e = repository.GetEndpoint(tenant, endpoint_id);
    if (!e.ok()) return common::WithField(e.status(), endpoint_field);
  }
  return RequireProvider(repository, tenant, channel);
}

absl::Status RequireProvider(DeliveryRepository& repository, const std::string& tenant,
                             domain::Channel channel) {
  if (channel != domain::Channel::kSms && channel != domain::Channel::kPush) {
    return absl::OkStatus();
  }
  CRM_ASSIGN_OR_RETURN(std::optional<domain::ProviderSettings> p,
                       repository.GetProvider(tenant, channel));
  if (p) return absl::OkStatus();
  return common::WithField(
      common::WithReason(absl::FailedPreconditionError(
                             absl::StrCat("no ", domain::ChannelName(channel),
                                          " provider is configured: PUT /v1/channelProviders/",
                                          domain::ChannelName(channel), " first")),
                         "CHANNEL_PROVIDER_NOT_CONFIGURED"),
      "channel");
}

absl::StatusOr<domain::WebhookUrl> CheckWebhookUrl(const std::string& url, HostResolver& resolver,
                                                   const std::vector<domain::Cidr>& allow) {
  absl::StatusOr<domain::WebhookUrl> parsed = domain::ParseWebhookUrl(url);
  if (!parsed.ok()) return common::InvalidField("url", parsed.status().message());
  std::vector<domain::IpAddress> addresses;
  if (parsed->host_is_ip) {
    std::optional<domain::IpAddress> ip = domain::ParseIp(parsed->host);
    if (!ip) return common::InvalidField("url", "url: the host is not an IP address");
    addresses.push_back(*ip);
  } else {
    absl::StatusOr<std::vector<domain::IpAddress>> resolved = resolver.Resolve(parsed->host);
    if (!resolved.ok() || resolved->empty()) {
      return common::InvalidField(
          "url", absl::StrCat("url: the host ", parsed->host, " does not resolve to an address"));
    }
    addresses = *std::move(resolved);
  }
  for (const domain::IpAddress& a : addresses) {
    absl::Status s = domain::CheckDestination(a, allow);
    if (!s.ok()) {
      return common::WithField(
          common::WithReason(absl::FailedPreconditionError(s.message()), "WEBHOOK_URL_FORBIDDEN"),
          "url");
    }
  }
  return parsed;
}

absl::StatusOr<domain::Message> Delivery::Send(const outbox::WriteMeta& meta,
                                               const SendRequest& req) {
  CRM_RETURN_IF_ERROR(ValidateSend(req, meta));
  // The checks that need other parts run before the write; the template and
  // the endpoint are read again when the message is sent.
  CRM_RETURN_IF_ERROR(CheckChannelReferences(repository_, renderer_, meta.tenant_id, *req.channel,
                                             req.template_id, req.endpoint_id, "template_id",
                                             "endpoint_id"));
  domain::Message m;
  m.customer_id = req.customer_id;
  m.channel = *req.channel;
  m.purpose = req.purpose;
  m.template_id = req.template_id;
  m.locale = req.locale;
  m.endpoint_id = req.endpoint_id;
  m.offer_count = req.offer_count;
  return Write(meta, std::move(m));
}

absl::StatusOr<domain::Message> Delivery::QueueTicketMail(const std::string& tenant,
                                                          const std::string& customer_id,
                                                          const std::string& ticket_id,
                                                          const std::string& mail_id) {
  CRM_RETURN_IF_ERROR(CheckUuid("customer_id", customer_id));
  CRM_RETURN_IF_ERROR(CheckUuid("ticket_id", ticket_id));
  CRM_RETURN_IF_ERROR(CheckUuid("mail_id", mail_id));
  const std::string key = absl::StrCat("ticket-mail:", mail_id);
  domain::Message m;
  m.customer_id = customer_id;
  m.channel = domain::Channel::kEmail;
  m.purpose = domain::Purpose::kTransactional;
  m.ticket_id = ticket_id;
  m.ticket_mail_id = mail_id;
  return Write({tenant, "service-desk", "", "QueueTicketMail", key, key}, std::move(m));
}

absl::StatusOr<domain::Message> Delivery::Write(const outbox::WriteMeta& meta, domain::Message m) {
  const absl::Time now = clock_.Now();
  m.id = ids_.NewId();
  m.state = domain::State::kQueued;
  m.max_attempts = options_.max_attempts;
  m.request_id = meta.idempotency_key;
  m.create_time = now;
  m.update_time = now;
  m.next_attempt_time = now;
  CRM_ASSIGN_OR_RETURN(domain::Message written,
                       repository_.Run<domain::Message>(
                           meta, m.id, [&](DeliveryTx& tx) -> absl::StatusOr<domain::Message> {
                             tx.InsertMessage(m);
                             tx.EmitMessage("message.queued", m);
                             return m;
                           }));
  // A retry answers the message as it is now; only a queued one is queued.
  if (written.state == domain::State::kQueued) Queue(meta.tenant_id, written);
  return written;
}

void Delivery::Queue(const std::string& tenant, const domain::Message& m) {
  absl::Status s = queue_.Enqueue({{tenant, m.id}});
  if (!s.ok()) {
    observability::LogLine(observability::Severity::kWarning)
            .Field("message_id", m.id)
            .Field("error", s.ToString())
        << "message not queued; the sweeper queues it";
  }
}

absl::StatusOr<domain::Message> Delivery::GetMessage(const std::string& tenant,
                                                     const std::string& id) {
  if (!common::IsUuid(id)) return domain::MessageNotFound(id);
  return repository_.GetMessage(tenant, id);
}

absl::StatusOr<MessagePage> Delivery::ListCustomerMessages(const std::string& tenant,
                                                           const std::string& customer_id,
                                                           const Page& page) {
  CRM_RETURN_IF_ERROR(CheckUuid("customer_id", customer_id));
  return repository_.ListCustomerMessages(tenant, customer_id, page);
}

absl::StatusOr<MessagePage> Delivery::ListMessages(const std::string& tenant,
                                                   std::optional<domain::State> state,
                                                   const Page& page) {
  if (!state) {
    return common::InvalidField("state",
                                "state is required, e.g. MESSAGE_STATE_FAILED for dead letters");
  }
  return repository_.ListMessages(tenant, *state, page);
}

absl::StatusOr<domain::Message> Delivery::Replay(const outbox::WriteMeta& meta,
                                                 const std::string& id) {
  if (!common::IsUuid(id)) return domain::MessageNotFound(id);
  const absl::Time now = clock_.Now();
  CRM_ASSIGN_OR_RETURN(
      domain::Message m,
      repository_.Run<domain::Message>(
          meta, id, [&](DeliveryTx& tx) -> absl::StatusOr<domain::Message> {
            CRM_ASSIGN_OR_RETURN(domain::Message m, tx.LoadMessageForUpdate(id));
            if (!domain::IsReplayable(m.state)) {
              return common::WithReason(
                  absl::FailedPreconditionError(absl::StrCat(
                      "message ", id, " is ", domain::StateName(m.state),
                      "; only failed (dead-lettered) and unknown messages are replayed")),
                  "MESSAGE_NOT_REPLAYABLE");
            }
            // A fresh attempt budget on top of the attempts made.
            m.max_attempts = m.attempts + options_.max_attempts;
            m.state = domain::State::kQueued;
            m.next_attempt_time = now;
            m.update_time = now;
            m.last_error.clear();
            tx.SaveMessage(m);
            tx.EmitMessage("message.replayed", m);
            return m;
          }));
  if (m.state == domain::State::kQueued) Queue(meta.tenant_id, m);
  return m;
}

absl::StatusOr<WebhookEndpoint> Delivery::CreateEndpoint(const outbox::WriteMeta& meta,
                                                         WebhookEndpoint e) {
  if (e.url.empty()) return common::InvalidField("url", "url is required");
  if (e.description.size() > 500) {
    return common::InvalidField("description", "description is at most 500 characters");
  }
  if (e.timeout < absl::Milliseconds(100) || e.timeout > absl::Seconds(30)) {
    return common::InvalidField("timeout_ms", "timeout_ms is 100..30000 (0: 5000)");
  }
  if (e.max_concurrency < 1 || e.max_concurrency > 64) {
    return common::InvalidField("max_concurrency", "max_concurrency is 1..64 (0: 8)");
  }
  CRM_ASSIGN_OR_RETURN(domain::WebhookUrl url,
                       CheckWebhookUrl(e.url, resolver_, options_.allow_networks));
  (void)url;
  e.id = ids_.NewId();
  e.secret = absl::StrCat("whsec_", common::HexEncode(common::RandomBytes(32)));
  e.create_time = clock_.Now();
  return repository_.Run<WebhookEndpoint>(
      meta, e.id, [&](DeliveryTx& tx) -> absl::StatusOr<WebhookEndpoint> {
        CRM_ASSIGN_OR_RETURN(int64_t count, tx.CountEndpoints());
        if (count >= kMaxEndpoints) {
          return common::WithReason(
              absl::FailedPreconditionError(absl::StrCat("the tenant has ", kMaxEndpoints,
                                                         " webhook endpoints; delete one first")),
              "TOO_MANY_WEBHOOK_ENDPOINTS");
        }
        tx.InsertEndpoint(e);
        return e;
      });
}

absl::StatusOr<WebhookEndpoint> Delivery::GetEndpoint(const std::string& tenant,
                                                      const std::string& id) {
  if (!common::IsUuid(id)) return domain::EndpointNotFound(id);
  return repository_.GetEndpoint(tenant, id);
}

absl::StatusOr<std::vector<WebhookEndpoint>> Delivery::ListEndpoints(const std::string& tenant) {
  return repository_.ListEndpoints(tenant);
}

absl::Status Delivery::DeleteEndpoint(const outbox::WriteMeta& meta, const std::string& id) {
  if (!common::IsUuid(id)) return domain::EndpointNotFound(id);
  return repository_
      .Run<bool>(meta, id,
                 [&](DeliveryTx& tx) -> absl::StatusOr<bool> {
                   CRM_ASSIGN_OR_RETURN(bool deleted, tx.DeleteEndpoint(id));
                   if (!deleted) return domain::EndpointNotFound(id);
                   return true;
                 })
      .status();
}

absl::StatusOr<SuppressionPage> Delivery::ListSuppressions(const std::string& tenant,
                                                           const Page& page) {
  return repository_.ListSuppressions(tenant, domain::Channel::kEmail, page);
}

absl::Status Delivery::DeleteSuppression(const outbox::WriteMeta& meta,
                                         const std::string& address) {
  const std::string lower = absl::AsciiStrToLower(address);
  if (lower.empty() || lower.size() > 320) return domain::SuppressionNotFound(lower.substr(0, 64));
  return repository_
      .Run<bool>(meta, absl::StrCat("suppression/email/", lower),
                 [&](DeliveryTx& tx) -> absl::StatusOr<bool> {
                   CRM_ASSIGN_OR_RETURN(bool deleted,
                                        tx.DeleteSuppression(domain::Channel::kEmail, lower));
                   if (!deleted) return domain::SuppressionNotFound(lower);
                   return true;
                 })
      .status();
}

absl::StatusOr<domain::DeliveryPolicy> Delivery::GetPolicy(const std::string& tenant) {
  CRM_ASSIGN_OR_RETURN(std::optional<domain::DeliveryPolicy> p, repository_.GetPolicy(tenant));
  return p.value_or(domain::DeliveryPolicy{});
}

absl::StatusOr<domain::DeliveryPolicy> Delivery::UpdatePolicy(const outbox::WriteMeta& meta,
                                                              domain::DeliveryPolicy draft,
                                                              const std::string& if_match) {
  CRM_RETURN_IF_ERROR(domain::ValidatePolicy(draft));
  CRM_ASSIGN_OR_RETURN(
      domain::DeliveryPolicy out,
      repository_.Run<domain::DeliveryPolicy>(
          meta, "delivery_policy", [&](DeliveryTx& tx) -> absl::StatusOr<domain::DeliveryPolicy> {
            CRM_ASSIGN_OR_RETURN(std::optional<domain::DeliveryPolicy> existing,
                                 tx.LoadPolicyForUpdate());
            const int64_t version = existing ? existing->version : 0;
            CRM_RETURN_IF_ERROR(
                common::CheckEtag("delivery policy", absl::StrCat(version), if_match));
            domain::DeliveryPolicy p = draft;
            p.version = version + 1;
            p.update_time = clock_.Now();
            tx.SavePolicy(p);
            return p;
          }));
  policies_.Put(meta.tenant_id, out);
  return out;
}

absl::StatusOr<SenderSettings> Delivery::GetSenderSettings(const std::string& tenant) {
  CRM_ASSIGN_OR_RETURN(std::optional<SenderSettings> s, repository_.GetSenderSettings(tenant));
  if (s) return *s;
  return options_.default_sender;
}

absl::StatusOr<SenderSettings> Delivery::UpdateSenderSettings(const outbox::WriteMeta& meta,
                                                              SenderSettings s) {
  if (!domain::ValidEmailAddress(s.from_address)) {
    return common::InvalidField("from_address", "from_address must be an email address");
  }
  if (s.from_name.size() > 200) {
    return common::InvalidField("from_name", "from_name is at most 200 characters");
  }
  if (s.from_name.find_first_of("\r\n") != std::string::npos) {
    return common::InvalidField("from_name", "from_name is one line");
  }
  if (!s.reply_to_address.empty() && !domain::ValidEmailAddress(s.reply_to_address)) {
    return common::InvalidField("reply_to_address", "reply_to_address must be an email address");
  }
  s.update_time = clock_.Now();
  return repository_.Run<SenderSettings>(meta, "sender_settings",
                                         [&](DeliveryTx& tx) -> absl::StatusOr<SenderSettings> {
                                           tx.SaveSenderSettings(s);
                                           return s;
                                         });
}

namespace {
domain::ProviderSettings WithoutSecret(domain::ProviderSettings p) {
  p.secret.clear();
  return p;
}
}  // namespace

absl::StatusOr<domain::ProviderSettings> Delivery::PutProvider(const outbox::WriteMeta& meta,
                                                               domain::ProviderSettings p,
                                                               const std::string& if_match) {
  const bool keep_secret = p.secret.empty();  // the stored one, checked below
  CRM_RETURN_IF_ERROR(domain::ValidateProviderSettings(p, /*secret_required=*/false));
  if (!p.base_url.empty()) {
    absl::Status url = CheckWebhookUrl(p.base_url, resolver_, options_.allow_networks).status();
    if (!url.ok()) return common::WithField(url, "base_url");
  }
  const absl::Time now = clock_.Now();
  CRM_ASSIGN_OR_RETURN(
      domain::ProviderSettings saved,
      repository_.Run<domain::ProviderSettings>(
          meta, absl::StrCat("provider/", domain::ChannelName(p.channel)),
          [&](DeliveryTx& tx) -> absl::StatusOr<domain::ProviderSettings> {
            CRM_ASSIGN_OR_RETURN(std::optional<domain::ProviderSettings> stored,
                                 tx.LoadProviderForUpdate(p.channel));
            const int64_t version = stored ? stored->version : 0;
            CRM_RETURN_IF_ERROR(
                common::CheckEtag(absl::StrCat(domain::ChannelName(p.channel), " provider"),
                                  absl::StrCat(version), if_match));
            if (keep_secret) {
              if (!stored) {
                return common::InvalidField("secret", "secret is required for a new provider");
              }
              p.secret = stored->secret;
            }
            p.version = version + 1;
            p.update_time = now;
            tx.SaveProvider(p);
            return p;
          }));
  return WithoutSecret(std::move(saved));
}

absl::StatusOr<domain::ProviderSettings> Delivery::GetProvider(const std::string& tenant,
                                                               domain::Channel channel) {
  CRM_ASSIGN_OR_RETURN(std::optional<domain::ProviderSettings> p,
                       repository_.GetProvider(tenant, channel));
  if (!p) return domain::ProviderNotFound(domain::ChannelName(channel));
  return WithoutSecret(*std::move(p));
}

absl::StatusOr<std::vector<domain::ProviderSettings>> Delivery::ListProviders(
    const std::string& tenant) {
  CRM_ASSIGN_OR_RETURN(std::vector<domain::ProviderSettings> all,
                       repository_.ListProviders(tenant));
  for (domain::ProviderSettings& p : all) p.secret.clear();
  return all;
}

absl::Status Delivery::DeleteProvider(const outbox::WriteMeta& meta, domain::Channel channel) {
  return repository_
      .Run<bool>(meta, absl::StrCat("provider/", domain::ChannelName(channel)),
                 [&](DeliveryTx& tx) -> absl::StatusOr<bool> {
                   CRM_ASSIGN_OR_RETURN(bool deleted, tx.DeleteProvider(channel));
                   if (!deleted) return domain::ProviderNotFound(domain::ChannelName(channel));
                   return true;
                 })
      .status();
}

}  // namespace crm::delivery::app

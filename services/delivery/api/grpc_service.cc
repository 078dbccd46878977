#include "services/delivery/api/grpc_service.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"

namespace crm::delivery::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

v1::MessageState ProtoState(domain::State s) {
  switch (s) {
    case domain::State::kQueued:
      return v1::MESSAGE_STATE_QUEUED;
    case domain::State::kSending:
      return v1::MESSAGE_STATE_SENDING;
    case domain::State::kRetrying:
      return v1::MESSAGE_STATE_RETRYING;
    case domain::State::kSent:
      return v1::MESSAGE_STATE_SENT;
    case domain::State::kSuppressed:
      return v1::MESSAGE_STATE_SUPPRESSED;
    case domain::State::kFailed:
      return v1::MESSAGE_STATE_FAILED;
    case domain::State::kUnknown:
      return v1::MESSAGE_STATE_UNKNOWN;
    case domain::State::kCancelled:
      return v1::MESSAGE_STATE_CANCELLED;
  }
  return v1::MESSAGE_STATE_UNSPECIFIED;
}

std::optional<domain::State> StateOf(v1::MessageState s) {
  for (domain::State d : {domain::State::kQueued, domain::State::kSending, domain::State::kRetrying,
                          domain::State::kSent, domain::State::kSuppressed, domain::State::kFailed,
                          domain::State::kUnknown, domain::State::kCancelled}) {
    if (ProtoState(d) == s) return d;
  }
  return std::nullopt;
}

v1::SuppressionReason ProtoSuppression(domain::Suppression s) {
  switch (s) {
    case domain::Suppression::kNone:
      return v1::SUPPRESSION_REASON_UNSPECIFIED;
    case domain::Suppression::kConsent:
      return v1::SUPPRESSION_REASON_CONSENT;
    case domain::Suppression::kInvalidAddress:
      return v1::SUPPRESSION_REASON_INVALID_ADDRESS;
    case domain::Suppression::kCustomerGone:
      return v1::SUPPRESSION_REASON_CUSTOMER_GONE;
    case domain::Suppression::kFrequencyCap:
      return v1::SUPPRESSION_REASON_FREQUENCY_CAP;
    case domain::Suppression::kHoldout:
      return v1::SUPPRESSION_REASON_HOLDOUT;
    case domain::Suppression::kGoalReached:
      return v1::SUPPRESSION_REASON_GOAL_REACHED;
  }
  return v1::SUPPRESSION_REASON_UNSPECIFIED;
}

void ToProto(const app::WebhookEndpoint& e, v1::WebhookEndpoint* out, bool with_secret) {
  out->set_endpoint_id(e.id);
  out->set_url(e.url);
  out->set_description(e.description);
  if (with_secret) out->set_secret(e.secret);
  out->set_timeout_ms(static_cast<int32_t>(absl::ToInt64Milliseconds(e.timeout)));
  out->set_max_concurrency(e.max_concurrency);
  grpcutil::ToTimestamp(e.create_time, out->mutable_create_time());
}

void ToProto(const app::SenderSettings& s, v1::SenderSettings* out) {
  out->set_from_address(s.from_address);
  out->set_from_name(s.from_name);
  out->set_reply_to_address(s.reply_to_address);
  if (s.update_time) grpcutil::ToTimestamp(*s.update_time, out->mutable_update_time());
}

void ToProto(const domain::DeliveryPolicy& p, v1::DeliveryPolicy* out) {
  for (const domain::FrequencyCap& c : p.caps) {
    v1::FrequencyCap* x = out->add_frequency_caps();
    x->set_channel(ChannelToProto(c.channel));
    x->set_max_messages(c.max_messages);
    x->set_window_seconds(absl::ToInt64Seconds(c.window));
  }
  if (p.quiet_hours) {
    out->mutable_quiet_hours()->set_start(domain::FormatClock(p.quiet_hours->start_minute));
    out->mutable_quiet_hours()->set_end(domain::FormatClock(p.quiet_hours->end_minute));
    out->mutable_quiet_hours()->set_default_time_zone(p.quiet_hours->default_time_zone);
  }
  out->mutable_attribution()->set_window_seconds(absl::ToInt64Seconds(p.attribution.window));
  out->mutable_attribution()->set_opens_count(p.attribution.opens_count);
  out->set_version(p.version);
  out->set_etag(absl::StrCat(p.version));
  if (p.update_time) grpcutil::ToTimestamp(*p.update_time, out->mutable_update_time());
}

absl::StatusOr<domain::DeliveryPolicy> FromProto(const v1::DeliveryPolicy& in) {
  domain::DeliveryPolicy p;
  for (const v1::FrequencyCap& c : in.frequency_caps()) {
    domain::FrequencyCap cap;
    absl::StatusOr<std::optional<domain::Channel>> channel = ChannelFromProto(c.channel());
    if (!channel.ok() || !channel->has_value()) {
      return common::InvalidField("frequency_caps.channel",
                                  "channel is CHANNEL_EMAIL or CHANNEL_WEBHOOK");
    }
    cap.channel = **channel;
    cap.max_messages = c.max_messages();
    cap.window = absl::Seconds(c.window_seconds());
    p.caps.push_back(cap);
  }
  if (in.has_quiet_hours()) {
    domain::QuietHours q;
    absl::StatusOr<int> start = domain::ParseClock(in.quiet_hours().start());
    if (!start.ok()) return common::InvalidField("quiet_hours.start", start.status().message());
    absl::StatusOr<int> end = domain::ParseClock(in.quiet_hours().end());
    if (!end.ok()) return common::InvalidField("quiet_hours.end", end.status().message());
    q.start_minute = *start;
    q.end_minute = *end;
    if (!in.quiet_hours().default_time_zone().empty()) {
      q.default_time_zone = in.quiet_hours().default_time_zone();
    }
    p.quiet_hours = q;
  }
  if (in.has_attribution()) {
    if (in.attribution().window_seconds() != 0) {
      p.attribution.window = absl::Seconds(in.attribution().window_seconds());
    }
    p.attribution.opens_count = in.attribution().opens_count();
  }
  return p;
}

absl::StatusOr<app::Page> PageOf(const common::PageTokenCodec& tokens, const RequestContext& rc,
                                 const std::string& scope, int size, const std::string& token) {
  app::Page page;
  CRM_ASSIGN_OR_RETURN(page.size, common::ClampPageSize(size, 50, 500));
  if (!token.empty()) {
    CRM_ASSIGN_OR_RETURN(page.after, tokens.Decode(rc.tenant_id, scope, token));
  }
  return page;
}

void PageToProto(const common::PageTokenCodec& tokens, const RequestContext& rc,
                 const std::string& scope, const app::MessagePage& page,
                 v1::ListMessagesResponse* resp) {
  for (const domain::Message& m : page.messages) api::ToProto(m, resp->add_messages());
  if (!page.next_after.empty()) {
    resp->set_next_page_token(tokens.Encode(rc.tenant_id, scope, page.next_after));
  }
}

// The path's channel of a provider: "email", "sms" or "push".
absl::StatusOr<domain::Channel> ProviderChannelOf(const std::string& name) {
  std::optional<domain::Channel> c = domain::ChannelFromName(name);
  if (!c || *c == domain::Channel::kWebhook) {
    return common::InvalidField("channel", "channel is \"email\", \"sms\" or \"push\"");
  }
  return *c;
}

void ToProto(const domain::ProviderSettings& p, v1::ChannelProvider* out) {
  out->set_channel(ChannelToProto(p.channel));
  out->set_kind(p.kind == domain::ProviderKind::kTwilio      ? v1::PROVIDER_KIND_TWILIO
                : p.kind == domain::ProviderKind::kOneSignal ? v1::PROVIDER_KIND_ONESIGNAL
                                                             : v1::PROVIDER_KIND_MAILGUN);
  out->set_base_url(p.base_url);
  out->set_account_id(p.account);
  out->set_sender(p.sender);
  out->set_secret_set(true);  // a stored provider always has one
  out->set_version(p.version);
  out->set_etag(absl::StrCat(p.version));
  grpcutil::ToTimestamp(p.update_time, out->mutable_update_time());
}

}  // namespace

v1::Channel ChannelToProto(domain::Channel c) {
  switch (c) {
    case domain::Channel::kEmail:
      return v1::CHANNEL_EMAIL;
    case domain::Channel::kWebhook:
      return v1::CHANNEL_WEBHOOK;
    case domain::Channel::kSms:
      return v1::CHANNEL_SMS;
    case domain::Channel::kPush:
      return v1::CHANNEL_PUSH;
  }
  return v1::CHANNEL_UNSPECIFIED;
}

absl::StatusOr<std::optional<domain::Channel>> ChannelFromProto(v1::Channel c) {
  switch (c) {
    case v1::CHANNEL_UNSPECIFIED:
      return std::optional<domain::Channel>();
    case v1::CHANNEL_EMAIL:
      return std::optional<domain::Channel>(domain::Channel::kEmail);
    case v1::CHANNEL_WEBHOOK:
      return std::optional<domain::Channel>(domain::Channel::kWebhook);
    case v1::CHANNEL_SMS:
      return std::optional<domain::Channel>(domain::Channel::kSms);
    case v1::CHANNEL_PUSH:
      return std::optional<domain::Channel>(domain::Channel::kPush);
    default:
      return common::InvalidField(
          "channel", "channel is CHANNEL_EMAIL, CHANNEL_WEBHOOK, CHANNEL_SMS or CHANNEL_PUSH");
  }
}

void ToProto(const domain::Message& m, v1::Message* out) {
  out->set_message_id(m.id);
  out->set_customer_id(m.customer_id);
  out->set_channel(ChannelToProto(m.channel));
  out->set_purpose(m.purpose == domain::Purpose::kMarketing ? v1::PURPOSE_MARKETING
                                                            : v1::PURPOSE_TRANSACTIONAL);
  out->set_template_id(m.template_id);
  out->set_locale(m.locale);
  out->set_endpoint_id(m.endpoint_id);
  out->set_state(ProtoState(m.state));
  out->set_suppression_reason(ProtoSuppression(m.suppression));
  out->set_attempts(m.attempts);
  out->set_last_error(m.last_error);
  out->set_recipient(m.recipient);
  out->set_provider_id(m.provider_id);
  if (m.receipt != domain::Receipt::kNone) {
    v1::MessageReceipt* r = out->mutable_receipt();
    r->set_status(m.receipt == domain::Receipt::kDelivered ? v1::RECEIPT_STATUS_DELIVERED
                                                           : v1::RECEIPT_STATUS_BOUNCED);
    if (m.receipt_time) grpcutil::ToTimestamp(*m.receipt_time, r->mutable_time());
    r->set_detail(m.receipt_detail);
  }
  for (const std::string& d : m.decision_ids) out->add_decision_ids(d);
  for (const std::string& o : m.offer_ids) out->add_offer_ids(o);
  grpcutil::ToTimestamp(m.create_time, out->mutable_create_time());
  grpcutil::ToTimestamp(m.update_time, out->mutable_update_time());
  if (m.next_attempt_time && !domain::IsFinal(m.state)) {
    grpcutil::ToTimestamp(*m.next_attempt_time, out->mutable_next_attempt_time());
  }
  if (m.send_time) grpcutil::ToTimestamp(*m.send_time, out->mutable_send_time());
  out->set_request_id(m.request_id);
  out->set_campaign_id(m.campaign_id);
  out->set_variant_id(m.variant_id);
  out->set_ticket_id(m.ticket_id);
  out->set_ticket_mail_id(m.ticket_mail_id);
  if (m.channel == domain::Channel::kEmail && m.state == domain::State::kSent) {
    v1::MessageEngagement* e = out->mutable_engagement();
    e->set_open_count(m.open_count);
    e->set_click_count(m.click_count);
    e->set_tracked_links(static_cast<int32_t>(m.links.size()));
    if (m.first_open_time) grpcutil::ToTimestamp(*m.first_open_time, e->mutable_first_open_time());
    if (m.first_click_time) {
      grpcutil::ToTimestamp(*m.first_click_time, e->mutable_first_click_time());
    }
    if (m.unsubscribe_time) {
      grpcutil::ToTimestamp(*m.unsubscribe_time, e->mutable_unsubscribe_time());
    }
  }
}

grpc::ServerUnaryReactor* DeliveryGrpcService::SendMessage(grpc::CallbackServerContext* ctx,
                                                           const v1::SendMessageRequest* req,
                                                           v1::Message* resp) {
  return Offload(ctx, executor_, metrics_, "SendMessage", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    app::SendRequest r;
    r.customer_id = req->customer_id();
    CRM_ASSIGN_OR_RETURN(r.channel, ChannelFromProto(req->channel()));
    switch (req->purpose()) {
      case v1::PURPOSE_UNSPECIFIED:
      case v1::PURPOSE_TRANSACTIONAL:
        r.purpose = domain::Purpose::kTransactional;
        break;
      case v1::PURPOSE_MARKETING:
        r.purpose = domain::Purpose::kMarketing;
        break;
      default:
        return common::InvalidField("purpose",
                                    "purpose is PURPOSE_TRANSACTIONAL or PURPOSE_MARKETING");
    }
    r.template_id = req->template_id();
    r.locale = req->locale();
    r.endpoint_id = req->endpoint_id();
    r.offer_count = req->offer_count();
    CRM_ASSIGN_OR_RETURN(
        domain::Message m,
        delivery_.Send(grpcutil::IdempotentWriteMetaOf(rc, "SendMessage", *req), r));
    ToProto(m, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::GetMessage(grpc::CallbackServerContext* ctx,
                                                          const v1::GetMessageRequest* req,
                                                          v1::Message* resp) {
  return Offload(ctx, executor_, metrics_, "GetMessage", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::Message m, delivery_.GetMessage(rc.tenant_id, req->message_id()));
    ToProto(m, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ListCustomerMessages(
    grpc::CallbackServerContext* ctx, const v1::ListCustomerMessagesRequest* req,
    v1::ListMessagesResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListCustomerMessages", [=](const RequestContext& rc) {
    const std::string scope = absl::StrCat("customer_messages/", req->customer_id());
    CRM_ASSIGN_OR_RETURN(app::Page page,
                         PageOf(tokens_, rc, scope, req->page_size(), req->page_token()));
    CRM_ASSIGN_OR_RETURN(app::MessagePage got,
                         delivery_.ListCustomerMessages(rc.tenant_id, req->customer_id(), page));
    PageToProto(tokens_, rc, scope, got, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ListMessages(grpc::CallbackServerContext* ctx,
                                                            const v1::ListMessagesRequest* req,
                                                            v1::ListMessagesResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListMessages", [=](const RequestContext& rc) {
    const std::string scope = absl::StrCat("messages/", static_cast<int>(req->state()));
    CRM_ASSIGN_OR_RETURN(app::Page page,
                         PageOf(tokens_, rc, scope, req->page_size(), req->page_token()));
    CRM_ASSIGN_OR_RETURN(app::MessagePage got,
                         delivery_.ListMessages(rc.tenant_id, StateOf(req->state()), page));
    PageToProto(tokens_, rc, scope, got, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ReplayMessage(grpc::CallbackServerContext* ctx,
                                                             const v1::ReplayMessageRequest* req,
                                                             v1::Message* resp) {
  return Offload(ctx, executor_, metrics_, "ReplayMessage", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Message m, delivery_.Replay(grpcutil::IdempotentWriteMetaOf(
                                                                 rc, "ReplayMessage", *req),
                                                             req->message_id()));
    ToProto(m, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::Track(grpc::CallbackServerContext* ctx,
                                                     const v1::TrackRequest* req,
                                                     v1::TrackResponse* resp) {
  return Offload(ctx, executor_, metrics_, "Track", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(app::TrackResult r, tracking_.Track(grpcutil::WriteMetaOf(rc, "Track"),
                                                             req->token(), req->peek()));
    resp->set_message_id(r.message_id);
    resp->set_redirect_url(r.redirect_url);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ReportStatus(grpc::CallbackServerContext* ctx,
                                                            const v1::ReportStatusRequest* req,
                                                            v1::ReportStatusResponse*) {
  return Offload(ctx, executor_, metrics_, "ReportStatus", [=](const RequestContext& rc) {
    return tracking_.ReportStatus(grpcutil::WriteMetaOf(rc, "ReportStatus"), req->token(),
                                  req->body(), req->signature());
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ReportEmailEvent(
    grpc::CallbackServerContext* ctx, const v1::ReportEmailEventRequest* req,
    v1::ReportEmailEventResponse*) {
  return Offload(ctx, executor_, metrics_, "ReportEmailEvent", [=](const RequestContext& rc) {
    return tracking_.ReportEmailEvent(grpcutil::WriteMetaOf(rc, "ReportEmailEvent"), req->body());
  });
}

namespace {
// The suppression list's channel: "email" (the only one kept).
absl::Status CheckSuppressionChannel(const std::string& channel) {
  if (channel != "email") return common::InvalidField("channel", "channel is \"email\"");
  return absl::OkStatus();
}
}  // namespace

grpc::ServerUnaryReactor* DeliveryGrpcService::ListSuppressions(
    grpc::CallbackServerContext* ctx, const v1::ListSuppressionsRequest* req,
    v1::ListSuppressionsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListSuppressions", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckSuppressionChannel(req->channel()));
    const std::string scope = "suppressions/email";
    CRM_ASSIGN_OR_RETURN(app::Page page,
                         PageOf(tokens_, rc, scope, req->page_size(), req->page_token()));
    CRM_ASSIGN_OR_RETURN(app::SuppressionPage got, delivery_.ListSuppressions(rc.tenant_id, page));
    for (const app::SuppressedAddress& a : got.items) {
      v1::Suppression* s = resp->add_suppressions();
      s->set_channel(ChannelToProto(a.channel));
      s->set_address(a.address);
      s->set_reason(v1::Suppression::REASON_BOUNCE);
      s->set_detail(a.detail);
      s->set_message_id(a.message_id);
      grpcutil::ToTimestamp(a.create_time, s->mutable_create_time());
    }
    if (!got.next_after.empty()) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, scope, got.next_after));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::DeleteSuppression(
    grpc::CallbackServerContext* ctx, const v1::DeleteSuppressionRequest* req,
    v1::DeleteSuppressionResponse*) {
  return Offload(ctx, executor_, metrics_, "DeleteSuppression", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckSuppressionChannel(req->channel()));
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    return delivery_.DeleteSuppression(
        grpcutil::IdempotentWriteMetaOf(rc, "DeleteSuppression", *req), req->address());
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::CreateWebhookEndpoint(
    grpc::CallbackServerContext* ctx, const v1::CreateWebhookEndpointRequest* req,
    v1::WebhookEndpoint* resp) {
  return Offload(ctx, executor_, metrics_, "CreateWebhookEndpoint", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    const v1::WebhookEndpoint& body = req->webhook_endpoint();
    if (!body.endpoint_id().empty()) {
      return common::InvalidField("endpoint_id", "endpoint_id is output only");
    }
    if (!body.secret().empty()) return common::InvalidField("secret", "secret is output only");
    app::WebhookEndpoint e;
    e.url = body.url();
    e.description = body.description();
    e.timeout = absl::Milliseconds(body.timeout_ms() == 0 ? 5000 : body.timeout_ms());
    e.max_concurrency = body.max_concurrency() == 0 ? 8 : body.max_concurrency();
    CRM_ASSIGN_OR_RETURN(
        app::WebhookEndpoint created,
        delivery_.CreateEndpoint(grpcutil::IdempotentWriteMetaOf(rc, "CreateWebhookEndpoint", *req),
                                 std::move(e)));
    ToProto(created, resp, /*with_secret=*/true);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::GetWebhookEndpoint(
    grpc::CallbackServerContext* ctx, const v1::GetWebhookEndpointRequest* req,
    v1::WebhookEndpoint* resp) {
  return Offload(ctx, executor_, metrics_, "GetWebhookEndpoint", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(app::WebhookEndpoint e,
                         delivery_.GetEndpoint(rc.tenant_id, req->endpoint_id()));
    ToProto(e, resp, /*with_secret=*/false);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ListWebhookEndpoints(
    grpc::CallbackServerContext* ctx, const v1::ListWebhookEndpointsRequest*,
    v1::ListWebhookEndpointsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListWebhookEndpoints", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(std::vector<app::WebhookEndpoint> all,
                         delivery_.ListEndpoints(rc.tenant_id));
    for (const app::WebhookEndpoint& e : all) {
      ToProto(e, resp->add_webhook_endpoints(), /*with_secret=*/false);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::DeleteWebhookEndpoint(
    grpc::CallbackServerContext* ctx, const v1::DeleteWebhookEndpointRequest* req,
    v1::DeleteWebhookEndpointResponse*) {
  return Offload(ctx, executor_, metrics_, "DeleteWebhookEndpoint", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    return delivery_.DeleteEndpoint(
        grpcutil::IdempotentWriteMetaOf(rc, "DeleteWebhookEndpoint", *req), req->endpoint_id());
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::GetDeliveryPolicy(
    grpc::CallbackServerContext* ctx, const v1::GetDeliveryPolicyRequest*,
    v1::DeliveryPolicy* resp) {
  return Offload(ctx, executor_, metrics_, "GetDeliveryPolicy", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::DeliveryPolicy p, delivery_.GetPolicy(rc.tenant_id));
    ToProto(p, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::UpdateDeliveryPolicy(
    grpc::CallbackServerContext* ctx, const v1::UpdateDeliveryPolicyRequest* req,
    v1::DeliveryPolicy* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateDeliveryPolicy", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::DeliveryPolicy draft, FromProto(req->delivery_policy()));
    CRM_ASSIGN_OR_RETURN(
        domain::DeliveryPolicy p,
        delivery_.UpdatePolicy(grpcutil::IdempotentWriteMetaOf(rc, "UpdateDeliveryPolicy", *req),
                               std::move(draft), req->delivery_policy().etag()));
    ToProto(p, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::UpdateChannelProvider(
    grpc::CallbackServerContext* ctx, const v1::UpdateChannelProviderRequest* req,
    v1::ChannelProvider* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateChannelProvider", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Channel channel, ProviderChannelOf(req->channel()));
    const v1::ChannelProvider& body = req->channel_provider();
    domain::ProviderSettings p;
    p.channel = channel;
    switch (body.kind()) {
      case v1::PROVIDER_KIND_TWILIO:
        p.kind = domain::ProviderKind::kTwilio;
        break;
      case v1::PROVIDER_KIND_ONESIGNAL:
        p.kind = domain::ProviderKind::kOneSignal;
        break;
      case v1::PROVIDER_KIND_MAILGUN:
        p.kind = domain::ProviderKind::kMailgun;
        break;
      default:
        return common::InvalidField("kind",
                                    "kind is PROVIDER_KIND_TWILIO (sms), PROVIDER_KIND_ONESIGNAL "
                                    "(push) or PROVIDER_KIND_MAILGUN (email events)");
    }
    p.base_url = body.base_url();
    p.account = body.account_id();
    p.sender = body.sender();
    p.secret = body.secret();
    CRM_ASSIGN_OR_RETURN(
        domain::ProviderSettings saved,
        delivery_.PutProvider(grpcutil::IdempotentWriteMetaOf(rc, "UpdateChannelProvider", *req),
                              std::move(p), body.etag()));
    ToProto(saved, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::GetChannelProvider(
    grpc::CallbackServerContext* ctx, const v1::GetChannelProviderRequest* req,
    v1::ChannelProvider* resp) {
  return Offload(ctx, executor_, metrics_, "GetChannelProvider", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::Channel channel, ProviderChannelOf(req->channel()));
    CRM_ASSIGN_OR_RETURN(domain::ProviderSettings p, delivery_.GetProvider(rc.tenant_id, channel));
    ToProto(p, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ListChannelProviders(
    grpc::CallbackServerContext* ctx, const v1::ListChannelProvidersRequest*,
    v1::ListChannelProvidersResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListChannelProviders", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(std::vector<domain::ProviderSettings> all,
                         delivery_.ListProviders(rc.tenant_id));
    for (const domain::ProviderSettings& p : all) ToProto(p, resp->add_channel_providers());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::DeleteChannelProvider(
    grpc::CallbackServerContext* ctx, const v1::DeleteChannelProviderRequest* req,
    v1::DeleteChannelProviderResponse*) {
  return Offload(ctx, executor_, metrics_, "DeleteChannelProvider", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Channel channel, ProviderChannelOf(req->channel()));
    return delivery_.DeleteProvider(
        grpcutil::IdempotentWriteMetaOf(rc, "DeleteChannelProvider", *req), channel);
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::GetSenderSettings(
    grpc::CallbackServerContext* ctx, const v1::GetSenderSettingsRequest*,
    v1::SenderSettings* resp) {
  return Offload(ctx, executor_, metrics_, "GetSenderSettings", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(app::SenderSettings s, delivery_.GetSenderSettings(rc.tenant_id));
    ToProto(s, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::UpdateSenderSettings(
    grpc::CallbackServerContext* ctx, const v1::UpdateSenderSettingsRequest* req,
    v1::SenderSettings* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateSenderSettings", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    const v1::SenderSettings& body = req->sender_settings();
    app::SenderSettings s{body.from_address(), body.from_name(), body.reply_to_address(),
                          std::nullopt};
    CRM_ASSIGN_OR_RETURN(
        app::SenderSettings saved,
        delivery_.UpdateSenderSettings(
            grpcutil::IdempotentWriteMetaOf(rc, "UpdateSenderSettings", *req), std::move(s)));
    ToProto(saved, resp);
    return absl::OkStatus();
  });
}

}  // namespace crm::delivery::api

#include "services/delivery/app/tracking.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/tracking_token.h"
#include "services/delivery/domain/email_events.h"
#include "services/delivery/domain/providers.h"
#include "services/delivery/domain/tracking.h"

namespace crm::delivery::app {
namespace {

domain::Engagement EngagementOf(common::TrackingAction a) {
  switch (a) {
    case common::TrackingAction::kOpen:
      return domain::Engagement::kOpen;
    case common::TrackingAction::kClick:
      return domain::Engagement::kClick;
    case common::TrackingAction::kUnsubscribe:
      return domain::Engagement::kUnsubscribe;
    case common::TrackingAction::kStatus:
    case common::TrackingAction::kSurvey:
      break;  // not an engagement: refused before
  }
  return domain::Engagement::kOpen;
}

}  // namespace

absl::StatusOr<TrackResult> Tracking::Track(const outbox::WriteMeta& meta, const std::string& token,
                                            bool peek) {
  const absl::Time now = clock_.Now();
  absl::StatusOr<common::TrackingClaims> claims = common::VerifyTrackingToken(key_, token, now);
  // A token of another tenant reads like any invalid one.
  if (!claims.ok() || claims->tenant_id != meta.tenant_id ||
      claims->action == common::TrackingAction::kStatus ||
      claims->action == common::TrackingAction::kSurvey) {
    return common::TrackingLinkInvalid();
  }
  const std::string& id = claims->message_id;
  if (peek) {
    // Nothing recorded: the link's answer only (an unsubscribe is never
    // peeked at: its HEAD is the confirm page's).
    absl::StatusOr<domain::Message> m = repository_.GetMessage(meta.tenant_id, id);
    if (m.status().code() == absl::StatusCode::kNotFound) return common::TrackingLinkInvalid();
    CRM_RETURN_IF_ERROR(m.status());
    TrackResult result;
    result.message_id = id;
    if (claims->action == common::TrackingAction::kClick) {
      if (claims->link >= static_cast<int>(m->links.size())) return common::TrackingLinkInvalid();
      result.redirect_url = m->links[static_cast<size_t>(claims->link)];
    }
    return result;
  }
  if (claims->action == common::TrackingAction::kUnsubscribe) {
    // The consent first: it is what the recipient asked for. A message or
    // customer that is gone has nobody left to opt out.
    absl::StatusOr<domain::Message> m = repository_.GetMessage(meta.tenant_id, id);
    if (m.status().code() == absl::StatusCode::kNotFound) return common::TrackingLinkInvalid();
    CRM_RETURN_IF_ERROR(m.status());
    absl::Status s = directory_.RecordOptOut(meta.tenant_id, m->customer_id,
                                             {"email", "marketing", "unsubscribe-link", id});
    if (s.code() == absl::StatusCode::kNotFound) return common::TrackingLinkInvalid();
    if (!s.ok()) {
      return common::WithReason(
          absl::UnavailableError("the unsubscribe could not be recorded now; try again shortly"),
          "CUSTOMER_STORE_UNAVAILABLE");
    }
  }
  TrackResult result;
  result.message_id = id;
  CRM_ASSIGN_OR_RETURN(domain::Message m,
                       repository_.Run<domain::Message>(
                           meta, id, [&](DeliveryTx& tx) -> absl::StatusOr<domain::Message> {
                             absl::StatusOr<domain::Message> m = tx.LoadMessageForUpdate(id);
                             if (m.status().code() == absl::StatusCode::kNotFound)
                               return common::TrackingLinkInvalid();
                             CRM_RETURN_IF_ERROR(m.status());
                             if (claims->action == common::TrackingAction::kClick) {
                               if (claims->link >= static_cast<int>(m->links.size()))
                                 return common::TrackingLinkInvalid();
                               result.redirect_url = m->links[static_cast<size_t>(claims->link)];
                             }
                             for (const std::string& type :
                                  domain::RecordEngagement(*m, EngagementOf(claims->action), now)) {
                               tx.EmitMessage(type, *m);
                             }
                             tx.SaveEngagement(*m);
                             return m;
                           }));
  (void)m;
  return result;
}

absl::Status Tracking::ReportStatus(const outbox::WriteMeta& meta, const std::string& token,
                                    const std::string& body, const std::string& signature) {
  const absl::Time now = clock_.Now();
  absl::StatusOr<common::TrackingClaims> claims = common::VerifyTrackingToken(key_, token, now);
  if (!claims.ok() || claims->tenant_id != meta.tenant_id ||
      claims->action != common::TrackingAction::kStatus || base_url_.empty()) {
    return common::TrackingLinkInvalid();
  }
  std::optional<domain::Form> form = domain::ParseForm(body);
  if (!form) {
    return common::WithReason(absl::InvalidArgumentError("the body is not a form"),
                              "MALFORMED_BODY");
  }
  const std::string& id = claims->message_id;
  absl::StatusOr<domain::Message> sent = repository_.GetMessage(meta.tenant_id, id);
  if (sent.status().code() == absl::StatusCode::kNotFound) return common::TrackingLinkInvalid();
  CRM_RETURN_IF_ERROR(sent.status());
  // The provider's signature, with the tenant's current credentials for
  // the message's channel: without them nothing can be believed.
  CRM_ASSIGN_OR_RETURN(std::optional<domain::ProviderSettings> provider,
                       repository_.GetProvider(meta.tenant_id, sent->channel));
  if (!provider || provider->kind != domain::ProviderKind::kTwilio ||
      !common::ConstantTimeEquals(
          domain::TwilioSignature(provider->secret, absl::StrCat(base_url_, "/t/s/", token), *form),
          signature)) {
    return common::TrackingLinkInvalid();
  }
  const domain::StatusReport report = domain::ReadTwilioStatus(*form);
  if (report.receipt == domain::Receipt::kNone) return absl::OkStatus();
  return repository_
      .Run<domain::Message>(
          meta, id,
          [&](DeliveryTx& tx) -> absl::StatusOr<domain::Message> {
            CRM_ASSIGN_OR_RETURN(domain::Message m, tx.LoadMessageForUpdate(id));
            for (const std::string& type : domain::RecordReceipt(m, report, now)) {
              tx.EmitMessage(type, m);
            }
            tx.SaveEngagement(m);
            return m;
          })
      .status();
}

absl::Status Tracking::ReportEmailEvent(const outbox::WriteMeta& meta, const std::string& body) {
  const std::string& tenant = meta.tenant_id;
  CRM_ASSIGN_OR_RETURN(std::optional<domain::ProviderSettings> provider,
                       repository_.GetProvider(tenant, domain::Channel::kEmail));
  if (!provider || provider->kind != domain::ProviderKind::kMailgun) {
    return common::TrackingLinkInvalid();
  }
  const absl::Time now = clock_.Now();
  absl::StatusOr<domain::EmailEvent> event = domain::ReadMailgunEvent(body, provider->secret, now);
  if (event.status().code() == absl::StatusCode::kPermissionDenied) {
    return common::TrackingLinkInvalid();
  }
  CRM_RETURN_IF_ERROR(event.status());
  if (event->kind == domain::EmailEventKind::kOther || event->message_id.empty()) {
    return absl::OkStatus();
  }
  const std::string& id = event->message_id;
  absl::StatusOr<domain::Message> sent = repository_.GetMessage(tenant, id);
  if (sent.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  CRM_RETURN_IF_ERROR(sent.status());
  if (sent->channel != domain::Channel::kEmail) return absl::OkStatus();
  if (event->kind == domain::EmailEventKind::kComplained) {
    // Marketing only: order confirmations still reach a customer who
    // reported a newsletter as spam. One consent record per message.
    absl::Status s =
        directory_.RecordOptOut(tenant, sent->customer_id, {"email", "marketing", "complaint", id});
    if (s.code() == absl::StatusCode::kNotFound) return absl::OkStatus();  // the customer is gone
    return s;
  }
  domain::StatusReport report;
  report.receipt = event->kind == domain::EmailEventKind::kDelivered ? domain::Receipt::kDelivered
                                                                     : domain::Receipt::kBounced;
  report.detail = event->detail;
  return repository_
      .Run<domain::Message>(
          meta, id,
          [&](DeliveryTx& tx) -> absl::StatusOr<domain::Message> {
            CRM_ASSIGN_OR_RETURN(domain::Message m, tx.LoadMessageForUpdate(id));
            for (const std::string& type : domain::RecordReceipt(m, report, now)) {
              tx.EmitMessage(type, m);
            }
            tx.SaveEngagement(m);
            if (report.receipt == domain::Receipt::kBounced) {
              SuppressedAddress a;
              a.channel = domain::Channel::kEmail;
              a.address =
                  event->recipient.empty() ? absl::AsciiStrToLower(m.recipient) : event->recipient;
              a.detail = event->detail;
              a.message_id = id;
              a.create_time = now;
              if (!a.address.empty()) tx.SaveSuppression(a);
            }
            return m;
          })
      .status();
}

}  // namespace crm::delivery::app

#include "services/delivery/clients/grpc_peers.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "libs/grpcutil/peer_call.h"
#include "libs/grpcutil/status_conversion.h"

namespace crm::delivery::clients {
namespace {

constexpr char kPrincipal[] = "delivery";
// customer-store's BatchGetCustomers takes up to 500 ids, personalization's
// BatchRenderTemplate up to 100 renders.
constexpr size_t kContactBatch = 500;
constexpr size_t kRenderBatch = 100;

domain::ConsentStatus StatusOf(customer_store::v1::ConsentStatus s) {
  switch (s) {
    case customer_store::v1::CONSENT_STATUS_OPTED_IN:
      return domain::ConsentStatus::kOptedIn;
    case customer_store::v1::CONSENT_STATUS_OPTED_OUT:
      return domain::ConsentStatus::kOptedOut;
    case customer_store::v1::CONSENT_STATUS_PENDING:
      return domain::ConsentStatus::kPending;
    default:
      return domain::ConsentStatus::kUnknown;
  }
}

std::string LowerSuffix(const std::string& name, absl::string_view prefix) {
  return absl::AsciiStrToLower(absl::StripPrefix(name, prefix));
}

}  // namespace

absl::StatusOr<std::map<std::string, app::Contact>> GrpcCustomerDirectory::GetContacts(
    const std::string& tenant, const std::vector<std::string>& customer_ids) {
  std::map<std::string, app::Contact> out;
  for (size_t from = 0; from < customer_ids.size(); from += kContactBatch) {
    grpc::ClientContext ctx;
    grpcutil::PreparePeerCall(kPrincipal, tenant, timeout_, &ctx);
    customer_store::v1::BatchGetCustomersRequest req;
    const size_t to = std::min(customer_ids.size(), from + kContactBatch);
    for (size_t i = from; i < to; ++i) req.add_customer_ids(customer_ids[i]);
    req.set_include_consents(true);
    customer_store::v1::BatchGetCustomersResponse resp;
    grpc::Status s = stub_->BatchGetCustomers(&ctx, req, &resp);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s);
    for (const customer_store::v1::BatchGetCustomersResponse::Entry& e : resp.customers()) {
      const customer_store::v1::Customer& c = e.customer();
      app::Contact& contact = out[c.id()];
      contact.emails.assign(c.emails().begin(), c.emails().end());
      contact.phones.assign(c.phones().begin(), c.phones().end());
      contact.locale = c.locale();
      contact.time_zone = c.time_zone();
      contact.display_name = c.display_name();
      if (contact.display_name.empty()) {
        contact.display_name = c.given_name();
        if (!c.family_name().empty()) {
          if (!contact.display_name.empty()) contact.display_name += " ";
          contact.display_name += c.family_name();
        }
      }
      // Current consents, newest first: the first per channel and purpose.
      for (const customer_store::v1::Consent& consent : e.consents()) {
        const std::string channel = LowerSuffix(
            customer_store::v1::ConsentChannel_Name(consent.channel()), "CONSENT_CHANNEL_");
        const std::string purpose = LowerSuffix(
            customer_store::v1::ConsentPurpose_Name(consent.purpose()), "CONSENT_PURPOSE_");
        contact.consents[channel].emplace(purpose, StatusOf(consent.status()));
      }
    }
  }
  return out;
}

absl::Status GrpcCustomerDirectory::RecordOptOut(const std::string& tenant,
                                                 const std::string& customer_id, const OptOut& o) {
  customer_store::v1::ConsentChannel channel = customer_store::v1::CONSENT_CHANNEL_UNSPECIFIED;
  customer_store::v1::ConsentPurpose purpose = customer_store::v1::CONSENT_PURPOSE_UNSPECIFIED;
  if (!customer_store::v1::ConsentChannel_Parse(
          absl::StrCat("CONSENT_CHANNEL_", absl::AsciiStrToUpper(o.channel)), &channel) ||
      !customer_store::v1::ConsentPurpose_Parse(
          absl::StrCat("CONSENT_PURPOSE_", absl::AsciiStrToUpper(o.purpose)), &purpose)) {
    return absl::InternalError(absl::StrCat("no consent of ", o.channel, "/", o.purpose));
  }
  grpc::ClientContext ctx;
  grpcutil::PreparePeerCall(kPrincipal, tenant, timeout_, &ctx);
  customer_store::v1::RecordConsentRequest req;
  req.set_customer_id(customer_id);
  // The unsubscribe link's request id is the one it always had.
  req.set_request_id(o.source == "unsubscribe-link"
                         ? absl::StrCat("delivery-unsubscribe:", o.message_id)
                         : absl::StrCat("delivery-", o.source, ":", o.purpose, ":", o.message_id));
  customer_store::v1::Consent* c = req.mutable_consent();
  c->set_channel(channel);
  c->set_purpose(purpose);
  c->set_status(customer_store::v1::CONSENT_STATUS_OPTED_OUT);
  c->set_source(o.source);
  customer_store::v1::Consent answer;
  return grpcutil::FromGrpcStatus(stub_->RecordConsent(&ctx, req, &answer));
}

absl::Status GrpcCustomerDirectory::SetAttribute(const std::string& tenant,
                                                 const std::string& customer_id,
                                                 const std::string& name,
                                                 const domain::AttributeValue& value,
                                                 const std::string& request_id) {
  grpc::ClientContext ctx;
  grpcutil::PreparePeerCall(kPrincipal, tenant, timeout_, &ctx);
  customer_store::v1::UpdateCustomerRequest req;
  req.set_customer_id(customer_id);
  req.set_request_id(request_id);
  req.mutable_update_mask()->add_paths(absl::StrCat("attributes.", name));
  customer_store::v1::AttributeValue& v = (*req.mutable_customer()->mutable_attributes())[name];
  switch (value.type) {
    case domain::AttributeValue::Type::kString:
      v.set_string_value(value.string_value);
      break;
    case domain::AttributeValue::Type::kInt:
      v.set_int_value(value.int_value);
      break;
    case domain::AttributeValue::Type::kDouble:
      v.set_double_value(value.double_value);
      break;
    case domain::AttributeValue::Type::kBool:
      v.set_bool_value(value.bool_value);
      break;
  }
  customer_store::v1::Customer answer;
  return grpcutil::FromGrpcStatus(stub_->UpdateCustomer(&ctx, req, &answer));
}

absl::StatusOr<std::string> GrpcRenderer::TemplateChannel(const std::string& tenant,
                                                          const std::string& template_id) {
  grpc::ClientContext ctx;
  grpcutil::PreparePeerCall(kPrincipal, tenant, timeout_, &ctx);
  personalization::v1::GetTemplateRequest req;
  req.set_template_id(template_id);
  personalization::v1::MessageTemplate t;
  grpc::Status s = stub_->GetTemplate(&ctx, req, &t);
  if (!s.ok()) return grpcutil::FromGrpcStatus(s);
  return LowerSuffix(personalization::v1::TemplateChannel_Name(t.channel()), "TEMPLATE_CHANNEL_");
}

absl::StatusOr<std::vector<absl::StatusOr<app::Rendered>>> GrpcRenderer::RenderBatch(
    const std::string& tenant, const std::vector<Request>& requests) {
  std::vector<absl::StatusOr<app::Rendered>> out;
  out.reserve(requests.size());
  for (size_t from = 0; from < requests.size(); from += kRenderBatch) {
    grpc::ClientContext ctx;
    grpcutil::PreparePeerCall(kPrincipal, tenant, timeout_, &ctx);
    personalization::v1::BatchRenderTemplateRequest req;
    const size_t to = std::min(requests.size(), from + kRenderBatch);
    for (size_t i = from; i < to; ++i) {
      const Request& r = requests[i];
      personalization::v1::RenderTemplateRequest* one = req.add_requests();
      one->set_template_id(r.template_id);
      one->set_customer_id(r.customer_id);
      one->set_locale(r.locale);
      one->set_offer_count(r.offer_count);
      one->set_request_id(r.request_id);
      one->set_unsubscribe_url(r.unsubscribe_url);
    }
    personalization::v1::BatchRenderTemplateResponse resp;
    grpc::Status s = stub_->BatchRenderTemplate(&ctx, req, &resp);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s);
    if (resp.results_size() != static_cast<int>(to - from)) {
      return absl::InternalError("personalization answered another number of renders");
    }
    for (const auto& result : resp.results()) {
      if (result.code() != 0) {
        absl::Status refused(static_cast<absl::StatusCode>(result.code()), result.error_message());
        out.push_back(result.reason().empty() ? refused
                                              : common::WithReason(refused, result.reason()));
        continue;
      }
      const personalization::v1::RenderedMessage& m = result.message();
      app::Rendered r;
      r.parts.insert(m.parts().begin(), m.parts().end());
      r.decision_ids.assign(m.decision_ids().begin(), m.decision_ids().end());
      r.offer_ids.assign(m.offer_ids().begin(), m.offer_ids().end());
      out.push_back(std::move(r));
    }
  }
  return out;
}

absl::Status GrpcSegmentDirectory::CheckSegment(const std::string& tenant,
                                                const std::string& segment_id) {
  grpc::ClientContext ctx;
  grpcutil::PreparePeerCall(kPrincipal, tenant, timeout_, &ctx);
  segmentation::v1::GetSegmentRequest req;
  req.set_segment_id(segment_id);
  segmentation::v1::Segment segment;
  return grpcutil::FromGrpcStatus(stub_->GetSegment(&ctx, req, &segment));
}

absl::StatusOr<app::MemberPage> GrpcSegmentDirectory::Members(const std::string& tenant,
                                                              const std::string& segment_id,
                                                              const std::string& cursor,
                                                              int page_size) {
  grpc::ClientContext ctx;
  grpcutil::PreparePeerCall(kPrincipal, tenant, timeout_, &ctx);
  segmentation::v1::ListSegmentMembersRequest req;
  req.set_segment_id(segment_id);
  req.set_page_size(page_size);
  req.set_page_token(cursor);
  segmentation::v1::ListSegmentMembersResponse resp;
  grpc::Status s = stub_->ListSegmentMembers(&ctx, req, &resp);
  if (!s.ok()) return grpcutil::FromGrpcStatus(s);
  app::MemberPage page;
  for (const segmentation::v1::SegmentMember& m : resp.members()) {
    page.customer_ids.push_back(m.customer_id());
  }
  page.next_cursor = resp.next_page_token();
  return page;
}

absl::StatusOr<bool> GrpcSegmentDirectory::Matches(const std::string& tenant,
                                                   const std::string& customer_id,
                                                   const std::string& expression) {
  grpc::ClientContext ctx;
  grpcutil::PreparePeerCall(kPrincipal, tenant, timeout_, &ctx);
  segmentation::v1::MatchCustomerRequest req;
  req.set_customer_id(customer_id);
  req.add_expressions(expression);
  segmentation::v1::MatchCustomerResponse resp;
  grpc::Status s = stub_->MatchCustomer(&ctx, req, &resp);
  // A customer segmentation has not seen matches nothing.
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return false;
  if (!s.ok()) return grpcutil::FromGrpcStatus(s);
  if (resp.matches_size() != 1) {
    return absl::InternalError("segmentation answered another number of matches");
  }
  return resp.matches(0);
}

absl::StatusOr<app::TicketMail> GrpcTicketMailSource::GetTicketMail(const std::string& tenant,
                                                                    const std::string& ticket_id,
                                                                    const std::string& mail_id) {
  grpc::ClientContext ctx;
  grpcutil::PreparePeerCall(kPrincipal, tenant, timeout_, &ctx);
  service_desk::v1::GetOutboundMailRequest req;
  req.set_ticket_id(ticket_id);
  req.set_mail_id(mail_id);
  service_desk::v1::OutboundMail resp;
  grpc::Status s = stub_->GetOutboundMail(&ctx, req, &resp);
  if (!s.ok()) return grpcutil::FromGrpcStatus(s);
  app::TicketMail m;
  m.from_address = resp.from_address();
  m.from_name = resp.from_name();
  m.to_address = resp.to_address();
  m.to_name = resp.to_name();
  m.subject = resp.subject();
  m.text = resp.text();
  m.message_id = resp.message_id();
  m.in_reply_to = resp.in_reply_to();
  m.references.assign(resp.references().begin(), resp.references().end());
  m.auto_submitted = resp.auto_submitted();
  for (service_desk::v1::AttachmentContent& a : *resp.mutable_attachments()) {
    m.attachments.push_back(
        domain::EmailAttachment{a.filename(), a.content_type(), std::move(*a.mutable_content())});
  }
  return m;
}

}  // namespace crm::delivery::clients

// The mailbox and inbound mail RPCs of ServiceDeskGrpcService and the
// mailbox's proto mapping.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/service_desk/api/grpc_service.h"
#include "services/service_desk/mail/mime.h"

namespace crm::service_desk::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

// The fields set in a mailbox of an update without a mask.
std::vector<std::string> PresentMailboxPaths(const v1::Mailbox& m) {
  std::vector<std::string> paths;
  if (m.own_domains_size() > 0) paths.emplace_back("own_domains");
  if (m.reopen_window_seconds() != 0) paths.emplace_back("reopen_window_seconds");
  if (m.same_subject_window_seconds() != 0) paths.emplace_back("same_subject_window_seconds");
  if (!m.name().empty()) paths.emplace_back("name");
  if (m.has_auto_reply()) paths.emplace_back("auto_reply");
  if (!m.address().empty()) paths.emplace_back("address");  // refused: fixed
  return paths;
}

}  // namespace

domain::Mailbox FromProto(const v1::Mailbox& in) {
  domain::Mailbox m;
  m.address = in.address();
  m.own.domains.assign(in.own_domains().begin(), in.own_domains().end());
  m.reopen_window = absl::Seconds(in.reopen_window_seconds());
  m.same_subject_window = absl::Seconds(in.same_subject_window_seconds());
  m.name = in.name();
  m.auto_reply = in.auto_reply().enabled();
  m.auto_reply_subject = in.auto_reply().subject();
  m.auto_reply_body = in.auto_reply().body();
  return m;
}

void ToProto(const domain::Mailbox& m, v1::Mailbox* out) {
  out->set_id(m.id);
  out->set_address(m.address);
  for (const std::string& d : m.own.domains) out->add_own_domains(d);
  out->set_reopen_window_seconds(absl::ToInt64Seconds(m.reopen_window));
  out->set_same_subject_window_seconds(absl::ToInt64Seconds(m.same_subject_window));
  out->set_etag(absl::StrCat(m.version));
  grpcutil::ToTimestamp(m.create_time, out->mutable_create_time());
  grpcutil::ToTimestamp(m.update_time, out->mutable_update_time());
  out->set_name(m.name);
  out->mutable_auto_reply()->set_enabled(m.auto_reply);
  out->mutable_auto_reply()->set_subject(m.auto_reply_subject);
  out->mutable_auto_reply()->set_body(m.auto_reply_body);
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::CreateMailbox(grpc::CallbackServerContext* ctx,
                                                                const v1::CreateMailboxRequest* req,
                                                                v1::Mailbox* resp) {
  return Offload(ctx, executor_, metrics_, "CreateMailbox", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::Mailbox out, mailboxes_.Create(grpcutil::IdempotentWriteMetaOf(
                                                                    rc, "CreateMailbox", *req),
                                                                FromProto(req->mailbox())));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetMailbox(grpc::CallbackServerContext* ctx,
                                                             const v1::GetMailboxRequest* req,
                                                             v1::Mailbox* resp) {
  return Offload(ctx, executor_, metrics_, "GetMailbox", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::Mailbox m, mailboxes_.Get(rc.tenant_id, req->mailbox_id()));
    ToProto(m, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::ListMailboxes(grpc::CallbackServerContext* ctx,
                                                                const v1::ListMailboxesRequest*,
                                                                v1::ListMailboxesResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListMailboxes", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(std::vector<domain::Mailbox> all, mailboxes_.List(rc.tenant_id));
    for (const domain::Mailbox& m : all) ToProto(m, resp->add_mailboxes());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UpdateMailbox(grpc::CallbackServerContext* ctx,
                                                                const v1::UpdateMailboxRequest* req,
                                                                v1::Mailbox* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateMailbox", [=](const RequestContext& rc) {
    std::vector<std::string> paths =
        req->has_update_mask() ? std::vector<std::string>(req->update_mask().paths().begin(),
                                                          req->update_mask().paths().end())
                               : PresentMailboxPaths(req->mailbox());
    const std::string if_match = req->etag().empty() ? req->mailbox().etag() : req->etag();
    CRM_ASSIGN_OR_RETURN(
        domain::Mailbox out,
        mailboxes_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateMailbox", *req),
                          req->mailbox_id(), FromProto(req->mailbox()), paths, if_match));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::ReceiveMail(grpc::CallbackServerContext* ctx,
                                                              const v1::ReceiveMailRequest* req,
                                                              v1::ReceiveMailResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ReceiveMail", [=](const RequestContext& rc) {
    // The mailbox first: another tenant's is NOT_FOUND before the mail is read.
    CRM_ASSIGN_OR_RETURN(domain::Mailbox mailbox, mailboxes_.Get(rc.tenant_id, req->mailbox_id()));
    CRM_ASSIGN_OR_RETURN(domain::InboundMail mail, mail::ParseMail(req->raw_mime()));
    CRM_ASSIGN_OR_RETURN(app::MailReceived out,
                         inbound_.Receive(rc.tenant_id, rc.principal, mailbox, mail));
    ToProto(out.ticket, resp->mutable_ticket());
    ToProto(out.message, resp->mutable_message());
    resp->set_created(out.created);
    resp->set_duplicate(out.duplicate);
    resp->set_thread_rule(out.rule);
    resp->set_machine_reason(out.machine);
    resp->set_auto_reply(out.auto_reply);
    resp->set_auto_response(out.auto_response);
    resp->set_quarantined(out.quarantined);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetOutboundMail(
    grpc::CallbackServerContext* ctx, const v1::GetOutboundMailRequest* req,
    v1::OutboundMail* resp) {
  return Offload(ctx, executor_, metrics_, "GetOutboundMail", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::OutboundMail m,
                         mailboxes_.Outbound(rc.tenant_id, req->ticket_id(), req->mail_id()));
    resp->set_mail_id(m.id);
    resp->set_ticket_id(m.ticket_id);
    resp->set_kind(domain::OutboundKindName(m.kind));
    resp->set_from_address(m.from_addr);
    resp->set_from_name(m.from_name);
    resp->set_to_address(m.to_addr);
    resp->set_to_name(m.to_name);
    resp->set_subject(m.subject);
    resp->set_text(m.body);
    resp->set_message_id(m.message_id);
    resp->set_in_reply_to(m.in_reply_to);
    for (const std::string& r : m.references) resp->add_references(r);
    resp->set_auto_submitted(domain::AutoSubmitted(m.kind));
    for (domain::OutboundMail::File& f : m.files) {
      v1::AttachmentContent* a = resp->add_attachments();
      a->set_filename(f.attachment.filename);
      a->set_content_type(f.attachment.content_type);
      a->set_sha256(f.attachment.sha256_hex);
      a->set_content(std::move(f.content));
    }
    grpcutil::ToTimestamp(m.create_time, resp->mutable_create_time());
    return absl::OkStatus();
  });
}

}  // namespace crm::service_desk::api

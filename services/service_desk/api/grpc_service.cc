#include "services/service_desk/api/grpc_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"

namespace crm::service_desk::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

// The proto enums number their values as the domain's (1, 2, ...; 0 unset).
template <typename E>
absl::StatusOr<std::optional<E>> EnumOf(int value, bool (*valid)(int), const char* field) {
  if (!valid(value)) return common::InvalidField(field, absl::StrCat("unknown ", field));
  if (value == 0) return std::optional<E>();
  return std::optional<E>(static_cast<E>(value));
}

// The request's ticket, its errors named under "ticket." (ticket.status).
absl::StatusOr<domain::Ticket> TicketOfRequest(const v1::Ticket& in) {
  absl::StatusOr<domain::Ticket> t = FromProto(in);
  if (t.ok() || common::FieldOf(t.status()).empty()) return t;
  return common::WithField(t.status(), absl::StrCat("ticket.", common::FieldOf(t.status())));
}

}  // namespace

void ToProto(const domain::TicketChange& c, v1::TicketChange* out) {
  out->set_seq(c.seq);
  out->set_field(c.field);
  out->set_old_value(c.old_value);
  out->set_new_value(c.new_value);
  out->set_actor(c.actor);
  grpcutil::ToTimestamp(c.time, out->mutable_time());
}

absl::StatusOr<domain::Ticket> FromProto(const v1::Ticket& in) {
  domain::Ticket t;
  CRM_ASSIGN_OR_RETURN(
      auto status, EnumOf<domain::TicketStatus>(in.status(), v1::TicketStatus_IsValid, "status"));
  CRM_ASSIGN_OR_RETURN(auto priority, EnumOf<domain::Priority>(
                                          in.priority(), v1::TicketPriority_IsValid, "priority"));
  CRM_ASSIGN_OR_RETURN(auto channel,
                       EnumOf<domain::Channel>(in.channel(), v1::TicketChannel_IsValid, "channel"));
  t.status = status.value_or(domain::TicketStatus::kNew);
  t.priority = priority.value_or(domain::Priority::kNormal);
  t.channel = channel.value_or(domain::Channel::kApi);
  t.subject = in.subject();
  t.type = in.type();
  t.tags.assign(in.tags().begin(), in.tags().end());
  t.queue = in.queue();
  t.assignee = in.assignee();
  t.custom_fields.insert(in.custom_fields().begin(), in.custom_fields().end());
  t.visitor_id = in.visitor_id();
  return t;
}

void ToProto(const domain::Ticket& t, v1::Ticket* out) {
  out->set_id(t.id);
  out->set_number(t.number);
  out->set_customer_id(t.customer_id);
  out->set_requester_email(t.requester_email);
  out->set_subject(t.subject);
  out->set_channel(static_cast<v1::TicketChannel>(t.channel));
  out->set_status(static_cast<v1::TicketStatus>(t.status));
  out->set_priority(static_cast<v1::TicketPriority>(t.priority));
  out->set_type(t.type);
  for (const std::string& tag : t.tags) out->add_tags(tag);
  out->set_queue(t.queue);
  out->set_assignee(t.assignee);
  out->mutable_custom_fields()->insert(t.custom_fields.begin(), t.custom_fields.end());
  out->set_etag(domain::EtagOf(t));
  grpcutil::ToTimestamp(t.create_time, out->mutable_create_time());
  grpcutil::ToTimestamp(t.update_time, out->mutable_update_time());
  if (t.solve_time != absl::InfinitePast()) {
    grpcutil::ToTimestamp(t.solve_time, out->mutable_solve_time());
  }
  out->set_message_count(t.message_count);
  if (t.sla_due) grpcutil::ToTimestamp(*t.sla_due, out->mutable_sla_due_time());
  out->set_follow_up_of_ticket_id(t.follow_up_of);
  out->set_visitor_id(t.visitor_id);
  out->set_merged_into_ticket_id(t.merged_into);
  grpcutil::ToTimestamp(t.status_time, out->mutable_status_change_time());
  for (const domain::TicketPrediction& p : t.predictions) {
    v1::TicketPrediction* o = out->add_predictions();
    o->set_target(domain::TargetName(p.target));
    o->set_label(p.label);
    o->set_confidence(p.confidence);
    o->set_answered(p.answered);
    o->set_applied(p.applied);
    o->set_classifier_version(p.version);
  }
}

void ToProto(const domain::Attachment& a, v1::Attachment* out) {
  out->set_id(a.id);
  out->set_ticket_id(a.ticket_id);
  out->set_message_id(a.message_id);
  out->set_filename(a.filename);
  out->set_content_type(a.content_type);
  out->set_size(a.size);
  out->set_sha256(a.sha256_hex);
  out->set_uploaded_by(a.uploaded_by);
  grpcutil::ToTimestamp(a.create_time, out->mutable_create_time());
}

void ToProto(const domain::TicketMessage& m, v1::TicketMessage* out) {
  out->set_id(m.id);
  out->set_ticket_id(m.ticket_id);
  out->set_kind(static_cast<v1::MessageKind>(m.kind));
  out->set_author(m.author);
  out->set_body(m.body);
  grpcutil::ToTimestamp(m.create_time, out->mutable_create_time());
  out->set_mail_message_id(m.mail_id);
  for (const domain::Attachment& a : m.attachments) ToProto(a, out->add_attachments());
}

std::vector<std::string> PresentPaths(const v1::Ticket& t) {
  std::vector<std::string> paths;
  if (t.status() != v1::TICKET_STATUS_UNSPECIFIED) paths.emplace_back("status");
  if (t.priority() != v1::TICKET_PRIORITY_UNSPECIFIED) paths.emplace_back("priority");
  if (!t.type().empty()) paths.emplace_back("type");
  if (t.tags_size() > 0) paths.emplace_back("tags");
  if (!t.queue().empty()) paths.emplace_back("queue");
  if (!t.assignee().empty()) paths.emplace_back("assignee");
  if (!t.subject().empty()) paths.emplace_back("subject");
  for (const auto& [key, value] : t.custom_fields()) {
    paths.push_back(absl::StrCat("custom_fields.", key));
  }
  return paths;
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::CreateTicket(grpc::CallbackServerContext* ctx,
                                                               const v1::CreateTicketRequest* req,
                                                               v1::Ticket* resp) {
  return Offload(ctx, executor_, metrics_, "CreateTicket", [=](const RequestContext& rc) {
    app::NewTicket n;
    CRM_ASSIGN_OR_RETURN(n.ticket, TicketOfRequest(req->ticket()));
    n.requester = {req->customer_id(), req->requester_email(), req->requester_name()};
    n.description = req->description();
    n.priority_given = req->ticket().priority() != v1::TICKET_PRIORITY_UNSPECIFIED;
    CRM_ASSIGN_OR_RETURN(
        domain::Ticket out,
        tickets_.Create(grpcutil::IdempotentWriteMetaOf(rc, "CreateTicket", *req), std::move(n)));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetTicket(grpc::CallbackServerContext* ctx,
                                                            const v1::GetTicketRequest* req,
                                                            v1::Ticket* resp) {
  return Offload(ctx, executor_, metrics_, "GetTicket", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::Ticket t, tickets_.Get(rc.tenant_id, req->ticket_id()));
    ToProto(t, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetTicketContext(
    grpc::CallbackServerContext* ctx, const v1::GetTicketContextRequest* req,
    v1::TicketContext* resp) {
  return Offload(ctx, executor_, metrics_, "GetTicketContext", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(app::TicketContext c, contexts_.Read(rc.tenant_id, req->ticket_id()));
    ToProto(c.ticket, resp->mutable_ticket());
    // Each part in, or its section saying why not.
    const auto part = [&](const char* name, const absl::StatusOr<std::string>& bytes,
                          google::protobuf::Message* into) {
      customer_store::v1::ViewSection* s = resp->add_sections();
      s->set_name(name);
      s->set_owner("customer-store");
      absl::Status st = bytes.status();
      if (st.ok() && !into->ParseFromString(*bytes)) {
        st = absl::InternalError("customer-store's answer does not parse");
      }
      s->set_available(st.ok());
      if (st.ok()) return true;
      const common::SectionStatus why = app::ContextPartStatus(st);
      customer_store::v1::SectionStatus* x = s->mutable_status();
      x->set_code(grpcutil::CodeName(static_cast<grpc::StatusCode>(why.code)));
      x->set_reason(why.reason);
      x->set_message(why.message);
      x->set_retryable(why.retryable);
      return false;
    };
    if (!part("visit", c.parts.visit, resp->mutable_visit())) resp->clear_visit();
    if (!part("customer", c.parts.view, resp->mutable_customer())) resp->clear_customer();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::ListTickets(grpc::CallbackServerContext* ctx,
                                                              const v1::ListTicketsRequest* req,
                                                              v1::ListTicketsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListTickets", [=](const RequestContext& rc) {
    app::TicketQuery q;
    CRM_ASSIGN_OR_RETURN(q.limit, common::ClampPageSize(req->page_size(), 50, 500));
    CRM_ASSIGN_OR_RETURN(
        q.status, EnumOf<domain::TicketStatus>(req->status(), v1::TicketStatus_IsValid, "status"));
    q.queue = req->queue();
    q.assignee = req->assignee();
    q.customer_id = req->customer_id();
    if (req->order_by() == "sla_due_time") {
      q.by_sla_due = true;
    } else if (!req->order_by().empty()) {
      return common::InvalidField(
          "order_by", "order_by is \"\" (newest first) or \"sla_due_time\" (earliest SLA first)");
    }
    const std::string scope = absl::StrCat("ListTickets|", req->status(), "|", q.queue, "|",
                                           q.assignee, "|", q.customer_id, "|", req->order_by());
    if (!req->page_token().empty()) {
      CRM_ASSIGN_OR_RETURN(q.before_cursor, tokens_.Decode(rc.tenant_id, scope, req->page_token()));
    }
    CRM_ASSIGN_OR_RETURN(app::TicketPage page, tickets_.List(rc.tenant_id, q));
    for (const domain::Ticket& t : page.items) ToProto(t, resp->add_tickets());
    if (!page.next_cursor.empty()) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, scope, page.next_cursor));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UpdateTicket(grpc::CallbackServerContext* ctx,
                                                               const v1::UpdateTicketRequest* req,
                                                               v1::Ticket* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateTicket", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::Ticket patch, TicketOfRequest(req->ticket()));
    std::vector<std::string> paths =
        req->has_update_mask() ? std::vector<std::string>(req->update_mask().paths().begin(),
                                                          req->update_mask().paths().end())
                               : PresentPaths(req->ticket());
    const std::string if_match = req->etag().empty() ? req->ticket().etag() : req->etag();
    CRM_ASSIGN_OR_RETURN(domain::Ticket out,
                         tickets_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateTicket", *req),
                                         req->ticket_id(), patch, paths, if_match));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::AddTicketMessage(
    grpc::CallbackServerContext* ctx, const v1::AddTicketMessageRequest* req,
    v1::AddTicketMessageResponse* resp) {
  return Offload(ctx, executor_, metrics_, "AddTicketMessage", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(std::optional<domain::MessageKind> kind,
                         EnumOf<domain::MessageKind>(req->kind(), v1::MessageKind_IsValid, "kind"));
    if (!kind) {
      return common::InvalidField(
          "kind",
          "kind is required: MESSAGE_KIND_PUBLIC_REPLY, MESSAGE_KIND_INTERNAL_NOTE or "
          "MESSAGE_KIND_CUSTOMER (the requester's own message)");
    }
    CRM_ASSIGN_OR_RETURN(
        app::MessageAdded out,
        tickets_.AddMessage(grpcutil::IdempotentWriteMetaOf(rc, "AddTicketMessage", *req),
                            req->ticket_id(), *kind, req->body(),
                            {req->attachment_ids().begin(), req->attachment_ids().end()}));
    ToProto(out.message, resp->mutable_message());
    ToProto(out.ticket, resp->mutable_ticket());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::MergeTicket(grpc::CallbackServerContext* ctx,
                                                              const v1::MergeTicketRequest* req,
                                                              v1::Ticket* resp) {
  return Offload(ctx, executor_, metrics_, "MergeTicket", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::Ticket out,
                         tickets_.Merge(grpcutil::IdempotentWriteMetaOf(rc, "MergeTicket", *req),
                                        req->ticket_id(), req->target_ticket_id()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::SplitTicket(grpc::CallbackServerContext* ctx,
                                                              const v1::SplitTicketRequest* req,
                                                              v1::Ticket* resp) {
  return Offload(ctx, executor_, metrics_, "SplitTicket", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(
        domain::Ticket out,
        tickets_.Split(grpcutil::IdempotentWriteMetaOf(rc, "SplitTicket", *req), req->ticket_id(),
                       {req->message_ids().begin(), req->message_ids().end()}, req->subject()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UploadAttachment(
    grpc::CallbackServerContext* ctx, const v1::UploadAttachmentRequest* req,
    v1::Attachment* resp) {
  return Offload(ctx, executor_, metrics_, "UploadAttachment", [=](const RequestContext& rc) {
    domain::Attachment a;
    a.filename = req->filename();
    a.content_type = req->content_type();
    CRM_ASSIGN_OR_RETURN(
        domain::Attachment out,
        tickets_.Upload(grpcutil::IdempotentWriteMetaOf(rc, "UploadAttachment", *req),
                        req->ticket_id(), std::move(a), req->content()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetAttachmentContent(
    grpc::CallbackServerContext* ctx, const v1::GetAttachmentContentRequest* req,
    v1::AttachmentContent* resp) {
  return Offload(ctx, executor_, metrics_, "GetAttachmentContent", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(auto file, tickets_.AttachmentContent(rc.tenant_id, req->ticket_id(),
                                                               req->attachment_id()));
    resp->set_filename(file.first.filename);
    resp->set_content_type(file.first.content_type);
    resp->set_sha256(file.first.sha256_hex);
    resp->set_content(std::move(file.second));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::ListTicketMessages(
    grpc::CallbackServerContext* ctx, const v1::ListTicketMessagesRequest* req,
    v1::ListTicketMessagesResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListTicketMessages", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(int limit, common::ClampPageSize(req->page_size(), 100, 500));
    const std::string scope = absl::StrCat("ListTicketMessages|", req->ticket_id());
    std::string cursor;
    if (!req->page_token().empty()) {
      CRM_ASSIGN_OR_RETURN(cursor, tokens_.Decode(rc.tenant_id, scope, req->page_token()));
    }
    CRM_ASSIGN_OR_RETURN(app::MessagePage page,
                         tickets_.Messages(rc.tenant_id, req->ticket_id(), cursor, limit));
    for (const domain::TicketMessage& m : page.items) ToProto(m, resp->add_messages());
    if (!page.next_cursor.empty()) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, scope, page.next_cursor));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::ListTicketChanges(
    grpc::CallbackServerContext* ctx, const v1::ListTicketChangesRequest* req,
    v1::ListTicketChangesResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListTicketChanges", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(std::vector<domain::TicketChange> all,
                         tickets_.Changes(rc.tenant_id, req->ticket_id()));
    for (const domain::TicketChange& c : all) ToProto(c, resp->add_changes());
    return absl::OkStatus();
  });
}

}  // namespace crm::service_desk::api

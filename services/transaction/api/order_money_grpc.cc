// Payments, returns, refunds and order settings on TransactionGrpcService.
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "services/transaction/api/grpc_service.h"

namespace crm::transaction::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;
using grpcutil::ToTimestamp;

app::Actor StrictActor(const RequestContext& rc, const char* method,
                       const google::protobuf::Message& req, const std::string& key) {
  app::Actor a = ActorOf(rc, method, key);
  a.fingerprint = Fingerprint(req);
  return a;
}

void ToProto(const domain::Payment& p, v1::Payment* out) {
  out->set_id(p.id);
  out->set_order_id(p.order_id);
  out->set_amount_minor(p.amount_minor);
  out->set_method(static_cast<v1::PaymentMethod>(p.method));
  out->set_status(static_cast<v1::PaymentStatus>(p.status));
  out->set_provider_ref(p.provider_ref);
  out->set_etag(absl::StrCat(p.version));
  ToTimestamp(p.create_time, out->mutable_create_time());
  ToTimestamp(p.update_time, out->mutable_update_time());
}

void ToProto(const domain::Return& r, v1::Return* out) {
  out->set_id(r.id);
  out->set_order_id(r.order_id);
  for (const auto& l : r.lines) {
    auto* x = out->add_lines();
    x->set_line_no(l.line_no);
    x->set_quantity(l.quantity);
    x->set_sku(l.sku);
    x->set_amount_minor(l.amount_minor);
  }
  out->set_amount_minor(r.amount_minor);
  out->set_reason(r.reason);
  ToTimestamp(r.create_time, out->mutable_create_time());
}

void ToProto(const domain::Refund& r, v1::Refund* out) {
  out->set_id(r.id);
  out->set_order_id(r.order_id);
  out->set_return_id(r.return_id);
  out->set_amount_minor(r.amount_minor);
  out->set_status(static_cast<v1::RefundStatus>(r.status));
  out->set_reason(r.reason);
  out->set_etag(absl::StrCat(r.version));
  ToTimestamp(r.create_time, out->mutable_create_time());
  ToTimestamp(r.update_time, out->mutable_update_time());
}

void ToProto(const app::OrderSettings& s, v1::OrderSettings* out) {
  out->set_create_unknown_customers(s.create_unknown_customers);
  out->set_etag(absl::StrCat(s.version));
  if (s.version > 0) ToTimestamp(s.update_time, out->mutable_update_time());
}

}  // namespace

grpc::ServerUnaryReactor* TransactionGrpcService::RecordPayment(
    grpc::CallbackServerContext* ctx, const v1::RecordPaymentRequest* req, v1::Payment* resp) {
  return Offload(ctx, executor_, metrics_, "RecordPayment",
                 [=](const RequestContext& rc) -> absl::Status {
                   const v1::Payment& in = req->payment();
                   if (!v1::PaymentMethod_IsValid(in.method())) {
                     return common::InvalidField("payment.method", "unknown payment method");
                   }
                   if (!v1::PaymentStatus_IsValid(in.status())) {
                     return common::InvalidField("payment.status", "unknown payment status");
                   }
                   domain::Payment p;
                   p.amount_minor = in.amount_minor();
                   p.method = static_cast<domain::PaymentMethod>(in.method());
                   p.status = static_cast<domain::PaymentStatus>(in.status());
                   p.provider_ref = in.provider_ref();
                   CRM_ASSIGN_OR_RETURN(
                       domain::Payment out,
                       money_.RecordPayment(
                           StrictActor(rc, "RecordPayment", *req, req->request_id()),
                           req->order_id(), std::move(p)));
                   ToProto(out, resp);
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* TransactionGrpcService::UpdatePaymentStatus(
    grpc::CallbackServerContext* ctx, const v1::UpdatePaymentStatusRequest* req,
    v1::Payment* resp) {
  return Offload(ctx, executor_, metrics_, "UpdatePaymentStatus",
                 [=](const RequestContext& rc) -> absl::Status {
                   if (!v1::PaymentStatus_IsValid(req->status())) {
                     return common::InvalidField("status", "unknown payment status");
                   }
                   CRM_ASSIGN_OR_RETURN(
                       domain::Payment out,
                       money_.UpdatePaymentStatus(
                           StrictActor(rc, "UpdatePaymentStatus", *req, req->request_id()),
                           req->order_id(), req->payment_id(),
                           static_cast<domain::PaymentStatus>(req->status())));
                   ToProto(out, resp);
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* TransactionGrpcService::ListPayments(
    grpc::CallbackServerContext* ctx, const v1::ListOrderRecordsRequest* req,
    v1::ListPaymentsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListPayments",
                 [=](const RequestContext& rc) -> absl::Status {
                   CRM_ASSIGN_OR_RETURN(std::vector<domain::Payment> out,
                                        money_.ListPayments(rc.tenant_id, req->order_id()));
                   for (const auto& p : out) ToProto(p, resp->add_payments());
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* TransactionGrpcService::CreateReturn(
    grpc::CallbackServerContext* ctx, const v1::CreateReturnRequest* req, v1::Return* resp) {
  return Offload(ctx, executor_, metrics_, "CreateReturn",
                 [=](const RequestContext& rc) -> absl::Status {
                   std::vector<domain::ReturnLineRequest> lines;
                   for (const auto& l : req->order_return().lines()) {
                     domain::ReturnLineRequest r;
                     r.line_no = l.line_no();
                     r.quantity = l.quantity();
                     lines.push_back(r);
                   }
                   CRM_ASSIGN_OR_RETURN(
                       domain::Return out,
                       money_.CreateReturn(StrictActor(rc, "CreateReturn", *req, req->request_id()),
                                           req->order_id(), lines, req->order_return().reason()));
                   ToProto(out, resp);
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* TransactionGrpcService::ListReturns(
    grpc::CallbackServerContext* ctx, const v1::ListOrderRecordsRequest* req,
    v1::ListReturnsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListReturns",
                 [=](const RequestContext& rc) -> absl::Status {
                   CRM_ASSIGN_OR_RETURN(std::vector<domain::Return> out,
                                        money_.ListReturns(rc.tenant_id, req->order_id()));
                   for (const auto& r : out) ToProto(r, resp->add_returns());
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* TransactionGrpcService::CreateRefund(
    grpc::CallbackServerContext* ctx, const v1::CreateRefundRequest* req, v1::Refund* resp) {
  return Offload(ctx, executor_, metrics_, "CreateRefund",
                 [=](const RequestContext& rc) -> absl::Status {
                   const v1::Refund& in = req->refund();
                   if (!v1::RefundStatus_IsValid(in.status())) {
                     return common::InvalidField("refund.status", "unknown refund status");
                   }
                   domain::Refund r;
                   r.return_id = in.return_id();
                   r.amount_minor = in.amount_minor();
                   r.status = static_cast<domain::RefundStatus>(in.status());
                   r.reason = in.reason();
                   CRM_ASSIGN_OR_RETURN(
                       domain::Refund out,
                       money_.CreateRefund(StrictActor(rc, "CreateRefund", *req, req->request_id()),
                                           req->order_id(), std::move(r)));
                   ToProto(out, resp);
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* TransactionGrpcService::UpdateRefundStatus(
    grpc::CallbackServerContext* ctx, const v1::UpdateRefundStatusRequest* req,
    v1::Refund* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateRefundStatus",
                 [=](const RequestContext& rc) -> absl::Status {
                   if (!v1::RefundStatus_IsValid(req->status())) {
                     return common::InvalidField("status", "unknown refund status");
                   }
                   CRM_ASSIGN_OR_RETURN(
                       domain::Refund out,
                       money_.UpdateRefundStatus(
                           StrictActor(rc, "UpdateRefundStatus", *req, req->request_id()),
                           req->order_id(), req->refund_id(),
                           static_cast<domain::RefundStatus>(req->status())));
                   ToProto(out, resp);
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* TransactionGrpcService::ListRefunds(
    grpc::CallbackServerContext* ctx, const v1::ListOrderRecordsRequest* req,
    v1::ListRefundsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListRefunds",
                 [=](const RequestContext& rc) -> absl::Status {
                   CRM_ASSIGN_OR_RETURN(std::vector<domain::Refund> out,
                                        money_.ListRefunds(rc.tenant_id, req->order_id()));
                   for (const auto& r : out) ToProto(r, resp->add_refunds());
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* TransactionGrpcService::GetOrderSettings(
    grpc::CallbackServerContext* ctx, const v1::GetOrderSettingsRequest* /*req*/,
    v1::OrderSettings* resp) {
  return Offload(ctx, executor_, metrics_, "GetOrderSettings",
                 [=](const RequestContext& rc) -> absl::Status {
                   CRM_ASSIGN_OR_RETURN(app::OrderSettings s, orders_.GetSettings(rc.tenant_id));
                   ToProto(s, resp);
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* TransactionGrpcService::UpdateOrderSettings(
    grpc::CallbackServerContext* ctx, const v1::UpdateOrderSettingsRequest* req,
    v1::OrderSettings* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateOrderSettings",
                 [=](const RequestContext& rc) -> absl::Status {
                   app::OrderSettings s;
                   s.create_unknown_customers = req->settings().create_unknown_customers();
                   std::string if_match =
                       req->etag().empty() ? req->settings().etag() : req->etag();
                   CRM_ASSIGN_OR_RETURN(
                       app::OrderSettings out,
                       orders_.UpdateSettings(ActorOf(rc, "UpdateOrderSettings", ""), s, if_match));
                   ToProto(out, resp);
                   return absl::OkStatus();
                 });
}

}  // namespace crm::transaction::api

#include "services/transaction/api/grpc_service.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"

namespace crm::transaction::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

using common::CheckRequestId;  // at most 128 characters, no control characters

using grpcutil::FromTimestamp;
using grpcutil::ToTimestamp;

}  // namespace

app::Actor ActorOf(const RequestContext& rc, const char* method, const std::string& key) {
  return grpcutil::WriteMetaOf(rc, method, key);
}

absl::StatusOr<domain::Product> FromProto(const v1::Product& p) {
  domain::Product d;
  d.sku = p.sku();
  d.name = p.name();
  d.category_path.assign(p.category_path().begin(), p.category_path().end());
  d.price = {p.price().amount_minor(), p.price().currency_code()};
  if (p.has_cost()) d.cost = domain::Money{p.cost().amount_minor(), p.cost().currency_code()};
  d.attributes.insert(p.attributes().begin(), p.attributes().end());
  d.active = p.active();
  return d;
}

void ToProto(const domain::Product& p, v1::Product* out) {
  out->set_sku(p.sku);
  out->set_name(p.name);
  for (const auto& c : p.category_path) out->add_category_path(c);
  out->mutable_price()->set_amount_minor(p.price.amount_minor);
  out->mutable_price()->set_currency_code(p.price.currency_code);
  if (p.cost) {
    out->mutable_cost()->set_amount_minor(p.cost->amount_minor);
    out->mutable_cost()->set_currency_code(p.cost->currency_code);
  }
  out->mutable_attributes()->insert(p.attributes.begin(), p.attributes.end());
  out->set_active(p.active);
  out->set_etag(domain::EtagOf(p));
  ToTimestamp(p.create_time, out->mutable_create_time());
  ToTimestamp(p.update_time, out->mutable_update_time());
}

std::vector<std::string> PresentPaths(const v1::Product& p) {
  std::vector<std::string> paths;
  if (!p.name().empty()) paths.emplace_back("name");
  if (p.category_path_size() > 0) paths.emplace_back("category_path");
  if (p.has_price()) paths.emplace_back("price");
  if (p.has_cost()) paths.emplace_back("cost");
  for (const auto& [k, v] : p.attributes()) paths.push_back(absl::StrCat("attributes.", k));
  // `active` is a bool: false is indistinguishable from unset, so it is only
  // changed through an explicit update_mask.
  return paths;
}

grpc::ServerUnaryReactor* TransactionGrpcService::CreateProduct(
    grpc::CallbackServerContext* ctx, const v1::CreateProductRequest* req, v1::Product* resp) {
  return Offload(ctx, executor_, metrics_, "CreateProduct", [=](const RequestContext& rc) -> absl::Status {
    CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Product p, FromProto(req->product()));
    // request_id is optional here; with one the replay is strict (like orders).
    app::Actor actor = ActorOf(rc, "CreateProduct", req->request_id());
    if (!req->request_id().empty()) actor.fingerprint = Fingerprint(*req);
    CRM_ASSIGN_OR_RETURN(domain::Product out, catalog_.Create(actor, p));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TransactionGrpcService::GetProduct(grpc::CallbackServerContext* ctx,
                                                             const v1::GetProductRequest* req,
                                                             v1::Product* resp) {
  return Offload(ctx, executor_, metrics_, "GetProduct", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::Product out, catalog_.Get(rc.tenant_id, req->sku()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TransactionGrpcService::UpdateProduct(
    grpc::CallbackServerContext* ctx, const v1::UpdateProductRequest* req, v1::Product* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateProduct", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::Product patch, FromProto(req->product()));
    std::vector<std::string> paths =
        req->has_update_mask() ? std::vector<std::string>(req->update_mask().paths().begin(),
                                                          req->update_mask().paths().end())
                               : PresentPaths(req->product());
    std::string if_match = req->etag().empty() ? req->product().etag() : req->etag();
    CRM_ASSIGN_OR_RETURN(domain::Product out,
                         catalog_.Update(ActorOf(rc, "UpdateProduct", ""), req->sku(), patch,
                                         paths, if_match));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TransactionGrpcService::ListProducts(
    grpc::CallbackServerContext* ctx, const v1::ListProductsRequest* req,
    v1::ListProductsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListProducts", [=](const RequestContext& rc) -> absl::Status {
    app::ProductQuery q;
    CRM_ASSIGN_OR_RETURN(q.limit, common::ClampPageSize(req->page_size(), 50, 500));
    q.category_prefix = req->category_prefix();
    q.active_only = req->active_only();
    q.name_prefix = req->name_prefix();
    std::string scope = absl::StrCat("ListProducts|", req->category_prefix(), "|",
                                     req->active_only(), "|", req->name_prefix());
    if (!req->page_token().empty()) {
      CRM_ASSIGN_OR_RETURN(q.after_sku, tokens_.Decode(rc.tenant_id, scope, req->page_token()));
    }
    CRM_ASSIGN_OR_RETURN(app::ProductPage page, catalog_.List(rc.tenant_id, q));
    for (const auto& p : page.items) ToProto(p, resp->add_products());
    if (!page.next_cursor.empty()) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, scope, page.next_cursor));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TransactionGrpcService::BatchUpsertProducts(
    grpc::CallbackServerContext* ctx, const v1::BatchUpsertProductsRequest* req,
    v1::BatchUpsertProductsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "BatchUpsertProducts", [=](const RequestContext& rc) -> absl::Status {
    std::vector<domain::Product> products;
    for (const auto& p : req->products()) {
      CRM_ASSIGN_OR_RETURN(domain::Product d, FromProto(p));
      products.push_back(std::move(d));
    }
    CRM_ASSIGN_OR_RETURN(app::BatchResult r,
                         catalog_.BatchUpsert(ActorOf(rc, "BatchUpsertProducts", ""), std::move(products)));
    resp->set_created(r.created);
    resp->set_updated(r.updated);
    resp->set_unchanged(r.unchanged);
    for (const auto& e : r.errors) {
      auto* x = resp->add_errors();
      x->set_index(e.index);
      x->set_sku(e.sku);
      x->set_field(e.field);
      x->set_reason(e.reason);
      x->set_message(e.message);
    }
    return absl::OkStatus();
  });
}

}  // namespace crm::transaction::api

namespace crm::transaction::api {


absl::StatusOr<domain::Order> FromProto(const v1::Order& o) {
  domain::Order d;
  d.customer_id = o.customer_id();
  d.currency_code = o.currency_code();
  for (const auto& l : o.lines()) {
    d.lines.push_back(
        {l.sku(), l.quantity(), l.unit_price_minor(), l.discount_minor(), 0, 0, l.price_quote()});
  }
  d.total_minor = o.total_minor();
  if (!v1::SalesChannel_IsValid(o.channel())) {
    return common::InvalidField("channel", "unknown channel");
  }
  d.channel = static_cast<domain::SalesChannel>(o.channel());
  d.store_id = o.store_id();
  d.external_id = o.external_id();
  if (o.has_placed_time()) {
    if (o.placed_time().seconds() < 0 || o.placed_time().seconds() > 253402300799LL ||
        o.placed_time().nanos() < 0 || o.placed_time().nanos() > 999999999) {
      return common::InvalidField("placed_time", "placed_time is not a valid timestamp");
    }
    d.placed_time = grpcutil::FromTimestamp(o.placed_time());
  }
  return d;
}

void ToProto(const domain::Order& o, v1::Order* out) {
  out->set_id(o.id);
  out->set_customer_id(o.customer_id);
  out->set_currency_code(o.currency_code);
  for (const auto& l : o.lines) {
    auto* x = out->add_lines();
    x->set_sku(l.sku);
    x->set_quantity(l.quantity);
    x->set_unit_price_minor(l.unit_price_minor);
    x->set_discount_minor(l.discount_minor);
    x->set_line_total_minor(l.line_total_minor);
    x->set_returned_quantity(l.returned_quantity);
    x->set_price_quote_id(l.price_quote_id);
  }
  out->set_external_id(o.external_id);
  out->set_paid_minor(o.paid_minor);
  out->set_returned_minor(o.returned_minor);
  out->set_refunded_minor(o.refunded_minor);
  out->set_net_minor(domain::NetMinor(o));
  out->set_total_minor(o.total_minor);
  out->set_channel(static_cast<v1::SalesChannel>(o.channel));
  out->set_store_id(o.store_id);
  ToTimestamp(o.placed_time, out->mutable_placed_time());
  out->set_status(static_cast<v1::OrderStatus>(o.status));
  out->set_etag(domain::EtagOf(o));
  ToTimestamp(o.create_time, out->mutable_create_time());
  ToTimestamp(o.update_time, out->mutable_update_time());
}

app::CustomerIdentities CustomerRefFromProto(const v1::CustomerRef& ref) {
  return app::CustomerIdentities{ref.email(),       ref.phone(),      ref.external_id_source(),
                                 ref.external_id(), ref.given_name(), ref.family_name()};
}

grpc::ServerUnaryReactor* TransactionGrpcService::CreateOrder(grpc::CallbackServerContext* ctx,
                                                              const v1::CreateOrderRequest* req,
                                                              v1::Order* resp) {
  return Offload(ctx, executor_, metrics_, "CreateOrder", [=](const RequestContext& rc) -> absl::Status {
    app::Actor actor = ActorOf(rc, "CreateOrder", req->request_id());
    actor.fingerprint = Fingerprint(*req);
    CRM_ASSIGN_OR_RETURN(domain::Order o, FromProto(req->order()));
    std::optional<app::CustomerIdentities> who;
    if (req->order().has_customer_ref()) who = CustomerRefFromProto(req->order().customer_ref());
    CRM_ASSIGN_OR_RETURN(domain::Order out,
                         orders_.Create(actor, std::move(o), who ? &*who : nullptr));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TransactionGrpcService::GetOrder(grpc::CallbackServerContext* ctx,
                                                           const v1::GetOrderRequest* req,
                                                           v1::Order* resp) {
  return Offload(ctx, executor_, metrics_, "GetOrder", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::Order out, orders_.Get(rc.tenant_id, req->order_id()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TransactionGrpcService::ListOrders(grpc::CallbackServerContext* ctx,
                                                             const v1::ListOrdersRequest* req,
                                                             v1::ListOrdersResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListOrders", [=](const RequestContext& rc) -> absl::Status {
    if (!v1::OrderStatus_IsValid(req->status())) {
      return common::InvalidField("status", "unknown status");
    }
    app::OrderQuery q;
    CRM_ASSIGN_OR_RETURN(q.limit, common::ClampPageSize(req->page_size(), 50, 500));
    q.customer_id = req->customer_id();
    q.status = static_cast<domain::OrderStatus>(req->status());
    std::string scope = absl::StrCat("ListOrders|", req->customer_id(), "|", req->status());
    if (!req->page_token().empty()) {
      CRM_ASSIGN_OR_RETURN(q.before_cursor, tokens_.Decode(rc.tenant_id, scope, req->page_token()));
    }
    CRM_ASSIGN_OR_RETURN(app::OrderPage page, orders_.List(rc.tenant_id, q));
    for (const auto& o : page.items) ToProto(o, resp->add_orders());
    if (!page.next_cursor.empty()) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, scope, page.next_cursor));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TransactionGrpcService::TransitionOrder(
    grpc::CallbackServerContext* ctx, const v1::TransitionOrderRequest* req, v1::Order* resp) {
  return Offload(ctx, executor_, metrics_, "TransitionOrder", [=](const RequestContext& rc) -> absl::Status {
    if (!v1::OrderStatus_IsValid(req->to_status())) {
      return common::InvalidField("to_status", "unknown status");
    }
    app::Actor actor = ActorOf(rc, "TransitionOrder", req->request_id());
    actor.fingerprint = Fingerprint(*req);
    CRM_ASSIGN_OR_RETURN(domain::Order out,
                         orders_.Transition(actor, req->order_id(),
                                            static_cast<domain::OrderStatus>(req->to_status())));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

}  // namespace crm::transaction::api

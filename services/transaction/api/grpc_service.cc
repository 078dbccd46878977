#include "services/transaction/api/grpc_service.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/unary.h"

namespace crm::transaction::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

app::Actor ActorOf(const RequestContext& rc, const char* method, const std::string& key) {
  return app::Actor{rc.tenant_id, rc.principal.empty() ? "unknown" : rc.principal, rc.request_id,
                    method, key};
}

absl::Status CheckRequestId(const std::string& id) {
  if (id.size() > 128) {
    return common::InvalidField("request_id", "request_id is at most 128 characters");
  }
  return absl::OkStatus();
}

void ToTs(absl::Time t, google::protobuf::Timestamp* out) {
  int64_t us = absl::ToUnixMicros(t);
  out->set_seconds(us / 1000000);
  out->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
}

}  // namespace

absl::StatusOr<domain::Product> FromProto(const v1::Product& p) {
  domain::Product d;
  d.sku = p.sku();
  d.name = p.name();
  d.category_path.assign(p.category_path().begin(), p.category_path().end());
  d.price = {p.price().amount_minor(), p.price().currency_code()};
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
  out->mutable_attributes()->insert(p.attributes.begin(), p.attributes.end());
  out->set_active(p.active);
  out->set_etag(domain::EtagOf(p));
  ToTs(p.create_time, out->mutable_create_time());
  ToTs(p.update_time, out->mutable_update_time());
}

std::vector<std::string> PresentPaths(const v1::Product& p) {
  std::vector<std::string> paths;
  if (!p.name().empty()) paths.emplace_back("name");
  if (p.category_path_size() > 0) paths.emplace_back("category_path");
  if (p.has_price()) paths.emplace_back("price");
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
    CRM_ASSIGN_OR_RETURN(domain::Product out,
                         catalog_.Create(ActorOf(rc, "CreateProduct", req->request_id()), p));
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

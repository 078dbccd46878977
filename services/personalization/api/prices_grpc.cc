// The personal price RPCs of PersonalizationGrpcService.
#include <string>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/personalization/api/grpc_service.h"

namespace crm::personalization::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

void ToProto(const domain::PricePolicy& p, v1::PricePolicy* out) {
  out->set_max_discount_basis_points(p.guardrails.max_discount_bp);
  out->set_min_margin_basis_points(p.guardrails.min_margin_bp);
  for (const domain::PriceTier& t : p.tiers) {
    v1::PriceTier* x = out->add_tiers();
    x->set_name(t.name);
    x->set_rule(t.rule);
    x->set_discount_basis_points(t.discount_bp);
  }
  out->set_quote_ttl_seconds(p.quote_ttl_seconds);
  out->set_version(p.version);
  out->set_etag(absl::StrCat(p.version));
  if (p.version > 0) grpcutil::ToTimestamp(p.update_time, out->mutable_update_time());
}

v1::PriceLimit ProtoLimit(domain::PriceLimit l) {
  switch (l) {
    case domain::PriceLimit::kNone:
      return v1::PRICE_LIMIT_NONE;
    case domain::PriceLimit::kMaxDiscount:
      return v1::PRICE_LIMIT_MAX_DISCOUNT;
    case domain::PriceLimit::kMinMargin:
      return v1::PRICE_LIMIT_MIN_MARGIN;
    case domain::PriceLimit::kListPrice:
      return v1::PRICE_LIMIT_LIST_PRICE;
    case domain::PriceLimit::kNoCost:
      return v1::PRICE_LIMIT_NO_COST;
  }
  return v1::PRICE_LIMIT_UNSPECIFIED;
}

v1::PriceQuoteReason ProtoReason(app::QuoteReason r) {
  switch (r) {
    case app::QuoteReason::kTier:
      return v1::PRICE_QUOTE_REASON_TIER;
    case app::QuoteReason::kNoTier:
      return v1::PRICE_QUOTE_REASON_NO_TIER;
    case app::QuoteReason::kNotPersonalized:
      return v1::PRICE_QUOTE_REASON_NOT_PERSONALIZED;
    case app::QuoteReason::kRulesUnavailable:
      return v1::PRICE_QUOTE_REASON_RULES_UNAVAILABLE;
  }
  return v1::PRICE_QUOTE_REASON_UNSPECIFIED;
}

}  // namespace

grpc::ServerUnaryReactor* PersonalizationGrpcService::GetPricePolicy(
    grpc::CallbackServerContext* ctx, const v1::GetPricePolicyRequest*, v1::PricePolicy* resp) {
  return Offload(ctx, executor_, metrics_, "GetPricePolicy", [=](const RequestContext& rc) {
    ToProto(prices_.Policy(rc.tenant_id), resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::UpdatePricePolicy(
    grpc::CallbackServerContext* ctx, const v1::UpdatePricePolicyRequest* req,
    v1::PricePolicy* resp) {
  return Offload(ctx, executor_, metrics_, "UpdatePricePolicy", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::CheckRequestId(req->request_id()));
    const v1::PricePolicy& p = req->policy();
    domain::PricePolicy draft;
    draft.guardrails.max_discount_bp = p.max_discount_basis_points();
    draft.guardrails.min_margin_bp = p.min_margin_basis_points();
    draft.quote_ttl_seconds = p.quote_ttl_seconds();
    for (const v1::PriceTier& t : p.tiers()) {
      draft.tiers.push_back(domain::PriceTier{t.name(), t.rule(), t.discount_basis_points()});
    }
    CRM_ASSIGN_OR_RETURN(
        domain::PricePolicy out,
        prices_.UpdatePolicy(grpcutil::IdempotentWriteMetaOf(rc, "UpdatePricePolicy", *req),
                             std::move(draft), p.etag()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::QuotePrice(grpc::CallbackServerContext* ctx,
                                                                 const v1::QuotePriceRequest* req,
                                                                 v1::PriceQuote* resp) {
  return Offload(ctx, executor_, metrics_, "QuotePrice", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckCustomerId(req->customer_id()));
    CRM_RETURN_IF_ERROR(CheckKey("sku", req->sku()));
    if (req->currency_code().size() > 3) {
      return common::InvalidField("currency_code", "currency_code is an ISO 4217 code");
    }
    CRM_ASSIGN_OR_RETURN(app::SignedQuote s, prices_.Quote(rc.tenant_id, req->customer_id(),
                                                           req->sku(), req->currency_code()));
    const app::QuoteRecord& q = s.quote;
    resp->set_quote_id(q.quote_id);
    resp->set_customer_id(q.customer_id);
    resp->set_sku(q.sku);
    resp->set_currency_code(q.currency_code);
    resp->set_list_price_minor(q.price.list_minor);
    resp->set_unit_price_minor(q.price.price_minor);
    resp->set_discount_basis_points(q.price.applied_bp);
    resp->set_reason(ProtoReason(q.reason));
    resp->set_tier(q.tier);
    resp->set_requested_discount_basis_points(q.price.requested_bp);
    resp->set_limit(ProtoLimit(q.price.limit));
    resp->set_explanation(q.explanation);
    grpcutil::ToTimestamp(q.expire_time, resp->mutable_expire_time());
    resp->set_token(s.token);
    return absl::OkStatus();
  });
}

}  // namespace crm::personalization::api

// The offer and next-best-offer RPCs of PersonalizationGrpcService.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
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

constexpr int kDefaultOffers = 3;

absl::StatusOr<domain::OfferKind> KindOf(v1::OfferKind k) {
  switch (k) {
    case v1::OFFER_KIND_DISCOUNT:
      return domain::OfferKind::kDiscount;
    case v1::OFFER_KIND_BUNDLE:
      return domain::OfferKind::kBundle;
    case v1::OFFER_KIND_CROSS_SELL:
      return domain::OfferKind::kCrossSell;
    case v1::OFFER_KIND_UP_SELL:
      return domain::OfferKind::kUpSell;
    case v1::OFFER_KIND_CONTENT:
      return domain::OfferKind::kContent;
    default:
      return common::InvalidField("kind",
                                  "kind must be DISCOUNT, BUNDLE, CROSS_SELL, UP_SELL or CONTENT");
  }
}

v1::OfferKind ProtoKind(domain::OfferKind k) {
  switch (k) {
    case domain::OfferKind::kDiscount:
      return v1::OFFER_KIND_DISCOUNT;
    case domain::OfferKind::kBundle:
      return v1::OFFER_KIND_BUNDLE;
    case domain::OfferKind::kCrossSell:
      return v1::OFFER_KIND_CROSS_SELL;
    case domain::OfferKind::kUpSell:
      return v1::OFFER_KIND_UP_SELL;
    case domain::OfferKind::kContent:
      return v1::OFFER_KIND_CONTENT;
  }
  return v1::OFFER_KIND_UNSPECIFIED;
}

absl::StatusOr<domain::Offer> FromProto(const v1::Offer& p, absl::Time now) {
  domain::Offer o;
  o.offer_id = p.offer_id();
  o.display_name = p.display_name();
  CRM_ASSIGN_OR_RETURN(o.kind, KindOf(p.kind()));
  o.rule = p.rule();
  o.skus.assign(p.skus().begin(), p.skus().end());
  o.discount_bp = p.discount_basis_points();
  o.value_minor = p.value_minor();
  o.content = p.content();
  o.start_time = p.has_start_time() ? grpcutil::FromTimestamp(p.start_time()) : now;
  if (p.has_end_time()) o.end_time = grpcutil::FromTimestamp(p.end_time());
  o.per_customer_cap = p.per_customer_cap();
  o.global_cap = p.global_cap();
  o.priority = p.priority();
  return o;
}

void ToProto(const domain::Offer& o, v1::Offer* out) {
  out->set_offer_id(o.offer_id);
  out->set_display_name(o.display_name);
  out->set_kind(ProtoKind(o.kind));
  out->set_rule(o.rule);
  for (const std::string& s : o.skus) out->add_skus(s);
  out->set_discount_basis_points(o.discount_bp);
  out->set_value_minor(o.value_minor);
  out->set_content(o.content);
  if (o.start_time != absl::InfinitePast()) {
    grpcutil::ToTimestamp(o.start_time, out->mutable_start_time());
  }
  if (o.end_time != absl::InfiniteFuture()) {
    grpcutil::ToTimestamp(o.end_time, out->mutable_end_time());
  }
  out->set_per_customer_cap(o.per_customer_cap);
  out->set_global_cap(o.global_cap);
  out->set_priority(o.priority);
  out->set_retired(o.retired);
  out->set_version(o.version);
  out->set_etag(absl::StrCat(o.version));
  grpcutil::ToTimestamp(o.create_time, out->mutable_create_time());
  grpcutil::ToTimestamp(o.update_time, out->mutable_update_time());
}

}  // namespace

grpc::ServerUnaryReactor* PersonalizationGrpcService::CreateOffer(grpc::CallbackServerContext* ctx,
                                                                  const v1::CreateOfferRequest* req,
                                                                  v1::Offer* resp) {
  return Offload(ctx, executor_, metrics_, "CreateOffer", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Offer draft, FromProto(req->offer(), absl::Now()));
    CRM_ASSIGN_OR_RETURN(
        domain::Offer o,
        offers_.Create(grpcutil::IdempotentWriteMetaOf(rc, "CreateOffer", *req), std::move(draft)));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::GetOffer(grpc::CallbackServerContext* ctx,
                                                               const v1::GetOfferRequest* req,
                                                               v1::Offer* resp) {
  return Offload(ctx, executor_, metrics_, "GetOffer", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckDefinitionId("offer_id", req->offer_id()));
    CRM_ASSIGN_OR_RETURN(domain::Offer o, offers_.Get(rc.tenant_id, req->offer_id()));
    CRM_ASSIGN_OR_RETURN(std::int64_t presented, offers_.Presented(rc.tenant_id, req->offer_id()));
    ToProto(o, resp);
    resp->set_presented_count(presented);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::ListOffers(grpc::CallbackServerContext* ctx,
                                                                 const v1::ListOffersRequest*,
                                                                 v1::ListOffersResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListOffers", [=](const RequestContext& rc) {
    for (const domain::Offer& o : offers_.List(rc.tenant_id)) ToProto(o, resp->add_offers());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::UpdateOffer(grpc::CallbackServerContext* ctx,
                                                                  const v1::UpdateOfferRequest* req,
                                                                  v1::Offer* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateOffer", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckDefinitionId("offer_id", req->offer_id()));
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    if (!req->offer().offer_id().empty() && req->offer().offer_id() != req->offer_id()) {
      return common::InvalidField("offer.offer_id", "the body's offer_id must be the path's");
    }
    CRM_ASSIGN_OR_RETURN(domain::Offer draft, FromProto(req->offer(), absl::Now()));
    draft.offer_id = req->offer_id();
    CRM_ASSIGN_OR_RETURN(domain::Offer o,
                         offers_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateOffer", *req),
                                        std::move(draft), req->offer().etag()));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::RetireOffer(grpc::CallbackServerContext* ctx,
                                                                  const v1::RetireOfferRequest* req,
                                                                  v1::Offer* resp) {
  return Offload(ctx, executor_, metrics_, "RetireOffer", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckDefinitionId("offer_id", req->offer_id()));
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Offer o,
                         offers_.Retire(grpcutil::IdempotentWriteMetaOf(rc, "RetireOffer", *req),
                                        req->offer_id(), req->etag()));
    ToProto(o, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::NextBestOffers(
    grpc::CallbackServerContext* ctx, const v1::NextBestOffersRequest* req,
    v1::NextBestOffersResponse* resp) {
  return Offload(ctx, executor_, metrics_, "NextBestOffers", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckCustomerId(req->customer_id()));
    if (req->count() < 0 || req->count() > static_cast<int>(app::kMaxOffersPerAnswer)) {
      return common::InvalidField("count", "count must be between 1 and 10 (0: 3)");
    }
    CRM_RETURN_IF_ERROR(common::CheckRequestId(req->request_id()));
    const std::size_t count =
        static_cast<std::size_t>(req->count() == 0 ? kDefaultOffers : req->count());
    CRM_ASSIGN_OR_RETURN(app::NextBestOffers n,
                         offers_.Next(grpcutil::IdempotentWriteMetaOf(rc, "NextBestOffers", *req),
                                      req->customer_id(), count));
    for (const app::OfferDecision& d : n.decisions) {
      v1::OfferDecision* p = resp->add_decisions();
      p->set_decision_id(d.decision_id);
      p->set_rank(d.rank);
      ToProto(d.offer, p->mutable_offer());
      p->set_expected_value(d.expected_value);
      p->set_relevance(d.relevance);
      p->set_p_alive(d.p_alive);
      p->set_reason(d.reason == "not_personalized" ? v1::OFFER_DECISION_REASON_NOT_PERSONALIZED
                                                   : v1::OFFER_DECISION_REASON_RANKED);
      grpcutil::ToTimestamp(d.decide_time, p->mutable_decide_time());
    }
    resp->set_personalized(n.personalized);
    resp->set_rules_evaluated(n.rules_evaluated);
    return absl::OkStatus();
  });
}

}  // namespace crm::personalization::api

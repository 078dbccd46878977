// The campaign RPCs of DeliveryGrpcService.
#include <string>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/delivery/api/grpc_service.h"

namespace crm::delivery::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

v1::CampaignState ProtoState(domain::CampaignState s) {
  switch (s) {
    case domain::CampaignState::kDraft:
      return v1::CAMPAIGN_STATE_DRAFT;
    case domain::CampaignState::kScheduled:
      return v1::CAMPAIGN_STATE_SCHEDULED;
    case domain::CampaignState::kRunning:
      return v1::CAMPAIGN_STATE_RUNNING;
    case domain::CampaignState::kPaused:
      return v1::CAMPAIGN_STATE_PAUSED;
    case domain::CampaignState::kCompleted:
      return v1::CAMPAIGN_STATE_COMPLETED;
    case domain::CampaignState::kCancelled:
      return v1::CAMPAIGN_STATE_CANCELLED;
  }
  return v1::CAMPAIGN_STATE_UNSPECIFIED;
}

void ToProto(const domain::Campaign& c, v1::Campaign* out) {
  out->set_campaign_id(c.id);
  out->set_name(c.name);
  out->set_channel(ChannelToProto(c.channel));
  out->set_purpose(c.purpose == domain::Purpose::kMarketing ? v1::PURPOSE_MARKETING
                                                            : v1::PURPOSE_TRANSACTIONAL);
  out->set_endpoint_id(c.endpoint_id);
  out->mutable_audience()->set_segment_id(c.audience.segment_id);
  for (const std::string& id : c.audience.customer_ids) {
    out->mutable_audience()->add_customer_ids(id);
  }
  for (const domain::Variant& v : c.variants) {
    v1::CampaignVariant* x = out->add_variants();
    x->set_variant_id(v.id);
    x->set_template_id(v.template_id);
    x->set_weight(v.weight);
  }
  out->set_holdout_basis_points(c.holdout_bp);
  out->set_throttle_per_second(c.throttle_per_second);
  out->set_offer_count(c.offer_count);
  out->set_cost_per_message_minor(c.cost_per_message_minor);
  out->set_cost_currency_code(c.cost_currency_code);
  if (c.trigger.kind != domain::TriggerKind::kNone) {
    v1::CampaignTrigger* t = out->mutable_trigger();
    t->set_kind(TriggerKindToProto(c.trigger.kind));
    t->set_segment_id(c.trigger.segment_id);
    t->set_delay_seconds(absl::ToInt64Seconds(c.trigger.delay));
    t->set_every_time(c.trigger.reentry == domain::Reentry::kEveryTime);
  }
  if (c.recurrence.interval > absl::ZeroDuration()) {
    v1::CampaignRecurrence* r = out->mutable_recurrence();
    r->set_interval_seconds(absl::ToInt64Seconds(c.recurrence.interval));
    if (c.recurrence.end_time) grpcutil::ToTimestamp(*c.recurrence.end_time, r->mutable_end_time());
  }
  out->set_occurrence(c.occurrence);
  out->set_state(ProtoState(c.state));
  out->set_version(c.version);
  out->set_etag(absl::StrCat(c.version));
  if (c.start_time) grpcutil::ToTimestamp(*c.start_time, out->mutable_start_time());
  if (c.started_time) grpcutil::ToTimestamp(*c.started_time, out->mutable_started_time());
  if (c.completed_time) grpcutil::ToTimestamp(*c.completed_time, out->mutable_completed_time());
  grpcutil::ToTimestamp(c.create_time, out->mutable_create_time());
  grpcutil::ToTimestamp(c.update_time, out->mutable_update_time());
  out->set_targeted(c.targeted);
}

absl::StatusOr<domain::Campaign> FromProto(const v1::Campaign& in) {
  if (!in.campaign_id().empty()) {
    return common::InvalidField("campaign_id", "campaign_id is output only");
  }
  domain::Campaign c;
  c.name = in.name();
  CRM_ASSIGN_OR_RETURN(std::optional<domain::Channel> channel, ChannelFromProto(in.channel()));
  if (!channel) {
    return common::InvalidField("channel", "channel is required: CHANNEL_EMAIL or CHANNEL_WEBHOOK");
  }
  c.channel = *channel;
  CRM_ASSIGN_OR_RETURN(c.purpose, PurposeFromProto(in.purpose(), "purpose"));
  c.endpoint_id = in.endpoint_id();
  c.audience.segment_id = in.audience().segment_id();
  c.audience.customer_ids.assign(in.audience().customer_ids().begin(),
                                 in.audience().customer_ids().end());
  for (const v1::CampaignVariant& v : in.variants()) {
    c.variants.push_back({v.variant_id(), v.template_id(), v.weight() == 0 ? 1 : v.weight()});
  }
  c.holdout_bp = in.holdout_basis_points();
  c.throttle_per_second = in.throttle_per_second();
  c.offer_count = in.offer_count();
  c.cost_per_message_minor = in.cost_per_message_minor();
  c.cost_currency_code = in.cost_currency_code();
  CRM_ASSIGN_OR_RETURN(c.trigger.kind, TriggerKindFromProto(in.trigger().kind(), "trigger.kind"));
  c.trigger.segment_id = in.trigger().segment_id();
  c.trigger.delay = absl::Seconds(in.trigger().delay_seconds());
  c.trigger.reentry =
      in.trigger().every_time() ? domain::Reentry::kEveryTime : domain::Reentry::kOnce;
  c.recurrence.interval = absl::Seconds(in.recurrence().interval_seconds());
  if (in.recurrence().has_end_time()) {
    c.recurrence.end_time = grpcutil::FromTimestamp(in.recurrence().end_time());
  }
  return c;
}

}  // namespace

v1::TriggerKind TriggerKindToProto(domain::TriggerKind k) {
  switch (k) {
    case domain::TriggerKind::kSegmentEntered:
      return v1::TRIGGER_KIND_SEGMENT_ENTERED;
    case domain::TriggerKind::kOrderPlaced:
      return v1::TRIGGER_KIND_ORDER_PLACED;
    case domain::TriggerKind::kCartAbandoned:
      return v1::TRIGGER_KIND_CART_ABANDONED;
    default:
      return v1::TRIGGER_KIND_UNSPECIFIED;
  }
}

absl::StatusOr<domain::TriggerKind> TriggerKindFromProto(v1::TriggerKind k,
                                                         const std::string& field) {
  switch (k) {
    case v1::TRIGGER_KIND_UNSPECIFIED:
      return domain::TriggerKind::kNone;
    case v1::TRIGGER_KIND_SEGMENT_ENTERED:
      return domain::TriggerKind::kSegmentEntered;
    case v1::TRIGGER_KIND_ORDER_PLACED:
      return domain::TriggerKind::kOrderPlaced;
    case v1::TRIGGER_KIND_CART_ABANDONED:
      return domain::TriggerKind::kCartAbandoned;
    default:
      return common::InvalidField(field,
                                  "kind is TRIGGER_KIND_SEGMENT_ENTERED, TRIGGER_KIND_ORDER_PLACED "
                                  "or TRIGGER_KIND_CART_ABANDONED");
  }
}

absl::StatusOr<domain::Purpose> PurposeFromProto(v1::Purpose p, const std::string& field) {
  switch (p) {
    case v1::PURPOSE_UNSPECIFIED:
    case v1::PURPOSE_MARKETING:
      return domain::Purpose::kMarketing;
    case v1::PURPOSE_TRANSACTIONAL:
      return domain::Purpose::kTransactional;
    default:
      return common::InvalidField(field, "purpose is PURPOSE_MARKETING or PURPOSE_TRANSACTIONAL");
  }
}

grpc::ServerUnaryReactor* DeliveryGrpcService::CreateCampaign(grpc::CallbackServerContext* ctx,
                                                              const v1::CreateCampaignRequest* req,
                                                              v1::Campaign* resp) {
  return Offload(ctx, executor_, metrics_, "CreateCampaign", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Campaign draft, FromProto(req->campaign()));
    CRM_ASSIGN_OR_RETURN(domain::Campaign c, campaigns_.Create(grpcutil::IdempotentWriteMetaOf(
                                                                   rc, "CreateCampaign", *req),
                                                               std::move(draft)));
    ToProto(c, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::GetCampaign(grpc::CallbackServerContext* ctx,
                                                           const v1::GetCampaignRequest* req,
                                                           v1::Campaign* resp) {
  return Offload(ctx, executor_, metrics_, "GetCampaign", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::Campaign c, campaigns_.Get(rc.tenant_id, req->campaign_id()));
    ToProto(c, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ListCampaigns(grpc::CallbackServerContext* ctx,
                                                             const v1::ListCampaignsRequest*,
                                                             v1::ListCampaignsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListCampaigns", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(std::vector<domain::Campaign> all, campaigns_.List(rc.tenant_id));
    for (const domain::Campaign& c : all) ToProto(c, resp->add_campaigns());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::UpdateCampaign(grpc::CallbackServerContext* ctx,
                                                              const v1::UpdateCampaignRequest* req,
                                                              v1::Campaign* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateCampaign", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Campaign draft, FromProto(req->campaign()));
    CRM_ASSIGN_OR_RETURN(
        domain::Campaign c,
        campaigns_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateCampaign", *req),
                          req->campaign_id(), std::move(draft), req->campaign().etag()));
    ToProto(c, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ScheduleCampaign(
    grpc::CallbackServerContext* ctx, const v1::ScheduleCampaignRequest* req, v1::Campaign* resp) {
  return Offload(ctx, executor_, metrics_, "ScheduleCampaign", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    std::optional<absl::Time> start;
    if (req->has_start_time()) start = grpcutil::FromTimestamp(req->start_time());
    CRM_ASSIGN_OR_RETURN(domain::Campaign c, campaigns_.Schedule(grpcutil::IdempotentWriteMetaOf(
                                                                     rc, "ScheduleCampaign", *req),
                                                                 req->campaign_id(), start));
    ToProto(c, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::PauseCampaign(grpc::CallbackServerContext* ctx,
                                                             const v1::CampaignActionRequest* req,
                                                             v1::Campaign* resp) {
  return Offload(ctx, executor_, metrics_, "PauseCampaign", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Campaign c, campaigns_.Pause(grpcutil::IdempotentWriteMetaOf(
                                                                  rc, "PauseCampaign", *req),
                                                              req->campaign_id()));
    ToProto(c, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ResumeCampaign(grpc::CallbackServerContext* ctx,
                                                              const v1::CampaignActionRequest* req,
                                                              v1::Campaign* resp) {
  return Offload(ctx, executor_, metrics_, "ResumeCampaign", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Campaign c, campaigns_.Resume(grpcutil::IdempotentWriteMetaOf(
                                                                   rc, "ResumeCampaign", *req),
                                                               req->campaign_id()));
    ToProto(c, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::CancelCampaign(grpc::CallbackServerContext* ctx,
                                                              const v1::CampaignActionRequest* req,
                                                              v1::Campaign* resp) {
  return Offload(ctx, executor_, metrics_, "CancelCampaign", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Campaign c, campaigns_.Cancel(grpcutil::IdempotentWriteMetaOf(
                                                                   rc, "CancelCampaign", *req),
                                                               req->campaign_id()));
    ToProto(c, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::GetCampaignResults(
    grpc::CallbackServerContext* ctx, const v1::GetCampaignResultsRequest* req,
    v1::CampaignResults* resp) {
  return Offload(ctx, executor_, metrics_, "GetCampaignResults", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(app::CampaignResults r,
                         campaigns_.Results(rc.tenant_id, req->campaign_id()));
    resp->set_campaign_id(r.campaign.id);
    resp->set_state(ProtoState(r.campaign.state));
    int64_t targeted = 0;
    for (const app::VariantResults& v : r.variants) {
      v1::VariantResults* x = resp->add_variants();
      x->set_variant_id(v.variant_id);
      x->set_holdout(v.variant_id.empty());
      x->set_targeted(v.targeted);
      x->set_pending(v.pending);
      x->set_sent(v.sent);
      x->set_failed(v.failed);
      x->set_unknown(v.unknown);
      x->set_cancelled(v.cancelled);
      x->mutable_suppressed()->insert(v.suppressed.begin(), v.suppressed.end());
      x->set_opened(v.opened);
      x->set_clicked(v.clicked);
      x->set_delivered(v.delivered);
      x->set_bounced(v.bounced);
      x->set_unsubscribed(v.unsubscribed);
      x->set_converted(v.converted);
      x->mutable_revenue_minor()->insert(v.revenue_minor.begin(), v.revenue_minor.end());
      x->set_ordered(v.ordered);
      x->set_exposed(v.exposed);
      if (v.exposed > 0) {
        x->set_order_rate(static_cast<double>(v.ordered) / static_cast<double>(v.exposed));
      }
      if (v.lift.defined) {
        x->mutable_lift()->set_difference(v.lift.difference);
        x->mutable_lift()->set_low(v.lift.low);
        x->mutable_lift()->set_high(v.lift.high);
        x->mutable_lift()->set_holdout_order_rate(v.lift.holdout_rate);
      }
      x->set_cost_minor(v.cost_minor);
      if (v.roi) x->set_roi(*v.roi);
      targeted += v.targeted;
    }
    resp->set_targeted(targeted);
    for (const app::OfferResults& o : r.offers) {
      v1::OfferResults* x = resp->add_offers();
      x->set_offer_id(o.offer_id);
      x->set_sent(o.sent);
      x->set_converted(o.converted);
      x->mutable_revenue_minor()->insert(o.revenue_minor.begin(), o.revenue_minor.end());
    }
    return absl::OkStatus();
  });
}

}  // namespace crm::delivery::api

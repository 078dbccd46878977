// The content slot RPCs of PersonalizationGrpcService.
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

absl::StatusOr<domain::Slot> FromProto(const v1::Slot& p) {
  domain::Slot s;
  s.slot_id = p.slot_id();
  s.display_name = p.display_name();
  switch (p.selection()) {
    case v1::SLOT_SELECTION_UNSPECIFIED:
    case v1::SLOT_SELECTION_FIRST_ELIGIBLE:
      s.selection = domain::SlotSelection::kFirstEligible;
      break;
    case v1::SLOT_SELECTION_BEST_INTEREST:
      s.selection = domain::SlotSelection::kBestInterest;
      break;
    default:
      return common::InvalidField("selection", "selection must be FIRST_ELIGIBLE or BEST_INTEREST");
  }
  for (const v1::SlotVariant& v : p.variants()) {
    domain::SlotVariant out;
    out.variant_id = v.variant_id();
    out.rule = v.rule();
    out.topics.assign(v.topics().begin(), v.topics().end());
    out.content = v.content();
    for (const v1::ContentArm& a : v.arms()) {
      out.arms.push_back(
          domain::ContentArm{a.arm_id(), a.content(), a.weight() == 0 ? 1 : a.weight()});
    }
    s.variants.push_back(std::move(out));
  }
  s.fallback_content = p.fallback_content();
  s.holdout_bp = p.holdout_basis_points();
  return s;
}

void ToProto(const domain::Slot& s, v1::Slot* out) {
  out->set_slot_id(s.slot_id);
  out->set_display_name(s.display_name);
  out->set_selection(s.selection == domain::SlotSelection::kBestInterest
                         ? v1::SLOT_SELECTION_BEST_INTEREST
                         : v1::SLOT_SELECTION_FIRST_ELIGIBLE);
  for (const domain::SlotVariant& v : s.variants) {
    v1::SlotVariant* p = out->add_variants();
    p->set_variant_id(v.variant_id);
    p->set_rule(v.rule);
    for (const std::string& t : v.topics) p->add_topics(t);
    p->set_content(v.content);
    for (const domain::ContentArm& a : v.arms) {
      v1::ContentArm* arm = p->add_arms();
      arm->set_arm_id(a.arm_id);
      arm->set_content(a.content);
      arm->set_weight(a.weight);
    }
  }
  out->set_fallback_content(s.fallback_content);
  out->set_holdout_basis_points(s.holdout_bp);
  out->set_version(s.version);
  out->set_etag(absl::StrCat(s.version));
  grpcutil::ToTimestamp(s.create_time, out->mutable_create_time());
  grpcutil::ToTimestamp(s.update_time, out->mutable_update_time());
}

v1::SlotDecisionReason ReasonOf(domain::SlotReason r) {
  switch (r) {
    case domain::SlotReason::kRule:
      return v1::SLOT_DECISION_REASON_RULE;
    case domain::SlotReason::kInterest:
      return v1::SLOT_DECISION_REASON_INTEREST;
    case domain::SlotReason::kFallback:
      return v1::SLOT_DECISION_REASON_FALLBACK;
    case domain::SlotReason::kHoldout:
      return v1::SLOT_DECISION_REASON_HOLDOUT;
    case domain::SlotReason::kNotPersonalized:
      return v1::SLOT_DECISION_REASON_NOT_PERSONALIZED;
  }
  return v1::SLOT_DECISION_REASON_UNSPECIFIED;
}

void ToProto(const std::string& slot_id, const app::SlotAnswer& a, v1::SlotDecision* out) {
  out->set_slot_id(slot_id);
  out->set_slot_version(a.slot_version);
  out->set_variant_id(a.decision.variant_id);
  out->set_arm_id(a.decision.arm_id);
  out->set_content(a.decision.content);
  out->set_reason(ReasonOf(a.decision.reason));
  out->set_interest(a.decision.interest);
  out->set_rules_evaluated(a.rules_evaluated);
}

// A slot id in a path: a malformed one names no slot.

}  // namespace

grpc::ServerUnaryReactor* PersonalizationGrpcService::CreateSlot(grpc::CallbackServerContext* ctx,
                                                                 const v1::CreateSlotRequest* req,
                                                                 v1::Slot* resp) {
  return Offload(ctx, executor_, metrics_, "CreateSlot", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Slot draft, FromProto(req->slot()));
    CRM_ASSIGN_OR_RETURN(
        domain::Slot s,
        slots_.Create(grpcutil::IdempotentWriteMetaOf(rc, "CreateSlot", *req), std::move(draft)));
    ToProto(s, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::GetSlot(grpc::CallbackServerContext* ctx,
                                                              const v1::GetSlotRequest* req,
                                                              v1::Slot* resp) {
  return Offload(ctx, executor_, metrics_, "GetSlot", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckDefinitionId("slot_id", req->slot_id()));
    CRM_ASSIGN_OR_RETURN(domain::Slot s, slots_.Get(rc.tenant_id, req->slot_id()));
    ToProto(s, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::ListSlots(grpc::CallbackServerContext* ctx,
                                                                const v1::ListSlotsRequest*,
                                                                v1::ListSlotsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListSlots", [=](const RequestContext& rc) {
    for (const domain::Slot& s : slots_.List(rc.tenant_id)) ToProto(s, resp->add_slots());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::UpdateSlot(grpc::CallbackServerContext* ctx,
                                                                 const v1::UpdateSlotRequest* req,
                                                                 v1::Slot* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateSlot", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckDefinitionId("slot_id", req->slot_id()));
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    if (!req->slot().slot_id().empty() && req->slot().slot_id() != req->slot_id()) {
      return common::InvalidField("slot.slot_id", "the body's slot_id must be the path's");
    }
    CRM_ASSIGN_OR_RETURN(domain::Slot draft, FromProto(req->slot()));
    draft.slot_id = req->slot_id();
    CRM_ASSIGN_OR_RETURN(domain::Slot s,
                         slots_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateSlot", *req),
                                       std::move(draft), req->slot().etag()));
    ToProto(s, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::DeleteSlot(grpc::CallbackServerContext* ctx,
                                                                 const v1::DeleteSlotRequest* req,
                                                                 v1::DeleteSlotResponse*) {
  return Offload(ctx, executor_, metrics_, "DeleteSlot", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckDefinitionId("slot_id", req->slot_id()));
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    return slots_
        .Delete(grpcutil::IdempotentWriteMetaOf(rc, "DeleteSlot", *req), req->slot_id(),
                req->etag())
        .status();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::ResolveSlot(grpc::CallbackServerContext* ctx,
                                                                  const v1::ResolveSlotRequest* req,
                                                                  v1::SlotDecision* resp) {
  return Offload(ctx, executor_, metrics_, "ResolveSlot", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckCustomerId(req->customer_id()));
    CRM_RETURN_IF_ERROR(CheckDefinitionId("slot_id", req->slot_id()));
    CRM_ASSIGN_OR_RETURN(app::SlotAnswer a,
                         slots_.ForCustomer(rc.tenant_id, req->customer_id(), req->slot_id()));
    ToProto(req->slot_id(), a, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::ResolveVisitorSlot(
    grpc::CallbackServerContext* ctx, const v1::ResolveVisitorSlotRequest* req,
    v1::SlotDecision* resp) {
  return Offload(ctx, executor_, metrics_, "ResolveVisitorSlot", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckKey("visitor_id", req->visitor_id()));
    CRM_RETURN_IF_ERROR(CheckDefinitionId("slot_id", req->slot_id()));
    CRM_ASSIGN_OR_RETURN(app::SlotAnswer a,
                         slots_.ForVisitor(rc.tenant_id, req->visitor_id(), req->slot_id()));
    ToProto(req->slot_id(), a, resp);
    return absl::OkStatus();
  });
}

}  // namespace crm::personalization::api

// The automations' RPCs of ServiceDeskGrpcService and their proto mapping.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/service_desk/api/edits_proto.h"
#include "services/service_desk/api/grpc_service.h"

namespace crm::service_desk::api {
namespace {

absl::StatusOr<domain::Automations> AutomationsOf(const v1::Automations& in) {
  domain::Automations out;
  for (int i = 0; i < in.automations_size(); ++i) {
    const v1::Automation& a = in.automations(i);
    const std::string at = absl::StrCat("automations[", i, "]");
    if (a.since() == v1::AUTOMATION_CLOCK_UNSPECIFIED || !v1::AutomationClock_IsValid(a.since())) {
      return common::InvalidField(at + ".since",
                                  at + ".since must be AUTOMATION_CLOCK_CREATED, _UPDATED, "
                                       "_STATUS_CHANGED or _SOLVED");
    }
    domain::Automation au;
    au.id = a.id();
    au.name = a.name();
    au.active = a.active();
    au.since = static_cast<domain::AutomationClock>(a.since());
    au.hours = a.hours();
    au.conditions = ConditionsOf(a.conditions());
    CRM_RETURN_IF_ERROR(EditsFromProto(a.action(), at + ".action.", au.action));
    au.note = a.note();
    out.automations.push_back(std::move(au));
  }
  return out;
}

void AutomationsToProto(const domain::Automations& in, v1::Automations* out) {
  for (const domain::Automation& a : in.automations) {
    v1::Automation* au = out->add_automations();
    au->set_id(a.id);
    au->set_name(a.name);
    au->set_active(a.active);
    au->set_since(static_cast<v1::AutomationClock>(a.since));
    au->set_hours(a.hours);
    ToProto(a.conditions, au->mutable_conditions());
    EditsToProto(a.action, au->mutable_action());
    au->set_note(a.note);
  }
  out->set_etag(absl::StrCat(in.version));
  if (in.version > 0) grpcutil::ToTimestamp(in.update_time, out->mutable_update_time());
}

}  // namespace

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetAutomations(grpc::CallbackServerContext* ctx,
                                                                 const v1::GetAutomationsRequest*,
                                                                 v1::Automations* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "GetAutomations", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Automations a, automations_.Get(rc.tenant_id));
        AutomationsToProto(a, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UpdateAutomations(
    grpc::CallbackServerContext* ctx, const v1::UpdateAutomationsRequest* req,
    v1::Automations* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "UpdateAutomations", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Automations in, AutomationsOf(req->automations()));
        const std::string if_match = req->etag().empty() ? req->automations().etag() : req->etag();
        CRM_ASSIGN_OR_RETURN(
            domain::Automations out,
            automations_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateAutomations", *req),
                                std::move(in), if_match));
        AutomationsToProto(out, resp);
        return absl::OkStatus();
      });
}

}  // namespace crm::service_desk::api

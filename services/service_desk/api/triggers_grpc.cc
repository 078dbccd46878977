// The triggers' RPCs of ServiceDeskGrpcService and their proto mapping.
#include <optional>
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

// An event by its proto number: INVALID_ARGUMENT `field` for none.
absl::StatusOr<domain::TriggerEvent> EventOf(int e, const std::string& field) {
  if (e == v1::TRIGGER_EVENT_UNSPECIFIED || !v1::TriggerEvent_IsValid(e)) {
    return common::InvalidField(field,
                                field +
                                    " must be TRIGGER_EVENT_CREATED, _UPDATED, _CUSTOMER_MESSAGE, "
                                    "_AGENT_MESSAGE, _SLA_WARNING, _SLA_BREACH, _SLA_ESCALATION "
                                    "or _SURVEY_ANSWERED");
  }
  return static_cast<domain::TriggerEvent>(e);
}

absl::StatusOr<domain::Triggers> TriggersOf(const v1::Triggers& in) {
  domain::Triggers out;
  for (int i = 0; i < in.triggers_size(); ++i) {
    const v1::Trigger& t = in.triggers(i);
    const std::string at = absl::StrCat("triggers[", i, "]");
    domain::Trigger tr;
    tr.id = t.id();
    tr.name = t.name();
    tr.active = t.active();
    for (int k = 0; k < t.events_size(); ++k) {
      CRM_ASSIGN_OR_RETURN(domain::TriggerEvent e,
                           EventOf(t.events(k), absl::StrCat(at, ".events[", k, "]")));
      tr.events.push_back(e);
    }
    tr.conditions = ConditionsOf(t.conditions());
    CRM_RETURN_IF_ERROR(EditsFromProto(t.action(), at + ".action.", tr.action));
    tr.note = t.note();
    out.triggers.push_back(std::move(tr));
  }
  return out;
}

void TriggersToProto(const domain::Triggers& in, v1::Triggers* out) {
  for (const domain::Trigger& t : in.triggers) {
    v1::Trigger* tr = out->add_triggers();
    tr->set_id(t.id);
    tr->set_name(t.name);
    tr->set_active(t.active);
    for (domain::TriggerEvent e : t.events) tr->add_events(static_cast<v1::TriggerEvent>(e));
    ToProto(t.conditions, tr->mutable_conditions());
    EditsToProto(t.action, tr->mutable_action());
    tr->set_note(t.note);
  }
  out->set_etag(absl::StrCat(in.version));
  if (in.version > 0) grpcutil::ToTimestamp(in.update_time, out->mutable_update_time());
}

void TrialToProto(const app::TriggerTrial& in, v1::TriggerTrial* out) {
  ToProto(in.run.ticket, out->mutable_ticket());
  for (const domain::TriggerFiring& f : in.run.fired) {
    v1::TriggerFiring* fired = out->add_fired();
    fired->set_trigger_id(f.trigger_id);
    for (const domain::TicketChange& c : f.changes) ToProto(c, fired->add_changes());
    fired->set_note(f.note);
  }
  for (const auto& [id, why] : in.run.refused) {
    v1::TriggerRefusal* r = out->add_refused();
    r->set_trigger_id(id);
    r->set_reason(why);
  }
  out->set_chain_cut(in.run.chain_cut);
}

}  // namespace

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetTriggers(grpc::CallbackServerContext* ctx,
                                                              const v1::GetTriggersRequest*,
                                                              v1::Triggers* resp) {
  return grpcutil::Offload(ctx, executor_, metrics_, "GetTriggers",
                           [=](const grpcutil::RequestContext& rc) {
                             CRM_ASSIGN_OR_RETURN(domain::Triggers t, triggers_.Get(rc.tenant_id));
                             TriggersToProto(t, resp);
                             return absl::OkStatus();
                           });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UpdateTriggers(
    grpc::CallbackServerContext* ctx, const v1::UpdateTriggersRequest* req, v1::Triggers* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "UpdateTriggers", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Triggers in, TriggersOf(req->triggers()));
        const std::string if_match = req->etag().empty() ? req->triggers().etag() : req->etag();
        CRM_ASSIGN_OR_RETURN(domain::Triggers out, triggers_.Update(grpcutil::IdempotentWriteMetaOf(
                                                                        rc, "UpdateTriggers", *req),
                                                                    std::move(in), if_match));
        TriggersToProto(out, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::DryRunTriggers(
    grpc::CallbackServerContext* ctx, const v1::DryRunTriggersRequest* req,
    v1::DryRunTriggersResponse* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "DryRunTriggers", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::TriggerEvent event, EventOf(req->event(), "event"));
        std::optional<domain::Triggers> proposed;
        if (req->has_triggers()) {
          CRM_ASSIGN_OR_RETURN(proposed, TriggersOf(req->triggers()));
        }
        CRM_ASSIGN_OR_RETURN(
            std::vector<app::TriggerTrial> trials,
            triggers_.DryRun(rc.tenant_id, std::move(proposed),
                             {req->ticket_ids().begin(), req->ticket_ids().end()}, event));
        for (const app::TriggerTrial& t : trials) TrialToProto(t, resp->add_trials());
        return absl::OkStatus();
      });
}

}  // namespace crm::service_desk::api

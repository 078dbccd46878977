// The agents' RPCs of ServiceDeskGrpcService and their proto mapping.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/service_desk/api/grpc_service.h"

namespace crm::service_desk::api {

domain::Agent FromProto(const std::string& agent_id, const v1::Agent& a) {
  domain::Agent out;
  out.id = agent_id;
  out.name = a.name();
  out.queues.assign(a.queues().begin(), a.queues().end());
  out.skills.assign(a.skills().begin(), a.skills().end());
  out.capacity = a.capacity() == 0 ? domain::Agent().capacity : a.capacity();
  out.available = a.available();
  return out;
}

void ToProto(const app::AgentState& s, v1::Agent* out) {
  const domain::Agent& a = s.agent;
  out->set_id(a.id);
  out->set_name(a.name);
  for (const std::string& q : a.queues) out->add_queues(q);
  for (const std::string& k : a.skills) out->add_skills(k);
  out->set_capacity(a.capacity);
  out->set_available(a.available);
  out->set_open_tickets(s.open_tickets);
  out->set_reassigned_tickets(s.reassigned);
  out->set_released_tickets(s.released);
  out->set_etag(absl::StrCat(a.version));
  grpcutil::ToTimestamp(a.update_time, out->mutable_update_time());
  if (a.last_assigned != absl::InfinitePast()) {
    grpcutil::ToTimestamp(a.last_assigned, out->mutable_last_assign_time());
  }
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::PutAgent(grpc::CallbackServerContext* ctx,
                                                           const v1::PutAgentRequest* req,
                                                           v1::Agent* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "PutAgent", [=](const grpcutil::RequestContext& rc) {
        const std::string if_match = req->etag().empty() ? req->agent().etag() : req->etag();
        CRM_ASSIGN_OR_RETURN(app::AgentState out,
                             agents_.Put(grpcutil::IdempotentWriteMetaOf(rc, "PutAgent", *req),
                                         FromProto(req->agent_id(), req->agent()), if_match));
        ToProto(out, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetAgent(grpc::CallbackServerContext* ctx,
                                                           const v1::GetAgentRequest* req,
                                                           v1::Agent* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "GetAgent", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(app::AgentState out, agents_.Get(rc.tenant_id, req->agent_id()));
        ToProto(out, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::ListAgents(grpc::CallbackServerContext* ctx,
                                                             const v1::ListAgentsRequest*,
                                                             v1::ListAgentsResponse* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "ListAgents", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(std::vector<app::AgentState> all, agents_.List(rc.tenant_id));
        for (const app::AgentState& a : all) ToProto(a, resp->add_agents());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::SetAgentAvailability(
    grpc::CallbackServerContext* ctx, const v1::SetAgentAvailabilityRequest* req, v1::Agent* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "SetAgentAvailability", [=](const grpcutil::RequestContext& rc) {
        if (!v1::AssignMode_IsValid(req->reassign())) {
          return common::InvalidField("reassign", "reassign is not an assign mode");
        }
        CRM_ASSIGN_OR_RETURN(
            app::AgentState out,
            agents_.SetAvailability(
                grpcutil::IdempotentWriteMetaOf(rc, "SetAgentAvailability", *req), req->agent_id(),
                req->available(), static_cast<domain::AssignMode>(req->reassign())));
        ToProto(out, resp);
        return absl::OkStatus();
      });
}

}  // namespace crm::service_desk::api

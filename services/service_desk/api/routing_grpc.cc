// The routing rules' RPCs of ServiceDeskGrpcService and their proto mapping.
#include <string>
#include <utility>

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/service_desk/api/grpc_service.h"

namespace crm::service_desk::api {

std::vector<domain::RoutingCondition> ConditionsOf(
    const google::protobuf::RepeatedPtrField<v1::RoutingCondition>& in) {
  std::vector<domain::RoutingCondition> out;
  for (const v1::RoutingCondition& c : in) {
    out.push_back(
        {c.field(), c.match(), std::vector<std::string>(c.values().begin(), c.values().end())});
  }
  return out;
}

void ToProto(const std::vector<domain::RoutingCondition>& in,
             google::protobuf::RepeatedPtrField<v1::RoutingCondition>* out) {
  for (const domain::RoutingCondition& c : in) {
    v1::RoutingCondition* cond = out->Add();
    cond->set_field(c.field);
    cond->set_match(c.op);
    for (const std::string& v : c.values) cond->add_values(v);
  }
}

domain::RoutingRules FromProto(const v1::RoutingRules& in) {
  domain::RoutingRules out;
  for (const v1::RoutingRule& r : in.rules()) {
    domain::RoutingRule rule;
    rule.name = r.name();
    rule.conditions = ConditionsOf(r.conditions());
    rule.action.queue = r.action().queue();
    if (r.action().priority() != v1::TICKET_PRIORITY_UNSPECIFIED &&
        v1::TicketPriority_IsValid(r.action().priority())) {
      rule.action.priority = static_cast<domain::Priority>(r.action().priority());
    }
    rule.action.type = r.action().type();
    rule.action.add_tags.assign(r.action().add_tags().begin(), r.action().add_tags().end());
    rule.action.assign = static_cast<domain::AssignMode>(r.action().assign());
    rule.action.skills.assign(r.action().skills().begin(), r.action().skills().end());
    out.rules.push_back(std::move(rule));
  }
  return out;
}

void ToProto(const domain::RoutingRules& in, v1::RoutingRules* out) {
  for (const domain::RoutingRule& r : in.rules) {
    v1::RoutingRule* rule = out->add_rules();
    rule->set_name(r.name);
    ToProto(r.conditions, rule->mutable_conditions());
    rule->mutable_action()->set_queue(r.action.queue);
    if (r.action.priority) {
      rule->mutable_action()->set_priority(static_cast<v1::TicketPriority>(*r.action.priority));
    }
    rule->mutable_action()->set_type(r.action.type);
    for (const std::string& t : r.action.add_tags) rule->mutable_action()->add_add_tags(t);
    rule->mutable_action()->set_assign(static_cast<v1::AssignMode>(r.action.assign));
    for (const std::string& k : r.action.skills) rule->mutable_action()->add_skills(k);
  }
  out->set_etag(std::to_string(in.version));
  if (in.version > 0) grpcutil::ToTimestamp(in.update_time, out->mutable_update_time());
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetRoutingRules(grpc::CallbackServerContext* ctx,
                                                                  const v1::GetRoutingRulesRequest*,
                                                                  v1::RoutingRules* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "GetRoutingRules", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::RoutingRules r, routing_.Get(rc.tenant_id));
        ToProto(r, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UpdateRoutingRules(
    grpc::CallbackServerContext* ctx, const v1::UpdateRoutingRulesRequest* req,
    v1::RoutingRules* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "UpdateRoutingRules", [=](const grpcutil::RequestContext& rc) {
        for (int i = 0; i < req->rules().rules_size(); ++i) {
          if (!v1::TicketPriority_IsValid(req->rules().rules(i).action().priority())) {
            return common::InvalidField(
                "rules[" + std::to_string(i) + "].action.priority",
                "rules[" + std::to_string(i) + "].action.priority is not a priority");
          }
          if (!v1::AssignMode_IsValid(req->rules().rules(i).action().assign())) {
            return common::InvalidField(
                "rules[" + std::to_string(i) + "].action.assign",
                "rules[" + std::to_string(i) + "].action.assign is not an assign mode");
          }
        }
        const std::string if_match = req->etag().empty() ? req->rules().etag() : req->etag();
        CRM_ASSIGN_OR_RETURN(
            domain::RoutingRules out,
            routing_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateRoutingRules", *req),
                            FromProto(req->rules()), if_match));
        ToProto(out, resp);
        return absl::OkStatus();
      });
}

}  // namespace crm::service_desk::api

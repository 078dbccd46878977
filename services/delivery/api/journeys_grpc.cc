// The journey RPCs of DeliveryGrpcService.
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

using domain::StepKind;
using grpcutil::Offload;
using grpcutil::RequestContext;

v1::JourneyState ProtoState(domain::JourneyState s) {
  switch (s) {
    case domain::JourneyState::kDraft:
      return v1::JOURNEY_STATE_DRAFT;
    case domain::JourneyState::kActive:
      return v1::JOURNEY_STATE_ACTIVE;
    case domain::JourneyState::kPaused:
      return v1::JOURNEY_STATE_PAUSED;
    case domain::JourneyState::kArchived:
      return v1::JOURNEY_STATE_ARCHIVED;
  }
  return v1::JOURNEY_STATE_UNSPECIFIED;
}

v1::EnrollmentState ProtoState(domain::EnrollmentState s) {
  switch (s) {
    case domain::EnrollmentState::kActive:
      return v1::ENROLLMENT_STATE_ACTIVE;
    case domain::EnrollmentState::kCompleted:
      return v1::ENROLLMENT_STATE_COMPLETED;
    case domain::EnrollmentState::kGoalReached:
      return v1::ENROLLMENT_STATE_GOAL_REACHED;
    case domain::EnrollmentState::kExited:
      return v1::ENROLLMENT_STATE_EXITED;
  }
  return v1::ENROLLMENT_STATE_UNSPECIFIED;
}

void ToProto(const domain::JourneyEvent& e, v1::JourneyEvent* out) {
  out->set_kind(TriggerKindToProto(e.kind));
  out->set_segment_id(e.segment_id);
}

absl::StatusOr<domain::JourneyEvent> FromProto(const v1::JourneyEvent& in,
                                               const std::string& field) {
  domain::JourneyEvent e;
  CRM_ASSIGN_OR_RETURN(e.kind, TriggerKindFromProto(in.kind(), absl::StrCat(field, ".kind")));
  e.segment_id = in.segment_id();
  return e;
}

void ToProto(const domain::JourneyStep& s, v1::JourneyStep* out) {
  out->set_step_id(s.id);
  out->set_next_step_id(s.next);
  auto send = [&](v1::SendStep* x) {
    x->set_channel(ChannelToProto(s.channel));
    x->set_purpose(s.purpose == domain::Purpose::kMarketing ? v1::PURPOSE_MARKETING
                                                            : v1::PURPOSE_TRANSACTIONAL);
    x->set_template_id(s.template_id);
    x->set_endpoint_id(s.endpoint_id);
    x->set_offer_count(s.offer_count);
  };
  switch (s.kind) {
    case StepKind::kWait:
      out->mutable_wait()->set_duration_seconds(absl::ToInt64Seconds(s.duration));
      break;
    case StepKind::kWaitForEvent: {
      v1::WaitForEventStep* w = out->mutable_wait_for_event();
      ToProto(s.event, w->mutable_event());
      w->set_timeout_seconds(absl::ToInt64Seconds(s.duration));
      w->set_on_event_step_id(s.on_event);
      break;
    }
    case StepKind::kCondition:
      out->mutable_condition()->set_expression(s.expression);
      out->mutable_condition()->set_else_step_id(s.on_false);
      break;
    case StepKind::kSend:
      send(out->mutable_send());
      break;
    case StepKind::kOffer:
      send(out->mutable_offer());
      break;
    case StepKind::kUpdateAttribute: {
      v1::UpdateAttributeStep* u = out->mutable_update_attribute();
      u->set_attribute(s.attribute);
      v1::JourneyAttributeValue* v = u->mutable_value();
      switch (s.value.type) {
        case domain::AttributeValue::Type::kString:
          v->set_string_value(s.value.string_value);
          break;
        case domain::AttributeValue::Type::kInt:
          v->set_int_value(s.value.int_value);
          break;
        case domain::AttributeValue::Type::kDouble:
          v->set_double_value(s.value.double_value);
          break;
        case domain::AttributeValue::Type::kBool:
          v->set_bool_value(s.value.bool_value);
          break;
      }
      break;
    }
    case StepKind::kExit:
      out->mutable_exit();
      break;
  }
}

absl::StatusOr<domain::JourneyStep> FromProto(const v1::JourneyStep& in) {
  domain::JourneyStep s;
  s.id = in.step_id();
  s.next = in.next_step_id();
  auto send = [&](const v1::SendStep& x, const char* field) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(std::optional<domain::Channel> channel, ChannelFromProto(x.channel()));
    if (!channel) {
      return common::InvalidField(absl::StrCat(field, ".channel"), "a send step names its channel");
    }
    s.channel = *channel;
    CRM_ASSIGN_OR_RETURN(s.purpose, PurposeFromProto(x.purpose(), absl::StrCat(field, ".purpose")));
    s.template_id = x.template_id();
    s.endpoint_id = x.endpoint_id();
    s.offer_count = x.offer_count();
    return absl::OkStatus();
  };
  switch (in.action_case()) {
    case v1::JourneyStep::kWait:
      s.kind = StepKind::kWait;
      s.duration = absl::Seconds(in.wait().duration_seconds());
      break;
    case v1::JourneyStep::kWaitForEvent: {
      s.kind = StepKind::kWaitForEvent;
      CRM_ASSIGN_OR_RETURN(s.event,
                           FromProto(in.wait_for_event().event(), "steps.wait_for_event.event"));
      s.duration = absl::Seconds(in.wait_for_event().timeout_seconds());
      s.on_event = in.wait_for_event().on_event_step_id();
      break;
    }
    case v1::JourneyStep::kCondition:
      s.kind = StepKind::kCondition;
      s.expression = in.condition().expression();
      s.on_false = in.condition().else_step_id();
      break;
    case v1::JourneyStep::kSend:
      s.kind = StepKind::kSend;
      CRM_RETURN_IF_ERROR(send(in.send(), "steps.send"));
      break;
    case v1::JourneyStep::kOffer:
      s.kind = StepKind::kOffer;
      CRM_RETURN_IF_ERROR(send(in.offer(), "steps.offer"));
      if (s.offer_count == 0) s.offer_count = 1;
      break;
    case v1::JourneyStep::kUpdateAttribute: {
      s.kind = StepKind::kUpdateAttribute;
      s.attribute = in.update_attribute().attribute();
      const v1::JourneyAttributeValue& v = in.update_attribute().value();
      switch (v.value_case()) {
        case v1::JourneyAttributeValue::kStringValue:
          s.value.type = domain::AttributeValue::Type::kString;
          s.value.string_value = v.string_value();
          break;
        case v1::JourneyAttributeValue::kIntValue:
          s.value.type = domain::AttributeValue::Type::kInt;
          s.value.int_value = v.int_value();
          break;
        case v1::JourneyAttributeValue::kDoubleValue:
          s.value.type = domain::AttributeValue::Type::kDouble;
          s.value.double_value = v.double_value();
          break;
        case v1::JourneyAttributeValue::kBoolValue:
          s.value.type = domain::AttributeValue::Type::kBool;
          s.value.bool_value = v.bool_value();
          break;
        default:
          return common::InvalidField("steps.update_attribute.value",
                                      "the value is a string, int, double or bool value");
      }
      break;
    }
    case v1::JourneyStep::kExit:
      s.kind = StepKind::kExit;
      break;
    default:
      return common::InvalidField(
          "steps", absl::StrCat("step \"", in.step_id(),
                                "\" has no action: wait, wait_for_event, condition, send, offer, "
                                "update_attribute or exit"));
  }
  return s;
}

void ToProto(const domain::Journey& j, v1::Journey* out) {
  out->set_journey_id(j.id);
  out->set_name(j.name);
  if (j.trigger.kind != domain::TriggerKind::kNone) ToProto(j.trigger, out->mutable_trigger());
  out->set_reentry(j.reentry == domain::JourneyReentry::kOnce ? v1::JOURNEY_REENTRY_ONCE
                                                              : v1::JOURNEY_REENTRY_AFTER_EXIT);
  if (j.goal.kind != domain::TriggerKind::kNone) ToProto(j.goal, out->mutable_goal());
  for (const domain::JourneyStep& s : j.steps) ToProto(s, out->add_steps());
  out->set_state(ProtoState(j.state));
  out->set_version(j.version);
  out->set_etag(absl::StrCat(j.version));
  if (j.activated_time) grpcutil::ToTimestamp(*j.activated_time, out->mutable_activated_time());
  if (j.archived_time) grpcutil::ToTimestamp(*j.archived_time, out->mutable_archived_time());
  grpcutil::ToTimestamp(j.create_time, out->mutable_create_time());
  grpcutil::ToTimestamp(j.update_time, out->mutable_update_time());
}

absl::StatusOr<domain::Journey> FromProto(const v1::Journey& in) {
  if (!in.journey_id().empty()) {
    return common::InvalidField("journey_id", "journey_id is output only");
  }
  domain::Journey j;
  j.name = in.name();
  CRM_ASSIGN_OR_RETURN(j.trigger, FromProto(in.trigger(), "trigger"));
  CRM_ASSIGN_OR_RETURN(j.goal, FromProto(in.goal(), "goal"));
  switch (in.reentry()) {
    case v1::JOURNEY_REENTRY_UNSPECIFIED:
    case v1::JOURNEY_REENTRY_ONCE:
      j.reentry = domain::JourneyReentry::kOnce;
      break;
    case v1::JOURNEY_REENTRY_AFTER_EXIT:
      j.reentry = domain::JourneyReentry::kAfterExit;
      break;
    default:
      return common::InvalidField("reentry",
                                  "reentry is JOURNEY_REENTRY_ONCE or JOURNEY_REENTRY_AFTER_EXIT");
  }
  for (const v1::JourneyStep& s : in.steps()) {
    CRM_ASSIGN_OR_RETURN(domain::JourneyStep step, FromProto(s));
    j.steps.push_back(std::move(step));
  }
  return j;
}

void ToProto(const domain::Enrollment& e, v1::JourneyEnrollment* out) {
  out->set_enrollment_id(e.id);
  out->set_journey_id(e.journey_id);
  out->set_customer_id(e.customer_id);
  out->set_state(ProtoState(e.state));
  out->set_step_id(e.step_id);
  if (e.state == domain::EnrollmentState::kActive) {
    grpcutil::ToTimestamp(e.due_time, out->mutable_due_time());
  }
  out->set_waiting_for_event(e.waiting_for_event);
  out->set_exit_reason(e.exit_reason);
  out->set_last_error(e.last_error);
  grpcutil::ToTimestamp(e.enter_time, out->mutable_enter_time());
  if (e.end_time) grpcutil::ToTimestamp(*e.end_time, out->mutable_end_time());
  out->set_entry(e.entry);
}

// The journey actions share one shape.
grpc::ServerUnaryReactor* JourneyAction(grpc::CallbackServerContext* ctx,
                                        common::Executor& executor, grpcutil::RpcMetrics& metrics,
                                        const char* method, app::Journeys& journeys,
                                        const v1::JourneyActionRequest* req,
                                        domain::JourneyAction action, v1::Journey* resp) {
  return Offload(ctx, executor, metrics, method, [=, &journeys](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(
        domain::Journey j,
        journeys.Act(grpcutil::IdempotentWriteMetaOf(rc, method, *req), req->journey_id(), action));
    ToProto(j, resp);
    return absl::OkStatus();
  });
}

}  // namespace

grpc::ServerUnaryReactor* DeliveryGrpcService::CreateJourney(grpc::CallbackServerContext* ctx,
                                                             const v1::CreateJourneyRequest* req,
                                                             v1::Journey* resp) {
  return Offload(ctx, executor_, metrics_, "CreateJourney", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Journey draft, FromProto(req->journey()));
    CRM_ASSIGN_OR_RETURN(domain::Journey j, journeys_.Create(grpcutil::IdempotentWriteMetaOf(
                                                                 rc, "CreateJourney", *req),
                                                             std::move(draft)));
    ToProto(j, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::GetJourney(grpc::CallbackServerContext* ctx,
                                                          const v1::GetJourneyRequest* req,
                                                          v1::Journey* resp) {
  return Offload(ctx, executor_, metrics_, "GetJourney", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::Journey j, journeys_.Get(rc.tenant_id, req->journey_id()));
    ToProto(j, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ListJourneys(grpc::CallbackServerContext* ctx,
                                                            const v1::ListJourneysRequest*,
                                                            v1::ListJourneysResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListJourneys", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(std::vector<domain::Journey> all, journeys_.List(rc.tenant_id));
    for (const domain::Journey& j : all) ToProto(j, resp->add_journeys());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::UpdateJourney(grpc::CallbackServerContext* ctx,
                                                             const v1::UpdateJourneyRequest* req,
                                                             v1::Journey* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateJourney", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Journey draft, FromProto(req->journey()));
    CRM_ASSIGN_OR_RETURN(
        domain::Journey j,
        journeys_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateJourney", *req),
                         req->journey_id(), std::move(draft), req->journey().etag()));
    ToProto(j, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ActivateJourney(grpc::CallbackServerContext* ctx,
                                                               const v1::JourneyActionRequest* req,
                                                               v1::Journey* resp) {
  return JourneyAction(ctx, executor_, metrics_, "ActivateJourney", journeys_, req,
                       domain::JourneyAction::kActivate, resp);
}
grpc::ServerUnaryReactor* DeliveryGrpcService::PauseJourney(grpc::CallbackServerContext* ctx,
                                                            const v1::JourneyActionRequest* req,
                                                            v1::Journey* resp) {
  return JourneyAction(ctx, executor_, metrics_, "PauseJourney", journeys_, req,
                       domain::JourneyAction::kPause, resp);
}
grpc::ServerUnaryReactor* DeliveryGrpcService::ResumeJourney(grpc::CallbackServerContext* ctx,
                                                             const v1::JourneyActionRequest* req,
                                                             v1::Journey* resp) {
  return JourneyAction(ctx, executor_, metrics_, "ResumeJourney", journeys_, req,
                       domain::JourneyAction::kResume, resp);
}
grpc::ServerUnaryReactor* DeliveryGrpcService::ArchiveJourney(grpc::CallbackServerContext* ctx,
                                                              const v1::JourneyActionRequest* req,
                                                              v1::Journey* resp) {
  return JourneyAction(ctx, executor_, metrics_, "ArchiveJourney", journeys_, req,
                       domain::JourneyAction::kArchive, resp);
}

grpc::ServerUnaryReactor* DeliveryGrpcService::EnrollCustomer(grpc::CallbackServerContext* ctx,
                                                              const v1::EnrollCustomerRequest* req,
                                                              v1::JourneyEnrollment* resp) {
  return Offload(ctx, executor_, metrics_, "EnrollCustomer", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(
        domain::Enrollment e,
        journeys_.Enroll(grpcutil::IdempotentWriteMetaOf(rc, "EnrollCustomer", *req),
                         req->journey_id(), req->customer_id()));
    ToProto(e, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::ListJourneyEnrollments(
    grpc::CallbackServerContext* ctx, const v1::ListJourneyEnrollmentsRequest* req,
    v1::ListJourneyEnrollmentsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListJourneyEnrollments", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(std::vector<app::EnrollmentView> all,
                         journeys_.Enrollments(rc.tenant_id, req->journey_id(), req->customer_id(),
                                               req->page_size()));
    for (const app::EnrollmentView& v : all) {
      v1::JourneyEnrollment* x = resp->add_enrollments();
      ToProto(v.enrollment, x);
      for (const app::StepVisit& s : v.visits) {
        v1::JourneyStepVisit* y = x->add_steps();
        y->set_seq(s.seq);
        y->set_step_id(s.step_id);
        grpcutil::ToTimestamp(s.enter_time, y->mutable_enter_time());
      }
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcService::GetJourneyResults(
    grpc::CallbackServerContext* ctx, const v1::GetJourneyResultsRequest* req,
    v1::JourneyResults* resp) {
  return Offload(ctx, executor_, metrics_, "GetJourneyResults", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(app::JourneyResults r, journeys_.Results(rc.tenant_id, req->journey_id()));
    ToProto(r.journey, resp->mutable_journey());
    int64_t enrolled = 0;
    for (const auto& [state, n] : r.counts.by_state) enrolled += n;
    resp->set_enrolled(enrolled);
    resp->mutable_enrollments()->insert(r.counts.by_state.begin(), r.counts.by_state.end());
    resp->mutable_exit_reasons()->insert(r.counts.by_exit_reason.begin(),
                                         r.counts.by_exit_reason.end());
    for (const domain::JourneyStep& s : r.journey.steps) {
      v1::JourneyStepResults* x = resp->add_steps();
      x->set_step_id(s.id);
      auto entered = r.counts.entered.find(s.id);
      if (entered != r.counts.entered.end()) x->set_entered(entered->second);
      auto waiting = r.counts.waiting.find(s.id);
      if (waiting != r.counts.waiting.end()) x->set_waiting(waiting->second);
      auto messages = r.counts.messages.find(s.id);
      if (messages != r.counts.messages.end()) {
        x->mutable_messages()->insert(messages->second.begin(), messages->second.end());
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace crm::delivery::api

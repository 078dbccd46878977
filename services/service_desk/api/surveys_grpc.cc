// The satisfaction surveys' RPCs of ServiceDeskGrpcService and their proto
// mapping.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/service_desk/api/grpc_service.h"

namespace crm::service_desk::api {
namespace {

domain::SurveySettings FromProto(const v1::SurveySettings& in) {
  domain::SurveySettings s;
  s.csat_enabled = in.csat_enabled();
  if (in.has_csat_delay_seconds()) {
    // Clamped to what NormalizeAndValidate refuses: no overflow on the way.
    s.csat_delay = absl::Seconds(std::clamp<int64_t>(
        in.csat_delay_seconds(), -1, absl::ToInt64Seconds(domain::kMaxCsatDelay) + 1));
  }
  s.cooldown_days = in.cooldown_days();
  s.subject = in.subject();
  s.body = in.body();
  s.reopen_below = in.reopen_below();
  s.nps_enabled = in.nps_enabled();
  if (in.nps_every_days() != 0) s.nps_every_days = in.nps_every_days();
  s.nps_subject = in.nps_subject();
  s.nps_body = in.nps_body();
  return s;
}

void ToProto(const domain::SurveySettings& s, v1::SurveySettings* out) {
  out->set_csat_enabled(s.csat_enabled);
  out->set_csat_delay_seconds(absl::ToInt64Seconds(s.csat_delay));
  out->set_cooldown_days(s.cooldown_days);
  out->set_subject(s.subject);
  out->set_body(s.body);
  out->set_reopen_below(s.reopen_below);
  out->set_nps_enabled(s.nps_enabled);
  out->set_nps_every_days(s.nps_every_days);
  out->set_nps_subject(s.nps_subject);
  out->set_nps_body(s.nps_body);
  out->set_etag(absl::StrCat(s.version));
  if (s.version > 0) grpcutil::ToTimestamp(s.update_time, out->mutable_update_time());
}

void ToProto(const domain::SurveyFigures& f, v1::SurveyFigures* out) {
  out->set_value(f.counts.value);
  out->set_sent(f.counts.sent);
  out->set_answered(f.counts.answered);
  out->set_satisfied(f.counts.satisfied);
  out->set_response_rate(f.response_rate);
  out->set_csat(f.csat);
  out->set_average(f.average);
}

void ToProto(const domain::NpsFigures& f, v1::NpsFigures* out) {
  out->set_month(f.counts.month);
  out->set_sent(f.counts.sent);
  out->set_answered(f.counts.answered);
  out->set_promoters(f.counts.promoters);
  out->set_passives(f.passives);
  out->set_detractors(f.counts.detractors);
  out->set_response_rate(f.response_rate);
  out->set_score(f.score);
}

}  // namespace

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetSurveySettings(
    grpc::CallbackServerContext* ctx, const v1::GetSurveySettingsRequest*,
    v1::SurveySettings* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "GetSurveySettings", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::SurveySettings s, surveys_.GetSettings(rc.tenant_id));
        ToProto(s, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UpdateSurveySettings(
    grpc::CallbackServerContext* ctx, const v1::UpdateSurveySettingsRequest* req,
    v1::SurveySettings* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "UpdateSurveySettings", [=](const grpcutil::RequestContext& rc) {
        const std::string if_match = req->etag().empty() ? req->settings().etag() : req->etag();
        CRM_ASSIGN_OR_RETURN(domain::SurveySettings out,
                             surveys_.UpdateSettings(
                                 grpcutil::IdempotentWriteMetaOf(rc, "UpdateSurveySettings", *req),
                                 FromProto(req->settings()), if_match));
        ToProto(out, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::AnswerSurvey(grpc::CallbackServerContext* ctx,
                                                               const v1::AnswerSurveyRequest* req,
                                                               v1::AnswerSurveyResponse* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "AnswerSurvey", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Survey s,
                             surveys_.Answer(rc.tenant_id, req->token(), req->rating(),
                                             req->reason(), req->comment()));
        resp->set_rating(s.rating);
        grpcutil::ToTimestamp(s.answer_time, resp->mutable_answer_time());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetSurveyReport(
    grpc::CallbackServerContext* ctx, const v1::GetSurveyReportRequest* req,
    v1::SurveyReport* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "GetSurveyReport", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::SurveyReport r, surveys_.Report(rc.tenant_id, req->days()));
        grpcutil::ToTimestamp(r.from, resp->mutable_from_time());
        grpcutil::ToTimestamp(r.to, resp->mutable_to_time());
        ToProto(r.total, resp->mutable_total());
        for (const domain::SurveyFigures& f : r.by_agent) ToProto(f, resp->add_by_agent());
        for (const domain::SurveyFigures& f : r.by_channel) ToProto(f, resp->add_by_channel());
        for (const domain::SurveyFigures& f : r.by_queue) ToProto(f, resp->add_by_queue());
        for (const domain::SurveyFigures& f : r.by_intent) ToProto(f, resp->add_by_intent());
        for (const domain::SurveyFigures& f : r.by_answered_by) {
          ToProto(f, resp->add_by_answered_by());
        }
        ToProto(r.nps, resp->mutable_nps());
        for (const domain::NpsFigures& f : r.nps_by_month) ToProto(f, resp->add_nps_by_month());
        return absl::OkStatus();
      });
}

}  // namespace crm::service_desk::api

#include "services/segmentation/api/grpc_service.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"

namespace crm::segmentation::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

void ToProto(const domain::BgNbdParams& p, v1::BgNbdParameters* out) {
  out->set_r(p.r);
  out->set_alpha(p.alpha);
  out->set_a(p.a);
  out->set_b(p.b);
}

void ToProto(const domain::GammaGammaParams& p, v1::GammaGammaParameters* out) {
  out->set_p(p.p);
  out->set_q(p.q);
  out->set_gamma(p.gamma);
}

// "" -> nullopt; else YYYY-MM-DD or INVALID_ARGUMENT naming the field.
absl::StatusOr<std::optional<absl::CivilDay>> DayOf(const std::string& text,
                                                    absl::string_view field) {
  if (text.empty()) return std::optional<absl::CivilDay>();
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) {
    return common::InvalidField(field, "must be a date YYYY-MM-DD");
  }
  return std::optional<absl::CivilDay>(day);
}

absl::StatusOr<absl::CivilDay> RequiredDayOf(const std::string& text, absl::string_view field) {
  CRM_ASSIGN_OR_RETURN(std::optional<absl::CivilDay> day, DayOf(text, field));
  if (!day) return common::InvalidField(field, "is required (YYYY-MM-DD)");
  return *day;
}

}  // namespace

absl::StatusOr<app::ModelSettings> FromProto(const v1::ModelSettings& s) {
  app::ModelSettings out;
  switch (s.time_unit()) {
    case v1::TIME_UNIT_DAYS:
      out.unit = domain::TimeUnit::kDays;
      break;
    case v1::TIME_UNIT_UNSPECIFIED:
    case v1::TIME_UNIT_WEEKS:
      out.unit = domain::TimeUnit::kWeeks;
      break;
    default:
      return common::InvalidField("settings.time_unit", "unknown time unit");
  }
  if (!s.time_zone().empty()) out.time_zone = s.time_zone();
  out.currency_code = s.currency_code();
  return out;
}

void ToProto(const domain::ClvModel& m, v1::ClvModel* out) {
  out->set_as_of(absl::FormatCivilTime(m.as_of));
  out->set_time_unit(m.unit == domain::TimeUnit::kDays ? v1::TIME_UNIT_DAYS : v1::TIME_UNIT_WEEKS);
  out->set_time_zone(m.time_zone);
  out->set_currency_code(m.currency_code);
  ToProto(m.purchases.params, out->mutable_bg_nbd());
  ToProto(m.purchases.standard_errors, out->mutable_bg_nbd_standard_errors());
  out->set_bg_nbd_log_likelihood(m.purchases.log_likelihood);
  ToProto(m.spend.params, out->mutable_gamma_gamma());
  ToProto(m.spend.standard_errors, out->mutable_gamma_gamma_standard_errors());
  out->set_gamma_gamma_log_likelihood(m.spend.log_likelihood);
  out->set_customers(m.purchases.customers);
  out->set_repeat_customers(m.purchases.repeat_customers);
  grpcutil::ToTimestamp(m.fitted_at, out->mutable_fit_time());
}

void ToProto(const app::CustomerScores& s, v1::CustomerScores* out) {
  out->set_customer_id(s.customer_id);
  out->set_as_of(absl::FormatCivilTime(s.as_of));
  out->set_currency_code(s.currency_code);
  out->set_orders(s.orders);
  out->set_monetary(s.monetary);
  if (s.last_purchase) out->set_last_purchase(absl::FormatCivilTime(*s.last_purchase));
  if (s.summary) {
    out->set_frequency(s.summary->x);
    out->set_recency(s.summary->t_x);
    out->set_tenure(s.summary->T);
    out->set_mean_spend(s.summary->m_x);
  }
  if (s.rfm) {
    v1::RfmScore* r = out->mutable_rfm();
    r->set_recency(s.rfm->r);
    r->set_frequency(s.rfm->f);
    r->set_monetary(s.rfm->m);
    r->set_score(s.rfm->score());
    r->set_segment(
        std::string(domain::SegmentName(domain::SegmentOf(s.rfm->r, s.rfm->f, s.rfm->m))));
  }
  out->set_has_model_scores(s.model.has_value());
  out->set_model_absent_reason(s.model_absent_reason);
  if (s.model) {
    out->set_p_alive(s.model->p_alive);
    out->set_churn_risk(s.model->churn_risk);
    out->set_horizon(s.model->horizon);
    out->set_expected_purchases(s.model->expected_purchases);
    out->set_expected_spend(s.model->expected_spend);
    out->set_clv(s.model->clv);
  }
}

void ToProto(const app::RfmSummary& s, v1::RfmSummary* out) {
  out->set_as_of(absl::FormatCivilTime(s.as_of));
  out->set_currency_code(s.currency_code);
  out->set_customers(s.customers);
  for (double b : s.recency) out->add_recency_breakpoints(b);
  for (double b : s.frequency) out->add_frequency_breakpoints(b);
  for (double b : s.monetary) out->add_monetary_breakpoints(b);
  for (const auto& [segment, n] : s.segments) {
    v1::RfmSegmentCount* c = out->add_segments();
    c->set_segment(std::string(domain::SegmentName(segment)));
    c->set_customers(n);
  }
}

void ToProto(const app::Evaluation& e, v1::ClvEvaluation* out) {
  ToProto(e.result.fit.params, out->mutable_bg_nbd());
  out->set_bg_nbd_log_likelihood(e.result.fit.log_likelihood);
  out->set_currency_code(e.currency_code);
  out->set_customers(e.customers);
  for (const domain::HoldoutPoint& p : e.result.points) {
    v1::HoldoutPoint* q = out->add_points();
    q->set_t(p.t);
    q->set_expected_cumulative(p.expected_cumulative);
    q->set_actual_cumulative(p.actual_cumulative);
  }
  out->set_mean_absolute_percentage_error(e.result.mean_absolute_percentage_error);
  out->set_final_relative_error(e.result.final_relative_error);
}

grpc::ServerUnaryReactor* SegmentationGrpcService::GetClvModel(grpc::CallbackServerContext* ctx,
                                                               const v1::GetClvModelRequest*,
                                                               v1::ClvModel* resp) {
  return Offload(ctx, executor_, metrics_, "GetClvModel", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::ClvModel m, models_.GetClv(rc.tenant_id));
    ToProto(m, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::RefitClvModel(
    grpc::CallbackServerContext* ctx, const v1::RefitClvModelRequest* req, v1::ClvModel* resp) {
  return Offload(ctx, executor_, metrics_, "RefitClvModel", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::CheckRequestId(req->request_id()));
    app::RefitRequest r;
    CRM_ASSIGN_OR_RETURN(r.as_of, DayOf(req->as_of(), "as_of"));
    CRM_ASSIGN_OR_RETURN(r.settings, FromProto(req->settings()));
    // In the background past the refits' wait (REFIT_RUNNING); the live
    // segments read the new model when it is made (RefitRuns' callback).
    CRM_ASSIGN_OR_RETURN(
        domain::ClvModel m,
        refits_.Run(grpcutil::IdempotentWriteMetaOf(rc, "RefitClvModel", *req), r));
    ToProto(m, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::EvaluateClvModel(
    grpc::CallbackServerContext* ctx, const v1::EvaluateClvModelRequest* req,
    v1::ClvEvaluation* resp) {
  return Offload(ctx, executor_, metrics_, "EvaluateClvModel", [=](const RequestContext& rc) {
    app::EvaluateRequest r;
    CRM_ASSIGN_OR_RETURN(r.calibration_end,
                         RequiredDayOf(req->calibration_end(), "calibration_end"));
    CRM_ASSIGN_OR_RETURN(r.holdout_end, RequiredDayOf(req->holdout_end(), "holdout_end"));
    CRM_ASSIGN_OR_RETURN(r.settings, FromProto(req->settings()));
    CRM_ASSIGN_OR_RETURN(app::Evaluation e, models_.EvaluateClv(rc.tenant_id, r));
    ToProto(e, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::GetCustomerScores(
    grpc::CallbackServerContext* ctx, const v1::GetCustomerScoresRequest* req,
    v1::CustomerScores* resp) {
  return Offload(ctx, executor_, metrics_, "GetCustomerScores", [=](const RequestContext& rc) {
    if (!common::IsUuid(req->customer_id())) {
      return common::InvalidField("customer_id", "must be a customer id (UUID)");
    }
    CRM_ASSIGN_OR_RETURN(std::optional<absl::CivilDay> as_of, DayOf(req->as_of(), "as_of"));
    if (!(req->horizon() >= 0 && req->horizon() <= 3650)) {
      return common::InvalidField("horizon", "must be between 0 and 3650 (the model's time units)");
    }
    domain::ScoreOptions options;
    options.horizon = req->horizon();
    CRM_ASSIGN_OR_RETURN(app::CustomerScores s,
                         models_.Scores(rc.tenant_id, req->customer_id(), as_of, options));
    ToProto(s, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::GetRfmSummary(
    grpc::CallbackServerContext* ctx, const v1::GetRfmSummaryRequest* req, v1::RfmSummary* resp) {
  return Offload(ctx, executor_, metrics_, "GetRfmSummary", [=](const RequestContext& rc) {
    app::RfmSummaryRequest r;
    CRM_ASSIGN_OR_RETURN(r.as_of, DayOf(req->as_of(), "as_of"));
    CRM_ASSIGN_OR_RETURN(r.settings, FromProto(req->settings()));
    CRM_ASSIGN_OR_RETURN(app::RfmSummary s, models_.Rfm(rc.tenant_id, r));
    ToProto(s, resp);
    return absl::OkStatus();
  });
}

}  // namespace crm::segmentation::api

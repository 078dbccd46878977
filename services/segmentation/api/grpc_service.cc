#include "services/segmentation/api/grpc_service.h"

#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"

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

}  // namespace

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

grpc::ServerUnaryReactor* SegmentationGrpcService::GetClvModel(grpc::CallbackServerContext* ctx,
                                                               const v1::GetClvModelRequest*,
                                                               v1::ClvModel* resp) {
  return Offload(ctx, executor_, metrics_, "GetClvModel", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::ClvModel m, models_.GetClv(rc.tenant_id));
    ToProto(m, resp);
    return absl::OkStatus();
  });
}

}  // namespace crm::segmentation::api

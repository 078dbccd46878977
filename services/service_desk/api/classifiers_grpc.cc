// The classifiers' RPCs of ServiceDeskGrpcService and their proto mapping.
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

void ClassifierToProto(const domain::Classifier& c, v1::Classifier* out) {
  out->set_target(domain::TargetName(c.target));
  out->set_mode(domain::ModeName(c.mode));
  out->set_source(c.source);
  const domain::ClassifierReport& r = c.report;
  v1::ClassifierReport* report = out->mutable_report();
  report->set_examples(r.examples);
  report->set_held_out(r.held_out);
  report->set_labels(r.labels);
  report->set_features(r.features);
  report->set_accuracy(r.accuracy);
  report->set_macro_f1(r.macro_f1);
  for (const domain::ClassReport& k : r.classes) {
    v1::ClassifierClassReport* o = report->add_classes();
    o->set_label(k.label);
    o->set_precision(k.precision);
    o->set_recall(k.recall);
    o->set_f1(k.f1);
    o->set_support(k.support);
  }
  report->set_precision_target(r.precision_target);
  report->set_threshold(r.threshold.threshold);
  report->set_threshold_precision(r.threshold.precision);
  report->set_threshold_coverage(r.threshold.coverage);
  report->set_threshold_reached(r.threshold.reached);
  report->set_train_seconds(r.train_seconds);
  v1::ClassifierDrift* drift = out->mutable_drift();
  drift->set_applied(c.drift.applied);
  drift->set_corrected(c.drift.corrected);
  drift->set_live_precision(c.drift.live_precision);
  drift->set_upper_bound(c.drift.upper_bound);
  drift->set_alarm(c.drift.alarm);
  out->set_etag(absl::StrCat(c.version));
  out->set_trained_by(c.trained_by);
  grpcutil::ToTimestamp(c.train_time, out->mutable_train_time());
  grpcutil::ToTimestamp(c.update_time, out->mutable_update_time());
}

void CountsToProto(const domain::AutoResponseCounts& c, v1::AutoResponseCounts* out) {
  out->set_label(c.label);
  out->set_questions(c.questions);
  out->set_known(c.known);
  out->set_auto_responded(c.auto_responded);
  out->set_wrote_again(c.wrote_again);
}

}  // namespace

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetAutoResponseReport(
    grpc::CallbackServerContext* ctx, const v1::GetAutoResponseReportRequest* req,
    v1::AutoResponseReport* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "GetAutoResponseReport", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::AutoResponseReport r,
                             classifiers_.AutoResponseReport(rc.tenant_id, req->days()));
        grpcutil::ToTimestamp(r.from, resp->mutable_from_time());
        grpcutil::ToTimestamp(r.to, resp->mutable_to_time());
        CountsToProto(r.total, resp->mutable_total());
        resp->set_coverage(r.coverage);
        resp->set_settled(r.settled);
        for (const domain::AutoResponseCounts& c : r.labels) {
          CountsToProto(c, resp->add_labels());
        }
        resp->set_held_out_precision(r.held_out_precision);
        resp->set_held_out_coverage(r.held_out_coverage);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::TrainClassifier(
    grpc::CallbackServerContext* ctx, const v1::TrainClassifierRequest* req, v1::Classifier* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "TrainClassifier", [=](const grpcutil::RequestContext& rc) {
        app::TrainRequest r{req->target(), req->mode(), req->precision_target(),
                            req->examples_ndjson()};
        CRM_ASSIGN_OR_RETURN(domain::Classifier c,
                             classifiers_.Train(grpcutil::WriteMetaOf(rc, "TrainClassifier"), r));
        ClassifierToProto(c, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetClassifier(grpc::CallbackServerContext* ctx,
                                                                const v1::GetClassifierRequest* req,
                                                                v1::Classifier* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "GetClassifier", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Classifier c, classifiers_.Get(rc.tenant_id, req->target()));
        ClassifierToProto(c, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::ListClassifiers(
    grpc::CallbackServerContext* ctx, const v1::ListClassifiersRequest*,
    v1::ListClassifiersResponse* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "ListClassifiers", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(std::vector<domain::Classifier> all, classifiers_.List(rc.tenant_id));
        for (const domain::Classifier& c : all) ClassifierToProto(c, resp->add_classifiers());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UpdateClassifier(
    grpc::CallbackServerContext* ctx, const v1::UpdateClassifierRequest* req,
    v1::Classifier* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "UpdateClassifier", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Classifier c,
                             classifiers_.SetMode(grpcutil::WriteMetaOf(rc, "UpdateClassifier"),
                                                  req->target(), req->mode()));
        ClassifierToProto(c, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::DeleteClassifier(
    grpc::CallbackServerContext* ctx, const v1::DeleteClassifierRequest* req,
    v1::DeleteClassifierResponse*) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "DeleteClassifier", [=](const grpcutil::RequestContext& rc) {
        return classifiers_.Delete(grpcutil::WriteMetaOf(rc, "DeleteClassifier"), req->target());
      });
}

}  // namespace crm::service_desk::api

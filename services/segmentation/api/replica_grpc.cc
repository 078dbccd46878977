#include "services/segmentation/api/replica_grpc.h"

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/unary.h"

namespace crm::segmentation::api {

using grpcutil::Offload;
using grpcutil::RequestContext;

namespace {
constexpr int kMaxSegmentIds = 1000;
}  // namespace

grpc::ServerUnaryReactor* ReplicaGrpcService::GetLocalCounts(grpc::CallbackServerContext* ctx,
                                                             const v1::GetLocalCountsRequest* req,
                                                             v1::GetLocalCountsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "GetLocalCounts", [=](const RequestContext& rc) {
    if (req->segment_ids_size() > kMaxSegmentIds) {
      return common::InvalidField("segment_ids", "at most 1000");
    }
    const std::vector<std::string> ids(req->segment_ids().begin(), req->segment_ids().end());
    CRM_ASSIGN_OR_RETURN(auto counts, segments_.CountsHere(rc.tenant_id, ids, req->sync()));
    for (const std::string& id : ids) {
      v1::LocalCount* c = resp->add_counts();
      c->set_segment_id(id);
      c->set_member_count(static_cast<int64_t>(counts[id]));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaGrpcService::PreviewLocal(grpc::CallbackServerContext* ctx,
                                                           const v1::PreviewLocalRequest* req,
                                                           v1::PreviewLocalResponse* resp) {
  return Offload(ctx, executor_, metrics_, "PreviewLocal", [=](const RequestContext& rc) {
    if (req->expression().empty()) return common::InvalidField("expression", "is required");
    if (req->sample_size() < 1 || req->sample_size() > 100) {
      return common::InvalidField("sample_size", "must be between 1 and 100");
    }
    CRM_ASSIGN_OR_RETURN(app::SegmentPreview p,
                         segments_.PreviewHere(rc.tenant_id, req->expression(), req->sample_size()));
    resp->set_count(static_cast<int64_t>(p.count));
    resp->set_customers(static_cast<int64_t>(p.customers));
    for (const std::string& id : p.sample) resp->add_sample_customer_ids(id);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReplicaGrpcService::MatchLocal(grpc::CallbackServerContext* ctx,
                                                         const v1::MatchLocalRequest* req,
                                                         v1::MatchLocalResponse* resp) {
  return Offload(ctx, executor_, metrics_, "MatchLocal", [=](const RequestContext& rc) {
    const std::vector<std::string> expressions(req->expressions().begin(),
                                               req->expressions().end());
    CRM_ASSIGN_OR_RETURN(auto matches,
                         segments_.MatchHere(rc.tenant_id, req->customer_id(), expressions));
    resp->set_held(matches.has_value());
    if (matches) {
      for (bool m : *matches) resp->add_matches(m);
    }
    return absl::OkStatus();
  });
}

}  // namespace crm::segmentation::api

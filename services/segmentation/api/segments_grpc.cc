// The live-segment RPCs of SegmentationGrpcService.
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/streaming.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/segmentation/api/grpc_service.h"

namespace crm::segmentation::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

constexpr char kSegmentsScope[] = "segments";
constexpr int kExportPage = 1000;

absl::Status CheckId(const std::string& id) {
  if (id.empty()) return common::InvalidField("segment_id", "is required");
  return domain::CheckSegmentId(id).ok()
             ? absl::OkStatus()
             : common::InvalidField("segment_id", "is not a segment id (a-z, 0-9, '_', '-')");
}

absl::StatusOr<std::string> CursorOf(const common::PageTokenCodec& tokens,
                                     const std::string& tenant, const std::string& scope,
                                     const std::string& token) {
  if (token.empty()) return std::string();
  return tokens.Decode(tenant, scope, token);
}

void ToProto(const domain::SegmentationSettings& s, v1::SegmentationSettings* out) {
  out->set_profiling_requires_opt_in(s.profiling_requires_opt_in);
  out->set_time_zone(s.time_zone);
  out->set_behaviour_retention_days(static_cast<int32_t>(s.behaviour_retention_days));
  out->set_etag(domain::EtagOf(s));
  if (s.version > 0) grpcutil::ToTimestamp(s.update_time, out->mutable_update_time());
}

void ToProto(const app::SegmentMember& m, v1::SegmentMember* out) {
  out->set_customer_id(m.customer_id);
  grpcutil::ToTimestamp(m.enter_time, out->mutable_enter_time());
  out->set_segment_version(m.segment_version);
}

// ExportSegmentMembers: pages of kExportPage members, fetched on the
// executor one at a time (the client's reading paces the reads).
class ExportMembersReactor final
    : public grpc::ServerWriteReactor<v1::ExportSegmentMembersResponse> {
 public:
  ExportMembersReactor(grpc::CallbackServerContext* ctx, const v1::ExportSegmentMembersRequest* req,
                       app::LiveSegments& segments, common::Executor& executor,
                       grpcutil::RpcMetrics& metrics)
      : segments_(segments),
        executor_(executor),
        segment_id_(req->segment_id()),
        call_(ctx, metrics, "ExportSegmentMembers") {
    if (absl::Status s = call_.ReadContext(); !s.ok()) {
      call_.Finish(this, s);
      return;
    }
    if (absl::Status s = CheckId(segment_id_); !s.ok()) {
      call_.Finish(this, s);
      return;
    }
    Next();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      call_.Finish(this, absl::CancelledError("the client stopped reading"));
    } else if (after_.empty()) {
      call_.Finish(this, absl::OkStatus());
    } else {
      Next();
    }
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    call_.Offload(this, executor_, [this] { return Page(); },
                  [this](const absl::Status& s) {
                    if (!s.ok()) {
                      call_.Finish(this, s);
                    } else if (response_.members_size() == 0 && after_.empty()) {
                      call_.Finish(this, absl::OkStatus());  // no member at all
                    } else {
                      StartWrite(&response_);
                    }
                  });
  }
  absl::Status Page() {
    response_.Clear();
    CRM_ASSIGN_OR_RETURN(app::MemberPage page, segments_.Members(call_.rc().tenant_id, segment_id_,
                                                                 after_, kExportPage));
    for (const app::SegmentMember& m : page.members) ToProto(m, response_.add_members());
    after_ = page.next_after;
    return absl::OkStatus();
  }

  app::LiveSegments& segments_;
  common::Executor& executor_;
  std::string segment_id_;
  grpcutil::StreamCall call_;
  std::string after_;
  v1::ExportSegmentMembersResponse response_;
};

}  // namespace

void ToProto(const app::SegmentView& v, v1::Segment* out) {
  const domain::SegmentDefinition& d = v.definition;
  out->set_segment_id(d.id);
  out->set_display_name(d.display_name);
  out->set_description(d.description);
  out->set_expression(d.expression);
  out->set_version(d.version);
  out->set_member_count(static_cast<int64_t>(v.member_count));
  for (const std::string& r : d.references) out->add_references(r);
  out->set_reads_time(d.reads_time);
  out->set_etag(domain::EtagOf(d));
  grpcutil::ToTimestamp(d.create_time, out->mutable_create_time());
  grpcutil::ToTimestamp(d.update_time, out->mutable_update_time());
}

grpc::ServerUnaryReactor* SegmentationGrpcService::CreateSegment(
    grpc::CallbackServerContext* ctx, const v1::CreateSegmentRequest* req, v1::Segment* resp) {
  return Offload(ctx, executor_, metrics_, "CreateSegment", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    domain::SegmentDefinition d;
    d.id = req->segment().segment_id();
    d.display_name = req->segment().display_name();
    d.description = req->segment().description();
    d.expression = req->segment().expression();
    CRM_ASSIGN_OR_RETURN(
        app::SegmentView v,
        segments_.Create(grpcutil::IdempotentWriteMetaOf(rc, "CreateSegment", *req), std::move(d)));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::GetSegment(grpc::CallbackServerContext* ctx,
                                                              const v1::GetSegmentRequest* req,
                                                              v1::Segment* resp) {
  return Offload(ctx, executor_, metrics_, "GetSegment", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckId(req->segment_id()));
    CRM_ASSIGN_OR_RETURN(app::SegmentView v, segments_.Get(rc.tenant_id, req->segment_id()));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::ListSegments(
    grpc::CallbackServerContext* ctx, const v1::ListSegmentsRequest* req,
    v1::ListSegmentsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListSegments", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(int size, common::ClampPageSize(req->page_size(), 50, 200));
    CRM_ASSIGN_OR_RETURN(std::string after,
                         CursorOf(tokens_, rc.tenant_id, kSegmentsScope, req->page_token()));
    CRM_ASSIGN_OR_RETURN(std::vector<app::SegmentView> page,
                         segments_.List(rc.tenant_id, after, size + 1));
    const bool more = static_cast<int>(page.size()) > size;
    if (more) page.resize(size);
    for (const app::SegmentView& v : page) ToProto(v, resp->add_segments());
    if (more) {
      resp->set_next_page_token(
          tokens_.Encode(rc.tenant_id, kSegmentsScope, page.back().definition.id));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::UpdateSegment(
    grpc::CallbackServerContext* ctx, const v1::UpdateSegmentRequest* req, v1::Segment* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateSegment", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_RETURN_IF_ERROR(CheckId(req->segment_id()));
    const v1::Segment& s = req->segment();
    std::vector<std::string> paths;
    if (req->has_update_mask()) {
      paths.assign(req->update_mask().paths().begin(), req->update_mask().paths().end());
    } else {
      if (!s.display_name().empty()) paths.emplace_back("display_name");
      if (!s.description().empty()) paths.emplace_back("description");
      if (!s.expression().empty()) paths.emplace_back("expression");
    }
    domain::SegmentPatch patch;
    for (const std::string& p : paths) {
      if (p == "display_name" || p == "displayName") {
        patch.display_name = s.display_name();
      } else if (p == "description") {
        patch.description = s.description();
      } else if (p == "expression") {
        patch.expression = s.expression();
      } else {
        return common::InvalidField(
            "update_mask", absl::StrCat("\"", p,
                                        "\" cannot be changed (display_name, description, "
                                        "expression can)"));
      }
    }
    const std::string if_match = req->etag().empty() ? s.etag() : req->etag();
    CRM_ASSIGN_OR_RETURN(
        app::SegmentView v,
        segments_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateSegment", *req),
                         req->segment_id(), patch, if_match));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::DeleteSegment(
    grpc::CallbackServerContext* ctx, const v1::DeleteSegmentRequest* req,
    v1::DeleteSegmentResponse*) {
  return Offload(ctx, executor_, metrics_, "DeleteSegment", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_RETURN_IF_ERROR(CheckId(req->segment_id()));
    return segments_.Delete(grpcutil::IdempotentWriteMetaOf(rc, "DeleteSegment", *req),
                            req->segment_id(), req->etag());
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::PreviewSegment(
    grpc::CallbackServerContext* ctx, const v1::PreviewSegmentRequest* req,
    v1::SegmentPreview* resp) {
  return Offload(ctx, executor_, metrics_, "PreviewSegment", [=](const RequestContext& rc) {
    if (req->expression().empty()) return common::InvalidField("expression", "is required");
    if (req->sample_size() < 0 || req->sample_size() > 100) {
      return common::InvalidField("sample_size", "must be between 0 (10) and 100");
    }
    CRM_ASSIGN_OR_RETURN(app::SegmentPreview p,
                         segments_.Preview(rc.tenant_id, req->expression(),
                                           req->sample_size() == 0 ? 10 : req->sample_size()));
    resp->set_count(static_cast<int64_t>(p.count));
    resp->set_customers(static_cast<int64_t>(p.customers));
    for (const std::string& id : p.sample) resp->add_sample_customer_ids(id);
    for (const std::string& r : p.references) resp->add_references(r);
    resp->set_reads_time(p.reads_time);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::MatchCustomer(
    grpc::CallbackServerContext* ctx, const v1::MatchCustomerRequest* req,
    v1::MatchCustomerResponse* resp) {
  return Offload(ctx, executor_, metrics_, "MatchCustomer", [=](const RequestContext& rc) {
    constexpr int kMaxExpressions = 50;
    if (!common::IsUuid(req->customer_id())) {
      return common::InvalidField("customer_id", "must be a customer id (UUID)");
    }
    if (req->expressions().empty() || req->expressions_size() > kMaxExpressions) {
      return common::InvalidField("expressions", "expressions must list 1 to 50 expressions");
    }
    const std::vector<std::string> expressions(req->expressions().begin(),
                                               req->expressions().end());
    CRM_ASSIGN_OR_RETURN(std::vector<bool> matches,
                         segments_.Match(rc.tenant_id, req->customer_id(), expressions));
    for (bool m : matches) resp->add_matches(m);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::ListSegmentMembers(
    grpc::CallbackServerContext* ctx, const v1::ListSegmentMembersRequest* req,
    v1::ListSegmentMembersResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListSegmentMembers", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckId(req->segment_id()));
    CRM_ASSIGN_OR_RETURN(int size, common::ClampPageSize(req->page_size(), 100, 1000));
    const std::string scope = absl::StrCat("members/", req->segment_id());
    CRM_ASSIGN_OR_RETURN(std::string after,
                         CursorOf(tokens_, rc.tenant_id, scope, req->page_token()));
    CRM_ASSIGN_OR_RETURN(app::MemberPage page,
                         segments_.Members(rc.tenant_id, req->segment_id(), after, size));
    for (const app::SegmentMember& m : page.members) ToProto(m, resp->add_members());
    if (!page.next_after.empty()) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, scope, page.next_after));
    }
    resp->set_member_count(static_cast<int64_t>(page.member_count));
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::ExportSegmentMembersResponse>*
SegmentationGrpcService::ExportSegmentMembers(grpc::CallbackServerContext* ctx,
                                              const v1::ExportSegmentMembersRequest* req) {
  return new ExportMembersReactor(ctx, req, segments_, executor_, metrics_);
}

grpc::ServerUnaryReactor* SegmentationGrpcService::GetCustomerSegments(
    grpc::CallbackServerContext* ctx, const v1::GetCustomerSegmentsRequest* req,
    v1::CustomerSegments* resp) {
  return Offload(ctx, executor_, metrics_, "GetCustomerSegments", [=](const RequestContext& rc) {
    if (!common::IsUuid(req->customer_id())) {
      return common::InvalidField("customer_id", "must be a customer id (UUID)");
    }
    CRM_ASSIGN_OR_RETURN(std::vector<app::CustomerSegment> segments,
                         segments_.SegmentsOf(rc.tenant_id, req->customer_id()));
    resp->set_customer_id(req->customer_id());
    for (const app::CustomerSegment& s : segments) {
      v1::CustomerSegment* out = resp->add_segments();
      out->set_segment_id(s.segment_id);
      out->set_display_name(s.display_name);
      grpcutil::ToTimestamp(s.enter_time, out->mutable_enter_time());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::GetSegmentationSettings(
    grpc::CallbackServerContext* ctx, const v1::GetSegmentationSettingsRequest*,
    v1::SegmentationSettings* resp) {
  return Offload(
      ctx, executor_, metrics_, "GetSegmentationSettings", [=](const RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::SegmentationSettings s, segments_.GetSettings(rc.tenant_id));
        ToProto(s, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SegmentationGrpcService::UpdateSegmentationSettings(
    grpc::CallbackServerContext* ctx, const v1::UpdateSegmentationSettingsRequest* req,
    v1::SegmentationSettings* resp) {
  return Offload(
      ctx, executor_, metrics_, "UpdateSegmentationSettings", [=](const RequestContext& rc) {
        CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
        std::vector<std::string> paths{"profiling_requires_opt_in"};
        if (!req->settings().time_zone().empty()) paths.emplace_back("time_zone");
        if (req->has_update_mask()) {
          paths.assign(req->update_mask().paths().begin(), req->update_mask().paths().end());
        }
        domain::SettingsPatch patch;
        for (const std::string& p : paths) {
          if (p == "profiling_requires_opt_in" || p == "profilingRequiresOptIn") {
            patch.profiling_requires_opt_in = req->settings().profiling_requires_opt_in();
          } else if (p == "time_zone" || p == "timeZone") {
            patch.time_zone = req->settings().time_zone();
          } else {
            return common::InvalidField(
                "update_mask",
                absl::StrCat("\"", p,
                             "\" cannot be changed (profiling_requires_opt_in, time_zone can)"));
          }
        }
        const std::string if_match = req->etag().empty() ? req->settings().etag() : req->etag();
        CRM_ASSIGN_OR_RETURN(domain::SegmentationSettings s,
                             segments_.UpdateSettings(grpcutil::IdempotentWriteMetaOf(
                                                          rc, "UpdateSegmentationSettings", *req),
                                                      patch, if_match));
        ToProto(s, resp);
        return absl::OkStatus();
      });
}

}  // namespace crm::segmentation::api

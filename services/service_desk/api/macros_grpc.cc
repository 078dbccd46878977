// The macros' RPCs of ServiceDeskGrpcService and their proto mapping.
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

absl::StatusOr<domain::Macro> FromProto(const v1::Macro& in) {
  domain::Macro m;
  m.name = in.name();
  m.reply = in.reply();
  m.internal = in.internal();
  m.intents.assign(in.intents().begin(), in.intents().end());
  m.auto_respond = in.auto_respond();
  CRM_RETURN_IF_ERROR(EditsFromProto(in, "macro.", m));
  return m;
}

void ToProto(const domain::Macro& m, v1::Macro* out) {
  out->set_id(m.id);
  out->set_name(m.name);
  out->set_reply(m.reply);
  out->set_internal(m.internal);
  for (const std::string& i : m.intents) out->add_intents(i);
  out->set_auto_respond(m.auto_respond);
  EditsToProto(m, out);
  out->set_etag(absl::StrCat(m.version));
  grpcutil::ToTimestamp(m.create_time, out->mutable_create_time());
  grpcutil::ToTimestamp(m.update_time, out->mutable_update_time());
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::CreateMacro(grpc::CallbackServerContext* ctx,
                                                              const v1::CreateMacroRequest* req,
                                                              v1::Macro* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "CreateMacro", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Macro m, FromProto(req->macro()));
        CRM_ASSIGN_OR_RETURN(
            domain::Macro out,
            macros_.Create(grpcutil::IdempotentWriteMetaOf(rc, "CreateMacro", *req), std::move(m)));
        ToProto(out, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetMacro(grpc::CallbackServerContext* ctx,
                                                           const v1::GetMacroRequest* req,
                                                           v1::Macro* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "GetMacro", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Macro out, macros_.Get(rc.tenant_id, req->macro_id()));
        ToProto(out, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::ListMacros(grpc::CallbackServerContext* ctx,
                                                             const v1::ListMacrosRequest*,
                                                             v1::ListMacrosResponse* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "ListMacros", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(std::vector<domain::Macro> all, macros_.List(rc.tenant_id));
        for (const domain::Macro& m : all) ToProto(m, resp->add_macros());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UpdateMacro(grpc::CallbackServerContext* ctx,
                                                              const v1::UpdateMacroRequest* req,
                                                              v1::Macro* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "UpdateMacro", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Macro m, FromProto(req->macro()));
        const std::string if_match = req->etag().empty() ? req->macro().etag() : req->etag();
        CRM_ASSIGN_OR_RETURN(
            domain::Macro out,
            macros_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateMacro", *req),
                           req->macro_id(), std::move(m), if_match));
        ToProto(out, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::DeleteMacro(grpc::CallbackServerContext* ctx,
                                                              const v1::DeleteMacroRequest* req,
                                                              v1::DeleteMacroResponse*) {
  return grpcutil::Offload(ctx, executor_, metrics_, "DeleteMacro",
                           [=](const grpcutil::RequestContext& rc) {
                             return macros_
                                 .Delete(grpcutil::IdempotentWriteMetaOf(rc, "DeleteMacro", *req),
                                         req->macro_id(), req->etag())
                                 .status();
                           });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::ApplyMacro(grpc::CallbackServerContext* ctx,
                                                             const v1::ApplyMacroRequest* req,
                                                             v1::ApplyMacroResponse* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "ApplyMacro", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(
            app::MacroApplied out,
            macros_.Apply(grpcutil::IdempotentWriteMetaOf(rc, "ApplyMacro", *req), req->ticket_id(),
                          req->macro_id(), req->dry_run(), req->etag()));
        ToProto(out.result.ticket, resp->mutable_ticket());
        if (!out.result.message.body.empty()) {
          ToProto(out.result.message, resp->mutable_message());
        }
        for (const domain::TicketChange& c : out.changes) ToProto(c, resp->add_changes());
        resp->set_dry_run(out.dry_run);
        return absl::OkStatus();
      });
}

}  // namespace crm::service_desk::api

#include "services/gateway/api/admin_service.h"

#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "services/gateway/domain/permissions.h"

namespace crm::gateway::api {

void ToProto(const app::KeyRecord& k, v1::ApiKey* p);

namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

using grpcutil::FromTimestamp;
using grpcutil::ToTimestamp;

app::Principal PrincipalOf(const RequestContext& rc) {
  return app::Principal{rc.tenant_id, rc.principal, domain::ParseRolesHeader(rc.roles), 0};
}

// A create with a request_id is strictly idempotent: the request's
// fingerprint goes with the key (Admin fills tenant, principal and method).
template <typename Request>
absl::StatusOr<app::WriteContext> WriteContextOf(const RequestContext& rc, const Request& req) {
  CRM_RETURN_IF_ERROR(common::CheckRequestId(req.request_id()));
  app::WriteContext w;
  w.request_id = rc.request_id;
  w.idempotency_key = req.request_id();
  if (!req.request_id().empty()) w.fingerprint = grpcutil::Fingerprint(req);
  return w;
}

void ToProto(const app::CreatedKey& k, v1::CreateApiKeyResponse* p) {
  api::ToProto(k.key, p->mutable_key());
  p->set_secret(k.secret);
}

}  // namespace

void ToProto(const app::KeyRecord& k, v1::ApiKey* p) {
  p->set_id(k.id);
  p->set_display_name(k.display_name);
  for (domain::Role r : k.roles) p->add_roles(static_cast<v1::Role>(r));
  ToTimestamp(k.create_time, p->mutable_create_time());
  if (k.expire_time != absl::InfiniteFuture()) ToTimestamp(k.expire_time, p->mutable_expire_time());
  if (k.revoke_time != absl::InfiniteFuture()) ToTimestamp(k.revoke_time, p->mutable_revoke_time());
  p->set_rate_limit_per_second(k.rate_limit_per_second);
  p->set_prefix(absl::StrCat("crm_", k.id));
}

grpc::ServerUnaryReactor* AdminGrpcService::CreateTenant(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateTenantRequest* req,
                                                         v1::CreateTenantResponse* resp) {
  return Offload(
      ctx, executor_, metrics_, "CreateTenant", [=](const RequestContext& rc) -> absl::Status {
        CRM_ASSIGN_OR_RETURN(app::WriteContext w, WriteContextOf(rc, *req));
        CRM_ASSIGN_OR_RETURN(
            app::CreatedTenant created,
            admin_.CreateTenant(PrincipalOf(rc), std::move(w), req->display_name()));
        resp->mutable_tenant()->set_id(created.tenant.id);
        resp->mutable_tenant()->set_display_name(created.tenant.display_name);
        ToTimestamp(created.tenant.create_time, resp->mutable_tenant()->mutable_create_time());
        ToProto(created.admin_key, resp->mutable_admin_key());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AdminGrpcService::CreateApiKey(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateApiKeyRequest* req,
                                                         v1::CreateApiKeyResponse* resp) {
  return Offload(ctx, executor_, metrics_, "CreateApiKey",
                 [=](const RequestContext& rc) -> absl::Status {
                   CRM_ASSIGN_OR_RETURN(app::WriteContext w, WriteContextOf(rc, *req));
                   std::vector<domain::Role> roles;
                   for (int r : req->roles()) roles.push_back(static_cast<domain::Role>(r));
                   absl::Time expire = absl::InfiniteFuture();
                   if (req->has_expire_time()) {
                     expire = FromTimestamp(req->expire_time());
                   }
                   CRM_ASSIGN_OR_RETURN(
                       app::CreatedKey k,
                       admin_.CreateKey(PrincipalOf(rc), std::move(w), req->display_name(),
                                        std::move(roles), expire, req->rate_limit_per_second()));
                   ToProto(k, resp);
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* AdminGrpcService::ListApiKeys(grpc::CallbackServerContext* ctx,
                                                        const v1::ListApiKeysRequest* req,
                                                        v1::ListApiKeysResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListApiKeys", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(int limit, common::ClampPageSize(req->page_size(), 50, 500));
    std::string after;
    if (!req->page_token().empty()) {
      CRM_ASSIGN_OR_RETURN(after, tokens_.Decode(rc.tenant_id, "ListApiKeys", req->page_token()));
    }
    CRM_ASSIGN_OR_RETURN(std::vector<app::KeyRecord> keys,
                         admin_.ListKeys(PrincipalOf(rc), after, limit + 1));
    for (size_t i = 0; i < keys.size() && static_cast<int>(i) < limit; ++i) {
      ToProto(keys[i], resp->add_keys());
    }
    if (static_cast<int>(keys.size()) > limit) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, "ListApiKeys", keys[limit - 1].id));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminGrpcService::RevokeApiKey(grpc::CallbackServerContext* ctx,
                                                         const v1::RevokeApiKeyRequest* req,
                                                         v1::ApiKey* resp) {
  return Offload(ctx, executor_, metrics_, "RevokeApiKey", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(app::KeyRecord k, admin_.RevokeKey(PrincipalOf(rc), req->key_id()));
    ToProto(k, resp);
    return absl::OkStatus();
  });
}

}  // namespace crm::gateway::api

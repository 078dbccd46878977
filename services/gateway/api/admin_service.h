#pragma once
// crm.gateway.v1.AdminService, served on the gateway's internal port and
// reached through the same proxy as every other service (so it gets the same
// authentication, permission check and rate limit).
#include "crm/gateway/v1/admin.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/gateway/app/access.h"

namespace crm::gateway::api {

class AdminGrpcService final : public crm::gateway::v1::AdminService::CallbackService {
 public:
  AdminGrpcService(app::Admin& admin, common::Executor& executor, grpcutil::RpcMetrics& metrics,
                   const common::PageTokenCodec& tokens)
      : admin_(admin), executor_(executor), metrics_(metrics), tokens_(tokens) {}

  grpc::ServerUnaryReactor* CreateTenant(grpc::CallbackServerContext* ctx,
                                         const v1::CreateTenantRequest* req,
                                         v1::CreateTenantResponse* resp) override;
  grpc::ServerUnaryReactor* CreateApiKey(grpc::CallbackServerContext* ctx,
                                         const v1::CreateApiKeyRequest* req,
                                         v1::CreateApiKeyResponse* resp) override;
  grpc::ServerUnaryReactor* ListApiKeys(grpc::CallbackServerContext* ctx,
                                        const v1::ListApiKeysRequest* req,
                                        v1::ListApiKeysResponse* resp) override;
  grpc::ServerUnaryReactor* RevokeApiKey(grpc::CallbackServerContext* ctx,
                                         const v1::RevokeApiKeyRequest* req,
                                         v1::ApiKey* resp) override;

 private:
  app::Admin& admin_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
  const common::PageTokenCodec& tokens_;
};

void ToProto(const app::KeyRecord& k, v1::ApiKey* p);

}  // namespace crm::gateway::api

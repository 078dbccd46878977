#pragma once
// The gRPC edge of the sales pipeline (crm.transaction.v1.PipelineService).
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/transaction/v1/pipeline.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/transaction/app/pipeline.h"

namespace crm::transaction::api {

namespace v1 = ::crm::transaction::v1;

absl::StatusOr<domain::Lead> FromProto(const v1::Lead& l);
void ToProto(const domain::Lead& l, v1::Lead* out);
std::vector<std::string> PresentPaths(const v1::Lead& l);
absl::StatusOr<domain::Opportunity> FromProto(const v1::Opportunity& o);
void ToProto(const domain::Opportunity& o, v1::Opportunity* out);
std::vector<std::string> PresentPaths(const v1::Opportunity& o);
absl::StatusOr<domain::Order> FromProto(const v1::OrderSpec& spec);
void ToProto(const domain::ForecastRow& r, v1::ForecastRow* out);

class PipelineGrpcService final : public v1::PipelineService::CallbackService {
 public:
  PipelineGrpcService(app::Pipeline& pipeline, common::Executor& executor,
                      grpcutil::RpcMetrics& metrics, const common::PageTokenCodec& tokens)
      : pipeline_(pipeline), executor_(executor), metrics_(metrics), tokens_(tokens) {}

  grpc::ServerUnaryReactor* CreateLead(grpc::CallbackServerContext* ctx,
                                       const v1::CreateLeadRequest* req, v1::Lead* resp) override;
  grpc::ServerUnaryReactor* GetLead(grpc::CallbackServerContext* ctx,
                                    const v1::GetLeadRequest* req, v1::Lead* resp) override;
  grpc::ServerUnaryReactor* ListLeads(grpc::CallbackServerContext* ctx,
                                      const v1::ListLeadsRequest* req,
                                      v1::ListLeadsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateLead(grpc::CallbackServerContext* ctx,
                                       const v1::UpdateLeadRequest* req, v1::Lead* resp) override;
  grpc::ServerUnaryReactor* ConvertLead(grpc::CallbackServerContext* ctx,
                                        const v1::ConvertLeadRequest* req,
                                        v1::ConvertLeadResponse* resp) override;
  grpc::ServerUnaryReactor* CreateOpportunity(grpc::CallbackServerContext* ctx,
                                              const v1::CreateOpportunityRequest* req,
                                              v1::Opportunity* resp) override;
  grpc::ServerUnaryReactor* GetOpportunity(grpc::CallbackServerContext* ctx,
                                           const v1::GetOpportunityRequest* req,
                                           v1::Opportunity* resp) override;
  grpc::ServerUnaryReactor* ListOpportunities(grpc::CallbackServerContext* ctx,
                                              const v1::ListOpportunitiesRequest* req,
                                              v1::ListOpportunitiesResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateOpportunity(grpc::CallbackServerContext* ctx,
                                              const v1::UpdateOpportunityRequest* req,
                                              v1::Opportunity* resp) override;
  grpc::ServerUnaryReactor* MoveOpportunityStage(grpc::CallbackServerContext* ctx,
                                                 const v1::MoveOpportunityStageRequest* req,
                                                 v1::Opportunity* resp) override;
  grpc::ServerUnaryReactor* CloseOpportunity(grpc::CallbackServerContext* ctx,
                                             const v1::CloseOpportunityRequest* req,
                                             v1::Opportunity* resp) override;
  grpc::ServerUnaryReactor* GetStageHistory(grpc::CallbackServerContext* ctx,
                                            const v1::GetStageHistoryRequest* req,
                                            v1::GetStageHistoryResponse* resp) override;
  grpc::ServerUnaryReactor* GetStageProbabilities(grpc::CallbackServerContext* ctx,
                                                  const v1::GetStageProbabilitiesRequest* req,
                                                  v1::StageProbabilities* resp) override;
  grpc::ServerUnaryReactor* UpdateStageProbabilities(
      grpc::CallbackServerContext* ctx, const v1::UpdateStageProbabilitiesRequest* req,
      v1::StageProbabilities* resp) override;
  grpc::ServerUnaryReactor* Forecast(grpc::CallbackServerContext* ctx,
                                     const v1::ForecastRequest* req,
                                     v1::ForecastResponse* resp) override;

 private:
  app::Pipeline& pipeline_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
  const common::PageTokenCodec& tokens_;
};

}  // namespace crm::transaction::api

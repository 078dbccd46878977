#pragma once
// The gRPC edge of the ERP integration (crm.transaction.v1.ErpIntegrationService):
// a bidirectional IngestOrders stream (one response per request batch, read
// -> work on the executor -> write -> read: one batch in flight, nothing
// buffered beyond it) and a server-streaming ExportOrders (one page fetched
// per written message, so a slow reader slows the export instead of
// filling memory).
#include "crm/transaction/v1/erp.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/transaction/app/erp.h"

namespace crm::transaction::api {

namespace v1 = ::crm::transaction::v1;

// An ingested order as the domain sees it (no validation beyond decoding:
// unknown channel or a malformed placed_time is an error naming the field).
absl::StatusOr<domain::Order> ErpOrderFromProto(const v1::Order& o);

class ErpGrpcService final : public v1::ErpIntegrationService::CallbackService {
 public:
  ErpGrpcService(app::Erp& erp, common::Executor& executor, grpcutil::RpcMetrics& metrics,
                 const common::PageTokenCodec& tokens)
      : erp_(erp), executor_(executor), metrics_(metrics), tokens_(tokens) {}

  grpc::ServerBidiReactor<v1::IngestOrdersRequest, v1::IngestOrdersResponse>* IngestOrders(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerWriteReactor<v1::ExportOrdersResponse>* ExportOrders(
      grpc::CallbackServerContext* ctx, const v1::ExportOrdersRequest* req) override;

 private:
  app::Erp& erp_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
  const common::PageTokenCodec& tokens_;
};

}  // namespace crm::transaction::api

#pragma once
// The gRPC edge of engine 5: catalog, orders, payments, returns, refunds.
#include "crm/transaction/v1/transaction.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/transaction/app/catalog.h"
#include "services/transaction/app/order_money.h"
#include "services/transaction/app/orders.h"

namespace crm::transaction::api {

namespace v1 = ::crm::transaction::v1;

absl::StatusOr<domain::Product> FromProto(const v1::Product& p);
void ToProto(const domain::Product& p, v1::Product* out);
std::vector<std::string> PresentPaths(const v1::Product& p);
absl::StatusOr<domain::Order> FromProto(const v1::Order& o);
void ToProto(const domain::Order& o, v1::Order* out);
app::CustomerIdentities CustomerRefFromProto(const v1::CustomerRef& ref);
using grpcutil::Fingerprint;
// The actor of a call: tenant and principal from the context, request_id
// field as idempotency key.
app::Actor ActorOf(const grpcutil::RequestContext& rc, const char* method, const std::string& key);

class TransactionGrpcService final : public v1::TransactionService::CallbackService {
 public:
  TransactionGrpcService(app::Catalog& catalog, app::Orders& orders, app::OrderMoney& money,
                         common::Executor& executor, grpcutil::RpcMetrics& metrics,
                         const common::PageTokenCodec& tokens)
      : catalog_(catalog),
        orders_(orders),
        money_(money),
        executor_(executor),
        metrics_(metrics),
        tokens_(tokens) {}

  grpc::ServerUnaryReactor* CreateProduct(grpc::CallbackServerContext* ctx,
                                          const v1::CreateProductRequest* req,
                                          v1::Product* resp) override;
  grpc::ServerUnaryReactor* GetProduct(grpc::CallbackServerContext* ctx,
                                       const v1::GetProductRequest* req,
                                       v1::Product* resp) override;
  grpc::ServerUnaryReactor* UpdateProduct(grpc::CallbackServerContext* ctx,
                                          const v1::UpdateProductRequest* req,
                                          v1::Product* resp) override;
  grpc::ServerUnaryReactor* ListProducts(grpc::CallbackServerContext* ctx,
                                         const v1::ListProductsRequest* req,
                                         v1::ListProductsResponse* resp) override;
  grpc::ServerUnaryReactor* BatchUpsertProducts(grpc::CallbackServerContext* ctx,
                                                const v1::BatchUpsertProductsRequest* req,
                                                v1::BatchUpsertProductsResponse* resp) override;

  grpc::ServerUnaryReactor* CreateOrder(grpc::CallbackServerContext* ctx,
                                        const v1::CreateOrderRequest* req,
                                        v1::Order* resp) override;
  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* ctx,
                                     const v1::GetOrderRequest* req, v1::Order* resp) override;
  grpc::ServerUnaryReactor* ListOrders(grpc::CallbackServerContext* ctx,
                                       const v1::ListOrdersRequest* req,
                                       v1::ListOrdersResponse* resp) override;
  grpc::ServerUnaryReactor* TransitionOrder(grpc::CallbackServerContext* ctx,
                                            const v1::TransitionOrderRequest* req,
                                            v1::Order* resp) override;

  // Payments, returns, refunds, settings (order_money_grpc.cc).
  grpc::ServerUnaryReactor* RecordPayment(grpc::CallbackServerContext* ctx,
                                          const v1::RecordPaymentRequest* req,
                                          v1::Payment* resp) override;
  grpc::ServerUnaryReactor* UpdatePaymentStatus(grpc::CallbackServerContext* ctx,
                                                const v1::UpdatePaymentStatusRequest* req,
                                                v1::Payment* resp) override;
  grpc::ServerUnaryReactor* ListPayments(grpc::CallbackServerContext* ctx,
                                         const v1::ListOrderRecordsRequest* req,
                                         v1::ListPaymentsResponse* resp) override;
  grpc::ServerUnaryReactor* CreateReturn(grpc::CallbackServerContext* ctx,
                                         const v1::CreateReturnRequest* req,
                                         v1::Return* resp) override;
  grpc::ServerUnaryReactor* ListReturns(grpc::CallbackServerContext* ctx,
                                        const v1::ListOrderRecordsRequest* req,
                                        v1::ListReturnsResponse* resp) override;
  grpc::ServerUnaryReactor* CreateRefund(grpc::CallbackServerContext* ctx,
                                         const v1::CreateRefundRequest* req,
                                         v1::Refund* resp) override;
  grpc::ServerUnaryReactor* UpdateRefundStatus(grpc::CallbackServerContext* ctx,
                                               const v1::UpdateRefundStatusRequest* req,
                                               v1::Refund* resp) override;
  grpc::ServerUnaryReactor* ListRefunds(grpc::CallbackServerContext* ctx,
                                        const v1::ListOrderRecordsRequest* req,
                                        v1::ListRefundsResponse* resp) override;
  grpc::ServerUnaryReactor* GetOrderSettings(grpc::CallbackServerContext* ctx,
                                             const v1::GetOrderSettingsRequest* req,
                                             v1::OrderSettings* resp) override;
  grpc::ServerUnaryReactor* UpdateOrderSettings(grpc::CallbackServerContext* ctx,
                                                const v1::UpdateOrderSettingsRequest* req,
                                                v1::OrderSettings* resp) override;

 private:
  app::Catalog& catalog_;
  app::Orders& orders_;
  app::OrderMoney& money_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
  const common::PageTokenCodec& tokens_;
};

}  // namespace crm::transaction::api

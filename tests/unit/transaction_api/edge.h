#pragma once
// The transaction engine's three gRPC services (TransactionGrpcService,
// PipelineGrpcService, ErpGrpcService) wired as main wires them, over the use
// cases and in-memory fakes of their ports, on one in-process server on
// 127.0.0.1:0 with real stubs. One executor worker and a queue of one, so
// tests can fill it.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "crm/transaction/v1/erp.grpc.pb.h"
#include "crm/transaction/v1/pipeline.grpc.pb.h"
#include "crm/transaction/v1/transaction.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/grpcutil/testing/test_server.h"
#include "prometheus/registry.h"
#include "services/transaction/api/erp_grpc_service.h"
#include "services/transaction/api/grpc_service.h"
#include "services/transaction/api/pipeline_grpc_service.h"
#include "services/transaction/app/catalog.h"
#include "services/transaction/app/erp.h"
#include "services/transaction/app/order_money.h"
#include "services/transaction/app/orders.h"
#include "services/transaction/app/pipeline.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/faulty_clock.h"
#include "tests/support/fakes/transaction/fake_erp_repository.h"
#include "tests/support/fakes/transaction/fake_order_repository.h"
#include "tests/support/fakes/transaction/fake_pipeline_repository.h"
#include "tests/support/fakes/transaction/fake_product_repository.h"

namespace crm::transaction::api_test {

namespace v1 = ::crm::transaction::v1;
namespace gt = ::crm::grpcutil::testing;

inline constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
inline constexpr char kOtherTenant[] = "22222222-2222-4222-8222-222222222222";
inline constexpr char kCustomer[] = "33333333-3333-4333-8333-333333333333";
inline constexpr char kMissingId[] = "99999999-9999-4999-8999-999999999999";

struct Edge {
  testing::FakeProductRepository products;
  testing::FakeOrderRepository order_repo;
  testing::FakePipelineRepository pipeline_repo;
  testing::FakeErpRepository erp_repo;
  testing::FaultyClock clock{absl::FromUnixSeconds(1767225600)};
  testing::SequentialIdGenerator ids;
  app::Catalog catalog{products, clock};
  app::Orders orders{order_repo, clock, ids};
  app::OrderMoney money{order_repo, clock, ids};
  app::Pipeline pipeline{pipeline_repo, orders, nullptr, clock, ids};
  app::Erp erp{erp_repo, clock, ids};
  prometheus::Registry registry;
  grpcutil::RpcMetrics metrics{registry, "transaction"};
  common::PageTokenCodec tokens{"page-token-secret-for-tests"};
  common::Executor executor{1, 1};
  api::TransactionGrpcService transaction_service{catalog, orders, money, executor, metrics,
                                                  tokens};
  api::PipelineGrpcService pipeline_service{pipeline, executor, metrics, tokens};
  api::ErpGrpcService erp_service{erp, executor, metrics, tokens};
  std::unique_ptr<gt::TestServer> server;  // after the services: stops first
  std::unique_ptr<v1::TransactionService::Stub> stub;
  std::unique_ptr<v1::PipelineService::Stub> pipeline_stub;
  std::unique_ptr<v1::ErpIntegrationService::Stub> erp_stub;

  Edge() {
    gt::UseTestContextKey();
    pipeline_repo.orders = &order_repo;
    order_repo.AddSku(kTenant, "SKU-1");
    auto started = gt::TestServer::Start({&transaction_service, &pipeline_service, &erp_service});
    REQUIRE(started.ok());
    server = *std::move(started);
    stub = v1::TransactionService::NewStub(server->channel());
    pipeline_stub = v1::PipelineService::NewStub(server->channel());
    erp_stub = v1::ErpIntegrationService::NewStub(server->channel());
  }
  ~Edge() { server->Shutdown(); }

  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& tenant = kTenant) {
    return gt::CallContext(gt::Tenant(tenant));
  }
};

inline void RequireError(const grpc::Status& s, grpc::StatusCode code, const std::string& reason) {
  INFO(s.error_code() << ": " << s.error_message());
  REQUIRE(s.error_code() == code);
  CHECK(gt::ReasonOf(s) == reason);
}

// An order of SKU-1 for kCustomer: 2 x 1990 - 100 = 3880 CHF minor units.
inline v1::Order NewOrder() {
  v1::Order o;
  o.set_customer_id(kCustomer);
  o.set_currency_code("chf");
  v1::OrderLine* l = o.add_lines();
  l->set_sku("SKU-1");
  l->set_quantity(2);
  l->set_unit_price_minor(1990);
  l->set_discount_minor(100);
  o.set_channel(v1::SALES_CHANNEL_WEB);
  return o;
}

}  // namespace crm::transaction::api_test

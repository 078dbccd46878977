// The backend table and what is derived from it (channels, routes, REST
// services, reflection's list, readiness), and the gateway's configuration
// of its peers.
#include "services/gateway/api/backends.h"

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crm/transaction/v1/erp.pb.h"
#include "libs/common/clock.h"
#include "libs/common/executor.h"
#include "services/gateway/api/transcoder.h"
#include "services/gateway/app/access.h"
#include "services/gateway/config.h"
#include "services/gateway/domain/permissions.h"
#include "tests/support/fakes/gateway/fake_key_store.h"
#include "tests/support/fakes/gateway/fake_rate_limiter.h"
#include "tests/support/scoped_env.h"

namespace crm::gateway::api {
namespace {

using crm::testing::ScopedEnv;

constexpr char kCustomerStore[] = "crm.customer_store.v1.CustomerStoreService";
constexpr char kTransaction[] = "crm.transaction.v1.TransactionService";
constexpr char kErp[] = "crm.transaction.v1.ErpIntegrationService";
constexpr char kPipeline[] = "crm.transaction.v1.PipelineService";
constexpr char kSegmentation[] = "crm.segmentation.v1.SegmentationService";
constexpr char kPersonalization[] = "crm.personalization.v1.PersonalizationService";
constexpr char kDelivery[] = "crm.delivery.v1.DeliveryService";
constexpr char kServiceDesk[] = "crm.service_desk.v1.ServiceDeskService";
constexpr char kAdmin[] = "crm.gateway.v1.AdminService";

// Makes lazy channels (nothing connects) and remembers each target asked for.
struct CountingConnect {
  std::map<std::string, int> calls;
  ChannelFactory factory() {
    return [this](const std::string& target) {
      ++calls[target];
      return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    };
  }
};

std::vector<common::PeerConfig> LocalPeers() {
  return {{"customer-store", "127.0.0.1:1", absl::Seconds(1)},
          {"transaction", "127.0.0.1:2", absl::Seconds(1)},
          {"segmentation", "127.0.0.1:4", absl::Seconds(1)},
          {"personalization", "127.0.0.1:5", absl::Seconds(1)},
          {"delivery", "127.0.0.1:6", absl::Seconds(1)},
          {"service-desk", "127.0.0.1:7", absl::Seconds(1)}};
}

const google::protobuf::FileDescriptor* ErpFile() {
  return transaction::v1::IngestOrdersRequest::descriptor()->file();
}

TEST_CASE("the gateway's backend table", "[gateway][backends]") {
  std::vector<std::string> names;
  for (const BackendService& row : BackendTable()) names.push_back(row.service);
  // REST route order (ties, OpenAPI paths) as before the table existed.
  CHECK(names == std::vector<std::string>{kCustomerStore, kAdmin, kTransaction, kErp, kPipeline,
                                          kSegmentation, kPersonalization, kDelivery,
                                          kServiceDesk});
  CHECK(RemotePeers(BackendTable()) == std::vector<std::string>{"customer-store", "transaction",
                                                                "segmentation", "personalization",
                                                                "delivery", "service-desk"});
  CHECK(GatewayPeerDefaults("customer-store").addr == "127.0.0.1:50061");
  CHECK(GatewayPeerDefaults("transaction").addr == "127.0.0.1:50062");
  CHECK(GatewayPeerDefaults("segmentation").addr == "127.0.0.1:50063");
  CHECK(GatewayPeerDefaults("personalization").addr == "127.0.0.1:50064");
  CHECK(GatewayPeerDefaults("delivery").addr == "127.0.0.1:50065");
  CHECK(GatewayPeerDefaults("service-desk").addr == "127.0.0.1:50066");
  CHECK(GatewayPeerDefaults("new-peer").addr.empty());  // its address is required
  CHECK(GatewayPeerDefaults("transaction").timeout == absl::Seconds(1));
}

TEST_CASE("Backends derives channels, services and reflection from the table",
          "[gateway][backends]") {
  CountingConnect connect;
  auto backends = Backends::Create(BackendTable(), LocalPeers(), connect.factory());
  REQUIRE(backends.ok());

  SECTION("one channel per distinct peer") {
    CHECK(connect.calls == std::map<std::string, int>{{"127.0.0.1:1", 1},
                                                      {"127.0.0.1:2", 1},
                                                      {"127.0.0.1:4", 1},
                                                      {"127.0.0.1:5", 1},
                                                      {"127.0.0.1:6", 1},
                                                      {"127.0.0.1:7", 1}});
    REQUIRE(backends->peers().size() == 6);
    CHECK(backends->peers()[0].config.peer == "customer-store");
    CHECK(backends->peers()[1].config.peer == "transaction");
    const auto& routes = backends->routes();
    REQUIRE(routes.size() == 9);
    CHECK(routes[0].channel == backends->peers()[0].channel);
    CHECK(routes[1].channel == nullptr);  // AdminService: the in-process server
    for (size_t i : {2, 3, 4}) CHECK(routes[i].channel == backends->peers()[1].channel);
    CHECK(routes[5].channel == backends->peers()[2].channel);
    CHECK(routes[6].channel == backends->peers()[3].channel);
    CHECK(routes[7].channel == backends->peers()[4].channel);
    CHECK(routes[8].channel == backends->peers()[5].channel);
  }
  SECTION("the REST services are the table's, in its order") {
    std::vector<std::string> rest;
    for (const auto* s : backends->Services()) rest.push_back(s->full_name());
    CHECK(rest == std::vector<std::string>{kCustomerStore, kAdmin, kTransaction, kErp, kPipeline,
                                           kSegmentation, kPersonalization, kDelivery,
                                           kServiceDesk});
    // The streaming ERP service gets no REST route.
    CHECK(RoutesFromServices({backends->Services()[3]}).empty());
    CHECK_FALSE(RoutesFromServices(backends->Services()).empty());
  }
  SECTION("reflection lists health, reflection and every service") {
    CHECK(backends->PublicServices() ==
          std::vector<std::string>{"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                                   "grpc.reflection.v1alpha.ServerReflection", kCustomerStore,
                                   kAdmin, kTransaction, kErp, kPipeline, kSegmentation,
                                   kPersonalization, kDelivery, kServiceDesk});
  }
  SECTION("the proxy routes every method of every service") {
    crm::testing::FakeKeyStore keys;
    crm::testing::FakeRateLimiter limiter;
    common::SystemClock clock;
    app::Access access(keys, limiter, clock, app::AccessOptions{});
    common::Executor executor(1, 4);
    prometheus::Registry registry;
    Proxy proxy(access, executor, registry, absl::Seconds(1), absl::Seconds(1));
    CHECK(backends->AddTo(proxy, nullptr).code() == absl::StatusCode::kFailedPrecondition);
    auto in_process = grpc::CreateChannel("127.0.0.1:3", grpc::InsecureChannelCredentials());
    REQUIRE(backends->AddTo(proxy, in_process).ok());
    for (const char* method : {"/crm.customer_store.v1.CustomerStoreService/GetCustomer",
                               "/crm.gateway.v1.AdminService/CreateApiKey",
                               "/crm.transaction.v1.TransactionService/GetOrder",
                               "/crm.transaction.v1.ErpIntegrationService/IngestOrders",
                               "/crm.transaction.v1.PipelineService/CreateLead",
                               "/crm.segmentation.v1.SegmentationService/GetClvModel",
                               "/crm.personalization.v1.PersonalizationService/RecommendForCart"}) {
      INFO(method);
      CHECK(proxy.HasBackend(method));
      CHECK(proxy.RouteFor(method).known());
    }
  }
}

TEST_CASE("Backends refuses an inconsistent table", "[gateway][backends]") {
  CountingConnect connect;
  SECTION("a peer without an address") {
    auto b = Backends::Create({{kErp, "nowhere", &ErpFile}}, LocalPeers(), connect.factory());
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(b.status().message()).find("nowhere") != std::string::npos);
  }
  SECTION("a service its file does not declare") {
    auto b = Backends::Create({{kCustomerStore, "customer-store", &ErpFile}}, LocalPeers(),
                              connect.factory());
    REQUIRE_FALSE(b.ok());
    CHECK(std::string(b.status().message()).find(kCustomerStore) != std::string::npos);
  }
  SECTION("a service listed twice") {
    auto b = Backends::Create({{kErp, "transaction", &ErpFile}, {kErp, "transaction", &ErpFile}},
                              LocalPeers(), connect.factory());
    CHECK(b.status().code() == absl::StatusCode::kFailedPrecondition);
  }
  CHECK(connect.calls.size() <= 1);
}

TEST_CASE("Backends::Probe names the peer that does not answer", "[gateway][backends]") {
  CountingConnect connect;
  // Port 1 on loopback: refused at once.
  auto b = Backends::Create({{kErp, "transaction", &ErpFile}},
                            {{"transaction", "127.0.0.1:1", absl::Milliseconds(300)}},
                            connect.factory());
  REQUIRE(b.ok());
  absl::Status s = b->Probe();
  REQUIRE_FALSE(s.ok());
  CHECK(std::string(s.message()).find("transaction at 127.0.0.1:1") != std::string::npos);

  auto in_process_only =
      Backends::Create({{kErp, kInProcessPeer, &ErpFile}}, {}, connect.factory());
  REQUIRE(in_process_only.ok());
  CHECK(in_process_only->Probe().ok());  // nothing remote to wait for
}

// The variables the gateway read before the table: same names, same meaning.
TEST_CASE("the gateway's configuration of its peers", "[gateway][config]") {
  crm::testing::RequiredServiceEnv required;
  ScopedEnv cs("CRM_CUSTOMER_STORE_ADDR", nullptr);
  ScopedEnv txn("CRM_TRANSACTION_ADDR", nullptr);
  ScopedEnv txn_timeout("CRM_TRANSACTION_TIMEOUT", nullptr);
  ScopedEnv redis("CRM_REDIS_ADDR", nullptr);
  ScopedEnv key_ttl("CRM_IDEMPOTENCY_KEY_TTL", "36h");  // admin writes' request ids

  SECTION("defaults: ./crm up's ports") {
    auto c = LoadConfig();
    REQUIRE(c.ok());
    REQUIRE(c->peers.size() == 6);
    CHECK(c->peers[0].addr == "127.0.0.1:50061");
    CHECK(c->peers[1].addr == "127.0.0.1:50062");
    CHECK(c->service.pg_pool_size == 8);
    CHECK(c->service.workers == 8);
    CHECK(c->service.max_queue == 4096);
    common::ConfigDump dumped;
    c->DumpTo(dumped);
    const std::string dump = dumped.ToString();
    CHECK(dump.find("customer_store_addr=127.0.0.1:50061 customer_store_timeout=1s") !=
          std::string::npos);
    CHECK(dump.find("transaction_addr=127.0.0.1:50062") != std::string::npos);
    CHECK(dump.find("pw") == std::string::npos);
    CHECK(dump.find("outbox") == std::string::npos);
    CHECK(c->service.idempotency_key_ttl == absl::Hours(36));
    CHECK(dump.find("idempotency_key_ttl=36h") != std::string::npos);
  }
  SECTION("CRM_CUSTOMER_STORE_ADDR and CRM_TRANSACTION_ADDR") {
    ScopedEnv cs_set("CRM_CUSTOMER_STORE_ADDR", "customer-store:50051");
    ScopedEnv txn_set("CRM_TRANSACTION_ADDR", "transaction:50051");
    auto c = LoadConfig();
    REQUIRE(c.ok());
    CHECK(c->peers[0].addr == "customer-store:50051");
    CHECK(c->peers[1].addr == "transaction:50051");
  }
  SECTION("errors name the variable") {
    ScopedEnv bad("CRM_TRANSACTION_TIMEOUT", "never");
    auto c = LoadConfig();
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(c.status().message()).find("CRM_TRANSACTION_TIMEOUT") != std::string::npos);
  }
  SECTION("a bad Redis address is a configuration error") {
    ScopedEnv bad("CRM_REDIS_ADDR", "no-port");
    auto c = LoadConfig();
    CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(c.status().message()).find("CRM_REDIS_ADDR") != std::string::npos);
  }
}

// A method without an access policy (option (crm.common.v1.access_policy)
// in its proto) is refused to everyone: a new RPC, or a new row of the
// backend table, whose proto does not declare one would be unusable. Every
// method of every service of the table must declare one.
TEST_CASE("Every RPC of the table's services declares an access policy", "[gateway][domain]") {
  int methods = 0;
  for (const BackendService& row : BackendTable()) {
    REQUIRE(row.file != nullptr);
    const google::protobuf::ServiceDescriptor* svc =
        row.file()->pool()->FindServiceByName(row.service);
    INFO(row.service);
    REQUIRE(svc != nullptr);
    for (int m = 0; m < svc->method_count(); ++m) {
      INFO("/" + svc->full_name() + "/" + svc->method(m)->name());
      CHECK(domain::HasPolicy(PolicyOf(*svc->method(m))));
      ++methods;
    }
  }
  CHECK(methods >= 58);  // the services really were walked
}

// Today's permission table (until the policies moved into the protos, a
// hand-written method -> role set table in domain/permissions.cc), copied
// here as expected values: every method keeps exactly the roles it had.
// A new RPC needs no line here; it only needs its policy (test above).
TEST_CASE("Every RPC keeps the roles of the former permission table", "[gateway][domain]") {
  const std::vector<std::pair<std::string, std::string>> kPinned = {
      {"/crm.customer_store.v1.CustomerStoreService/CreateCustomer",
       "admin,marketer,sales,service,integration"},
      {"/crm.customer_store.v1.CustomerStoreService/GetCustomer",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.customer_store.v1.CustomerStoreService/UpdateCustomer",
       "admin,marketer,sales,service,integration"},
      {"/crm.customer_store.v1.CustomerStoreService/DeleteCustomer", "admin,service"},
      {"/crm.customer_store.v1.CustomerStoreService/ListCustomers",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.customer_store.v1.CustomerStoreService/SearchCustomers",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.customer_store.v1.CustomerStoreService/UpsertCustomer",
       "admin,marketer,sales,service,integration"},
      {"/crm.customer_store.v1.CustomerStoreService/MergeCustomers",
       "admin,marketer,sales,service,integration"},
      {"/crm.customer_store.v1.CustomerStoreService/ImportCustomers", "admin,integration"},
      {"/crm.customer_store.v1.CustomerStoreService/ImportCustomersNdjson", "admin,integration"},
      {"/crm.customer_store.v1.CustomerStoreService/UnmergeCustomer",
       "admin,marketer,sales,service,integration"},
      {"/crm.customer_store.v1.CustomerStoreService/GetCustomerView",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.customer_store.v1.CustomerStoreService/ExportCustomer", "admin,service"},
      {"/crm.customer_store.v1.CustomerStoreService/ListConsents",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.customer_store.v1.CustomerStoreService/RecordConsent",
       "admin,marketer,sales,service,integration"},
      {"/crm.customer_store.v1.CustomerStoreService/ListInteractions",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.customer_store.v1.CustomerStoreService/CreateInteraction",
       "admin,marketer,sales,service,integration"},
      {"/crm.customer_store.v1.CustomerStoreService/ResolveCustomerRefs", ""},
      {"/crm.transaction.v1.TransactionService/CreateProduct", "admin,marketer,integration"},
      {"/crm.transaction.v1.TransactionService/GetProduct",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.TransactionService/UpdateProduct", "admin,marketer,integration"},
      {"/crm.transaction.v1.TransactionService/ListProducts",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.TransactionService/BatchUpsertProducts", "admin,marketer,integration"},
      {"/crm.transaction.v1.TransactionService/CreateOrder", "admin,sales,service,integration"},
      {"/crm.transaction.v1.TransactionService/GetOrder",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.TransactionService/ListOrders",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.TransactionService/TransitionOrder", "admin,sales,service,integration"},
      {"/crm.transaction.v1.ErpIntegrationService/IngestOrders", "admin,integration"},
      {"/crm.transaction.v1.ErpIntegrationService/ExportOrders", "admin,integration"},
      {"/crm.transaction.v1.TransactionService/RecordPayment", "admin,sales,service,integration"},
      {"/crm.transaction.v1.TransactionService/UpdatePaymentStatus",
       "admin,sales,service,integration"},
      {"/crm.transaction.v1.TransactionService/ListPayments",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.TransactionService/CreateReturn", "admin,sales,service,integration"},
      {"/crm.transaction.v1.TransactionService/ListReturns",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.TransactionService/CreateRefund", "admin,sales,service,integration"},
      {"/crm.transaction.v1.TransactionService/UpdateRefundStatus",
       "admin,sales,service,integration"},
      {"/crm.transaction.v1.TransactionService/ListRefunds",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.TransactionService/GetOrderSettings",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.TransactionService/UpdateOrderSettings", "admin"},
      {"/crm.transaction.v1.PipelineService/CreateLead", "admin,sales"},
      {"/crm.transaction.v1.PipelineService/GetLead",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.PipelineService/ListLeads",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.PipelineService/UpdateLead", "admin,sales"},
      {"/crm.transaction.v1.PipelineService/ConvertLead", "admin,sales"},
      {"/crm.transaction.v1.PipelineService/CreateOpportunity", "admin,sales"},
      {"/crm.transaction.v1.PipelineService/GetOpportunity",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.PipelineService/ListOpportunities",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.PipelineService/UpdateOpportunity", "admin,sales"},
      {"/crm.transaction.v1.PipelineService/MoveOpportunityStage", "admin,sales"},
      {"/crm.transaction.v1.PipelineService/CloseOpportunity", "admin,sales"},
      {"/crm.transaction.v1.PipelineService/GetStageHistory",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.PipelineService/GetStageProbabilities",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.transaction.v1.PipelineService/UpdateStageProbabilities", "admin"},
      {"/crm.transaction.v1.PipelineService/Forecast",
       "admin,marketer,sales,service,integration,read-only"},
      {"/crm.gateway.v1.AdminService/CreateTenant", "platform-admin"},
      {"/crm.gateway.v1.AdminService/CreateApiKey", "admin"},
      {"/crm.gateway.v1.AdminService/ListApiKeys", "admin"},
      {"/crm.gateway.v1.AdminService/RevokeApiKey", "admin"},
  };
  CHECK(kPinned.size() == 58);
  // The roles the proxy admits for a method, read from its route (the
  // policy the method table took from the descriptors at start-up).
  CountingConnect connect;
  auto backends = Backends::Create(BackendTable(), LocalPeers(), connect.factory());
  REQUIRE(backends.ok());
  crm::testing::FakeKeyStore keys;
  crm::testing::FakeRateLimiter limiter;
  common::SystemClock clock;
  app::Access access(keys, limiter, clock, app::AccessOptions{});
  common::Executor executor(1, 4);
  prometheus::Registry registry;
  Proxy proxy(access, executor, registry, absl::Seconds(1), absl::Seconds(1));
  REQUIRE(
      backends->AddTo(proxy, grpc::CreateChannel("127.0.0.1:3", grpc::InsecureChannelCredentials()))
          .ok());
  for (const auto& [method, roles] : kPinned) {
    INFO(method);
    MethodRoute route = proxy.RouteFor(method);
    CHECK(route.stub != nullptr);
    CHECK(route.known());
    const std::set<domain::Role>& admitted = domain::RolesOf(route.policy);
    CHECK(domain::RolesHeader({admitted.begin(), admitted.end()}) == roles);
  }
}

}  // namespace
}  // namespace crm::gateway::api

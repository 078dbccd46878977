// The backend table and what is derived from it (channels, routes, REST
// services, reflection's list, readiness), and the gateway's configuration
// of its peers.
#include "services/gateway/api/backends.h"

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>

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
          {"transaction", "127.0.0.1:2", absl::Seconds(1)}};
}

const google::protobuf::FileDescriptor* ErpFile() {
  return transaction::v1::IngestOrdersRequest::descriptor()->file();
}

TEST_CASE("the gateway's backend table", "[gateway][backends]") {
  std::vector<std::string> names;
  for (const BackendService& row : BackendTable()) names.push_back(row.service);
  // REST route order (ties, OpenAPI paths) as before the table existed.
  CHECK(names == std::vector<std::string>{kCustomerStore, kAdmin, kTransaction, kErp, kPipeline});
  CHECK(RemotePeers(BackendTable()) == std::vector<std::string>{"customer-store", "transaction"});
  CHECK(GatewayPeerDefaults("customer-store").addr == "127.0.0.1:50061");
  CHECK(GatewayPeerDefaults("transaction").addr == "127.0.0.1:50062");
  CHECK(GatewayPeerDefaults("new-peer").addr.empty());  // its address is required
  CHECK(GatewayPeerDefaults("transaction").timeout == absl::Seconds(1));
}

TEST_CASE("Backends derives channels, services and reflection from the table",
          "[gateway][backends]") {
  CountingConnect connect;
  auto backends = Backends::Create(BackendTable(), LocalPeers(), connect.factory());
  REQUIRE(backends.ok());

  SECTION("one channel per distinct peer") {
    CHECK(connect.calls == std::map<std::string, int>{{"127.0.0.1:1", 1}, {"127.0.0.1:2", 1}});
    REQUIRE(backends->peers().size() == 2);
    CHECK(backends->peers()[0].config.peer == "customer-store");
    CHECK(backends->peers()[1].config.peer == "transaction");
    const auto& routes = backends->routes();
    REQUIRE(routes.size() == 5);
    CHECK(routes[0].channel == backends->peers()[0].channel);
    CHECK(routes[1].channel == nullptr);  // AdminService: the in-process server
    for (size_t i : {2, 3, 4}) CHECK(routes[i].channel == backends->peers()[1].channel);
  }
  SECTION("the REST services are the table's, in its order") {
    std::vector<std::string> rest;
    for (const auto* s : backends->Services()) rest.push_back(s->full_name());
    CHECK(rest == std::vector<std::string>{kCustomerStore, kAdmin, kTransaction, kErp, kPipeline});
    // The streaming ERP service gets no REST route.
    CHECK(RoutesFromServices({backends->Services()[3]}).empty());
    CHECK_FALSE(RoutesFromServices(backends->Services()).empty());
  }
  SECTION("reflection lists health, reflection and every service") {
    CHECK(backends->PublicServices() ==
          std::vector<std::string>{"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                                   "grpc.reflection.v1alpha.ServerReflection", kCustomerStore,
                                   kAdmin, kTransaction, kErp, kPipeline});
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
                               "/crm.transaction.v1.PipelineService/CreateLead"}) {
      INFO(method);
      CHECK(proxy.HasBackend(method));
      CHECK(proxy.RouteFor(method).known);
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
    REQUIRE(c->peers.size() == 2);
    CHECK(c->peers[0].addr == "127.0.0.1:50061");
    CHECK(c->peers[1].addr == "127.0.0.1:50062");
    CHECK(c->service.pg_pool_size == 8);
    CHECK(c->service.workers == 8);
    CHECK(c->service.max_queue == 4096);
    const std::string dump = c->ToRedactedString();
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

// A method missing from the permission table is denied to everyone: a new
// RPC (or a new row of the backend table) that was not added there would be
// unusable. Every method of every service of the table must be listed.
TEST_CASE("Every RPC of the table's services has a permission entry", "[gateway][domain]") {
  int methods = 0;
  for (const BackendService& row : BackendTable()) {
    REQUIRE(row.file != nullptr);
    const google::protobuf::ServiceDescriptor* svc =
        row.file()->pool()->FindServiceByName(row.service);
    INFO(row.service);
    REQUIRE(svc != nullptr);
    for (int m = 0; m < svc->method_count(); ++m) {
      const std::string full = "/" + svc->full_name() + "/" + svc->method(m)->name();
      INFO(full);
      CHECK(domain::IsKnownMethod(full));
      ++methods;
    }
  }
  CHECK(methods >= 57);  // the services really were walked
}

}  // namespace
}  // namespace crm::gateway::api

// The proxy's pure parts: the method table (route and shape of a method) and
// the ids an inbound call gets.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "crm/customer_store/v1/customer_store.pb.h"
#include "crm/transaction/v1/erp.pb.h"
#include "libs/grpcutil/context.h"
#include "services/gateway/api/call_metadata.h"
#include "services/gateway/api/method_table.h"

namespace crm::gateway::api {
namespace {

constexpr char kCustomerStore[] = "crm.customer_store.v1.CustomerStoreService";

TEST_CASE("MethodTable routes a service's methods with their shapes", "[gateway][api]") {
  // Keeps both proto files linked (the table reads the generated pool).
  (void)customer_store::v1::CustomerView::descriptor();
  (void)transaction::v1::IngestOrdersRequest::descriptor();
  // A channel is lazy: nothing connects to this address.
  grpc::GenericStub stub(grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
  MethodTable table;
  table.AddService(kCustomerStore, &stub);

  MethodRoute view = table.Find("/crm.customer_store.v1.CustomerStoreService/GetCustomerView");
  CHECK(view.stub == &stub);
  CHECK(view.kind == MethodKind::kUnary);
  CHECK(view.known());
  CHECK_FALSE(view.relayed_stream());

  MethodRoute import = table.Find("/crm.customer_store.v1.CustomerStoreService/ImportCustomers");
  CHECK(import.stub == &stub);
  CHECK(import.kind == MethodKind::kClientStreaming);

  SECTION("a method the descriptors do not list: its service's backend, unknown shape") {
    MethodRoute r = table.Find("/crm.customer_store.v1.CustomerStoreService/NoSuchMethod");
    CHECK(r.stub == &stub);
    CHECK(r.kind == MethodKind::kUnknown);
    CHECK_FALSE(r.known());
  }
  SECTION("a service without a backend: no stub, its shape still from the descriptors") {
    MethodRoute r = table.Find("/crm.transaction.v1.ErpIntegrationService/ExportOrders");
    CHECK(r.stub == nullptr);
    CHECK(r.kind == MethodKind::kServerStreaming);
    CHECK(r.relayed_stream());
  }
  SECTION("malformed names route nowhere") {
    for (const char* bad : {"", "/", "no-slash", "/crm.customer_store.v1.CustomerStoreService"}) {
      MethodRoute r = table.Find(bad);
      CHECK(r.stub == nullptr);
      CHECK_FALSE(r.known());
    }
  }
  SECTION("every method in the table has the shape KindOf reads") {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(kCustomerStore);
    REQUIRE(service != nullptr);
    for (int i = 0; i < service->method_count(); ++i) {
      std::string m = std::string("/") + kCustomerStore + "/" + service->method(i)->name();
      CHECK(table.Find(m).kind == KindOf(m));
    }
  }
}

TEST_CASE("Inbound ids: the client's when sane, generated otherwise", "[gateway][api]") {
  SECTION("request id") {
    CHECK(RequestIdFrom("req-1_a.b") == "req-1_a.b");
    for (const std::string& bad :
         {std::string(), std::string("a b"), std::string("x\ny"), std::string(129, 'a')}) {
      std::string id = RequestIdFrom(bad);
      CHECK(id != bad);
      CHECK(id.size() == 36);  // a UUID
    }
  }
  SECTION("traceparent") {
    const std::string valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    CHECK(TraceparentFrom(valid) == valid);
    std::set<std::string> seen;
    for (const char* bad :
         {"", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}) {
      std::string tp = TraceparentFrom(bad);
      CHECK(tp.size() == 55);
      CHECK_FALSE(grpcutil::TraceIdOf(tp).empty());
      CHECK(tp.substr(36, 16) != "0000000000000000");  // parent id never all zeros
      seen.insert(tp);
    }
    CHECK(seen.size() == 3);  // a new trace each time
  }
}

}  // namespace
}  // namespace crm::gateway::api

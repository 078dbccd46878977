// customer-store's gRPC edge (CustomerStoreGrpcService) through real stubs
// and an in-process server on 127.0.0.1:0, over the use cases and in-memory
// fakes of their ports: proto <-> domain mapping, the sealed tenant context,
// error mapping with ErrorInfo reasons, overload, escaped exceptions and
// cancellation, for unary calls and the ImportCustomers client stream.
#include "services/customer_store/api/grpc_service.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "libs/common/context_seal.h"
#include "libs/common/errors.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/grpcutil/status_conversion.h"
#include "libs/grpcutil/testing/test_server.h"
#include "prometheus/registry.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/customer_store/fake_behaviour_repository.h"
#include "tests/support/fakes/customer_store/fake_customer_insights.h"
#include "tests/support/fakes/customer_store/fake_customer_repository.h"
#include "tests/support/fakes/customer_store/fake_import_repository.h"
#include "tests/support/fakes/customer_store/fake_view_cache.h"
#include "tests/support/fakes/faulty_clock.h"

namespace {

namespace v1 = crm::customer_store::v1;
namespace app = crm::customer_store::app;
namespace gt = crm::grpcutil::testing;
using crm::testing::FaultyClock;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOtherTenant[] = "22222222-2222-4222-8222-222222222222";
constexpr char kMissingId[] = "99999999-9999-4999-8999-999999999999";

// The service as main wires it, over fakes, with one executor worker and a
// queue of one so tests can fill it.
struct Edge {
  crm::testing::FakeCustomerRepository repo;
  crm::testing::FakeViewCache cache;
  crm::testing::FakeImportRepository imports;
  FaultyClock clock;
  crm::testing::SequentialIdGenerator ids;
  app::CustomerStore store{repo, cache, clock, ids};
  app::CustomerMerger merger{repo, cache, clock};
  app::CustomerImporter importer{imports, cache, clock, ids};
  app::CustomerResolver resolver{repo, clock, ids};
  crm::testing::FakeBehaviourRepository behaviour;
  app::BehaviourTracker tracker{behaviour, cache, clock, ids};
  prometheus::Registry registry;
  crm::grpcutil::RpcMetrics metrics{registry, "customer-store"};
  crm::common::PageTokenCodec tokens{"page-token-secret-for-tests"};
  crm::common::Executor executor{1, 1};
  crm::testing::FakeCustomerInsights insights;  // view_sections_test.cc: the real adapter
  app::CustomerViews views{store, insights, absl::Milliseconds(300)};
  app::BehaviourRetention retention{behaviour, behaviour, clock};
  crm::customer_store::api::CustomerStoreGrpcService service{
      store, merger, importer, executor, metrics, tokens, resolver, tracker, views, retention};
  std::unique_ptr<gt::TestServer> server;  // last: stops first
  std::unique_ptr<v1::CustomerStoreService::Stub> stub;

  Edge() {
    gt::UseTestContextKey();
    auto started = gt::TestServer::Start({&service});
    REQUIRE(started.ok());
    server = *std::move(started);
    stub = v1::CustomerStoreService::NewStub(server->channel());
  }
  ~Edge() { server->Shutdown(); }

  grpc::Status Create(const std::string& tenant, const std::string& email, v1::Customer* out) {
    v1::CreateCustomerRequest req;
    req.mutable_customer()->set_given_name("Ada");
    req.mutable_customer()->add_emails(email);
    auto ctx = gt::CallContext(gt::Tenant(tenant));
    return stub->CreateCustomer(ctx.get(), req, out);
  }
};

void RequireError(const grpc::Status& s, grpc::StatusCode code, const std::string& reason) {
  INFO(s.error_code() << ": " << s.error_message());
  REQUIRE(s.error_code() == code);
  CHECK(gt::ReasonOf(s) == reason);
}

v1::ImportRow Row(int64_t line, const std::string& email) {
  v1::ImportRow r;
  r.set_line(line);
  r.mutable_customer()->set_given_name("Row");
  r.mutable_customer()->add_emails(email);
  return r;
}

TEST_CASE("customer-store edge: a customer made through the stub is mapped and kept in its tenant",
          "[customer_store][api]") {
  Edge e;
  v1::Customer created;
  grpc::Status s = e.Create(kTenant, "  ADA@Example.COM ", &created);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(created.id() == crm::testing::SequentialIdGenerator::IdFor(1));
  CHECK(created.given_name() == "Ada");
  REQUIRE(created.emails_size() == 1);
  CHECK(created.emails(0) == "ada@example.com");  // normalized by the use case, mapped back
  CHECK_FALSE(created.etag().empty());
  CHECK(created.create_time().seconds() == 1700000000);
  // Written under the tenant of the sealed context, nowhere else.
  CHECK(e.repo.Get(kTenant, created.id()).ok());
  CHECK(e.repo.Get(kOtherTenant, created.id()).status().code() == absl::StatusCode::kNotFound);

  v1::GetCustomerRequest get;
  get.set_customer_id(created.id());
  v1::Customer read;
  auto ctx = gt::CallContext(gt::Tenant(kTenant));
  REQUIRE(e.stub->GetCustomer(ctx.get(), get, &read).ok());
  CHECK(read.id() == created.id());
  CHECK(read.etag() == created.etag());

  SECTION("another tenant's id is NOT_FOUND, with the reason in ErrorInfo and the trailer") {
    auto other = gt::CallContext(gt::Tenant(kOtherTenant));
    grpc::Status nf = e.stub->GetCustomer(other.get(), get, &read);
    RequireError(nf, grpc::StatusCode::NOT_FOUND, "CUSTOMER_NOT_FOUND");
    CHECK(gt::ReasonTrailer(*other) == "CUSTOMER_NOT_FOUND");
    CHECK(gt::AwaitHandled(e.registry, "GetCustomer", "NOT_FOUND", 1));
  }
  SECTION("the 360 view (a raw method) answers the same customer") {
    v1::GetCustomerViewRequest vreq;
    vreq.set_customer_id(created.id());
    v1::CustomerView view;
    auto vctx = gt::CallContext(gt::Tenant(kTenant));
    grpc::Status vs = e.stub->GetCustomerView(vctx.get(), vreq, &view);
    INFO(vs.error_message());
    REQUIRE(vs.ok());
    CHECK(view.customer().id() == created.id());
    CHECK(view.customer().emails(0) == "ada@example.com");
  }
  CHECK(gt::AwaitHandled(e.registry, "CreateCustomer", "OK", 1));
  CHECK(gt::AwaitHandled(e.registry, "GetCustomer", "OK", 1));
}

TEST_CASE("customer-store edge: calls without a valid sealed tenant context are UNAUTHENTICATED",
          "[customer_store][api]") {
  Edge e;
  v1::GetCustomerRequest get;
  get.set_customer_id(kMissingId);
  v1::Customer out;
  SECTION("no context at all") {
    auto ctx = gt::AnonymousContext();
    RequireError(e.stub->GetCustomer(ctx.get(), get, &out), grpc::StatusCode::UNAUTHENTICATED,
                 "MISSING_TENANT_CONTEXT");
  }
  SECTION("a tenant header without a seal") {
    auto ctx = gt::AnonymousContext();
    ctx->AddMetadata(crm::grpcutil::kTenantHeader, kTenant);
    RequireError(e.stub->GetCustomer(ctx.get(), get, &out), grpc::StatusCode::UNAUTHENTICATED,
                 "INVALID_TENANT_CONTEXT");
  }
  SECTION("a seal made for another tenant, or with another key") {
    bool other_key = GENERATE(false, true);
    auto ctx = gt::AnonymousContext();
    ctx->AddMetadata(crm::grpcutil::kTenantHeader, kOtherTenant);
    ctx->AddMetadata(crm::grpcutil::kPrincipalHeader, "key-test");
    ctx->AddMetadata(crm::grpcutil::kRolesHeader, "admin");
    std::string seal =
        other_key ? crm::common::SealContext("another-deployment-key-0123456789abcdef",
                                             {kOtherTenant, "key-test", "admin"},
                                             absl::Now() + absl::Seconds(60))
                  : crm::common::SealContext(gt::kTestContextKey, {kTenant, "key-test", "admin"},
                                             absl::Now() + absl::Seconds(60));
    ctx->AddMetadata(crm::grpcutil::kContextSealHeader, seal);
    RequireError(e.stub->GetCustomer(ctx.get(), get, &out), grpc::StatusCode::UNAUTHENTICATED,
                 "INVALID_TENANT_CONTEXT");
  }
  SECTION("the import stream too") {
    auto ctx = gt::AnonymousContext();
    v1::ImportCustomersResponse resp;
    auto writer = e.stub->ImportCustomers(ctx.get(), &resp);
    v1::ImportCustomersRequest msg;
    msg.set_batch_id("b-1");
    *msg.add_rows() = Row(1, "a@example.com");
    writer->Write(msg);
    writer->WritesDone();
    RequireError(writer->Finish(), grpc::StatusCode::UNAUTHENTICATED, "MISSING_TENANT_CONTEXT");
    CHECK(e.imports.calls() == 0);
    CHECK(gt::AwaitHandled(e.registry, "ImportCustomers", "UNAUTHENTICATED", 1));
  }
  CHECK(e.repo.calls() == 0);  // refused before any work
}

TEST_CASE("customer-store edge: errors keep their code, reason and field",
          "[customer_store][api]") {
  Edge e;
  v1::Customer created;
  REQUIRE(e.Create(kTenant, "ada@example.com", &created).ok());

  SECTION("invalid input names the field") {
    v1::Customer out;
    grpc::Status s = e.Create(kTenant, "not-an-email", &out);
    RequireError(s, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_FIELD");
    CHECK(absl::StartsWith(crm::common::FieldOf(crm::grpcutil::FromGrpcStatus(s)), "emails"));
  }
  SECTION("an identity another customer owns") {
    v1::Customer out;
    RequireError(e.Create(kTenant, "ada@example.com", &out), grpc::StatusCode::ALREADY_EXISTS,
                 "IDENTITY_TAKEN");
  }
  SECTION("a stale etag") {
    v1::UpdateCustomerRequest req;
    req.set_customer_id(created.id());
    req.mutable_customer()->set_family_name("Lovelace");
    req.set_etag("\"stale\"");
    v1::Customer out;
    auto ctx = gt::CallContext(gt::Tenant(kTenant));
    RequireError(e.stub->UpdateCustomer(ctx.get(), req, &out), grpc::StatusCode::ABORTED,
                 "ETAG_MISMATCH");
  }
  SECTION("a dependency that is down") {
    e.repo.FailWith(absl::UnavailableError("database unreachable"));
    v1::GetCustomerRequest get;
    get.set_customer_id(created.id());
    v1::Customer out;
    auto ctx = gt::CallContext(gt::Tenant(kTenant));
    RequireError(e.stub->GetCustomer(ctx.get(), get, &out), grpc::StatusCode::UNAVAILABLE,
                 "DEPENDENCY_UNAVAILABLE");
  }
}

TEST_CASE("customer-store edge: a full executor queue is RESOURCE_EXHAUSTED before any work",
          "[customer_store][api]") {
  Edge e;
  int calls = e.repo.calls();
  gt::ExecutorGate gate(e.executor, 1);
  gate.FillQueue();
  v1::GetCustomerRequest get;
  get.set_customer_id(kMissingId);
  v1::Customer out;
  auto ctx = gt::CallContext(gt::Tenant(kTenant));
  RequireError(e.stub->GetCustomer(ctx.get(), get, &out), grpc::StatusCode::RESOURCE_EXHAUSTED,
               "OVERLOADED");
  CHECK(gt::ReasonTrailer(*ctx) == "OVERLOADED");

  SECTION("the import stream too, once its rows are in") {
    auto sctx = gt::CallContext(gt::Tenant(kTenant));
    v1::ImportCustomersResponse resp;
    auto writer = e.stub->ImportCustomers(sctx.get(), &resp);
    v1::ImportCustomersRequest msg;
    msg.set_batch_id("b-1");
    *msg.add_rows() = Row(1, "a@example.com");
    REQUIRE(writer->Write(msg));
    writer->WritesDone();
    RequireError(writer->Finish(), grpc::StatusCode::RESOURCE_EXHAUSTED, "OVERLOADED");
    CHECK(e.imports.calls() == 0);
    CHECK(gt::AwaitHandled(e.registry, "ImportCustomers", "RESOURCE_EXHAUSTED", 1));
  }
  CHECK(gt::RejectedCount(e.registry) >= 1);
  CHECK(e.repo.calls() == calls);
  gate.Release();
  // Served again once the queue drains.
  auto again = gt::CallContext(gt::Tenant(kTenant));
  RequireError(e.stub->GetCustomer(again.get(), get, &out), grpc::StatusCode::NOT_FOUND,
               "CUSTOMER_NOT_FOUND");
}

TEST_CASE("customer-store edge: an exception in the app layer is INTERNAL with a generic message",
          "[customer_store][api]") {
  Edge e;
  e.clock.set_throwing(true);
  SECTION("unary") {
    v1::Customer out;
    grpc::Status s = e.Create(kTenant, "ada@example.com", &out);
    RequireError(s, grpc::StatusCode::INTERNAL, "INTERNAL_ERROR");
    CHECK(s.error_message() == "internal error");
    CHECK_FALSE(absl::StrContains(s.error_details(), "10.0.0.7"));
    CHECK(gt::AwaitHandled(e.registry, "CreateCustomer", "INTERNAL", 1));
  }
  SECTION("the import stream") {
    auto ctx = gt::CallContext(gt::Tenant(kTenant));
    v1::ImportCustomersResponse resp;
    auto writer = e.stub->ImportCustomers(ctx.get(), &resp);
    v1::ImportCustomersRequest msg;
    msg.set_batch_id("b-1");
    *msg.add_rows() = Row(1, "a@example.com");
    REQUIRE(writer->Write(msg));
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    RequireError(s, grpc::StatusCode::INTERNAL, "INTERNAL_ERROR");
    CHECK(s.error_message() == "internal error");
    CHECK_FALSE(absl::StrContains(s.error_details(), "10.0.0.7"));
    CHECK(gt::AwaitHandled(e.registry, "ImportCustomers", "INTERNAL", 1));
  }
  e.clock.set_throwing(false);
  v1::Customer out;
  CHECK(e.Create(kTenant, "ada@example.com", &out).ok());  // the server lives on
}

TEST_CASE("customer-store edge: a call whose client has gone ends CANCELLED without running",
          "[customer_store][api]") {
  Edge e;
  v1::GetCustomerRequest get;
  get.set_customer_id(kMissingId);
  SECTION("deadline passed while queued") {
    gt::ExecutorGate gate(e.executor, 1);  // the call waits in the queue
    v1::Customer out;
    auto ctx = gt::CallContext(gt::Tenant(kTenant), absl::Milliseconds(200));
    grpc::Status s = e.stub->GetCustomer(ctx.get(), get, &out);
    CHECK(s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
    absl::SleepFor(gt::kCancelNoticed);
    gate.Release();
    CHECK(gt::AwaitHandled(e.registry, "GetCustomer", "CANCELLED", 1));
  }
  SECTION("cancelled by the client while queued") {
    gt::ExecutorGate gate(e.executor, 1);
    v1::Customer out;
    auto ctx = gt::CallContext(gt::Tenant(kTenant));
    absl::Notification done;
    grpc::Status s;
    e.stub->async()->GetCustomer(ctx.get(), &get, &out, [&](grpc::Status st) {
      s = std::move(st);
      done.Notify();
    });
    absl::SleepFor(absl::Milliseconds(100));  // the call reaches the queue
    ctx->TryCancel();
    REQUIRE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
    CHECK(s.error_code() == grpc::StatusCode::CANCELLED);
    absl::SleepFor(gt::kCancelNoticed);
    gate.Release();
    CHECK(gt::AwaitHandled(e.registry, "GetCustomer", "CANCELLED", 1));
  }
  SECTION("the import stream cancelled before its batch ran") {
    auto ctx = gt::CallContext(gt::Tenant(kTenant));
    v1::ImportCustomersResponse resp;
    auto writer = e.stub->ImportCustomers(ctx.get(), &resp);
    v1::ImportCustomersRequest msg;
    msg.set_batch_id("b-1");
    *msg.add_rows() = Row(1, "a@example.com");
    REQUIRE(writer->Write(msg));
    ctx->TryCancel();
    CHECK(writer->Finish().error_code() == grpc::StatusCode::CANCELLED);
    CHECK(gt::AwaitHandled(e.registry, "ImportCustomers", "CANCELLED", 1));
    CHECK(e.imports.calls() == 0);
  }
  CHECK(e.repo.calls() == 0);  // the use case never ran
}

TEST_CASE("customer-store edge: the import stream collects every message into one batch",
          "[customer_store][api]") {
  Edge e;
  auto ctx = gt::CallContext(gt::Tenant(kTenant));
  v1::ImportCustomersResponse resp;
  auto writer = e.stub->ImportCustomers(ctx.get(), &resp);
  v1::ImportCustomersRequest first;
  first.set_batch_id("batch-7");
  *first.add_rows() = Row(1, "a@example.com");
  *first.add_rows() = Row(2, "b@example.com");
  REQUIRE(writer->Write(first));
  v1::ImportCustomersRequest second;  // batch id only on the first message
  *second.add_rows() = Row(3, "not-an-email");
  REQUIRE(writer->Write(second));
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(resp.batch_id() == "batch-7");
  CHECK(resp.rows_received() == 3);
  CHECK(resp.created() == 2);
  CHECK(resp.failed() == 1);
  REQUIRE(resp.errors_size() == 1);
  CHECK(resp.errors(0).line() == 3);
  CHECK(e.imports.CustomerCount(kTenant) == 2);
  CHECK(e.imports.CustomerCount(kOtherTenant) == 0);
  REQUIRE(e.imports.last_call().has_value());
  CHECK(e.imports.last_call()->tenant == kTenant);
  CHECK(gt::AwaitHandled(e.registry, "ImportCustomers", "OK", 1));
}

TEST_CASE("customer-store edge: TrackEvents maps events and answers per event",
          "[customer_store][api][behaviour]") {
  Edge e;
  e.behaviour.PutCustomer(kTenant, kMissingId);  // a known customer, for this test
  v1::TrackEventsRequest req;
  v1::BehaviourEvent* a = req.add_events();
  a->set_type("product.viewed");
  a->set_customer_id(kMissingId);
  a->mutable_properties()->set_sku("SKU-1");
  a->mutable_properties()->add_category_path("shoes");
  a->mutable_context()->set_ip("198.51.100.77");
  a->mutable_context()->set_user_agent("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)");
  v1::BehaviourEvent* b = req.add_events();
  b->set_type("page.viewed");
  b->set_visitor_id("v-1");
  b->mutable_occur_time()->set_seconds(253402300800LL);  // beyond the Timestamp range
  v1::BehaviourEvent* c = req.add_events();
  c->set_type("x.nope!");
  c->set_visitor_id("v-1");
  v1::TrackEventsResponse resp;
  auto ctx = gt::CallContext(gt::Tenant(kTenant));
  grpc::Status s = e.stub->TrackEvents(ctx.get(), req, &resp);
  INFO(s.error_message());
  REQUIRE(s.ok());
  REQUIRE(resp.results_size() == 3);
  CHECK(resp.accepted() == 1);
  CHECK(resp.refused() == 2);
  CHECK(resp.results(0).outcome() == v1::TrackEventResult::OUTCOME_ACCEPTED);
  CHECK(resp.results(0).customer_id() == kMissingId);
  CHECK(resp.results(1).outcome() == v1::TrackEventResult::OUTCOME_REFUSED);
  CHECK(resp.results(1).reason() == "EVENT_TIME_OUT_OF_RANGE");
  CHECK(resp.results(2).reason() == "UNKNOWN_EVENT_TYPE");
  CHECK(resp.results(2).field() == "type");
  auto stored = e.behaviour.Events(kTenant);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].ip_prefix == "198.51.100.0");
  CHECK(stored[0].device_class == crm::customer_store::domain::DeviceClass::kTablet);
  CHECK(stored[0].properties.category_path == std::vector<std::string>{"shoes"});

  v1::TrackEventsRequest empty;
  auto ctx2 = gt::CallContext(gt::Tenant(kTenant));
  RequireError(e.stub->TrackEvents(ctx2.get(), empty, &resp), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD");
}

TEST_CASE("customer-store edge: IdentifyCustomer links a visitor once",
          "[customer_store][api][behaviour]") {
  Edge e;
  e.behaviour.PutCustomer(kTenant, kMissingId);
  v1::IdentifyCustomerRequest req;
  req.set_customer_id(kMissingId);
  req.set_visitor_id("v-7");
  v1::IdentifyCustomerResponse resp;
  auto ctx = gt::CallContext(gt::Tenant(kTenant));
  grpc::Status s = e.stub->IdentifyCustomer(ctx.get(), req, &resp);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(resp.linked());
  CHECK(resp.visitor_id() == "v-7");
  auto ctx2 = gt::CallContext(gt::Tenant(kOtherTenant));
  RequireError(e.stub->IdentifyCustomer(ctx2.get(), req, &resp), grpc::StatusCode::NOT_FOUND,
               "CUSTOMER_NOT_FOUND");
}

}  // namespace

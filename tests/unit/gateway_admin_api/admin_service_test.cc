// The gateway's AdminGrpcService through real stubs and an in-process server
// on 127.0.0.1:0, over the Admin use cases and in-memory FakeKeyStore /
// FakeRateLimiter: mapping, the sealed tenant context, error reasons,
// overload, escaped exceptions and cancellation.
#include "services/gateway/api/admin_service.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/grpcutil/testing/test_server.h"
#include "prometheus/registry.h"
#include "tests/support/fakes/faulty_clock.h"
#include "tests/support/fakes/gateway/fake_key_store.h"
#include "tests/support/fakes/gateway/fake_rate_limiter.h"

namespace {

namespace v1 = crm::gateway::v1;
namespace app = crm::gateway::app;
namespace gt = crm::grpcutil::testing;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOtherTenant[] = "22222222-2222-4222-8222-222222222222";

struct Edge {
  crm::testing::FakeKeyStore keys;
  crm::testing::FakeRateLimiter limiter;
  crm::testing::FaultyClock clock{absl::FromUnixSeconds(1767225600)};
  app::Access access{keys, limiter, clock, app::AccessOptions{}};
  app::Admin admin{keys, access, clock};
  prometheus::Registry registry;
  crm::grpcutil::RpcMetrics metrics{registry, "gateway"};
  crm::common::PageTokenCodec tokens{"page-token-secret-for-tests"};
  crm::common::Executor executor{1, 1};
  crm::gateway::api::AdminGrpcService service{admin, executor, metrics, tokens};
  std::unique_ptr<gt::TestServer> server;  // last: stops first
  std::unique_ptr<v1::AdminService::Stub> stub;

  Edge() {
    gt::UseTestContextKey();
    auto started = gt::TestServer::Start({&service});
    REQUIRE(started.ok());
    server = *std::move(started);
    stub = v1::AdminService::NewStub(server->channel());
  }
  ~Edge() { server->Shutdown(); }

  grpc::Status CreateKey(const std::string& tenant, v1::CreateApiKeyResponse* out,
                         v1::Role role = v1::ROLE_MARKETER) {
    v1::CreateApiKeyRequest req;
    req.set_display_name("campaign tool");
    req.add_roles(role);
    req.set_rate_limit_per_second(20);
    auto ctx = gt::CallContext(gt::Tenant(tenant, "admin-key-1"));
    return stub->CreateApiKey(ctx.get(), req, out);
  }
};

void RequireError(const grpc::Status& s, grpc::StatusCode code, const std::string& reason) {
  INFO(s.error_code() << ": " << s.error_message());
  REQUIRE(s.error_code() == code);
  CHECK(gt::ReasonOf(s) == reason);
}

TEST_CASE("gateway admin edge: a key made through the stub is mapped and kept in its tenant",
          "[gateway][api]") {
  Edge e;
  v1::CreateApiKeyResponse created;
  grpc::Status s = e.CreateKey(kTenant, &created);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK_FALSE(created.secret().empty());
  CHECK(created.key().display_name() == "campaign tool");
  REQUIRE(created.key().roles_size() == 1);
  CHECK(created.key().roles(0) == v1::ROLE_MARKETER);
  CHECK(created.key().rate_limit_per_second() == 20);
  CHECK(created.key().prefix() == "crm_" + created.key().id());
  CHECK(created.key().create_time().seconds() == 1767225600);
  CHECK_FALSE(created.key().has_revoke_time());

  v1::ListApiKeysResponse mine;
  auto ctx = gt::CallContext(gt::Tenant(kTenant));
  REQUIRE(e.stub->ListApiKeys(ctx.get(), v1::ListApiKeysRequest(), &mine).ok());
  REQUIRE(mine.keys_size() == 1);
  CHECK(mine.keys(0).id() == created.key().id());
  v1::ListApiKeysResponse theirs;
  auto other = gt::CallContext(gt::Tenant(kOtherTenant));
  REQUIRE(e.stub->ListApiKeys(other.get(), v1::ListApiKeysRequest(), &theirs).ok());
  CHECK(theirs.keys_size() == 0);

  v1::RevokeApiKeyRequest revoke;
  revoke.set_key_id(created.key().id());
  v1::ApiKey out;
  SECTION("another tenant cannot revoke it: NOT_FOUND") {
    auto c = gt::CallContext(gt::Tenant(kOtherTenant));
    RequireError(e.stub->RevokeApiKey(c.get(), revoke, &out), grpc::StatusCode::NOT_FOUND,
                 "API_KEY_NOT_FOUND");
  }
  SECTION("its tenant revokes it") {
    auto c = gt::CallContext(gt::Tenant(kTenant));
    REQUIRE(e.stub->RevokeApiKey(c.get(), revoke, &out).ok());
    CHECK(out.has_revoke_time());
  }
  CHECK(gt::AwaitHandled(e.registry, "CreateApiKey", "OK", 1));
}

TEST_CASE("gateway admin edge: refusals, overload, exceptions and cancellation",
          "[gateway][api]") {
  Edge e;
  v1::CreateApiKeyResponse out;
  SECTION("no tenant context") {
    v1::CreateApiKeyRequest req;
    req.set_display_name("x");
    req.add_roles(v1::ROLE_ADMIN);
    auto ctx = gt::AnonymousContext();
    RequireError(e.stub->CreateApiKey(ctx.get(), req, &out), grpc::StatusCode::UNAUTHENTICATED,
                 "MISSING_TENANT_CONTEXT");
  }
  SECTION("granting platform-admin without being one") {
    RequireError(e.CreateKey(kTenant, &out, v1::ROLE_PLATFORM_ADMIN),
                 grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_DENIED_FOR_ROLE");
  }
  SECTION("a full queue") {
    gt::ExecutorGate gate(e.executor, 1);
    gate.FillQueue();
    RequireError(e.CreateKey(kTenant, &out), grpc::StatusCode::RESOURCE_EXHAUSTED, "OVERLOADED");
  }
  SECTION("an exception in the use case") {
    e.clock.set_throwing(true);
    grpc::Status s = e.CreateKey(kTenant, &out);
    RequireError(s, grpc::StatusCode::INTERNAL, "INTERNAL_ERROR");
    CHECK(s.error_message() == "internal error");
    CHECK_FALSE(absl::StrContains(s.error_details(), "10.0.0.7"));
  }
  SECTION("a deadline that passes while queued: nothing is written") {
    gt::ExecutorGate gate(e.executor, 1);
    v1::CreateApiKeyRequest req;
    req.set_display_name("x");
    req.add_roles(v1::ROLE_SALES);
    auto ctx = gt::CallContext(gt::Tenant(kTenant), absl::Milliseconds(200));
    CHECK(e.stub->CreateApiKey(ctx.get(), req, &out).error_code() ==
          grpc::StatusCode::DEADLINE_EXCEEDED);
    absl::SleepFor(gt::kCancelNoticed);
    gate.Release();
    CHECK(gt::AwaitHandled(e.registry, "CreateApiKey", "CANCELLED", 1));
    auto listed = e.keys.ListKeys(kTenant, "", 10);
    REQUIRE(listed.ok());
    CHECK(listed->empty());
  }
}

TEST_CASE("gateway admin edge: a create with a request_id answers the first call's bytes",
          "[gateway][api][idempotency]") {
  Edge e;
  v1::CreateApiKeyRequest req;
  req.set_display_name("campaign tool");
  req.add_roles(v1::ROLE_MARKETER);
  req.set_request_id("rid-1");
  auto call = [&](const v1::CreateApiKeyRequest& r, const std::string& tenant,
                  v1::CreateApiKeyResponse* out) {
    auto ctx = gt::CallContext(gt::Tenant(tenant, "admin-key-1"));
    return e.stub->CreateApiKey(ctx.get(), r, out);
  };
  v1::CreateApiKeyResponse first, again;
  REQUIRE(call(req, kTenant, &first).ok());
  REQUIRE(call(req, kTenant, &again).ok());
  CHECK(again.SerializeAsString() == first.SerializeAsString());
  auto listed = e.keys.ListKeys(kTenant, "", 10);
  REQUIRE(listed.ok());
  CHECK(listed->size() == 1);

  SECTION("another body is IDEMPOTENCY_KEY_REUSED on request_id") {
    v1::CreateApiKeyRequest other = req;
    other.set_rate_limit_per_second(5);
    v1::CreateApiKeyResponse out;
    grpc::Status s = call(other, kTenant, &out);
    RequireError(s, grpc::StatusCode::INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED");
  }
  SECTION("another tenant's same request_id is a new key") {
    v1::CreateApiKeyResponse theirs;
    REQUIRE(call(req, kOtherTenant, &theirs).ok());
    CHECK(theirs.key().id() != first.key().id());
    CHECK(theirs.secret() != first.secret());
  }
  SECTION("a request_id with a control character is refused") {
    v1::CreateApiKeyRequest bad = req;
    bad.set_request_id(std::string("R\0X", 3));
    v1::CreateApiKeyResponse out;
    RequireError(call(bad, kTenant, &out), grpc::StatusCode::INVALID_ARGUMENT, "INVALID_FIELD");
  }
}

TEST_CASE("gateway admin edge: CreateTenant with a request_id creates one tenant",
          "[gateway][api][idempotency]") {
  Edge e;
  v1::CreateTenantRequest req;
  req.set_display_name("Acme");
  req.set_request_id("rid-tenant");
  auto call = [&](v1::CreateTenantResponse* out) {
    auto ctx = gt::CallContext(gt::Tenant(kTenant, "platform-key-1"));
    return e.stub->CreateTenant(ctx.get(), req, out);
  };
  v1::CreateTenantResponse first, again;
  grpc::Status s = call(&first);
  INFO(s.error_message());
  REQUIRE(s.ok());
  REQUIRE(call(&again).ok());
  CHECK(again.SerializeAsString() == first.SerializeAsString());
  CHECK(e.keys.TenantOf(first.tenant().id()).has_value());
  auto listed = e.keys.ListKeys(first.tenant().id(), "", 10);
  REQUIRE(listed.ok());
  CHECK(listed->size() == 1);
}

}  // namespace

// PipelineGrpcService through real stubs over fakes: mapping, sealed tenant
// context, error reasons, overload, escaped exceptions and cancellation.
#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "libs/grpcutil/status_conversion.h"
#include "tests/unit/transaction_api/edge.h"

namespace crm::transaction::api_test {
namespace {

v1::CreateLeadRequest LeadRequest(const std::string& request_id = "lead-1") {
  v1::CreateLeadRequest req;
  req.set_request_id(request_id);
  v1::Lead* l = req.mutable_lead();
  l->set_given_name("Grace");
  l->set_family_name("Hopper");
  l->set_company_name("Navy");
  l->set_email(" Grace@Example.COM ");
  l->set_source("web");
  return req;
}

TEST_CASE("pipeline edge: a lead is mapped, owned by the caller and kept in its tenant",
          "[transaction][pipeline][api]") {
  Edge e;
  v1::Lead lead;
  auto ctx = Edge::Ctx();
  grpc::Status s = e.pipeline_stub->CreateLead(ctx.get(), LeadRequest(), &lead);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK_FALSE(lead.id().empty());
  CHECK(lead.email() == "grace@example.com");
  CHECK(lead.status() == v1::LEAD_STATUS_NEW);
  CHECK(lead.owner() == "key-test");  // the principal of the sealed context
  CHECK(e.pipeline_repo.GetLead(kTenant, lead.id()).ok());

  v1::GetLeadRequest get;
  get.set_lead_id(lead.id());
  v1::Lead read;
  auto mine = Edge::Ctx();
  REQUIRE(e.pipeline_stub->GetLead(mine.get(), get, &read).ok());
  CHECK(read.company_name() == "Navy");
  auto theirs = Edge::Ctx(kOtherTenant);
  RequireError(e.pipeline_stub->GetLead(theirs.get(), get, &read), grpc::StatusCode::NOT_FOUND,
               "LEAD_NOT_FOUND");

  SECTION("a replay answers the first lead; another body under the key is refused") {
    v1::Lead replay;
    auto c1 = Edge::Ctx();
    REQUIRE(e.pipeline_stub->CreateLead(c1.get(), LeadRequest(), &replay).ok());
    CHECK(replay.id() == lead.id());
    v1::CreateLeadRequest other = LeadRequest();
    other.mutable_lead()->set_company_name("Army");
    auto c2 = Edge::Ctx();
    RequireError(e.pipeline_stub->CreateLead(c2.get(), other, &replay),
                 grpc::StatusCode::INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED");
  }
  CHECK(gt::AwaitHandled(e.registry, "CreateLead", "OK", 1));
}

TEST_CASE("pipeline edge: refusals, overload, exceptions and cancellation",
          "[transaction][pipeline][api]") {
  Edge e;
  v1::Lead out;
  SECTION("no request_id names the field") {
    auto ctx = Edge::Ctx();
    grpc::Status s = e.pipeline_stub->CreateLead(ctx.get(), LeadRequest(""), &out);
    RequireError(s, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_FIELD");
    CHECK(common::FieldOf(grpcutil::FromGrpcStatus(s)) == "request_id");
  }
  SECTION("no tenant context") {
    auto ctx = gt::AnonymousContext();
    RequireError(e.pipeline_stub->CreateLead(ctx.get(), LeadRequest(), &out),
                 grpc::StatusCode::UNAUTHENTICATED, "MISSING_TENANT_CONTEXT");
  }
  SECTION("a full queue") {
    gt::ExecutorGate gate(e.executor, 1);
    gate.FillQueue();
    auto ctx = Edge::Ctx();
    RequireError(e.pipeline_stub->CreateLead(ctx.get(), LeadRequest(), &out),
                 grpc::StatusCode::RESOURCE_EXHAUSTED, "OVERLOADED");
  }
  SECTION("an exception in the use case") {
    e.clock.set_throwing(true);
    auto ctx = Edge::Ctx();
    grpc::Status s = e.pipeline_stub->CreateLead(ctx.get(), LeadRequest(), &out);
    RequireError(s, grpc::StatusCode::INTERNAL, "INTERNAL_ERROR");
    CHECK(s.error_message() == "internal error");
    CHECK_FALSE(absl::StrContains(s.error_details(), "10.0.0.7"));
  }
  SECTION("cancelled by the client while queued") {
    gt::ExecutorGate gate(e.executor, 1);
    auto ctx = Edge::Ctx();
    v1::CreateLeadRequest req = LeadRequest();
    absl::Notification done;
    grpc::Status s;
    e.pipeline_stub->async()->CreateLead(ctx.get(), &req, &out, [&](grpc::Status st) {
      s = std::move(st);
      done.Notify();
    });
    absl::SleepFor(absl::Milliseconds(100));
    ctx->TryCancel();
    REQUIRE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
    CHECK(s.error_code() == grpc::StatusCode::CANCELLED);
    absl::SleepFor(gt::kCancelNoticed);
    gate.Release();
    CHECK(gt::AwaitHandled(e.registry, "CreateLead", "CANCELLED", 1));
    auto list = e.pipeline_repo.ListLeads(kTenant, app::LeadQuery{});
    REQUIRE(list.ok());
    CHECK(list->items.empty());  // nothing was written
  }
}

}  // namespace
}  // namespace crm::transaction::api_test

// ErpGrpcService's streams through real stubs over fakes: IngestOrders
// (bidirectional, one answer per batch) and ExportOrders (server stream, one
// page per message) end through the shared end-of-call path: same statuses,
// reasons, metrics and access log as unary calls, for success, refusals,
// overload, escaped exceptions and cancellation.
#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "libs/grpcutil/status_conversion.h"
#include "tests/unit/transaction_api/edge.h"

namespace crm::transaction::api_test {
namespace {

v1::IngestOrdersRequest Batch(const std::string& batch_id, std::vector<std::string> external_ids) {
  v1::IngestOrdersRequest req;
  req.set_batch_id(batch_id);
  for (const auto& x : external_ids) {
    v1::Order* o = req.add_orders();
    *o = NewOrder();
    o->set_external_id(x);
    o->set_channel(v1::SALES_CHANNEL_ERP);
  }
  return req;
}

TEST_CASE("ERP edge: ingest answers each batch, export streams what was ingested",
          "[transaction][erp][api]") {
  Edge e;
  auto ctx = Edge::Ctx();
  auto stream = e.erp_stub->IngestOrders(ctx.get());
  v1::IngestOrdersResponse resp;
  REQUIRE(stream->Write(Batch("b-1", {"E-1", "E-2"})));
  REQUIRE(stream->Read(&resp));
  CHECK(resp.batch_id() == "b-1");
  CHECK(resp.created() == 2);
  REQUIRE(resp.results_size() == 2);
  CHECK(resp.results(0).external_id() == "E-1");
  CHECK(resp.results(0).outcome() == v1::IngestOrderResult::OUTCOME_CREATED);
  REQUIRE(stream->Write(Batch("b-2", {"E-2", "E-3"})));
  REQUIRE(stream->Read(&resp));
  CHECK(resp.batch_id() == "b-2");
  CHECK(resp.already_existing() == 1);
  CHECK(resp.created() == 1);
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(e.erp_repo.created[kTenant].size() == 3);
  CHECK(e.erp_repo.last_method == "IngestOrders");
  CHECK(gt::AwaitHandled(e.registry, "IngestOrders", "OK", 1));

  v1::ExportOrdersRequest ereq;
  ereq.set_page_size(2);
  auto ectx = Edge::Ctx();
  auto reader = e.erp_stub->ExportOrders(ectx.get(), ereq);
  std::vector<v1::ExportOrdersResponse> pages;
  v1::ExportOrdersResponse page;
  while (reader->Read(&page)) pages.push_back(page);
  REQUIRE(reader->Finish().ok());
  REQUIRE(pages.size() == 2);
  CHECK(pages[0].orders_size() == 2);
  CHECK_FALSE(pages[0].caught_up());
  CHECK(pages[1].orders_size() == 1);
  CHECK(pages[1].caught_up());
  CHECK(pages[1].orders(0).external_id() == "E-3");
  CHECK(pages[1].orders(0).total_minor() == 3880);
  CHECK(gt::AwaitHandled(e.registry, "ExportOrders", "OK", 1));

  SECTION("a cursor is bound to its tenant") {
    v1::ExportOrdersRequest next;
    next.set_cursor(pages[0].cursor());
    auto other = Edge::Ctx(kOtherTenant);
    auto r = e.erp_stub->ExportOrders(other.get(), next);
    while (r->Read(&page)) {
    }
    grpc::Status fs = r->Finish();
    RequireError(fs, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PAGE_TOKEN");
    CHECK(common::FieldOf(grpcutil::FromGrpcStatus(fs)) == "cursor");
    CHECK(gt::AwaitHandled(e.registry, "ExportOrders", "INVALID_ARGUMENT", 1));
  }
  SECTION("another tenant exports nothing of this one") {
    auto other = Edge::Ctx(kOtherTenant);
    auto r = e.erp_stub->ExportOrders(other.get(), v1::ExportOrdersRequest());
    REQUIRE(r->Read(&page));
    CHECK(page.orders_size() == 0);
    CHECK(page.caught_up());
    CHECK(r->Finish().ok());
  }
}

TEST_CASE("ERP edge: streams refuse calls without a sealed tenant context",
          "[transaction][erp][api]") {
  Edge e;
  auto ctx = gt::AnonymousContext();
  auto stream = e.erp_stub->IngestOrders(ctx.get());
  stream->Write(Batch("b-1", {"E-1"}));
  v1::IngestOrdersResponse resp;
  CHECK_FALSE(stream->Read(&resp));
  RequireError(stream->Finish(), grpc::StatusCode::UNAUTHENTICATED, "MISSING_TENANT_CONTEXT");

  auto ectx = gt::AnonymousContext();
  auto reader = e.erp_stub->ExportOrders(ectx.get(), v1::ExportOrdersRequest());
  v1::ExportOrdersResponse page;
  CHECK_FALSE(reader->Read(&page));
  RequireError(reader->Finish(), grpc::StatusCode::UNAUTHENTICATED, "MISSING_TENANT_CONTEXT");
  CHECK(e.erp_repo.calls == 0);
  CHECK(e.erp_repo.export_calls == 0);
  CHECK(gt::AwaitHandled(e.registry, "IngestOrders", "UNAUTHENTICATED", 1));
  CHECK(gt::AwaitHandled(e.registry, "ExportOrders", "UNAUTHENTICATED", 1));
}

TEST_CASE("ERP edge: refusals, overload and exceptions end the stream like a unary call",
          "[transaction][erp][api]") {
  Edge e;
  auto ctx = Edge::Ctx();
  auto stream = e.erp_stub->IngestOrders(ctx.get());
  v1::IngestOrdersResponse resp;
  SECTION("a batch beyond the limit names the field") {
    std::vector<std::string> ids;
    for (int i = 0; i <= app::kMaxIngestBatch; ++i) ids.push_back("E-" + std::to_string(i));
    stream->Write(Batch("b-1", ids));
    CHECK_FALSE(stream->Read(&resp));
    grpc::Status s = stream->Finish();
    RequireError(s, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_FIELD");
    CHECK(common::FieldOf(grpcutil::FromGrpcStatus(s)) == "orders");
    CHECK(e.erp_repo.calls == 0);
  }
  SECTION("a full queue") {
    gt::ExecutorGate gate(e.executor, 1);
    gate.FillQueue();
    stream->Write(Batch("b-1", {"E-1"}));
    CHECK_FALSE(stream->Read(&resp));
    RequireError(stream->Finish(), grpc::StatusCode::RESOURCE_EXHAUSTED, "OVERLOADED");
    CHECK(gt::RejectedCount(e.registry) == 1);
    auto ectx = Edge::Ctx();
    auto reader = e.erp_stub->ExportOrders(ectx.get(), v1::ExportOrdersRequest());
    v1::ExportOrdersResponse page;
    CHECK_FALSE(reader->Read(&page));
    RequireError(reader->Finish(), grpc::StatusCode::RESOURCE_EXHAUSTED, "OVERLOADED");
    CHECK(gt::RejectedCount(e.registry) == 2);
    CHECK(e.erp_repo.calls == 0);
  }
  SECTION("an exception in the use case") {
    e.clock.set_throwing(true);
    stream->Write(Batch("b-1", {"E-1"}));
    CHECK_FALSE(stream->Read(&resp));
    grpc::Status s = stream->Finish();
    RequireError(s, grpc::StatusCode::INTERNAL, "INTERNAL_ERROR");
    CHECK(s.error_message() == "internal error");
    CHECK_FALSE(absl::StrContains(s.error_details(), "10.0.0.7"));
    CHECK(gt::AwaitHandled(e.registry, "IngestOrders", "INTERNAL", 1));
  }
  SECTION("a dependency that is down, during the export") {
    stream->WritesDone();
    REQUIRE(stream->Finish().ok());
    e.erp_repo.fail = absl::UnavailableError("database unreachable");
    auto ectx = Edge::Ctx();
    auto reader = e.erp_stub->ExportOrders(ectx.get(), v1::ExportOrdersRequest());
    v1::ExportOrdersResponse page;
    CHECK_FALSE(reader->Read(&page));
    RequireError(reader->Finish(), grpc::StatusCode::UNAVAILABLE, "DEPENDENCY_UNAVAILABLE");
  }
}

TEST_CASE("ERP edge: a stream whose client has gone ends CANCELLED", "[transaction][erp][api]") {
  Edge e;
  SECTION("cancelled between batches") {
    auto ctx = Edge::Ctx();
    auto stream = e.erp_stub->IngestOrders(ctx.get());
    v1::IngestOrdersResponse resp;
    REQUIRE(stream->Write(Batch("b-1", {"E-1"})));
    REQUIRE(stream->Read(&resp));
    ctx->TryCancel();
    CHECK(stream->Finish().error_code() == grpc::StatusCode::CANCELLED);
    CHECK(gt::AwaitHandled(e.registry, "IngestOrders", "CANCELLED", 1));
    CHECK(e.erp_repo.calls == 1);
  }
  SECTION("deadline passed while the batch was queued: the batch never runs") {
    gt::ExecutorGate gate(e.executor, 1);
    auto ctx = gt::CallContext(gt::Tenant(kTenant), absl::Milliseconds(200));
    auto stream = e.erp_stub->IngestOrders(ctx.get());
    stream->Write(Batch("b-1", {"E-1"}));
    v1::IngestOrdersResponse resp;
    CHECK_FALSE(stream->Read(&resp));
    CHECK(stream->Finish().error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
    absl::SleepFor(gt::kCancelNoticed);
    gate.Release();
    CHECK(gt::AwaitHandled(e.registry, "IngestOrders", "CANCELLED", 1));
    CHECK(e.erp_repo.calls == 0);
  }
  SECTION("the export reader cancelled while its page was queued") {
    gt::ExecutorGate gate(e.executor, 1);
    auto ctx = gt::CallContext(gt::Tenant(kTenant), absl::Milliseconds(200));
    auto reader = e.erp_stub->ExportOrders(ctx.get(), v1::ExportOrdersRequest());
    v1::ExportOrdersResponse page;
    CHECK_FALSE(reader->Read(&page));
    CHECK(reader->Finish().error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
    absl::SleepFor(gt::kCancelNoticed);
    gate.Release();
    CHECK(gt::AwaitHandled(e.registry, "ExportOrders", "CANCELLED", 1));
    CHECK(e.erp_repo.export_calls == 0);
  }
}

}  // namespace
}  // namespace crm::transaction::api_test

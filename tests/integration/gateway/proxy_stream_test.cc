// The gateway's gRPC front door relaying streaming calls (server-streaming
// and bidirectional) to a backend, over loopback: a fake
// ErpIntegrationService behind a real Proxy + GrpcProxyService with
// in-memory keys. Checks relay order, half-close, cancellation both ways,
// backend errors (status, reason trailer, details), admission once at start,
// deadlines and flow control (a slow reader holds the backend back instead
// of the gateway buffering). Also that every proxied call, unary (a fake
// TransactionService) or streaming, refused or relayed, ends once through
// the services' shared end of call: one crm_rpc_server_* observation and
// one access-log line with its code.
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "crm/transaction/v1/erp.grpc.pb.h"
#include "crm/transaction/v1/transaction.grpc.pb.h"
#include "libs/common/clock.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/status_conversion.h"
#include "libs/grpcutil/testing/test_server.h"
#include "libs/observability/log.h"
#include "prometheus/registry.h"
#include "services/gateway/api/grpc_proxy_service.h"
#include "services/gateway/api/proxy.h"
#include "services/gateway/app/access.h"
#include "services/gateway/domain/api_key.h"
#include "tests/support/fakes/gateway/fake_key_store.h"
#include "tests/support/fakes/gateway/fake_rate_limiter.h"

namespace {

namespace v1 = crm::transaction::v1;
namespace gw = crm::gateway;
using crm::gateway::domain::Role;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
const std::string kIntegrationKey = "k00000000000000a1";
const std::string kSalesKey = "k00000000000000a2";
const std::string kSecret(64, 'b');

// What the backend saw, shared with the test thread.
struct BackendLog {
  absl::Mutex mu;
  int calls = 0;
  int half_closes = 0;
  int cancels = 0;
  int done = 0;
  int writes_completed = 0;
  std::string tenant;
  std::string roles;
  std::string principal;

  template <typename Pred>
  bool WaitFor(Pred pred, absl::Duration timeout = absl::Seconds(5)) {
    absl::MutexLock l(&mu);
    return mu.AwaitWithTimeout(absl::Condition(&pred), timeout);
  }
};

std::string Md(const grpc::CallbackServerContext* ctx, const char* key) {
  auto it = ctx->client_metadata().find(key);
  return it == ctx->client_metadata().end() ? std::string()
                                            : std::string(it->second.data(), it->second.size());
}

// IngestOrders: one response per request (batch_id echoed, with the count
// of orders); batch_id "fail" ends the call with INVALID_ARGUMENT and a
// reason; "hang" answers nothing.
class EchoIngest final
    : public grpc::ServerBidiReactor<v1::IngestOrdersRequest, v1::IngestOrdersResponse> {
 public:
  EchoIngest(grpc::CallbackServerContext* ctx, BackendLog& log) : log_(log) {
    absl::MutexLock l(&log_.mu);
    ++log_.calls;
    log_.tenant = Md(ctx, crm::grpcutil::kTenantHeader);
    log_.roles = Md(ctx, crm::grpcutil::kRolesHeader);
    log_.principal = Md(ctx, crm::grpcutil::kPrincipalHeader);
    ctx_ = ctx;
    StartRead(&req_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      {
        absl::MutexLock l(&log_.mu);
        ++log_.half_closes;
      }
      Finish(grpc::Status::OK);
      return;
    }
    if (req_.batch_id() == "fail") {
      absl::Status s = crm::common::InvalidField("orders[0].currency_code", "bad currency");
      ctx_->AddTrailingMetadata(crm::grpcutil::kReasonTrailer, crm::common::ReasonOf(s));
      Finish(crm::grpcutil::ToGrpcStatus(s));
      return;
    }
    if (req_.batch_id() == "hang") {
      StartRead(&req_);
      return;
    }
    resp_.Clear();
    resp_.set_batch_id(req_.batch_id());
    resp_.set_created(req_.orders_size());
    StartWrite(&resp_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return;  // cancelled: OnCancel / the pending read end it
    StartRead(&req_);
  }
  void OnCancel() override {
    absl::MutexLock l(&log_.mu);
    ++log_.cancels;
  }
  void OnDone() override {
    {
      absl::MutexLock l(&log_.mu);
      ++log_.done;
    }
    delete this;
  }

 private:
  grpc::CallbackServerContext* ctx_;
  BackendLog& log_;
  v1::IngestOrdersRequest req_;
  v1::IngestOrdersResponse resp_;
};

// ExportOrders: page_size messages with cursor "c<i>"; page_size < 0 means
// "flood": up to 500 messages of 256 KiB, as fast as the reader takes them.
class CountingExport final : public grpc::ServerWriteReactor<v1::ExportOrdersResponse> {
 public:
  CountingExport(grpc::CallbackServerContext* ctx, const v1::ExportOrdersRequest* req,
                 BackendLog& log)
      : log_(log), flood_(req->page_size() < 0), total_(flood_ ? 500 : req->page_size()) {
    {
      absl::MutexLock l(&log_.mu);
      ++log_.calls;
      log_.tenant = Md(ctx, crm::grpcutil::kTenantHeader);
    }
    Next();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::CANCELLED);
      return;
    }
    {
      absl::MutexLock l(&log_.mu);
      ++log_.writes_completed;
    }
    Next();
  }
  void OnCancel() override {
    absl::MutexLock l(&log_.mu);
    ++log_.cancels;
  }
  void OnDone() override {
    {
      absl::MutexLock l(&log_.mu);
      ++log_.done;
    }
    delete this;
  }

 private:
  void Next() {
    if (sent_ == total_) {
      Finish(grpc::Status::OK);
      return;
    }
    resp_.Clear();
    resp_.set_cursor(absl::StrCat("c", sent_++));
    if (flood_) resp_.add_orders()->set_store_id(std::string(256 * 1024, 'x'));
    StartWrite(&resp_);
  }
  BackendLog& log_;
  bool flood_;
  int total_;
  int sent_ = 0;
  v1::ExportOrdersResponse resp_;
};

class FakeErp final : public v1::ErpIntegrationService::CallbackService {
 public:
  explicit FakeErp(BackendLog& log) : log_(log) {}
  grpc::ServerBidiReactor<v1::IngestOrdersRequest, v1::IngestOrdersResponse>* IngestOrders(
      grpc::CallbackServerContext* ctx) override {
    return new EchoIngest(ctx, log_);
  }
  grpc::ServerWriteReactor<v1::ExportOrdersResponse>* ExportOrders(
      grpc::CallbackServerContext* ctx, const v1::ExportOrdersRequest* req) override {
    return new CountingExport(ctx, req, log_);
  }

 private:
  BackendLog& log_;
};

// GetProduct: sku "sku-1" exists; any other is NOT_FOUND with its reason.
class FakeCatalog final : public v1::TransactionService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetProduct(grpc::CallbackServerContext* ctx,
                                       const v1::GetProductRequest* req,
                                       v1::Product* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (req->sku() != "sku-1") {
      absl::Status s =
          crm::common::WithReason(absl::NotFoundError("no such product"), "PRODUCT_NOT_FOUND");
      ctx->AddTrailingMetadata(crm::grpcutil::kReasonTrailer, crm::common::ReasonOf(s));
      reactor->Finish(crm::grpcutil::ToGrpcStatus(s));
      return reactor;
    }
    resp->set_sku(req->sku());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

struct Stack {
  BackendLog log;
  FakeErp backend_service{log};
  FakeCatalog catalog_service;
  std::unique_ptr<grpc::Server> backend;
  crm::testing::FakeKeyStore keys;
  crm::testing::FakeRateLimiter limiter;
  crm::common::SystemClock clock;
  gw::app::Access access{keys, limiter, clock, gw::app::AccessOptions{}};
  crm::common::Executor executor{2, 64};
  prometheus::Registry registry;
  gw::api::Proxy proxy{access, executor, registry, absl::Seconds(5), absl::Seconds(30)};
  gw::api::Reflection reflection{{}};
  crm::grpcutil::RpcMetrics rpc_metrics{registry, "gateway"};
  gw::api::GrpcProxyService front{proxy, reflection, 1 << 20, rpc_metrics};
  std::unique_ptr<grpc::Server> gateway;
  std::unique_ptr<v1::ErpIntegrationService::Stub> stub;
  std::unique_ptr<v1::TransactionService::Stub> catalog;
  int gateway_port = 0;

  Stack() {
    limiter.Allow();
    for (const auto& [id, role] :
         std::vector<std::pair<std::string, Role>>{{kIntegrationKey, Role::kIntegration},
                                                   {kSalesKey, Role::kSales}}) {
      gw::app::KeyRecord k;
      k.id = id;
      k.tenant_id = kTenant;
      k.roles = {role};
      k.secret_sha256 = crm::common::Sha256(kSecret);
      k.create_time = absl::Now();
      keys.Put(k);
    }
    int backend_port = 0;
    grpc::ServerBuilder bb;
    bb.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &backend_port);
    bb.RegisterService(&backend_service);
    bb.RegisterService(&catalog_service);
    backend = bb.BuildAndStart();
    REQUIRE(backend != nullptr);
    auto backend_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", backend_port),
                                               grpc::InsecureChannelCredentials());
    proxy.AddBackend(v1::ErpIntegrationService::service_full_name(), backend_channel);
    proxy.AddBackend(v1::TransactionService::service_full_name(), backend_channel);
    grpc::ServerBuilder gb;
    gb.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &gateway_port);
    gb.RegisterCallbackGenericService(&front);
    gateway = gb.BuildAndStart();
    REQUIRE(gateway != nullptr);
    auto gateway_channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway_port),
                                               grpc::InsecureChannelCredentials());
    stub = v1::ErpIntegrationService::NewStub(gateway_channel);
    catalog = v1::TransactionService::NewStub(gateway_channel);
  }
  ~Stack() {
    gateway->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    backend->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    executor.Drain();
  }

  static void Auth(grpc::ClientContext* ctx, const std::string& key = kIntegrationKey) {
    ctx->AddMetadata("authorization",
                     "Bearer " + gw::domain::FormatKey({key, kSecret}));
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  }
};

v1::IngestOrdersRequest Batch(const std::string& id, int orders = 1) {
  v1::IngestOrdersRequest r;
  r.set_batch_id(id);
  for (int i = 0; i < orders; ++i) r.add_orders()->set_external_id(absl::StrCat(id, "-", i));
  return r;
}

std::string Trailer(const grpc::ClientContext& ctx, const char* key) {
  auto it = ctx.GetServerTrailingMetadata().find(key);
  return it == ctx.GetServerTrailingMetadata().end()
             ? std::string()
             : std::string(it->second.data(), it->second.size());
}

size_t TrailerCount(const grpc::ClientContext& ctx, const char* key) {
  return ctx.GetServerTrailingMetadata().count(key);
}

// Points stderr at a temporary file for the scope; Lines() flushes the log
// and returns the access-log lines ("message":"rpc") of one method.
class CapturedLog {
 public:
  CapturedLog() {
    crm::observability::FlushLogs();
    char path[] = "/tmp/crm-proxy-log-XXXXXX";
    fd_ = mkstemp(path);
    path_ = path;
    saved_ = dup(STDERR_FILENO);
    dup2(fd_, STDERR_FILENO);
  }
  ~CapturedLog() {
    crm::observability::FlushLogs();
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    close(fd_);
    unlink(path_.c_str());
  }
  std::vector<std::string> Lines(const std::string& method) const {
    crm::observability::FlushLogs();
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
      if (line.find("\"message\":\"rpc\"") != std::string::npos &&
          line.find("\"rpc\":\"" + method + "\"") != std::string::npos) {
        out.push_back(line);
      }
    }
    return out;
  }

 private:
  int fd_ = -1;
  int saved_ = -1;
  std::string path_;
};

// Observations of crm_rpc_server_handling_seconds{service="gateway", method}.
double LatencyCount(prometheus::Registry& registry, const std::string& method) {
  double n = 0;
  for (const auto& f : registry.Collect()) {
    if (f.name != "crm_rpc_server_handling_seconds") continue;
    for (const auto& m : f.metric) {
      bool service = false, rpc = false;
      for (const auto& l : m.label) {
        service |= l.name == "service" && l.value == "gateway";
        rpc |= l.name == "method" && l.value == method;
      }
      if (service && rpc) n += static_cast<double>(m.histogram.sample_count);
    }
  }
  return n;
}

bool Has(const std::string& line, const std::string& field, const std::string& value) {
  return line.find("\"" + field + "\":\"" + value + "\"") != std::string::npos;
}

// One call of `method` ended with `code`: one metric observation (count and
// latency) and one access-log line, and nothing else for that method. Waits
// a little first, so a second end written late would be seen.
void CheckEndedOnce(Stack& s, const CapturedLog& log, const std::string& method,
                    const std::string& code, std::vector<std::string>* lines) {
  REQUIRE(crm::grpcutil::testing::AwaitHandled(s.registry, method, code, 1));
  absl::SleepFor(absl::Milliseconds(200));
  for (const char* other :
       {"OK", "CANCELLED", "INVALID_ARGUMENT", "NOT_FOUND", "UNAUTHENTICATED", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED"}) {
    INFO(other);
    CHECK(crm::grpcutil::testing::HandledCount(s.registry, method, other) ==
          (code == other ? 1 : 0));
  }
  CHECK(LatencyCount(s.registry, method) == 1);
  *lines = log.Lines(method);
  REQUIRE(lines->size() == 1);
  CHECK(Has(lines->front(), "code", code));
}

}  // namespace

TEST_CASE("Bidi stream: messages relayed in order both ways, half-close propagated",
          "[gateway][proxy][stream]") {
  Stack s;
  grpc::ClientContext ctx;
  Stack::Auth(&ctx);
  auto stream = s.stub->IngestOrders(&ctx);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(stream->Write(Batch(absl::StrCat("b", i), i + 1)));
    v1::IngestOrdersResponse resp;
    REQUIRE(stream->Read(&resp));
    CHECK(resp.batch_id() == absl::StrCat("b", i));
    CHECK(resp.created() == i + 1);
  }
  // Several in flight without reading: relayed in order.
  for (int i = 3; i < 8; ++i) REQUIRE(stream->Write(Batch(absl::StrCat("b", i))));
  REQUIRE(stream->WritesDone());
  for (int i = 3; i < 8; ++i) {
    v1::IngestOrdersResponse resp;
    REQUIRE(stream->Read(&resp));
    CHECK(resp.batch_id() == absl::StrCat("b", i));
  }
  v1::IngestOrdersResponse extra;
  CHECK_FALSE(stream->Read(&extra));
  grpc::Status st = stream->Finish();
  INFO(st.error_message());
  CHECK(st.ok());
  CHECK(s.log.WaitFor([&] { return s.log.half_closes == 1 && s.log.done == 1; }));
  absl::MutexLock l(&s.log.mu);
  CHECK(s.log.calls == 1);  // admitted once, one backend call for the whole stream
  CHECK(s.log.tenant == kTenant);
  CHECK(s.log.roles == "integration");
  CHECK(s.log.principal == kIntegrationKey);
}

TEST_CASE("Server stream: every message relayed, then the backend's status",
          "[gateway][proxy][stream]") {
  Stack s;
  grpc::ClientContext ctx;
  Stack::Auth(&ctx);
  v1::ExportOrdersRequest req;
  req.set_page_size(50);
  auto reader = s.stub->ExportOrders(&ctx, req);
  v1::ExportOrdersResponse resp;
  int n = 0;
  while (reader->Read(&resp)) {
    CHECK(resp.cursor() == absl::StrCat("c", n));
    ++n;
  }
  CHECK(n == 50);
  CHECK(reader->Finish().ok());
  // The gateway answers with the request id it used.
  CHECK_FALSE(ctx.GetServerInitialMetadata().find("x-request-id") ==
              ctx.GetServerInitialMetadata().end());
}

TEST_CASE("A backend error ends the client stream with its status and reason",
          "[gateway][proxy][stream]") {
  Stack s;
  grpc::ClientContext ctx;
  Stack::Auth(&ctx);
  auto stream = s.stub->IngestOrders(&ctx);
  REQUIRE(stream->Write(Batch("ok")));
  v1::IngestOrdersResponse resp;
  REQUIRE(stream->Read(&resp));
  stream->Write(Batch("fail"));
  CHECK_FALSE(stream->Read(&resp));
  grpc::Status st = stream->Finish();
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message() == "bad currency");
  CHECK_FALSE(st.error_details().empty());  // google.rpc.Status with ErrorInfo
  CHECK(Trailer(ctx, crm::grpcutil::kReasonTrailer) == "INVALID_FIELD");
}

TEST_CASE("A client cancel cancels the backend call", "[gateway][proxy][stream]") {
  Stack s;
  grpc::ClientContext ctx;
  Stack::Auth(&ctx);
  auto stream = s.stub->IngestOrders(&ctx);
  REQUIRE(stream->Write(Batch("b0")));
  v1::IngestOrdersResponse resp;
  REQUIRE(stream->Read(&resp));
  REQUIRE(stream->Write(Batch("hang")));
  ctx.TryCancel();
  grpc::Status st = stream->Finish();
  CHECK(st.error_code() == grpc::StatusCode::CANCELLED);
  CHECK(s.log.WaitFor([&] { return s.log.cancels == 1 && s.log.done == 1; }));
}

TEST_CASE("The client deadline reaches the backend", "[gateway][proxy][stream]") {
  Stack s;
  grpc::ClientContext ctx;
  Stack::Auth(&ctx);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  auto stream = s.stub->IngestOrders(&ctx);
  REQUIRE(stream->Write(Batch("hang")));
  v1::IngestOrdersResponse resp;
  CHECK_FALSE(stream->Read(&resp));
  CHECK(stream->Finish().error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(s.log.WaitFor([&] { return s.log.done == 1; }));
}

TEST_CASE("Admission happens once, before anything reaches the backend",
          "[gateway][proxy][stream]") {
  Stack s;
  SECTION("a role without the method: PERMISSION_DENIED") {
    grpc::ClientContext ctx;
    Stack::Auth(&ctx, kSalesKey);
    auto stream = s.stub->IngestOrders(&ctx);
    stream->Write(Batch("b0"));
    v1::IngestOrdersResponse resp;
    CHECK_FALSE(stream->Read(&resp));
    CHECK(stream->Finish().error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(Trailer(ctx, crm::grpcutil::kReasonTrailer) == "PERMISSION_DENIED_FOR_ROLE");
  }
  SECTION("no key: UNAUTHENTICATED") {
    grpc::ClientContext ctx;
    v1::ExportOrdersRequest req;
    req.set_page_size(3);
    auto reader = s.stub->ExportOrders(&ctx, req);
    v1::ExportOrdersResponse resp;
    CHECK_FALSE(reader->Read(&resp));
    CHECK(reader->Finish().error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
  absl::MutexLock l(&s.log.mu);
  CHECK(s.log.calls == 0);
}

TEST_CASE("A slow reader holds the backend back (no buffering in the gateway)",
          "[gateway][proxy][stream]") {
  Stack s;
  grpc::ClientContext ctx;
  Stack::Auth(&ctx);
  v1::ExportOrdersRequest req;
  req.set_page_size(-1);  // flood: 500 x 256 KiB = 125 MiB if nothing pushed back
  auto reader = s.stub->ExportOrders(&ctx, req);
  v1::ExportOrdersResponse resp;
  REQUIRE(reader->Read(&resp));
  absl::SleepFor(absl::Milliseconds(800));
  int completed;
  {
    absl::MutexLock l(&s.log.mu);
    completed = s.log.writes_completed;
  }
  // HTTP/2 windows on two hops allow a few MiB in flight, not 125.
  INFO("backend writes completed while the client read one: " << completed);
  CHECK(completed < 100);
  // Reading on drains everything.
  int n = 1;
  while (reader->Read(&resp)) ++n;
  CHECK(n == 500);
  CHECK(reader->Finish().ok());
}

constexpr char kGetProduct[] = "/crm.transaction.v1.TransactionService/GetProduct";
constexpr char kIngest[] = "/crm.transaction.v1.ErpIntegrationService/IngestOrders";
constexpr char kExport[] = "/crm.transaction.v1.ErpIntegrationService/ExportOrders";

TEST_CASE("A proxied unary call ends once through the shared end of call",
          "[gateway][proxy][end_of_call]") {
  Stack s;
  CapturedLog log;
  std::vector<std::string> lines;
  SECTION("OK: the backend's answer, one observation, one line with tenant and principal") {
    grpc::ClientContext ctx;
    Stack::Auth(&ctx);
    ctx.AddMetadata("x-request-id", "req-unary-1");
    v1::GetProductRequest req;
    req.set_sku("sku-1");
    v1::Product resp;
    grpc::Status st = s.catalog->GetProduct(&ctx, req, &resp);
    REQUIRE(st.ok());
    CHECK(resp.sku() == "sku-1");
    CheckEndedOnce(s, log, kGetProduct, "OK", &lines);
    CHECK(Has(lines[0], "tenant_id", kTenant));
    CHECK(Has(lines[0], "principal", kIntegrationKey));
    CHECK(Has(lines[0], "request_id", "req-unary-1"));
  }
  SECTION("a backend error: its status, details and one reason trailer, kept as they were") {
    grpc::ClientContext ctx;
    Stack::Auth(&ctx);
    v1::GetProductRequest req;
    req.set_sku("nope");
    v1::Product resp;
    grpc::Status st = s.catalog->GetProduct(&ctx, req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(st.error_message() == "no such product");
    CHECK(crm::grpcutil::testing::ReasonOf(st) == "PRODUCT_NOT_FOUND");
    CHECK(TrailerCount(ctx, crm::grpcutil::kReasonTrailer) == 1);
    CHECK(Trailer(ctx, crm::grpcutil::kReasonTrailer) == "PRODUCT_NOT_FOUND");
    CheckEndedOnce(s, log, kGetProduct, "NOT_FOUND", &lines);
    CHECK(Has(lines[0], "reason", "PRODUCT_NOT_FOUND"));
    CHECK(Has(lines[0], "tenant_id", kTenant));
  }
  SECTION("refused at admission (no key): one line, no backend call") {
    grpc::ClientContext ctx;
    v1::GetProductRequest req;
    req.set_sku("sku-1");
    v1::Product resp;
    grpc::Status st = s.catalog->GetProduct(&ctx, req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CheckEndedOnce(s, log, kGetProduct, "UNAUTHENTICATED", &lines);
  }
  SECTION("a method no backend serves: one observation under \"unknown\"") {
    grpc::ClientContext ctx;
    Stack::Auth(&ctx);
    grpc::GenericStub generic(grpc::CreateChannel(absl::StrCat("127.0.0.1:", s.gateway_port),
                                                  grpc::InsecureChannelCredentials()));
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    absl::Notification done;
    grpc::Status st;
    generic.UnaryCall(&ctx, "/crm.nothing.v1.NoService/Nope", grpc::StubOptions(), &request,
                      &response, [&](grpc::Status r) {
                        st = std::move(r);
                        done.Notify();
                      });
    done.WaitForNotification();
    CHECK(st.error_code() == grpc::StatusCode::UNIMPLEMENTED);
    CheckEndedOnce(s, log, gw::api::kUnknownMethod, "UNIMPLEMENTED", &lines);
  }
}

TEST_CASE("A proxied stream ends once through the shared end of call",
          "[gateway][proxy][stream][end_of_call]") {
  Stack s;
  CapturedLog log;
  std::vector<std::string> lines;
  SECTION("bidi, relayed to the end: the backend's error, reason, tenant and principal") {
    grpc::ClientContext ctx;
    Stack::Auth(&ctx);
    auto stream = s.stub->IngestOrders(&ctx);
    REQUIRE(stream->Write(Batch("ok")));
    v1::IngestOrdersResponse resp;
    REQUIRE(stream->Read(&resp));
    stream->Write(Batch("fail"));
    CHECK_FALSE(stream->Read(&resp));
    grpc::Status st = stream->Finish();
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(TrailerCount(ctx, crm::grpcutil::kReasonTrailer) == 1);
    CHECK(s.log.WaitFor([&] { return s.log.done == 1; }));
    CheckEndedOnce(s, log, kIngest, "INVALID_ARGUMENT", &lines);
    CHECK(Has(lines[0], "reason", "INVALID_FIELD"));
    CHECK(Has(lines[0], "tenant_id", kTenant));
    CHECK(Has(lines[0], "principal", kIntegrationKey));
  }
  SECTION("server stream, relayed to the end: OK") {
    grpc::ClientContext ctx;
    Stack::Auth(&ctx);
    v1::ExportOrdersRequest req;
    req.set_page_size(3);
    auto reader = s.stub->ExportOrders(&ctx, req);
    v1::ExportOrdersResponse resp;
    int n = 0;
    while (reader->Read(&resp)) ++n;
    CHECK(n == 3);
    REQUIRE(reader->Finish().ok());
    CheckEndedOnce(s, log, kExport, "OK", &lines);
    CHECK(Has(lines[0], "tenant_id", kTenant));
  }
  SECTION("refused: no key (UNAUTHENTICATED), nothing reaches the backend") {
    grpc::ClientContext ctx;
    v1::ExportOrdersRequest req;
    req.set_page_size(3);
    auto reader = s.stub->ExportOrders(&ctx, req);
    v1::ExportOrdersResponse resp;
    CHECK_FALSE(reader->Read(&resp));
    CHECK(reader->Finish().error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CheckEndedOnce(s, log, kExport, "UNAUTHENTICATED", &lines);
    absl::MutexLock l(&s.log.mu);
    CHECK(s.log.calls == 0);
  }
  SECTION("refused: the gateway is overloaded (RESOURCE_EXHAUSTED OVERLOADED)") {
    // The key is not cached yet: admission needs the executor, which is full.
    crm::grpcutil::testing::ExecutorGate gate(s.executor, 2);
    gate.FillQueue();
    grpc::ClientContext ctx;
    Stack::Auth(&ctx);
    auto stream = s.stub->IngestOrders(&ctx);
    v1::IngestOrdersResponse resp;
    CHECK_FALSE(stream->Read(&resp));
    grpc::Status st = stream->Finish();
    CHECK(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK(Trailer(ctx, crm::grpcutil::kReasonTrailer) == "OVERLOADED");
    CHECK(TrailerCount(ctx, crm::grpcutil::kReasonTrailer) == 1);
    CheckEndedOnce(s, log, kIngest, "RESOURCE_EXHAUSTED", &lines);
    CHECK(Has(lines[0], "reason", "OVERLOADED"));
    gate.Release();
    absl::MutexLock l(&s.log.mu);
    CHECK(s.log.calls == 0);
  }
}

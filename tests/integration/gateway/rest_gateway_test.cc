// The gateway's REST front door over loopback: the real HttpServer (head
// first) + RestGateway + Proxy with in-memory keys, in front of a fake
// CustomerStoreService. Checks that admission comes before the body is read
// or parsed (an unauthenticated request with a hostile body is refused at
// once and costs no body read), that an admitted call is admitted once and
// forwarded, that keep-alive stays correct when a body is left unread, and
// the body checks that need only the headers (content type, length).
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "crm/customer_store/v1/customer_store.grpc.pb.h"
#include "libs/common/clock.h"
#include "libs/common/crypto.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/context.h"
#include "prometheus/registry.h"
#include "tests/support/http_test_client.h"
#include "services/gateway/api/http_server.h"
#include "services/gateway/api/proxy.h"
#include "services/gateway/api/rest_gateway.h"
#include "services/gateway/app/access.h"
#include "services/gateway/domain/api_key.h"
#include "tests/support/fakes/gateway/fake_key_store.h"
#include "tests/support/fakes/gateway/fake_rate_limiter.h"

namespace {

namespace cs = crm::customer_store::v1;
namespace gw = crm::gateway;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Response = crm::test_support::HttpResponse;
using Clock = std::chrono::steady_clock;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
const std::string kKeyId = "k00000000000000b1";
const std::string kSecret(64, 'c');

std::string GoodKey() { return gw::domain::FormatKey({kKeyId, kSecret}); }

// What the backend saw.
struct BackendLog {
  absl::Mutex mu;
  int calls = 0;
  std::string tenant;
  std::string last_request_id;
};

std::string Md(const grpc::CallbackServerContext* ctx, const char* key) {
  auto it = ctx->client_metadata().find(key);
  return it == ctx->client_metadata().end() ? std::string()
                                            : std::string(it->second.data(), it->second.size());
}

class FakeStore final : public cs::CustomerStoreService::CallbackService {
 public:
  explicit FakeStore(BackendLog& log) : log_(log) {}
  grpc::ServerUnaryReactor* CreateCustomer(grpc::CallbackServerContext* ctx,
                                           const cs::CreateCustomerRequest* req,
                                           cs::Customer* resp) override {
    Record(ctx, req->request_id());
    *resp = req->customer();
    resp->set_id("c-1");
    resp->set_etag("1");
    return Done(ctx);
  }
  grpc::ServerUnaryReactor* CreateInteraction(grpc::CallbackServerContext* ctx,
                                              const cs::CreateInteractionRequest* req,
                                              cs::Interaction* resp) override {
    Record(ctx, req->request_id());
    *resp = req->interaction();
    resp->set_id("i-1");
    return Done(ctx);
  }
  grpc::ServerUnaryReactor* ImportCustomersNdjson(grpc::CallbackServerContext* ctx,
                                                  const cs::ImportCustomersNdjsonRequest* req,
                                                  cs::ImportCustomersResponse* resp) override {
    Record(ctx, "");
    resp->set_batch_id(req->batch_id());
    resp->set_rows_received(static_cast<int64_t>(
        std::count(req->ndjson().begin(), req->ndjson().end(), '\n')));
    return Done(ctx);
  }

 private:
  void Record(grpc::CallbackServerContext* ctx, const std::string& request_id) {
    absl::MutexLock l(&log_.mu);
    ++log_.calls;
    log_.tenant = Md(ctx, crm::grpcutil::kTenantHeader);
    log_.last_request_id = request_id;
  }
  static grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx) {
    grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  BackendLog& log_;
};

struct Stack {
  BackendLog log;
  FakeStore backend_service{log};
  std::unique_ptr<grpc::Server> backend;
  crm::testing::FakeKeyStore keys;
  crm::testing::FakeRateLimiter limiter;
  crm::common::SystemClock clock;
  gw::app::Access access{keys, limiter, clock, gw::app::AccessOptions{}};
  crm::common::Executor executor{2, 64};
  prometheus::Registry registry;
  gw::api::Proxy proxy{access, executor, registry, absl::Seconds(5), absl::Seconds(30)};
  std::unique_ptr<gw::api::RestGateway> rest;
  std::unique_ptr<gw::api::HttpServer> server;

  Stack() {
    limiter.Allow();
    gw::app::KeyRecord k;
    k.id = kKeyId;
    k.tenant_id = kTenant;
    k.roles = {gw::domain::Role::kAdmin};
    k.secret_sha256 = crm::common::Sha256(kSecret);
    k.create_time = absl::Now();
    keys.Put(k);
    int backend_port = 0;
    grpc::ServerBuilder bb;
    bb.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &backend_port);
    bb.RegisterService(&backend_service);
    backend = bb.BuildAndStart();
    REQUIRE(backend != nullptr);
    proxy.AddBackend(cs::CustomerStoreService::service_full_name(),
                     grpc::CreateChannel(absl::StrCat("127.0.0.1:", backend_port),
                                         grpc::InsecureChannelCredentials()));
    gw::api::RestOptions options;
    options.max_json_body_bytes = 256 << 10;
    auto created = gw::api::RestGateway::Create(
        proxy, {cs::Customer::descriptor()->file()->FindServiceByName("CustomerStoreService")},
        std::move(options), registry);
    REQUIRE(created.ok());
    rest = *std::move(created);
    gw::api::HttpServerOptions http_options;
    http_options.address = "127.0.0.1";
    http_options.port = 0;
    http_options.max_body_bytes = 1 << 20;
    server = std::make_unique<gw::api::HttpServer>(
        http_options, gw::api::HeadHandler([this](gw::api::HttpRequest req,
                                                  gw::api::BodyReader read_body,
                                                  gw::api::Responder respond) {
          rest->Handle(std::move(req), std::move(read_body), std::move(respond));
        }));
    REQUIRE(server->Start().ok());
  }
  ~Stack() {
    server->Stop();
    backend->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    executor.Drain();
  }
  int port() const { return server->port(); }
  int backend_calls() {
    absl::MutexLock l(&log.mu);
    return log.calls;
  }
  // crm_gateway_admission_total{outcome}
  double Admissions(const std::string& outcome) {
    for (const auto& family : registry.Collect()) {
      if (family.name != "crm_gateway_admission_total") continue;
      for (const auto& m : family.metric) {
        for (const auto& label : m.label) {
          if (label.name == "outcome" && label.value == outcome) return m.counter.value;
        }
      }
    }
    return 0;
  }
};

using Client = crm::test_support::HttpTestClient;

std::string Head(const std::string& method, const std::string& target, const std::string& auth,
                 const std::string& content_type, size_t length,
                 const std::string& extra = "") {
  std::string h = method + " " + target + " HTTP/1.1\r\nHost: t\r\n";
  if (!auth.empty()) h += "Authorization: Bearer " + auth + "\r\n";
  if (!content_type.empty()) h += "Content-Type: " + content_type + "\r\n";
  h += "Content-Length: " + std::to_string(length) + "\r\n" + extra + "\r\n";
  return h;
}

std::string Reason(const Response& r) {
  nlohmann::json j = nlohmann::json::parse(r.body(), nullptr, false);
  if (j.is_discarded() || !j.contains("error") || j["error"]["details"].empty()) return "";
  return j["error"]["details"][0].value("reason", "");
}

// 100,000 levels of arrays in an interaction payload: a 200 KB body.
std::string DeepBody() {
  const int levels = 100000;
  return "{\"kind\":\"INTERACTION_KIND_NOTE\",\"payload\":{\"a\":" + std::string(levels, '[') +
         std::string(levels, ']') + "}}";
}

}  // namespace

TEST_CASE("REST: no or a bad key is refused at once, before the body is read",
          "[gateway][rest][integration]") {
  Stack s;
  const std::string body = DeepBody();
  const std::string path = "/v1/customers/c-1/interactions";

  SECTION("no key: 401 from the head alone, then the connection closes") {
    Client c(s.port());
    const auto start = Clock::now();
    // Only the head is sent: the answer must not wait for the body.
    Response r = c.RoundTrip(Head("POST", path, "", "application/json", body.size()));
    CHECK(Clock::now() - start < std::chrono::milliseconds(500));
    CHECK(r.result_int() == 401);
    CHECK(Reason(r) == "MISSING_CREDENTIALS");
    CHECK(r[http::field::www_authenticate] == "Bearer");
    CHECK_FALSE(r.keep_alive());
    c.Send(body);  // late body bytes are discarded, not taken for a request
    CHECK(c.PeerClosed());
  }
  SECTION("a bad key (needs a store lookup): 401 as well") {
    Client c(s.port());
    const std::string unknown = gw::domain::FormatKey({"k00000000000000ff", kSecret});
    Response r = c.RoundTrip(Head("POST", path, unknown, "application/json", body.size()));
    CHECK(r.result_int() == 401);
    CHECK(Reason(r) == "INVALID_CREDENTIALS");
    CHECK_FALSE(r.keep_alive());
    Client g(s.port());
    CHECK(g.RoundTrip(Head("POST", path, "garbage", "application/json", body.size()))
              .result_int() == 401);
  }
  SECTION("Expect: 100-continue: the client is never told to send the body") {
    Client c(s.port());
    Response r = c.RoundTrip(
        Head("POST", path, "", "application/json", body.size(), "Expect: 100-continue\r\n"));
    CHECK(r.result_int() == 401);  // not 100
    CHECK_FALSE(r.keep_alive());
  }
  SECTION("the whole body sent at once: still 401 at once") {
    Client c(s.port());
    const auto start = Clock::now();
    Response r = c.RoundTrip(Head("POST", path, "", "application/json", body.size()) + body);
    CHECK(Clock::now() - start < std::chrono::milliseconds(500));
    CHECK(r.result_int() == 401);
  }
  CHECK(s.backend_calls() == 0);
  CHECK(s.Admissions("admitted") == 0);
}

TEST_CASE("REST: an admitted hostile body is refused fast, a good call is admitted once",
          "[gateway][rest][integration]") {
  Stack s;
  Client c(s.port());

  // Deep nesting with a good key: 400 in well under a second.
  const std::string body = DeepBody();
  const auto start = Clock::now();
  Response deep = c.RoundTrip(
      Head("POST", "/v1/customers/c-1/interactions", GoodKey(), "application/json", body.size()) +
      body);
  CHECK(Clock::now() - start < std::chrono::milliseconds(500));
  CHECK(deep.result_int() == 400);
  CHECK(Reason(deep) == "MALFORMED_BODY");
  CHECK(deep.body().find("deeper than 32 levels") != std::string::npos);
  CHECK(deep.keep_alive());  // the body was read: the connection goes on

  // A well-formed call on the same connection: admitted once, forwarded.
  const std::string good = R"({"givenName":"Ada"})";
  Response created = c.RoundTrip(
      Head("POST", "/v1/customers?requestId=r-1", GoodKey(), "application/json", good.size()) +
      good);
  INFO(created.body());
  CHECK(created.result_int() == 200);
  CHECK(nlohmann::json::parse(created.body())["givenName"] == "Ada");
  CHECK(created[http::field::etag] == "\"1\"");
  CHECK(created.keep_alive());
  CHECK(s.backend_calls() == 1);
  CHECK(s.Admissions("admitted") == 2);  // one per request: the deep one and this one
  {
    absl::MutexLock l(&s.log.mu);
    CHECK(s.log.tenant == kTenant);
    CHECK(s.log.last_request_id == "r-1");
  }

  // A refusal of a request without a body keeps the connection.
  Response no_key = c.RoundTrip("GET /v1/customers HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK(no_key.result_int() == 401);
  CHECK(no_key.keep_alive());
  Response again = c.RoundTrip(
      Head("POST", "/v1/customers", GoodKey(), "application/json", good.size()) + good);
  CHECK(again.result_int() == 200);
  CHECK(s.backend_calls() == 2);

  // A request id with a NUL never reaches the backend.
  Response nul = c.RoundTrip(
      Head("POST", "/v1/customers?requestId=R%00X", GoodKey(), "application/json", good.size()) +
      good);
  CHECK(nul.result_int() == 400);
  CHECK(Reason(nul) == "INVALID_FIELD");
  CHECK(nul.body().find("request_id") != std::string::npos);
  CHECK(s.backend_calls() == 2);
}

TEST_CASE("REST: body checks from the headers: media type and size",
          "[gateway][rest][integration]") {
  Stack s;
  const std::string ndjson = "{\"givenName\":\"A\"}\n{\"givenName\":\"B\"}\n";

  SECTION("NDJSON import wants application/x-ndjson: 415 otherwise") {
    for (const char* type : {"application/json", "text/plain", ""}) {
      INFO(type);
      Client c(s.port());
      Response r = c.RoundTrip(Head("POST", "/v1/customers:import?batchId=b-1", GoodKey(), type,
                                    ndjson.size()) +
                               ndjson);
      CHECK(r.result_int() == 415);
      CHECK(Reason(r) == "UNSUPPORTED_MEDIA_TYPE");
      CHECK(r.body().find("application/x-ndjson") != std::string::npos);
    }
    CHECK(s.backend_calls() == 0);
    Client c(s.port());
    Response ok = c.RoundTrip(Head("POST", "/v1/customers:import?batchId=b-1", GoodKey(),
                                   "application/x-ndjson; charset=utf-8", ndjson.size()) +
                              ndjson);
    INFO(ok.body());
    CHECK(ok.result_int() == 200);
    CHECK(nlohmann::json::parse(ok.body())["rowsReceived"] == "2");
    CHECK(s.backend_calls() == 1);
  }
  SECTION("JSON routes want application/json: 415 otherwise") {
    Client c(s.port());
    Response r = c.RoundTrip(Head("POST", "/v1/customers", GoodKey(), "text/plain", 2) + "{}");
    CHECK(r.result_int() == 415);
    CHECK(Reason(r) == "UNSUPPORTED_MEDIA_TYPE");
    // application/jsonx is not JSON.
    Client d(s.port());
    CHECK(d.RoundTrip(Head("POST", "/v1/customers", GoodKey(), "application/jsonx", 2) + "{}")
              .result_int() == 415);
  }
  SECTION("a JSON body over the limit is refused from its Content-Length, unread") {
    Client c(s.port());
    Response r = c.RoundTrip(
        Head("POST", "/v1/customers", GoodKey(), "application/json", (256 << 10) + 1));
    CHECK(r.result_int() == 413);
    CHECK(Reason(r) == "BODY_TOO_LARGE");
    CHECK_FALSE(r.keep_alive());
  }
}

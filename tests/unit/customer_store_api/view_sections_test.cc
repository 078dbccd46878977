// The 360 view's segmentation sections end to end inside one process:
// customer-store's gRPC edge with the real segmentation adapter
// (clients::GrpcCustomerInsights) calling a fake segmentation gRPC server on
// loopback, or a closed loopback port. Checks that segmentation reads the
// caller's tenant from the sealed context, that scores fill their section,
// and that a peer that is absent, slow or without GetCustomerSegments (the
// generated base answers UNIMPLEMENTED) leaves the view answered with a
// status per section.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "crm/segmentation/v1/segmentation.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/channel.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/grpcutil/testing/test_server.h"
#include "prometheus/registry.h"
#include "services/customer_store/api/grpc_service.h"
#include "services/customer_store/clients/grpc_customer_insights.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/customer_store/fake_behaviour_repository.h"
#include "tests/support/fakes/customer_store/fake_customer_repository.h"
#include "tests/support/fakes/customer_store/fake_import_repository.h"
#include "tests/support/fakes/customer_store/fake_view_cache.h"

namespace {

namespace v1 = crm::customer_store::v1;
namespace sv1 = crm::segmentation::v1;
namespace app = crm::customer_store::app;
namespace gt = crm::grpcutil::testing;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";

// Segmentation as customer-store sees it: GetCustomerScores answers (after
// `delay`) for a tenant read from the sealed context; GetCustomerSegments is
// not overridden (UNIMPLEMENTED: an engine version without it, as during a
// rolling upgrade).
class FakeSegmentation final : public sv1::SegmentationService::CallbackService {
 public:
  absl::Duration delay = absl::ZeroDuration();

  grpc::ServerUnaryReactor* GetCustomerScores(grpc::CallbackServerContext* ctx,
                                              const sv1::GetCustomerScoresRequest* req,
                                              sv1::CustomerScores* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::StatusOr<crm::grpcutil::RequestContext> rc = crm::grpcutil::ReadRequestContext(*ctx);
    if (!rc.ok()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no tenant"));
      return reactor;
    }
    {
      absl::MutexLock l(&mu_);
      tenants_.push_back(rc->tenant_id);
      principals_.push_back(rc->principal);
    }
    resp->set_customer_id(req->customer_id());
    resp->set_as_of("2026-03-01");
    resp->set_currency_code("CHF");
    resp->set_orders(3);
    resp->mutable_rfm()->set_segment("Champions");
    resp->mutable_rfm()->set_score(555);
    resp->set_has_model_scores(true);
    resp->set_p_alive(0.8);
    resp->set_churn_risk(0.2);
    resp->set_clv(123.5);
    if (delay <= absl::ZeroDuration()) {
      reactor->Finish(grpc::Status::OK);
    } else {
      // Never block a callback: answer late from a thread of its own.
      threads_.emplace_back([reactor, d = delay] {
        absl::SleepFor(d);
        reactor->Finish(grpc::Status::OK);
      });
    }
    return reactor;
  }

  std::vector<std::string> tenants() {
    absl::MutexLock l(&mu_);
    return tenants_;
  }
  std::vector<std::string> principals() {
    absl::MutexLock l(&mu_);
    return principals_;
  }
  void Join() {
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> tenants_;
  std::vector<std::string> principals_;
  std::vector<std::thread> threads_;
};

// A loopback port nothing listens on (bound, then closed).
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

// customer-store's edge as main wires it, its segmentation peer at `addr`.
struct Edge {
  crm::testing::FakeCustomerRepository repo;
  crm::testing::FakeViewCache cache;
  crm::testing::FakeImportRepository imports;
  crm::testing::FixedClock clock;
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
  crm::common::Executor executor{2, 8};
  crm::customer_store::clients::GrpcCustomerInsights insights;
  app::CustomerViews views;
  app::BehaviourRetention retention{behaviour, behaviour, clock};
  crm::customer_store::api::CustomerStoreGrpcService service{
      store, merger, importer, executor, metrics, tokens, resolver, tracker, views, retention};
  std::unique_ptr<gt::TestServer> server;
  std::unique_ptr<v1::CustomerStoreService::Stub> stub;

  Edge(const std::string& segmentation_addr, absl::Duration timeout)
      : insights(crm::grpcutil::MakeChannel(segmentation_addr), timeout),
        views(store, insights, timeout) {
    gt::UseTestContextKey();
    auto started = gt::TestServer::Start({&service});
    REQUIRE(started.ok());
    server = *std::move(started);
    stub = v1::CustomerStoreService::NewStub(server->channel());
  }
  ~Edge() { server->Shutdown(); }

  std::string CreateCustomer() {
    v1::CreateCustomerRequest req;
    req.mutable_customer()->set_given_name("Ada");
    req.mutable_customer()->add_emails("ada@example.com");
    v1::Customer out;
    auto ctx = gt::CallContext(gt::Tenant(kTenant));
    grpc::Status s = stub->CreateCustomer(ctx.get(), req, &out);
    REQUIRE(s.ok());
    return out.id();
  }

  v1::CustomerView View(const std::string& id) {
    v1::GetCustomerViewRequest req;
    req.set_customer_id(id);
    v1::CustomerView view;
    auto ctx = gt::CallContext(gt::Tenant(kTenant, "key-view"));
    grpc::Status s = stub->GetCustomerView(ctx.get(), req, &view);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return view;
  }
};

const v1::ViewSection* SectionOf(const v1::CustomerView& v, const std::string& name) {
  const v1::ViewSection* found = nullptr;
  for (const v1::ViewSection& s : v.sections()) {
    if (s.name() == name) {
      CHECK(found == nullptr);  // listed once
      found = &s;
    }
  }
  return found;
}

void RequireOwnSections(const v1::CustomerView& view) {
  CHECK(view.customer().given_name() == "Ada");
  for (const char* name : {"profile", "identities", "consents", "timeline", "purchases"}) {
    const v1::ViewSection* s = SectionOf(view, name);
    REQUIRE(s != nullptr);
    CHECK(s->available());
    CHECK_FALSE(s->has_status());
  }
}

TEST_CASE("360 view: scores from segmentation, which reads the caller's tenant",
          "[customer_store][api][view]") {
  FakeSegmentation segmentation;
  auto seg_server = gt::TestServer::Start({&segmentation});
  REQUIRE(seg_server.ok());
  {
    Edge e((*seg_server)->address(), absl::Seconds(2));
    const std::string id = e.CreateCustomer();
    v1::CustomerView view = e.View(id);
    RequireOwnSections(view);
    REQUIRE(view.has_scores());
    CHECK(view.scores().clv() == 123.5);
    CHECK(view.scores().rfm().segment() == "Champions");
    CHECK(view.scores().has_model_scores());
    const v1::ViewSection* scores = SectionOf(view, "scores");
    REQUIRE(scores != nullptr);
    CHECK(scores->owner() == "segmentation");
    CHECK(scores->available());
    // GetCustomerSegments is not served yet: its section says so.
    CHECK_FALSE(view.has_segments());
    const v1::ViewSection* segments = SectionOf(view, "segments");
    REQUIRE(segments != nullptr);
    CHECK_FALSE(segments->available());
    CHECK(segments->status().code() == "UNIMPLEMENTED");
    CHECK(segments->status().reason() == "DEPENDENCY_UNAVAILABLE");
    CHECK_FALSE(segments->status().retryable());
    CHECK(segmentation.tenants() == std::vector<std::string>{kTenant});
    CHECK(segmentation.principals() == std::vector<std::string>{"key-view"});

    SECTION("a second read takes the own part from the cache and asks segmentation again") {
      v1::CustomerView again = e.View(id);
      CHECK(again.has_scores());
      CHECK(again.sections_size() == view.sections_size());
      CHECK(segmentation.tenants().size() == 2);
    }
  }
  segmentation.Join();
  (*seg_server)->Shutdown();
}

TEST_CASE("360 view: segmentation at a closed port leaves both sections out, the view answers",
          "[customer_store][api][view]") {
  Edge e("127.0.0.1:" + std::to_string(ClosedPort()), absl::Milliseconds(300));
  const std::string id = e.CreateCustomer();
  const absl::Time start = absl::Now();
  v1::CustomerView view = e.View(id);
  CHECK(absl::Now() - start < absl::Seconds(2));
  RequireOwnSections(view);
  CHECK_FALSE(view.has_scores());
  CHECK_FALSE(view.has_segments());
  for (const char* name : {"scores", "segments"}) {
    const v1::ViewSection* s = SectionOf(view, name);
    REQUIRE(s != nullptr);
    CHECK_FALSE(s->available());
    // Refused connections end as UNAVAILABLE; retries may run into the deadline.
    CHECK((s->status().code() == "UNAVAILABLE" || s->status().code() == "DEADLINE_EXCEEDED"));
    CHECK(s->status().reason() == "DEPENDENCY_UNAVAILABLE");
    CHECK(s->status().retryable());
    CHECK_FALSE(s->status().message().empty());
  }
}

TEST_CASE("360 view: a slow segmentation costs its deadline, not the view",
          "[customer_store][api][view]") {
  FakeSegmentation segmentation;
  segmentation.delay = absl::Milliseconds(800);
  auto seg_server = gt::TestServer::Start({&segmentation});
  REQUIRE(seg_server.ok());
  {
    Edge e((*seg_server)->address(), absl::Milliseconds(150));
    const std::string id = e.CreateCustomer();
    const absl::Time start = absl::Now();
    v1::CustomerView view = e.View(id);
    CHECK(absl::Now() - start < absl::Milliseconds(700));
    RequireOwnSections(view);
    CHECK_FALSE(view.has_scores());
    const v1::ViewSection* s = SectionOf(view, "scores");
    REQUIRE(s != nullptr);
    CHECK_FALSE(s->available());
    CHECK(s->status().code() == "DEADLINE_EXCEEDED");
    CHECK(s->status().retryable());
  }
  segmentation.Join();
  (*seg_server)->Shutdown();
}

}  // namespace

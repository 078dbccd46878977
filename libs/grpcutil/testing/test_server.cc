#include "libs/grpcutil/testing/test_server.h"

#include <atomic>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/errors.h"
#include "libs/grpcutil/status_conversion.h"

namespace crm::grpcutil::testing {

void UseTestContextKey() { SetContextKey(kTestContextKey); }

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(
    std::vector<grpc::Service*> services) {
  std::unique_ptr<TestServer> s(new TestServer());
  s->runner_ = std::make_unique<ServerRunner>("127.0.0.1:0");
  for (grpc::Service* svc : services) s->runner_->Register(svc);
  absl::Status started = s->runner_->Start();
  if (!started.ok()) return started;
  s->port_ = s->runner_->port();
  s->runner_->SetServing(true);
  s->channel_ = s->NewChannel();
  return s;
}

TestServer::~TestServer() { Shutdown(); }

std::string TestServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

std::shared_ptr<grpc::Channel> TestServer::NewChannel() const {
  grpc::ChannelArguments args;
  // A channel of its own: not shared with the channels made before.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(80 * 1024 * 1024);
  return grpc::CreateCustomChannel(address(), grpc::InsecureChannelCredentials(), args);
}

void TestServer::Shutdown(absl::Duration grace) {
  if (!runner_) return;
  runner_->Shutdown(grace);
  runner_.reset();
}

RequestContext Tenant(const std::string& tenant_id, const std::string& principal,
                      const std::string& request_id) {
  RequestContext rc;
  rc.tenant_id = tenant_id;
  rc.principal = principal;
  rc.roles = "admin";
  rc.request_id = request_id;
  return rc;
}

std::unique_ptr<grpc::ClientContext> CallContext(const RequestContext& rc,
                                                 absl::Duration timeout) {
  auto ctx = AnonymousContext(timeout);
  PropagateRequestContext(rc, ctx.get());
  return ctx;
}

std::unique_ptr<grpc::ClientContext> AnonymousContext(absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return ctx;
}

ExecutorGate::ExecutorGate(common::Executor& executor, int workers)
    : executor_(executor), open_(std::make_shared<absl::Notification>()) {
  auto started = std::make_shared<std::atomic<int>>(0);
  // Each worker blocks in the first task it takes, so all are busy once
  // every blocker has started (a small queue takes them one at a time).
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  for (int i = 0; i < workers && absl::Now() < give_up;) {
    bool queued = executor_.TrySubmit([open = open_, started] {
      started->fetch_add(1);
      open->WaitForNotification();
    });
    if (queued) {
      ++i;
    } else {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  while (started->load() < workers && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
}

ExecutorGate::~ExecutorGate() { Release(); }

void ExecutorGate::FillQueue() {
  while (executor_.TrySubmit([open = open_] { open->WaitForNotification(); })) {
  }
}

void ExecutorGate::Release() {
  if (open_->HasBeenNotified()) return;
  open_->Notify();
  // The blocked tasks drain from the queue now: wait until it has room, so
  // a call made next is not refused by blockers still queued.
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (executor_.queue_depth() >= executor_.max_queue() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
}

namespace {
double Collected(prometheus::Registry& registry, const std::string& family,
                 const std::vector<std::pair<std::string, std::string>>& labels) {
  double sum = 0;
  for (const auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      bool match = true;
      for (const auto& [k, v] : labels) {
        bool found = false;
        for (const auto& l : m.label) found |= l.name == k && l.value == v;
        match &= found;
      }
      if (match) sum += m.counter.value;
    }
  }
  return sum;
}
}  // namespace

double HandledCount(prometheus::Registry& registry, const std::string& method,
                    const std::string& code) {
  return Collected(registry, "crm_rpc_server_handled_total", {{"method", method}, {"code", code}});
}

double RejectedCount(prometheus::Registry& registry) {
  return Collected(registry, "crm_executor_rejected_total", {});
}

bool AwaitHandled(prometheus::Registry& registry, const std::string& method,
                  const std::string& code, double at_least, absl::Duration timeout) {
  absl::Time give_up = absl::Now() + timeout;
  for (;;) {
    if (HandledCount(registry, method, code) >= at_least) return true;
    if (absl::Now() >= give_up) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
}

std::string ReasonOf(const grpc::Status& s) { return common::ReasonOf(FromGrpcStatus(s)); }

std::string ReasonTrailer(const grpc::ClientContext& ctx) {
  const auto& md = ctx.GetServerTrailingMetadata();
  auto it = md.find(kReasonTrailer);
  if (it == md.end()) return {};
  return std::string(it->second.data(), it->second.size());
}

}  // namespace crm::grpcutil::testing

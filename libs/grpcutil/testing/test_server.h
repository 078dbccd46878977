#pragma once
// Test support for the gRPC edge (linked by tests only): the real services
// served by an in-process gRPC server on 127.0.0.1, port 0 (the kernel picks
// a free one), reached through a real TCP channel and generated stubs, as
// B&A's local-server tests do. Also what those tests need around it: a
// sealed tenant context for the client (the gateway's side of
// libs/grpcutil/context.h), a gate that fills an executor so the next call
// is refused, and the RPC metrics a call ended with.
//
//   grpcutil::testing::UseTestContextKey();
//   auto server = grpcutil::testing::TestServer::Start({&service});
//   REQUIRE(server.ok());
//   auto stub = v1::CustomerStoreService::NewStub((*server)->channel());
//   auto ctx = grpcutil::testing::CallContext(grpcutil::testing::Tenant(kTenant));
//   grpc::Status s = stub->GetCustomer(ctx.get(), req, &resp);
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/common/executor.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/server_runner.h"
#include "prometheus/registry.h"

namespace crm::grpcutil::testing {

// The context key of the test process (>= 32 bytes).
inline constexpr char kTestContextKey[] = "test-context-key-0123456789abcdef0123456789";
// Sets kTestContextKey as the process's context key (SetContextKey), so
// CallContext's seals verify. Idempotent.
void UseTestContextKey();

class TestServer final {
 public:
  // Builds and starts a server with `services` (not owned: they must
  // outlive the server) on 127.0.0.1:0, and opens a channel to it.
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(std::vector<grpc::Service*> services);
  ~TestServer();  // Shutdown(1 s) unless done
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return port_; }
  std::string address() const;  // "127.0.0.1:<port>"
  // A TCP channel to the server (one per TestServer, shared by its stubs).
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // Another channel (its own connection), e.g. to cancel a call on it alone.
  std::shared_ptr<grpc::Channel> NewChannel() const;
  // Stops accepting calls, cancels those still running after `grace`, and
  // waits until every call has ended (a reactor that never finishes hangs
  // here: the test then times out instead of leaking).
  void Shutdown(absl::Duration grace = absl::Seconds(1));

 private:
  TestServer() = default;
  std::unique_ptr<ServerRunner> runner_;
  std::shared_ptr<grpc::Channel> channel_;
  int port_ = 0;
};

// A request context as the gateway passes it (tenant, principal, roles,
// request id).
RequestContext Tenant(const std::string& tenant_id, const std::string& principal = "key-test",
                      const std::string& request_id = "req-test");
// A client context carrying `rc` sealed with the process's context key
// (PropagateRequestContext) and a deadline `timeout` from now.
std::unique_ptr<grpc::ClientContext> CallContext(const RequestContext& rc,
                                                 absl::Duration timeout = absl::Seconds(10));
// A client context with a deadline and no tenant context at all.
std::unique_ptr<grpc::ClientContext> AnonymousContext(absl::Duration timeout = absl::Seconds(10));

// Occupies every worker of an executor and fills its queue, so the next
// TrySubmit is refused (RESOURCE_EXHAUSTED at the edge) until Release().
// Also usable to hold calls queued (Occupy only): a queued call whose
// client went away meanwhile runs once released.
class ExecutorGate final {
 public:
  // `workers`: the executor's worker count. Occupies them all (returns once
  // each worker runs a blocked task).
  ExecutorGate(common::Executor& executor, int workers);
  ~ExecutorGate();  // Release()
  ExecutorGate(const ExecutorGate&) = delete;
  ExecutorGate& operator=(const ExecutorGate&) = delete;
  // Fills the queue with blocked tasks up to its bound.
  void FillQueue();
  // Lets the blocked tasks finish; returns once the queue has room again.
  void Release();

 private:
  common::Executor& executor_;
  std::shared_ptr<absl::Notification> open_;
};

// How long a test lets the server notice that a client cancelled (RST_STREAM
// travels asynchronously) before it lets queued work run.
inline constexpr absl::Duration kCancelNoticed = absl::Milliseconds(300);

// crm_rpc_server_handled_total{method, code} as collected from `registry`
// (0 when absent).
double HandledCount(prometheus::Registry& registry, const std::string& method,
                    const std::string& code);
// crm_executor_rejected_total of the registry (summed over services).
double RejectedCount(prometheus::Registry& registry);
// Waits until HandledCount(method, code) reaches `at_least` (server-side
// ends can trail the client's view of a cancelled call); false on timeout.
bool AwaitHandled(prometheus::Registry& registry, const std::string& method,
                  const std::string& code, double at_least,
                  absl::Duration timeout = absl::Seconds(5));

// The ErrorInfo reason of a status (google.rpc.Status in the details), ""
// when it carries none.
std::string ReasonOf(const grpc::Status& s);
// The `crm-error-reason` trailer of a finished call ("" when absent).
std::string ReasonTrailer(const grpc::ClientContext& ctx);

}  // namespace crm::grpcutil::testing

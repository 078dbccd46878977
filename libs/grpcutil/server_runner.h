#pragma once
// Builds and runs a gRPC server: health service (NOT_SERVING until the
// dependencies answer; NOT_SERVING again on shutdown), reflection, a listening
// port (0 picks a free one), and a drain with a deadline.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace crm::grpcutil {

// The health-check service name that answers SERVING for as long as the
// process runs (Kubernetes liveness); the overall "" status carries the
// dependencies (readiness).
inline constexpr char kLivenessService[] = "liveness";

class ServerRunner final {
 public:
  // e.g. "127.0.0.1:50051"; "" = no listening port, reachable only through
  // InProcessChannel().
  explicit ServerRunner(std::string address);
  ~ServerRunner();

  // Leaves out gRPC's own reflection service (the gateway answers
  // reflection itself, for the services it relays). Before Start().
  void DisableBuiltinReflection();
  void Register(grpc::Service* service);
  void RegisterGeneric(grpc::CallbackGenericService* service);
  grpc::ServerBuilder& builder() { return builder_; }
  absl::Status Start();
  int port() const { return port_; }
  // A channel to this server inside the process (after Start()).
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Readiness: the overall ("") health status. Liveness is untouched.
  void SetServing(bool serving);
  // Polls the checks every `interval`; SERVING only while all pass.
  void WatchReadiness(std::vector<std::function<absl::Status()>> checks,
                      absl::Duration interval = absl::Seconds(2));
  void Shutdown(absl::Duration grace);

 private:
  std::string address_;
  int port_ = 0;
  grpc::ServerBuilder builder_;
  std::unique_ptr<grpc::Server> server_;
  std::thread watcher_;
  absl::Notification stop_watch_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace crm::grpcutil

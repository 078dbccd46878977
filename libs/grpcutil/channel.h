#pragma once
// Client channels: a retry policy for UNAVAILABLE (idempotent by design of
// our request_id) and keepalive; every call carries a deadline.
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace crm::grpcutil {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target);
void SetDeadline(grpc::ClientContext* ctx, absl::Duration timeout);

}  // namespace crm::grpcutil

namespace crm::grpcutil {
// grpc.health.v1.Health/Check for the whole server (service ""), via the
// generic stub: OK only when the peer answers SERVING within `timeout`.
absl::Status ProbeHealth(grpc::Channel& channel, absl::Duration timeout);
}  // namespace crm::grpcutil

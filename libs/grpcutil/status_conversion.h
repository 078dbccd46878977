#pragma once
// The one conversion point between absl::Status (inside) and grpc::Status
// (the edge). The reason/field payloads become a google.rpc.Status with an
// ErrorInfo in the status details (grpc-status-details-bin).
#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace crm::grpcutil {

grpc::Status ToGrpcStatus(const absl::Status& s);
// Client side: code, message and reason/field back into absl::Status.
absl::Status FromGrpcStatus(const grpc::Status& s);

// Re-maps an error from a dependency (CONVENTIONS rule 6): UNAVAILABLE,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED pass; INVALID_ARGUMENT becomes
// INTERNAL; NOT_FOUND stays only when it is the resource the caller named.
absl::Status RemapDependencyError(const absl::Status& s, bool caller_named_resource);

}  // namespace crm::grpcutil

#pragma once
// Which backend serves a method and what shape the method has, resolved once
// per method when a backend is added (from the linked descriptors: shape and
// access policy), so a call costs one map lookup instead of descriptor
// pool searches, string rewrites and map walks on every request.
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "services/gateway/domain/permissions.h"

namespace crm::gateway::api {

// The shape of a linked method (kUnknown when no linked descriptor has it).
enum class MethodKind { kUnknown, kUnary, kClientStreaming, kServerStreaming, kBidiStreaming };
MethodKind KindOf(absl::string_view full_method);
// The access policy a method declares (option (crm.common.v1.access_policy));
// kUnspecified when it declares none.
domain::AccessPolicy PolicyOf(const google::protobuf::MethodDescriptor& method);

struct MethodRoute {
  grpc::GenericStub* stub = nullptr;  // nullptr: no backend serves the method's service
  MethodKind kind = MethodKind::kUnknown;
  // Declared in the method's proto; kUnspecified: unknown to the gateway.
  domain::AccessPolicy policy = domain::AccessPolicy::kUnspecified;
  bool known() const { return domain::HasPolicy(policy); }
  // "/pkg.Service/Method" as the table holds it (for metrics and logs; lives
  // as long as the table); nullptr for a method not in the table.
  const char* name = nullptr;
  // Server-streaming and bidirectional methods are relayed message by message.
  bool relayed_stream() const {
    return kind == MethodKind::kServerStreaming || kind == MethodKind::kBidiStreaming;
  }
};

// Filled at start-up (AddService), read-only while serving: no lock.
class MethodTable final {
 public:
  // Routes every method of `service_full_name` to `stub` (not owned).
  void AddService(const std::string& service_full_name, grpc::GenericStub* stub);
  // "/pkg.Service/Method": from the table, or resolved on the spot for a
  // method no linked descriptor lists (its service's backend, if any).
  MethodRoute Find(absl::string_view full_method) const;

 private:
  std::map<std::string, grpc::GenericStub*, std::less<>> services_;
  std::map<std::string, MethodRoute, std::less<>> methods_;
};

}  // namespace crm::gateway::api

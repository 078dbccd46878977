#pragma once
// gRPC server reflection (versions v1 and v1alpha, the same wire format) for
// the gateway's public surface. The gateway relays the CRM services through a
// generic handler, so gRPC's own reflection plugin would list only what is
// registered (health); this one lists every public service and answers file
// and symbol queries from the descriptors linked into the gateway. No
// credential is needed: the protos are public, like /openapi.json.
#include <string>
#include <vector>

#include <grpcpp/generic/async_generic_service.h>

#include "absl/strings/string_view.h"
#include "crm/gateway/v1/server_reflection.pb.h"

namespace crm::gateway::api {

class Reflection final {
 public:
  // `services`: full names answered to list_services.
  explicit Reflection(std::vector<std::string> services) : services_(std::move(services)) {}

  static bool IsReflectionMethod(absl::string_view full_method);
  grpc::reflection::v1::ServerReflectionResponse Answer(
      const grpc::reflection::v1::ServerReflectionRequest& request) const;
  // One reactor per reflection stream: every request answered in order.
  grpc::ServerGenericBidiReactor* CreateReactor() const;

 private:
  std::vector<std::string> services_;
};

}  // namespace crm::gateway::api

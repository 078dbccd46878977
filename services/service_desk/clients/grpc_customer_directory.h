#pragma once
// The requester through customer-store: ResolveCustomerRefs (an id checked,
// an email found; a second call creates the customer of a new email).
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "crm/customer_store/v1/customer_store.grpc.pb.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::clients {

class GrpcCustomerDirectory final : public app::CustomerDirectory {
 public:
  GrpcCustomerDirectory(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(customer_store::v1::CustomerStoreService::NewStub(channel)), timeout_(timeout) {}
  absl::StatusOr<std::string> Resolve(const std::string& tenant, const app::Requester& who,
                                      const std::string& key) override;

 private:
  // One ResolveCustomerRefs call for the requester (with create_missing and
  // `key` when `create`).
  absl::StatusOr<customer_store::v1::ResolvedCustomerRef> Call(const std::string& tenant,
                                                               const app::Requester& who,
                                                               bool create, const std::string& key);

  std::unique_ptr<customer_store::v1::CustomerStoreService::Stub> stub_;
  const absl::Duration timeout_;
};

}  // namespace crm::service_desk::clients

#pragma once
// CustomerProfiles over customer-store's GetCustomer (BatchGetCustomers for many), within
// CRM_CUSTOMER_STORE_TIMEOUT; the tenant travels in the sealed request
// context as principal "personalization".
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "crm/customer_store/v1/customer_store.grpc.pb.h"
#include "services/personalization/app/ports.h"

namespace crm::personalization::clients {

class GrpcCustomerStorePeer final : public app::CustomerProfiles {
 public:
  GrpcCustomerStorePeer(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(customer_store::v1::CustomerStoreService::NewStub(std::move(channel))),
        timeout_(timeout) {}

  absl::StatusOr<app::CustomerProfile> Get(const std::string& tenant,
                                           const std::string& customer_id) override;
  absl::StatusOr<std::map<std::string, app::CustomerProfile>> GetMany(
      const std::string& tenant, const std::vector<std::string>& customer_ids) override;

 private:
  std::unique_ptr<customer_store::v1::CustomerStoreService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace crm::personalization::clients

#pragma once
// CustomerDirectory over customer-store's gRPC API: SearchCustomers to find
// the owner of an identity, UpsertCustomer (idempotent by request_id) to
// create one. The caller's tenant, principal and request id travel in the
// metadata like a gateway call's. ResolveBatch: one ResolveCustomerRefs call.
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "crm/customer_store/v1/customer_store.grpc.pb.h"
#include "services/transaction/app/customer_directory.h"

namespace crm::transaction::storage {

class GrpcCustomerDirectory final : public app::CustomerDirectory {
 public:
  GrpcCustomerDirectory(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(customer_store::v1::CustomerStoreService::NewStub(std::move(channel))),
        timeout_(timeout) {}

  absl::StatusOr<app::ResolvedCustomer> Resolve(const app::Actor& actor,
                                                const app::CustomerIdentities& who,
                                                bool create) override;
  absl::StatusOr<std::vector<app::RefResolution>> ResolveBatch(
      const app::Actor& actor, const std::vector<app::CustomerRefInput>& refs,
      bool create) override;

 private:
  void Prepare(const app::Actor& actor, grpc::ClientContext* ctx) const;
  absl::StatusOr<std::string> Find(const app::Actor& actor, const app::CustomerIdentities& who);
  std::unique_ptr<customer_store::v1::CustomerStoreService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace crm::transaction::storage

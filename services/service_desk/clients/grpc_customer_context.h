#pragma once
// The ticket context's reads from customer-store: GetVisit and
// GetCustomerView started together (gRPC's callback API, no thread of
// their own), each with kContextDeadline; and routing's customer facts
// (the view's scores and segments) within kFactsDeadline.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "crm/customer_store/v1/customer_store.grpc.pb.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::clients {

// Each part's deadline: the context answers within about this plus the
// ticket's read (docs/service-desk.md: at once, under a second).
inline constexpr absl::Duration kContextDeadline = absl::Milliseconds(800);
// Routing's read, on a ticket's creation path.
inline constexpr absl::Duration kFactsDeadline = absl::Milliseconds(300);

class GrpcCustomerContext final : public app::CustomerContext, public app::CustomerFactsSource {
 public:
  GrpcCustomerContext(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline)
      : stub_(customer_store::v1::CustomerStoreService::NewStub(channel)), deadline_(deadline) {}
  Parts Read(const std::string& tenant, const domain::VisitSubject& visit,
             const std::string& customer_id) override;
  absl::StatusOr<domain::CustomerFacts> Facts(const std::string& tenant,
                                              const std::string& customer_id) override;

 private:
  std::unique_ptr<customer_store::v1::CustomerStoreService::Stub> stub_;
  const absl::Duration deadline_;
};

}  // namespace crm::service_desk::clients

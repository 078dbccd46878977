#pragma once
// The engine's peers over gRPC: customer-store (the profile's addresses and
// the consents, read at the moment of sending), personalization (the
// template's channel, the rendered content) and the service desk (the mail
// it sends).
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "crm/customer_store/v1/customer_store.grpc.pb.h"
#include "crm/personalization/v1/personalization.grpc.pb.h"
#include "crm/segmentation/v1/segmentation.grpc.pb.h"
#include "crm/service_desk/v1/service_desk.grpc.pb.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::clients {

class GrpcCustomerDirectory final : public app::CustomerDirectory {
 public:
  GrpcCustomerDirectory(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(customer_store::v1::CustomerStoreService::NewStub(channel)), timeout_(timeout) {}
  absl::StatusOr<std::map<std::string, app::Contact>> GetContacts(
      const std::string& tenant, const std::vector<std::string>& customer_ids) override;
  absl::Status RecordOptOut(const std::string& tenant, const std::string& customer_id,
                            const OptOut& opt_out) override;
  absl::Status SetAttribute(const std::string& tenant, const std::string& customer_id,
                            const std::string& name, const domain::AttributeValue& value,
                            const std::string& request_id) override;

 private:
  std::unique_ptr<customer_store::v1::CustomerStoreService::Stub> stub_;
  const absl::Duration timeout_;
};

class GrpcRenderer final : public app::Renderer {
 public:
  GrpcRenderer(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(personalization::v1::PersonalizationService::NewStub(channel)), timeout_(timeout) {}
  absl::StatusOr<std::string> TemplateChannel(const std::string& tenant,
                                              const std::string& template_id) override;
  absl::StatusOr<std::vector<absl::StatusOr<app::Rendered>>> RenderBatch(
      const std::string& tenant, const std::vector<Request>& requests) override;

 private:
  std::unique_ptr<personalization::v1::PersonalizationService::Stub> stub_;
  const absl::Duration timeout_;
};

class GrpcSegmentDirectory final : public app::SegmentDirectory {
 public:
  GrpcSegmentDirectory(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(segmentation::v1::SegmentationService::NewStub(channel)), timeout_(timeout) {}
  absl::Status CheckSegment(const std::string& tenant, const std::string& segment_id) override;
  absl::StatusOr<app::MemberPage> Members(const std::string& tenant, const std::string& segment_id,
                                          const std::string& cursor, int page_size) override;
  absl::StatusOr<bool> Matches(const std::string& tenant, const std::string& customer_id,
                               const std::string& expression) override;

 private:
  std::unique_ptr<segmentation::v1::SegmentationService::Stub> stub_;
  const absl::Duration timeout_;
};

class GrpcTicketMailSource final : public app::TicketMailSource {
 public:
  GrpcTicketMailSource(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(service_desk::v1::ServiceDeskService::NewStub(channel)), timeout_(timeout) {}
  absl::StatusOr<app::TicketMail> GetTicketMail(const std::string& tenant,
                                                const std::string& ticket_id,
                                                const std::string& mail_id) override;

 private:
  std::unique_ptr<service_desk::v1::ServiceDeskService::Stub> stub_;
  const absl::Duration timeout_;
};

}  // namespace crm::delivery::clients

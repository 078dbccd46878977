#include "services/gateway/api/backends.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "crm/customer_store/v1/customer_store.grpc.pb.h"
#include "crm/customer_store/v1/customer_store.pb.h"
#include "crm/delivery/v1/delivery.grpc.pb.h"
#include "crm/delivery/v1/delivery.pb.h"
#include "crm/gateway/v1/admin.grpc.pb.h"
#include "crm/gateway/v1/admin.pb.h"
#include "crm/personalization/v1/personalization.grpc.pb.h"
#include "crm/personalization/v1/personalization.pb.h"
#include "crm/segmentation/v1/segmentation.grpc.pb.h"
#include "crm/segmentation/v1/segmentation.pb.h"
#include "crm/service_desk/v1/service_desk.grpc.pb.h"
#include "crm/service_desk/v1/service_desk.pb.h"
#include "crm/transaction/v1/erp.grpc.pb.h"
#include "crm/transaction/v1/erp.pb.h"
#include "crm/transaction/v1/pipeline.grpc.pb.h"
#include "crm/transaction/v1/pipeline.pb.h"
#include "crm/transaction/v1/transaction.grpc.pb.h"
#include "crm/transaction/v1/transaction.pb.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/channel.h"

namespace crm::gateway::api {
namespace {

namespace pb = google::protobuf;

// The file that declares a message (and the services next to it).
template <typename Message>
const pb::FileDescriptor* FileOf() {
  return Message::descriptor()->file();
}

}  // namespace

const std::vector<BackendService>& BackendTable() {
  using customer_store::v1::CustomerStoreService;
  using gateway::v1::AdminService;
  using transaction::v1::ErpIntegrationService;
  using transaction::v1::PipelineService;
  using transaction::v1::TransactionService;
  // service, peer, its proto file (through one of the file's messages)
  static const auto* const kTable = new std::vector<BackendService>{
      {CustomerStoreService::service_full_name(), "customer-store",
       &FileOf<customer_store::v1::Customer>},
      {AdminService::service_full_name(), kInProcessPeer, &FileOf<gateway::v1::Tenant>},
      {TransactionService::service_full_name(), "transaction", &FileOf<transaction::v1::Product>},
      // gRPC only (streaming): no REST routes.
      {ErpIntegrationService::service_full_name(), "transaction",
       &FileOf<transaction::v1::IngestOrdersRequest>},
      {PipelineService::service_full_name(), "transaction", &FileOf<transaction::v1::Lead>},
      {segmentation::v1::SegmentationService::service_full_name(), "segmentation",
       &FileOf<segmentation::v1::ClvModel>},
      {personalization::v1::PersonalizationService::service_full_name(), "personalization",
       &FileOf<personalization::v1::Recommendations>},
      {delivery::v1::DeliveryService::service_full_name(), "delivery",
       &FileOf<delivery::v1::Message>},
      {service_desk::v1::ServiceDeskService::service_full_name(), "service-desk",
       &FileOf<service_desk::v1::Ticket>},
  };
  return *kTable;
}

std::vector<std::string> RemotePeers(const std::vector<BackendService>& table) {
  std::vector<std::string> peers;
  for (const BackendService& row : table) {
    if (row.peer != kInProcessPeer &&
        std::find(peers.begin(), peers.end(), row.peer) == peers.end()) {
      peers.push_back(row.peer);
    }
  }
  return peers;
}

common::PeerDefaults GatewayPeerDefaults(absl::string_view peer) {
  common::PeerDefaults defaults;
  defaults.timeout = absl::Seconds(1);
  if (peer == "customer-store") defaults.addr = "127.0.0.1:50061";
  if (peer == "transaction") defaults.addr = "127.0.0.1:50062";
  if (peer == "segmentation") defaults.addr = "127.0.0.1:50063";
  if (peer == "personalization") defaults.addr = "127.0.0.1:50064";
  if (peer == "delivery") defaults.addr = "127.0.0.1:50065";
  if (peer == "service-desk") defaults.addr = "127.0.0.1:50066";
  return defaults;
}

absl::StatusOr<std::vector<common::PeerConfig>> LoadGatewayPeers(
    const std::vector<BackendService>& table) {
  std::vector<common::PeerConfig> peers;
  for (const std::string& peer : RemotePeers(table)) {
    CRM_ASSIGN_OR_RETURN(common::PeerConfig config,
                         common::LoadPeerConfig(peer, GatewayPeerDefaults(peer)));
    peers.push_back(std::move(config));
  }
  return peers;
}

absl::StatusOr<Backends> Backends::Create(const std::vector<BackendService>& table,
                                          const std::vector<common::PeerConfig>& peers,
                                          const ChannelFactory& connect) {
  Backends b;
  std::set<std::string> seen;
  for (const BackendService& row : table) {
    const pb::FileDescriptor* file = row.file();
    const pb::ServiceDescriptor* service = file->pool()->FindServiceByName(row.service);
    if (service == nullptr || service->file() != file) {
      return absl::FailedPreconditionError(
          absl::StrCat("backend table: ", row.service, " is not declared in ", file->name()));
    }
    if (!seen.insert(row.service).second) {
      return absl::FailedPreconditionError(
          absl::StrCat("backend table: ", row.service, " is listed twice"));
    }
    std::shared_ptr<grpc::Channel> channel;
    if (row.peer != kInProcessPeer) {
      auto known = std::find_if(b.peers_.begin(), b.peers_.end(),
                                [&](const Peer& p) { return p.config.peer == row.peer; });
      if (known != b.peers_.end()) {
        channel = known->channel;
      } else {
        auto config = std::find_if(peers.begin(), peers.end(),
                                   [&](const common::PeerConfig& p) { return p.peer == row.peer; });
        if (config == peers.end()) {
          return absl::FailedPreconditionError(
              absl::StrCat("backend table: no address for peer ", row.peer, " of ", row.service));
        }
        channel = connect(config->addr);
        b.peers_.push_back({*config, channel});
      }
    }
    b.routes_.push_back({service, std::move(channel)});
  }
  return b;
}

absl::Status Backends::AddTo(Proxy& proxy, const std::shared_ptr<grpc::Channel>& in_process) const {
  for (const Route& r : routes_) {
    if (r.channel == nullptr && in_process == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("no in-process channel for ", r.service->full_name()));
    }
  }
  for (const Route& r : routes_) {
    proxy.AddBackend(r.service->full_name(), r.channel != nullptr ? r.channel : in_process);
  }
  return absl::OkStatus();
}

std::vector<const google::protobuf::ServiceDescriptor*> Backends::Services() const {
  std::vector<const pb::ServiceDescriptor*> services;
  for (const Route& r : routes_) services.push_back(r.service);
  return services;
}

std::vector<std::string> Backends::PublicServices() const {
  std::vector<std::string> names = {"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                                    "grpc.reflection.v1alpha.ServerReflection"};
  for (const Route& r : routes_) names.push_back(r.service->full_name());
  return names;
}

absl::Status Backends::Probe() const {
  for (const Peer& p : peers_) {
    absl::Status s = grpcutil::ProbeHealth(*p.channel, p.config.timeout);
    if (!s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat(p.config.peer, " at ", p.config.addr, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace crm::gateway::api

#pragma once
// The gateway's backends as one table: every public service it relays and
// the peer that serves it. Derived from the table: the gRPC channels (one per
// distinct peer, at CRM_<PEER>_ADDR), the proxy's routes, the services the
// REST gateway and OpenAPI read their routes from, reflection's service list
// and readiness (every peer answers its health check). Adding a service is
// one row of BackendTable() (backends.cc), which also links its protos; who
// may call each of its methods is the access policy the method declares in
// its proto (option (crm.common.v1.access_policy), read by the method table;
// a unit test walks the table and fails for a method without one).
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "libs/common/service_config.h"
#include "services/gateway/api/proxy.h"

namespace crm::gateway::api {

// The peer of a service the gateway serves itself (AdminService, on its
// in-process server): no address, no readiness check.
inline constexpr char kInProcessPeer[] = "";

struct BackendService {
  std::string service;  // full name: "crm.customer_store.v1.CustomerStoreService"
  // "customer-store": its CRM_CUSTOMER_STORE_ADDR / _TIMEOUT; or kInProcessPeer.
  std::string peer;
  // The proto file that declares `service`: calling it keeps the file's
  // descriptors linked into the gateway (the proxy, REST and reflection read
  // them from the generated pool).
  const google::protobuf::FileDescriptor* (*file)();
};

// The gateway's table. Its order is the order of the REST routes (the
// earlier wins a tie), of the OpenAPI paths and of reflection's list.
const std::vector<BackendService>& BackendTable();

// The distinct peers of `table` that have an address, in table order.
std::vector<std::string> RemotePeers(const std::vector<BackendService>& table);

// What a peer of the gateway is when its variables are not set: the port
// `./crm up` gives it on 127.0.0.1 (customer-store, transaction; "" for any
// other: CRM_<PEER>_ADDR is then required), and a 1s deadline for the
// readiness health check (CRM_<PEER>_TIMEOUT; forwarded calls have
// CRM_BACKEND_DEADLINE).
common::PeerDefaults GatewayPeerDefaults(absl::string_view peer);

// Loads every remote peer of `table` (LoadPeerConfig with GatewayPeerDefaults).
absl::StatusOr<std::vector<common::PeerConfig>> LoadGatewayPeers(
    const std::vector<BackendService>& table);

using ChannelFactory = std::function<std::shared_ptr<grpc::Channel>(const std::string& target)>;

class Backends final {
 public:
  struct Peer {
    common::PeerConfig config;
    std::shared_ptr<grpc::Channel> channel;
  };
  struct Route {
    const google::protobuf::ServiceDescriptor* service;
    std::shared_ptr<grpc::Channel> channel;  // null: the in-process server
  };

  // One channel per distinct remote peer of `table`, made by `connect` from
  // the peer's address in `peers`. FAILED_PRECONDITION when a row's service
  // is not in its file, a peer has no entry in `peers` or a service is
  // listed twice.
  static absl::StatusOr<Backends> Create(const std::vector<BackendService>& table,
                                         const std::vector<common::PeerConfig>& peers,
                                         const ChannelFactory& connect);

  // Routes every service of the table to its peer's channel, the
  // kInProcessPeer ones to `in_process` (FAILED_PRECONDITION when there are
  // some and it is null).
  absl::Status AddTo(Proxy& proxy, const std::shared_ptr<grpc::Channel>& in_process) const;
  // The services in table order: the REST gateway and OpenAPI take their
  // routes from these (methods without an HTTP rule, and streaming ones, get
  // none).
  std::vector<const google::protobuf::ServiceDescriptor*> Services() const;
  // What reflection lists: health, reflection (v1, v1alpha), then the table.
  std::vector<std::string> PublicServices() const;
  // Readiness: OK when every remote peer answers its health check SERVING
  // within its timeout; else the first failure, naming the peer.
  absl::Status Probe() const;

  const std::vector<Peer>& peers() const { return peers_; }
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Peer> peers_;
  std::vector<Route> routes_;
};

}  // namespace crm::gateway::api

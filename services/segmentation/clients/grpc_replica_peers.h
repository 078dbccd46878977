#pragma once
// ReplicaPeers over the other replicas' SegmentationReplicaService: one
// channel per peer, every peer asked at once (a thread per call), each call
// within `timeout` (a `sync` count, which may re-evaluate every customer the
// peer holds, within `sync_timeout`). The tenant travels in the sealed
// request context (grpcutil::PropagateRequestContext) as this replica's
// principal.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "crm/segmentation/v1/replica.grpc.pb.h"
#include "services/segmentation/app/segment_ports.h"

namespace crm::segmentation::clients {

class GrpcReplicaPeers final : public app::ReplicaPeers {
 public:
  // `addresses`: the other replicas' gRPC addresses (host:port).
  GrpcReplicaPeers(const std::vector<std::string>& addresses, std::string principal,
                   absl::Duration timeout, absl::Duration sync_timeout);

  int size() const override { return static_cast<int>(peers_.size()); }
  absl::StatusOr<std::map<std::string, uint64_t>> Counts(
      const std::string& tenant, const std::vector<std::string>& segment_ids, bool sync) override;
  absl::StatusOr<std::vector<bool>> Match(const std::string& tenant, const std::string& customer_id,
                                          const std::vector<std::string>& expressions) override;
  absl::StatusOr<std::vector<app::LocalPreview>> Previews(const std::string& tenant,
                                                          const std::string& expression,
                                                          int sample_size) override;

 private:
  struct Peer {
    std::string address;
    std::unique_ptr<segmentation::v1::SegmentationReplicaService::Stub> stub;
  };
  void Prepare(const std::string& tenant, absl::Duration timeout, grpc::ClientContext* ctx) const;

  std::vector<Peer> peers_;
  std::string principal_;
  absl::Duration timeout_;
  absl::Duration sync_timeout_;
};

}  // namespace crm::segmentation::clients

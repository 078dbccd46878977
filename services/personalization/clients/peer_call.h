#pragma once
// A call of the engine to a peer, as principal "personalization"
// (grpcutil::PreparePeerCall).
#include <string>

#include "libs/grpcutil/peer_call.h"

namespace crm::personalization::clients {

inline void PreparePeerCall(const std::string& tenant, absl::Duration timeout,
                            grpc::ClientContext* ctx) {
  grpcutil::PreparePeerCall("personalization", tenant, timeout, ctx);
}

}  // namespace crm::personalization::clients

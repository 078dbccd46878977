#include "services/segmentation/clients/grpc_replica_peers.h"

#include <future>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/status_conversion.h"
#include "libs/observability/log.h"

namespace crm::segmentation::clients {
namespace {

namespace sv1 = ::crm::segmentation::v1;

// A peer's refusal or silence, logged here with its address; the caller
// sees UNAVAILABLE (REPLICA_UNAVAILABLE) for a peer that cannot be reached,
// the peer's own error otherwise (e.g. an expression it refuses).
absl::Status FromCall(const grpc::Status& s, const std::string& address, const char* method) {
  if (s.ok()) return absl::OkStatus();
  CRM_LOG(Warning)
          .Field("peer", address)
          .Field("method", method)
          .Field("code", static_cast<int64_t>(s.error_code()))
      << "a segmentation replica did not answer: " << s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNIMPLEMENTED:  // a peer of a version without the service
      return common::WithReason(
          absl::UnavailableError("a segmentation replica is unavailable; retry shortly"),
          "REPLICA_UNAVAILABLE");
    default:
      return grpcutil::FromGrpcStatus(s);
  }
}

// Runs `call(peer)` for every peer at once; the answers in peer order, or
// the first error.
template <typename T, typename Peer, typename Call>
absl::StatusOr<std::vector<T>> AskAll(const std::vector<Peer>& peers, Call call) {
  std::vector<std::future<absl::StatusOr<T>>> pending;
  pending.reserve(peers.size());
  for (const Peer& p : peers) pending.push_back(std::async(std::launch::async, call, std::cref(p)));
  std::vector<T> out;
  absl::Status first;
  for (auto& f : pending) {
    absl::StatusOr<T> r = f.get();
    if (!r.ok()) {
      if (first.ok()) first = r.status();
      continue;
    }
    out.push_back(*std::move(r));
  }
  if (!first.ok()) return first;
  return out;
}

}  // namespace

GrpcReplicaPeers::GrpcReplicaPeers(const std::vector<std::string>& addresses,
                                   std::string principal, absl::Duration timeout,
                                   absl::Duration sync_timeout)
    : principal_(std::move(principal)), timeout_(timeout), sync_timeout_(sync_timeout) {
  for (const std::string& a : addresses) {
    peers_.push_back({a, sv1::SegmentationReplicaService::NewStub(
                             grpc::CreateChannel(a, grpc::InsecureChannelCredentials()))});
  }
}

void GrpcReplicaPeers::Prepare(const std::string& tenant, absl::Duration timeout,
                               grpc::ClientContext* ctx) const {
  grpcutil::RequestContext rc;
  rc.tenant_id = tenant;
  rc.principal = principal_;
  rc.roles = "service";
  grpcutil::PropagateRequestContext(rc, ctx);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

absl::StatusOr<std::map<std::string, uint64_t>> GrpcReplicaPeers::Counts(
    const std::string& tenant, const std::vector<std::string>& segment_ids, bool sync) {
  using Answer = std::map<std::string, uint64_t>;
  CRM_ASSIGN_OR_RETURN(
      std::vector<Answer> answers,
      AskAll<Answer>(peers_, [&](const Peer& p) -> absl::StatusOr<Answer> {
        grpc::ClientContext ctx;
        Prepare(tenant, sync ? sync_timeout_ : timeout_, &ctx);
        sv1::GetLocalCountsRequest req;
        for (const std::string& id : segment_ids) req.add_segment_ids(id);
        req.set_sync(sync);
        sv1::GetLocalCountsResponse resp;
        CRM_RETURN_IF_ERROR(FromCall(p.stub->GetLocalCounts(&ctx, req, &resp), p.address,
                                     "GetLocalCounts"));
        Answer a;
        for (const sv1::LocalCount& c : resp.counts()) {
          if (c.member_count() < 0) return absl::InternalError("a replica counted below zero");
          a[c.segment_id()] = static_cast<uint64_t>(c.member_count());
        }
        return a;
      }));
  Answer total;
  for (const std::string& id : segment_ids) total[id] = 0;
  for (const Answer& a : answers) {
    for (const auto& [id, n] : a) total[id] += n;
  }
  return total;
}

absl::StatusOr<std::vector<app::LocalPreview>> GrpcReplicaPeers::Previews(
    const std::string& tenant, const std::string& expression, int sample_size) {
  return AskAll<app::LocalPreview>(
      peers_, [&](const Peer& p) -> absl::StatusOr<app::LocalPreview> {
        grpc::ClientContext ctx;
        Prepare(tenant, timeout_, &ctx);
        sv1::PreviewLocalRequest req;
        req.set_expression(expression);
        req.set_sample_size(sample_size);
        sv1::PreviewLocalResponse resp;
        CRM_RETURN_IF_ERROR(
            FromCall(p.stub->PreviewLocal(&ctx, req, &resp), p.address, "PreviewLocal"));
        app::LocalPreview out;
        out.count = static_cast<uint64_t>(std::max<int64_t>(resp.count(), 0));
        out.customers = static_cast<uint64_t>(std::max<int64_t>(resp.customers(), 0));
        out.sample.assign(resp.sample_customer_ids().begin(), resp.sample_customer_ids().end());
        return out;
      });
}

absl::StatusOr<std::vector<bool>> GrpcReplicaPeers::Match(
    const std::string& tenant, const std::string& customer_id,
    const std::vector<std::string>& expressions) {
  using Held = std::optional<std::vector<bool>>;
  CRM_ASSIGN_OR_RETURN(
      std::vector<Held> answers, AskAll<Held>(peers_, [&](const Peer& p) -> absl::StatusOr<Held> {
        grpc::ClientContext ctx;
        Prepare(tenant, timeout_, &ctx);
        sv1::MatchLocalRequest req;
        req.set_customer_id(customer_id);
        for (const std::string& e : expressions) req.add_expressions(e);
        sv1::MatchLocalResponse resp;
        CRM_RETURN_IF_ERROR(
            FromCall(p.stub->MatchLocal(&ctx, req, &resp), p.address, "MatchLocal"));
        if (!resp.held()) return Held();
        if (resp.matches_size() != static_cast<int>(expressions.size())) {
          return absl::InternalError("a replica answered another number of matches");
        }
        return Held(std::vector<bool>(resp.matches().begin(), resp.matches().end()));
      }));
  for (Held& h : answers) {
    if (h) return *std::move(h);
  }
  return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
}

}  // namespace crm::segmentation::clients

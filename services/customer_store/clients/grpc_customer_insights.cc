#include "services/customer_store/clients/grpc_customer_insights.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/grpcutil/status_conversion.h"
#include "libs/observability/log.h"

namespace crm::customer_store::clients {
namespace {

namespace sv1 = ::crm::segmentation::v1;

// One call in flight: everything gRPC's callback touches lives here until it
// has run (the caller may have stopped waiting long before).
template <typename Request, typename Response, typename T>
struct Call {
  grpc::ClientContext ctx;
  Request req;
  Response resp;
  std::promise<absl::StatusOr<T>> done;
};

// The engine's answer as the app layer reads it: the code kept (the app
// decides what each means for its section), the detail of an unexpected
// refusal logged here, never shown to the client.
absl::Status FromCall(const grpc::Status& s, const char* method) {
  if (s.ok()) return absl::OkStatus();
  switch (s.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::CANCELLED:
      break;
    default:
      CRM_LOG(Warning)
              .Field("peer", "segmentation")
              .Field("method", method)
              .Field("code", grpcutil::CodeName(s.error_code()))
          << "segmentation refused a call of the 360 view: " << s.error_message();
  }
  return grpcutil::FromGrpcStatus(s);
}

domain::CustomerScores FromProto(const sv1::CustomerScores& p) {
  domain::CustomerScores s;
  s.as_of = p.as_of();
  s.currency_code = p.currency_code();
  s.orders = p.orders();
  s.monetary = p.monetary();
  s.last_purchase = p.last_purchase();
  if (p.has_rfm()) {
    s.rfm = domain::RfmScore{p.rfm().recency(), p.rfm().frequency(), p.rfm().monetary(),
                             p.rfm().score(), p.rfm().segment()};
  }
  s.has_model_scores = p.has_model_scores();
  s.model_absent_reason = p.model_absent_reason();
  if (s.has_model_scores) {
    s.p_alive = p.p_alive();
    s.churn_risk = p.churn_risk();
    s.horizon = p.horizon();
    s.expected_purchases = p.expected_purchases();
    s.expected_spend = p.expected_spend();
    s.clv = p.clv();
  }
  return s;
}

std::vector<domain::SegmentMembership> FromProto(const sv1::CustomerSegments& p) {
  std::vector<domain::SegmentMembership> out;
  out.reserve(static_cast<size_t>(p.segments_size()));
  for (const sv1::CustomerSegment& s : p.segments()) {
    domain::SegmentMembership m;
    m.segment_id = s.segment_id();
    m.display_name = s.display_name();
    if (s.has_enter_time()) {
      m.enter_time = grpcutil::FromTimestamp(s.enter_time());
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

void GrpcCustomerInsights::Prepare(const app::Caller& caller, grpc::ClientContext* ctx) const {
  grpcutil::RequestContext rc;
  rc.tenant_id = caller.tenant_id;
  rc.principal = caller.principal;
  rc.roles = caller.roles;
  rc.request_id = caller.request_id;
  rc.traceparent = caller.traceparent;
  grpcutil::PropagateRequestContext(rc, ctx);
  const absl::Time deadline = std::min(absl::Now() + timeout_, caller.deadline);
  ctx->set_deadline(absl::ToChronoTime(deadline));
}

std::future<absl::StatusOr<domain::CustomerScores>> GrpcCustomerInsights::ScoresOf(
    const app::Caller& caller, const std::string& customer_id) {
  using C = Call<sv1::GetCustomerScoresRequest, sv1::CustomerScores, domain::CustomerScores>;
  auto call = std::make_shared<C>();
  std::future<absl::StatusOr<domain::CustomerScores>> answer = call->done.get_future();
  call->req.set_customer_id(customer_id);
  Prepare(caller, &call->ctx);
  stub_->async()->GetCustomerScores(&call->ctx, &call->req, &call->resp, [call](grpc::Status s) {
    absl::Status st = FromCall(s, "GetCustomerScores");
    if (st.ok()) {
      call->done.set_value(FromProto(call->resp));
    } else {
      call->done.set_value(std::move(st));
    }
  });
  return answer;
}

std::future<absl::StatusOr<std::vector<domain::SegmentMembership>>>
GrpcCustomerInsights::SegmentsOf(const app::Caller& caller, const std::string& customer_id) {
  using C = Call<sv1::GetCustomerSegmentsRequest, sv1::CustomerSegments,
                 std::vector<domain::SegmentMembership>>;
  auto call = std::make_shared<C>();
  std::future<absl::StatusOr<std::vector<domain::SegmentMembership>>> answer =
      call->done.get_future();
  call->req.set_customer_id(customer_id);
  Prepare(caller, &call->ctx);
  stub_->async()->GetCustomerSegments(&call->ctx, &call->req, &call->resp, [call](grpc::Status s) {
    absl::Status st = FromCall(s, "GetCustomerSegments");
    if (st.ok()) {
      call->done.set_value(FromProto(call->resp));
    } else {
      call->done.set_value(std::move(st));
    }
  });
  return answer;
}

}  // namespace crm::customer_store::clients

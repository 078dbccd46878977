#include "services/service_desk/clients/grpc_customer_context.h"

#include <algorithm>
#include <future>

#include "libs/grpcutil/peer_call.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/status_conversion.h"

namespace crm::service_desk::clients {
namespace {

namespace cs = ::crm::customer_store::v1;
constexpr const char* kPrincipal = "service-desk";

// The serialized answer of a finished call, or its error.
template <typename M>
absl::StatusOr<std::string> AnswerOf(std::future<grpc::Status>& done, const M& answer) {
  grpc::Status g = done.get();
  if (!g.ok()) return grpcutil::FromGrpcStatus(g);
  return answer.SerializeAsString();
}

}  // namespace

app::CustomerContext::Parts GrpcCustomerContext::Read(const std::string& tenant,
                                                      const domain::VisitSubject& visit,
                                                      const std::string& customer_id) {
  cs::GetVisitRequest visit_req;
  visit_req.set_visitor_id(visit.visitor_id);
  visit_req.set_customer_id(visit.customer_id);
  if (visit.at != absl::InfinitePast()) grpcutil::ToTimestamp(visit.at, visit_req.mutable_at());
  cs::GetCustomerViewRequest view_req;
  view_req.set_customer_id(customer_id);

  grpc::ClientContext visit_ctx, view_ctx;
  grpcutil::PreparePeerCall(kPrincipal, tenant, deadline_, &visit_ctx);
  grpcutil::PreparePeerCall(kPrincipal, tenant, deadline_, &view_ctx);
  cs::Visit visit_answer;
  cs::CustomerView view_answer;
  std::promise<grpc::Status> visit_done, view_done;
  std::future<grpc::Status> visit_f = visit_done.get_future(), view_f = view_done.get_future();
  // Both calls end by their deadline at the latest, so the waits below end.
  stub_->async()->GetVisit(&visit_ctx, &visit_req, &visit_answer,
                           [&visit_done](grpc::Status s) { visit_done.set_value(std::move(s)); });
  stub_->async()->GetCustomerView(&view_ctx, &view_req, &view_answer, [&view_done](grpc::Status s) {
    view_done.set_value(std::move(s));
  });
  Parts parts;
  parts.visit = AnswerOf(visit_f, visit_answer);
  parts.view = AnswerOf(view_f, view_answer);
  return parts;
}

absl::StatusOr<domain::CustomerFacts> GrpcCustomerContext::Facts(const std::string& tenant,
                                                                 const std::string& customer_id) {
  cs::GetCustomerViewRequest req;
  req.set_customer_id(customer_id);
  grpc::ClientContext ctx;
  grpcutil::PreparePeerCall(kPrincipal, tenant, std::min(deadline_, kFactsDeadline), &ctx);
  cs::CustomerView view;
  grpc::Status g = stub_->GetCustomerView(&ctx, req, &view);
  if (!g.ok()) return grpcutil::FromGrpcStatus(g);
  // A section the view could not fill (the engine down) tells nothing:
  // its facts stay unknown.
  domain::CustomerFacts facts;
  if (view.has_scores()) {
    const cs::ViewScores& s = view.scores();
    if (s.has_rfm()) facts.rfm_segment = s.rfm().segment();
    if (s.has_model_scores()) {
      facts.clv = s.clv();
      facts.churn_risk = s.churn_risk();
    }
  }
  if (view.has_segments()) {
    for (const cs::ViewSegmentMembership& m : view.segments().segments()) {
      facts.segments.push_back(m.segment_id());
      if (!m.display_name().empty()) facts.segments.push_back(m.display_name());
    }
  }
  return facts;
}

}  // namespace crm::service_desk::clients

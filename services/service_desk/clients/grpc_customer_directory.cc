#include "services/service_desk/clients/grpc_customer_directory.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/peer_call.h"
#include "libs/grpcutil/status_conversion.h"

namespace crm::service_desk::clients {
namespace {

namespace cs = ::crm::customer_store::v1;
constexpr const char* kPrincipal = "service-desk";

absl::Status Unavailable() {
  return common::WithReason(
      absl::UnavailableError(
          "customer-store could not resolve the requester; retry with the same request_id"),
      "CUSTOMER_STORE_UNAVAILABLE");
}

}  // namespace

absl::StatusOr<customer_store::v1::ResolvedCustomerRef> GrpcCustomerDirectory::Call(
    const std::string& tenant, const app::Requester& who, bool create, const std::string& key) {
  cs::ResolveCustomerRefsRequest req;
  cs::CustomerRefQuery* q = req.add_refs();
  q->set_customer_id(who.customer_id);
  q->set_email(who.email);
  if (!who.name.empty()) {
    // "Ada Lovelace" → given "Ada", family "Lovelace"; one word is a given name.
    std::pair<std::string, std::string> name = absl::StrSplit(who.name, absl::MaxSplits(' ', 1));
    q->set_given_name(name.first);
    q->set_family_name(name.second);
  }
  req.set_create_missing(create);
  if (create) req.set_request_id(key);
  grpc::ClientContext ctx;
  grpcutil::PreparePeerCall(kPrincipal, tenant, timeout_, &ctx);
  cs::ResolveCustomerRefsResponse resp;
  grpc::Status g = stub_->ResolveCustomerRefs(&ctx, req, &resp);
  if (!g.ok()) {
    switch (g.error_code()) {
      case grpc::StatusCode::DEADLINE_EXCEEDED:
      case grpc::StatusCode::UNAVAILABLE:
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
      case grpc::StatusCode::ABORTED:
        return Unavailable();
      case grpc::StatusCode::INVALID_ARGUMENT:
      case grpc::StatusCode::FAILED_PRECONDITION:
      case grpc::StatusCode::ALREADY_EXISTS:
        // The caller's doing, with customer-store's reason: e.g. the
        // request's derived key reused for another requester after a
        // timed-out first try (IDEMPOTENCY_KEY_REUSED, 422).
        return grpcutil::FromGrpcStatus(g);
      default:
        // Anything else means our request was wrong: our bug, not the caller's.
        return absl::InternalError(
            absl::StrCat("customer-store refused the requester check: ", g.error_message()));
    }
  }
  if (resp.results_size() != 1) {
    return absl::InternalError("customer-store answered another number of references");
  }
  return resp.results(0);
}

absl::StatusOr<std::string> GrpcCustomerDirectory::Resolve(const std::string& tenant,
                                                           const app::Requester& who,
                                                           const std::string& key) {
  // Most requesters are known: a read first; a write (create_missing, with
  // its idempotency key and audit row in customer-store) only for a new one.
  CRM_ASSIGN_OR_RETURN(cs::ResolvedCustomerRef r, Call(tenant, who, false, key));
  if (r.outcome() == cs::ResolvedCustomerRef::OUTCOME_NOT_FOUND && who.customer_id.empty()) {
    CRM_ASSIGN_OR_RETURN(r, Call(tenant, who, true, key));
  }
  switch (r.outcome()) {
    case cs::ResolvedCustomerRef::OUTCOME_FOUND:
    case cs::ResolvedCustomerRef::OUTCOME_CREATED:
    case cs::ResolvedCustomerRef::OUTCOME_MERGED:
      if (!common::IsUuid(r.customer_id())) {
        return absl::InternalError("customer-store answered an invalid customer id");
      }
      return r.customer_id();
    case cs::ResolvedCustomerRef::OUTCOME_NOT_FOUND:
      return common::WithField(
          common::WithReason(absl::FailedPreconditionError(
                                 "customer_id names no customer of this tenant; give the "
                                 "requester's email instead or create the customer first"),
                             "CUSTOMER_NOT_FOUND"),
          "customer_id");
    case cs::ResolvedCustomerRef::OUTCOME_INVALID:
      return common::InvalidField(who.customer_id.empty() ? "requester_email" : "customer_id",
                                  absl::StrCat("the requester is not valid: ", r.message()));
    case cs::ResolvedCustomerRef::OUTCOME_CONFLICT:
    default:
      return common::WithReason(
          absl::FailedPreconditionError(absl::StrCat("the requester: ", r.message())),
          "CUSTOMER_REF_CONFLICT");
  }
}

}  // namespace crm::service_desk::clients

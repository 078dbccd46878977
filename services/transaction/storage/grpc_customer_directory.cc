#include "services/transaction/storage/grpc_customer_directory.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/channel.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/status_conversion.h"

namespace crm::transaction::storage {
namespace {

namespace cs = ::crm::customer_store::v1;

// customer-store's refusals keep their code and reason ("field customer_ref"
// prefixes the message so the client knows which part of its order it was);
// transport failures become UNAVAILABLE.
absl::Status FromCall(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  switch (s.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          "customer-store did not answer in time while resolving the customer; retry with the "
          "same request_id");
    case grpc::StatusCode::INVALID_ARGUMENT:
      return common::InvalidField("customer_ref",
                                  absl::StrCat("customer_ref: ", s.error_message()));
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS:
      return common::WithReason(
          absl::FailedPreconditionError(absl::StrCat("customer_ref: ", s.error_message())),
          "CUSTOMER_REF_CONFLICT");
    default:
      return common::WithReason(
          absl::UnavailableError("customer-store could not resolve the customer; retry later"),
          "CUSTOMER_STORE_UNAVAILABLE");
  }
}

}  // namespace

void GrpcCustomerDirectory::Prepare(const app::Actor& actor, grpc::ClientContext* ctx) const {
  grpcutil::RequestContext rc;
  rc.tenant_id = actor.tenant_id;
  rc.principal = actor.principal;
  rc.roles = "service";
  rc.request_id = actor.request_id;
  grpcutil::PropagateRequestContext(rc, ctx);
  grpcutil::SetDeadline(ctx, timeout_);
}

absl::StatusOr<std::string> GrpcCustomerDirectory::Find(const app::Actor& actor,
                                                        const app::CustomerIdentities& who) {
  std::set<std::string> owners;
  auto search = [&](cs::SearchCustomersRequest req) -> absl::Status {
    req.set_page_size(2);
    cs::SearchCustomersResponse resp;
    grpc::ClientContext ctx;
    Prepare(actor, &ctx);
    CRM_RETURN_IF_ERROR(FromCall(stub_->SearchCustomers(&ctx, req, &resp)));
    for (const auto& c : resp.customers()) owners.insert(c.id());
    return absl::OkStatus();
  };
  if (!who.external_id.empty()) {
    cs::SearchCustomersRequest req;
    req.set_external_id_source(who.external_id_source);
    req.set_external_id(who.external_id);
    CRM_RETURN_IF_ERROR(search(req));
  }
  if (!who.email.empty()) {
    cs::SearchCustomersRequest req;
    req.set_email(who.email);
    CRM_RETURN_IF_ERROR(search(req));
  }
  if (!who.phone.empty()) {
    cs::SearchCustomersRequest req;
    req.set_phone(who.phone);
    CRM_RETURN_IF_ERROR(search(req));
  }
  if (owners.size() > 1) {
    return common::WithReason(
        absl::FailedPreconditionError(
            "customer_ref: its identities belong to different customers; merge them or give "
            "customer_id"),
        "CUSTOMER_REF_CONFLICT");
  }
  return owners.empty() ? std::string() : *owners.begin();
}

absl::StatusOr<app::ResolvedCustomer> GrpcCustomerDirectory::Resolve(
    const app::Actor& actor, const app::CustomerIdentities& who, bool create) {
  CRM_ASSIGN_OR_RETURN(std::string found, Find(actor, who));
  if (!found.empty()) return app::ResolvedCustomer{found, false};
  if (!create) {
    return common::WithReason(
        absl::NotFoundError(
            "no customer has the identities of customer_ref, and this tenant's order settings "
            "do not create customers (create_unknown_customers is false)"),
        "CUSTOMER_NOT_RESOLVED");
  }
  cs::UpsertCustomerRequest req;
  cs::Customer* c = req.mutable_customer();
  if (!who.email.empty()) c->add_emails(who.email);
  if (!who.phone.empty()) c->add_phones(who.phone);
  if (!who.external_id.empty()) {
    auto* x = c->add_external_ids();
    x->set_source(who.external_id_source);
    x->set_value(who.external_id);
  }
  c->set_given_name(who.given_name);
  c->set_family_name(who.family_name);
  req.set_request_id(actor.idempotency_key);
  cs::UpsertCustomerResponse resp;
  grpc::ClientContext ctx;
  Prepare(actor, &ctx);
  CRM_RETURN_IF_ERROR(FromCall(stub_->UpsertCustomer(&ctx, req, &resp)));
  return app::ResolvedCustomer{resp.customer().id(), resp.created()};
}

absl::StatusOr<std::vector<app::RefResolution>> GrpcCustomerDirectory::ResolveBatch(
    const app::Actor& actor, const std::vector<app::CustomerRefInput>& refs, bool create) {
  std::vector<app::RefResolution> out(refs.size());
  if (refs.empty()) return out;
  if (refs.size() > static_cast<size_t>(app::kMaxBatchRefs)) {
    return absl::InternalError("too many customer references for one call");
  }
  cs::ResolveCustomerRefsRequest req;
  for (const app::CustomerRefInput& r : refs) {
    cs::CustomerRefQuery* q = req.add_refs();
    q->set_customer_id(r.customer_id);
    q->set_email(r.who.email);
    q->set_phone(r.who.phone);
    q->set_external_id_source(r.who.external_id_source);
    q->set_external_id(r.who.external_id);
    q->set_given_name(r.who.given_name);
    q->set_family_name(r.who.family_name);
  }
  req.set_create_missing(create);
  if (create) req.set_request_id(actor.idempotency_key);
  cs::ResolveCustomerRefsResponse resp;
  grpc::ClientContext ctx;
  Prepare(actor, &ctx);
  grpc::Status g = stub_->ResolveCustomerRefs(&ctx, req, &resp);
  if (!g.ok()) {
    switch (g.error_code()) {
      case grpc::StatusCode::DEADLINE_EXCEEDED:
      case grpc::StatusCode::UNAVAILABLE:
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
      case grpc::StatusCode::ABORTED:
        return common::WithReason(
            absl::UnavailableError(
                "customer-store could not check the customers; retry with the same request"),
            "CUSTOMER_STORE_UNAVAILABLE");
      default:
        // Anything else means our request was wrong: our bug, not the caller's.
        return absl::InternalError(
            absl::StrCat("customer-store refused the customer check: ", g.error_message()));
    }
  }
  if (resp.results_size() != static_cast<int>(refs.size())) {
    return absl::InternalError("customer-store answered another number of references");
  }
  for (const cs::ResolvedCustomerRef& r : resp.results()) {
    if (r.index() < 0 || r.index() >= static_cast<int>(refs.size())) {
      return absl::InternalError("customer-store answered an unknown reference");
    }
    app::RefResolution& x = out[static_cast<size_t>(r.index())];
    const bool by_id = !refs[static_cast<size_t>(r.index())].customer_id.empty();
    switch (r.outcome()) {
      case cs::ResolvedCustomerRef::OUTCOME_FOUND:
      case cs::ResolvedCustomerRef::OUTCOME_CREATED:
      case cs::ResolvedCustomerRef::OUTCOME_MERGED:
        if (!common::IsUuid(r.customer_id())) {
          return absl::InternalError("customer-store answered an invalid customer id");
        }
        x.customer_id = r.customer_id();
        x.created = r.outcome() == cs::ResolvedCustomerRef::OUTCOME_CREATED;
        x.merged = r.outcome() == cs::ResolvedCustomerRef::OUTCOME_MERGED;
        break;
      case cs::ResolvedCustomerRef::OUTCOME_NOT_FOUND:
        x.error = by_id
                      ? common::WithField(
                            common::WithReason(absl::FailedPreconditionError(
                                                   "customer_id names no customer of this "
                                                   "tenant; create the customer first"),
                                               "CUSTOMER_NOT_FOUND"),
                            "customer_id")
                      : common::WithField(
                            common::WithReason(
                                absl::NotFoundError(
                                    "no customer has the identities of customer_ref, and this "
                                    "tenant's order settings do not create customers "
                                    "(create_unknown_customers is false)"),
                                "CUSTOMER_NOT_RESOLVED"),
                            "customer_ref");
        break;
      case cs::ResolvedCustomerRef::OUTCOME_CONFLICT:
        x.error = common::WithField(
            common::WithReason(absl::FailedPreconditionError(absl::StrCat(
                                   "customer_ref: ", r.message())),
                               "CUSTOMER_REF_CONFLICT"),
            "customer_ref");
        break;
      case cs::ResolvedCustomerRef::OUTCOME_INVALID:
        x.error = common::InvalidField(
            by_id ? std::string("customer_id")
                  : absl::StrCat("customer_ref", r.field().empty() ? "" : ".", r.field()),
            absl::StrCat(by_id ? "" : "customer_ref: ", r.message()));
        break;
      default:
        return absl::InternalError("customer-store answered an unknown outcome");
    }
  }
  return out;
}

}  // namespace crm::transaction::storage

#include "services/customer_store/app/resolve.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::customer_store::app {

absl::StatusOr<ResolveOutcome> CustomerResolver::Resolve(const Actor& actor,
                                                         const std::vector<domain::RefQuery>& refs,
                                                         bool create_missing,
                                                         const std::string& fingerprint) {
  if (refs.size() > static_cast<size_t>(domain::kMaxResolveRefs)) {
    return common::InvalidField("refs", absl::StrCat("at most ", domain::kMaxResolveRefs,
                                                     " references per call, this one ",
                                                     refs.size()));
  }
  if (create_missing && (actor.idempotency_key.empty() || actor.idempotency_key.size() > 128)) {
    return common::InvalidField("request_id",
                                "request_id (1..128 characters) is required with create_missing");
  }
  std::vector<absl::StatusOr<domain::ParsedRef>> parsed;
  parsed.reserve(refs.size());
  std::set<std::string> ids;
  std::set<domain::IdentityKey> keys;
  for (const domain::RefQuery& q : refs) {
    parsed.push_back(domain::ParseRef(q));
    if (!parsed.back().ok()) continue;
    const domain::ParsedRef& p = *parsed.back();
    if (!p.customer_id.empty()) ids.insert(p.customer_id);
    keys.insert(p.keys.begin(), p.keys.end());
  }
  const absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now()));
  auto plan = [&](const domain::RefLookup& lookup) {
    domain::ResolvePlan p = domain::PlanResolution(parsed, lookup, create_missing,
                                                   [this] { return ids_.NewId(); });
    for (domain::NewCustomer& c : p.creates) {
      c.customer.version = 1;
      c.customer.create_time = c.customer.update_time = now;
    }
    return p;
  };
  const std::vector<std::string> id_list(ids.begin(), ids.end());
  const std::vector<domain::IdentityKey> key_list(keys.begin(), keys.end());
  if (!create_missing) {  // read only: no transaction of a write, no audit row
    CRM_ASSIGN_OR_RETURN(domain::RefLookup lookup,
                         repository_.LookupRefs(actor.tenant_id, id_list, key_list));
    domain::ResolvePlan p = plan(lookup);
    if (!p.creates.empty()) return absl::InternalError("a read-only resolution planned customers");
    return ResolveOutcome{std::move(p.results), 0, false};
  }
  // Strictly idempotent by the key and the request's fingerprint.
  Actor strict = actor;
  strict.fingerprint = fingerprint;
  return repository_.Run<ResolveOutcome>(
      strict, "resolve-customer-refs", [&](CustomerTx& tx) -> absl::StatusOr<ResolveOutcome> {
        domain::ResolvePlan p = plan(tx.LookupRefs(id_list, key_list));
        if (!p.creates.empty()) {
          CRM_RETURN_IF_ERROR(tx.InsertNewCustomers(p.creates));
          for (const domain::NewCustomer& n : p.creates) {
            tx.EmitCustomer("customer.created", n.customer);
          }
        }
        return ResolveOutcome{std::move(p.results), static_cast<int>(p.creates.size()), false};
      });
}

}  // namespace crm::customer_store::app

#include "services/customer_store/app/resolve.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

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
  ResolvePlanner plan = [&](const domain::RefLookup& lookup) {
    domain::ResolvePlan p = domain::PlanResolution(parsed, lookup, create_missing,
                                                   [this] { return ids_.NewId(); });
    for (domain::NewCustomer& c : p.creates) {
      c.customer.version = 1;
      c.customer.create_time = c.customer.update_time = now;
    }
    return p;
  };
  return repository_.ResolveRefs(actor, fingerprint,
                                 std::vector<std::string>(ids.begin(), ids.end()),
                                 std::vector<domain::IdentityKey>(keys.begin(), keys.end()),
                                 create_missing, plan);
}

}  // namespace crm::customer_store::app

#include "services/transaction/app/caching_customer_directory.h"

#include <utility>

#include "absl/status/status.h"

namespace crm::transaction::app {

absl::StatusOr<std::vector<RefResolution>> CachingCustomerDirectory::ResolveBatch(
    const Actor& actor, const std::vector<CustomerRefInput>& refs, bool create) {
  // Read before asking: an invalidation while customer-store answers makes
  // the answer too old to remember.
  const uint64_t epoch = known_.Epoch();
  std::vector<RefResolution> out(refs.size());
  std::vector<CustomerRefInput> ask;
  std::vector<size_t> where;
  for (size_t i = 0; i < refs.size(); ++i) {
    const CustomerRefInput& r = refs[i];
    // A call that may create customers carries an idempotency key: it goes
    // to customer-store whole, so a retry sends the same request.
    if (!create && !r.customer_id.empty()) {
      if (std::optional<std::string> k = known_.Find(actor.tenant_id, r.customer_id)) {
        out[i].customer_id = *std::move(k);
        out[i].merged = out[i].customer_id != r.customer_id;
        continue;
      }
    }
    ask.push_back(r);
    where.push_back(i);
  }
  if (ask.empty()) return out;
  absl::StatusOr<std::vector<RefResolution>> answered = inner_.ResolveBatch(actor, ask, create);
  if (!answered.ok()) return answered.status();
  if (answered->size() != ask.size()) {
    return absl::InternalError("customer directory answered another number of references");
  }
  for (size_t j = 0; j < ask.size(); ++j) {
    RefResolution& x = (*answered)[j];
    if (x.error.ok() && !ask[j].customer_id.empty() && !x.customer_id.empty()) {
      known_.Remember(epoch, actor.tenant_id, ask[j].customer_id, x.customer_id);
    }
    out[where[j]] = std::move(x);
  }
  return out;
}

}  // namespace crm::transaction::app

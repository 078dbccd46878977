#pragma once
// In-memory stand-in for customer-store's ResolveCustomerRefs, for fakes of
// app::CustomerDirectory: customers per tenant, merges (source -> survivor)
// and identity owners ("email:x", "phone:+41...", "erp:C-1"). Keeps the
// port's contract: ids of other tenants and unknown ids are
// CUSTOMER_NOT_FOUND, merged ids resolve to the survivor, unowned
// identities create one customer per distinct identity with `create`.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/transaction/app/customer_directory.h"

namespace crm::testing {

class FakeCustomerBook final {
 public:
  void AddCustomer(const std::string& tenant, const std::string& id) { customers_[tenant][id] = id; }
  void Merge(const std::string& tenant, const std::string& source, const std::string& survivor) {
    customers_[tenant][source] = survivor;
  }
  void AddIdentity(const std::string& tenant, const std::string& key, const std::string& id) {
    owners_[tenant][key] = id;
  }

  absl::StatusOr<std::vector<transaction::app::RefResolution>> ResolveBatch(
      const transaction::app::Actor& actor,
      const std::vector<transaction::app::CustomerRefInput>& refs, bool create) {
    ++calls;
    batches.push_back(refs);
    keys.push_back(actor.idempotency_key);
    creates.push_back(create);
    if (!fail.ok()) return fail;
    std::vector<transaction::app::RefResolution> out(refs.size());
    auto& owners = owners_[actor.tenant_id];
    auto& customers = customers_[actor.tenant_id];
    for (size_t i = 0; i < refs.size(); ++i) {
      const auto& r = refs[i];
      auto& x = out[i];
      if (!r.customer_id.empty()) {
        auto it = customers.find(r.customer_id);
        if (it == customers.end()) {
          x.error = common::WithField(
              common::WithReason(absl::FailedPreconditionError("no such customer"),
                                 "CUSTOMER_NOT_FOUND"),
              "customer_id");
        } else {
          x.customer_id = it->second;
          x.merged = it->second != r.customer_id;
        }
        continue;
      }
      std::vector<std::string> ks;
      if (!r.who.email.empty()) ks.push_back("email:" + r.who.email);
      if (!r.who.phone.empty()) ks.push_back("phone:" + r.who.phone);
      if (!r.who.external_id.empty()) ks.push_back(r.who.external_id_source + ":" + r.who.external_id);
      if (ks.empty()) {
        x.error = common::InvalidField("customer_ref", "customer_ref: no identity");
        continue;
      }
      std::string owner;
      bool conflict = false;
      for (const auto& k : ks) {
        auto it = owners.find(k);
        if (it == owners.end()) continue;
        if (!owner.empty() && owner != it->second) conflict = true;
        owner = it->second;
      }
      if (conflict) {
        x.error = common::WithReason(absl::FailedPreconditionError("conflict"),
                                     "CUSTOMER_REF_CONFLICT");
      } else if (!owner.empty()) {
        x.customer_id = owner;
      } else if (!create) {
        x.error = common::WithField(
            common::WithReason(absl::NotFoundError("not resolved"), "CUSTOMER_NOT_RESOLVED"),
            "customer_ref");
      } else {
        x.customer_id = absl::StrCat("c0000000-0000-4000-8000-", 100000000000 + ++created);
        x.created = true;
        customers[x.customer_id] = x.customer_id;
        for (const auto& k : ks) owners[k] = x.customer_id;
      }
    }
    return out;
  }

  int calls = 0;
  int created = 0;
  std::vector<std::vector<transaction::app::CustomerRefInput>> batches;
  std::vector<std::string> keys;
  std::vector<bool> creates;
  absl::Status fail;

 private:
  std::map<std::string, std::map<std::string, std::string>> customers_;  // tenant -> id -> reads as
  std::map<std::string, std::map<std::string, std::string>> owners_;     // tenant -> key -> id
};

}  // namespace crm::testing

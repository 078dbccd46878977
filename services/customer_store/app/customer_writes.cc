#include "services/customer_store/app/customer_writes.h"

#include "libs/common/status_macros.h"
#include "services/customer_store/domain/rules.h"

namespace crm::customer_store::app {

using domain::Customer;

absl::StatusOr<CustomerAnswer> InsertCustomer(CustomerRepository& repository, const Actor& actor,
                                              const Customer& c) {
  return repository.Run<CustomerAnswer>(actor, c.id,
                                        [&](CustomerTx& tx) -> absl::StatusOr<CustomerAnswer> {
                                          tx.SaveProfile(c, true);
                                          CRM_RETURN_IF_ERROR(tx.SaveIdentities(c, nullptr));
                                          tx.EmitCustomer("customer.created", c);
                                          return CustomerAnswer{c, true};
                                        });
}

absl::StatusOr<CustomerAnswer> UpdateCustomer(CustomerRepository& repository, const Actor& actor,
                                              const std::string& id, const std::string& if_match,
                                              const Mutation& mutate) {
  return repository.Run<CustomerAnswer>(
      actor, id, [&](CustomerTx& tx) -> absl::StatusOr<CustomerAnswer> {
        CRM_ASSIGN_OR_RETURN(Customer before, tx.LoadCustomer(id));
        CRM_RETURN_IF_ERROR(domain::CheckIfMatch(before, if_match));
        Customer after = before;
        CRM_RETURN_IF_ERROR(mutate(after));
        if (domain::SameContent(before, after)) return CustomerAnswer{before, false};
        after.version = before.version + 1;
        tx.SaveProfile(after, false);
        CRM_RETURN_IF_ERROR(tx.SaveIdentities(after, &before));
        tx.EmitCustomer("customer.updated", after);
        return CustomerAnswer{after, false};
      });
}

absl::StatusOr<domain::ErasureResult> EraseCustomer(CustomerRepository& repository,
                                                    const Actor& actor, const std::string& id,
                                                    const std::string& if_match) {
  return repository.Run<domain::ErasureResult>(
      actor, id, [&](CustomerTx& tx) -> absl::StatusOr<domain::ErasureResult> {
        CRM_ASSIGN_OR_RETURN(Customer before, tx.LoadCustomer(id));
        CRM_RETURN_IF_ERROR(domain::CheckErasureIfMatch(before, if_match));
        Erasure erased = tx.EraseCustomer(id);
        // The answers stored with idempotency keys hold personal data too.
        tx.ForgetStoredAnswers(erased.erased_ids);
        tx.EmitErased(erased);
        return erased.counts;
      });
}

absl::StatusOr<domain::Consent> AppendConsent(CustomerRepository& repository, const Actor& actor,
                                              const std::string& id, const domain::Consent& c) {
  return repository.Run<domain::Consent>(actor, id,
                                         [&](CustomerTx& tx) -> absl::StatusOr<domain::Consent> {
                                           CRM_RETURN_IF_ERROR(tx.LockCustomer(id));
                                           tx.AppendConsent(id, c);
                                           tx.EmitConsent(id, c);
                                           return c;
                                         });
}

absl::StatusOr<domain::Interaction> AppendInteraction(CustomerRepository& repository,
                                                      const Actor& actor, const std::string& id,
                                                      const domain::Interaction& i) {
  return repository.Run<domain::Interaction>(
      actor, id, [&](CustomerTx& tx) -> absl::StatusOr<domain::Interaction> {
        CRM_RETURN_IF_ERROR(tx.LockCustomer(id));
        tx.AppendInteraction(id, i);
        tx.EmitInteraction(id, i);
        return i;
      });
}

}  // namespace crm::customer_store::app

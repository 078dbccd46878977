#pragma once
// In-memory OrderRepository honouring the contracts of
// services/transaction/app/ports.h: tenant scoping (another tenant's order is
// NOT_FOUND ORDER_NOT_FOUND), lines checked against a per-tenant catalog
// (INVALID_ARGUMENT UNKNOWN_SKU on lines[i].sku), strict idempotency (same
// key + same fingerprint replays the first answer, success or deterministic
// refusal; another fingerprint is IDEMPOTENCY_KEY_REUSED; another method is
// INVALID_ARGUMENT on request_id), transitions checked with
// domain::CheckTransition (version + 1, update_time = now), newest-first
// paging by (placed_time, id) with customer and status filters.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/transaction/app/ports.h"

namespace crm::testing {

class FakeOrderRepository final : public transaction::app::OrderRepository {
 public:
  using Order = transaction::domain::Order;

  absl::StatusOr<Order> Insert(const transaction::app::Actor& actor, const Order& o) override;
  absl::StatusOr<std::optional<Order>> FindReplay(const transaction::app::Actor& actor) override;
  absl::StatusOr<Order> Get(const std::string& tenant, const std::string& id) override;
  absl::StatusOr<transaction::app::OrderPage> List(
      const std::string& tenant, const transaction::app::OrderQuery& q) override;
  absl::StatusOr<Order> Transition(const transaction::app::Actor& actor, const std::string& id,
                                   transaction::domain::OrderStatus to, absl::Time now) override;

  // The tenant's catalog: only these SKUs may be ordered.
  void AddSku(const std::string& tenant, const std::string& sku);
  // Every call fails with `s` until cleared with std::nullopt.
  void FailWith(std::optional<absl::Status> s);

  // Counters and captures for assertions.
  int calls() const;   // every port call
  int writes() const;  // orders inserted + transitions written
  std::string last_method() const;
  std::optional<Order> last_insert() const;     // the order handed to the last Insert
  std::optional<absl::Time> last_now() const;   // `now` of the last Transition call
  transaction::app::OrderQuery last_query() const;
  std::vector<std::string> events() const;  // "order.placed:<id>:<customer_id>", ...

 private:
  struct Answer {
    std::string method;
    std::string fingerprint;
    absl::Status error;  // OK: `order` is the answer
    Order order;
  };
  struct TenantData {
    std::set<std::string> skus;
    std::map<std::string, Order> orders;    // by id
    std::map<std::string, Answer> answers;  // by idempotency key
  };

  absl::Status Enter(const char* method) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // nullopt: the key is free (or there is none); else the stored answer or a
  // refusal of the key.
  std::optional<absl::StatusOr<Order>> Replay(TenantData& t, const transaction::app::Actor& actor)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Remember(TenantData& t, const transaction::app::Actor& actor,
                const absl::StatusOr<Order>& answer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, TenantData> tenants_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> fail_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_method_ ABSL_GUARDED_BY(mu_);
  std::optional<Order> last_insert_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> last_now_ ABSL_GUARDED_BY(mu_);
  transaction::app::OrderQuery last_query_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::testing

#pragma once
// In-memory ProductRepository honouring the contracts of
// services/transaction/app/ports.h: tenant scoping, SKU uniqueness per tenant
// (ALREADY_EXISTS PRODUCT_EXISTS), request_id replay, etag checks (ABORTED
// ETAG_MISMATCH), no-op updates write nothing, version + 1 on a real update,
// SKU-ordered paging with category / active / name-prefix filters, upsert
// counting created / updated / unchanged.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/transaction/app/ports.h"

namespace crm::testing {

class FakeProductRepository final : public transaction::app::ProductRepository {
 public:
  using Product = transaction::domain::Product;

  absl::StatusOr<Product> Insert(const transaction::app::Actor& actor, const Product& p) override;
  absl::StatusOr<Product> Get(const std::string& tenant, const std::string& sku) override;
  absl::StatusOr<Product> Update(const transaction::app::Actor& actor, const std::string& sku,
                                 const std::string& if_match, const Mutation& mutate) override;
  absl::StatusOr<transaction::app::ProductPage> List(
      const std::string& tenant, const transaction::app::ProductQuery& q) override;
  absl::StatusOr<transaction::app::BatchResult> Upsert(
      const transaction::app::Actor& actor, const std::vector<Product>& products) override;

  // Every call fails with `s` until cleared with std::nullopt.
  void FailWith(std::optional<absl::Status> s);

  // Counters and captures for assertions.
  int calls() const;          // every port call
  int writes() const;         // rows actually written (insert, real update, upsert create/update)
  int update_calls() const;
  int upsert_calls() const;
  std::string last_method() const;
  std::vector<Product> last_upsert() const;        // the products of the last Upsert call
  transaction::app::ProductQuery last_query() const;  // the query of the last List call
  std::vector<std::string> events() const;         // "product.created:<sku>", ...

 private:
  struct TenantData {
    std::map<std::string, Product> products;                              // by sku
    std::map<std::string, std::pair<std::string, std::string>> requests;  // key -> method, sku
  };

  absl::Status Enter(const char* method) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, TenantData> tenants_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> fail_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
  int update_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int upsert_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_method_ ABSL_GUARDED_BY(mu_);
  std::vector<Product> last_upsert_ ABSL_GUARDED_BY(mu_);
  transaction::app::ProductQuery last_query_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::testing

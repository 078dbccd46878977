#pragma once
// Catalog use cases.
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "services/transaction/app/ports.h"

namespace crm::transaction::app {

// The catalog's writes over its port, as the use cases run them in
// ProductRepository::Run (shared with the adapter's integration tests).
// A new product (PRODUCT_EXISTS when the tenant has its SKU).
absl::StatusOr<domain::Product> WriteNewProduct(ProductTx& tx, const domain::Product& p);
// An update of product `sku` (NOT_FOUND PRODUCT_NOT_FOUND; domain::ApplyUpdate:
// etag, no-op, version).
absl::StatusOr<domain::Product> WriteProductUpdate(
    ProductTx& tx, const std::string& sku, const std::string& if_match,
    const std::function<absl::Status(domain::Product&)>& mutate);
// Valid products by SKU (domain::ApplyUpsert), counted.
absl::StatusOr<BatchResult> WriteProductUpsert(ProductTx& tx,
                                               const std::vector<domain::Product>& products);

class Catalog final {
 public:
  Catalog(ProductRepository& repository, const common::Clock& clock)
      : repository_(repository), clock_(clock) {}

  absl::StatusOr<domain::Product> Create(const Actor& actor, domain::Product p);
  absl::StatusOr<domain::Product> Get(const std::string& tenant, const std::string& sku);
  absl::StatusOr<domain::Product> Update(const Actor& actor, const std::string& sku,
                                         const domain::Product& patch,
                                         const std::vector<std::string>& paths,
                                         const std::string& if_match);
  absl::StatusOr<ProductPage> List(const std::string& tenant, ProductQuery q);
  // Invalid products are reported by index and skipped; the rest are applied.
  absl::StatusOr<BatchResult> BatchUpsert(const Actor& actor, std::vector<domain::Product> products);

 private:
  ProductRepository& repository_;
  const common::Clock& clock_;
};

}  // namespace crm::transaction::app

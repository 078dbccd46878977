#pragma once
// Catalog use cases.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "services/transaction/app/ports.h"

namespace crm::transaction::app {

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

#pragma once
// Bulk import use case: parse results in, per-row report out.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/customer_store/app/ports.h"

namespace crm::customer_store::app {

struct ImportInputRow {
  int64_t line = 0;
  absl::StatusOr<domain::Customer> customer;  // a parse error stays with its line
  std::vector<std::string> present_paths;
};

class CustomerImporter final {
 public:
  CustomerImporter(ImportRepository& repository, ViewCache& cache, const common::Clock& clock,
                   common::IdGenerator& ids)
      : repository_(repository), cache_(cache), clock_(clock), ids_(ids) {}

  absl::StatusOr<ImportReport> Import(const Actor& actor, const std::string& batch_id,
                                      std::vector<ImportInputRow> rows);

 private:
  ImportRepository& repository_;
  ViewCache& cache_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::customer_store::app

#pragma once
// Use cases of the tenant's lifetime-value model.
#include <string>

#include "services/segmentation/app/ports.h"

namespace crm::segmentation::app {

class Models {
 public:
  explicit Models(ModelRepository& repository) : repository_(repository) {}
  // NOT_FOUND (MODEL_NOT_FOUND) before the tenant's first successful refit.
  absl::StatusOr<domain::ClvModel> GetClv(const std::string& tenant);

 private:
  ModelRepository& repository_;
};

}  // namespace crm::segmentation::app

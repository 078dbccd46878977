#pragma once
// What the segmentation use cases need from storage.
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "services/segmentation/domain/clv_model.h"

namespace crm::segmentation::app {

class ModelRepository {
 public:
  virtual ~ModelRepository() = default;
  virtual absl::StatusOr<std::optional<domain::ClvModel>> GetClvModel(
      const std::string& tenant) = 0;
};

}  // namespace crm::segmentation::app

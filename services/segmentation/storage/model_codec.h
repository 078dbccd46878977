#pragma once
// ClvModel <-> the JSON stored in segmentation.clv_models.model.
#include <string>

#include "absl/status/statusor.h"
#include "services/segmentation/domain/clv_model.h"

namespace crm::segmentation::storage {

std::string EncodeClvModel(const domain::ClvModel& m);
absl::StatusOr<domain::ClvModel> DecodeClvModel(const std::string& json);

}  // namespace crm::segmentation::storage

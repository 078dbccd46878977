#include "services/segmentation/app/models.h"

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::segmentation::app {

absl::StatusOr<domain::ClvModel> Models::GetClv(const std::string& tenant) {
  CRM_ASSIGN_OR_RETURN(std::optional<domain::ClvModel> model, repository_.GetClvModel(tenant));
  if (!model) {
    return common::WithReason(
        absl::NotFoundError("no lifetime-value model yet: refit one (POST /v1/models/clv:refit)"),
        "MODEL_NOT_FOUND");
  }
  return *std::move(model);
}

}  // namespace crm::segmentation::app

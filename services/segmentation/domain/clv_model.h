#pragma once
// A tenant's fitted lifetime-value model: what a refit stores and what
// scores are computed from.
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/segmentation/domain/bgnbd.h"
#include "services/segmentation/domain/gamma_gamma.h"
#include "services/segmentation/domain/summary.h"

namespace crm::segmentation::domain {

struct ClvModel {
  absl::CivilDay as_of;  // observation end, inclusive, in time_zone
  TimeUnit unit = TimeUnit::kWeeks;
  std::string time_zone = "UTC";
  std::string currency_code;
  BgNbdFit purchases;
  GammaGammaFit spend;
  absl::Time fitted_at;
};

}  // namespace crm::segmentation::domain

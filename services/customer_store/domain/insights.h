#pragma once
// What the 360 view shows from the segmentation engine (scores, segments)
// and the state of each section of the view: pure values, no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/common/section_status.h"

namespace crm::customer_store::domain {

struct RfmScore {
  int recency = 0;  // 1..5
  int frequency = 0;
  int monetary = 0;
  int score = 0;  // 100 R + 10 F + M
  std::string segment;
};

// A customer's scores as the segmentation engine computed them.
struct CustomerScores {
  std::string as_of;  // YYYY-MM-DD
  std::string currency_code;
  int64_t orders = 0;
  double monetary = 0;
  std::string last_purchase;  // YYYY-MM-DD or ""
  std::optional<RfmScore> rfm;
  bool has_model_scores = false;
  std::string model_absent_reason;
  double p_alive = 0;
  double churn_risk = 0;
  double horizon = 0;
  double expected_purchases = 0;
  double expected_spend = 0;
  double clv = 0;
};

struct SegmentMembership {
  std::string segment_id;
  std::string display_name;
  absl::Time enter_time = absl::InfinitePast();
};

// Why a section of the view is missing (the rest of the view is whole).
using SectionStatus = common::SectionStatus;

// One entry of the view's section list.
struct SectionState {
  std::string name;                          // "scores"
  std::string owner;                         // "segmentation"
  std::optional<SectionStatus> unavailable;  // set: the section is missing
};

// The sections of the view that come from other engines (never cached with
// the rest of the view; app/insights_cache.h keeps the engine's answers for
// a few seconds).
struct ViewInsights {
  std::optional<CustomerScores> scores;                    // absent: not available
  std::optional<std::vector<SegmentMembership>> segments;  // absent: not available
  std::vector<SectionState> sections;                      // "scores", "segments"
};

}  // namespace crm::customer_store::domain

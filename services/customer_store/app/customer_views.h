#pragma once
// The 360 view: customer-store's own sections (through the view cache) and
// the sections of the segmentation engine (scores, segments), asked in
// parallel with the rest (unless the insights cache has a definitive answer
// younger than its TTL), each bounded by a deadline and degrading on its own:
// a section that cannot be had is left out and its state says why.
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/customer_store/app/customer_store.h"
#include "services/customer_store/app/insights_cache.h"
#include "services/customer_store/app/ports.h"
#include "services/customer_store/domain/customer.h"
#include "services/customer_store/domain/insights.h"

namespace crm::customer_store::app {

inline constexpr char kScoresSection[] = "scores";
inline constexpr char kSegmentsSection[] = "segments";
inline constexpr char kSegmentationEngine[] = "segmentation";

struct ViewAnswer {
  std::string own_bytes;  // the serialized view of customer-store's sections
  domain::ViewInsights insights;
};

class CustomerViews final {
 public:
  // `wait`: how long a read waits for each answer of `insights` at most
  // (the adapter's own deadline normally ends a call first).
  // `cache`: the engine's recent answers (nullptr: ask on every read).
  CustomerViews(CustomerStore& store, CustomerInsights& insights, absl::Duration wait,
                InsightsCache* cache = nullptr)
      : store_(store), insights_(insights), wait_(wait), cache_(cache) {}

  // Errors are those of the view's own part (INVALID_ARGUMENT, NOT_FOUND...);
  // the insights never fail the read.
  absl::StatusOr<ViewAnswer> Read(
      const Caller& caller, const std::string& id, int interaction_limit,
      const std::function<std::string(const domain::CustomerView&)>& serialize);

 private:
  CustomerStore& store_;
  CustomerInsights& insights_;
  absl::Duration wait_;
  InsightsCache* cache_;
};

}  // namespace crm::customer_store::app

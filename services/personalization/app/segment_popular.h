#pragma once
// Popular in segment: a customer or visitor without history gets the
// products most popular among the members of a segment rather than the
// tenant's, the segment being the one the request names (a visitor's
// campaign, a page's audience) or, for a customer, the live segment they
// entered last (segmentation's GetCustomerSegments). The members are read
// from segmentation (the first kSegmentSample of them, ListSegmentMembers)
// and kept per segment for kSegmentMembersTtl (unless none of them has
// history yet); their popularity is computed from the model on each call.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "services/personalization/app/ports.h"
#include "services/personalization/app/recommender.h"

namespace crm::personalization::app {

inline constexpr std::size_t kSegmentSample = 5000;
inline constexpr absl::Duration kSegmentMembersTtl = absl::Minutes(10);

class SegmentPopular {
 public:
  SegmentPopular(const Recommender& recommender, SegmentationPeer& segmentation,
                 const common::Clock* clock = nullptr);

  // `list` as Recommender answered it. When it is the popular fallback (no
  // history; not an objection to profiling), its products become the
  // segment's popular ones (filled with the tenant's when the segment has
  // fewer). NOT_FOUND (SEGMENT_NOT_FOUND) for a named segment the tenant
  // does not have; when segmentation does not answer, `list` unchanged.
  absl::StatusOr<RecommendationList> Apply(const std::string& tenant,
                                           const std::string& customer_id,
                                           const std::string& segment_id, const ListRequest& r,
                                           RecommendationList list);

 private:
  absl::StatusOr<std::vector<std::string>> MembersOf(const std::string& tenant,
                                                     const std::string& segment_id);

  const Recommender& recommender_;
  SegmentationPeer& segmentation_;
  common::SystemClock system_clock_;
  const common::Clock& clock_;
  absl::Mutex mu_;
  struct Sample {
    std::vector<std::string> members;
    absl::Time read = absl::InfinitePast();
  };
  std::map<std::pair<std::string, std::string>, Sample> samples_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::personalization::app

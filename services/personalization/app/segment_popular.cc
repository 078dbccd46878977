#include "services/personalization/app/segment_popular.h"

#include <algorithm>

#include "libs/common/status_macros.h"
#include "libs/observability/log.h"

namespace crm::personalization::app {

SegmentPopular::SegmentPopular(const Recommender& recommender, SegmentationPeer& segmentation,
                               const common::Clock* clock)
    : recommender_(recommender),
      segmentation_(segmentation),
      clock_(clock ? *clock : system_clock_) {}

absl::StatusOr<std::vector<std::string>> SegmentPopular::MembersOf(const std::string& tenant,
                                                                   const std::string& segment_id) {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock l(&mu_);
    auto it = samples_.find({tenant, segment_id});
    if (it != samples_.end() && now - it->second.read < kSegmentMembersTtl) {
      return it->second.members;
    }
  }
  CRM_ASSIGN_OR_RETURN(std::vector<std::string> members,
                       segmentation_.Members(tenant, segment_id, kSegmentSample));
  absl::MutexLock l(&mu_);
  samples_[{tenant, segment_id}] = Sample{members, now};
  return members;
}

absl::StatusOr<RecommendationList> SegmentPopular::Apply(const std::string& tenant,
                                                         const std::string& customer_id,
                                                         const std::string& segment_id,
                                                         const ListRequest& r,
                                                         RecommendationList list) {
  if (list.strategy != Strategy::kPopularFallback) return list;
  std::string segment = segment_id;
  if (segment.empty() && !customer_id.empty()) {
    absl::StatusOr<std::vector<std::pair<std::string, absl::Time>>> mine =
        segmentation_.Segments(tenant, customer_id);
    if (!mine.ok()) {
      if (mine.status().code() != absl::StatusCode::kNotFound) {
        CRM_LOG(Warning).Field("code", absl::StatusCodeToString(mine.status().code()))
            << "the customer's segments were not read (tenant popular products): "
            << mine.status().message();
      }
      return list;
    }
    // The segment entered last: the freshest thing known of the customer.
    auto last = std::max_element(mine->begin(), mine->end(), [](const auto& a, const auto& b) {
      return a.second < b.second || (a.second == b.second && a.first > b.first);
    });
    if (last == mine->end()) return list;
    segment = last->first;
  }
  if (segment.empty()) return list;
  absl::StatusOr<std::vector<std::string>> members = MembersOf(tenant, segment);
  if (!members.ok()) {
    if (members.status().code() == absl::StatusCode::kNotFound && !segment_id.empty()) {
      return members.status();  // the segment the request named
    }
    CRM_LOG(Warning)
            .Field("segment_id", segment)
            .Field("code", absl::StatusCodeToString(members.status().code()))
        << "the segment's members were not read (tenant popular products): "
        << members.status().message();
    return list;
  }
  std::vector<Recommended> popular = recommender_.PopularAmong(tenant, *members, r);
  if (popular.empty()) {
    // Members without history yet (a segment just created, still filling):
    // read them again next time rather than keep the sample.
    absl::MutexLock l(&mu_);
    samples_.erase({tenant, segment});
    return list;
  }
  // The segment's, then the tenant's popular products it does not list.
  for (const Recommended& p : list.products) {
    if (popular.size() >= r.count) break;
    const bool listed = std::any_of(popular.begin(), popular.end(),
                                    [&](const Recommended& x) { return x.sku == p.sku; });
    if (!listed) popular.push_back(p);
  }
  list.products = std::move(popular);
  list.strategy = Strategy::kSegmentPopular;
  list.segment_id = segment;
  return list;
}

}  // namespace crm::personalization::app

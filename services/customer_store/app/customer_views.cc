#include "services/customer_store/app/customer_views.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/id.h"
#include "libs/common/section_status.h"
#include "libs/common/status_macros.h"

namespace crm::customer_store::app {
namespace {

// The answer of `f`, or DEADLINE_EXCEEDED when it has none by `until`.
template <typename T>
absl::StatusOr<T> Await(std::future<absl::StatusOr<T>>& f, absl::Time until) {
  if (!f.valid()) return absl::InternalError("the call was not started");
  const absl::Duration left = std::max(until - absl::Now(), absl::ZeroDuration());
  if (f.wait_for(absl::ToChronoNanoseconds(left)) != std::future_status::ready) {
    return absl::DeadlineExceededError("no answer in time");
  }
  return f.get();
}

domain::SectionState Available(const char* name) {
  return domain::SectionState{name, kSegmentationEngine, std::nullopt};
}

domain::SectionState Unavailable(const char* name, const absl::Status& s) {
  return domain::SectionState{name, kSegmentationEngine,
                              common::SectionStatusOf(s, kSegmentationEngine)};
}

}  // namespace

absl::StatusOr<ViewAnswer> CustomerViews::Read(
    const Caller& caller, const std::string& id, int interaction_limit,
    const std::function<std::string(const domain::CustomerView&)>& serialize) {
  // Both engine calls run while the own part is read (cache or PostgreSQL);
  // a request the own part refuses at once asks no engine.
  const bool valid =
      common::IsUuid(id) && interaction_limit >= 0 && interaction_limit <= kMaxViewInteractions;
  const absl::Time until = std::min(absl::Now() + wait_, caller.deadline);
  std::future<absl::StatusOr<domain::CustomerScores>> scores;
  std::future<absl::StatusOr<std::vector<domain::SegmentMembership>>> segments;
  std::optional<InsightsCache::Scores> kept_scores;
  std::optional<InsightsCache::Segments> kept_segments;
  if (valid && cache_ != nullptr) {
    kept_scores = cache_->ScoresOf(caller.tenant_id, id);
    kept_segments = cache_->SegmentsOf(caller.tenant_id, id);
  }
  if (valid && !kept_scores) scores = insights_.ScoresOf(caller, id);
  if (valid && !kept_segments) segments = insights_.SegmentsOf(caller, id);
  ViewAnswer out;
  CRM_ASSIGN_OR_RETURN(out.own_bytes,
                       store_.ViewBytes(caller.tenant_id, id, interaction_limit, serialize));

  domain::ViewInsights& v = out.insights;
  absl::StatusOr<domain::CustomerScores> s = kept_scores ? *kept_scores : Await(scores, until);
  if (!kept_scores && cache_ != nullptr) cache_->Keep(caller.tenant_id, id, s);
  if (s.ok()) {
    v.scores = *std::move(s);
    v.sections.push_back(Available(kScoresSection));
  } else if (absl::IsNotFound(s.status())) {
    // The engine has not seen the customer: an empty section, no failure.
    domain::CustomerScores none;
    none.model_absent_reason =
        absl::StrCat("the ", kSegmentationEngine, " engine has no data on this customer yet");
    v.scores = std::move(none);
    v.sections.push_back(Available(kScoresSection));
  } else {
    v.sections.push_back(Unavailable(kScoresSection, s.status()));
  }
  absl::StatusOr<std::vector<domain::SegmentMembership>> m =
      kept_segments ? *kept_segments : Await(segments, until);
  if (!kept_segments && cache_ != nullptr) cache_->Keep(caller.tenant_id, id, m);
  if (m.ok()) {
    v.segments = *std::move(m);
    v.sections.push_back(Available(kSegmentsSection));
  } else if (absl::IsNotFound(m.status())) {
    v.segments.emplace();
    v.sections.push_back(Available(kSegmentsSection));
  } else {
    v.sections.push_back(Unavailable(kSegmentsSection, m.status()));
  }
  return out;
}

}  // namespace crm::customer_store::app

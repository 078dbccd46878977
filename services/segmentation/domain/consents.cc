#include "services/segmentation/domain/consents.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace crm::segmentation::domain {

std::string ConsentField(const std::string& channel, const std::string& purpose) {
  return absl::StrCat("consent.", channel, ".", purpose);
}

ConsentFields WithUnknowns(const ConsentFields& kept) {
  ConsentFields out = kept;
  for (const char* channel : {"email", "sms", "push", "phone", "web"}) {
    for (const char* purpose : {"marketing", "transactional", "profiling"}) {
      out.emplace(ConsentField(channel, purpose), "unknown");
    }
  }
  return out;
}

bool ObjectsToProfiling(const ConsentFields& kept) {
  for (const auto& [field, status] : kept) {
    if (absl::EndsWith(field, ".profiling") && status == "opted_out") return true;
  }
  return false;
}

Profiling ProfilingOf(const ConsentFields& kept, bool requires_opt_in) {
  if (ObjectsToProfiling(kept)) return Profiling::kObjected;
  if (!requires_opt_in) return Profiling::kAllowed;
  for (const auto& [field, status] : kept) {
    if (absl::EndsWith(field, ".profiling") && status == "opted_in") return Profiling::kAllowed;
  }
  return Profiling::kNoOptIn;
}

std::string ProfilingRefusal(Profiling p) {
  switch (p) {
    case Profiling::kAllowed:
      return "";
    case Profiling::kObjected:
      return "the customer objected to profiling (consent purpose profiling opted out): no RFM "
             "or model scores";
    case Profiling::kNoOptIn:
      return "the tenant requires an opt-in to profiling and the customer has not opted in "
             "(consent purpose profiling): no RFM or model scores";
  }
  return "";
}

std::string EtagOf(const SegmentationSettings& s) { return absl::StrCat(s.version); }

absl::Duration BehaviourReach(const SegmentationSettings& s) {
  if (s.behaviour_retention_days <= 0) return absl::InfiniteDuration();
  return absl::Hours(24) * s.behaviour_retention_days;
}

bool ApplyPatch(SegmentationSettings& s, const SettingsPatch& patch, absl::Time now) {
  bool changed = false;
  if (patch.profiling_requires_opt_in &&
      *patch.profiling_requires_opt_in != s.profiling_requires_opt_in) {
    s.profiling_requires_opt_in = *patch.profiling_requires_opt_in;
    changed = true;
  }
  if (patch.time_zone && *patch.time_zone != s.time_zone) {
    s.time_zone = *patch.time_zone;
    changed = true;
  }
  if (changed) {
    ++s.version;
    s.update_time = now;
  }
  return changed;
}

}  // namespace crm::segmentation::domain

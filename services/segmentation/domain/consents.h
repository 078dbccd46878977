#pragma once
// A customer's consents as the segments read them: consent.<channel>.<purpose>
// fields (opted_in, opted_out, pending, unknown when never recorded), and the
// objection to profiling: a customer who opted out of purpose "profiling" on
// any channel gets no behavioural segment (one that reads behaviour events or
// the model scores and RFM features).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace crm::segmentation::domain {

struct CustomerConsent {
  std::string customer_id;
  std::string channel;  // email, sms, push, phone, web
  std::string purpose;  // marketing, transactional, profiling
  std::string status;   // opted_in, opted_out, pending
};

// Field name -> status ("consent.email.marketing" -> "opted_out").
using ConsentFields = std::map<std::string, std::string>;

std::string ConsentField(const std::string& channel, const std::string& purpose);

// Every channel and purpose the language knows, "unknown" where `kept` has
// none.
ConsentFields WithUnknowns(const ConsentFields& kept);

bool ObjectsToProfiling(const ConsentFields& kept);

// Whether behavioural segments and RFM / model scores apply to a customer
// (docs/segments.md, "Objection to profiling"): not after an objection
// (purpose profiling opted out on any channel); when the tenant requires an
// explicit opt-in (SegmentationSettings), only after an opt-in to purpose
// profiling on some channel.
enum class Profiling { kAllowed, kObjected, kNoOptIn };
Profiling ProfilingOf(const ConsentFields& kept, bool requires_opt_in);
// Why scores are absent for a customer who may not be profiled; "" when allowed.
std::string ProfilingRefusal(Profiling p);

// The tenant's settings of the segmentation engine.
struct SegmentationSettings {
  bool profiling_requires_opt_in = false;
  // IANA: purchase days (frequency, recency) of live features without a
  // model, and the default of refits, evaluations and RFM summaries.
  std::string time_zone = "UTC";
  int64_t version = 0;  // 0: never written (the defaults)
  absl::Time update_time = absl::InfinitePast();
  // customer-store's retention of behaviour events (behaviour.settings_
  // updated; not part of this engine's settings version): behaviour counts
  // in no window beyond it. 0: none.
  int64_t behaviour_retention_days = 0;
};
// The longest reach of a behaviour window under `s` (InfiniteDuration when
// the tenant keeps behaviour until erased).
absl::Duration BehaviourReach(const SegmentationSettings& s);
std::string EtagOf(const SegmentationSettings& s);  // the version, quoted by callers

struct SettingsPatch {
  std::optional<bool> profiling_requires_opt_in;
  std::optional<std::string> time_zone;  // checked by the caller (an IANA name)
};
// Applies `patch` at `now`; false when it changes nothing (no new version).
bool ApplyPatch(SegmentationSettings& s, const SettingsPatch& patch, absl::Time now);

}  // namespace crm::segmentation::domain

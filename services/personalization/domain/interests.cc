#include "services/personalization/domain/interests.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"

namespace crm::personalization::domain {
namespace {

// The topic and its ancestors, shortest first: "A", "A/B", "A/B/C".
std::vector<absl::string_view> Prefixes(absl::string_view topic) {
  std::vector<absl::string_view> out;
  for (std::size_t pos = topic.find('/'); pos != absl::string_view::npos;
       pos = topic.find('/', pos + 1)) {
    out.push_back(topic.substr(0, pos));
  }
  out.push_back(topic);
  return out;
}

}  // namespace

absl::StatusOr<std::string> NormalizeTopic(absl::string_view path) {
  std::vector<absl::string_view> parts;
  for (absl::string_view p : absl::StrSplit(path, '/')) {
    p = absl::StripAsciiWhitespace(p);
    if (p.empty()) {
      return absl::InvalidArgumentError(
          "a topic is a category path of 1 to 3 non-empty segments joined by \"/\"");
    }
    if (parts.size() < static_cast<std::size_t>(kMaxTopicLevels)) parts.push_back(p);
  }
  std::string out = absl::StrJoin(parts, "/");
  if (out.size() > kMaxTopicLength) {
    return absl::InvalidArgumentError("a topic is at most 200 characters");
  }
  return out;
}

absl::Status ApplyChoices(const std::vector<TopicChoice>& changes,
                          absl::flat_hash_map<std::string, bool>& chosen) {
  if (changes.empty() || changes.size() > kMaxChosenTopics) {
    return common::InvalidField("changes", "changes must list 1 to 100 topics");
  }
  absl::flat_hash_map<std::string, bool> next = chosen;
  absl::flat_hash_set<std::string> named;
  for (const TopicChoice& c : changes) {
    absl::StatusOr<std::string> topic = NormalizeTopic(c.topic);
    if (!topic.ok()) {
      return common::InvalidField(
          "changes", absl::StrCat("topic \"", c.topic, "\": ", topic.status().message()));
    }
    if (!named.insert(*topic).second) {
      return common::InvalidField("changes", absl::StrCat("topic \"", *topic, "\" is named twice"));
    }
    switch (c.preference) {
      case Preference::kInterested:
        next[*topic] = true;
        break;
      case Preference::kNotInterested:
        next[*topic] = false;
        break;
      case Preference::kNoPreference:
        next.erase(*topic);
        break;
    }
  }
  if (next.size() > kMaxChosenTopics) {
    return common::WithReason(
        absl::FailedPreconditionError(
            absl::StrCat("a customer holds at most 100 chosen topics; these changes would make ",
                         next.size(), " (clear some with NO_PREFERENCE first)")),
        "TOO_MANY_TOPICS");
  }
  chosen = std::move(next);
  return absl::OkStatus();
}

double InterestProfile::At(const Decaying& d, std::int64_t now) const {
  if (half_life_ <= 0 || now <= d.anchor) return d.value;
  return d.value * std::exp2(-static_cast<double>(now - d.anchor) / static_cast<double>(half_life_));
}

void InterestProfile::Add(const std::string& topic, double w, std::int64_t time) {
  for (absl::string_view prefix : Prefixes(topic)) {
    auto [it, fresh] = inferred_.try_emplace(std::string(prefix), Decaying{w, time});
    if (fresh) continue;
    Decaying& d = it->second;
    if (time >= d.anchor) {
      d.value = At(d, time) + w;
      d.anchor = time;
    } else {
      d.value += At(Decaying{w, time}, d.anchor);
    }
  }
}

void InterestProfile::SetExplicit(const std::string& topic, bool interested) {
  explicit_[topic] = interested;
}

void InterestProfile::ClearExplicit(const std::string& topic) { explicit_.erase(topic); }

void InterestProfile::ClearAll() {
  inferred_.clear();
  explicit_.clear();
}

bool InterestProfile::Declined(absl::string_view topic) const {
  for (absl::string_view prefix : Prefixes(topic)) {
    auto it = explicit_.find(prefix);
    if (it != explicit_.end() && !it->second) return true;
  }
  return false;
}

double InterestProfile::StrongestInferred(std::int64_t now) const {
  double strongest = 0;
  for (const auto& [topic, d] : inferred_) {
    if (!Declined(topic)) strongest = std::max(strongest, At(d, now));
  }
  return strongest;
}

std::vector<Interest> InterestProfile::Top(std::int64_t now, std::size_t count) const {
  std::vector<Interest> chosen;
  std::vector<Interest> inferred;
  for (const auto& [topic, interested] : explicit_) {
    if (interested && !Declined(topic)) {
      chosen.push_back(Interest{topic, 1.0, InterestSource::kExplicit, 0});
    }
  }
  const double strongest = StrongestInferred(now);
  for (const auto& [topic, d] : inferred_) {
    if (explicit_.contains(topic) || Declined(topic)) continue;
    const double w = At(d, now);
    if (w <= 0 || strongest <= 0) continue;
    inferred.push_back(Interest{topic, w / strongest, InterestSource::kInferred, w});
  }
  std::sort(chosen.begin(), chosen.end(),
            [](const Interest& a, const Interest& b) { return a.topic < b.topic; });
  std::sort(inferred.begin(), inferred.end(), [](const Interest& a, const Interest& b) {
    return a.weight != b.weight ? a.weight > b.weight : a.topic < b.topic;
  });
  chosen.insert(chosen.end(), inferred.begin(), inferred.end());
  if (chosen.size() > count) chosen.resize(count);
  return chosen;
}

double InterestProfile::Match(const std::string& topic, std::int64_t now) const {
  if (Declined(topic)) return 0;
  std::vector<absl::string_view> prefixes = Prefixes(topic);
  for (auto p = prefixes.rbegin(); p != prefixes.rend(); ++p) {
    auto e = explicit_.find(*p);
    if (e != explicit_.end() && e->second) return 1.0;
    auto it = inferred_.find(*p);
    if (it != inferred_.end()) {
      const double strongest = StrongestInferred(now);
      return strongest > 0 ? At(it->second, now) / strongest : 0;
    }
  }
  return 0;
}

}  // namespace crm::personalization::domain

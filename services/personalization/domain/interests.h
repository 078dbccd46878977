#pragma once
// A customer's live interest profile over the catalog's category paths (the
// fine-grained topics of the catalog, 1 to 3 levels: "Home/Kitchen/Knives").
//
// Inferred interest: every view, search, cart addition and purchase of a
// product of category "A/B/C" adds its weight to "A", "A/B" and "A/B/C",
// each weight halved every half-life before the reading time, so coarse
// topics gather their children's signals and old ones fade (the engine
// adds a customer's decayed affinity to each product, app/recommender.h).
// Explicit preferences, set or cleared by the customer, win: a topic the
// customer chose ranks first with score 1 whatever was inferred, and a topic
// they declined (and every topic under it) is never returned.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::personalization::domain {

inline constexpr int kMaxTopicLevels = 3;
inline constexpr std::size_t kMaxTopicLength = 200;

// "Home / Kitchen/Knives/Chef" -> "Home/Kitchen/Knives": segments trimmed,
// at most kMaxTopicLevels kept. INVALID_ARGUMENT for an empty path or
// segment, or one longer than kMaxTopicLength.
absl::StatusOr<std::string> NormalizeTopic(absl::string_view path);

enum class Signal { kView, kSearch, kCart, kPurchase };

enum class InterestSource { kInferred, kExplicit };

struct Interest {
  std::string topic;
  double score = 0;  // explicit: 1; inferred: weight / the strongest inferred weight (0..1]
  InterestSource source = InterestSource::kInferred;
  double weight = 0;  // inferred, decayed weight (0 for explicit)
};

// A customer's own choice about a topic.
enum class Preference { kInterested, kNotInterested, kNoPreference };
struct TopicChoice {
  std::string topic;  // as given; ApplyChoices normalizes it
  Preference preference = Preference::kNoPreference;
};
inline constexpr std::size_t kMaxChosenTopics = 100;

// Applies `changes` to a customer's explicit choices (topic -> interested):
// kNoPreference clears the topic's choice. All or nothing:
// INVALID_ARGUMENT (field `changes`) for none or more than kMaxChosenTopics
// changes, a topic that is not a category path or one named twice;
// FAILED_PRECONDITION TOO_MANY_TOPICS when the customer would hold more than
// kMaxChosenTopics choices.
absl::Status ApplyChoices(const std::vector<TopicChoice>& changes,
                          absl::flat_hash_map<std::string, bool>& chosen);

class InterestProfile {
 public:
  explicit InterestProfile(std::int64_t half_life_seconds) : half_life_(half_life_seconds) {}

  // Adds `weight` at `time` to `topic` and its ancestors; `topic` must be
  // normalized (NormalizeTopic). Signals may come in any time order.
  void Add(const std::string& topic, double weight, std::int64_t time);
  void SetExplicit(const std::string& topic, bool interested);
  void ClearExplicit(const std::string& topic);
  void ClearAll();  // erasure, or the customer objected to profiling

  // The `count` strongest topics at `now`: explicit choices first (topic
  // order), then inferred by score (topic order on ties); declined topics
  // and their descendants left out.
  std::vector<Interest> Top(std::int64_t now, std::size_t count) const;

  // How well `topic` matches the customer at `now`: the score of the topic
  // or of its nearest ancestor in the profile; 0 when none or declined.
  double Match(const std::string& topic, std::int64_t now) const;

  // The customer's explicit choices (topic -> interested).
  const absl::flat_hash_map<std::string, bool>& Explicit() const { return explicit_; }
  bool Empty() const { return inferred_.empty() && explicit_.empty(); }

 private:
  struct Decaying {
    double value = 0;
    std::int64_t anchor = 0;
  };
  double At(const Decaying& d, std::int64_t now) const;
  bool Declined(absl::string_view topic) const;
  double StrongestInferred(std::int64_t now) const;

  std::int64_t half_life_;
  absl::flat_hash_map<std::string, Decaying> inferred_;
  absl::flat_hash_map<std::string, bool> explicit_;
};

}  // namespace crm::personalization::domain

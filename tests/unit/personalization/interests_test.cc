#include "services/personalization/domain/interests.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "tests/support/status_checks.h"

namespace {

using crm::personalization::domain::ApplyChoices;
using crm::personalization::domain::Interest;
using crm::personalization::domain::InterestProfile;
using crm::personalization::domain::InterestSource;
using crm::personalization::domain::NormalizeTopic;
using crm::personalization::domain::Preference;
using crm::personalization::domain::TopicChoice;
using crm::testing::RequireRefused;

constexpr std::int64_t kDay = 86400;

std::vector<std::string> Topics(const std::vector<Interest>& v) {
  std::vector<std::string> out;
  for (const auto& i : v) out.push_back(i.topic);
  return out;
}

}  // namespace

TEST_CASE("NormalizeTopic trims segments and keeps three levels") {
  CHECK(*NormalizeTopic(" Home / Kitchen/Knives/Chef ") == "Home/Kitchen/Knives");
  CHECK(*NormalizeTopic("Garden") == "Garden");
  CHECK_FALSE(NormalizeTopic("").ok());
  CHECK_FALSE(NormalizeTopic("Home//Kitchen").ok());
  CHECK_FALSE(NormalizeTopic("Home/ ").ok());
  CHECK_FALSE(NormalizeTopic(std::string(201, 'a')).ok());
}

TEST_CASE("Signals add to a topic and its ancestors and fade by their half-life") {
  InterestProfile p(10 * kDay);
  p.Add("Home/Kitchen/Knives", 1, 0);
  p.Add("Home/Kitchen/Pans", 3, 0);
  p.Add("Garden/Tools", 2, 10 * kDay);
  auto top = p.Top(10 * kDay, 10);
  // At day 10: Home 2, Home/Kitchen 2, Pans 1.5, Knives 0.5; Garden 2, Garden/Tools 2.
  REQUIRE(top.size() == 6);
  CHECK(Topics(top) == std::vector<std::string>{"Garden", "Garden/Tools", "Home", "Home/Kitchen",
                                                "Home/Kitchen/Pans", "Home/Kitchen/Knives"});
  CHECK(top[0].score == Approx(1.0));
  CHECK(top[2].weight == Approx(2.0));
  CHECK(top[4].score == Approx(0.75));
  CHECK(top[5].score == Approx(0.25));
  CHECK(top[0].source == InterestSource::kInferred);
  CHECK(p.Top(10 * kDay, 2).size() == 2);
  // Twenty days later the garden (newer) leads.
  auto later = p.Top(30 * kDay, 1);
  CHECK(later[0].topic == "Garden");
  CHECK(p.Match("Home/Kitchen/Pans", 10 * kDay) == Approx(0.75));
  CHECK(p.Match("Home/Kitchen/Bowls", 10 * kDay) == Approx(1.0));  // its parent's score
  CHECK(p.Match("Toys", 10 * kDay) == 0);
}

TEST_CASE("Explicit choices win over inferred interest") {
  InterestProfile p(30 * kDay);
  p.Add("Home/Kitchen", 3, 0);
  p.Add("Books/Crime", 1, 0);
  p.SetExplicit("Toys/Lego", true);
  p.SetExplicit("Home", false);  // declines Home and everything under it
  auto top = p.Top(0, 10);
  CHECK(Topics(top) == std::vector<std::string>{"Toys/Lego", "Books", "Books/Crime"});
  CHECK(top[0].source == InterestSource::kExplicit);
  CHECK(top[0].score == 1.0);
  CHECK(top[1].score == Approx(1.0));  // the strongest non-declined inferred topic
  CHECK(p.Match("Home/Kitchen", 0) == 0);
  CHECK(p.Match("Toys/Lego/Technic", 0) == 1.0);
  p.ClearExplicit("Home");
  CHECK(Topics(p.Top(0, 1)) == std::vector<std::string>{"Toys/Lego"});
  CHECK(p.Top(0, 10)[1].topic == "Home");
  p.ClearAll();
  CHECK(p.Empty());
  CHECK(p.Top(0, 10).empty());
}

TEST_CASE("Signals in any time order give the same weights") {
  InterestProfile a(10 * kDay), b(10 * kDay);
  a.Add("Home/Kitchen", 1, 0);
  a.Add("Home/Kitchen", 2, 5 * kDay);
  b.Add("Home/Kitchen", 2, 5 * kDay);
  b.Add("Home/Kitchen", 1, 0);
  CHECK(a.Top(20 * kDay, 1)[0].weight == Approx(b.Top(20 * kDay, 1)[0].weight));
  CHECK(a.Top(20 * kDay, 1)[0].weight == Approx(std::exp2(-2.0) + 2 * std::exp2(-1.5)));
}

TEST_CASE("ApplyChoices sets, declines and clears topics all or nothing") {
  absl::flat_hash_map<std::string, bool> chosen;
  REQUIRE(ApplyChoices({{" Home / Kitchen ", Preference::kInterested},
                        {"Toys", Preference::kNotInterested},
                        {"Garden", Preference::kNoPreference}},
                       chosen)
              .ok());
  CHECK(chosen.size() == 2);
  CHECK(chosen.at("Home/Kitchen"));
  CHECK_FALSE(chosen.at("Toys"));
  REQUIRE(ApplyChoices({{"Toys", Preference::kNoPreference}}, chosen).ok());
  CHECK(chosen.size() == 1);

  const auto before = chosen;
  RequireRefused(ApplyChoices({}, chosen), absl::StatusCode::kInvalidArgument, "INVALID_FIELD");
  RequireRefused(
      ApplyChoices({{"Books", Preference::kInterested}, {"Home//X", Preference::kInterested}},
                   chosen),
      absl::StatusCode::kInvalidArgument, "INVALID_FIELD");
  RequireRefused(
      ApplyChoices({{"Books", Preference::kInterested}, {" Books", Preference::kNoPreference}},
                   chosen),
      absl::StatusCode::kInvalidArgument, "INVALID_FIELD");
  CHECK(chosen == before);  // nothing of a refused request

  std::vector<TopicChoice> many;
  for (int i = 0; i < 99; ++i)
    many.push_back({"Topic " + std::to_string(i), Preference::kInterested});
  REQUIRE(ApplyChoices(many, chosen).ok());  // 100 in all
  CHECK(chosen.size() == 100);
  RequireRefused(ApplyChoices({{"One more", Preference::kNotInterested}}, chosen),
                 absl::StatusCode::kFailedPrecondition, "TOO_MANY_TOPICS");
  REQUIRE(ApplyChoices(
              {{"One more", Preference::kNotInterested}, {"Topic 0", Preference::kNoPreference}},
              chosen)
              .ok());  // one in, one out
  CHECK(chosen.size() == 100);
}

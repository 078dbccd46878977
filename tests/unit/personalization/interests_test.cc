#include "services/personalization/domain/interests.h"

#include <catch2/catch.hpp>

namespace {

using crm::personalization::domain::Interest;
using crm::personalization::domain::InterestProfile;
using crm::personalization::domain::InterestSource;
using crm::personalization::domain::NormalizeTopic;
using crm::personalization::domain::Signal;

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
  p.Observe(Signal::kView, "Home/Kitchen/Knives", 0);      // 1
  p.Observe(Signal::kPurchase, "Home/Kitchen/Pans", 0);    // 3
  p.Observe(Signal::kCart, "Garden/Tools", 10 * kDay);     // 2
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
  p.Observe(Signal::kPurchase, "Home/Kitchen", 0);
  p.Observe(Signal::kView, "Books/Crime", 0);
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

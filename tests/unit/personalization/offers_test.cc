// Offers: the definition's checks and the next-best-offer ranking.
#include "services/personalization/domain/offers.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/status_checks.h"

namespace {

using crm::personalization::domain::Active;
using crm::personalization::domain::NormalizeOffer;
using crm::personalization::domain::Offer;
using crm::personalization::domain::OfferCandidate;
using crm::personalization::domain::OfferKind;
using crm::personalization::domain::RankOffers;

absl::Status AnyRule(const std::string& rule) {
  return rule == "bad(" ? absl::InvalidArgumentError("line 1, column 5: expected an expression")
                        : absl::OkStatus();
}

Offer TenOff() {
  Offer o;
  o.offer_id = "ten-off";
  o.display_name = "10 % off";
  o.kind = OfferKind::kDiscount;
  o.discount_bp = 1000;
  o.value_minor = 500;
  return o;
}

std::string FieldOfRefusal(Offer o) {
  absl::Status s = NormalizeOffer(o, AnyRule);
  crm::testing::RequireRefused(s, absl::StatusCode::kInvalidArgument, "INVALID_FIELD");
  return crm::common::FieldOf(s);
}

}  // namespace

TEST_CASE("NormalizeOffer checks every field") {
  Offer ok = TenOff();
  REQUIRE(NormalizeOffer(ok, AnyRule).ok());
  Offer o = TenOff();
  o.offer_id = "Ten Off";
  CHECK(FieldOfRefusal(o) == "offer_id");
  o = TenOff();
  o.discount_bp = 0;
  CHECK(FieldOfRefusal(o) == "discount_basis_points");
  o = TenOff();
  o.kind = OfferKind::kContent;  // a content offer takes no discount
  CHECK(FieldOfRefusal(o) == "discount_basis_points");
  o = TenOff();
  o.kind = OfferKind::kCrossSell;
  o.discount_bp = 0;
  CHECK(FieldOfRefusal(o) == "skus");  // names its products
  o.skus = {"A", "A"};
  CHECK(FieldOfRefusal(o) == "skus");
  o = TenOff();
  o.value_minor = -1;
  CHECK(FieldOfRefusal(o) == "value_minor");
  o = TenOff();
  o.start_time = absl::FromUnixSeconds(100);
  o.end_time = absl::FromUnixSeconds(100);
  CHECK(FieldOfRefusal(o) == "end_time");
  o = TenOff();
  o.global_cap = -1;
  CHECK(FieldOfRefusal(o) == "global_cap");
  o = TenOff();
  o.priority = 1001;
  CHECK(FieldOfRefusal(o) == "priority");
  o = TenOff();
  o.rule = "bad(";
  CHECK(FieldOfRefusal(o) == "rule");
}

TEST_CASE("Active within the window, not retired") {
  Offer o = TenOff();
  o.start_time = absl::FromUnixSeconds(100);
  o.end_time = absl::FromUnixSeconds(200);
  CHECK_FALSE(Active(o, absl::FromUnixSeconds(99)));
  CHECK(Active(o, absl::FromUnixSeconds(100)));
  CHECK_FALSE(Active(o, absl::FromUnixSeconds(200)));
  o.retired = true;
  CHECK_FALSE(Active(o, absl::FromUnixSeconds(150)));
}

TEST_CASE("RankOffers by priority, then expected value, then id") {
  Offer a = TenOff(), b = TenOff(), c = TenOff(), d = TenOff();
  a.offer_id = "a";
  a.value_minor = 1000;  // EV 0.8 * 1000 * 0.5 = 400
  b.offer_id = "b";
  b.value_minor = 600;  // relevance 1: 0.8 * 600 = 480
  c.offer_id = "c";
  c.value_minor = 10;
  c.priority = 5;  // first whatever its value
  d.offer_id = "d";
  d.value_minor = 1000;  // ties with a: by id
  auto r = RankOffers({{&a, 0}, {&b, 1}, {&c, 0}, {&d, 0}}, 0.8);
  REQUIRE(r.size() == 4);
  CHECK(r[0].offer->offer_id == "c");
  CHECK(r[1].offer->offer_id == "b");
  CHECK(r[1].expected_value == Approx(480));
  CHECK(r[2].offer->offer_id == "a");
  CHECK(r[2].expected_value == Approx(400));
  CHECK(r[3].offer->offer_id == "d");
}

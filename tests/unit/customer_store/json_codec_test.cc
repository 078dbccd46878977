// JSON columns of the customers table: lossless round trips, DATA_LOSS on corruption.
#include "services/customer_store/storage/json_codec.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "libs/events/customer_event.h"
#include "tests/support/event_envelope.h"

namespace {

using namespace crm::customer_store;  // NOLINT
using namespace crm::customer_store::storage;  // NOLINT

TEST_CASE("json_codec round trips", "[customer_store][storage]") {
  SECTION("address") {
    domain::PostalAddress a{{"Bahnhofstrasse 1", "c/o \"Müller\"\n2nd floor"}, "Zürich", "ZH",
                            "8001", "CH"};
    auto back = AddressFromJson(AddressToJson(a));
    REQUIRE(back.ok());
    CHECK(back->lines == a.lines);
    CHECK(back->locality == "Zürich");
    CHECK(back->region == "ZH");
    CHECK(back->postal_code == "8001");
    CHECK(back->country_code == "CH");
    auto empty = AddressFromJson(AddressToJson(domain::PostalAddress{}));
    REQUIRE(empty.ok());
    CHECK(empty->empty());
  }
  SECTION("date") {
    for (domain::Date d : {domain::Date{1990, 5, 17}, domain::Date{0, 2, 29}}) {
      auto back = DateFromJson(DateToJson(d));
      REQUIRE(back.ok());
      CHECK(*back == d);
    }
  }
  SECTION("anniversaries") {
    std::vector<domain::Anniversary> v = {{"wedding", {2010, 6, 12}}, {"first order", {0, 1, 31}}};
    auto back = AnniversariesFromJson(AnniversariesToJson(v));
    REQUIRE(back.ok());
    REQUIRE(back->size() == 2);
    CHECK((*back)[0].label == "wedding");
    CHECK((*back)[0].date == domain::Date{2010, 6, 12});
    CHECK((*back)[1].label == "first order");
    CHECK((*back)[1].date == domain::Date{0, 1, 31});
    auto none = AnniversariesFromJson(AnniversariesToJson({}));
    REQUIRE(none.ok());
    CHECK(none->empty());
  }
  SECTION("typed attributes including int64 extremes and times") {
    std::map<std::string, domain::AttributeValue> m = {
        {"s", std::string("text with \"quotes\" and ünïcode")},
        {"empty", std::string()},
        {"max", std::numeric_limits<int64_t>::max()},
        {"min", std::numeric_limits<int64_t>::min()},
        {"zero", int64_t{0}},
        {"d", 0.1},
        {"dneg", -1.5e300},
        {"dint", 3.0},
        {"yes", true},
        {"no", false},
        {"t", absl::FromUnixMicros(1700000000123456)},
        {"tneg", absl::FromUnixMicros(-86400000001)},
    };
    auto back = AttributesFromJson(AttributesToJson(m));
    REQUIRE(back.ok());
    CHECK(*back == m);
    // Types survive: 3.0 stays a double, 0 stays an int, "" stays a string.
    CHECK(std::holds_alternative<double>(back->at("dint")));
    CHECK(std::holds_alternative<int64_t>(back->at("zero")));
    CHECK(std::holds_alternative<std::string>(back->at("empty")));
    CHECK(std::get<int64_t>(back->at("min")) == std::numeric_limits<int64_t>::min());
    CHECK(std::get<absl::Time>(back->at("t")) == absl::FromUnixMicros(1700000000123456));
    auto none = AttributesFromJson(AttributesToJson({}));
    REQUIRE(none.ok());
    CHECK(none->empty());
  }
}

TEST_CASE("json_codec reports corrupt input as DATA_LOSS", "[customer_store][storage]") {
  auto is_data_loss = [](const absl::Status& s) { return s.code() == absl::StatusCode::kDataLoss; };
  SECTION("address") {
    CHECK(is_data_loss(AddressFromJson("").status()));
    CHECK(is_data_loss(AddressFromJson("{not json").status()));
    CHECK(is_data_loss(AddressFromJson(R"({"lines":[]})").status()));
    CHECK(is_data_loss(AddressFromJson(
                           R"({"lines":"x","locality":"","region":"","postal_code":"","country_code":""})")
                           .status()));
  }
  SECTION("date") {
    CHECK(is_data_loss(DateFromJson("[]").status()));
    CHECK(is_data_loss(DateFromJson(R"({"y":2000,"m":1})").status()));
    CHECK(is_data_loss(DateFromJson(R"({"y":"2000","m":1,"d":1})").status()));
  }
  SECTION("anniversaries") {
    CHECK(is_data_loss(AnniversariesFromJson(R"([{"label":"x"}])").status()));
    CHECK(is_data_loss(AnniversariesFromJson(R"([{"label":1,"date":{"y":1,"m":1,"d":1}}])").status()));
    CHECK(is_data_loss(AnniversariesFromJson("nope").status()));
  }
  SECTION("attributes") {
    CHECK(is_data_loss(AttributesFromJson("").status()));
    CHECK(is_data_loss(AttributesFromJson(R"({"k":{"x":1}})").status()));
    CHECK(is_data_loss(AttributesFromJson(R"({"k":{"i":"12a"}})").status()));
    CHECK(is_data_loss(AttributesFromJson(R"({"k":{"i":"99999999999999999999"}})").status()));
    CHECK(is_data_loss(AttributesFromJson(R"({"k":{"i":12}})").status()));
    CHECK(is_data_loss(AttributesFromJson(R"({"k":{"t":"soon"}})").status()));
    CHECK(is_data_loss(AttributesFromJson(R"({"k":{"d":"1.5"}})").status()));
    CHECK(is_data_loss(AttributesFromJson(R"({"k":{"b":"true"}})").status()));
    CHECK(is_data_loss(AttributesFromJson(R"({"k":"plain"})").status()));
    CHECK(is_data_loss(AttributesFromJson(R"([{"s":"x"}])").status()));
  }
}

}  // namespace

using crm::testing::EnvelopeOf;

TEST_CASE("customer events carry the profile the segment language reads, as consumers read it",
          "[customer_store][storage][events]") {
  domain::Customer c;
  c.id = "22222222-2222-4222-8222-222222222222";
  c.version = 7;
  c.given_name = "Anna";  // not in the event: only the segmentable fields are
  c.postal_address = domain::PostalAddress{{"Bahnhofstrasse 1"}, "Zürich", "ZH", "8001", "CH"};
  c.locale = "de-CH";
  c.lifecycle_stage = domain::LifecycleStage::kRepeatCustomer;
  c.attributes = {{"plan", std::string("gold")},
                  {"seats", int64_t{12}},
                  {"score", 0.25},
                  {"vip", true},
                  {"renewal", absl::FromUnixSeconds(1700000000)}};
  const std::string payload = CustomerEventJson(c);
  CHECK(payload.find("Anna") == std::string::npos);
  CHECK(payload.find("Bahnhofstrasse") == std::string::npos);

  for (const char* type : {"customer.created", "customer.updated"}) {
    CAPTURE(type);
    auto change = crm::events::CustomerChangeOf(EnvelopeOf(type, payload));
    REQUIRE(change.ok());
    REQUIRE(change->has_value());
    const crm::events::CustomerChange& got = **change;
    CHECK(got.kind == (std::string(type) == "customer.created"
                           ? crm::events::CustomerChange::Kind::kCreated
                           : crm::events::CustomerChange::Kind::kUpdated));
    CHECK(got.customer_id == c.id);
    CHECK(got.version == 7);
    REQUIRE(got.has_profile);
    using V = crm::events::ProfileValue;
    const std::map<std::string, V> want{
        {"profile.country", V(std::string("CH"))},
        {"profile.region", V(std::string("ZH"))},
        {"profile.city", V(std::string("Zürich"))},
        {"profile.postal_code", V(std::string("8001"))},
        {"profile.locale", V(std::string("de-CH"))},
        {"profile.lifecycle_stage", V(std::string("repeat_customer"))},
        {"attr.plan", V(std::string("gold"))},
        {"attr.seats", V(12.0)},
        {"attr.score", V(0.25)},
        {"attr.vip", V(true)}};
    CHECK(got.profile == want);  // empty strings and the time attribute left out
  }

  // Events written before the profile was in the payload still read.
  auto old = crm::events::CustomerChangeOf(
      EnvelopeOf("customer.updated", R"({"customer_id":"22222222-2222-4222-8222-222222222222",)"
                                     R"("version":3})"));
  REQUIRE(old.ok());
  CHECK((*old)->version == 3);
  CHECK_FALSE((*old)->has_profile);
  // A profile that is not the documented object is refused.
  auto bad = crm::events::CustomerChangeOf(EnvelopeOf(
      "customer.updated",
      R"({"customer_id":"22222222-2222-4222-8222-222222222222","version":3,"profile":{"country":1}})"));
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
}

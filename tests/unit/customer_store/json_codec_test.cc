// JSON columns of the customers table: lossless round trips, DATA_LOSS on corruption.
#include "services/customer_store/storage/json_codec.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

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

// Pure domain rules of orders: validation with the offending field,
// normalization, totals with overflow checks and the status machine.
#include "services/transaction/domain/order.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace {

using crm::common::FieldOf;
using crm::common::ReasonOf;
using namespace crm::transaction::domain;  // NOLINT

constexpr char kCustomer[] = "33333333-3333-4333-8333-333333333333";

OrderLine Line(const std::string& sku, int64_t quantity, int64_t unit_price,
               int64_t discount = 0) {
  OrderLine l;
  l.sku = sku;
  l.quantity = quantity;
  l.unit_price_minor = unit_price;
  l.discount_minor = discount;
  return l;
}

// 2 x 1990 - 0 + 1 x 500 - 100 = 4380.
Order Valid() {
  Order o;
  o.customer_id = kCustomer;
  o.currency_code = "CHF";
  o.lines = {Line("SKU-1", 2, 1990), Line("SKU-2", 1, 500, 100)};
  o.channel = SalesChannel::kWeb;
  o.store_id = "zurich-1";
  return o;
}

// NormalizeAndValidate must refuse o with INVALID_ARGUMENT INVALID_FIELD on
// `field`; returns the message.
std::string RequireInvalid(Order& o, const std::string& field) {
  absl::Status s = NormalizeAndValidate(o);
  INFO(s.ToString());
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(s) == "INVALID_FIELD");
  CHECK(FieldOf(s) == field);
  return std::string(s.message());
}

void RequireValid(Order& o) {
  absl::Status s = NormalizeAndValidate(o);
  INFO(s.ToString());
  REQUIRE(s.ok());
}

// ------------------------------------------------------------ valid orders

TEST_CASE("NormalizeAndValidate computes line totals and the order total",
          "[transaction][order]") {
  Order o = Valid();
  RequireValid(o);
  REQUIRE(o.lines.size() == 2);
  CHECK(o.lines[0].line_total_minor == 3980);
  CHECK(o.lines[1].line_total_minor == 400);
  CHECK(o.total_minor == 4380);
  // Inputs are kept as given.
  CHECK(o.lines[0].sku == "SKU-1");
  CHECK(o.lines[1].discount_minor == 100);
  CHECK(o.customer_id == kCustomer);
  CHECK(o.store_id == "zurich-1");
}

TEST_CASE("NormalizeAndValidate overwrites a client-supplied line total", "[transaction][order]") {
  Order o = Valid();
  o.lines[0].line_total_minor = 1;
  RequireValid(o);
  CHECK(o.lines[0].line_total_minor == 3980);
}

TEST_CASE("NormalizeAndValidate upper-cases the currency", "[transaction][order]") {
  for (const char* in : {"chf", "Chf", "jpy", "kwd"}) {
    INFO(in);
    Order o = Valid();
    o.currency_code = in;
    RequireValid(o);
    CHECK(o.currency_code == absl::AsciiStrToUpper(in));
  }
}

TEST_CASE("NormalizeAndValidate accepts a given total equal to the sum", "[transaction][order]") {
  Order o = Valid();
  o.total_minor = 4380;
  RequireValid(o);
  CHECK(o.total_minor == 4380);
}

TEST_CASE("NormalizeAndValidate accepts the boundaries", "[transaction][order]") {
  SECTION("quantity 1 and 1,000,000") {
    Order o = Valid();
    o.lines = {Line("A", 1, 7), Line("B", 1'000'000, 3)};
    RequireValid(o);
    CHECK(o.total_minor == 3'000'007);
  }
  SECTION("price 0 and discount equal to the gross amount") {
    Order o = Valid();
    o.lines = {Line("A", 3, 0), Line("B", 2, 50, 100)};
    RequireValid(o);
    CHECK(o.lines[0].line_total_minor == 0);
    CHECK(o.lines[1].line_total_minor == 0);
    CHECK(o.total_minor == 0);
  }
  SECTION("exactly 500 lines") {
    Order o = Valid();
    o.lines.clear();
    for (int i = 0; i < kMaxOrderLines; ++i) o.lines.push_back(Line(absl::StrCat("S", i), 1, 2));
    RequireValid(o);
    CHECK(o.total_minor == 2 * kMaxOrderLines);
  }
  SECTION("a total of exactly INT64_MAX") {
    // Nine lines of 10^6 x 10^12 = 9 x 10^18, then one line for the rest
    // (price capped at 10^15, so the rest is reached through a discount).
    Order o = Valid();
    o.lines.clear();
    const int64_t max = std::numeric_limits<int64_t>::max();
    const int64_t per_line = int64_t{1'000'000} * 1'000'000'000'000;  // 10^18
    int64_t rest = max;
    for (int i = 0; i < 9; ++i) {
      o.lines.push_back(Line(absl::StrCat("S", i), 1'000'000, 1'000'000'000'000));
      rest -= per_line;
    }
    const int64_t price = rest / 1'000'000 + 1;
    const int64_t discount = price * 1'000'000 - rest;
    o.lines.push_back(Line("LAST", 1'000'000, price, discount));
    RequireValid(o);
    CHECK(o.total_minor == max);
  }
}

// -------------------------------------------------------------- refusals

TEST_CASE("customer_id must be a UUID", "[transaction][order][validation]") {
  for (const char* id : {"", "not-a-uuid", "33333333-3333-4333-8333-33333333333",
                         "33333333333343338333333333333333"}) {
    INFO(id);
    Order o = Valid();
    o.customer_id = id;
    RequireInvalid(o, "customer_id");
  }
}

TEST_CASE("currency_code must be an ISO 4217 currency in circulation",
          "[transaction][order][validation]") {
  for (const char* c : {"", "XXX", "ABC", "CH", "CHFF", "XAU"}) {
    INFO(c);
    Order o = Valid();
    o.currency_code = c;
    const std::string msg = RequireInvalid(o, "currency_code");
    CHECK(absl::StrContains(msg, absl::AsciiStrToUpper(c)));
  }
}

TEST_CASE("an order needs 1..500 lines", "[transaction][order][validation]") {
  SECTION("no line") {
    Order o = Valid();
    o.lines.clear();
    RequireInvalid(o, "lines");
  }
  SECTION("501 lines") {
    Order o = Valid();
    o.lines.clear();
    for (int i = 0; i <= kMaxOrderLines; ++i) o.lines.push_back(Line(absl::StrCat("S", i), 1, 1));
    const std::string msg = RequireInvalid(o, "lines");
    CHECK(absl::StrContains(msg, "500"));
  }
}

TEST_CASE("a line's sku must be a valid sku, named by its index",
          "[transaction][order][validation]") {
  for (const char* sku : {"", "has space", "semi;colon", "ü-umlaut"}) {
    INFO(sku);
    Order o = Valid();
    o.lines[1].sku = sku;
    RequireInvalid(o, "lines[1].sku");
  }
  Order o = Valid();
  o.lines[0].sku = std::string(65, 'A');
  RequireInvalid(o, "lines[0].sku");
}

TEST_CASE("a line's quantity must be 1..1,000,000", "[transaction][order][validation]") {
  for (int64_t q : {int64_t{0}, int64_t{-1}, int64_t{-5}, int64_t{1'000'001},
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    INFO(q);
    Order o = Valid();
    o.lines[1].quantity = q;
    RequireInvalid(o, "lines[1].quantity");
  }
}

TEST_CASE("a line's unit price must not be negative", "[transaction][order][validation]") {
  for (int64_t p : {int64_t{-1}, std::numeric_limits<int64_t>::min()}) {
    INFO(p);
    Order o = Valid();
    o.lines[0].unit_price_minor = p;
    RequireInvalid(o, "lines[0].unit_price_minor");
  }
}

TEST_CASE("a line's discount must be 0..gross", "[transaction][order][validation]") {
  SECTION("discount above quantity * unit price") {
    Order o = Valid();
    o.lines[0].discount_minor = 2 * 1990 + 1;
    RequireInvalid(o, "lines[0].discount_minor");
  }
  SECTION("negative discount") {
    Order o = Valid();
    o.lines[1].discount_minor = -1;
    RequireInvalid(o, "lines[1].discount_minor");
  }
  SECTION("any discount on a free line") {
    Order o = Valid();
    o.lines[1].unit_price_minor = 0;
    o.lines[1].discount_minor = 1;
    RequireInvalid(o, "lines[1].discount_minor");
  }
}

TEST_CASE("a given total that does not match names the computed total",
          "[transaction][order][validation]") {
  for (int64_t given : {int64_t{4379}, int64_t{4381}, int64_t{-4380}, int64_t{1}}) {
    INFO(given);
    Order o = Valid();
    o.total_minor = given;
    const std::string msg = RequireInvalid(o, "total_minor");
    CHECK(absl::StrContains(msg, "4380"));
    CHECK(absl::StrContains(msg, absl::StrCat(given)));
  }
}

TEST_CASE("quantity * unit price overflowing int64 is refused, not wrapped",
          "[transaction][order][validation]") {
  Order o = Valid();
  // 10^6 x 10^15 = 10^21 > INT64_MAX (~9.2 x 10^18); both values are in range.
  o.lines[0].quantity = 1'000'000;
  o.lines[0].unit_price_minor = 1'000'000'000'000'000;
  const std::string msg = RequireInvalid(o, "lines[0].quantity");
  CHECK(absl::StrContains(msg, "lines[0]"));
  CHECK(o.total_minor == 0);
}

TEST_CASE("a total overflowing int64 is refused, not wrapped", "[transaction][order][validation]") {
  Order o = Valid();
  // Each line is 5 x 10^18 (fits), together 10^19 (does not).
  o.lines = {Line("A", 1'000'000, 5'000'000'000'000), Line("B", 1'000'000, 5'000'000'000'000)};
  const std::string msg = RequireInvalid(o, "lines");
  CHECK(absl::StrContains(msg, "too large"));
  CHECK(o.total_minor == 0);
}

TEST_CASE("channel and store_id are checked", "[transaction][order][validation]") {
  SECTION("channel out of range") {
    Order o = Valid();
    o.channel = static_cast<SalesChannel>(6);
    RequireInvalid(o, "channel");
    o.channel = static_cast<SalesChannel>(-1);
    RequireInvalid(o, "channel");
  }
  SECTION("store_id longer than 64") {
    Order o = Valid();
    o.store_id = std::string(65, 's');
    RequireInvalid(o, "store_id");
    o.store_id = std::string(64, 's');
    RequireValid(o);
  }
}

TEST_CASE("the first invalid line is the one named", "[transaction][order][validation]") {
  Order o = Valid();
  o.lines.push_back(Line("SKU-3", 0, 1));
  o.lines.push_back(Line("bad sku", 1, 1));
  RequireInvalid(o, "lines[2].quantity");
}

// ----------------------------------------------------------- status machine

TEST_CASE("StatusName names every status", "[transaction][order]") {
  CHECK(std::string(StatusName(OrderStatus::kPlaced)) == "placed");
  CHECK(std::string(StatusName(OrderStatus::kPaid)) == "paid");
  CHECK(std::string(StatusName(OrderStatus::kFulfilled)) == "fulfilled");
  CHECK(std::string(StatusName(OrderStatus::kCompleted)) == "completed");
  CHECK(std::string(StatusName(OrderStatus::kCancelled)) == "cancelled");
  CHECK(std::string(StatusName(OrderStatus::kUnspecified)) == "unspecified");
}

TEST_CASE("CheckTransition allows exactly the documented moves (all 5 x 5 pairs)",
          "[transaction][order][transition]") {
  const std::vector<OrderStatus> all = {OrderStatus::kPlaced, OrderStatus::kPaid,
                                        OrderStatus::kFulfilled, OrderStatus::kCompleted,
                                        OrderStatus::kCancelled};
  const std::set<std::pair<OrderStatus, OrderStatus>> allowed = {
      {OrderStatus::kPlaced, OrderStatus::kPaid},
      {OrderStatus::kPlaced, OrderStatus::kCancelled},
      {OrderStatus::kPaid, OrderStatus::kFulfilled},
      {OrderStatus::kPaid, OrderStatus::kCancelled},
      {OrderStatus::kFulfilled, OrderStatus::kCompleted},
  };
  const OrderStatus from = GENERATE(OrderStatus::kPlaced, OrderStatus::kPaid,
                                    OrderStatus::kFulfilled, OrderStatus::kCompleted,
                                    OrderStatus::kCancelled);
  int allowed_seen = 0;
  for (OrderStatus to : all) {
    INFO(StatusName(from) << " -> " << StatusName(to));
    absl::Status s = CheckTransition(from, to);
    INFO(s.ToString());
    if (allowed.count({from, to})) {
      CHECK(s.ok());
      ++allowed_seen;
    } else {
      REQUIRE(s.code() == absl::StatusCode::kFailedPrecondition);
      CHECK(ReasonOf(s) == "INVALID_ORDER_TRANSITION");
      CHECK(absl::StrContains(s.message(), absl::StrCat("the order is ", StatusName(from))));
      CHECK(absl::StrContains(s.message(), StatusName(to)));
    }
  }
  const int expected = from == OrderStatus::kPlaced || from == OrderStatus::kPaid ? 2
                       : from == OrderStatus::kFulfilled                          ? 1
                                                                                  : 0;
  CHECK(allowed_seen == expected);
}

TEST_CASE("CheckTransition refuses moves to or from unspecified", "[transaction][order][transition]") {
  for (OrderStatus s : {OrderStatus::kPlaced, OrderStatus::kPaid, OrderStatus::kFulfilled,
                        OrderStatus::kCompleted, OrderStatus::kCancelled}) {
    INFO(StatusName(s));
    absl::Status to = CheckTransition(s, OrderStatus::kUnspecified);
    CHECK(to.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(ReasonOf(to) == "INVALID_ORDER_TRANSITION");
    absl::Status from = CheckTransition(OrderStatus::kUnspecified, s);
    CHECK(from.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(ReasonOf(from) == "INVALID_ORDER_TRANSITION");
  }
}

TEST_CASE("EtagOf an order is its version", "[transaction][order]") {
  Order o = Valid();
  o.version = 7;
  CHECK(EtagOf(o) == "7");
  o.version = 8;
  CHECK(EtagOf(o) == "8");
}

// ------------------------------------------------------------ write rules

TEST_CASE("CheckSkusKnown names the first line whose SKU is not in the catalog",
          "[transaction][order][write]") {
  Order o;
  o.lines = {Line("A", 1, 100), Line("B", 1, 100), Line("C", 1, 100)};
  CHECK(CheckSkusKnown(o, {"A", "B", "C"}).ok());
  absl::Status s = CheckSkusKnown(o, {"A"});
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(s) == "UNKNOWN_SKU");
  CHECK(FieldOf(s) == "lines[1].sku");
  CHECK(absl::StrContains(s.message(), "\"B\" is not in the catalog"));
}

TEST_CASE("ExternalIdTaken is ALREADY_EXISTS ORDER_EXISTS naming the order",
          "[transaction][order][write]") {
  absl::Status s = ExternalIdTaken("order-1", "ERP-7");
  CHECK(s.code() == absl::StatusCode::kAlreadyExists);
  CHECK(ReasonOf(s) == "ORDER_EXISTS");
  CHECK(FieldOf(s) == "external_id");
  CHECK(s.message() == "order order-1 already has external_id \"ERP-7\"");
}

}  // namespace

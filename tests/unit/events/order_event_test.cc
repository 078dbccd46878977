// Reading the transaction engine's order.* lines and product.* events
// (docs/events.md) into OrderFact / ProductFact.
#include "libs/events/order_event.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/event_envelope.h"

namespace {

using crm::events::OrderFactOf;
using crm::events::ProductFactOf;

auto Envelope = [](const std::string& type, const std::string& payload) {
  return crm::testing::EnvelopeOf(type, payload);
};

const char* kOrderHead =
    R"({"order_id":"33333333-3333-4333-8333-333333333333","customer_id":)"
    R"("22222222-2222-4222-8222-222222222222","external_id":"","status":"partially_returned",)"
    R"("currency_code":"CHF","total_minor":"3000","returned_minor":"1000","net_minor":"2000",)"
    R"("placed_at_us":"1700000000000000","version":4)";

TEST_CASE("order events are read with their lines", "[events][order]") {
  // As the transaction engine writes them (storage/order_event.cc).
  auto f = OrderFactOf(Envelope(
      "order.partially_returned",
      std::string(kOrderHead) +
          R"(,"lines":[{"sku":"JAZZ-1","quantity":2,"returned_quantity":1,"line_total_minor":"2000"},)"
          R"({"sku":"BOOK-1","quantity":1,"returned_quantity":0,"line_total_minor":"1000"}]})"));
  REQUIRE(f.ok());
  REQUIRE(f->has_value());
  const auto& lines = (*f)->lines;
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].sku == "JAZZ-1");
  CHECK(lines[0].quantity == 2);
  CHECK(lines[0].returned_quantity == 1);
  CHECK(lines[1].sku == "BOOK-1");
  CHECK((*f)->net_minor == 2000);
  // Events without lines (older ones) still read, with none.
  auto old = OrderFactOf(Envelope("order.placed", std::string(kOrderHead) + "}"));
  REQUIRE(old.ok());
  CHECK((*old)->lines.empty());
  for (const char* lines_json :
       {R"([{"sku":"A","quantity":1,"returned_quantity":2}])", R"([{"sku":"A","quantity":-1}])",
        R"([{"quantity":1}])", R"({"sku":"A"})"}) {
    CAPTURE(lines_json);
    CHECK(OrderFactOf(
              Envelope("order.placed", std::string(kOrderHead) + R"(,"lines":)" + lines_json + "}"))
              .status()
              .code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("product events are read with their category path", "[events][order]") {
  // As the transaction engine writes them (storage/pg_product_repository.cc).
  auto f = ProductFactOf(
      Envelope("product.updated",
               R"({"sku":"JAZZ-1","version":3,"active":false,"category_path":["Music","Jazz"]})"));
  REQUIRE(f.ok());
  REQUIRE(f->has_value());
  CHECK((*f)->sku == "JAZZ-1");
  CHECK((*f)->version == 3);
  CHECK_FALSE((*f)->active);
  CHECK((*f)->category_path == std::vector<std::string>{"Music", "Jazz"});
  CHECK((*f)->tenant_id == "11111111-1111-4111-8111-111111111111");
  auto older =
      ProductFactOf(Envelope("product.created", R"({"sku":"A","version":1,"active":true})"));
  REQUIRE(older.ok());
  CHECK((*older)->category_path.empty());
  auto other = ProductFactOf(Envelope("order.placed", "{}"));
  REQUIRE(other.ok());
  CHECK_FALSE(other->has_value());
  for (const char* payload :
       {R"({"version":1})", R"({"sku":"","version":1})", R"({"sku":"A","version":0})",
        R"({"sku":"A","version":1,"category_path":"Music"})", "not json"}) {
    CAPTURE(payload);
    CHECK(ProductFactOf(Envelope("product.created", payload)).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace

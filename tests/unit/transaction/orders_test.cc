// Order use cases over the in-memory FakeOrderRepository.
#include "services/transaction/app/orders.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "libs/common/price_quote.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/transaction/fake_order_repository.h"

namespace {

using namespace crm::transaction;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::testing::FakeOrderRepository;
using crm::testing::FixedClock;
using crm::testing::SequentialIdGenerator;
using domain::Order;
using domain::OrderStatus;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOtherTenant[] = "22222222-2222-4222-8222-222222222222";
constexpr char kCustomer[] = "33333333-3333-4333-8333-333333333333";
// A clock with nanoseconds: what is stored is truncated to the microsecond.
const absl::Time kNow = absl::FromUnixNanos(1700000000123456789);
const absl::Time kNowMicros = absl::FromUnixMicros(1700000000123456);

Order NewOrder() {
  Order o;
  o.customer_id = kCustomer;
  o.currency_code = "chf";
  o.lines = {{"SKU-1", 2, 1990, 0, 0}, {"SKU-2", 1, 500, 100, 0}};
  o.channel = domain::SalesChannel::kStore;
  o.store_id = "zurich-1";
  return o;
}

struct Fixture {
  FakeOrderRepository repo;
  FixedClock clock{kNow};
  SequentialIdGenerator ids;
  app::Orders orders{repo, clock, ids};
  int next_key = 0;

  Fixture() {
    repo.AddSku(kTenant, "SKU-1");
    repo.AddSku(kTenant, "SKU-2");
  }

  app::Actor ActorFor(const char* method, std::string key = "") {
    if (key.empty()) key = absl::StrCat("key-", ++next_key);
    return app::Actor{kTenant, "k0123456789abcdef", "req-1", method, key, "fp"};
  }

  Order Create(Order o = NewOrder()) {
    auto r = orders.Create(ActorFor("CreateOrder"), std::move(o));
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  }

  absl::StatusOr<Order> Move(const std::string& id, OrderStatus to, std::string key = "") {
    return orders.Transition(ActorFor("TransitionOrder", std::move(key)), id, to);
  }
};

void RequireInvalidField(const absl::Status& s, const std::string& field) {
  INFO(s.ToString());
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(s) == field);
}

// -------------------------------------------------------------------- Create

TEST_CASE("Orders::Create sets id, status placed, version 1 and microsecond times",
          "[transaction][orders]") {
  Fixture f;
  Order in = NewOrder();
  in.id = "99999999-9999-4999-8999-999999999999";  // output only: ignored
  in.status = OrderStatus::kCompleted;             // output only: ignored
  in.version = 42;                                 // output only: ignored
  auto r = f.orders.Create(f.ActorFor("CreateOrder"), in);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->id == SequentialIdGenerator::IdFor(1));
  CHECK(r->status == OrderStatus::kPlaced);
  CHECK(r->version == 1);
  CHECK(r->create_time == kNowMicros);
  CHECK(r->update_time == kNowMicros);
  CHECK(r->placed_time == kNowMicros);  // defaults to now
  CHECK(r->currency_code == "CHF");
  REQUIRE(r->lines.size() == 2);
  CHECK(r->lines[0].line_total_minor == 3980);
  CHECK(r->lines[1].line_total_minor == 400);
  CHECK(r->total_minor == 4380);
  // What reached the repository is what came back.
  auto stored = f.repo.last_insert();
  REQUIRE(stored.has_value());
  CHECK(stored->id == r->id);
  CHECK(stored->status == OrderStatus::kPlaced);
  CHECK(stored->version == 1);
  CHECK(stored->create_time == kNowMicros);
  CHECK(stored->placed_time == kNowMicros);
  CHECK(absl::ToUnixNanos(stored->create_time) % 1000 == 0);
  auto got = f.orders.Get(kTenant, r->id);
  REQUIRE(got.ok());
  CHECK(got->total_minor == 4380);
  CHECK(f.repo.events() ==
        std::vector<std::string>{absl::StrCat("order.placed:", r->id, ":", kCustomer)});
}

TEST_CASE("Orders::Create keeps a past placed_time, truncated to the microsecond",
          "[transaction][orders]") {
  Fixture f;
  Order in = NewOrder();
  in.placed_time = absl::FromUnixNanos(1690000000987654321);
  Order out = f.Create(in);
  CHECK(out.placed_time == absl::FromUnixMicros(1690000000987654));
  CHECK(out.create_time == kNowMicros);
}

TEST_CASE("Orders::Create refuses a placed_time in the future", "[transaction][orders]") {
  Fixture f;
  for (absl::Duration ahead : {absl::Hours(1), absl::Hours(24 * 365), absl::Minutes(6)}) {
    INFO(absl::FormatDuration(ahead));
    Order in = NewOrder();
    in.placed_time = kNow + ahead;
    auto r = f.orders.Create(f.ActorFor("CreateOrder"), in);
    RequireInvalidField(r.status(), "placed_time");
  }
  CHECK(f.repo.calls() == 0);
  CHECK(f.repo.writes() == 0);
}

TEST_CASE("Orders::Create requires a request_id of 1..128 characters", "[transaction][orders]") {
  Fixture f;
  for (const std::string& key : {std::string(), std::string(129, 'k')}) {
    INFO(key.size());
    app::Actor a = f.ActorFor("CreateOrder");
    a.idempotency_key = key;
    auto r = f.orders.Create(a, NewOrder());
    RequireInvalidField(r.status(), "request_id");
  }
  CHECK(f.repo.calls() == 0);
  app::Actor a = f.ActorFor("CreateOrder");
  a.idempotency_key = std::string(128, 'k');
  auto r = f.orders.Create(a, NewOrder());
  INFO(r.status().ToString());
  CHECK(r.ok());
}

TEST_CASE("Orders::Create validates before touching the repository", "[transaction][orders]") {
  Fixture f;
  SECTION("customer_id") {
    Order o = NewOrder();
    o.customer_id = "nope";
    RequireInvalidField(f.orders.Create(f.ActorFor("CreateOrder"), o).status(), "customer_id");
  }
  SECTION("currency") {
    Order o = NewOrder();
    o.currency_code = "xxx";
    RequireInvalidField(f.orders.Create(f.ActorFor("CreateOrder"), o).status(), "currency_code");
  }
  SECTION("quantity") {
    Order o = NewOrder();
    o.lines[1].quantity = -3;
    RequireInvalidField(f.orders.Create(f.ActorFor("CreateOrder"), o).status(),
                        "lines[1].quantity");
  }
  SECTION("total") {
    Order o = NewOrder();
    o.total_minor = 4000;
    auto r = f.orders.Create(f.ActorFor("CreateOrder"), o);
    RequireInvalidField(r.status(), "total_minor");
    CHECK(absl::StrContains(r.status().message(), "4380"));
  }
  CHECK(f.repo.calls() == 0);
  CHECK(f.ids.issued() == 0);
}

TEST_CASE("Orders::Create passes an unknown SKU refusal through", "[transaction][orders]") {
  Fixture f;
  Order o = NewOrder();
  o.lines[1].sku = "SKU-NOT-SOLD";
  auto r = f.orders.Create(f.ActorFor("CreateOrder"), o);
  INFO(r.status().ToString());
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(r.status()) == "UNKNOWN_SKU");
  CHECK(FieldOf(r.status()) == "lines[1].sku");
  CHECK(f.repo.writes() == 0);
}

TEST_CASE("Orders::Create with a replayed request_id answers the first order",
          "[transaction][orders][idempotency]") {
  Fixture f;
  app::Actor a = f.ActorFor("CreateOrder", "same-key");
  auto first = f.orders.Create(a, NewOrder());
  REQUIRE(first.ok());
  f.clock.Advance(absl::Seconds(3));
  auto again = f.orders.Create(a, NewOrder());
  INFO(again.status().ToString());
  REQUIRE(again.ok());
  CHECK(again->id == first->id);
  CHECK(again->create_time == first->create_time);
  CHECK(f.repo.writes() == 1);
  a.fingerprint = "another body";
  auto reused = f.orders.Create(a, NewOrder());
  INFO(reused.status().ToString());
  REQUIRE(reused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(reused.status()) == "IDEMPOTENCY_KEY_REUSED");
  CHECK(f.repo.writes() == 1);
}

// --------------------------------------------------------------- Get / List

TEST_CASE("Orders::Get checks the id and the tenant", "[transaction][orders]") {
  Fixture f;
  Order o = f.Create();
  RequireInvalidField(f.orders.Get(kTenant, "not-a-uuid").status(), "order_id");
  auto other = f.orders.Get(kOtherTenant, o.id);
  REQUIRE(other.status().code() == absl::StatusCode::kNotFound);
  CHECK(ReasonOf(other.status()) == "ORDER_NOT_FOUND");
}

TEST_CASE("Orders::List checks its filters", "[transaction][orders]") {
  Fixture f;
  app::OrderQuery q;
  q.customer_id = "nope";
  RequireInvalidField(f.orders.List(kTenant, q).status(), "customer_id");
  q.customer_id = kCustomer;
  q.status = static_cast<OrderStatus>(8);
  RequireInvalidField(f.orders.List(kTenant, q).status(), "status");
  CHECK(f.repo.calls() == 0);
  q.status = OrderStatus::kPaid;
  auto r = f.orders.List(kTenant, q);
  REQUIRE(r.ok());
  CHECK(f.repo.last_query().customer_id == kCustomer);
  CHECK(f.repo.last_query().status == OrderStatus::kPaid);
}

// ---------------------------------------------------------------- Transition

TEST_CASE("Orders::Transition walks placed -> paid -> fulfilled -> completed",
          "[transaction][orders][transition]") {
  Fixture f;
  Order o = f.Create();
  int64_t version = 1;
  for (OrderStatus to : {OrderStatus::kPaid, OrderStatus::kFulfilled, OrderStatus::kCompleted}) {
    INFO(domain::StatusName(to));
    f.clock.Advance(absl::Nanoseconds(1'000'500));
    auto r = f.Move(o.id, to);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->status == to);
    CHECK(r->version == ++version);
    const absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(f.clock.Now()));
    CHECK(r->update_time == now);
    CHECK(r->create_time == kNowMicros);
    auto stored = f.orders.Get(kTenant, o.id);
    REQUIRE(stored.ok());
    CHECK(stored->status == to);
    CHECK(stored->update_time == now);
  }
  CHECK(f.repo.events().back() == absl::StrCat("order.completed:", o.id, ":", kCustomer));
}

TEST_CASE("Orders::Transition refuses a move the status machine forbids",
          "[transaction][orders][transition]") {
  Fixture f;
  Order o = f.Create();
  REQUIRE(f.Move(o.id, OrderStatus::kCancelled).ok());
  auto r = f.Move(o.id, OrderStatus::kPaid);
  INFO(r.status().ToString());
  REQUIRE(r.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(r.status()) == "INVALID_ORDER_TRANSITION");
  CHECK(absl::StrContains(r.status().message(), "cancelled"));
  CHECK(f.orders.Get(kTenant, o.id)->version == 2);
}

TEST_CASE("Orders::Transition requires a request_id", "[transaction][orders][transition]") {
  Fixture f;
  Order o = f.Create();
  for (const std::string& key : {std::string(), std::string(129, 'k')}) {
    INFO(key.size());
    app::Actor a = f.ActorFor("TransitionOrder");
    a.idempotency_key = key;
    RequireInvalidField(f.orders.Transition(a, o.id, OrderStatus::kPaid).status(), "request_id");
  }
  CHECK(f.orders.Get(kTenant, o.id)->status == OrderStatus::kPlaced);
}

TEST_CASE("Orders::Transition requires a valid to_status and order_id",
          "[transaction][orders][transition]") {
  Fixture f;
  Order o = f.Create();
  const int calls = f.repo.calls();
  for (int v : {0, 8, -1, 100}) {
    INFO(v);
    RequireInvalidField(f.Move(o.id, static_cast<OrderStatus>(v)).status(), "to_status");
  }
  RequireInvalidField(f.Move("not-a-uuid", OrderStatus::kPaid).status(), "order_id");
  CHECK(f.repo.calls() == calls);
  CHECK(f.repo.writes() == 1);
}

TEST_CASE("Orders::Transition of another tenant's order is NOT_FOUND",
          "[transaction][orders][transition]") {
  Fixture f;
  Order o = f.Create();
  app::Actor a = f.ActorFor("TransitionOrder");
  a.tenant_id = kOtherTenant;
  auto r = f.orders.Transition(a, o.id, OrderStatus::kPaid);
  REQUIRE(r.status().code() == absl::StatusCode::kNotFound);
  CHECK(ReasonOf(r.status()) == "ORDER_NOT_FOUND");
  CHECK(f.orders.Get(kTenant, o.id)->status == OrderStatus::kPlaced);
}

TEST_CASE("Orders surface repository failures unchanged", "[transaction][orders]") {
  Fixture f;
  Order o = f.Create();
  f.repo.FailWith(absl::UnavailableError("db down"));
  CHECK(f.orders.Create(f.ActorFor("CreateOrder"), NewOrder()).status().code() ==
        absl::StatusCode::kUnavailable);
  CHECK(f.Move(o.id, OrderStatus::kPaid).status().code() == absl::StatusCode::kUnavailable);
  CHECK(f.orders.Get(kTenant, o.id).status().code() == absl::StatusCode::kUnavailable);
}

}  // namespace

// ------------------------------------------------------------- Price quotes

namespace {

const std::string kQuoteKey = crm::common::PriceQuoteKey(std::string(40, 'q'));

std::string QuoteFor(const std::string& sku, std::int64_t price,
                     absl::Time expires = kNow + absl::Minutes(15),
                     const std::string& customer = kCustomer, const std::string& tenant = kTenant,
                     const std::string& currency = "CHF") {
  return crm::common::SignPriceQuote(
      kQuoteKey, crm::common::PriceQuoteClaims{"44444444-4444-4444-8444-444444444444", tenant,
                                               customer, sku, currency, price, 1990, expires});
}

struct QuotingFixture : Fixture {
  app::Orders quoting{repo, clock, ids, nullptr, nullptr, kQuoteKey};
  absl::StatusOr<Order> Place(Order o, const std::string& key = "") {
    return quoting.Create(ActorFor("CreateOrder", key), std::move(o));
  }
};

}  // namespace

TEST_CASE("A line citing a price quote is charged the quoted price", "[transaction][quotes]") {
  QuotingFixture f;
  Order o = NewOrder();
  o.lines[0].unit_price_minor = 0;  // left to the quote
  o.lines[0].price_quote = QuoteFor("SKU-1", 1500);
  auto placed = f.Place(o);
  INFO(placed.status().ToString());
  REQUIRE(placed.ok());
  CHECK(placed->lines[0].unit_price_minor == 1500);
  CHECK(placed->lines[0].price_quote_id == "44444444-4444-4444-8444-444444444444");
  CHECK(placed->lines[0].price_quote.empty());
  CHECK(placed->lines[1].price_quote_id.empty());
  CHECK(placed->total_minor == 2 * 1500 + 500 - 100);
  CHECK(f.quoting.Get(kTenant, placed->id)->lines[0].price_quote_id ==
        "44444444-4444-4444-8444-444444444444");
  // The same price given explicitly is accepted too.
  o.lines[0].unit_price_minor = 1500;
  CHECK(f.Place(o).ok());
}

TEST_CASE("Quotes for another price, sku, customer, tenant or currency are refused",
          "[transaction][quotes]") {
  QuotingFixture f;
  auto refused = [&](const std::string& quote, const std::string& reason, std::int64_t price = 0,
                     const std::string& field = "lines[0].price_quote") {
    Order o = NewOrder();
    o.lines[0].unit_price_minor = price;
    o.lines[0].price_quote = quote;
    absl::Status s = f.Place(o).status();
    INFO(s.ToString());
    CHECK(ReasonOf(s) == reason);
    CHECK(FieldOf(s) == field);
  };
  refused(QuoteFor("SKU-1", 1500), "INVALID_FIELD", 1990, "lines[0].unit_price_minor");
  refused(QuoteFor("SKU-2", 1500), "PRICE_QUOTE_INVALID");
  refused(QuoteFor("SKU-1", 1500, kNow + absl::Minutes(15), "55555555-5555-4555-8555-555555555555"),
          "PRICE_QUOTE_INVALID");
  refused(QuoteFor("SKU-1", 1500, kNow + absl::Minutes(15), kCustomer, kOtherTenant),
          "PRICE_QUOTE_INVALID");
  refused(QuoteFor("SKU-1", 1500, kNow + absl::Minutes(15), kCustomer, kTenant, "EUR"),
          "PRICE_QUOTE_INVALID");
  refused(QuoteFor("SKU-1", 1500, kNow - absl::Seconds(1)), "PRICE_QUOTE_EXPIRED");
  refused("pq1.forged.token", "PRICE_QUOTE_INVALID");
  refused(crm::common::SignPriceQuote(
              crm::common::PriceQuoteKey(std::string(40, 'x')),
              crm::common::VerifyPriceQuote(kQuoteKey, QuoteFor("SKU-1", 1), kNow).value()),
          "PRICE_QUOTE_INVALID");
  // Nothing was written by any of them.
  CHECK(f.quoting.List(kTenant, {})->items.empty());
  // A service without the key refuses quotes rather than ignoring them.
  Order o = NewOrder();
  o.lines[0].price_quote = QuoteFor("SKU-1", 1500);
  absl::Status s = f.orders.Create(f.ActorFor("CreateOrder"), o).status();
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("A retry after the quote expired answers the order placed", "[transaction][quotes]") {
  QuotingFixture f;
  Order o = NewOrder();
  o.lines[0].unit_price_minor = 0;
  o.lines[0].price_quote = QuoteFor("SKU-1", 1500, kNow + absl::Seconds(30));
  auto first = f.Place(o, "quoted-order");
  REQUIRE(first.ok());
  f.clock.Advance(absl::Minutes(5));
  auto retry = f.Place(o, "quoted-order");
  INFO(retry.status().ToString());
  REQUIRE(retry.ok());
  CHECK(retry->id == first->id);
  CHECK(retry->lines[0].unit_price_minor == 1500);
  // A new order with the expired quote is refused.
  CHECK(ReasonOf(f.Place(o).status()) == "PRICE_QUOTE_EXPIRED");
}

// ERP use cases (app::Erp) over an in-memory ErpRepository: validation,
// per-row outcomes in input order, what reaches the port.
#include "services/transaction/app/erp.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/transaction/fake_customer_book.h"
#include "tests/support/fakes/transaction/fake_erp_repository.h"

namespace {

using namespace crm::transaction;  // NOLINT
using app::IngestInput;
using app::IngestOutcome;
using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::testing::FixedClock;
using crm::testing::SequentialIdGenerator;
using domain::Order;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kCustomer[] = "33333333-3333-4333-8333-333333333333";
const absl::Time kNow = absl::FromUnixNanos(1700000000123456789);

using crm::testing::FakeErpRepository;

Order NewOrder(const std::string& external_id) {
  Order o;
  o.external_id = external_id;
  o.customer_id = kCustomer;
  o.currency_code = "chf";
  o.lines = {{"SKU-1", 2, 1990, 0, 0}, {"SKU-2", 1, 500, 100, 0}};
  o.channel = domain::SalesChannel::kErp;
  return o;
}

IngestInput In(Order o) { return IngestInput{std::move(o), std::nullopt, absl::OkStatus()}; }

IngestInput WithRef(Order o, app::CustomerIdentities who) {
  o.customer_id.clear();
  return IngestInput{std::move(o), std::move(who), absl::OkStatus()};
}

app::Actor TheActor() {
  return app::Actor{kTenant, "key-1", "req-1", "IngestOrders", "", ""};
}

struct Fixture {
  FakeErpRepository repo;
  FixedClock clock{kNow};
  SequentialIdGenerator ids;
  app::Erp erp{repo, clock, ids};
};

}  // namespace

TEST_CASE("Erp::Ingest validates every order and keeps input order", "[transaction][erp]") {
  Fixture f;
  std::vector<IngestInput> batch;
  batch.push_back(In(NewOrder("ERP-1")));
  batch.push_back(In(NewOrder("")));  // external id missing
  Order bad_currency = NewOrder("ERP-3");
  bad_currency.currency_code = "XXY";
  batch.push_back(In(bad_currency));
  batch.push_back(In(NewOrder("ERP-1")));  // repeats row 0
  IngestInput parse_failed;
  parse_failed.order.external_id = "ERP-5";
  parse_failed.parse_error = crm::common::InvalidField("channel", "unknown channel");
  batch.push_back(parse_failed);
  Order future = NewOrder("ERP-6");
  future.placed_time = kNow + absl::Hours(1);
  batch.push_back(In(future));
  Order unknown = NewOrder("ERP-7");
  unknown.lines[0].sku = "NOPE";
  batch.push_back(In(unknown));
  Order bad_total = NewOrder("ERP-8");
  bad_total.total_minor = 1;
  batch.push_back(In(bad_total));

  auto r = f.erp.Ingest(TheActor(), "b-1", std::move(batch));
  REQUIRE(r.ok());
  REQUIRE(r->results.size() == 8);
  for (size_t i = 0; i < r->results.size(); ++i) CHECK(r->results[i].index == static_cast<int>(i));
  CHECK(r->results[0].outcome == IngestOutcome::kCreated);
  CHECK(r->results[0].external_id == "ERP-1");
  CHECK(r->results[0].order_id == SequentialIdGenerator::IdFor(1));
  CHECK(r->results[1].outcome == IngestOutcome::kRejected);
  CHECK(r->results[1].field == "external_id");
  CHECK(r->results[1].reason == "INVALID_FIELD");
  CHECK(r->results[2].outcome == IngestOutcome::kRejected);
  CHECK(r->results[2].field == "currency_code");
  CHECK(r->results[3].outcome == IngestOutcome::kRejected);
  CHECK(r->results[3].field == "external_id");
  CHECK(r->results[3].message.find("repeats order 0") != std::string::npos);
  CHECK(r->results[4].outcome == IngestOutcome::kRejected);
  CHECK(r->results[4].field == "channel");
  CHECK(r->results[4].external_id == "ERP-5");
  CHECK(r->results[5].outcome == IngestOutcome::kRejected);
  CHECK(r->results[5].field == "placed_time");
  CHECK(r->results[6].outcome == IngestOutcome::kRejected);
  CHECK(r->results[6].reason == "UNKNOWN_SKU");
  CHECK(r->results[7].outcome == IngestOutcome::kRejected);
  CHECK(r->results[7].field == "total_minor");
  CHECK(r->created == 1);
  CHECK(r->already_existing == 0);
  CHECK(r->rejected == 7);

  // Only the valid orders reached the port, normalized and complete.
  REQUIRE(f.repo.calls == 1);
  CHECK(f.repo.last_batch_id == "b-1");
  CHECK(f.repo.last_method == "IngestOrders");
  REQUIRE(f.repo.last_rows.size() == 2);  // ERP-1 and ERP-7 (the SKU is the port's call)
  const auto& row = f.repo.last_rows[0];
  CHECK(row.index == 0);
  CHECK(row.order.currency_code == "CHF");
  CHECK(row.order.total_minor == 2 * 1990 + 500 - 100);
  CHECK(row.order.lines[1].line_total_minor == 400);
  CHECK(row.order.status == domain::OrderStatus::kPlaced);
  CHECK(row.order.version == 1);
  const absl::Time micros = absl::FromUnixMicros(absl::ToUnixMicros(kNow));
  CHECK(row.order.placed_time == micros);
  CHECK(row.order.create_time == micros);
  CHECK(row.order.update_time == micros);
}

TEST_CASE("Erp::Ingest is idempotent by external id through the port", "[transaction][erp]") {
  Fixture f;
  auto make = [] {
    std::vector<IngestInput> b;
    b.push_back(In(NewOrder("A")));
    b.push_back(In(NewOrder("B")));
    return b;
  };
  auto first = f.erp.Ingest(TheActor(), "", make());
  REQUIRE(first.ok());
  CHECK(first->created == 2);
  auto again = f.erp.Ingest(TheActor(), "", make());
  REQUIRE(again.ok());
  CHECK(again->created == 0);
  CHECK(again->already_existing == 2);
  CHECK(again->results[0].order_id == first->results[0].order_id);
  CHECK(again->results[1].order_id == first->results[1].order_id);
}

TEST_CASE("Erp::Ingest refuses whole batches it cannot take", "[transaction][erp]") {
  Fixture f;
  SECTION("more than 1,000 orders") {
    std::vector<IngestInput> batch;
    for (int i = 0; i <= app::kMaxIngestBatch; ++i) batch.push_back(In(NewOrder(absl::StrCat("E", i))));
    auto r = f.erp.Ingest(TheActor(), "", std::move(batch));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldOf(r.status()) == "orders");
    CHECK(f.repo.calls == 0);
  }
  SECTION("exactly 1,000 orders is fine") {
    std::vector<IngestInput> batch;
    for (int i = 0; i < app::kMaxIngestBatch; ++i) batch.push_back(In(NewOrder(absl::StrCat("E", i))));
    auto r = f.erp.Ingest(TheActor(), "", std::move(batch));
    REQUIRE(r.ok());
    CHECK(r->created == app::kMaxIngestBatch);
  }
  SECTION("a batch id that is too long") {
    auto r = f.erp.Ingest(TheActor(), std::string(129, 'b'), {});
    REQUIRE_FALSE(r.ok());
    CHECK(FieldOf(r.status()) == "batch_id");
  }
  SECTION("nothing valid: the port is not called") {
    std::vector<IngestInput> batch;
    batch.push_back(In(NewOrder("")));
    auto r = f.erp.Ingest(TheActor(), "", std::move(batch));
    REQUIRE(r.ok());
    CHECK(r->rejected == 1);
    CHECK(f.repo.calls == 0);
  }
  SECTION("an empty batch answers an empty report") {
    auto r = f.erp.Ingest(TheActor(), "", {});
    REQUIRE(r.ok());
    CHECK(r->results.empty());
  }
  SECTION("a repository error fails the batch") {
    f.repo.fail = crm::common::WithReason(absl::UnavailableError("db down"), "DEPENDENCY_UNAVAILABLE");
    std::vector<IngestInput> batch;
    batch.push_back(In(NewOrder("X")));
    auto r = f.erp.Ingest(TheActor(), "", std::move(batch));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kUnavailable);
  }
}

TEST_CASE("Erp::Export clamps the page size", "[transaction][erp]") {
  Fixture f;
  REQUIRE(f.erp.Export(kTenant, "", 0).ok());
  CHECK(f.repo.last_limit == app::kDefaultExportPage);
  REQUIRE(f.erp.Export(kTenant, "3", 5000).ok());
  CHECK(f.repo.last_limit == app::kMaxExportPage);
  CHECK(f.repo.last_cursor == "3");
  REQUIRE(f.erp.Export(kTenant, "", 7).ok());
  CHECK(f.repo.last_limit == 7);
  auto bad = f.erp.Export(kTenant, "", -1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(bad.status()) == "page_size");
}

// ---- customers of ingested orders: one directory call per batch ----

namespace {

constexpr char kMerged[] = "55555555-5555-4555-8555-555555555555";
constexpr char kSurvivor[] = "66666666-6666-4666-8666-666666666666";

class BookDirectory final : public app::CustomerDirectory {
 public:
  absl::StatusOr<app::ResolvedCustomer> Resolve(const app::Actor&, const app::CustomerIdentities&,
                                                bool) override {
    return absl::InternalError("ERP ingest resolves in batches only");
  }
  absl::StatusOr<std::vector<app::RefResolution>> ResolveBatch(
      const app::Actor& actor, const std::vector<app::CustomerRefInput>& refs,
      bool create) override {
    return book.ResolveBatch(actor, refs, create);
  }
  crm::testing::FakeCustomerBook book;
};

class Settings final : public app::OrderSettingsRepository {
 public:
  absl::StatusOr<app::OrderSettings> GetSettings(const std::string&) override { return s; }
  absl::StatusOr<app::OrderSettings> UpdateSettings(const app::Actor&, const app::OrderSettings&,
                                                    const std::string&, absl::Time) override {
    return s;
  }
  app::OrderSettings s;
};

struct ResolvingFixture {
  FakeErpRepository repo;
  FixedClock clock{kNow};
  SequentialIdGenerator ids;
  BookDirectory directory;
  Settings settings;
  app::Erp erp{repo, clock, ids, &directory, &settings};
  ResolvingFixture() {
    directory.book.AddCustomer(kTenant, kCustomer);
    directory.book.AddCustomer(kTenant, kSurvivor);
    directory.book.Merge(kTenant, kMerged, kSurvivor);
    directory.book.AddIdentity(kTenant, "erp:C-1", kCustomer);
  }
};

app::CustomerIdentities ErpNumber(const std::string& number) {
  app::CustomerIdentities who;
  who.external_id_source = "erp";
  who.external_id = number;
  return who;
}

}  // namespace

TEST_CASE("Erp::Ingest checks customer ids and resolves customer_ref in one call per batch",
          "[transaction][erp][customers]") {
  ResolvingFixture f;
  std::vector<IngestInput> batch;
  batch.push_back(In(NewOrder("E-1")));                 // known customer id
  Order unknown = NewOrder("E-2");
  unknown.customer_id = "77777777-7777-4777-8777-777777777777";
  batch.push_back(In(unknown));                         // no such customer
  Order merged = NewOrder("E-3");
  merged.customer_id = kMerged;
  batch.push_back(In(merged));                          // merged away: the survivor
  batch.push_back(WithRef(NewOrder("E-4"), ErpNumber("C-1")));  // by the ERP's number
  batch.push_back(WithRef(NewOrder("E-5"), ErpNumber("C-2")));  // unknown number, no create
  auto r = f.erp.Ingest(TheActor(), "b", std::move(batch));
  REQUIRE(r.ok());
  CHECK(f.directory.book.calls == 1);
  REQUIRE(f.directory.book.batches[0].size() == 5);
  CHECK_FALSE(f.directory.book.creates[0]);
  CHECK(r->results[0].outcome == IngestOutcome::kCreated);
  CHECK(r->results[1].outcome == IngestOutcome::kRejected);
  CHECK(r->results[1].reason == "CUSTOMER_NOT_FOUND");
  CHECK(r->results[1].field == "customer_id");
  CHECK(r->results[2].outcome == IngestOutcome::kCreated);
  CHECK(r->results[3].outcome == IngestOutcome::kCreated);
  CHECK(r->results[4].outcome == IngestOutcome::kRejected);
  CHECK(r->results[4].reason == "CUSTOMER_NOT_RESOLVED");
  CHECK(r->results[4].field == "customer_ref");
  CHECK(r->created == 3);
  CHECK(r->rejected == 2);
  REQUIRE(f.repo.last_rows.size() == 3);
  CHECK(f.repo.last_rows[0].order.customer_id == kCustomer);
  CHECK(f.repo.last_rows[1].order.customer_id == kSurvivor);
  CHECK(f.repo.last_rows[2].order.customer_id == kCustomer);
}

TEST_CASE("Erp::Ingest creates unknown customers under the tenant's settings, once",
          "[transaction][erp][customers]") {
  ResolvingFixture f;
  f.settings.s.create_unknown_customers = true;
  auto batch = [] {
    std::vector<IngestInput> b;
    b.push_back(WithRef(NewOrder("E-1"), ErpNumber("C-9")));
    b.push_back(WithRef(NewOrder("E-2"), ErpNumber("C-9")));  // same customer, same batch
    return b;
  };
  auto r = f.erp.Ingest(TheActor(), "b", batch());
  REQUIRE(r.ok());
  CHECK(r->created == 2);
  CHECK(f.directory.book.creates[0]);
  CHECK(absl::StartsWith(f.directory.book.keys[0], "erp-ingest/"));
  CHECK(f.directory.book.created == 1);
  CHECK(f.repo.last_rows[0].order.customer_id == f.repo.last_rows[1].order.customer_id);

  // The same batch again: every order exists, customer-store is not asked.
  auto again = f.erp.Ingest(TheActor(), "b", batch());
  REQUIRE(again.ok());
  CHECK(again->already_existing == 2);
  CHECK(f.directory.book.calls == 1);
  CHECK(f.directory.book.created == 1);
}

TEST_CASE("Erp::Ingest: customer-store down fails the batch, customer_ref needs a directory",
          "[transaction][erp][customers]") {
  ResolvingFixture f;
  f.directory.book.fail = absl::UnavailableError("down");
  std::vector<IngestInput> b;
  b.push_back(In(NewOrder("E-1")));
  CHECK(f.erp.Ingest(TheActor(), "b", std::move(b)).status().code() ==
        absl::StatusCode::kUnavailable);
  CHECK(f.repo.calls == 0);

  Fixture bare;
  std::vector<IngestInput> c;
  c.push_back(WithRef(NewOrder("E-1"), ErpNumber("C-1")));
  Order both = NewOrder("E-2");
  c.push_back(IngestInput{both, ErpNumber("C-1"), absl::OkStatus()});
  auto r = bare.erp.Ingest(TheActor(), "b", std::move(c));
  REQUIRE(r.ok());
  CHECK(r->results[0].outcome == IngestOutcome::kRejected);
  CHECK(r->results[0].field == "customer_ref");
  CHECK(r->results[1].outcome == IngestOutcome::kRejected);
}

// CustomerImporter (app/import.h) over in-memory fakes.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/customer_store/app/import.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/customer_store/fake_import_repository.h"
#include "tests/support/fakes/customer_store/fake_view_cache.h"

namespace {

using namespace crm::customer_store;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::testing::FakeImportRepository;
using crm::testing::FakeViewCache;
using crm::testing::FixedClock;
using crm::testing::SequentialIdGenerator;
using domain::Customer;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kExisting[] = "00000000-0000-4000-8000-0000000000ee";

struct Fixture {
  FakeImportRepository repo;
  FakeViewCache cache;
  FixedClock clock{absl::FromUnixSeconds(1700000000)};
  SequentialIdGenerator ids{1000};
  app::CustomerImporter importer{repo, cache, clock, ids};
  app::Actor actor{kTenant, "k0123456789abcdef", "", "ImportCustomers"};

  Fixture() {
    Customer c;
    c.id = kExisting;
    c.given_name = "Ada";
    c.emails = {"ada@example.com"};
    c.version = 3;
    repo.Put(kTenant, c);
  }
};

app::ImportInputRow Good(int64_t line, std::string email, std::string given = "New") {
  app::ImportInputRow r;
  r.line = line;
  Customer c;
  c.given_name = std::move(given);
  c.emails = {std::move(email)};
  r.customer = c;
  r.present_paths = {"given_name", "emails"};
  return r;
}

app::ImportInputRow Unreadable(int64_t line) {
  app::ImportInputRow r;
  r.line = line;
  r.customer = crm::common::WithReason(absl::InvalidArgumentError("line is not JSON"),
                                       "MALFORMED_BODY");
  return r;
}

TEST_CASE("CustomerImporter refuses an invalid batch id before any work", "[importer]") {
  Fixture f;
  for (std::string bad : {std::string(), std::string("a b"), std::string(129, 'x'),
                          std::string("../etc")}) {
    INFO(bad);
    std::vector<app::ImportInputRow> rows;
    rows.push_back(Good(1, "x@example.com"));
    auto r = f.importer.Import(f.actor, bad, std::move(rows));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldOf(r.status()) == "batch_id");
  }
  CHECK(f.repo.calls() == 0);
}

TEST_CASE("CustomerImporter refuses more than kMaxImportRows rows", "[importer]") {
  Fixture f;
  std::vector<app::ImportInputRow> rows(static_cast<size_t>(domain::kMaxImportRows) + 1);
  for (size_t i = 0; i < rows.size(); ++i) rows[i].line = static_cast<int64_t>(i) + 1;
  auto r = f.importer.Import(f.actor, "too-many", std::move(rows));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(r.status()) == "rows");
  CHECK(f.repo.calls() == 0);
}

TEST_CASE("CustomerImporter keeps parse errors with their lines and reports validation errors "
          "per row",
          "[importer]") {
  Fixture f;
  std::vector<app::ImportInputRow> rows;
  rows.push_back(Good(1, "one@example.com"));
  rows.push_back(Unreadable(2));
  rows.push_back(Good(4, "not-an-email"));  // line 3 was blank
  rows.push_back(Good(5, "five@EXAMPLE.com"));
  app::ImportInputRow bad_locale = Good(6, "six@example.com");
  bad_locale.customer->locale = "!!";
  bad_locale.present_paths.push_back("locale");
  rows.push_back(bad_locale);
  rows.push_back(Unreadable(7));
  auto r = f.importer.Import(f.actor, "b-1", std::move(rows));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->batch_id == "b-1");
  CHECK(r->rows_received == 6);
  CHECK(r->created == 2);
  CHECK(r->updated == 0);
  CHECK(r->failed == 4);
  REQUIRE(r->errors.size() == 4);
  CHECK(r->errors[0].line == 2);
  CHECK(r->errors[0].reason == "MALFORMED_BODY");
  CHECK(r->errors[0].field.empty());
  CHECK(r->errors[1].line == 4);
  CHECK(r->errors[1].field == "emails[0]");
  CHECK(r->errors[1].reason == "INVALID_FIELD");
  CHECK(r->errors[2].line == 6);
  CHECK(r->errors[2].field == "locale");
  CHECK(r->errors[3].line == 7);

  // Only the good rows reach the repository, normalized, with ids and times.
  auto call = f.repo.last_call();
  REQUIRE(call.has_value());
  CHECK(call->rows_received == 6);
  CHECK(call->row_errors.size() == 4);
  REQUIRE(call->rows.size() == 2);
  CHECK(call->rows[0].line == 1);
  CHECK(call->rows[1].line == 5);
  CHECK(call->rows[1].customer.emails == std::vector<std::string>{"five@example.com"});
  for (const auto& row : call->rows) {
    CHECK(crm::common::IsUuid(row.customer.id));
    CHECK(row.customer.version == 1);
    CHECK(row.customer.create_time == f.clock.Now());
    CHECK(row.customer.update_time == f.clock.Now());
  }
  CHECK(call->rows[0].customer.id != call->rows[1].customer.id);
}

TEST_CASE("CustomerImporter updates a matched customer and invalidates its view only",
          "[importer]") {
  Fixture f;
  auto g = f.cache.Get(kTenant, kExisting);
  f.cache.Put(kTenant, kExisting, g.generation, "view");
  std::vector<app::ImportInputRow> rows;
  app::ImportInputRow upd;
  upd.line = 1;
  Customer c;
  c.family_name = "Lovelace";
  c.emails = {"ADA@example.com"};
  upd.customer = c;
  upd.present_paths = {"family_name"};
  rows.push_back(upd);
  rows.push_back(Good(2, "new@example.com"));
  f.clock.Advance(absl::Minutes(5));
  auto r = f.importer.Import(f.actor, "b-2", std::move(rows));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->created == 1);
  CHECK(r->updated == 1);
  CHECK(r->failed == 0);
  CHECK(r->updated_ids == std::vector<std::string>{kExisting});
  auto stored = f.repo.Find(kTenant, kExisting);
  REQUIRE(stored.has_value());
  CHECK(stored->given_name == "Ada");
  CHECK(stored->family_name == "Lovelace");
  CHECK(stored->version == 4);
  CHECK(stored->update_time == f.clock.Now());
  CHECK_FALSE(f.cache.Get(kTenant, kExisting).hit.has_value());
  CHECK(f.cache.invalidate_calls() == 1);
}

TEST_CASE("CustomerImporter: a replayed batch answers with the stored report", "[importer]") {
  Fixture f;
  std::vector<app::ImportInputRow> rows;
  rows.push_back(Good(1, "r1@example.com"));
  rows.push_back(Unreadable(2));
  auto first = f.importer.Import(f.actor, "replay-1", rows);
  REQUIRE(first.ok());
  CHECK_FALSE(first->replayed);
  size_t count = f.repo.CustomerCount(kTenant);
  auto second = f.importer.Import(f.actor, "replay-1", rows);
  REQUIRE(second.ok());
  CHECK(second->replayed);
  CHECK(second->created == first->created);
  CHECK(second->failed == first->failed);
  CHECK(f.repo.CustomerCount(kTenant) == count);
}

}  // namespace

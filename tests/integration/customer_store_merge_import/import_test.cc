// Bulk import against the private PostgreSQL (app role, RLS on):
// PgCustomerRepository::Import driven by the CustomerImporter use case.
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "libs/common/clock.h"
#include "services/customer_store/app/import.h"
#include "tests/integration/customer_store/cs_env.h"

namespace crm::customer_store::mitest {

struct MiEnv;
MiEnv& Env();  // merge_test.cc: schema reset once per process + app pool

namespace {

using domain::Customer;
using itest::ActorOf;
using itest::CountIn;
using itest::CountOutbox;
using itest::NewTenant;

// Local stand-ins for what MiEnv holds (kept separate to avoid sharing its layout).
class NullCache final : public app::ViewCache {
 public:
  Lookup Get(const std::string&, const std::string&) override { return {}; }
  void Put(const std::string&, const std::string&, const std::string&,
           const std::string&) override {}
  void Invalidate(const std::string&, const std::string&) override {}
};

storage::PgCustomerRepository& Repo() {
  static storage::PgCustomerRepository* repo = [] {
    Env();  // resets the schema first
    auto pool = test_support::MakeAppPool(4, storage::PgCustomerRepository::Queries());
    if (!pool.ok()) throw std::runtime_error("app pool: " + pool.status().ToString());
    return new storage::PgCustomerRepository(*std::move(pool).value().release());
  }();
  return *repo;
}

absl::StatusOr<app::ImportReport> RunImport(const std::string& tenant, const std::string& batch,
                                            std::vector<app::ImportInputRow> rows) {
  static NullCache cache;
  static common::SystemClock clock;
  static common::RandomIdGenerator ids;
  app::CustomerImporter importer(Repo(), cache, clock, ids);
  return importer.Import(ActorOf(tenant, "ImportCustomers"), batch, std::move(rows));
}

Customer Insert(const std::string& tenant, Customer c) {
  c.id = common::NewUuid();
  c.version = 1;
  c.create_time = c.update_time = absl::FromUnixMicros(1700000000000000);
  auto r = itest::Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

// Paths as the API derives them (PresentPaths of proto_mapping.cc).
app::ImportInputRow Row(int64_t line, const Customer& c) {
  app::ImportInputRow r;
  r.line = line;
  r.customer = c;
  if (!c.given_name.empty()) r.present_paths.push_back("given_name");
  if (!c.family_name.empty()) r.present_paths.push_back("family_name");
  if (!c.emails.empty()) r.present_paths.push_back("emails");
  if (!c.phones.empty()) r.present_paths.push_back("phones");
  if (!c.external_ids.empty()) r.present_paths.push_back("external_ids");
  return r;
}

std::string Phone(int i) { return absl::StrCat("+4144", 1000000 + i); }  // 11 digits

int64_t BatchEvents(const std::string& tenant, const std::string& batch, const std::string& type = "") {
  std::string sql = absl::StrCat(
      "SELECT count(*) FROM customer_store.outbox WHERE payload->>'import_batch' = '", batch, "'");
  if (!type.empty()) absl::StrAppend(&sql, " AND event_type = '", type, "'");
  return CountIn(tenant, sql);
}

std::string OwnerOf(const std::string& tenant, domain::IdentityKind kind, const std::string& value,
                    const std::string& source = "") {
  auto r = Repo().FindOwners(tenant, {{kind, value, source, absl::InfinitePast()}});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  REQUIRE(r->size() <= 1);
  return r->empty() ? "" : r->front();
}

TEST_CASE("Import of 1,000 rows: creates, updates by identity, row errors, replay", "[import]") {
  const std::string tenant = NewTenant();
  const std::string tag = common::NewUuid().substr(0, 8);
  // 100 existing customers each matched by email, phone or external id.
  std::vector<Customer> by_email, by_phone, by_ext;
  for (int k = 0; k < 100; ++k) {
    Customer e;
    e.given_name = "E";
    e.emails = {absl::StrCat("old", k, ".", tag, "@example.com")};
    by_email.push_back(Insert(tenant, e));
    Customer p;
    p.given_name = "P";
    p.phones = {Phone(k)};
    by_phone.push_back(Insert(tenant, p));
    Customer x;
    x.given_name = "X";
    x.external_ids = {{"erp", absl::StrCat("ERP-", tag, "-", k)}};
    by_ext.push_back(Insert(tenant, x));
  }
  const int64_t outbox_before = CountOutbox(tenant);

  std::vector<app::ImportInputRow> rows;
  std::set<int64_t> bad_lines;
  std::vector<std::string> new_emails;
  for (int i = 0; i < 1000; ++i) {
    const int64_t line = i + 1;
    const int k = i / 10;
    Customer c;
    switch (i % 10) {
      case 0:  // invalid
        c.given_name = "Bad";
        c.emails = {absl::StrCat("not-an-email-", i)};
        bad_lines.insert(line);
        break;
      case 1:  // existing by email, adds a phone
        c.family_name = "Mailmatch";
        c.emails = {absl::StrCat("OLD", k, ".", tag, "@Example.com")};
        c.phones = {Phone(5000 + k)};
        break;
      case 2:  // existing by phone, adds an email
        c.family_name = "Phonematch";
        c.phones = {Phone(k)};
        c.emails = {absl::StrCat("added", k, ".", tag, "@example.com")};
        break;
      case 3:  // existing by external id
        c.family_name = "Extmatch";
        c.external_ids = {{"erp", absl::StrCat("ERP-", tag, "-", k)}};
        break;
      default:  // new
        c.given_name = absl::StrCat("New", i);
        c.emails = {absl::StrCat("new", i, ".", tag, "@example.com")};
        new_emails.push_back(c.emails[0]);
        break;
    }
    rows.push_back(Row(line, c));
  }
  const std::string batch = "erp-" + tag;
  auto r = RunImport(tenant, batch, rows);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK_FALSE(r->replayed);
  CHECK(r->batch_id == batch);
  CHECK(r->rows_received == 1000);
  CHECK(r->created == 600);
  CHECK(r->updated == 300);
  CHECK(r->failed == 100);
  REQUIRE(r->errors.size() == 100);
  std::set<int64_t> error_lines;
  for (const auto& e : r->errors) {
    error_lines.insert(e.line);
    CHECK(e.field == "emails[0]");
    CHECK(e.reason == "INVALID_FIELD");
  }
  CHECK(error_lines == bad_lines);
  CHECK(std::is_sorted(r->errors.begin(), r->errors.end(),
                       [](const auto& a, const auto& b) { return a.line < b.line; }));

  CHECK(itest::CountCustomers(tenant) == 300 + 600);
  for (int k = 0; k < 100; ++k) {
    auto e = Repo().Get(tenant, by_email[k].id);
    REQUIRE(e.ok());
    CHECK(e->version == by_email[k].version + 1);
    CHECK(e->given_name == "E");
    CHECK(e->family_name == "Mailmatch");
    CHECK(e->emails == by_email[k].emails);
    CHECK(e->phones == std::vector<std::string>{Phone(5000 + k)});
    auto p = Repo().Get(tenant, by_phone[k].id);
    REQUIRE(p.ok());
    CHECK(p->version == by_phone[k].version + 1);
    CHECK(p->family_name == "Phonematch");
    CHECK(p->phones == by_phone[k].phones);
    CHECK(p->emails == std::vector<std::string>{absl::StrCat("added", k, ".", tag, "@example.com")});
    auto x = Repo().Get(tenant, by_ext[k].id);
    REQUIRE(x.ok());
    CHECK(x->version == by_ext[k].version + 1);
    CHECK(x->family_name == "Extmatch");
    CHECK(x->external_ids == by_ext[k].external_ids);
  }
  for (size_t n = 0; n < new_emails.size(); n += 37) {
    CHECK_FALSE(OwnerOf(tenant, domain::IdentityKind::kEmail, new_emails[n]).empty());
  }
  CHECK(OwnerOf(tenant, domain::IdentityKind::kPhone, Phone(5007)) == by_email[7].id);

  CHECK(BatchEvents(tenant, batch) == 900);
  CHECK(BatchEvents(tenant, batch, "customer.created") == 600);
  CHECK(BatchEvents(tenant, batch, "customer.updated") == 300);
  CHECK(CountOutbox(tenant) == outbox_before + 900);
  CHECK(CountIn(tenant, "SELECT count(DISTINCT customer_id) FROM customer_store.outbox WHERE "
                        "payload->>'import_batch' = '" + batch + "'") == 900);
  CHECK(itest::CountAudit(tenant, "ImportCustomers", "OK") == 1);

  // Replay: same batch id, the stored report, nothing loaded again.
  auto again = RunImport(tenant, batch, rows);
  INFO(again.status().ToString());
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->rows_received == 1000);
  CHECK(again->created == 600);
  CHECK(again->updated == 300);
  CHECK(again->failed == 100);
  CHECK(again->errors.size() == 100);
  CHECK(itest::CountCustomers(tenant) == 900);
  CHECK(BatchEvents(tenant, batch) == 900);
  CHECK(CountOutbox(tenant) == outbox_before + 900);
  auto e0 = Repo().Get(tenant, by_email[0].id);
  REQUIRE(e0.ok());
  CHECK(e0->version == by_email[0].version + 1);
}

TEST_CASE("Import racing a concurrent insert of its identities is all or nothing",
          "[import][concurrency]") {
  const std::string tenant = NewTenant();
  for (int round = 0; round < 5; ++round) {
    INFO("round " << round);
    const std::string tag = common::NewUuid().substr(0, 8);
    const int kRows = 300;
    std::vector<app::ImportInputRow> rows;
    std::vector<std::string> emails;
    for (int i = 0; i < kRows; ++i) {
      Customer c;
      c.given_name = absl::StrCat("R", i);
      c.emails = {absl::StrCat("race", i, ".", tag, "@example.com")};
      emails.push_back(c.emails[0]);
      rows.push_back(Row(i + 1, c));
    }
    const int64_t customers_before = itest::CountCustomers(tenant);
    const std::string batch = "race-" + tag;
    std::atomic<bool> go{false};
    auto importer = std::async(std::launch::async, [&] {
      while (!go.load()) std::this_thread::yield();
      return RunImport(tenant, batch, rows);
    });
    auto inserter = std::async(std::launch::async, [&] {
      while (!go.load()) std::this_thread::yield();
      int ok = 0;
      for (int i = kRows - 1; i >= kRows - 40; --i) {
        Customer c = itest::NewCustomer("Racer", {emails[i]});
        auto r = itest::Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c);
        if (r.ok()) {
          ++ok;
        } else if (r.status().code() != absl::StatusCode::kAlreadyExists) {
          return -1000 - static_cast<int>(r.status().code());
        }
      }
      return ok;
    });
    go = true;
    REQUIRE(importer.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    REQUIRE(inserter.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    auto report = importer.get();
    const int inserted = inserter.get();
    INFO("import: " << report.status().ToString() << " inserted: " << inserted);
    REQUIRE(inserted >= 0);
    const int64_t customers_after = itest::CountCustomers(tenant);
    if (report.ok()) {
      CHECK(report->created + report->updated + report->failed == kRows);
      CHECK(customers_after == customers_before + report->created + inserted);
      CHECK(BatchEvents(tenant, batch) == report->created + report->updated);
      // Every identity of the batch has exactly one owner.
      for (const auto& e : emails) CHECK_FALSE(OwnerOf(tenant, domain::IdentityKind::kEmail, e).empty());
    } else {
      CHECK(report.status().code() == absl::StatusCode::kAborted);
      CHECK(common::ReasonOf(report.status()) == "IMPORT_BATCH_CONFLICT");
      CHECK(customers_after == customers_before + inserted);
      CHECK(BatchEvents(tenant, batch) == 0);
      CHECK(CountIn(tenant, "SELECT count(*) FROM customer_store.import_batches WHERE batch_id = '" +
                                batch + "'") == 0);
      // A failed batch is not recorded: the same id can run again.
      auto retry = RunImport(tenant, batch, rows);
      INFO(retry.status().ToString());
      REQUIRE(retry.ok());
      CHECK_FALSE(retry->replayed);
    }
  }
}

TEST_CASE("Import in tenant B never touches tenant A's customers with the same emails",
          "[import][tenant]") {
  const std::string ta = NewTenant(), tb = NewTenant();
  const std::string tag = common::NewUuid().substr(0, 8);
  std::vector<Customer> in_a;
  std::vector<app::ImportInputRow> rows;
  for (int i = 0; i < 20; ++i) {
    Customer c;
    c.given_name = "A";
    c.emails = {absl::StrCat("shared", i, ".", tag, "@example.com")};
    in_a.push_back(Insert(ta, c));
    Customer row;
    row.given_name = "B";
    row.emails = c.emails;
    rows.push_back(Row(i + 1, row));
  }
  const int64_t outbox_a = CountOutbox(ta);
  auto r = RunImport(tb, "shared-" + tag, rows);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->created == 20);
  CHECK(r->updated == 0);
  CHECK(r->failed == 0);
  CHECK(itest::CountCustomers(tb) == 20);
  CHECK(itest::CountCustomers(ta) == 20);
  CHECK(CountOutbox(ta) == outbox_a);
  for (const auto& c : in_a) {
    auto g = Repo().Get(ta, c.id);
    REQUIRE(g.ok());
    CHECK(g->version == c.version);
    CHECK(g->given_name == "A");
    const std::string owner_b = OwnerOf(tb, domain::IdentityKind::kEmail, c.emails[0]);
    CHECK_FALSE(owner_b.empty());
    CHECK(owner_b != c.id);
    CHECK(OwnerOf(ta, domain::IdentityKind::kEmail, c.emails[0]) == c.id);
  }
  // The same batch id in tenant A is a different batch.
  auto ra = RunImport(ta, "shared-" + tag, rows);
  REQUIRE(ra.ok());
  CHECK_FALSE(ra->replayed);
  CHECK(ra->updated == 20);
  CHECK(ra->created == 0);
}

}  // namespace
}  // namespace crm::customer_store::mitest

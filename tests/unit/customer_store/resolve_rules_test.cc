// Batch resolution of customer references (pure planning): ids, merges,
// identities, duplicates within a batch, create or not.
#include "services/customer_store/domain/resolve_rules.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace {

using namespace crm::customer_store::domain;  // NOLINT

constexpr char kA[] = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
constexpr char kB[] = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
constexpr char kGone[] = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";

RefQuery ById(const std::string& id) {
  RefQuery q;
  q.customer_id = id;
  return q;
}
RefQuery ByEmail(const std::string& email, const std::string& phone = "") {
  RefQuery q;
  q.email = email;
  q.phone = phone;
  return q;
}

std::vector<absl::StatusOr<ParsedRef>> Parse(const std::vector<RefQuery>& qs) {
  std::vector<absl::StatusOr<ParsedRef>> out;
  for (const auto& q : qs) out.push_back(ParseRef(q));
  return out;
}

IdentityKey Email(const std::string& e) { return {static_cast<int>(IdentityKind::kEmail), "", e}; }

}  // namespace

TEST_CASE("ParseRef", "[customer_store][resolve]") {
  CHECK(ParseRef(ById(kA))->customer_id == kA);
  CHECK(ParseRef(ById("AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA"))->customer_id == kA);
  CHECK(crm::common::FieldOf(ParseRef(ById("nope")).status()) == "customer_id");
  RefQuery both = ById(kA);
  both.email = "x@example.com";
  CHECK(crm::common::FieldOf(ParseRef(both).status()) == "customer_id");
  CHECK(crm::common::FieldOf(ParseRef(RefQuery{}).status()) == "customer_id");
  auto p = ParseRef(ByEmail(" Ada@Example.COM ", "+41 44 668 18 00"));
  REQUIRE(p.ok());
  REQUIRE(p->keys.size() == 2);
  CHECK(std::get<2>(p->keys[0]) == "ada@example.com");
  CHECK(std::get<2>(p->keys[1]) == "+41446681800");
  CHECK(crm::common::FieldOf(ParseRef(ByEmail("nope")).status()) == "email");
  RefQuery x;
  x.external_id = "C-1";
  CHECK(crm::common::FieldOf(ParseRef(x).status()) == "external_id_source");
  x.external_id_source = "erp";
  CHECK(ParseRef(x).ok());
}

TEST_CASE("PlanResolution: ids, merges, owners, conflicts", "[customer_store][resolve]") {
  RefLookup lookup;
  lookup.ids[kA] = kA;
  lookup.ids[kGone] = kB;  // merged into B
  lookup.owners[Email("a@example.com")] = kA;
  lookup.owners[Email("b@example.com")] = kB;
  auto refs = Parse({ById(kA), ById(kGone), ById(kB), ByEmail("a@example.com"),
                     ByEmail("a@example.com"), ByEmail("nope"),
                     []{ RefQuery q = ByEmail("a@example.com"); q.phone = "+41446681800"; return q; }(),
                     [] { RefQuery q; q.email = "a@example.com"; return q; }()});
  // refs[6]: one known identity + an unknown one -> the owner; conflict below.
  auto plan = PlanResolution(refs, lookup, false, [] { return std::string("new"); });
  REQUIRE(plan.results.size() == refs.size());
  CHECK(plan.results[0].outcome == RefOutcome::kFound);
  CHECK(plan.results[1].outcome == RefOutcome::kMerged);
  CHECK(plan.results[1].customer_id == kB);
  CHECK(plan.results[2].outcome == RefOutcome::kNotFound);  // B not asked for: absent
  CHECK(plan.results[2].reason == "CUSTOMER_NOT_FOUND");
  CHECK(plan.results[3].outcome == RefOutcome::kFound);
  CHECK(plan.results[3].customer_id == kA);
  CHECK(plan.results[5].outcome == RefOutcome::kInvalid);
  CHECK(plan.results[5].field == "email");
  CHECK(plan.results[6].outcome == RefOutcome::kFound);
  CHECK(plan.creates.empty());

  auto conflict = Parse({ByEmail("a@example.com"), ByEmail("b@example.com")});
  RefQuery both;
  both.email = "a@example.com";
  both.external_id_source = "erp";
  both.external_id = "B";
  lookup.owners[{static_cast<int>(IdentityKind::kExternalId), "erp", "B"}] = kB;
  auto c = PlanResolution(Parse({both}), lookup, true, [] { return std::string("new"); });
  CHECK(c.results[0].outcome == RefOutcome::kConflict);
  CHECK(c.results[0].reason == "CUSTOMER_REF_CONFLICT");
  CHECK(c.creates.empty());
}

TEST_CASE("PlanResolution: missing identities create one customer per person",
          "[customer_store][resolve]") {
  RefLookup lookup;
  int next = 0;
  auto ids = [&] { return absl::StrCat("new-", ++next); };
  RefQuery named = ByEmail("x@example.com");
  named.given_name = "Xena";
  auto refs = Parse({named, ByEmail("x@example.com", "+41446681800"), ByEmail("", "+41446681800"),
                     ByEmail("y@example.com")});
  SECTION("without create: CUSTOMER_NOT_RESOLVED") {
    auto plan = PlanResolution(refs, lookup, false, ids);
    for (const auto& r : plan.results) {
      CHECK(r.outcome == RefOutcome::kNotFound);
      CHECK(r.reason == "CUSTOMER_NOT_RESOLVED");
    }
    CHECK(plan.creates.empty());
    CHECK(next == 0);
  }
  SECTION("with create: references sharing an identity are one customer") {
    auto plan = PlanResolution(refs, lookup, true, ids);
    REQUIRE(plan.creates.size() == 2);
    const Customer& x = plan.creates[0].customer;
    CHECK(x.id == "new-1");
    CHECK(x.given_name == "Xena");
    CHECK(x.emails == std::vector<std::string>{"x@example.com"});
    CHECK(x.phones == std::vector<std::string>{"+41446681800"});
    CHECK(plan.creates[0].refs == std::vector<int>{0, 1, 2});
    CHECK(plan.creates[1].customer.emails == std::vector<std::string>{"y@example.com"});
    for (int i = 0; i < 3; ++i) {
      CHECK(plan.results[i].outcome == RefOutcome::kCreated);
      CHECK(plan.results[i].customer_id == "new-1");
    }
    CHECK(plan.results[3].customer_id == "new-2");
  }
}

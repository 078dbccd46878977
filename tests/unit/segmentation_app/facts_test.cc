// The segmentation engine's fact use case (app/facts.h) over the in-memory
// store: behaviour facts once per event id, stitched to a customer by
// customer.identified (before or after the link), following merges and
// erasure, written in order with the customer changes around them.
#include "services/segmentation/app/facts.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/id.h"
#include "tests/support/fakes/segmentation/fake_segmentation_store.h"

namespace {

using crm::events::BehaviourFact;
using crm::events::CustomerChange;
using crm::events::CustomerIdentified;
using crm::segmentation::app::Fact;
using crm::segmentation::app::Facts;
using Kind = CustomerChange::Kind;

const absl::Time kT0 = absl::FromUnixSeconds(1'770'000'000);

std::string NewId() { return crm::common::NewUuid(); }

BehaviourFact Event(const std::string& tenant, const std::string& customer,
                    const std::string& visitor, std::string type = "product.viewed") {
  BehaviourFact f;
  f.tenant_id = tenant;
  f.event_id = NewId();
  f.type = std::move(type);
  f.customer_id = customer;
  f.visitor_id = visitor;
  f.occurred_time = kT0;
  f.category_path = {"Music", "Jazz"};
  return f;
}

CustomerIdentified Identified(const std::string& tenant, const std::string& customer,
                              const std::string& visitor) {
  return {tenant, NewId(), customer, visitor};
}

CustomerChange Change(Kind kind, const std::string& tenant, const std::string& customer,
                      const std::string& other = "") {
  CustomerChange c;
  c.kind = kind;
  c.tenant_id = tenant;
  c.event_id = NewId();
  c.customer_id = customer;
  c.other_id = other;
  if (kind == Kind::kErased) c.erased_ids = {customer};
  return c;
}

struct Fixture {
  crm::testing::FakeSegmentationStore store;
  Facts facts{store};

  void ApplyAll(const std::vector<Fact>& batch) {
    for (const absl::Status& s : facts.Apply(batch)) REQUIRE(s.ok());
  }
  size_t CountOf(const std::string& tenant, const std::string& customer) {
    auto events = store.BehaviourOf(tenant, {customer});
    REQUIRE(events.ok());
    for (const auto& e : *events) CHECK(e.customer_id == customer);
    return events->size();
  }
};

TEST_CASE_METHOD(Fixture, "behaviour facts are kept once per event id",
                 "[segmentation][facts][behaviour]") {
  const std::string tenant = NewId(), c = NewId();
  const BehaviourFact f = Event(tenant, c, "");
  ApplyAll({f, f, Event(tenant, c, "v", "x.signup")});
  ApplyAll({f});
  CHECK(CountOf(tenant, c) == 2);
  auto all = store.Behaviour(tenant);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK(std::get<std::string>(all->front().event.properties.at("category")) == "Music/Jazz");
  CHECK(store.Behaviour(NewId())->empty());  // another tenant
}

TEST_CASE_METHOD(Fixture, "anonymous facts count for the customer the visitor is identified as",
                 "[segmentation][facts][behaviour]") {
  const std::string tenant = NewId(), c = NewId();
  const CustomerIdentified link = Identified(tenant, c, "v1");
  // Before the link, after it, and anonymous of another visitor.
  ApplyAll({Event(tenant, "", "v1"), Event(tenant, "", "v1"), link, Event(tenant, "", "v1"),
            Event(tenant, "", "v2")});
  CHECK(CountOf(tenant, c) == 3);
  ApplyAll(
      {link, Identified(tenant, NewId(), "v1")});  // replayed; a later link of v1 changes nothing
  CHECK(CountOf(tenant, c) == 3);
  CHECK(store.Behaviour(tenant)->size() == 3);  // the anonymous fact of v2 is not read
}

TEST_CASE_METHOD(Fixture, "a merge moves behaviour to the survivor, an unmerge gives it back",
                 "[segmentation][facts][behaviour]") {
  const std::string tenant = NewId(), a = NewId(), b = NewId();
  ApplyAll({Event(tenant, a, ""), Identified(tenant, a, "va"), Event(tenant, "", "va"),
            Event(tenant, b, "")});
  const CustomerChange merge = Change(Kind::kMerged, tenant, b, a);  // a into b
  ApplyAll({merge, Event(tenant, a, ""), Event(tenant, "", "va")});  // after the merge
  CHECK(CountOf(tenant, a) == 0);
  CHECK(CountOf(tenant, b) == 5);
  ApplyAll({Change(Kind::kUnmerged, tenant, b, a), merge});  // the replayed merge does nothing
  CHECK(CountOf(tenant, a) == 4);
  CHECK(CountOf(tenant, b) == 1);
}

TEST_CASE_METHOD(Fixture, "erasure deletes a customer's behaviour and visitor links",
                 "[segmentation][facts][behaviour]") {
  const std::string tenant = NewId(), c = NewId(), other = NewId();
  // The facts before the erasure in the same batch are written before it.
  ApplyAll({Event(tenant, c, ""), Identified(tenant, c, "v"), Event(tenant, "", "v"),
            Event(tenant, other, ""), Change(Kind::kErased, tenant, c)});
  CHECK(CountOf(tenant, c) == 0);
  CHECK(CountOf(tenant, other) == 1);
  // The visitor is no longer linked: its later events stay anonymous.
  ApplyAll({Event(tenant, "", "v")});
  CHECK(CountOf(tenant, c) == 0);
  CHECK(store.Behaviour(tenant)->size() == 1);
}

TEST_CASE_METHOD(Fixture, "behaviour facts and links without what they need are refused",
                 "[segmentation][facts][behaviour]") {
  const std::string tenant = NewId(), c = NewId();
  BehaviourFact no_subject = Event(tenant, "", "");
  BehaviourFact bad_customer = Event(tenant, "not-a-uuid", "");
  BehaviourFact bad_id = Event(tenant, c, "");
  bad_id.event_id = "e-1";
  BehaviourFact no_time = Event(tenant, c, "");
  no_time.occurred_time = absl::InfinitePast();
  BehaviourFact bad_currency = Event(tenant, c, "");
  bad_currency.currency_code = "EURO";
  BehaviourFact no_type = Event(tenant, c, "");
  no_type.type.clear();
  const std::vector<absl::Status> out =
      facts.Apply({no_subject, bad_customer, bad_id, no_time, bad_currency, no_type,
                   Identified(tenant, c, ""), Identified(tenant, "x", "v"), Event(tenant, c, "")});
  REQUIRE(out.size() == 9);
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    INFO(i);
    CHECK(out[i].code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(out.back().ok());
  CHECK(CountOf(tenant, c) == 1);
}

TEST_CASE_METHOD(Fixture, "a failed batch of behaviour facts is retried one fact at a time",
                 "[segmentation][facts][behaviour]") {
  const std::string tenant = NewId(), c = NewId();
  store.FailBatchesWith(absl::UnavailableError("down"));
  const std::vector<absl::Status> out = facts.Apply({Event(tenant, c, ""), Event(tenant, c, "")});
  for (const absl::Status& s : out) CHECK(s.ok());
  CHECK(CountOf(tenant, c) == 2);
}

}  // namespace

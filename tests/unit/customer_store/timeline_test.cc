// The timeline (domain/timeline.h, CustomerStore::Interactions): stored
// interactions and visits merged newest first under one cursor; every
// entry exactly once across pages, whatever the page size.
#include "services/customer_store/domain/timeline.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "libs/common/errors.h"
#include "services/customer_store/app/customer_store.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/customer_store/fake_customer_repository.h"
#include "tests/support/fakes/customer_store/fake_view_cache.h"

namespace {

using namespace crm::customer_store;  // NOLINT
using crm::common::ReasonOf;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

std::string EventId(int n) { return absl::StrFormat("eeeeeeee-0000-4000-8000-%012d", n); }

domain::BehaviourEvent Ev(int n, absl::Duration at, const std::string& type = "page.viewed",
                          const std::string& path = "") {
  domain::BehaviourEvent e;
  e.id = EventId(n);
  e.type = type;
  e.occur_time = kT0 + at;
  e.properties.path = path;
  return e;
}

TEST_CASE("cursor: round trip, the start, and refusals") {
  domain::Interaction i;
  i.id = EventId(7);
  i.occur_time = kT0;
  auto c = domain::ParseTimelineCursor(domain::TimelineCursorOf(i));
  REQUIRE(c.ok());
  CHECK((c->time == kT0 && c->id == i.id));
  CHECK(domain::ParseTimelineCursor("")->time == absl::InfiniteFuture());
  for (const char* bad : {"x", "12|not-a-uuid",
                          "a|"
                          "eeeeeeee-0000-4000-8000-000000000007"}) {
    CHECK(ReasonOf(domain::ParseTimelineCursor(bad).status()) == "INVALID_PAGE_TOKEN");
  }
  CHECK(domain::IsBefore(kT0 - absl::Seconds(1), EventId(9), *c));
  CHECK(domain::IsBefore(kT0, EventId(6), *c));
  CHECK_FALSE(domain::IsBefore(kT0, EventId(7), *c));
  CHECK_FALSE(domain::IsBefore(kT0 + absl::Seconds(1), EventId(1), *c));
}

TEST_CASE("a visit's entry: kind, id, time, summary and payload") {
  std::vector<domain::BehaviourEvent> events{
      Ev(1, absl::ZeroDuration(), "page.viewed", "/landing"),
      Ev(2, absl::Minutes(3), "product.viewed"), Ev(3, absl::Minutes(5), "product.viewed"),
      Ev(4, absl::Minutes(9), "cart.item_added"), Ev(5, absl::Minutes(12), "checkout.started")};
  events[0].properties.utm_campaign = "spring";
  auto sessions = domain::GroupSessions(events, domain::kSessionGap, 10);
  REQUIRE(sessions.size() == 1);
  domain::Interaction v = domain::VisitEntry(sessions[0]);
  CHECK(v.id == EventId(1));
  CHECK(v.kind == domain::InteractionKind::kWebVisit);
  CHECK(v.occur_time == kT0);
  CHECK(v.source == "behaviour");
  CHECK(v.summary ==
        "Visit (12 min): 1 page view, 2 product views, 1 cart add, checkout started; landed on "
        "/landing");
  CHECK(v.payload_json.find("\"event_count\":5") != std::string::npos);
  CHECK(v.payload_json.find("\"utm_campaign\":\"spring\"") != std::string::npos);
}

TEST_CASE("sessions before a cursor: only those that start before it, newest first") {
  std::vector<domain::BehaviourEvent> events{
      Ev(1, absl::ZeroDuration()), Ev(2, absl::Minutes(10)), Ev(3, absl::Hours(2)),
      Ev(4, absl::Hours(2) + absl::Minutes(40)), Ev(5, absl::Hours(5))};
  auto all = domain::SessionsBefore(events, {}, domain::kSessionGap);
  REQUIRE(all.size() == 4);
  CHECK(all[0].first_event_id == EventId(5));
  CHECK(all[3].event_count == 2);
  // A cursor inside the second-oldest visit's span (after its start) keeps it whole.
  domain::TimelineCursor c{kT0 + absl::Hours(2) + absl::Minutes(1), EventId(0)};
  auto before = domain::SessionsBefore(events, c, domain::kSessionGap);
  REQUIRE(before.size() == 2);
  CHECK(before[0].first_event_id == EventId(3));
  CHECK(before[0].event_count == 1);  // event 4 is 40 min later: a visit of its own
}

TEST_CASE("merge: newest first, at most limit, a cursor when anything is left") {
  auto entry = [](int n, absl::Duration at) {
    domain::Interaction i;
    i.id = EventId(n);
    i.occur_time = kT0 + at;
    return i;
  };
  auto page = domain::MergeTimeline({entry(1, absl::Hours(3)), entry(2, absl::Hours(1))}, false,
                                    {entry(3, absl::Hours(2))}, false, 2);
  REQUIRE(page.items.size() == 2);
  CHECK((page.items[0].id == EventId(1) && page.items[1].id == EventId(3)));
  CHECK(page.next_cursor == domain::TimelineCursorOf(page.items[1]));
  auto last = domain::MergeTimeline({entry(2, absl::Hours(1))}, false, {}, false, 2);
  CHECK(last.next_cursor.empty());
  auto more = domain::MergeTimeline({entry(2, absl::Hours(1))}, true, {}, false, 2);
  CHECK(!more.next_cursor.empty());
}

struct Fixture {
  crm::testing::FakeCustomerRepository repo;
  crm::testing::FakeViewCache cache;
  crm::testing::FixedClock clock{kT0 + absl::Hours(24 * 30)};
  crm::testing::SequentialIdGenerator ids;
  app::CustomerStore store{repo, cache, clock, ids};
  app::Actor actor{kTenant, "k0123456789abcdef", "", "CreateInteraction"};
  std::string customer;

  Fixture() {
    domain::Customer c;
    c.given_name = "Ada";
    auto r = store.Create(actor, c);
    REQUIRE(r.ok());
    customer = r->id;
  }
  void Note(absl::Duration at) {
    domain::Interaction i;
    i.kind = domain::InteractionKind::kNote;
    i.summary = "note";
    i.occur_time = kT0 + at;
    REQUIRE(store.AddInteraction(actor, customer, i).ok());
  }
  // Every entry, page by page.
  std::vector<domain::Interaction> All(
      int page_size, domain::InteractionKind kind = domain::InteractionKind::kUnspecified) {
    std::vector<domain::Interaction> out;
    app::InteractionQuery q;
    q.limit = page_size;
    q.kind = kind;
    for (int pages = 0; pages < 5000; ++pages) {
      auto page = store.Interactions(kTenant, customer, q);
      REQUIRE(page.ok());
      CHECK(static_cast<int>(page->items.size()) <= page_size);
      out.insert(out.end(), page->items.begin(), page->items.end());
      if (page->next_cursor.empty()) return out;
      q.before_cursor = page->next_cursor;
    }
    FAIL("no last page");
    return out;
  }
};

TEST_CASE("the timeline pages through notes and visits, each once, in order",
          "[customer_store][app]") {
  Fixture f;
  // Visits: 0h-0h20 (3 events), 1h (1), 3h-3h50 (6 events, 10 min apart),
  // 10h (1). Notes at 0h10 (inside the first visit's span), 3h25 (inside
  // the third's), 5h and 12h.
  std::vector<domain::BehaviourEvent> events{Ev(1, absl::ZeroDuration()), Ev(2, absl::Minutes(10)),
                                             Ev(3, absl::Minutes(20)), Ev(4, absl::Hours(1)),
                                             Ev(20, absl::Hours(10))};
  for (int i = 0; i < 6; ++i) events.push_back(Ev(10 + i, absl::Hours(3) + absl::Minutes(10 * i)));
  f.repo.PutBehaviour(kTenant, f.customer, events);
  for (absl::Duration at :
       {absl::Minutes(10), absl::Hours(3) + absl::Minutes(25), absl::Hours(5), absl::Hours(12)}) {
    f.Note(at);
  }

  const std::vector<domain::Interaction> whole = f.All(100);
  REQUIRE(whole.size() == 8);
  std::vector<std::string> kinds;
  for (const auto& i : whole) kinds.push_back(i.source == "behaviour" ? "visit" : "note");
  // 12h note, 10h visit, 5h note, 3h25 note, 3h visit, 1h visit, 0h10 note, 0h visit.
  CHECK(kinds == std::vector<std::string>{"note", "visit", "note", "note", "visit", "visit", "note",
                                          "visit"});
  CHECK(whole[4].id == EventId(10));
  CHECK(whole[4].payload_json.find("\"event_count\":6") != std::string::npos);
  for (size_t i = 1; i < whole.size(); ++i) CHECK(whole[i].occur_time <= whole[i - 1].occur_time);

  for (int size : {1, 2, 3, 5}) {
    INFO("page size " << size);
    std::vector<domain::Interaction> paged = f.All(size);
    REQUIRE(paged.size() == whole.size());
    for (size_t i = 0; i < whole.size(); ++i) {
      CHECK(paged[i].id == whole[i].id);
      CHECK(paged[i].payload_json == whole[i].payload_json);  // whole visits on every page
    }
  }
  // Filters: visits alone; another kind has none.
  CHECK(f.All(2, domain::InteractionKind::kWebVisit).size() == 4);
  CHECK(f.All(2, domain::InteractionKind::kNote).size() == 4);
  const int reads = f.repo.behaviour_reads();
  f.All(10, domain::InteractionKind::kCall);
  CHECK(f.repo.behaviour_reads() == reads);  // not even read
}

TEST_CASE("a timeline with more events than one read keeps whole visits", "[customer_store][app]") {
  Fixture f;
  // 2,500 events: 1,000 single-event visits an hour apart, then one visit
  // of 1,500 events a minute apart (more than one read of 1,000).
  std::vector<domain::BehaviourEvent> events;
  int n = 0;
  for (int i = 0; i < 1000; ++i) events.push_back(Ev(++n, absl::Hours(i)));
  const absl::Duration long_start = absl::Hours(1000);
  for (int i = 0; i < 1500; ++i) events.push_back(Ev(++n, long_start + absl::Minutes(i)));
  f.repo.PutBehaviour(kTenant, f.customer, events);
  for (int size : {1, 7, 100}) {
    INFO("page size " << size);
    std::vector<domain::Interaction> all = f.All(size);
    REQUIRE(all.size() == 1001);
    CHECK(all[0].payload_json.find("\"event_count\":1500") != std::string::npos);
    std::set<std::string> ids;
    for (const auto& i : all) ids.insert(i.id);
    CHECK(ids.size() == 1001);
  }
}

}  // namespace

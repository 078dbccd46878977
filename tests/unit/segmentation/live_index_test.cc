// The in-memory side of live segments: customer numbering, member bitmaps,
// the timer queue, and one customer's evaluation over the ordered segments.
#include "services/segmentation/domain/live_index.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "services/segmentation/domain/segment_check.h"

namespace {

using namespace crm::segmentation::domain;  // NOLINT

constexpr absl::Duration kDay = absl::Hours(24);

absl::Time At(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), absl::UTCTimeZone());
}

const absl::Time t0 = At(2026, 3, 1, 12);

LiveSegment Segment(const std::string& id, const std::string& text, int64_t version = 1) {
  absl::StatusOr<CheckedSegment> checked = CompileSegment(text, FieldCatalog::Default());
  INFO(text);
  if (!checked.ok()) FAIL(checked.status().ToString());
  return LiveSegment{id, version, *std::move(checked)};
}

SegmentPurchase Bought(absl::Time t, double amount, std::string currency = "CHF") {
  SegmentPurchase p;
  p.time = t;
  p.amount = amount;
  p.currency = std::move(currency);
  return p;
}

std::vector<uint32_t> Sorted(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_CASE("CustomerIndex interns ids densely and keeps them stable", "[segmentation][live]") {
  CustomerIndex index;
  CHECK(index.size() == 0);
  CHECK_FALSE(index.Find("c-1").has_value());

  CHECK(index.Intern("c-1") == 0);
  CHECK(index.Intern("c-2") == 1);
  CHECK(index.Intern("c-3") == 2);
  SECTION("interning again returns the same number and adds nothing") {
    CHECK(index.Intern("c-2") == 1);
    CHECK(index.Intern("c-1") == 0);
    CHECK(index.size() == 3);
  }
  SECTION("find and id-of are inverse") {
    for (uint32_t i = 0; i < 3; ++i) {
      const std::string id = index.IdOf(i);
      REQUIRE(index.Find(id).has_value());
      CHECK(*index.Find(id) == i);
    }
    CHECK(index.IdOf(0) == "c-1");
    CHECK(index.IdOf(2) == "c-3");
    CHECK_FALSE(index.Find("c-4").has_value());
    CHECK_FALSE(index.Find("").has_value());
  }
  SECTION("numbers stay stable as the index grows") {
    for (int i = 0; i < 10000; ++i) index.Intern("bulk-" + std::to_string(i));
    CHECK(index.size() == 10003);
    CHECK(*index.Find("c-1") == 0);
    CHECK(*index.Find("c-3") == 2);
    CHECK(*index.Find("bulk-0") == 3);
    CHECK(*index.Find("bulk-9999") == 10002);
    CHECK(index.IdOf(10002) == "bulk-9999");
    CHECK(index.MemoryBytes() > 0);
  }
  SECTION("long ids (beyond the small-string buffer) work like short ones") {
    const std::string long_id(100, 'x');
    CHECK(index.Intern(long_id) == 3);
    CHECK(*index.Find(long_id) == 3);
    CHECK(index.IdOf(3) == long_id);
  }
}

TEST_CASE("SegmentBitmaps Set reports whether membership changed", "[segmentation][live]") {
  SegmentBitmaps b;
  CHECK(b.Set("vip", 7, true));
  CHECK_FALSE(b.Set("vip", 7, true));  // already a member
  CHECK(b.Contains("vip", 7));
  CHECK(b.Set("vip", 7, false));
  CHECK_FALSE(b.Set("vip", 7, false));  // already out
  CHECK_FALSE(b.Contains("vip", 7));
  SECTION("removing from an unknown segment changes nothing and creates nothing") {
    CHECK_FALSE(b.Set("never", 1, false));
    CHECK(b.Count("never") == 0);
    CHECK(b.Members("never").empty());
  }
}

TEST_CASE("SegmentBitmaps counts, lists ascending and drops", "[segmentation][live]") {
  SegmentBitmaps b;
  for (uint32_t c : {42u, 3u, 1000000u, 17u, 0u}) CHECK(b.Set("a", c, true));
  CHECK(b.Set("b", 3, true));
  CHECK(b.Count("a") == 5);
  CHECK(b.Count("b") == 1);
  CHECK(b.Members("a") == std::vector<uint32_t>{0, 3, 17, 42, 1000000});
  CHECK(b.Members("b") == std::vector<uint32_t>{3});
  CHECK(b.MemoryBytes() > 0);

  SECTION("contains of an unknown segment or customer is false") {
    CHECK_FALSE(b.Contains("unknown", 3));
    CHECK_FALSE(b.Contains("a", 4));
    CHECK(b.Count("unknown") == 0);
    CHECK(b.Members("unknown").empty());
  }
  SECTION("drop removes one segment only") {
    b.Drop("a");
    CHECK(b.Count("a") == 0);
    CHECK(b.Members("a").empty());
    CHECK_FALSE(b.Contains("a", 3));
    CHECK(b.Contains("b", 3));
    b.Drop("a");        // again: nothing
    b.Drop("unknown");  // never there: nothing
    CHECK(b.Count("b") == 1);
    SECTION("a dropped segment starts empty when set again") {
      CHECK(b.Set("a", 5, true));
      CHECK(b.Members("a") == std::vector<uint32_t>{5});
    }
  }
  SECTION("moved-to bitmaps keep the members") {
    SegmentBitmaps moved(std::move(b));
    CHECK(moved.Count("a") == 5);
    SegmentBitmaps assigned;
    assigned = std::move(moved);
    CHECK(assigned.Contains("b", 3));
  }
  SECTION("many members") {
    for (uint32_t c = 0; c < 100000; c += 3) b.Set("many", c, true);
    CHECK(b.Count("many") == 33334);
    const std::vector<uint32_t> m = b.Members("many");
    REQUIRE(m.size() == 33334);
    CHECK(std::is_sorted(m.begin(), m.end()));
    CHECK(m.front() == 0);
    CHECK(m.back() == 99999);
  }
}

TEST_CASE("TimerQueue pops due customers once each", "[segmentation][live]") {
  TimerQueue q;
  CHECK(q.pending() == 0);
  CHECK_FALSE(q.Next().has_value());
  CHECK(q.PopDue(t0).empty());

  q.Schedule(1, t0 + absl::Hours(1));
  q.Schedule(2, t0 + absl::Hours(2));
  q.Schedule(3, t0 + absl::Hours(3));
  CHECK(q.pending() == 3);
  REQUIRE(q.Next().has_value());
  CHECK(*q.Next() == t0 + absl::Hours(1));

  CHECK(q.PopDue(t0).empty());  // nothing due yet
  CHECK(q.PopDue(t0 + absl::Hours(1) - absl::Nanoseconds(1)).empty());
  CHECK(q.PopDue(t0 + absl::Hours(2)) == std::vector<uint32_t>{1, 2});  // instant inclusive
  CHECK(q.pending() == 1);
  CHECK(q.PopDue(t0 + absl::Hours(2)).empty());  // not twice
  CHECK(*q.Next() == t0 + absl::Hours(3));
  CHECK(q.PopDue(absl::InfiniteFuture()) == std::vector<uint32_t>{3});
  CHECK(q.pending() == 0);
  CHECK_FALSE(q.Next().has_value());
}

TEST_CASE("TimerQueue Schedule replaces a customer's instant", "[segmentation][live]") {
  TimerQueue q;
  q.Schedule(1, t0 + absl::Hours(1));
  q.Schedule(2, t0 + absl::Hours(2));

  SECTION("later: the old instant is stale") {
    q.Schedule(1, t0 + absl::Hours(5));
    CHECK(q.pending() == 2);
    CHECK(*q.Next() == t0 + absl::Hours(2));  // skips the stale 1h entry
    CHECK(q.PopDue(t0 + absl::Hours(4)) == std::vector<uint32_t>{2});
    CHECK(q.PopDue(t0 + absl::Hours(5)) == std::vector<uint32_t>{1});
  }
  SECTION("earlier: due at the new instant, not again at the old") {
    q.Schedule(2, t0 + absl::Minutes(30));
    CHECK(*q.Next() == t0 + absl::Minutes(30));
    CHECK(q.PopDue(t0 + absl::Minutes(30)) == std::vector<uint32_t>{2});
    CHECK(q.PopDue(t0 + absl::Hours(3)) == std::vector<uint32_t>{1});
  }
  SECTION("back and forth to the same instant: still once") {
    q.Schedule(1, t0 + absl::Hours(9));
    q.Schedule(1, t0 + absl::Hours(1));
    q.Schedule(1, t0 + absl::Hours(1));
    CHECK(q.pending() == 2);
    CHECK(q.PopDue(t0 + absl::Hours(10)) == std::vector<uint32_t>{1, 2});
    CHECK(q.pending() == 0);
    CHECK(q.PopDue(absl::InfiniteFuture()).empty());
    CHECK_FALSE(q.Next().has_value());
  }
  SECTION("popped, then scheduled again at an instant a stale entry still holds") {
    q.Schedule(1, t0 + absl::Hours(7));  // entry (7h, 1) goes stale next
    q.Schedule(1, t0 + absl::Hours(1));
    CHECK(q.PopDue(t0 + absl::Hours(1)) == std::vector<uint32_t>{1});
    q.Schedule(1, t0 + absl::Hours(7));  // same instant as the stale entry
    CHECK(q.PopDue(t0 + absl::Hours(7)) == std::vector<uint32_t>{2, 1});
    CHECK(q.PopDue(absl::InfiniteFuture()).empty());
  }
}

TEST_CASE("TimerQueue InfiniteFuture cancels", "[segmentation][live]") {
  TimerQueue q;
  q.Schedule(1, t0 + absl::Hours(1));
  q.Schedule(2, t0 + absl::Hours(2));
  q.Schedule(1, absl::InfiniteFuture());
  CHECK(q.pending() == 1);
  CHECK(*q.Next() == t0 + absl::Hours(2));  // the cancelled entry is skipped
  CHECK(q.PopDue(t0 + absl::Hours(3)) == std::vector<uint32_t>{2});
  CHECK(q.PopDue(absl::InfiniteFuture()).empty());

  SECTION("cancelling an unknown customer is harmless") {
    q.Schedule(99, absl::InfiniteFuture());
    CHECK(q.pending() == 0);
    CHECK_FALSE(q.Next().has_value());
  }
  SECTION("a cancelled customer can be scheduled again") {
    q.Schedule(1, t0 + absl::Hours(4));
    CHECK(q.pending() == 1);
    CHECK(q.PopDue(t0 + absl::Hours(4)) == std::vector<uint32_t>{1});
  }
}

TEST_CASE("TimerQueue PopDue returns customers in instant order", "[segmentation][live]") {
  TimerQueue q;
  for (uint32_t c = 0; c < 50; ++c) q.Schedule(c, t0 + absl::Minutes(50 - c));
  std::vector<uint32_t> expected;
  for (uint32_t c = 50; c-- > 0;) expected.push_back(c);
  CHECK(q.PopDue(t0 + absl::Hours(1)) == expected);
}

TEST_CASE("TimerQueue many reschedules compact without losing live entries",
          "[segmentation][live]") {
  TimerQueue q;
  // 100k reschedules over 10 customers: customer c ends at t0 + (c+1) min.
  for (int i = 0; i < 100000; ++i) {
    const uint32_t c = static_cast<uint32_t>(i % 10);
    const int round = i / 10;
    // Move back and forth, ending (last round) at the final instant.
    const absl::Duration d =
        round == 9999 ? absl::Minutes(c + 1) : absl::Hours(1 + (round * 7 + c) % 500);
    q.Schedule(c, t0 + d);
  }
  CHECK(q.pending() == 10);
  REQUIRE(q.Next().has_value());
  CHECK(*q.Next() == t0 + absl::Minutes(1));
  CHECK(q.PopDue(t0 + absl::Seconds(330)) == std::vector<uint32_t>{0, 1, 2, 3, 4});
  CHECK(*q.Next() == t0 + absl::Minutes(6));
  CHECK(q.PopDue(absl::InfiniteFuture()) == std::vector<uint32_t>{5, 6, 7, 8, 9});
  CHECK(q.pending() == 0);
  CHECK_FALSE(q.Next().has_value());

  SECTION("with cancels mixed in and a larger population") {
    TimerQueue big;
    for (uint32_t c = 0; c < 5000; ++c) big.Schedule(c, t0 + absl::Hours(1 + c % 24));
    for (int i = 0; i < 100000; ++i) {
      const uint32_t c = static_cast<uint32_t>(i % 5000);
      big.Schedule(c, i % 3 == 0 ? absl::InfiniteFuture() : t0 + absl::Minutes(1 + i % 997));
    }
    // The last write per customer decides: i = 95000 + c.
    std::vector<uint32_t> expected;
    size_t live = 0;
    for (uint32_t c = 0; c < 5000; ++c) {
      const int i = 95000 + static_cast<int>(c);
      if (i % 3 != 0) {
        ++live;
        expected.push_back(c);
      }
    }
    CHECK(big.pending() == live);
    CHECK(Sorted(big.PopDue(t0 + absl::Hours(100))) == expected);
    CHECK(big.pending() == 0);
    CHECK(big.PopDue(absl::InfiniteFuture()).empty());
  }
}

TEST_CASE("EvaluateCustomer evaluates in order so in_segment reads the same pass",
          "[segmentation][live]") {
  const LiveSegment buyers = Segment("buyers", "purchased(30d)");
  const LiveSegment big = Segment("big", "spent(365d) >= 100");
  const LiveSegment vip = Segment("vip", R"(in_segment("buyers") AND in_segment("big"))");
  const LiveSegment lapsed = Segment("lapsed", R"(NOT in_segment("buyers"))");

  CustomerSnapshot c;
  c.purchases = {Bought(t0 - 10 * kDay, 80), Bought(t0 - 100 * kDay, 50)};

  SECTION("referenced segments first: vip sees buyers and big") {
    CustomerMemberships m = EvaluateCustomer({&buyers, &big, &vip, &lapsed}, c, t0);
    CHECK(m.members == std::set<std::string>{"buyers", "big", "vip"});
    // buyers leaves at t0 + 20d (30d after the purchase); big at t0 + 265d.
    CHECK(m.next_change == t0 + 20 * kDay);
  }
  SECTION("segments not in the pass are read as given: a partial pass") {
    // buyers and big are not evaluated: vip and lapsed read them as given.
    c.segments = {"buyers", "big", "lapsed"};
    CustomerMemberships m = EvaluateCustomer({&vip, &lapsed}, c, t0);
    CHECK(m.members == std::set<std::string>{"vip"});
    c.segments = {"big"};
    m = EvaluateCustomer({&vip, &lapsed}, c, t0);
    CHECK(m.members == std::set<std::string>{"lapsed"});
  }
  SECTION("a segment in the pass replaces what was given for it") {
    c.segments = {"lapsed"};  // stale: buyers holds at t0
    CustomerMemberships m = EvaluateCustomer({&buyers, &big, &vip, &lapsed}, c, t0);
    CHECK(m.members == std::set<std::string>{"buyers", "big", "vip"});
  }
  SECTION("a customer out of buyers is in lapsed") {
    CustomerMemberships m = EvaluateCustomer({&buyers, &big, &vip, &lapsed}, c, t0 + 25 * kDay);
    CHECK(m.members == std::set<std::string>{"big", "lapsed"});
  }
  SECTION("next_change is the minimum over the segments") {
    const LiveSegment quarter = Segment("quarter", "purchased(90d)");
    const LiveSegment week = Segment("week", "purchased(7d)");
    CustomerMemberships m = EvaluateCustomer({&quarter, &week, &buyers}, c, t0);
    CHECK(m.members == std::set<std::string>{"quarter", "buyers"});
    // week: purchase 10d ago already out, nothing can enter; buyers: t0 + 20d;
    // quarter: t0 + 80d.
    CHECK(m.next_change == t0 + 20 * kDay);
    CustomerMemberships q = EvaluateCustomer({&quarter}, c, t0);
    CHECK(q.next_change == t0 + 80 * kDay);
  }
  SECTION("a purchase dated after now enters at its time") {
    c.purchases.push_back(Bought(t0 + 3 * kDay, 10));
    CustomerMemberships m = EvaluateCustomer({&buyers}, c, t0);
    CHECK(m.members == std::set<std::string>{"buyers"});
    // Stays in until 30 days after the future purchase at the latest.
    CHECK(m.next_change > t0);
    CHECK(m.next_change <= t0 + 33 * kDay);
  }
  SECTION("no segments: nothing, never") {
    CustomerMemberships m = EvaluateCustomer({}, c, t0);
    CHECK(m.members.empty());
    CHECK(m.next_change == absl::InfiniteFuture());
  }
}

TEST_CASE("EvaluateCustomer for a customer with no purchases", "[segmentation][live]") {
  const LiveSegment buyers = Segment("buyers", "purchased(30d)");
  const LiveSegment never = Segment("never", "NOT purchased(3650d)");
  const LiveSegment big = Segment("big", "spent(365d) >= 100");
  const LiveSegment champions = Segment("champions", R"(rfm.segment = "Champions")");
  const LiveSegment none = Segment("none", R"(NOT in_segment("buyers"))");
  CustomerSnapshot c;
  CustomerMemberships m = EvaluateCustomer({&buyers, &never, &big, &champions, &none}, c, t0);
  CHECK(m.members == std::set<std::string>{"never", "none"});
  CHECK(m.next_change == absl::InfiniteFuture());
}

TEST_CASE("EvaluateCustomer with behaviour counts", "[segmentation][live]") {
  const LiveSegment fans = Segment("fans", R"(count(product.viewed, category = "Music", 7d) >= 2)");
  CustomerSnapshot c;
  auto view = [](absl::Time t, const std::string& category) {
    return SegmentEvent{"product.viewed", t, {{"category", category}}};
  };
  c.events = {view(t0 - 1 * kDay, "Music/Jazz"), view(t0 - 2 * kDay, "Music"),
              view(t0 - 3 * kDay, "Books")};
  CustomerMemberships m = EvaluateCustomer({&fans}, c, t0);
  CHECK(m.members == std::set<std::string>{"fans"});
  CHECK(m.next_change == t0 + 5 * kDay);  // the view 2 days ago leaves the 7-day window
}

}  // namespace

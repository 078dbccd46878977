// Behaviour events, the pure part: types, limits, times, UTF-8, subjects,
// IP truncation, device classes and sessions (domain/behaviour.h).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/customer_store/domain/behaviour.h"

namespace {

using namespace crm::customer_store::domain;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

BehaviourInput PageView() {
  BehaviourInput in;
  in.type = "page.viewed";
  in.visitor_id = "v-123";
  in.properties.url = "https://shop.example/p/1";
  in.properties.path = "/p/1";
  return in;
}

TEST_CASE("Known types and custom x.* names are accepted, others refused") {
  for (const char* t : {"page.viewed", "product.viewed", "search.performed", "cart.item_added",
                        "cart.item_removed", "checkout.started", "x.video_played", "x.a.b-c_1"}) {
    INFO(t);
    CHECK(IsKnownEventType(t));
  }
  for (const char* t :
       {"", "page", "page.Viewed", "x.", "x.Upper", "order.placed", "x.a b", "y.custom"}) {
    INFO(t);
    CHECK_FALSE(IsKnownEventType(t));
  }
  CHECK_FALSE(IsKnownEventType("x." + std::string(63, 'a')));
  CHECK(IsKnownEventType("x." + std::string(62, 'a')));

  BehaviourInput in = PageView();
  in.type = "order.placed";
  absl::StatusOr<BehaviourEvent> e = ValidateBehaviour(in, kNow);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(e.status()) == "UNKNOWN_EVENT_TYPE");
  CHECK(FieldOf(e.status()) == "type");
}

TEST_CASE("A valid page view keeps its properties and defaults its time to now") {
  absl::StatusOr<BehaviourEvent> e = ValidateBehaviour(PageView(), kNow);
  REQUIRE(e.ok());
  CHECK(e->occur_time == kNow);
  CHECK(e->receive_time == kNow);
  CHECK(e->subject == SubjectKind::kVisitor);
  CHECK(e->visitor_id == "v-123");
  CHECK(e->properties.path == "/p/1");
  CHECK(e->customer_id.empty());
}

TEST_CASE("Times: at most 5 minutes ahead, at most 90 days back") {
  BehaviourInput in = PageView();
  in.occur_time = kNow + absl::Minutes(5);
  CHECK(ValidateBehaviour(in, kNow).ok());
  in.occur_time = kNow + absl::Minutes(5) + absl::Seconds(1);
  CHECK(ReasonOf(ValidateBehaviour(in, kNow).status()) == "EVENT_TIME_OUT_OF_RANGE");
  in.occur_time = kNow - absl::Hours(24 * 90);
  CHECK(ValidateBehaviour(in, kNow).ok());
  in.occur_time = kNow - absl::Hours(24 * 90) - absl::Seconds(1);
  absl::Status s = ValidateBehaviour(in, kNow).status();
  CHECK(ReasonOf(s) == "EVENT_TIME_OUT_OF_RANGE");
  CHECK(FieldOf(s) == "occur_time");
  in.occur_time = absl::InfiniteFuture();  // a timestamp outside the wire range
  CHECK(ReasonOf(ValidateBehaviour(in, kNow).status()) == "EVENT_TIME_OUT_OF_RANGE");
}

TEST_CASE("Sizes: each property and all of them together are bounded") {
  BehaviourInput in = PageView();
  in.properties.url = std::string(kMaxUrlBytes, 'a');
  CHECK(ValidateBehaviour(in, kNow).ok());
  in.properties.url += "a";
  absl::Status s = ValidateBehaviour(in, kNow).status();
  CHECK(ReasonOf(s) == "EVENT_TOO_LARGE");
  CHECK(FieldOf(s) == "properties.url");

  in = PageView();
  in.properties.sku = std::string(kMaxSkuBytes + 1, 's');
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "properties.sku");

  in = PageView();
  in.properties.category_path.assign(kMaxCategoryLevels + 1, "c");
  CHECK(ReasonOf(ValidateBehaviour(in, kNow).status()) == "EVENT_TOO_LARGE");

  in = PageView();
  for (size_t i = 0; i <= kMaxCustomProperties; ++i) {
    in.properties.custom["k" + std::to_string(i)] = "v";
  }
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "properties.custom");

  // 20 custom values of 500 bytes: each fine, together beyond 8 KiB.
  in = PageView();
  for (size_t i = 0; i < kMaxCustomProperties; ++i) {
    in.properties.custom["k" + std::to_string(i)] = std::string(500, 'v');
  }
  s = ValidateBehaviour(in, kNow).status();
  CHECK(ReasonOf(s) == "EVENT_TOO_LARGE");
  CHECK(FieldOf(s) == "properties");

  in = PageView();
  in.properties.custom["Bad-Key"] = "v";
  CHECK(ReasonOf(ValidateBehaviour(in, kNow).status()) == "INVALID_FIELD");

  in = PageView();
  in.user_agent = std::string(kMaxUserAgentBytes + 1, 'u');
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "context.user_agent");

  in = PageView();
  in.properties.quantity = -1;
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "properties.quantity");
  in = PageView();
  in.properties.value = std::nan("");
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "properties.value");
  in = PageView();
  in.properties.currency_code = "chf";
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "properties.currency_code");
}

TEST_CASE("UTF-8: invalid sequences are refused per field") {
  CHECK(IsValidUtf8("plain ascii"));
  CHECK(IsValidUtf8("Zürich 東京 🙂"));
  CHECK_FALSE(IsValidUtf8("\xff"));
  CHECK_FALSE(IsValidUtf8("\xc3"));              // truncated
  CHECK_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  CHECK_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF

  BehaviourInput in = PageView();
  in.properties.search_query = "caf\xe9";  // Latin-1, not UTF-8
  absl::Status s = ValidateBehaviour(in, kNow).status();
  CHECK(ReasonOf(s) == "INVALID_UTF8");
  CHECK(FieldOf(s) == "properties.search_query");

  in = PageView();
  in.properties.custom["note"] = "\xff";
  CHECK(ReasonOf(ValidateBehaviour(in, kNow).status()) == "INVALID_UTF8");
  in = PageView();
  in.type = "\xff";
  CHECK(ReasonOf(ValidateBehaviour(in, kNow).status()) == "INVALID_UTF8");
  in = PageView();
  in.properties.title = std::string("a\0b", 3);
  CHECK(ReasonOf(ValidateBehaviour(in, kNow).status()) == "INVALID_FIELD");
}

TEST_CASE("Subjects: one customer reference at most, or a visitor id alone") {
  BehaviourInput in = PageView();
  in.visitor_id.clear();
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "visitor_id");  // no subject

  in.customer_id = "AAAAAAAA-1111-4111-8111-111111111111";
  absl::StatusOr<BehaviourEvent> e = ValidateBehaviour(in, kNow);
  REQUIRE(e.ok());
  CHECK(e->subject == SubjectKind::kCustomerId);
  CHECK(e->subject_key == "aaaaaaaa-1111-4111-8111-111111111111");

  in.email = "a@example.com";
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "customer_id");  // two references

  in = PageView();
  in.email = " Ada@Example.COM ";
  e = ValidateBehaviour(in, kNow);
  REQUIRE(e.ok());
  CHECK(e->subject == SubjectKind::kEmail);
  CHECK(e->subject_key == "ada@example.com");
  CHECK(e->visitor_id == "v-123");  // kept with the reference

  in = PageView();
  in.external_id = "C-1";
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "external_id");  // no source
  in.external_id_source = "erp";
  e = ValidateBehaviour(in, kNow);
  REQUIRE(e.ok());
  CHECK(e->subject == SubjectKind::kExternalId);
  CHECK(e->subject_source == "erp");

  in = PageView();
  in.customer_id = "not-a-uuid";
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "customer_id");
  in = PageView();
  in.visitor_id = "has space";
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "visitor_id");
  CHECK(crm::common::IsVisitorId("ga1.2.3:abc_DEF-9"));
  CHECK_FALSE(crm::common::IsVisitorId(std::string(crm::common::kMaxVisitorIdBytes + 1, 'v')));
  CHECK_FALSE(crm::common::IsVisitorId(""));
  CHECK_FALSE(crm::common::IsVisitorId("v 1"));
}

TEST_CASE("IP addresses are stored truncated: IPv4 /24, IPv6 /48") {
  CHECK(*TruncateIp("192.0.2.123") == "192.0.2.0");
  CHECK(*TruncateIp("10.1.2.3") == "10.1.2.0");
  CHECK(*TruncateIp("2001:db8:abcd:12:1:2:3:4") == "2001:db8:abcd::");
  CHECK(*TruncateIp("::ffff:198.51.100.7") == "198.51.100.0");
  CHECK(*TruncateIp("") == "");
  CHECK_FALSE(TruncateIp("300.1.1.1").ok());
  CHECK_FALSE(TruncateIp("example.com").ok());

  BehaviourInput in = PageView();
  in.ip = "203.0.113.99";
  in.user_agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148";
  absl::StatusOr<BehaviourEvent> e = ValidateBehaviour(in, kNow);
  REQUIRE(e.ok());
  CHECK(e->ip_prefix == "203.0.113.0");
  CHECK(e->device_class == DeviceClass::kMobile);
  in.ip = "nope";
  CHECK(FieldOf(ValidateBehaviour(in, kNow).status()) == "context.ip");
}

TEST_CASE("Device class from the user agent") {
  CHECK(DeviceClassOf("") == DeviceClass::kUnknown);
  CHECK(DeviceClassOf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120") ==
        DeviceClass::kDesktop);
  CHECK(DeviceClassOf("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15") ==
        DeviceClass::kDesktop);
  CHECK(DeviceClassOf("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile Safari/537.36") ==
        DeviceClass::kMobile);
  CHECK(DeviceClassOf("Mozilla/5.0 (Linux; Android 13; SM-X700) Chrome/120 Safari/537.36") ==
        DeviceClass::kTablet);
  CHECK(DeviceClassOf("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)") == DeviceClass::kTablet);
  CHECK(DeviceClassOf("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)") ==
        DeviceClass::kBot);
  CHECK(DeviceClassOf("curl/8.4.0") == DeviceClass::kBot);
  CHECK(DeviceClassOf("SomethingElse/1.0") == DeviceClass::kUnknown);
}

TEST_CASE("Sessions: split by 30 minutes of inactivity, newest first, bounded") {
  auto at = [](int minutes, const char* type, const char* path = "") {
    BehaviourEvent e;
    e.id = "e" + std::to_string(minutes);
    e.type = type;
    e.occur_time = kNow + absl::Minutes(minutes);
    e.properties.path = path;
    e.visitor_id = "v1";
    return e;
  };
  // Given out of order: a visit at 0..20, another at 60..89 (29 min gap
  // inside it), a third at 130.
  std::vector<BehaviourEvent> events = {
      at(60, "page.viewed", "/landing"), at(0, "page.viewed", "/home"),
      at(20, "cart.item_added"),         at(89, "checkout.started"),
      at(10, "product.viewed", "/p/1"),  at(130, "search.performed"),
  };
  std::vector<BehaviourSession> s = GroupSessions(events, kSessionGap, 10);
  REQUIRE(s.size() == 3);
  CHECK(s[0].start == kNow + absl::Minutes(130));
  CHECK(s[0].searches == 1);
  CHECK(s[1].start == kNow + absl::Minutes(60));
  CHECK(s[1].end == kNow + absl::Minutes(89));
  CHECK(s[1].event_count == 2);
  CHECK(s[1].checkout_started);
  CHECK(s[1].landing_path == "/landing");
  CHECK(s[2].event_count == 3);
  CHECK(s[2].page_views == 1);
  CHECK(s[2].product_views == 1);
  CHECK(s[2].cart_adds == 1);
  CHECK(s[2].landing_path == "/home");
  CHECK(s[2].visitor_id == "v1");

  CHECK(GroupSessions(events, kSessionGap, 2).size() == 2);
  CHECK(GroupSessions({}, kSessionGap, 10).empty());
  // Exactly 30 minutes apart is still one visit.
  CHECK(GroupSessions({at(0, "page.viewed"), at(30, "page.viewed")}, kSessionGap, 10).size() == 1);
}

TEST_CASE("Visit at an instant: the session running then, both sides of it, cut honestly") {
  auto at = [](int minutes, const char* path) {
    BehaviourEvent e;
    e.id = "e" + std::to_string(minutes + 1000);
    e.type = "page.viewed";
    e.occur_time = kNow + absl::Minutes(minutes);
    e.properties.path = path;
    return e;
  };
  // An earlier visit (-200..-180), the visit (-40, -20, 0, then 10 and 35
  // after the instant), a later one (100).
  const absl::Time instant = kNow + absl::Minutes(2);
  const std::vector<BehaviourEvent> before = {at(0, "/cart"), at(-20, "/p/1"), at(-40, "/home"),
                                              at(-180, "/old"), at(-200, "/older")};
  const std::vector<BehaviourEvent> after = {at(10, "/checkout"), at(35, "/thanks"),
                                             at(100, "/next")};
  Visit v = VisitAt(before, false, after, false, instant, kSessionGap, 100);
  REQUIRE(v.found);
  CHECK_FALSE(v.partial);
  REQUIRE(v.events.size() == 5);
  CHECK(v.events.front().properties.path == "/home");
  CHECK(v.events.back().properties.path == "/thanks");
  CHECK(v.session.start == kNow - absl::Minutes(40));
  CHECK(v.session.end == kNow + absl::Minutes(35));
  CHECK(v.session.page_views == 5);
  CHECK(v.session.landing_path == "/home");

  // The newest `event_limit` events are kept; the counts are the visit's.
  v = VisitAt(before, false, after, false, instant, kSessionGap, 2);
  REQUIRE(v.events.size() == 2);
  CHECK(v.events[0].properties.path == "/checkout");
  CHECK(v.session.event_count == 5);

  // A full read on either side that the visit fills: partial.
  CHECK(VisitAt(before, true, after, false, instant, kSessionGap, 100).partial == false);
  CHECK(VisitAt({at(0, "/a"), at(-20, "/b")}, true, {}, false, instant, kSessionGap, 100).partial);
  CHECK(VisitAt(before, false, {at(10, "/c")}, true, instant, kSessionGap, 100).partial);

  // Nobody on the site in the 30 minutes before the instant: none, even
  // with events after it.
  CHECK_FALSE(
      VisitAt(before, false, after, false, kNow + absl::Minutes(31), kSessionGap, 100).found);
  CHECK_FALSE(VisitAt({}, false, after, false, instant, kSessionGap, 100).found);
  // Exactly 30 minutes is still the visit.
  CHECK(VisitAt(before, false, after, false, kNow + absl::Minutes(30), kSessionGap, 100).found);
  // An event a little after the instant (a clock ahead) anchors the visit.
  CHECK(VisitAt({at(3, "/x")}, false, {}, false, instant, kSessionGap, 100).found);
}

}  // namespace

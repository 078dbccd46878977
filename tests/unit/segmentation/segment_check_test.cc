// The field catalog and type checker of the segment language, and the
// reference graph between segments (cycles).
#include "services/segmentation/domain/segment_check.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "services/segmentation/domain/segment_graph.h"

namespace {

using crm::common::FieldOf;
using crm::common::ReasonOf;
using namespace crm::segmentation::domain;  // NOLINT

FieldCatalog Catalog() {
  FieldCatalog c = FieldCatalog::Default();
  c.AddAttribute("plan", FieldType::kEnum, {"free", "silver", "gold"});
  c.AddAttribute("vip", FieldType::kBool);
  c.AddAttribute("employer", FieldType::kString);
  c.AddAttribute("seats", FieldType::kNumber);
  return c;
}

CheckedSegment Compiled(const std::string& text) {
  absl::StatusOr<CheckedSegment> s = CompileSegment(text, Catalog());
  INFO(text);
  if (!s.ok()) FAIL(s.status().ToString());
  return *std::move(s);
}

// The message of a text that parses but must not check (SEGMENT_INVALID).
std::string Invalid(const std::string& text) {
  absl::StatusOr<CheckedSegment> s = CompileSegment(text, Catalog());
  INFO(text);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(s.status()) == "SEGMENT_INVALID");
  CHECK(FieldOf(s.status()) == "expression");
  return std::string(s.status().message());
}

TEST_CASE("segment checker: the issue's examples check", "[segmentation][segment]") {
  for (
      const char* text : {
          R"(rfm.segment = "Champions" AND (p_alive >= 0.8 OR clv > 500) AND NOT consent.email = "opted_out")",
          R"(count(product.viewed, category = "Music/Jazz", 7d) >= 3)",
          "count(email.opened, 30d) >= 3",
          R"(bought(category = "Music", 90d))",
          "spent(365d) >= 100",
          "NOT purchased(90d)",
          R"(profile.country = "CH")",
          R"(attr.plan = "gold")",
          R"(in_segment("vip-customers"))",
          R"(profile.lifecycle_stage IN ("customer", "repeat_customer") AND attr.vip = true)",
          "rfm.r >= 4 AND rfm.score > 400 AND frequency > 2 AND recency < 30 AND monetary > 1",
          R"(consent.sms.transactional != "opted_out" AND attr.seats >= 10)",
          R"(tenure >= 365 AND last_seen > 30 AND monetary_repeat_mean >= 50 AND top_category = "Music/Jazz")",
      }) {
    INFO(text);
    CHECK(CompileSegment(text, Catalog()).ok());
  }
}

TEST_CASE("segment checker: unknown names are refused with their position",
          "[segmentation][segment]") {
  CHECK(Invalid("clv > 1 AND\n  profile.contry = \"CH\"") ==
        "line 2, column 3: unknown field 'profile.contry'");
  CHECK(Invalid("attr = \"gold\"") == "line 1, column 1: unknown attribute 'attr' (attr.<name>)");
  CHECK(Invalid("attr.a.b = \"gold\"") ==
        "line 1, column 1: unknown attribute 'attr.a.b' (attr.<name>)");
  CHECK(absl::StrContains(Invalid("consent.fax = \"opted_in\""),
                          "column 1: unknown consent 'consent.fax'"));
  CHECK(absl::StrContains(Invalid("consent.email.spam = \"opted_in\""),
                          "unknown consent 'consent.email.spam'"));
  CHECK(Invalid("count(email.bounced, 7d) > 0") ==
        "line 1, column 1: unknown event type 'email.bounced'");
  CHECK(Invalid("count(email.opened, subject = \"x\", 7d) > 0") ==
        "line 1, column 21: unknown property 'subject' of email.opened (known: campaign)");
  CHECK(absl::StrContains(Invalid("bought(color = \"red\", 7d)"),
                          "column 8: unknown property 'color' of orders (known: category, "
                          "currency, sku)"));
  // A function name without parentheses is just an (unknown) field.
  CHECK(Invalid("count > 1") == "line 1, column 1: unknown field 'count'");
}

TEST_CASE("segment checker: the behaviour event types customer-store tracks",
          "[segmentation][segment]") {
  // Each type, with every property its events carry.
  for (const char* type : {"page.viewed", "product.viewed", "search.performed", "cart.item_added",
                           "cart.item_removed", "checkout.started"}) {
    const std::string text =
        std::string("count(") + type +
        R"(, category = "Music", sku IN ("A-1", "B-2"), value >= 10, currency = "CHF", )"
        R"(quantity > 1, campaign != "spring", 30d) >= 1)";
    INFO(text);
    CHECK(CompileSegment(text, Catalog()).ok());
  }
  // Properties the events do not carry (no URL, title, query, brand) and
  // types customer-store does not emit are refused.
  CHECK(absl::StrContains(Invalid(R"(count(page.viewed, path = "/a", 7d) > 0)"),
                          "unknown property 'path' of page.viewed (known: campaign, category, "
                          "currency, quantity, sku, value)"));
  CHECK(absl::StrContains(Invalid(R"(count(search.performed, query = "shoes", 7d) > 0)"),
                          "unknown property 'query'"));
  CHECK(absl::StrContains(Invalid("count(product.viewed, price > 1, 7d) > 0"),
                          "unknown property 'price'"));
  CHECK(Invalid("count(product.added_to_cart, 7d) > 0") ==
        "line 1, column 1: unknown event type 'product.added_to_cart'");
  // The message types stay for delivery's events.
  CHECK(CompileSegment(R"(count(email.clicked, campaign = "spring", 30d) >= 1)", Catalog()).ok());
}

TEST_CASE("segment checker: custom event types x.<name>", "[segmentation][segment]") {
  CheckedSegment s = Compiled(
      R"(count(x.signup, 30d) >= 1 AND count(x.plan.upgraded, value > 100, currency = "CHF", 365d) = 0)");
  CHECK(s.dependencies.event_types == std::set<std::string>{"x.signup", "x.plan.upgraded"});
  CHECK(s.dependencies.ReadsChange(ChangeKind::kEvents, "x.signup"));
  CHECK_FALSE(s.dependencies.ReadsChange(ChangeKind::kEvents, "x.other"));
  CHECK(absl::StrContains(Invalid("count(x.signup, plan = \"gold\", 7d) > 0"),
                          "unknown property 'plan' of x.signup (known: campaign"));
  CHECK(absl::StrContains(Invalid("count(x.SignUp, 7d) > 0"),
                          "unknown event type 'x.SignUp' (custom types are x.<name>"));
  CHECK(absl::StrContains(Invalid("count(x.a123456789_123456789_123456789_123456789_123456789_"
                                  "1234567890123, 7d) > 0"),
                          "unknown event type"));
  CHECK(Invalid("count(y.signup, 7d) > 0") == "line 1, column 1: unknown event type 'y.signup'");
  // A tenant's declared type of that name wins.
  FieldCatalog c = Catalog();
  c.AddEventType("x.signup", {{"plan", FieldType::kString}});
  CHECK(CompileSegment(R"(count(x.signup, plan = "gold", 7d) > 0)", c).ok());
}

TEST_CASE("segment checker: type mismatches", "[segmentation][segment]") {
  CHECK(Invalid("clv = \"high\"") == "line 1, column 7: clv is number, compared with a string");
  CHECK(Invalid("profile.country = 3") ==
        "line 1, column 19: profile.country is string, compared with a number");
  CHECK(Invalid("profile.country > \"CH\"") ==
        "line 1, column 1: profile.country is string: it takes = != or IN, not >");
  CHECK(Invalid("attr.vip < true") ==
        "line 1, column 1: attr.vip is bool: it takes = or !=, not <");
  CHECK(Invalid("attr.vip IN (true)") ==
        "line 1, column 1: attr.vip is bool: it takes = or !=, "
        "not IN");
  CHECK(Invalid("attr.vip = 1") == "line 1, column 12: attr.vip is bool, compared with a number");
  CHECK(Invalid("clv IN (1, \"2\")") ==
        "line 1, column 12: clv is number, compared with a "
        "string");
  CHECK(Invalid("count(email.opened, 7d) >= \"3\"") ==
        "line 1, column 28: count(email.opened) is number, compared with a string");
  CHECK(Invalid("spent(365d) = true") ==
        "line 1, column 15: spent() is number, compared with a "
        "bool");
  CHECK(Invalid("count(product.viewed, value = \"cheap\", 7d) > 0") ==
        "line 1, column 31: value is number, compared with a string");
  CHECK(Invalid("count(product.viewed, category > \"A\", 7d) > 0") ==
        "line 1, column 23: category is string: it takes = != or IN, not >");
}

TEST_CASE("segment checker: enum values", "[segmentation][segment]") {
  CHECK(absl::StrContains(Invalid("rfm.segment = \"Champs\""),
                          "line 1, column 15: \"Champs\" is not a value of rfm.segment (one of: "
                          "\"Champions\", \"Loyal\", \"New\""));
  CHECK(absl::StrContains(Invalid("consent.email = \"maybe\""),
                          "\"maybe\" is not a value of consent.email.marketing"));
  CHECK(absl::StrContains(Invalid("attr.plan IN (\"gold\", \"platinum\")"),
                          "column 23: \"platinum\" is not a value of attr.plan"));
  // Matched case-insensitively, rewritten to the catalog's spelling.
  CheckedSegment s = Compiled("rfm.segment = \"can't LOSE them\" OR consent.email = 'OPTED_IN'");
  CHECK(DebugString(s.root) ==
        "(OR (= rfm.segment \"Can't lose them\") (= consent.email.marketing \"opted_in\"))");
}

TEST_CASE("segment checker: windows", "[segmentation][segment]") {
  CHECK(Invalid("count(email.opened, 0d) > 0") ==
        "line 1, column 1: window 0h is outside 1h to 3650d");
  CHECK(Invalid("NOT purchased(3651d)") ==
        "line 1, column 5: window 3651d is outside 1h to "
        "3650d");
  CHECK(absl::StrContains(Invalid("spent(522w) > 0"), "window 522w is outside"));
  CHECK(CompileSegment("spent(3650d) > 0 AND count(email.opened, 1h) > 0", Catalog()).ok());
  CHECK(CompileSegment("orders(521w) > 0", Catalog()).ok());
}

TEST_CASE("segment checker: dependencies", "[segmentation][segment]") {
  SECTION("profile, features and consents only: no time") {
    CheckedSegment s = Compiled(
        R"(rfm.segment = "Champions" AND (p_alive >= 0.8 OR clv > 500) AND NOT consent.email = "opted_out" AND profile.country = "CH")");
    const SegmentDependencies& d = s.dependencies;
    CHECK(d.Reads(ChangeKind::kFeatures));
    CHECK(d.Reads(ChangeKind::kConsents));
    CHECK(d.Reads(ChangeKind::kProfile));
    CHECK_FALSE(d.Reads(ChangeKind::kAttributes));
    CHECK_FALSE(d.Reads(ChangeKind::kEvents));
    CHECK_FALSE(d.Reads(ChangeKind::kOrders));
    CHECK_FALSE(d.Reads(ChangeKind::kSegments));
    CHECK_FALSE(d.reads_time());
    CHECK(d.fields == std::set<std::string>{"rfm.segment", "p_alive", "clv",
                                            "consent.email.marketing", "profile.country"});
    CHECK(d.event_types.empty());
    CHECK(d.segments.empty());
    CHECK(d.longest_window == absl::ZeroDuration());
    CHECK(d.ReadsChange(ChangeKind::kConsents, "consent.email.marketing"));
    CHECK_FALSE(d.ReadsChange(ChangeKind::kConsents, "consent.sms.marketing"));
    CHECK(d.ReadsChange(ChangeKind::kFeatures, "clv"));
    CHECK_FALSE(d.ReadsChange(ChangeKind::kFeatures, "monetary"));
    CHECK_FALSE(d.ReadsChange(ChangeKind::kEvents, "email.opened"));
    CHECK_FALSE(d.ReadsChange(ChangeKind::kTime));
  }
  SECTION("events, orders, segments and time") {
    CheckedSegment s = Compiled(
        R"(count(product.viewed, category = "Music/Jazz", 7d) >= 3 OR count(email.opened, 30d) >= 3 OR NOT purchased(90d) OR in_segment("vip") OR in_segment("b2b") OR attr.vip = true)");
    const SegmentDependencies& d = s.dependencies;
    CHECK(d.Reads(ChangeKind::kEvents));
    CHECK(d.Reads(ChangeKind::kOrders));
    CHECK(d.Reads(ChangeKind::kSegments));
    CHECK(d.Reads(ChangeKind::kAttributes));
    CHECK(d.reads_time());
    CHECK_FALSE(d.Reads(ChangeKind::kProfile));
    CHECK_FALSE(d.Reads(ChangeKind::kFeatures));
    CHECK(d.event_types == std::set<std::string>{"product.viewed", "email.opened"});
    CHECK(d.segments == std::set<std::string>{"vip", "b2b"});
    CHECK(d.fields == std::set<std::string>{"attr.vip"});
    CHECK(d.longest_window == absl::Hours(24 * 90));
    // Which changes re-evaluate it.
    CHECK(d.ReadsChange(ChangeKind::kEvents, "email.opened"));
    CHECK_FALSE(d.ReadsChange(ChangeKind::kEvents, "email.clicked"));
    CHECK(d.ReadsChange(ChangeKind::kEvents));
    CHECK(d.ReadsChange(ChangeKind::kSegments, "b2b"));
    CHECK_FALSE(d.ReadsChange(ChangeKind::kSegments, "other"));
    CHECK(d.ReadsChange(ChangeKind::kAttributes, "attr.vip"));
    CHECK_FALSE(d.ReadsChange(ChangeKind::kAttributes, "attr.plan"));
    CHECK_FALSE(d.ReadsChange(ChangeKind::kProfile, "profile.country"));
    CHECK_FALSE(d.ReadsChange(ChangeKind::kProfile));
    CHECK(d.ReadsChange(ChangeKind::kOrders));
    CHECK(d.ReadsChange(ChangeKind::kTime));
  }
  SECTION("spent reads orders and time, not events") {
    const SegmentDependencies d = Compiled("spent(365d) >= 100").dependencies;
    CHECK(d.kinds ==
          (static_cast<uint32_t>(ChangeKind::kOrders) | static_cast<uint32_t>(ChangeKind::kTime)));
  }
}

TEST_CASE("segment checker: hand-built trees too deep are refused", "[segmentation][segment]") {
  Expr leaf;
  leaf.kind = ExprKind::kInSegment;
  leaf.segment_id = "x";
  Expr e = leaf;
  for (int i = 0; i < 300; ++i) {
    Expr n;
    n.kind = ExprKind::kNot;
    n.children.push_back(std::move(e));
    e = std::move(n);
  }
  absl::StatusOr<CheckedSegment> s = CheckSegment(std::move(e), Catalog());
  REQUIRE_FALSE(s.ok());
  CHECK(absl::StrContains(s.status().message(), "expression tree deeper than 260 nodes"));
  Expr bad;
  bad.kind = ExprKind::kAnd;
  bad.children.push_back(leaf);
  CHECK_FALSE(CheckSegment(bad, Catalog()).ok());
}

absl::Status Refs(const SegmentGraph& g, const std::string& id, std::set<std::string> refs) {
  return CheckSegmentReferences(g, id, refs);
}

TEST_CASE("segment references: cycles are refused, naming the path", "[segmentation][segment]") {
  const SegmentGraph g = {{"a", {"b"}}, {"b", {"c"}}, {"c", {}}, {"d", {"a", "c"}}};
  SECTION("acyclic additions and edits") {
    CHECK(Refs(g, "new", {"a", "d"}).ok());
    CHECK(Refs(g, "c", {}).ok());
    CHECK(Refs(g, "a", {"c"}).ok());
    CHECK(Refs(g, "new", {}).ok());
  }
  SECTION("a segment referencing itself") {
    absl::Status s = Refs(g, "new", {"new"});
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(ReasonOf(s) == "SEGMENT_CYCLE");
    CHECK(s.message() == "segment references form a cycle: new -> new");
  }
  SECTION("an edit closing a cycle through others") {
    absl::Status s = Refs(g, "c", {"d"});
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(ReasonOf(s) == "SEGMENT_CYCLE");
    CHECK(s.message() == "segment references form a cycle: c -> d -> a -> b -> c");
    CHECK(Refs(g, "b", {"a"}).message() == "segment references form a cycle: b -> a -> b");
  }
  SECTION("unknown references") {
    absl::Status s = Refs(g, "new", {"a", "zzz"});
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(ReasonOf(s) == "SEGMENT_INVALID");
    CHECK(s.message() == "in_segment(\"zzz\"): no segment has this id");
  }
  SECTION("a long chain: no recursion") {
    SegmentGraph chain;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
      chain["s" + std::to_string(i)] =
          i + 1 < n ? std::set<std::string>{"s" + std::to_string(i + 1)} : std::set<std::string>{};
    }
    CHECK(Refs(chain, "top", {"s0"}).ok());
    absl::Status s = Refs(chain, "s" + std::to_string(n - 1), {"s0"});
    CHECK(ReasonOf(s) == "SEGMENT_CYCLE");
    CHECK(s.message() ==
          "segment references form a cycle: s199999 -> s0 -> s1 -> s2 -> s3 -> ... (199991 more) "
          "-> s199995 -> s199996 -> s199997 -> s199998 -> s199999");
  }
}

TEST_CASE("segment references: evaluation order", "[segmentation][segment]") {
  const SegmentGraph g = {
      {"a", {"b"}}, {"b", {"c"}}, {"c", {}}, {"d", {"a", "c", "gone"}}, {"e", {}}};
  absl::StatusOr<std::vector<std::string>> order = SegmentEvaluationOrder(g);
  REQUIRE(order.ok());
  CHECK(*order == std::vector<std::string>{"c", "b", "a", "d", "e"});
  CHECK(SegmentEvaluationOrder({})->empty());
  absl::StatusOr<std::vector<std::string>> cyclic =
      SegmentEvaluationOrder({{"a", {"b"}}, {"b", {"a"}}, {"c", {}}, {"d", {"a"}}});
  REQUIRE_FALSE(cyclic.ok());
  CHECK(cyclic.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(cyclic.status()) == "SEGMENT_CYCLE");
  CHECK(cyclic.status().message() ==
        "segment references form a cycle; these segments cannot be ordered: a, b, d");
}

}  // namespace

TEST_CASE("segment checker: an undeclared attribute is typed by its literal",
          "[segmentation][segment]") {
  for (const char* text : {R"(attr.tier = "gold")", R"(attr.tier IN ("gold", "silver"))",
                           "attr.seats_used >= 10", "attr.trial = false"}) {
    INFO(text);
    const CheckedSegment s = Compiled(text);
    CHECK(s.dependencies.Reads(ChangeKind::kAttributes));
    CHECK(s.dependencies.fields.size() == 1);
  }
  CHECK(Compiled(R"(attr.tier = "gold")")
            .dependencies.ReadsChange(ChangeKind::kAttributes, "attr.tier"));
  CHECK(Invalid(R"(attr.tier > "gold")") ==
        "line 1, column 1: attr.tier is string: it takes = != or IN, not >");
  CHECK(Invalid(R"(attr.tier IN ("gold", 3))") ==
        "line 1, column 23: attr.tier is string, compared with a number");
  CHECK(Invalid("attr.trial IN (true)") ==
        "line 1, column 1: attr.trial is bool: it takes = or !=, not IN");
  // A declared attribute keeps its declared type.
  CHECK(Invalid("attr.seats = \"ten\"") ==
        "line 1, column 14: attr.seats is number, compared with a string");
}

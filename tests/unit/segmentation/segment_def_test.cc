// A saved segment's definition: id and text checks, edits (versions,
// revisions, etags) and deletion of a segment others read.
#include "services/segmentation/domain/segment_def.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "libs/common/errors.h"

namespace {

using namespace crm::segmentation::domain;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;

const absl::Time t0 = absl::FromCivil(absl::CivilSecond(2026, 3, 1, 12, 0, 0), absl::UTCTimeZone());

SegmentDefinition Valid() {
  SegmentDefinition s;
  s.id = "recent_buyers";
  s.display_name = "Recent buyers";
  s.description = "Bought in the last 30 days";
  s.expression = "purchased(30d)";
  s.version = 3;
  s.revision = 5;
  s.reads_time = true;
  s.create_time = t0 - absl::Hours(48);
  s.update_time = t0 - absl::Hours(24);
  return s;
}

std::string Repeat(const std::string& unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

std::string Hex(const std::string& bytes) {
  std::string out;
  constexpr char kDigits[] = "0123456789ABCDEF";
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xF];
    out += ' ';
  }
  return out;
}

void CheckInvalidField(const absl::Status& st, const std::string& field) {
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(st) == "INVALID_FIELD");
  CHECK(FieldOf(st) == field);
}

TEST_CASE("CheckSegmentId accepts lowercase ids starting with a letter",
          "[segmentation][segment_def]") {
  for (const std::string& id :
       std::vector<std::string>{"a", "vip", "recent_buyers", "high-value", "z9", "a0_-b",
                                std::string(63, 'a'), "x" + std::string(62, '9')}) {
    INFO(id);
    CHECK(CheckSegmentId(id).ok());
  }
}

TEST_CASE("CheckSegmentId refuses other ids", "[segmentation][segment_def]") {
  for (const std::string& id : std::vector<std::string>{
           std::string(), std::string("VIP"), std::string("Vip"), std::string("vIp"),
           std::string("1vip"), std::string("_vip"), std::string("-vip"), std::string(64, 'a'),
           std::string("a b"), std::string(" vip"), std::string("vip "), std::string("vip.x"),
           std::string("vip/x"), std::string("v\"ip"), std::string("caf\xC3\xA9"),
           std::string("vip\n"), std::string("vip\0x", 5)}) {
    INFO("id: " << id << " (" << id.size() << " bytes)");
    CheckInvalidField(CheckSegmentId(id), "segment.segment_id");
  }
}

TEST_CASE("CheckDefinition accepts a valid definition", "[segmentation][segment_def]") {
  SegmentDefinition s = Valid();
  CHECK(CheckDefinition(s).ok());
  SECTION("an empty description") {
    s.description.clear();
    CHECK(CheckDefinition(s).ok());
  }
  SECTION("a one-character name") {
    s.display_name = "X";
    CHECK(CheckDefinition(s).ok());
  }
}

TEST_CASE("CheckDefinition checks the id first", "[segmentation][segment_def]") {
  SegmentDefinition s = Valid();
  s.id = "Bad Id";
  s.display_name.clear();
  CheckInvalidField(CheckDefinition(s), "segment.segment_id");
}

TEST_CASE("CheckDefinition counts display_name in code points", "[segmentation][segment_def]") {
  SegmentDefinition s = Valid();
  SECTION("empty is refused") {
    s.display_name.clear();
    CheckInvalidField(CheckDefinition(s), "segment.display_name");
  }
  SECTION("200 ASCII characters pass, 201 do not") {
    s.display_name = std::string(200, 'n');
    CHECK(CheckDefinition(s).ok());
    s.display_name += "n";
    CheckInvalidField(CheckDefinition(s), "segment.display_name");
  }
  SECTION("200 two-byte characters (400 bytes) pass, 201 do not") {
    s.display_name = Repeat("\xC3\xA9", 200);  // é
    REQUIRE(s.display_name.size() == 400);
    CHECK(CheckDefinition(s).ok());
    s.display_name += "\xC3\xA9";
    CheckInvalidField(CheckDefinition(s), "segment.display_name");
  }
  SECTION("200 three-byte characters pass, 201 do not") {
    s.display_name = Repeat("\xE2\x82\xAC", 200);  // €
    CHECK(CheckDefinition(s).ok());
    s.display_name += "a";
    CheckInvalidField(CheckDefinition(s), "segment.display_name");
  }
  SECTION("200 four-byte characters (800 bytes) pass, 201 do not") {
    s.display_name = Repeat("\xF0\x9F\x98\x80", 200);  // U+1F600
    REQUIRE(s.display_name.size() == 800);
    CHECK(CheckDefinition(s).ok());
    s.display_name += "\xF0\x9F\x98\x80";
    CheckInvalidField(CheckDefinition(s), "segment.display_name");
  }
  SECTION("mixed widths") {
    s.display_name = "Caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC";
    CHECK(CheckDefinition(s).ok());
  }
  SECTION("the highest code point U+10FFFF is valid") {
    s.display_name = "\xF4\x8F\xBF\xBF";
    CHECK(CheckDefinition(s).ok());
  }
}

TEST_CASE("CheckDefinition refuses invalid UTF-8", "[segmentation][segment_def]") {
  const std::vector<std::string> invalid = {
      "\xFF",                  // never in UTF-8
      "abc\xC3",               // truncated two-byte sequence
      "\xE2\x82",              // truncated three-byte sequence
      "\x80",                  // lone continuation byte
      "a\xC3\x28",             // bad continuation byte
      "\xC0\xAF",              // overlong '/'
      "\xC1\xBF",              // overlong
      "\xE0\x80\xAF",          // overlong '/' in three bytes
      "\xF0\x80\x80\xAF",      // overlong '/' in four bytes
      "\xED\xA0\x80",          // UTF-16 surrogate U+D800
      "\xED\xBF\xBF",          // UTF-16 surrogate U+DFFF
      "\xF4\x90\x80\x80",      // U+110000, beyond Unicode
      "\xF5\x80\x80\x80",      // lead byte F5
      "\xF8\x88\x80\x80\x80",  // five-byte form
  };
  for (const std::string& bad : invalid) {
    INFO("bytes: " << Hex(bad));
    SegmentDefinition s = Valid();
    s.display_name = "Name " + bad;
    CheckInvalidField(CheckDefinition(s), "segment.display_name");
    s = Valid();
    s.description = "Text " + bad;
    CheckInvalidField(CheckDefinition(s), "segment.description");
  }
}

TEST_CASE("CheckDefinition limits description to 2000 code points", "[segmentation][segment_def]") {
  SegmentDefinition s = Valid();
  s.description = std::string(2000, 'd');
  CHECK(CheckDefinition(s).ok());
  s.description += "d";
  CheckInvalidField(CheckDefinition(s), "segment.description");
  s.description = Repeat("\xC3\xA9", 2000);  // 4000 bytes, 2000 characters
  CHECK(CheckDefinition(s).ok());
  s.description += "\xC3\xA9";
  CheckInvalidField(CheckDefinition(s), "segment.description");
}

TEST_CASE("ApplyPatch with a new expression makes a new version", "[segmentation][segment_def]") {
  SegmentDefinition s = Valid();
  const SegmentDefinition before = s;
  SegmentPatch patch;
  patch.expression = "purchased(60d)";
  CHECK(ApplyPatch(s, patch, t0));
  CHECK(s.expression == "purchased(60d)");
  CHECK(s.version == before.version + 1);
  CHECK(s.revision == before.revision + 1);
  CHECK(s.update_time == t0);
  CHECK(s.create_time == before.create_time);
  CHECK(s.display_name == before.display_name);
  CHECK(s.description == before.description);
  CHECK(EtagOf(s) != EtagOf(before));

  SECTION("with the name changed too: still one version and one revision") {
    SegmentDefinition t = before;
    patch.display_name = "Buyers (60 days)";
    CHECK(ApplyPatch(t, patch, t0));
    CHECK(t.version == before.version + 1);
    CHECK(t.revision == before.revision + 1);
    CHECK(t.display_name == "Buyers (60 days)");
  }
}

TEST_CASE("ApplyPatch of name or description makes a new revision only",
          "[segmentation][segment_def]") {
  SegmentDefinition s = Valid();
  const SegmentDefinition before = s;
  SegmentPatch patch;
  SECTION("display_name") {
    patch.display_name = "Buyers";
    CHECK_FALSE(ApplyPatch(s, patch, t0));
    CHECK(s.display_name == "Buyers");
  }
  SECTION("description, to empty") {
    patch.description = "";
    CHECK_FALSE(ApplyPatch(s, patch, t0));
    CHECK(s.description.empty());
  }
  SECTION("the same expression with a new name") {
    patch.expression = before.expression;
    patch.display_name = "Buyers";
    CHECK_FALSE(ApplyPatch(s, patch, t0));
  }
  CHECK(s.version == before.version);
  CHECK(s.revision == before.revision + 1);
  CHECK(s.update_time == t0);
  CHECK(s.expression == before.expression);
  CHECK(EtagOf(s) != EtagOf(before));
}

TEST_CASE("ApplyPatch equal to the current values changes nothing", "[segmentation][segment_def]") {
  SegmentDefinition s = Valid();
  const SegmentDefinition before = s;
  SegmentPatch patch;
  SECTION("empty patch") {}
  SECTION("every field given with its current value") {
    patch.display_name = before.display_name;
    patch.description = before.description;
    patch.expression = before.expression;
  }
  CHECK_FALSE(ApplyPatch(s, patch, t0));
  CHECK(s.version == before.version);
  CHECK(s.revision == before.revision);
  CHECK(s.update_time == before.update_time);
  CHECK(s.display_name == before.display_name);
  CHECK(s.description == before.description);
  CHECK(s.expression == before.expression);
  CHECK(EtagOf(s) == EtagOf(before));
}

TEST_CASE("Successive patches count versions and revisions", "[segmentation][segment_def]") {
  SegmentDefinition s = Valid();
  s.version = 1;
  s.revision = 1;
  SegmentPatch expr;
  expr.expression = "purchased(7d)";
  SegmentPatch name;
  name.display_name = "Weekly buyers";
  CHECK(ApplyPatch(s, expr, t0));
  CHECK_FALSE(ApplyPatch(s, name, t0 + absl::Seconds(1)));
  CHECK_FALSE(ApplyPatch(s, name, t0 + absl::Seconds(2)));  // no change the second time
  expr.expression = "purchased(14d)";
  CHECK(ApplyPatch(s, expr, t0 + absl::Seconds(3)));
  CHECK(s.version == 3);
  CHECK(s.revision == 4);
  CHECK(s.update_time == t0 + absl::Seconds(3));
  CHECK(EtagOf(s) == "4");
}

TEST_CASE("EtagOf follows the revision", "[segmentation][segment_def]") {
  SegmentDefinition a = Valid();
  SegmentDefinition b = Valid();
  b.display_name = "Other";
  b.version = 9;
  CHECK(EtagOf(a) == EtagOf(b));  // same revision
  CHECK(!EtagOf(a).empty());
  b.revision = a.revision + 1;
  CHECK(EtagOf(a) != EtagOf(b));
  a.revision = 1;
  CHECK(EtagOf(a) == "1");
}

TEST_CASE("CheckDeletable refuses a segment other segments read", "[segmentation][segment_def]") {
  CHECK(CheckDeletable("buyers", {}).ok());
  absl::Status st = CheckDeletable("buyers", {"vip", "lapsed"});
  CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReasonOf(st) == "SEGMENT_IN_USE");
  CHECK_THAT(std::string(st.message()), Catch::Contains("buyers"));
  CHECK_THAT(std::string(st.message()), Catch::Contains("vip"));
  CHECK_THAT(std::string(st.message()), Catch::Contains("lapsed"));
  absl::Status one = CheckDeletable("buyers", {"vip"});
  CHECK(ReasonOf(one) == "SEGMENT_IN_USE");
  CHECK_THAT(std::string(one.message()), Catch::Contains("vip"));
}

}  // namespace

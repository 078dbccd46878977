// Choosing the XTRIM MINID threshold from consumer-group positions.
#include <catch2/catch.hpp>

#include "libs/outbox/relay.h"

namespace {

using crm::outbox::GroupPosition;
using crm::outbox::NextStreamId;
using crm::outbox::ParseStreamId;
using crm::outbox::StreamId;
using crm::outbox::TrimThreshold;

GroupPosition G(const std::string& delivered, std::optional<std::string> pending = std::nullopt) {
  GroupPosition g;
  g.name = "g";
  g.last_delivered_id = delivered;
  g.oldest_pending = std::move(pending);
  return g;
}

TEST_CASE("ParseStreamId accepts ms-seq only", "[events][trim]") {
  auto id = ParseStreamId("1700000000000-42");
  REQUIRE(id.has_value());
  CHECK(id->ms == 1700000000000u);
  CHECK(id->seq == 42u);
  CHECK_FALSE(ParseStreamId("").has_value());
  CHECK_FALSE(ParseStreamId("17").has_value());
  CHECK_FALSE(ParseStreamId("17-").has_value());
  CHECK_FALSE(ParseStreamId("-1").has_value());
  CHECK_FALSE(ParseStreamId("1-2-3").has_value());
  CHECK_FALSE(ParseStreamId("a-1").has_value());
}

TEST_CASE("NextStreamId increments the sequence and carries over", "[events][trim]") {
  StreamId a = NextStreamId(StreamId{5, 3});
  CHECK(a.ms == 5u);
  CHECK(a.seq == 4u);
  StreamId b = NextStreamId(StreamId{5, std::numeric_limits<uint64_t>::max()});
  CHECK(b.ms == 6u);
  CHECK(b.seq == 0u);
  CHECK(StreamId{1, 9} < StreamId{2, 0});
  CHECK(StreamId{2, 0} < StreamId{2, 1});
  CHECK_FALSE(StreamId{2, 1} < StreamId{2, 1});
}

TEST_CASE("no group means no trimming", "[events][trim]") {
  CHECK_FALSE(TrimThreshold({}).has_value());
}

TEST_CASE("a group with nothing pending needs the entry after its last delivered id",
          "[events][trim]") {
  CHECK(TrimThreshold({G("10-2")}) == std::optional<std::string>("10-3"));
  CHECK(TrimThreshold({G("0-0")}) == std::optional<std::string>("0-1"));
}

TEST_CASE("the oldest pending entry bounds the threshold", "[events][trim]") {
  CHECK(TrimThreshold({G("10-2", "7-0")}) == std::optional<std::string>("7-0"));
  // A pending id above last-delivered (read after XINFO) never raises it.
  CHECK(TrimThreshold({G("10-2", "12-0")}) == std::optional<std::string>("10-3"));
}

TEST_CASE("the slowest group wins", "[events][trim]") {
  CHECK(TrimThreshold({G("20-0", "15-1"), G("9-9"), G("30-0", "25-0")}) ==
        std::optional<std::string>("9-10"));
  CHECK(TrimThreshold({G("20-0", "3-1"), G("9-9")}) == std::optional<std::string>("3-1"));
  // Compared numerically, not as text.
  CHECK(TrimThreshold({G("100-0"), G("99-0")}) == std::optional<std::string>("99-1"));
}

TEST_CASE("an unparsable id disables trimming", "[events][trim]") {
  CHECK_FALSE(TrimThreshold({G("10-2"), G("bogus")}).has_value());
  CHECK_FALSE(TrimThreshold({G("10-2", "x-1")}).has_value());
}

}  // namespace

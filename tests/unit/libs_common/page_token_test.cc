#include "libs/common/page_token.h"

#include <catch2/catch.hpp>
#include <string>

#include "libs/common/errors.h"

namespace {

using crm::common::ClampPageSize;
using crm::common::FieldOf;
using crm::common::PageTokenCodec;
using crm::common::ReasonOf;

void RequireBadToken(const absl::StatusOr<std::string>& r) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReasonOf(r.status()) == "INVALID_PAGE_TOKEN");
  CHECK(FieldOf(r.status()) == "page_token");
}

TEST_CASE("PageTokenCodec binds tokens to tenant and scope", "[common][page_token]") {
  PageTokenCodec codec("secret-1");
  const std::string cursor = "1700000000123456|00000000-0000-4000-8000-000000000001";
  std::string token = codec.Encode("tenant-a", "list_customers", cursor);

  SECTION("round trip") {
    auto r = codec.Decode("tenant-a", "list_customers", token);
    REQUIRE(r.ok());
    CHECK(*r == cursor);
    CHECK(token.find(cursor) == std::string::npos);  // opaque, not the cursor verbatim
    auto empty = codec.Decode("t", "s", codec.Encode("t", "s", ""));
    REQUIRE(empty.ok());
    CHECK(empty->empty());
    std::string binary("a\0b|\xff", 5);
    auto bin = codec.Decode("t", "s", codec.Encode("t", "s", binary));
    REQUIRE(bin.ok());
    CHECK(*bin == binary);
  }
  SECTION("another tenant") { RequireBadToken(codec.Decode("tenant-b", "list_customers", token)); }
  SECTION("another scope") { RequireBadToken(codec.Decode("tenant-a", "search_customers", token)); }
  SECTION("another secret") {
    RequireBadToken(PageTokenCodec("secret-2").Decode("tenant-a", "list_customers", token));
  }
  SECTION("tenant/scope boundary cannot be shifted") {
    std::string t = codec.Encode("ab", "c", "x");
    RequireBadToken(codec.Decode("a", "bc", t));
  }
  SECTION("tampered cursor") {
    std::string other = codec.Encode("tenant-a", "list_customers", "0|x");
    std::string forged = other.substr(0, other.find('.')) + token.substr(token.find('.'));
    RequireBadToken(codec.Decode("tenant-a", "list_customers", forged));
    std::string flipped = token;
    flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
    RequireBadToken(codec.Decode("tenant-a", "list_customers", flipped));
    std::string flipped_mac = token;
    char& mid = flipped_mac[token.find('.') + 5];  // a data character of the MAC
    mid = mid == 'A' ? 'B' : 'A';
    RequireBadToken(codec.Decode("tenant-a", "list_customers", flipped_mac));
  }
  SECTION("garbage") {
    for (std::string g : {std::string(), std::string("."), std::string("no-dot"),
                          std::string("!!!.???"), token + "x", token.substr(0, token.size() - 3),
                          std::string(2000, 'A') + "." + std::string(22, 'A')}) {
      INFO(g);
      RequireBadToken(codec.Decode("tenant-a", "list_customers", g));
    }
  }
}

TEST_CASE("ClampPageSize", "[common][page_token]") {
  CHECK(*ClampPageSize(0, 50, 1000) == 50);
  CHECK(*ClampPageSize(1, 50, 1000) == 1);
  CHECK(*ClampPageSize(1000, 50, 1000) == 1000);
  CHECK(*ClampPageSize(1001, 50, 1000) == 1000);
  auto neg = ClampPageSize(-1, 50, 1000);
  REQUIRE_FALSE(neg.ok());
  CHECK(neg.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(neg.status()) == "page_size");
}

}  // namespace

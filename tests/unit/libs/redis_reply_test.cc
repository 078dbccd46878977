#include <hiredis/hiredis.h>

#include <string>

#include <catch2/catch.hpp>

#include "libs/redis/redis.h"

namespace {

using absl::StatusCode;
using crm::redis::ParseAddress;
using crm::redis::Reply;

// Parses one RESP2 reply with hiredis' own reader (no network).
Reply Parse(const std::string& wire) {
  redisReader* reader = redisReaderCreate();
  REQUIRE(reader != nullptr);
  REQUIRE(redisReaderFeed(reader, wire.data(), wire.size()) == REDIS_OK);
  void* raw = nullptr;
  REQUIRE(redisReaderGetReply(reader, &raw) == REDIS_OK);
  redisReaderFree(reader);
  REQUIRE(raw != nullptr);
  return Reply(static_cast<redisReply*>(raw));
}

}  // namespace

TEST_CASE("ParseAddress accepts host:port", "[libs][redis][address]") {
  auto o = ParseAddress("127.0.0.1:6380");
  REQUIRE(o.ok());
  CHECK(o->host == "127.0.0.1");
  CHECK(o->port == 6380);

  auto named = ParseAddress("redis.crm.svc:6379");
  REQUIRE(named.ok());
  CHECK(named->host == "redis.crm.svc");

  auto v6 = ParseAddress("[::1]:7000");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 7000);
}

TEST_CASE("ParseAddress rejects malformed input", "[libs][redis][address]") {
  for (const char* bad : {"", "localhost", ":6379", "host:", "host:0", "host:65536", "host:-1",
                          "host:63x9", "host:6379 ", "host:99999999999"}) {
    INFO(bad);
    auto o = ParseAddress(bad);
    REQUIRE_FALSE(o.ok());
    CHECK(o.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Reply accessors check the reply type", "[libs][redis][reply]") {
  SECTION("bulk string") {
    Reply r = Parse("$5\r\nhello\r\n");
    CHECK(r.String().value() == "hello");
    CHECK(r.Integer().status().code() == StatusCode::kInternal);
    CHECK(r.ArraySize().status().code() == StatusCode::kInternal);
    CHECK(r.Element(0).status().code() == StatusCode::kInternal);
    CHECK_FALSE(r.is_nil());
    CHECK_FALSE(r.is_error());
    CHECK(r.DebugType() == "string");
  }
  SECTION("binary-safe string") {
    Reply r = Parse(std::string("$3\r\na\0b\r\n", 10));
    CHECK(r.String().value() == std::string("a\0b", 3));
  }
  SECTION("status") {
    Reply r = Parse("+OK\r\n");
    CHECK(r.String().value() == "OK");
    CHECK(r.DebugType() == "status");
  }
  SECTION("integer") {
    Reply r = Parse(":-42\r\n");
    CHECK(r.Integer().value() == -42);
    CHECK(r.String().status().code() == StatusCode::kInternal);
  }
  SECTION("nil") {
    Reply r = Parse("$-1\r\n");
    CHECK(r.is_nil());
    CHECK(r.String().status().code() == StatusCode::kInternal);
    CHECK(r.ArraySize().value() == 0);
  }
  SECTION("array with borrowed elements") {
    Reply r = Parse("*3\r\n$1\r\na\r\n:7\r\n*-1\r\n");
    REQUIRE(r.ArraySize().value() == 3);
    {
      auto e0 = r.Element(0);
      REQUIRE(e0.ok());
      CHECK(e0->String().value() == "a");
      Reply moved = std::move(e0).value();  // moving a view must not free the parent's child
      CHECK(moved.String().value() == "a");
    }
    CHECK(r.Element(0)->String().value() == "a");
    CHECK(r.Element(1)->Integer().value() == 7);
    CHECK(r.Element(2)->is_nil());
    CHECK(r.Element(3).status().code() == StatusCode::kOutOfRange);
  }
  SECTION("error reply maps to a status through every accessor") {
    Reply r = Parse("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    CHECK(r.is_error());
    absl::Status s = r.String().status();
    CHECK(s.code() == StatusCode::kInternal);
    CHECK(s.message() == "redis: WRONGTYPE");
    Reply loading = Parse("-LOADING Redis is loading the dataset in memory\r\n");
    CHECK(loading.Integer().status().code() == StatusCode::kUnavailable);
    Reply nogroup = Parse("-NOGROUP No such key 'k' or consumer group 'g'\r\n");
    CHECK(nogroup.String().status().code() == StatusCode::kFailedPrecondition);
  }
  SECTION("default-constructed reply is empty, not a crash") {
    Reply r;
    CHECK(r.is_nil());
    CHECK(r.String().status().code() == StatusCode::kInternal);
    CHECK(r.Element(0).status().code() == StatusCode::kInternal);
  }
  SECTION("move assignment releases the old reply") {
    Reply a = Parse(":1\r\n");
    a = Parse(":2\r\n");
    CHECK(a.Integer().value() == 2);
  }
}

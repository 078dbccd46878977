// crm::redis::Pool against the shared test Redis (datastores fixture) and,
// for kill/restart scenarios, a private redis-server owned by the test so
// other suites sharing the fixture are never disturbed.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "libs/redis/redis.h"
#include "tests/support/redis_test_db.h"

namespace {

namespace fs = std::filesystem;
namespace ts = crm::test_support;
using absl::StatusCode;
using crm::redis::Pool;
using crm::redis::PoolOptions;
using crm::redis::Reply;

std::unique_ptr<Pool> SharedPool() {
  auto pool = ts::MakeRedisPool();
  REQUIRE(pool.ok());
  return std::move(pool).value();
}

// A throwaway redis-server on its own port and folder.
class PrivateRedis final {
 public:
  PrivateRedis()
      : port_(57000 + static_cast<int>(getpid() % 2000)),
        dir_(fs::temp_directory_path() / ts::UniqueName("crm_redis")) {
    fs::create_directories(dir_);
    Start();
  }
  ~PrivateRedis() {
    Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  PrivateRedis(const PrivateRedis&) = delete;
  PrivateRedis& operator=(const PrivateRedis&) = delete;

  void Start() {
    const std::string cmd = absl::StrCat(
        "redis-server --port ", port_, " --bind 127.0.0.1 --save '' --appendonly no --dir ",
        dir_.string(), " --daemonize yes --pidfile ", (dir_ / "redis.pid").string(),
        " --logfile ", (dir_ / "redis.log").string());
    REQUIRE(std::system(cmd.c_str()) == 0);
    REQUIRE(WaitUntil(true));
  }
  void Stop() {
    // Exit status ignored: the server closes the connection while exiting;
    // WaitUntil(false) is the real check.
    const int rc = std::system(absl::StrCat("redis-cli -p ", port_,
                                            " shutdown nosave >/dev/null 2>&1").c_str());
    (void)rc;
    WaitUntil(false);
  }
  PoolOptions Options() const {
    PoolOptions o;
    o.host = "127.0.0.1";
    o.port = port_;
    o.size = 1;
    return o;
  }

 private:
  bool WaitUntil(bool up) const {
    const std::string ping =
        absl::StrCat("redis-cli -p ", port_, " ping 2>/dev/null | grep -q PONG");
    for (int i = 0; i < 100; ++i) {
      if ((std::system(ping.c_str()) == 0) == up) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  int port_;
  fs::path dir_;
};

// UNAVAILABLE at most once (the dropped connection), then success.
void RequireRecovers(Pool& pool) {
  absl::Status first = pool.Ping();
  if (!first.ok()) {
    CHECK(first.code() == StatusCode::kUnavailable);
    absl::Status second = pool.Ping();
    INFO(second.ToString());
    REQUIRE(second.ok());
  }
}

}  // namespace

TEST_CASE("redis replies of every type", "[libs][redis]") {
  auto pool = SharedPool();
  const std::string k = ts::UniqueName("t:libs:types");
  REQUIRE(pool->Ping().ok());

  auto set = pool->Command({"SET", k + ":s", "value"});
  REQUIRE(set.ok());
  CHECK(set->DebugType() == "status");
  CHECK(set->String().value() == "OK");

  auto get = pool->Command({"GET", k + ":s"});
  REQUIRE(get.ok());
  CHECK(get->DebugType() == "string");
  CHECK(get->String().value() == "value");
  CHECK(get->Integer().status().code() == StatusCode::kInternal);
  CHECK(get->Element(0).status().code() == StatusCode::kInternal);

  auto incr = pool->Command({"INCRBY", k + ":n", "41"});
  REQUIRE(incr.ok());
  CHECK(incr->Integer().value() == 41);
  CHECK(incr->String().status().code() == StatusCode::kInternal);

  auto nil = pool->Command({"GET", k + ":missing"});
  REQUIRE(nil.ok());
  CHECK(nil->is_nil());
  CHECK(nil->String().status().code() == StatusCode::kInternal);

  REQUIRE(pool->Command({"RPUSH", k + ":l", "a", "", std::string_view("b\0c", 3)}).ok());
  auto range = pool->Command({"LRANGE", k + ":l", "0", "-1"});
  REQUIRE(range.ok());
  REQUIRE(range->ArraySize().value() == 3);
  CHECK(range->Element(0)->String().value() == "a");
  CHECK(range->Element(1)->String().value().empty());
  CHECK(range->Element(2)->String().value() == std::string("b\0c", 3));
  CHECK(range->Element(3).status().code() == StatusCode::kOutOfRange);
  CHECK(range->Integer().status().code() == StatusCode::kInternal);

  SECTION("error replies become statuses") {
    auto wrong = pool->Command({"LPUSH", k + ":s", "x"});
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.status().code() == StatusCode::kInternal);
    CHECK(wrong.status().message() == "redis: WRONGTYPE");
    auto unknown = pool->Command({"NOSUCHCOMMAND"});
    CHECK(unknown.status().code() == StatusCode::kInternal);
    CHECK(unknown.status().message() == "redis: ERR");
    auto nogroup = pool->Command({"XREADGROUP", "GROUP", "g", "c", "STREAMS", k + ":x", ">"});
    CHECK(nogroup.status().code() == StatusCode::kFailedPrecondition);
    CHECK(pool->Command({}).status().code() == StatusCode::kInvalidArgument);
    CHECK(pool->Ping().ok());  // the connection survives server errors
  }
  REQUIRE(pool->Del({k + ":s", k + ":n", k + ":l"}).ok());
}

TEST_CASE("redis cache helpers", "[libs][redis]") {
  auto pool = SharedPool();
  const std::string k = ts::UniqueName("t:libs:cache");
  auto missing = pool->Get(k);
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());

  REQUIRE(pool->SetEx(k, "v1", absl::Seconds(30)).ok());
  auto got = pool->Get(k);
  REQUIRE(got.ok());
  CHECK(got->value_or("") == "v1");
  auto pttl = pool->Command({"PTTL", k});
  REQUIRE(pttl.ok());
  CHECK(pttl->Integer().value() > 25000);
  CHECK(pttl->Integer().value() <= 30000);

  CHECK(pool->SetEx(k, "v", absl::ZeroDuration()).code() == StatusCode::kInvalidArgument);

  REQUIRE(pool->Del({k}).ok());
  CHECK_FALSE(pool->Get(k)->has_value());
  CHECK(pool->Del({}).ok());

  REQUIRE(pool->Command({"LPUSH", k, "x"}).ok());
  CHECK(pool->Get(k).status().code() == StatusCode::kInternal);  // WRONGTYPE
  REQUIRE(pool->Del({k}).ok());
}

TEST_CASE("redis pipeline keeps replies in order", "[libs][redis]") {
  auto pool = SharedPool();
  const std::string k = ts::UniqueName("t:libs:pipe");
  auto replies = pool->Pipeline({{"SET", k, "10"},
                                 {"INCR", k},
                                 {"GET", k},
                                 {"HGET", k, "field"},  // WRONGTYPE stays in its slot
                                 {"DEL", k}});
  REQUIRE(replies.ok());
  REQUIRE(replies->size() == 5);
  CHECK((*replies)[0].String().value() == "OK");
  CHECK((*replies)[1].Integer().value() == 11);
  CHECK((*replies)[2].String().value() == "11");
  CHECK((*replies)[3].is_error());
  CHECK((*replies)[3].String().status().message() == "redis: WRONGTYPE");
  CHECK((*replies)[4].Integer().value() == 1);

  auto empty = pool->Pipeline({});
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  CHECK(pool->Pipeline({{"GET", k}, {}}).status().code() == StatusCode::kInvalidArgument);
  CHECK(pool->Ping().ok());
}

TEST_CASE("redis pool reconnects after CLIENT KILL and server restart", "[libs][redis][reconnect]") {
  PrivateRedis server;
  auto created = Pool::Create(server.Options());
  REQUIRE(created.ok());
  Pool& pool = **created;
  REQUIRE(pool.Ping().ok());

  SECTION("CLIENT KILL TYPE normal") {
    PoolOptions killer_options = server.Options();
    auto killer = Pool::Create(killer_options);
    REQUIRE(killer.ok());
    auto killed = (*killer)->Command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
    REQUIRE(killed.ok());
    CHECK(killed->Integer().value() >= 1);
    RequireRecovers(pool);
    CHECK(pool.SetEx("k", "v", absl::Seconds(5)).ok());
  }
  SECTION("server restart") {
    server.Stop();
    absl::Status down = pool.Ping();
    CHECK(down.code() == StatusCode::kUnavailable);
    CHECK(pool.Get("k").status().code() == StatusCode::kUnavailable);
    server.Start();
    RequireRecovers(pool);
    CHECK(pool.Ping().ok());
  }
}

TEST_CASE("redis UNAVAILABLE when nothing listens", "[libs][redis]") {
  PoolOptions o;
  o.host = "127.0.0.1";
  o.port = 1;
  auto pool = Pool::Create(o);
  REQUIRE(pool.ok());  // lazy: creating does not connect
  CHECK((*pool)->Ping().code() == StatusCode::kUnavailable);
  CHECK((*pool)->Get("k").status().code() == StatusCode::kUnavailable);
  CHECK((*pool)->Pipeline({{"PING"}}).status().code() == StatusCode::kUnavailable);
  CHECK((*pool)->Del({"k"}).code() == StatusCode::kUnavailable);
}

TEST_CASE("redis pool rejects bad options", "[libs][redis]") {
  PoolOptions o;
  o.size = 0;
  CHECK(Pool::Create(o).status().code() == StatusCode::kInvalidArgument);
  o.size = 1;
  o.port = 70000;
  CHECK(Pool::Create(o).status().code() == StatusCode::kInvalidArgument);
}

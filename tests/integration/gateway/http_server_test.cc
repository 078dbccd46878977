#include "services/gateway/api/http_server.h"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "tests/support/http_test_client.h"

namespace crm::gateway::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Response = crm::test_support::HttpResponse;

using Client = crm::test_support::HttpTestClient;

std::string Get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra_headers + "\r\n";
}
std::string Post(const std::string& target, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Echoes the request as JSON.
void Echo(HttpRequest req, Responder respond) {
  nlohmann::json j;
  j["method"] = req.method;
  j["path"] = req.path;
  j["query"] = req.query;
  j["body"] = req.body;
  j["x_test"] = req.Header("x-test");
  j["remote"] = req.remote_address;
  HttpResponse r;
  r.body = j.dump();
  if (req.path == "/text") r.headers.emplace_back("content-type", "text/plain");
  if (req.path == "/close") r.headers.emplace_back("connection", "close");
  if (req.path == "/created") r.status = 201;
  respond(std::move(r));
}

struct Started {
  explicit Started(HttpServerOptions options, Handler handler)
      : server(std::move(options), std::move(handler)) {
    absl::Status s = server.Start();
    INFO(s.ToString());
    REQUIRE(s.ok());
    REQUIRE(server.port() > 0);
  }
  HttpServer server;
};

HttpServerOptions LocalOptions() {
  HttpServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  return o;
}

TEST_CASE("HTTP server: keep-alive serves two requests on one connection",
          "[gateway][http][integration]") {
  Started s(LocalOptions(), Echo);
  Client c(s.server.port());
  Response r1 = c.RoundTrip(Get("/v1/customers?page_size=2", "X-Test: one\r\n"));
  CHECK(r1.result_int() == 200);
  CHECK(r1[http::field::content_type] == "application/json");
  CHECK(r1.keep_alive());
  nlohmann::json j1 = nlohmann::json::parse(r1.body());
  CHECK(j1["method"] == "GET");
  CHECK(j1["path"] == "/v1/customers");
  CHECK(j1["query"] == "page_size=2");
  CHECK(j1["x_test"] == "one");
  CHECK(j1["remote"] == "127.0.0.1");

  Response r2 = c.RoundTrip(Post("/v1/customers", R"({"givenName":"Ada"})"));
  CHECK(r2.result_int() == 200);
  CHECK(nlohmann::json::parse(r2.body())["body"] == R"({"givenName":"Ada"})");
  CHECK(r2[http::field::content_length] == std::to_string(r2.body().size()));

  SECTION("pipelined requests are answered in order") {
    c.Send(Get("/a") + Get("/b") + Get("/c"));
    CHECK(nlohmann::json::parse(c.Read().body())["path"] == "/a");
    CHECK(nlohmann::json::parse(c.Read().body())["path"] == "/b");
    CHECK(nlohmann::json::parse(c.Read().body())["path"] == "/c");
  }
  SECTION("handler headers and status are kept") {
    Response t = c.RoundTrip(Get("/text"));
    CHECK(t[http::field::content_type] == "text/plain");
    CHECK(c.RoundTrip(Get("/created")).result_int() == 201);
  }
  SECTION("Connection: close from the client or the handler") {
    Response closing = c.RoundTrip(Get("/x", "Connection: close\r\n"));
    CHECK(closing.result_int() == 200);
    CHECK_FALSE(closing.keep_alive());
    CHECK(c.PeerClosed());
    Client c2(s.server.port());
    Response handler_close = c2.RoundTrip(Get("/close"));
    CHECK_FALSE(handler_close.keep_alive());
    CHECK(c2.PeerClosed());
  }
}

TEST_CASE("HTTP server: limits and malformed requests", "[gateway][http][integration]") {
  HttpServerOptions o = LocalOptions();
  o.max_body_bytes = 1024;
  o.max_header_bytes = 2048;
  std::atomic<int> calls{0};
  Started s(o, [&calls](HttpRequest req, Responder respond) {
    ++calls;
    Echo(std::move(req), std::move(respond));
  });

  SECTION("oversized body (Content-Length) -> 413 and close") {
    Client c(s.server.port());
    Response r = c.RoundTrip(Post("/v1/customers", std::string(4096, 'x')));
    CHECK(r.result_int() == 413);
    nlohmann::json j = nlohmann::json::parse(r.body());
    CHECK(j["error"]["code"] == 413);
    CHECK(j["error"]["status"] == "RESOURCE_EXHAUSTED");
    CHECK(j["error"]["details"][0]["reason"] == "BODY_TOO_LARGE");
    CHECK(c.PeerClosed());
    CHECK(calls == 0);
  }
  SECTION("oversized chunked body -> 413") {
    Client c(s.server.port());
    std::string chunk(800, 'y');
    std::string raw =
        "POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "320\r\n" +
        chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n";
    CHECK(c.RoundTrip(raw).result_int() == 413);
    CHECK(calls == 0);
  }
  SECTION("body at the limit is accepted") {
    Client c(s.server.port());
    Response r = c.RoundTrip(Post("/v1/customers", std::string(1024, 'x')));
    CHECK(r.result_int() == 200);
  }
  SECTION("Expect: 100-continue") {
    Client c(s.server.port());
    c.Send("POST /v1/x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    Response cont = c.Read();
    CHECK(cont.result_int() == 100);
    c.Send("{}");
    Response r = c.Read();
    CHECK(r.result_int() == 200);
    CHECK(nlohmann::json::parse(r.body())["body"] == "{}");
  }
  SECTION("headers too large -> 431") {
    Client c(s.server.port());
    Response r = c.RoundTrip(Get("/x", "X-Big: " + std::string(4096, 'h') + "\r\n"));
    CHECK(r.result_int() == 431);
    CHECK(c.PeerClosed());
  }
  SECTION("malformed request line -> 400 and close") {
    Client c(s.server.port());
    Response r = c.RoundTrip("GET /x HTTP/9\r\n\r\n");
    CHECK(r.result_int() == 400);
    CHECK(nlohmann::json::parse(r.body())["error"]["status"] == "INVALID_ARGUMENT");
    CHECK(c.PeerClosed());
  }
}

TEST_CASE("HTTP server: a HeadHandler reads the body only when it wants it",
          "[gateway][http][integration]") {
  HttpServerOptions o = LocalOptions();
  o.max_body_bytes = 1024;
  std::atomic<int> bodies{0};
  // /refuse answers from the head alone; /later reads the body from another
  // thread; everything else reads it at once and echoes it.
  std::mutex mu;
  std::vector<std::thread> workers;
  HttpServer server(o, HeadHandler([&](HttpRequest req, BodyReader read_body,
                                       Responder respond) {
    CHECK(req.body.empty());
    if (req.path == "/refuse") {
      HttpResponse r;
      r.status = 401;
      r.body = "{}";
      respond(std::move(r));
      read_body([&](std::string) { ++bodies; });  // too late: ignored
      return;
    }
    auto echo = [&bodies, req, respond](std::string body) mutable {
      ++bodies;
      req.body = std::move(body);
      Echo(std::move(req), std::move(respond));
    };
    if (req.path == "/later") {
      std::lock_guard<std::mutex> lock(mu);
      workers.emplace_back([read_body = std::move(read_body), echo]() mutable {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        read_body(std::move(echo));
      });
      return;
    }
    read_body(std::move(echo));
  }));
  REQUIRE(server.Start().ok());

  SECTION("answered without its body: the connection closes, late bytes are not a request") {
    Client c(server.port());
    c.Send("POST /refuse HTTP/1.1\r\nHost: t\r\nContent-Length: 40\r\n\r\n");
    Response r = c.Read();
    CHECK(r.result_int() == 401);
    CHECK_FALSE(r.keep_alive());
    // Bytes that would parse as a request if they were taken for one.
    c.Send("GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(c.PeerClosed());
    CHECK(bodies == 0);
  }
  SECTION("answered without a body to read: keep-alive goes on") {
    Client c(server.port());
    Response r = c.RoundTrip(Get("/refuse"));
    CHECK(r.result_int() == 401);
    CHECK(r.keep_alive());
    Response next = c.RoundTrip(Post("/echo", "{\"a\":1}"));
    CHECK(next.result_int() == 200);
    CHECK(nlohmann::json::parse(next.body())["body"] == "{\"a\":1}");
  }
  SECTION("Expect: 100-continue: 100 only once the body is asked for") {
    Client c(server.port());
    c.Send("POST /refuse HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n"
           "Expect: 100-continue\r\n\r\n");
    CHECK(c.Read().result_int() == 401);
    Client d(server.port());
    d.Send("POST /later HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n"
           "Expect: 100-continue\r\n\r\n");
    CHECK(d.Read().result_int() == 100);
    d.Send("{}");
    Response r = d.Read();
    CHECK(r.result_int() == 200);
    CHECK(nlohmann::json::parse(r.body())["body"] == "{}");
    CHECK(r.keep_alive());
  }
  SECTION("the body read from another thread, then keep-alive") {
    Client c(server.port());
    for (int i = 0; i < 3; ++i) {
      Response r = c.RoundTrip(Post("/later", std::to_string(i)));
      CHECK(r.result_int() == 200);
      CHECK(nlohmann::json::parse(r.body())["body"] == std::to_string(i));
    }
  }
  SECTION("a body over the limit, once asked for: 413, the handler never sees it") {
    Client c(server.port());
    std::string chunk(800, 'y');
    Response r = c.RoundTrip(
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" +
        chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
    CHECK(r.result_int() == 413);
    CHECK(bodies == 0);
  }
  server.Stop();
  std::lock_guard<std::mutex> lock(mu);
  for (std::thread& t : workers) t.join();
}

TEST_CASE("HTTP server: Responder called from another thread", "[gateway][http][integration]") {
  std::mutex mu;
  std::vector<std::thread> workers;
  Started s(LocalOptions(), [&](HttpRequest req, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    workers.emplace_back([req = std::move(req), respond = std::move(respond)]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      HttpResponse r;
      r.body = "{\"path\":\"" + req.path + "\"}";
      respond(r);
      respond(r);  // a second call is ignored
    });
  });
  Client c(s.server.port());
  for (int i = 0; i < 3; ++i) {
    Response r = c.RoundTrip(Get("/async/" + std::to_string(i)));
    CHECK(r.result_int() == 200);
    CHECK(nlohmann::json::parse(r.body())["path"] == "/async/" + std::to_string(i));
  }
  std::lock_guard<std::mutex> lock(mu);
  for (std::thread& t : workers) t.join();
}

TEST_CASE("HTTP server: a dropped Responder answers 500, a throwing handler 500",
          "[gateway][http][integration]") {
  Started s(LocalOptions(), [](HttpRequest req, Responder respond) {
    if (req.path == "/throw") throw std::runtime_error("boom");
    (void)respond;  // dropped without a call
  });
  Client c(s.server.port());
  Response dropped = c.RoundTrip(Get("/drop"));
  CHECK(dropped.result_int() == 500);
  CHECK(nlohmann::json::parse(dropped.body())["error"]["status"] == "INTERNAL");
  Response thrown = c.RoundTrip(Get("/throw"));
  CHECK(thrown.result_int() == 500);
  CHECK(thrown.body().find("boom") == std::string::npos);
}

TEST_CASE("HTTP server: concurrent connections", "[gateway][http][integration]") {
  HttpServerOptions o = LocalOptions();
  o.threads = 4;
  Started s(o, Echo);
  constexpr int kClients = 16;
  constexpr int kRequests = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      Client c(s.server.port());
      for (int k = 0; k < kRequests; ++k) {
        const std::string path = "/c/" + std::to_string(i) + "/" + std::to_string(k);
        Response r = c.RoundTrip(Post(path, "{\"n\":" + std::to_string(k) + "}"));
        if (r.result_int() == 200 && nlohmann::json::parse(r.body())["path"] == path) ++ok;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  CHECK(ok == kClients * kRequests);
}

TEST_CASE("HTTP server: Stop closes idle connections and waits for in-flight ones",
          "[gateway][http][integration]") {
  std::mutex mu;
  std::vector<std::thread> workers;
  HttpServerOptions o = LocalOptions();
  o.shutdown_grace_seconds = 5;
  auto server = std::make_unique<HttpServer>(o, [&](HttpRequest req, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    workers.emplace_back([req = std::move(req), respond = std::move(respond)]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(req.path == "/slow" ? 300 : 0));
      HttpResponse r;
      r.body = "{}";
      respond(std::move(r));
    });
  });
  REQUIRE(server->Start().ok());
  const int port = server->port();
  Client idle(port);
  CHECK(idle.RoundTrip(Get("/fast")).result_int() == 200);
  Client busy(port);
  busy.Send(Get("/slow"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::thread stopper([&] { server->Stop(); });
  Response slow = busy.Read();  // answered during the grace period
  CHECK(slow.result_int() == 200);
  CHECK_FALSE(slow.keep_alive());
  stopper.join();
  CHECK(idle.PeerClosed());
  server.reset();
  std::lock_guard<std::mutex> lock(mu);
  for (std::thread& t : workers) t.join();
  // A port that nobody listens on any more refuses connections.
  CHECK_THROWS(Client(port));
}

TEST_CASE("HTTP server: Start errors", "[gateway][http][integration]") {
  HttpServerOptions o = LocalOptions();
  o.address = "not-an-ip";
  HttpServer bad(o, Echo);
  CHECK(bad.Start().code() == absl::StatusCode::kInvalidArgument);

  Started first(LocalOptions(), Echo);
  HttpServerOptions same = LocalOptions();
  same.port = first.server.port();
  HttpServer second(same, Echo);
  // SO_REUSEADDR does not allow two listeners on one port.
  CHECK(second.Start().code() == absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace crm::gateway::api

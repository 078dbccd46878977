#include "services/gateway/domain/router.h"

#include <catch2/catch.hpp>

#include "libs/common/errors.h"

namespace crm::gateway::domain {
namespace {

using Bindings = std::vector<std::pair<std::string, std::string>>;

void AddRoute(Router& r, const std::string& method, const std::string& path, int index) {
  absl::StatusOr<PathTemplate> t = ParsePathTemplate(path);
  REQUIRE(t.ok());
  r.Add(method, *t, index);
}

Router CustomerRouter() {
  Router r;
  AddRoute(r, "POST", "/v1/customers", 0);
  AddRoute(r, "GET", "/v1/customers/{customer_id}", 1);
  AddRoute(r, "PATCH", "/v1/customers/{customer_id}", 2);
  AddRoute(r, "DELETE", "/v1/customers/{customer_id}", 3);
  AddRoute(r, "GET", "/v1/customers", 4);
  AddRoute(r, "GET", "/v1/customers:search", 5);
  AddRoute(r, "POST", "/v1/customers:upsert", 6);
  AddRoute(r, "GET", "/v1/customers/{customer_id}/view", 7);
  AddRoute(r, "GET", "/v1/customers/{customer_id}:export", 8);
  AddRoute(r, "post", "/v1/apiKeys/{key_id}:revoke", 9);
  AddRoute(r, "GET", "/v1/customers/me", 10);
  AddRoute(r, "GET", "/v1/{name=**}", 11);
  return r;
}

int IndexOf(const Router& r, const std::string& method, const std::string& path) {
  absl::StatusOr<RouteMatch> m = r.Match(method, path);
  INFO(method << " " << path << ": " << m.status().ToString());
  REQUIRE(m.ok());
  return m->route_index;
}

TEST_CASE("Router picks the most specific template", "[gateway][domain]") {
  Router r = CustomerRouter();
  CHECK(r.size() == 12);
  CHECK(IndexOf(r, "POST", "/v1/customers") == 0);
  CHECK(IndexOf(r, "GET", "/v1/customers") == 4);
  CHECK(IndexOf(r, "GET", "/v1/customers:search") == 5);
  CHECK(IndexOf(r, "POST", "/v1/customers:upsert") == 6);
  CHECK(IndexOf(r, "GET", "/v1/customers/abc") == 1);
  CHECK(IndexOf(r, "GET", "/v1/customers/me") == 10);
  CHECK(IndexOf(r, "GET", "/v1/customers/abc/view") == 7);
  CHECK(IndexOf(r, "GET", "/v1/customers/abc:export") == 8);
  CHECK(IndexOf(r, "POST", "/v1/apiKeys/k1:revoke") == 9);
  CHECK(IndexOf(r, "GET", "/v1/anything/else/here") == 11);

  absl::StatusOr<RouteMatch> m = r.Match("GET", "/v1/customers/abc:export");
  REQUIRE(m.ok());
  CHECK(m->bindings == Bindings{{"customer_id", "abc"}});
  absl::StatusOr<RouteMatch> k = r.Match("POST", "/v1/apiKeys/k%3A1:revoke");
  REQUIRE(k.ok());
  CHECK(k->bindings == Bindings{{"key_id", "k:1"}});
}

TEST_CASE("Router 404 and 405", "[gateway][domain]") {
  Router r = CustomerRouter();
  SECTION("no template matches") {
    absl::StatusOr<RouteMatch> m = r.Match("GET", "/v2/customers");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == absl::StatusCode::kNotFound);
    CHECK(common::ReasonOf(m.status()) == "ROUTE_NOT_FOUND");
  }
  SECTION("path matches, method does not") {
    absl::StatusOr<RouteMatch> m = r.Match("PUT", "/v1/customers/abc");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(common::ReasonOf(m.status()) == "METHOD_NOT_ALLOWED");
    CHECK(std::string(m.status().message()).find("DELETE, GET, PATCH") != std::string::npos);
    CHECK(r.AllowedMethods("/v1/customers/abc") ==
          std::vector<std::string>{"DELETE", "GET", "PATCH"});
    // GET comes from the catch-all "/v1/{name=**}".
    CHECK(r.AllowedMethods("/v1/customers:upsert") == std::vector<std::string>{"GET", "POST"});
    CHECK(r.AllowedMethods("/nope").empty());
  }
  SECTION("single-segment variable with an encoded slash") {
    absl::StatusOr<RouteMatch> m = r.Match("GET", "/v1/customers/a%2Fb/view");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(common::FieldOf(m.status()) == "customer_id");
  }
  SECTION("empty router") {
    Router empty;
    CHECK(empty.Match("GET", "/").status().code() == absl::StatusCode::kNotFound);
  }
}

}  // namespace
}  // namespace crm::gateway::domain

#include "services/gateway/domain/path_template.h"

#include <catch2/catch.hpp>

namespace crm::gateway::domain {
namespace {

using Bindings = std::vector<std::pair<std::string, std::string>>;

PathTemplate MustParse(const std::string& text) {
  absl::StatusOr<PathTemplate> t = ParsePathTemplate(text);
  INFO(text << ": " << t.status().ToString());
  REQUIRE(t.ok());
  return *t;
}

TEST_CASE("ParsePathTemplate parses the HttpRule grammar", "[gateway][domain]") {
  SECTION("literals and a variable") {
    PathTemplate t = MustParse("/v1/customers/{customer_id}/view");
    REQUIRE(t.segments.size() == 4);
    CHECK(t.segments[0].literal == "v1");
    CHECK(t.segments[2].kind == PathSegment::Kind::kWildcard);
    REQUIRE(t.variables.size() == 1);
    CHECK(t.variables[0].field_path == "customer_id");
    CHECK(t.variables[0].begin == 2);
    CHECK(t.variables[0].end == 3);
    CHECK(t.variables[0].single_segment());
    CHECK(t.verb.empty());
  }
  SECTION("verb belongs to the last segment") {
    PathTemplate t = MustParse("/v1/apiKeys/{key_id}:revoke");
    CHECK(t.verb == "revoke");
    CHECK(t.segments.size() == 3);
    PathTemplate s = MustParse("/v1/customers:search");
    CHECK(s.verb == "search");
    REQUIRE(s.segments.size() == 2);
    CHECK(s.segments[1].literal == "customers");
  }
  SECTION("multi-segment variable and **") {
    PathTemplate t = MustParse("/v1/{name=tenants/*/keys/*}");
    REQUIRE(t.variables.size() == 1);
    CHECK(t.variables[0].field_path == "name");
    CHECK(t.variables[0].begin == 1);
    CHECK(t.variables[0].end == 5);
    CHECK_FALSE(t.variables[0].single_segment());
    PathTemplate d = MustParse("/v1/files/{path=**}");
    CHECK(d.has_double_wildcard());
    PathTemplate nested = MustParse("/v1/{parent.id}/items");
    CHECK(nested.variables[0].field_path == "parent.id");
  }
  SECTION("errors") {
    for (const char* bad : {"", "v1/customers", "/v1/{id", "/v1/{}", "/v1/{a={b}}", "/v1//x",
                            "/v1/**/x", "/v1/x:", "/v1/{a}/{a}", "/v1/a:b/c", "/v1/{1a}"}) {
      INFO(bad);
      CHECK_FALSE(ParsePathTemplate(bad).ok());
    }
  }
}

TEST_CASE("MatchPathTemplate binds and decodes", "[gateway][domain]") {
  SECTION("single variable, percent-decoded") {
    TemplateMatch m =
        MatchPathTemplate(MustParse("/v1/customers/{customer_id}"), "/v1/customers/a%20b%C3%A9");
    REQUIRE(m.matched);
    CHECK(m.error.empty());
    CHECK(m.bindings == Bindings{{"customer_id", "a b\xC3\xA9"}});
  }
  SECTION("encoded slash in a single-segment variable is an error") {
    TemplateMatch m =
        MatchPathTemplate(MustParse("/v1/customers/{customer_id}"), "/v1/customers/a%2Fb");
    REQUIRE(m.matched);
    CHECK(m.error_field == "customer_id");
    CHECK_FALSE(m.error.empty());
  }
  SECTION("verb must match") {
    PathTemplate t = MustParse("/v1/apiKeys/{key_id}:revoke");
    TemplateMatch m = MatchPathTemplate(t, "/v1/apiKeys/k1:revoke");
    REQUIRE(m.matched);
    CHECK(m.bindings == Bindings{{"key_id", "k1"}});
    CHECK_FALSE(MatchPathTemplate(t, "/v1/apiKeys/k1").matched);
    CHECK_FALSE(MatchPathTemplate(t, "/v1/apiKeys/k1:other").matched);
    CHECK_FALSE(MatchPathTemplate(t, "/v1/apiKeys/:revoke").matched);
  }
  SECTION("segment counts") {
    PathTemplate t = MustParse("/v1/customers/{customer_id}");
    CHECK_FALSE(MatchPathTemplate(t, "/v1/customers").matched);
    CHECK_FALSE(MatchPathTemplate(t, "/v1/customers/").matched);
    CHECK_FALSE(MatchPathTemplate(t, "/v1/customers/a/b").matched);
    CHECK_FALSE(MatchPathTemplate(t, "v1/customers/a").matched);
  }
  SECTION("multi-segment variable keeps slashes and %2F") {
    TemplateMatch m =
        MatchPathTemplate(MustParse("/v1/{name=tenants/*/keys/*}"), "/v1/tenants/t%201/keys/k%2F1");
    REQUIRE(m.matched);
    CHECK(m.bindings == Bindings{{"name", "tenants/t 1/keys/k%2F1"}});
    CHECK_FALSE(MatchPathTemplate(MustParse("/v1/{name=tenants/*/keys/*}"), "/v1/tenants/t/other/k")
                    .matched);
  }
  SECTION("** matches zero or more segments") {
    PathTemplate t = MustParse("/v1/files/{path=**}");
    TemplateMatch m = MatchPathTemplate(t, "/v1/files/a/b/c.txt");
    REQUIRE(m.matched);
    CHECK(m.bindings == Bindings{{"path", "a/b/c.txt"}});
    TemplateMatch empty = MatchPathTemplate(t, "/v1/files");
    REQUIRE(empty.matched);
    CHECK(empty.bindings == Bindings{{"path", ""}});
    PathTemplate verb = MustParse("/v1/{name=**}:get");
    TemplateMatch v = MatchPathTemplate(verb, "/v1/x/y:get");
    REQUIRE(v.matched);
    CHECK(v.bindings == Bindings{{"name", "x/y"}});
  }
  SECTION("rank: literal > * > **") {
    TemplateMatch lit = MatchPathTemplate(MustParse("/v1/customers/me"), "/v1/customers/me");
    TemplateMatch var = MatchPathTemplate(MustParse("/v1/customers/{id}"), "/v1/customers/me");
    TemplateMatch any = MatchPathTemplate(MustParse("/v1/{rest=**}"), "/v1/customers/me");
    REQUIRE((lit.matched && var.matched && any.matched));
    CHECK(lit.rank > var.rank);
    CHECK(var.rank > any.rank);
  }
}

TEST_CASE("PercentDecode", "[gateway][domain]") {
  CHECK(PercentDecode("a%41%zz%") == "aA%zz%");
  CHECK(PercentDecode("a%2fb") == "a/b");
  CHECK(PercentDecode("a%2Fb", /*keep_encoded_slash=*/true) == "a%2Fb");
  CHECK(PercentDecode("a+b") == "a+b");
}

}  // namespace
}  // namespace crm::gateway::domain

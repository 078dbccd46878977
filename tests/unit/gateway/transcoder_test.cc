#include "services/gateway/api/transcoder.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "crm/customer_store/v1/customer_store.pb.h"
#include "crm/gateway/v1/admin.pb.h"
#include "google/api/annotations.pb.h"
#include <google/protobuf/descriptor.pb.h>
#include "libs/common/errors.h"

namespace crm::gateway::api {
namespace {

namespace cs = crm::customer_store::v1;

std::vector<RestRoute> AllRoutes() {
  return RoutesFromServices(
      {cs::Customer::descriptor()->file()->FindServiceByName("CustomerStoreService"),
       crm::gateway::v1::ApiKey::descriptor()->file()->FindServiceByName("AdminService")});
}

RestRoute RouteFor(const std::string& rpc) {
  for (const RestRoute& r : AllRoutes()) {
    if (r.method->name() == rpc) return r;
  }
  FAIL("no route for " << rpc);
  return {};
}

template <typename T>
T Build(const std::string& rpc, HttpCall call) {
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> msg =
      BuildRequest(RouteFor(rpc), call);
  INFO(msg.status().ToString());
  REQUIRE(msg.ok());
  T* typed = dynamic_cast<T*>(msg->get());
  REQUIRE(typed != nullptr);
  return *typed;
}

absl::Status BuildError(const std::string& rpc, HttpCall call) {
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> msg =
      BuildRequest(RouteFor(rpc), call);
  REQUIRE_FALSE(msg.ok());
  CHECK(msg.status().code() == absl::StatusCode::kInvalidArgument);
  return msg.status();
}

TEST_CASE("RoutesFromServices leaves streaming methods out, annotated or not",
          "[gateway][api]") {
  // A service whose every method carries an http rule: only the unary one
  // becomes a REST route.
  google::protobuf::FileDescriptorProto file;
  file.set_name("test/streaming_rest.proto");
  file.set_package("test.v1");
  file.set_syntax("proto3");
  file.add_dependency("google/protobuf/empty.proto");
  file.add_dependency("google/api/annotations.proto");
  auto* svc = file.add_service();
  svc->set_name("S");
  const struct {
    const char* name;
    bool client;
    bool server;
  } kMethods[] = {{"Unary", false, false}, {"ClientStream", true, false},
                  {"ServerStream", false, true}, {"Bidi", true, true}};
  for (const auto& m : kMethods) {
    auto* method = svc->add_method();
    method->set_name(m.name);
    method->set_input_type(".google.protobuf.Empty");
    method->set_output_type(".google.protobuf.Empty");
    method->set_client_streaming(m.client);
    method->set_server_streaming(m.server);
    google::api::HttpRule rule;
    rule.set_post(std::string("/v1/") + m.name);
    rule.set_body("*");
    *method->mutable_options()->MutableExtension(google::api::http) = rule;
  }
  google::protobuf::DescriptorPool pool(google::protobuf::DescriptorPool::generated_pool());
  const google::protobuf::FileDescriptor* fd = pool.BuildFile(file);
  REQUIRE(fd != nullptr);
  std::vector<RestRoute> routes = RoutesFromServices({fd->FindServiceByName("S")});
  REQUIRE(routes.size() == 1);
  CHECK(routes[0].method->name() == "Unary");
}

TEST_CASE("RoutesFromServices reads google.api.http", "[gateway][api]") {
  std::vector<RestRoute> routes = AllRoutes();
  // Every annotated RPC; ImportCustomers (client stream) has no REST route.
  CHECK(routes.size() == 25);
  CHECK(RouteFor("GetVisit").path == "/v1/visits:current");
  RestRoute track = RouteFor("TrackEvents");
  CHECK(track.http_method == "POST");
  CHECK(track.path == "/v1/events:track");
  CHECK(track.body == "*");
  CHECK(RouteFor("IdentifyCustomer").path == "/v1/customers/{customer_id}:identify");
  RestRoute update = RouteFor("UpdateCustomer");
  CHECK(update.http_method == "PATCH");
  CHECK(update.path == "/v1/customers/{customer_id}");
  CHECK(update.body == "customer");
  RestRoute upsert = RouteFor("UpsertCustomer");
  CHECK(upsert.http_method == "POST");
  CHECK(upsert.body == "*");
  RestRoute revoke = RouteFor("RevokeApiKey");
  CHECK(revoke.path == "/v1/apiKeys/{key_id}:revoke");
  CHECK(RouteFor("DeleteCustomer").http_method == "DELETE");
  CHECK(RouteFor("ListCustomers").body.empty());
  CHECK(RouteFor("MergeCustomers").path == "/v1/customers/{customer_id}:merge");
}

TEST_CASE("A bytes body field takes the raw body", "[gateway][api]") {
  RestRoute import = RouteFor("ImportCustomersNdjson");
  REQUIRE(RawBodyField(import) != nullptr);
  CHECK(RawBodyField(RouteFor("CreateCustomer")) == nullptr);
  CHECK(RawBodyField(RouteFor("UpsertCustomer")) == nullptr);
  HttpCall call;
  call.query = "batch_id=b-1";
  call.body = "{\"givenName\":\"A\"}\nnot json\n";
  auto req = Build<cs::ImportCustomersNdjsonRequest>("ImportCustomersNdjson", call);
  CHECK(req.batch_id() == "b-1");
  CHECK(req.ndjson() == call.body);
}

TEST_CASE("BuildRequest: path binding + body field + query parameters", "[gateway][api]") {
  HttpCall call;
  call.bindings = {{"customer_id", "c-1"}};
  call.body = R"({"givenName":"Ada","postal_address":{"lines":["Main St 1"],"countryCode":"CH"},
                  "lifecycleStage":"LIFECYCLE_STAGE_LEAD","attributes":{"tier":{"intValue":"42"}}})";
  call.query = "update_mask=given_name,postal_address&etag=e%201";
  auto req = Build<cs::UpdateCustomerRequest>("UpdateCustomer", call);
  CHECK(req.customer_id() == "c-1");
  CHECK(req.customer().given_name() == "Ada");
  CHECK(req.customer().postal_address().country_code() == "CH");
  CHECK(req.customer().lifecycle_stage() == cs::LIFECYCLE_STAGE_LEAD);
  CHECK(req.customer().attributes().at("tier").int_value() == 42);
  REQUIRE(req.update_mask().paths_size() == 2);
  CHECK(req.update_mask().paths(0) == "given_name");
  CHECK(req.update_mask().paths(1) == "postal_address");
  CHECK(req.etag() == "e 1");

  SECTION("camelCase field mask paths become snake_case") {
    HttpCall c2 = call;
    c2.query = "updateMask=givenName,postalAddress.countryCode";
    auto r2 = Build<cs::UpdateCustomerRequest>("UpdateCustomer", c2);
    REQUIRE(r2.update_mask().paths_size() == 2);
    CHECK(r2.update_mask().paths(1) == "postal_address.country_code");
  }
}

TEST_CASE("BuildRequest: query parameter types", "[gateway][api]") {
  SECTION("int, enum by name and by number") {
    HttpCall call;
    call.query = "page_size=25&pageToken=tok&lifecycle_stage=LIFECYCLE_STAGE_CUSTOMER&owner=u+1";
    auto req = Build<cs::ListCustomersRequest>("ListCustomers", call);
    CHECK(req.page_size() == 25);
    CHECK(req.page_token() == "tok");
    CHECK(req.lifecycle_stage() == cs::LIFECYCLE_STAGE_CUSTOMER);
    CHECK(req.owner() == "u 1");
    call.query = "lifecycle_stage=2";
    CHECK(Build<cs::ListCustomersRequest>("ListCustomers", call).lifecycle_stage() ==
          cs::LIFECYCLE_STAGE_LEAD);
  }
  SECTION("bool") {
    HttpCall call;
    call.bindings = {{"customer_id", "c"}};
    call.query = "include_history=true";
    CHECK(Build<cs::ListConsentsRequest>("ListConsents", call).include_history());
    call.query = "include_history=maybe";
    absl::Status s = BuildError("ListConsents", call);
    CHECK(common::ReasonOf(s) == "INVALID_FIELD");
  }
  SECTION("bad integer") {
    HttpCall call;
    call.query = "page_size=ten";
    absl::Status s = BuildError("ListCustomers", call);
    CHECK(common::ReasonOf(s) == "INVALID_FIELD");
    CHECK(common::FieldOf(s) == "page_size");
    CHECK(s.message() == "query parameter page_size: expected an integer");
    call.query = "page_size=99999999999";
    CHECK(common::ReasonOf(BuildError("ListCustomers", call)) == "INVALID_FIELD");
  }
  SECTION("unknown enum value") {
    HttpCall call;
    call.query = "lifecycle_stage=VIP";
    CHECK(common::FieldOf(BuildError("ListCustomers", call)) == "lifecycle_stage");
  }
  SECTION("unknown parameter") {
    HttpCall call;
    call.query = "page_size=1&foo=bar";
    absl::Status s = BuildError("ListCustomers", call);
    CHECK(common::ReasonOf(s) == "UNKNOWN_FIELD");
    CHECK(s.message() == "unknown query parameter \"foo\"");
  }
  SECTION("scalar given twice") {
    HttpCall call;
    call.query = "page_size=1&page_size=2";
    CHECK(common::ReasonOf(BuildError("ListCustomers", call)) == "INVALID_FIELD");
  }
  SECTION("field covered by the body or the path") {
    HttpCall call;
    call.bindings = {{"customer_id", "c"}};
    call.query = "customer.given_name=x";
    CHECK(common::ReasonOf(BuildError("UpdateCustomer", call)) == "INVALID_FIELD");
    call.query = "customer_id=other";
    CHECK(common::ReasonOf(BuildError("UpdateCustomer", call)) == "INVALID_FIELD");
    HttpCall upsert;
    upsert.query = "request_id=r";
    CHECK(common::ReasonOf(BuildError("UpsertCustomer", upsert)) == "INVALID_FIELD");
  }
  SECTION("repeated enum and timestamp in nested query parameters") {
    // CreateApiKey has body "*", so use the request type directly through a GET-like route.
    RestRoute route = RouteFor("CreateApiKey");
    route.http_method = "GET";
    route.body = "";
    HttpCall call;
    call.query =
        "roles=ROLE_ADMIN&roles=3&expire_time=2024-05-01T10:00:00.5Z&rate_limit_per_second=7";
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> msg = BuildRequest(route, call);
    REQUIRE(msg.ok());
    auto* req = dynamic_cast<crm::gateway::v1::CreateApiKeyRequest*>(msg->get());
    REQUIRE(req != nullptr);
    REQUIRE(req->roles_size() == 2);
    CHECK(req->roles(0) == crm::gateway::v1::ROLE_ADMIN);
    CHECK(req->roles(1) == crm::gateway::v1::ROLE_SALES);
    CHECK(req->expire_time().seconds() == 1714557600);
    CHECK(req->expire_time().nanos() == 500000000);
    CHECK(req->rate_limit_per_second() == 7);
    call.query = "expire_time=yesterday";
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> bad = BuildRequest(route, call);
    REQUIRE_FALSE(bad.ok());
    CHECK(common::FieldOf(bad.status()) == "expire_time");
  }
}

TEST_CASE("BuildRequest: body handling", "[gateway][api]") {
  SECTION("body * with int64 as string and enum by name") {
    HttpCall call;
    call.body = R"({"displayName":"ci","roles":["ROLE_INTEGRATION"],"rateLimitPerSecond":"5",
                    "expireTime":"2030-01-01T00:00:00Z","request_id":"r1"})";
    auto req = Build<crm::gateway::v1::CreateApiKeyRequest>("CreateApiKey", call);
    CHECK(req.display_name() == "ci");
    REQUIRE(req.roles_size() == 1);
    CHECK(req.roles(0) == crm::gateway::v1::ROLE_INTEGRATION);
    CHECK(req.rate_limit_per_second() == 5);
    CHECK(req.request_id() == "r1");
    CHECK(req.expire_time().seconds() == 1893456000);
  }
  SECTION("int64 as a string inside a body field") {
    HttpCall call;
    call.bindings = {{"customer_id", "c"}};
    call.body = R"({"attributes":{"n":{"intValue":"9007199254740993"}}})";
    auto req = Build<cs::UpdateCustomerRequest>("UpdateCustomer", call);
    CHECK(req.customer().attributes().at("n").int_value() == 9007199254740993LL);
  }
  SECTION("path binding on a body * route") {
    HttpCall call;
    call.bindings = {{"key_id", "k1"}};
    call.body = "{}";
    CHECK(Build<crm::gateway::v1::RevokeApiKeyRequest>("RevokeApiKey", call).key_id() == "k1");
    call.body = "";
    CHECK(Build<crm::gateway::v1::RevokeApiKeyRequest>("RevokeApiKey", call).key_id() == "k1");
  }
  SECTION("empty body for body * is an empty message") {
    HttpCall call;
    auto req = Build<cs::UpsertCustomerRequest>("UpsertCustomer", call);
    CHECK_FALSE(req.has_customer());
  }
  SECTION("unknown field") {
    HttpCall call;
    call.body = R"({"displayName":"x","foo":1})";
    absl::Status s = BuildError("CreateTenant", call);
    CHECK(common::ReasonOf(s) == "UNKNOWN_FIELD");
    CHECK(common::FieldOf(s) == "foo");
    CHECK(s.message() == "unknown field \"foo\" in request body");
  }
  SECTION("unknown nested field in a body field") {
    HttpCall call;
    call.bindings = {{"customer_id", "c"}};
    call.body = R"({"postalAddress":{"city":"Bern"}})";
    absl::Status s = BuildError("UpdateCustomer", call);
    CHECK(common::ReasonOf(s) == "UNKNOWN_FIELD");
    CHECK(common::FieldOf(s) == "postalAddress.city");
  }
  SECTION("malformed JSON") {
    HttpCall call;
    call.body = R"({"displayName": )";
    absl::Status s = BuildError("CreateTenant", call);
    CHECK(common::ReasonOf(s) == "MALFORMED_BODY");
    call.body = "[1,2]";
    CHECK(common::ReasonOf(BuildError("CreateTenant", call)) == "MALFORMED_BODY");
  }
  SECTION("wrong value type") {
    HttpCall call;
    call.body = R"({"displayName": {"a": 1}})";
    absl::Status s = BuildError("CreateTenant", call);
    CHECK(common::ReasonOf(s) == "INVALID_FIELD");
    call.body = R"({"roles": ["ROLE_NOPE"]})";
    absl::Status e = BuildError("CreateApiKey", call);
    CHECK(common::ReasonOf(e) == "INVALID_FIELD");
    CHECK(common::FieldOf(e) == "roles[0]");
    call.body = R"({"rateLimitPerSecond": "abc"})";
    e = BuildError("CreateApiKey", call);
    CHECK(common::FieldOf(e) == "rate_limit_per_second");
    CHECK(std::string(e.message()).find("\"abc\"") != std::string::npos);
    call.body = R"({"expireTime": "abc"})";
    CHECK(common::FieldOf(BuildError("CreateApiKey", call)) == "expire_time");
  }
  SECTION("a body where the route takes none") {
    HttpCall call;
    call.bindings = {{"customer_id", "c"}};
    call.body = R"({"x":1})";
    absl::Status s = BuildError("GetCustomer", call);
    CHECK(common::ReasonOf(s) == "MALFORMED_BODY");
  }
  SECTION("body field route builds the nested message") {
    HttpCall call;
    call.bindings = {{"customer_id", "c-9"}};
    call.body = R"({"channel":"CONSENT_CHANNEL_EMAIL","purpose":"CONSENT_PURPOSE_MARKETING",
                    "status":"CONSENT_STATUS_OPTED_IN","recordTime":"2024-01-02T03:04:05Z"})";
    call.query = "request_id=abc";
    auto req = Build<cs::RecordConsentRequest>("RecordConsent", call);
    CHECK(req.customer_id() == "c-9");
    CHECK(req.consent().channel() == cs::CONSENT_CHANNEL_EMAIL);
    CHECK(req.consent().record_time().seconds() == 1704164645);
    CHECK(req.request_id() == "abc");
  }
}

TEST_CASE("BuildRequest: hostile bodies are refused cheaply and clearly", "[gateway][api]") {
  SECTION("nesting deeper than kMaxJsonDepth is refused before parsing, in linear time") {
    // 100,000 levels of arrays in a Struct payload (200 KB): once minutes of
    // work in the JSON parsers.
    const int levels = 100000;
    HttpCall call;
    call.bindings = {{"customer_id", "c-1"}};
    call.body = "{\"kind\":\"INTERACTION_KIND_NOTE\",\"payload\":{\"a\":" +
                std::string(levels, '[') + std::string(levels, ']') + "}}";
    const auto start = std::chrono::steady_clock::now();
    absl::Status s = BuildError("CreateInteraction", call);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(common::ReasonOf(s) == "MALFORMED_BODY");
    CHECK(std::string(s.message()).find("deeper than 32 levels") != std::string::npos);
    CHECK(elapsed < std::chrono::milliseconds(200));
    // The same for objects, and for a body * route.
    HttpCall objects;
    for (int i = 0; i < levels; ++i) objects.body += "{\"a\":";
    objects.body += "1" + std::string(levels, '}');
    CHECK(common::ReasonOf(BuildError("CreateCustomer", objects)) == "MALFORMED_BODY");
  }
  SECTION("nesting up to the limit still builds (brackets inside strings do not count)") {
    // 31 arrays inside the payload object (depth 2) of the body: 33 > 32.
    HttpCall call;
    call.bindings = {{"customer_id", "c-1"}};
    call.body = "{\"payload\":{\"a\":" + std::string(31, '[') + std::string(31, ']') + "}}";
    CHECK(common::ReasonOf(BuildError("CreateInteraction", call)) == "MALFORMED_BODY");
    call.body = "{\"payload\":{\"a\":" + std::string(30, '[') + std::string(30, ']') +
                ",\"s\":\"[[[[\\\"[[[[" + std::string(100, '[') + "\"}}";
    auto req = Build<cs::CreateInteractionRequest>("CreateInteraction", call);
    CHECK(req.interaction().payload().fields().count("a") == 1);
    // 30 objects inside the payload: depth 32, within protobuf's own limits.
    HttpCall objects;
    objects.bindings = {{"customer_id", "c-1"}};
    objects.body = "{\"payload\":";
    for (int i = 0; i < 31; ++i) objects.body += "{\"a\":";
    objects.body += "1" + std::string(31, '}') + "}";
    auto deep = Build<cs::CreateInteractionRequest>("CreateInteraction", objects);
    CHECK(deep.interaction().payload().fields().count("a") == 1);
    CHECK(req.interaction().payload().fields().at("s").string_value().size() == 109);
  }
  SECTION("a number beyond a double is INVALID_ARGUMENT, not an exception") {
    for (const char* body : {R"({"givenName":"x","customAttributes":1e999})",
                             R"({"ratelimitPerSecond":-1e400})", R"([1e999])"}) {
      INFO(body);
      HttpCall call;
      call.body = body;
      absl::Status s = BuildError("CreateCustomer", call);
      CHECK(common::ReasonOf(s) == "MALFORMED_BODY");
      CHECK(std::string(s.message()).find("too large for a double") != std::string::npos);
    }
    HttpCall call;
    call.body = R"({"rateLimitPerSecond": -1e400})";
    CHECK(common::ReasonOf(BuildError("CreateApiKey", call)) == "MALFORMED_BODY");
  }
  SECTION("a lone value for a repeated field is refused (every repeated field)") {
    HttpCall call;
    call.body = R"({"emails":"x@example.com"})";
    absl::Status s = BuildError("CreateCustomer", call);
    CHECK(common::ReasonOf(s) == "INVALID_FIELD");
    CHECK(common::FieldOf(s) == "emails");
    CHECK(std::string(s.message()).find("expected a JSON array") != std::string::npos);
    call.body = R"({"phones":"+41790000000"})";
    CHECK(common::FieldOf(BuildError("CreateCustomer", call)) == "phones");
    call.body = R"({"displayName":"k","roles":"ROLE_ADMIN"})";
    CHECK(common::FieldOf(BuildError("CreateApiKey", call)) == "roles");
    // Nested in a message field, and through a body-field route.
    call.body = R"({"postalAddress":{"lines":"Main St 1"}})";
    CHECK(common::FieldOf(BuildError("CreateCustomer", call)) == "postalAddress.lines");
    call.body = R"({"customer":{"emails":{"a":"x@example.com"}}})";
    CHECK(common::FieldOf(BuildError("UpsertCustomer", call)) == "customer.emails");
    // A map wants an object.
    call.body = R"({"attributes":["x"]})";
    CHECK(common::FieldOf(BuildError("CreateCustomer", call)) == "attributes");
    // Lists of lists are not flattened either.
    call.body = R"({"emails":[["x@example.com"]]})";
    CHECK(common::FieldOf(BuildError("CreateCustomer", call)) == "emails[0]");
    call.body = R"({"externalIds":[{"source":"erp","value":"1"},[{"source":"erp","value":"2"}]]})";
    CHECK(common::FieldOf(BuildError("CreateCustomer", call)) == "externalIds[1]");
    // Lists and null (empty) are fine.
    call.body = R"({"emails":["x@example.com"],"phones":null})";
    auto req = Build<cs::CreateCustomerRequest>("CreateCustomer", call);
    CHECK(req.customer().emails_size() == 1);
  }
  SECTION("invalid UTF-8 in a path or query parameter names the parameter") {
    HttpCall call;
    call.bindings = {{"customer_id", "\xff\xfe"}};
    absl::Status s = BuildError("GetCustomer", call);
    CHECK(common::ReasonOf(s) == "INVALID_FIELD");
    CHECK(common::FieldOf(s) == "customer_id");
    CHECK(std::string(s.message()).find("path parameter customer_id") != std::string::npos);
    CHECK(std::string(s.message()).find("UTF-8") != std::string::npos);
    HttpCall search;
    search.query = "name_prefix=%ff%fe";
    s = BuildError("SearchCustomers", search);
    CHECK(common::FieldOf(s) == "name_prefix");
    CHECK(std::string(s.message()).find("query parameter name_prefix") != std::string::npos);
    HttpCall import;
    import.query = "batchId=%ff";
    CHECK(common::FieldOf(BuildError("ImportCustomersNdjson", import)) == "batch_id");
    // Overlong forms, surrogates and truncated sequences too; good UTF-8 passes.
    for (const char* bad : {"%c0%af", "%ed%a0%80", "a%e2%82", "%f4%90%80%80", "%80"}) {
      INFO(bad);
      search.query = std::string("name_prefix=") + bad;
      CHECK(common::FieldOf(BuildError("SearchCustomers", search)) == "name_prefix");
    }
    search.query = "name_prefix=%C3%A9%E2%82%AC%F0%9F%98%80";
    auto req = Build<cs::SearchCustomersRequest>("SearchCustomers", search);
    CHECK(req.name_prefix() == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  }
  SECTION("request ids with control characters are refused wherever they come from") {
    HttpCall call;
    call.body = R"({"givenName":"A"})";
    call.query = "requestId=R%00X";
    absl::Status s = BuildError("CreateCustomer", call);
    CHECK(common::ReasonOf(s) == "INVALID_FIELD");
    CHECK(common::FieldOf(s) == "request_id");
    call.query = "requestId=R%0AX";
    CHECK(common::FieldOf(BuildError("CreateCustomer", call)) == "request_id");
    HttpCall body;
    body.bindings = {{"customer_id", "c-1"}};
    body.body = R"({"kind":"INTERACTION_KIND_NOTE"})";
    body.query = "request_id=R%00Y";
    CHECK(common::FieldOf(BuildError("CreateInteraction", body)) == "request_id");
    HttpCall merge;
    merge.bindings = {{"customer_id", "c-1"}};
    merge.body = R"({"sourceCustomerId":"c-2","requestId":"R\u0000X"})";
    CHECK(common::FieldOf(BuildError("MergeCustomers", merge)) == "request_id");
    merge.body = R"({"sourceCustomerId":"c-2","requestId":"R-1"})";
    CHECK(Build<cs::MergeCustomersRequest>("MergeCustomers", merge).request_id() == "R-1");
  }
}

TEST_CASE("ResponseToJson", "[gateway][api]") {
  SECTION("int64 as string, default values omitted, camelCase") {
    cs::DeleteCustomerResponse resp;
    resp.set_customer_id("c-1");
    resp.set_interactions_erased(12);
    absl::StatusOr<std::string> json =
        ResponseToJson(*RouteFor("DeleteCustomer").method, resp.SerializeAsString());
    REQUIRE(json.ok());
    nlohmann::json j = nlohmann::json::parse(*json);
    CHECK(j["customerId"] == "c-1");
    CHECK(j["interactionsErased"] == "12");
    CHECK_FALSE(j.contains("identitiesErased"));
  }
  SECTION("timestamps in RFC 3339, enums by name") {
    cs::Customer c;
    c.set_id("c-2");
    c.set_given_name("Ada");
    c.set_lifecycle_stage(cs::LIFECYCLE_STAGE_CUSTOMER);
    c.mutable_create_time()->set_seconds(1704164645);
    c.mutable_create_time()->set_nanos(500000000);
    absl::StatusOr<std::string> json =
        ResponseToJson(*RouteFor("GetCustomer").method, c.SerializeAsString());
    REQUIRE(json.ok());
    nlohmann::json j = nlohmann::json::parse(*json);
    CHECK(j["createTime"] == "2024-01-02T03:04:05.500Z");
    CHECK(j["givenName"] == "Ada");
    CHECK(j["lifecycleStage"] == "LIFECYCLE_STAGE_CUSTOMER");
  }
  SECTION("bytes that do not parse") {
    absl::StatusOr<std::string> json =
        ResponseToJson(*RouteFor("GetCustomer").method, std::string("\xff\xff\xff", 3));
    REQUIRE_FALSE(json.ok());
    CHECK(json.status().code() == absl::StatusCode::kInternal);
  }
  SECTION("response_body selects a field") {
    RestRoute route = RouteFor("ListCustomers");
    route.response_body = "customers";
    cs::ListCustomersResponse resp;
    resp.add_customers()->set_id("a");
    resp.set_next_page_token("n");
    absl::StatusOr<std::string> json = ResponseToJson(route, resp.SerializeAsString());
    REQUIRE(json.ok());
    CHECK(*json == R"([{"id":"a"}])");
  }
}

TEST_CASE("JsonPrinter prints wire bytes as MessageToJson prints the message", "[gateway][api]") {
  cs::CustomerView view;
  cs::Customer* c = view.mutable_customer();
  c->set_id("c-3");
  c->set_given_name("Ada");
  c->set_lifecycle_stage(cs::LIFECYCLE_STAGE_CUSTOMER);
  c->mutable_create_time()->set_seconds(1704164645);
  view.add_identities()->set_value("ada@example.com");
  view.set_interaction_count(7);
  view.mutable_view_time()->set_seconds(1704164700);
  cs::Interaction* i = view.add_recent_interactions();
  i->set_summary("Order 1");
  (*i->mutable_payload()->mutable_fields())["amount"].set_number_value(121.5);
  cs::PurchaseAggregate* p = view.add_purchases();
  p->set_currency_code("CHF");
  p->set_total_spend_minor(12150);
  const std::string bytes = view.SerializeAsString();
  JsonPrinter printer;
  // Twice: the second print uses the types resolved by the first.
  for (int round = 0; round < 2; ++round) {
    absl::StatusOr<std::string> printed = printer.BytesToJson(*cs::CustomerView::descriptor(), bytes);
    absl::StatusOr<std::string> expected = MessageToJson(view);
    REQUIRE(printed.ok());
    REQUIRE(expected.ok());
    CHECK(*printed == *expected);
  }
}

}  // namespace
}  // namespace crm::gateway::api

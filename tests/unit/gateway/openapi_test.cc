#include "services/gateway/api/openapi.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "crm/customer_store/v1/customer_store.pb.h"
#include "crm/gateway/v1/admin.pb.h"

namespace crm::gateway::api {
namespace {

using Json = nlohmann::json;

void CollectRefs(const Json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "$ref" && it.value().is_string()) {
        out.push_back(it.value().get<std::string>());
      } else {
        CollectRefs(it.value(), out);
      }
    }
  } else if (j.is_array()) {
    for (const Json& e : j) CollectRefs(e, out);
  }
}

TEST_CASE("GenerateOpenApi", "[gateway][api]") {
  std::vector<RestRoute> routes = RoutesFromServices(
      {crm::customer_store::v1::Customer::descriptor()->file()->FindServiceByName(
           "CustomerStoreService"),
       crm::gateway::v1::ApiKey::descriptor()->file()->FindServiceByName("AdminService")});
  const std::string text = GenerateOpenApi(routes, "CRM API", "1.0.0");
  Json doc = Json::parse(text);

  CHECK(doc["openapi"] == "3.0.3");
  CHECK(doc["info"]["title"] == "CRM API");
  CHECK(doc["info"]["version"] == "1.0.0");
  CHECK(doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer");

  SECTION("every route is present with a unique operationId") {
    std::set<std::string> ids;
    size_t operations = 0;
    for (auto& [path, item] : doc["paths"].items()) {
      for (auto& [method, op] : item.items()) {
        ++operations;
        CHECK(ids.insert(op["operationId"].get<std::string>()).second);
        CHECK(op["responses"].contains("200"));
        CHECK(op["responses"]["default"]["content"]["application/json"]["schema"]["$ref"] ==
              "#/components/schemas/Error");
      }
    }
    CHECK(operations == routes.size());
    for (const RestRoute& r : routes) {
      std::string method = r.http_method;
      for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      INFO(r.http_method << " " << r.path);
      CHECK(doc["paths"].contains(r.path));
      CHECK(doc["paths"][r.path].contains(method));
    }
  }

  SECTION("every $ref resolves") {
    std::vector<std::string> refs;
    CollectRefs(doc, refs);
    CHECK(refs.size() > 10);
    for (const std::string& ref : refs) {
      INFO(ref);
      REQUIRE(ref.rfind("#/components/schemas/", 0) == 0);
      CHECK(doc["components"]["schemas"].contains(ref.substr(21)));
    }
  }

  SECTION("parameters, request bodies and schemas") {
    const Json& update = doc["paths"]["/v1/customers/{customer_id}"]["patch"];
    std::set<std::string> names;
    for (const Json& p : update["parameters"]) {
      names.insert(p["name"].get<std::string>());
      if (p["name"] == "customer_id") {
        CHECK(p["in"] == "path");
        CHECK(p["required"] == true);
      }
    }
    CHECK(names == std::set<std::string>{"customer_id", "update_mask", "etag", "request_id"});
    CHECK(update["requestBody"]["content"]["application/json"]["schema"]["$ref"] ==
          "#/components/schemas/crm.customer_store.v1.Customer");

    const Json& list = doc["paths"]["/v1/customers"]["get"];
    std::set<std::string> list_names;
    for (const Json& p : list["parameters"]) {
      CHECK(p["in"] == "query");
      list_names.insert(p["name"].get<std::string>());
    }
    CHECK(list_names ==
          std::set<std::string>{"page_size", "page_token", "lifecycle_stage", "owner"});
    CHECK_FALSE(doc["paths"]["/v1/customers:upsert"]["post"].contains("parameters"));

    const Json& customer = doc["components"]["schemas"]["crm.customer_store.v1.Customer"];
    CHECK(customer["properties"]["givenName"]["type"] == "string");
    CHECK(customer["properties"]["createTime"]["format"] == "date-time");
    CHECK(customer["properties"]["emails"]["type"] == "array");
    CHECK(customer["properties"]["attributes"]["additionalProperties"]["$ref"] ==
          "#/components/schemas/crm.customer_store.v1.AttributeValue");
    CHECK(customer["properties"]["lifecycleStage"]["$ref"] ==
          "#/components/schemas/crm.customer_store.v1.LifecycleStage");
    const Json& stage = doc["components"]["schemas"]["crm.customer_store.v1.LifecycleStage"];
    CHECK(stage["type"] == "string");
    CHECK(stage["enum"][0] == "LIFECYCLE_STAGE_UNSPECIFIED");
    const Json& del = doc["components"]["schemas"]["crm.customer_store.v1.DeleteCustomerResponse"];
    CHECK(del["properties"]["interactionsErased"]["type"] == "string");
    CHECK(del["properties"]["interactionsErased"]["format"] == "int64");
    const Json& interaction = doc["components"]["schemas"]["crm.customer_store.v1.Interaction"];
    CHECK(interaction["properties"]["payload"]["type"] == "object");
    const Json& attr = doc["components"]["schemas"]["crm.customer_store.v1.AttributeValue"];
    CHECK(attr["properties"].contains("stringValue"));
    CHECK(attr["properties"].contains("timeValue"));
  }

  SECTION("the NDJSON import takes application/x-ndjson text, not a base64 JSON string") {
    const Json& import = doc["paths"]["/v1/customers:import"]["post"];
    const Json& content = import["requestBody"]["content"];
    CHECK(content.size() == 1);
    CHECK_FALSE(content.contains("application/json"));
    REQUIRE(content.contains("application/x-ndjson"));
    CHECK(content["application/x-ndjson"]["schema"] == Json{{"type", "string"}});
    CHECK(import["requestBody"]["description"].get<std::string>().find("one JSON object per line") !=
          std::string::npos);
    // batch_id stays a query parameter; the body field is not one.
    std::set<std::string> names;
    for (const Json& p : import["parameters"]) names.insert(p["name"].get<std::string>());
    CHECK(names == std::set<std::string>{"batch_id"});
  }

  SECTION("deterministic") { CHECK(GenerateOpenApi(routes, "CRM API", "1.0.0") == text); }
}

}  // namespace
}  // namespace crm::gateway::api

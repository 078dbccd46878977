#include "services/gateway/api/openapi.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/gateway/domain/path_template.h"

namespace crm::gateway::api {
namespace {

namespace pb = google::protobuf;
using Json = nlohmann::ordered_json;

constexpr int kMaxQueryDepth = 2;  // nested message fields below the top level

bool IsWrapper(const std::string& n) {
  return n == "google.protobuf.DoubleValue" || n == "google.protobuf.FloatValue" ||
         n == "google.protobuf.Int64Value" || n == "google.protobuf.UInt64Value" ||
         n == "google.protobuf.Int32Value" || n == "google.protobuf.UInt32Value" ||
         n == "google.protobuf.BoolValue" || n == "google.protobuf.StringValue" ||
         n == "google.protobuf.BytesValue";
}

bool IsWellKnown(const pb::Descriptor* d) {
  const std::string& n = d->full_name();
  return n == "google.protobuf.Timestamp" || n == "google.protobuf.Duration" ||
         n == "google.protobuf.FieldMask" || n == "google.protobuf.Struct" ||
         n == "google.protobuf.Value" || n == "google.protobuf.ListValue" ||
         n == "google.protobuf.Any" || n == "google.protobuf.Empty" || IsWrapper(n);
}

// Well-known types that a query parameter can carry as one string.
bool IsQueryScalarMessage(const pb::Descriptor* d) {
  const std::string& n = d->full_name();
  return n == "google.protobuf.Timestamp" || n == "google.protobuf.Duration" ||
         n == "google.protobuf.FieldMask" || IsWrapper(n);
}

std::string Ref(const std::string& full_name) {
  return absl::StrCat("#/components/schemas/", full_name);
}

class Generator {
 public:
  Json ScalarSchema(const pb::FieldDescriptor* f) {
    switch (f->type()) {
      case pb::FieldDescriptor::TYPE_INT32:
      case pb::FieldDescriptor::TYPE_SINT32:
      case pb::FieldDescriptor::TYPE_SFIXED32:
        return {{"type", "integer"}, {"format", "int32"}};
      case pb::FieldDescriptor::TYPE_UINT32:
      case pb::FieldDescriptor::TYPE_FIXED32:
        return {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}};
      case pb::FieldDescriptor::TYPE_INT64:
      case pb::FieldDescriptor::TYPE_SINT64:
      case pb::FieldDescriptor::TYPE_SFIXED64:
        return {{"type", "string"}, {"format", "int64"}};
      case pb::FieldDescriptor::TYPE_UINT64:
      case pb::FieldDescriptor::TYPE_FIXED64:
        return {{"type", "string"}, {"format", "uint64"}};
      case pb::FieldDescriptor::TYPE_FLOAT:
        return {{"type", "number"}, {"format", "float"}};
      case pb::FieldDescriptor::TYPE_DOUBLE:
        return {{"type", "number"}, {"format", "double"}};
      case pb::FieldDescriptor::TYPE_BOOL:
        return {{"type", "boolean"}};
      case pb::FieldDescriptor::TYPE_STRING:
        return {{"type", "string"}};
      case pb::FieldDescriptor::TYPE_BYTES:
        return {{"type", "string"}, {"format", "byte"}};
      case pb::FieldDescriptor::TYPE_ENUM:
        AddEnum(f->enum_type());
        return {{"$ref", Ref(f->enum_type()->full_name())}};
      case pb::FieldDescriptor::TYPE_MESSAGE:
      case pb::FieldDescriptor::TYPE_GROUP:
        return MessageRef(f->message_type());
    }
    return Json::object();
  }

  Json WellKnownSchema(const pb::Descriptor* d) {
    const std::string& n = d->full_name();
    if (n == "google.protobuf.Timestamp") return {{"type", "string"}, {"format", "date-time"}};
    if (n == "google.protobuf.Duration") {
      return {{"type", "string"},
              {"description", "Duration in seconds with an s suffix, e.g. 1.5s"}};
    }
    if (n == "google.protobuf.FieldMask") {
      return {{"type", "string"}, {"description", "Comma-separated field paths"}};
    }
    if (n == "google.protobuf.Struct" || n == "google.protobuf.Empty") {
      return {{"type", "object"}};
    }
    if (n == "google.protobuf.Value") return {{"description", "Any JSON value"}};
    if (n == "google.protobuf.ListValue") return {{"type", "array"}, {"items", Json::object()}};
    if (n == "google.protobuf.Any") {
      return {{"type", "object"},
              {"properties", {{"@type", {{"type", "string"}}}}},
              {"additionalProperties", true}};
    }
    // Wrappers: the wrapped scalar, nullable.
    Json s = ScalarSchema(d->FindFieldByName("value"));
    s["nullable"] = true;
    return s;
  }

  Json MessageRef(const pb::Descriptor* d) {
    if (IsWellKnown(d)) return WellKnownSchema(d);
    AddMessage(d);
    return {{"$ref", Ref(d->full_name())}};
  }

  Json FieldSchema(const pb::FieldDescriptor* f) {
    if (f->is_map()) {
      return {{"type", "object"},
              {"additionalProperties", ScalarSchema(f->message_type()->FindFieldByName("value"))}};
    }
    if (f->is_repeated()) return {{"type", "array"}, {"items", ScalarSchema(f)}};
    return ScalarSchema(f);
  }

  void AddEnum(const pb::EnumDescriptor* e) {
    if (schemas_.count(e->full_name()) > 0) return;
    Json values = Json::array();
    for (int i = 0; i < e->value_count(); ++i) values.push_back(e->value(i)->name());
    schemas_[e->full_name()] = {{"type", "string"}, {"enum", values}};
  }

  void AddMessage(const pb::Descriptor* d) {
    if (schemas_.count(d->full_name()) > 0) return;
    schemas_[d->full_name()] = Json::object();  // placeholder breaks recursion
    Json properties = Json::object();
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      properties[f->json_name()] = FieldSchema(f);
    }
    Json schema = {{"type", "object"}, {"properties", properties}};
    schemas_[d->full_name()] = std::move(schema);
  }

  // Query parameters: scalar, enum and repeated scalar fields not bound by path or body.
  void QueryParams(const pb::Descriptor* d, const std::string& prefix, int depth,
                   const std::set<std::string>& excluded, Json& out) {
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      const std::string name = prefix.empty() ? f->name() : absl::StrCat(prefix, ".", f->name());
      if (excluded.count(name) > 0 || f->is_map()) continue;
      if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        const pb::Descriptor* md = f->message_type();
        if (IsQueryScalarMessage(md)) {
          Json schema = WellKnownSchema(md);
          if (f->is_repeated()) schema = {{"type", "array"}, {"items", schema}};
          AddQueryParam(name, schema, f->is_repeated(), out);
        } else if (!f->is_repeated() && !IsWellKnown(md) && depth < kMaxQueryDepth) {
          QueryParams(md, name, depth + 1, excluded, out);
        }
        continue;
      }
      AddQueryParam(name, FieldSchema(f), f->is_repeated(), out);
    }
  }

  void AddQueryParam(const std::string& name, Json schema, bool repeated, Json& out) {
    Json p = {{"name", name}, {"in", "query"}, {"required", false}, {"schema", std::move(schema)}};
    if (repeated) {
      p["style"] = "form";
      p["explode"] = true;
    }
    out.push_back(std::move(p));
  }

  std::map<std::string, Json>& schemas() { return schemas_; }

 private:
  std::map<std::string, Json> schemas_;  // sorted: deterministic output
};

Json ErrorSchema() {
  Json info = {
      {"type", "object"},
      {"properties",
       {{"@type", {{"type", "string"}}},
        {"reason", {{"type", "string"}}},
        {"domain", {{"type", "string"}}},
        {"metadata", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}}}}};
  return {{"type", "object"},
          {"properties",
           {{"error",
             {{"type", "object"},
              {"properties",
               {{"code", {{"type", "integer"}, {"format", "int32"}}},
                {"message", {{"type", "string"}}},
                {"status", {{"type", "string"}}},
                {"details", {{"type", "array"}, {"items", info}}}}}}}}}};
}

// "/v1/{name=tenants/*/keys/*}:get" -> "/v1/{name}:get"; unnamed wildcards stay as is.
std::string OpenApiPath(const domain::PathTemplate& t) {
  std::vector<std::string> parts;
  size_t v = 0;
  for (size_t i = 0; i < t.segments.size(); ++i) {
    while (v < t.variables.size() && static_cast<size_t>(t.variables[v].end) <= i) ++v;
    if (v < t.variables.size() && static_cast<size_t>(t.variables[v].begin) <= i) {
      if (static_cast<size_t>(t.variables[v].begin) == i) {
        parts.push_back(absl::StrCat("{", t.variables[v].field_path, "}"));
      }
      continue;
    }
    const domain::PathSegment& s = t.segments[i];
    switch (s.kind) {
      case domain::PathSegment::Kind::kLiteral:
        parts.push_back(s.literal);
        break;
      case domain::PathSegment::Kind::kWildcard:
        parts.push_back("*");
        break;
      case domain::PathSegment::Kind::kDoubleWildcard:
        parts.push_back("**");
        break;
    }
  }
  std::string out = absl::StrCat("/", absl::StrJoin(parts, "/"));
  if (!t.verb.empty()) absl::StrAppend(&out, ":", t.verb);
  return out;
}

const pb::FieldDescriptor* FieldByPath(const pb::Descriptor* d, const std::string& path) {
  const pb::FieldDescriptor* f = nullptr;
  size_t start = 0;
  while (d != nullptr) {
    size_t dot = path.find('.', start);
    f = d->FindFieldByName(
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (f == nullptr || dot == std::string::npos) return f;
    d = f->message_type();
    start = dot + 1;
  }
  return nullptr;
}

}  // namespace

std::string GenerateOpenApi(const std::vector<RestRoute>& routes, absl::string_view title,
                            absl::string_view version) {
  static const std::set<std::string> kOperations = {"get",     "put",  "post",  "delete",
                                                    "options", "head", "patch", "trace"};
  Generator gen;
  Json paths = Json::object();
  std::set<std::string> operation_ids;
  for (const RestRoute& route : routes) {
    if (route.method == nullptr) continue;
    const std::string method_key = absl::AsciiStrToLower(route.http_method);
    if (kOperations.count(method_key) == 0) continue;  // custom verbs have no OpenAPI form
    absl::StatusOr<domain::PathTemplate> t = domain::ParsePathTemplate(route.path);
    if (!t.ok()) continue;
    const pb::Descriptor* input = route.method->input_type();

    std::string op_id = route.method->name();
    for (int n = 2; !operation_ids.insert(op_id).second; ++n) {
      op_id = absl::StrCat(route.method->name(), "_", n);
    }
    Json op = Json::object();
    op["operationId"] = op_id;
    op["tags"] = Json::array({route.method->service()->name()});

    Json params = Json::array();
    std::set<std::string> excluded;
    for (const domain::PathVariable& var : t->variables) {
      excluded.insert(var.field_path);
      const pb::FieldDescriptor* f = FieldByPath(input, var.field_path);
      Json schema =
          f != nullptr && !f->is_repeated() ? gen.FieldSchema(f) : Json{{"type", "string"}};
      Json p = {{"name", var.field_path}, {"in", "path"}, {"required", true}, {"schema", schema}};
      if (!var.single_segment() || t->segments[static_cast<size_t>(var.begin)].kind !=
                                       domain::PathSegment::Kind::kWildcard) {
        p["description"] = "Multi-segment value; may contain '/'";
      }
      params.push_back(std::move(p));
    }
    if (route.body != "*") {
      if (!route.body.empty()) excluded.insert(route.body);
      gen.QueryParams(input, "", 0, excluded, params);
    }
    if (!params.empty()) op["parameters"] = std::move(params);

    if (RawBodyField(route) != nullptr) {
      // A bytes body field takes the raw request body (NDJSON text, or a
      // mail as received), not the base64 JSON string protobuf's JSON
      // mapping would use for bytes.
      const std::string media = RawBodyMediaType(route);
      const bool file = media == "*";
      const char* description =
          media == "message/rfc822" ? "the mail as received (RFC 5322 / MIME), up to 25 MiB "
                                      "(Content-Type: message/rfc822)"
          : file ? "the file's bytes as they are (its Content-Type is its media type unless "
                   "contentType says it)"
                 : "NDJSON: one JSON object per line (Content-Type: application/x-ndjson); "
                   "blank lines are skipped";
      Json schema = {{"type", "string"}};
      if (file) schema["format"] = "binary";
      Json content = Json::object();
      content[file ? "*/*" : media] = {{"schema", schema}};
      op["requestBody"] = {{"required", true}, {"description", description}, {"content", content}};
    } else if (!route.body.empty()) {
      Json schema;
      if (route.body == "*") {
        schema = gen.MessageRef(input);
      } else if (const pb::FieldDescriptor* f = input->FindFieldByName(route.body)) {
        schema = gen.FieldSchema(f);
      } else {
        schema = Json::object();
      }
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", schema}}}}}};
    }

    Json ok_schema;
    const pb::Descriptor* output = route.method->output_type();
    if (!route.response_body.empty() && output->FindFieldByName(route.response_body) != nullptr) {
      ok_schema = gen.FieldSchema(output->FindFieldByName(route.response_body));
    } else {
      ok_schema = gen.MessageRef(output);
    }
    const bool download = RawResponseField(route) != nullptr;
    if (download) ok_schema = {{"type", "string"}, {"format", "binary"}};
    Json ok_content = Json::object();
    ok_content[download ? "*/*" : "application/json"] = {{"schema", ok_schema}};
    op["responses"] = {
        {"200",
         {{"description", download ? "the file's bytes (Content-Disposition: attachment)" : "OK"},
          {"content", ok_content}}},
        {"default",
         {{"description", "Error"},
          {"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}};

    const std::string key = OpenApiPath(*t);
    if (!paths.contains(key)) paths[key] = Json::object();
    if (!paths[key].contains(method_key)) paths[key][method_key] = std::move(op);
  }

  Json schemas = Json::object();
  gen.schemas()["Error"] = ErrorSchema();
  for (auto& [name, schema] : gen.schemas()) schemas[name] = schema;

  Json doc = Json::object();
  doc["openapi"] = "3.0.3";
  doc["info"] = {{"title", std::string(title)}, {"version", std::string(version)}};
  doc["paths"] = std::move(paths);
  doc["components"] = {{"schemas", std::move(schemas)},
                       {"securitySchemes",
                        {{"bearer",
                          {{"type", "http"},
                           {"scheme", "bearer"},
                           {"description", "API key: Authorization: Bearer crm_<id>_<secret>"}}}}}};
  doc["security"] = Json::array({{{"bearer", Json::array()}}});
  return doc.dump(2);
}

}  // namespace crm::gateway::api

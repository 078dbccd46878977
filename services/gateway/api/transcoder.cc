#include "services/gateway/api/transcoder.h"

#include <google/api/annotations.pb.h>
#include <google/api/http.pb.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/type.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>
#include <google/protobuf/util/time_util.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "services/gateway/domain/json_limits.h"
#include "services/gateway/domain/path_template.h"

namespace crm::gateway::api {
namespace {

namespace pb = google::protobuf;
using Json = nlohmann::json;

absl::Status Invalid(absl::string_view reason, absl::string_view field, absl::string_view message) {
  absl::Status s = common::WithReason(absl::InvalidArgumentError(message), reason);
  if (!field.empty()) s = common::WithField(std::move(s), field);
  return s;
}

bool IsWrapper(const std::string& full_name) {
  static const std::set<std::string> kWrappers = {
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
      "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue"};
  return kWrappers.count(full_name) > 0;
}

// Messages with a special JSON form: their JSON is not checked key by key.
bool HasSpecialJson(const pb::Descriptor* d) {
  const std::string& n = d->full_name();
  return n == "google.protobuf.Any" || n == "google.protobuf.Struct" ||
         n == "google.protobuf.Value" || n == "google.protobuf.ListValue" ||
         n == "google.protobuf.Timestamp" || n == "google.protobuf.Duration" ||
         n == "google.protobuf.FieldMask" || IsWrapper(n);
}

// Message fields a query parameter or path binding can set as a single value.
bool IsScalarLikeMessage(const pb::Descriptor* d) {
  const std::string& n = d->full_name();
  return n == "google.protobuf.Timestamp" || n == "google.protobuf.Duration" ||
         n == "google.protobuf.FieldMask" || IsWrapper(n);
}

const pb::FieldDescriptor* FindField(const pb::Descriptor* d, absl::string_view name) {
  const pb::FieldDescriptor* f = d->FindFieldByName(std::string(name));
  if (f != nullptr) return f;
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i)->json_name() == name) return d->field(i);
  }
  return nullptr;
}

std::string JoinPath(const std::string& prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

// Walks parsed JSON against the descriptor and reports the first unknown key with its path.
absl::Status CheckFieldValue(const Json& value, const pb::FieldDescriptor* f,
                             const std::string& path);

absl::Status CheckMessage(const Json& j, const pb::Descriptor* d, const std::string& prefix) {
  if (HasSpecialJson(d) || !j.is_object()) return absl::OkStatus();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const pb::FieldDescriptor* f = FindField(d, it.key());
    const std::string path = JoinPath(prefix, it.key());
    if (f == nullptr) {
      return Invalid(kReasonUnknownField, path,
                     absl::StrCat("unknown field \"", path, "\" in request body"));
    }
    if (absl::Status s = CheckFieldValue(it.value(), f, path); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckFieldValue(const Json& value, const pb::FieldDescriptor* f,
                             const std::string& path) {
  // Protobuf 3.21's JSON parser takes a lone value for a repeated field
  // ({"emails": "a@b.ch"} as ["a@b.ch"]); the JSON mapping wants a list
  // (a map: an object). null stays accepted: it means "empty".
  const std::string shown = path.empty() ? std::string(f->json_name()) : path;
  if (f->is_map() && !value.is_object() && !value.is_null()) {
    return Invalid(kReasonInvalidField, shown,
                   absl::StrCat("invalid request body field ", shown,
                                ": expected a JSON object (a map), got ", value.type_name()));
  }
  if (f->is_repeated() && !f->is_map() && !value.is_array() && !value.is_null()) {
    return Invalid(kReasonInvalidField, shown,
                   absl::StrCat("invalid request body field ", shown,
                                ": expected a JSON array (a repeated field), got ",
                                value.type_name()));
  }
  // It also flattens lists of lists ([["a"], "b"] as ["a", "b"]).
  if (f->is_repeated() && !f->is_map() && value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i].is_array()) {
        const std::string element = absl::StrCat(shown, "[", i, "]");
        return Invalid(kReasonInvalidField, element,
                       absl::StrCat("invalid request body field ", element,
                                    ": expected a single value, got an array"));
      }
    }
  }
  if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) return absl::OkStatus();
  if (f->is_map()) {
    const pb::FieldDescriptor* value_field = f->message_type()->FindFieldByName("value");
    if (value_field == nullptr || !value.is_object() ||
        value_field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::OkStatus();
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (absl::Status s =
              CheckMessage(it.value(), value_field->message_type(), JoinPath(path, it.key()));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }
  if (f->is_repeated()) {
    if (!value.is_array()) return absl::OkStatus();
    for (size_t i = 0; i < value.size(); ++i) {
      if (absl::Status s =
              CheckMessage(value[i], f->message_type(), absl::StrCat(path, "[", i, "]"));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }
  return CheckMessage(value, f->message_type(), path);
}

absl::Status ParseJsonInto(const std::string& json, pb::Message* msg) {
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  pb::util::Status s = pb::util::JsonStringToMessage(json, msg, options);
  if (s.ok()) return absl::OkStatus();
  // Protobuf reports "(field.path): invalid value ... for type ..."; keep it readable.
  std::string detail(s.message().data(), s.message().size());
  absl::StrReplaceAll({{"type.googleapis.com/", ""}}, &detail);
  std::string field;
  if (absl::StartsWith(detail, "(")) {
    const size_t close = detail.find("): ");
    if (close != std::string::npos) {
      field = detail.substr(1, close - 1);
      detail = detail.substr(close + 3);
    }
  }
  detail = std::string(absl::StripLeadingAsciiWhitespace(absl::StripPrefix(detail, ":")));
  if (field.empty()) {
    return Invalid(kReasonInvalidField, "", absl::StrCat("invalid request body: ", detail));
  }
  return Invalid(kReasonInvalidField, field,
                 absl::StrCat("invalid request body field ", field, ": ", detail));
}

}  // namespace

const pb::FieldDescriptor* RawBodyField(const RestRoute& route) {
  if (route.body.empty() || route.body == "*") return nullptr;
  const pb::FieldDescriptor* f = route.method->input_type()->FindFieldByName(route.body);
  if (f == nullptr || f->is_repeated() || f->type() != pb::FieldDescriptor::TYPE_BYTES) {
    return nullptr;
  }
  return f;
}

const char* RawBodyMediaType(const RestRoute& route) {
  const pb::FieldDescriptor* f = RawBodyField(route);
  if (f != nullptr && f->name() == "raw_mime") return "message/rfc822";
  if (f != nullptr && f->name() == "content") return "*";  // a file of any type
  return "application/x-ndjson";
}

const pb::FieldDescriptor* RawResponseField(const RestRoute& route) {
  if (route.response_body.empty() || route.method == nullptr) return nullptr;
  const pb::FieldDescriptor* f = route.method->output_type()->FindFieldByName(route.response_body);
  if (f == nullptr || f->is_repeated() || f->type() != pb::FieldDescriptor::TYPE_BYTES) {
    return nullptr;
  }
  return f;
}

namespace {

absl::Status ApplyBody(const RestRoute& route, const std::string& body, pb::Message* msg) {
  const bool blank = absl::StripAsciiWhitespace(body).empty();
  if (route.body.empty()) {
    if (blank) return absl::OkStatus();
    return Invalid(kReasonMalformedBody, "",
                   absl::StrCat(route.http_method, " ", route.path, " takes no request body"));
  }
  if (blank) return absl::OkStatus();  // empty body: an empty message / unset field
  // A body field of type bytes receives the raw body (e.g. an NDJSON upload).
  if (const pb::FieldDescriptor* raw = RawBodyField(route)) {
    msg->GetReflection()->SetString(msg, raw, body);
    return absl::OkStatus();
  }
  // Bounded nesting first: both parsers below do work that grows with it.
  if (absl::Status s = domain::CheckJsonDepth(body); !s.ok()) return s;
  Json parsed;
  try {
    parsed = Json::parse(body);
  } catch (const Json::parse_error& e) {
    return Invalid(kReasonMalformedBody, "",
                   absl::StrCat("request body is not valid JSON (at byte ", e.byte, ")"));
  } catch (const Json::out_of_range&) {
    // e.g. 1e999: protobuf's JSON numbers are doubles at most.
    return Invalid(kReasonMalformedBody, "",
                   "request body holds a number too large for a double (beyond 1.8e308)");
  } catch (const Json::exception&) {
    return Invalid(kReasonMalformedBody, "", "request body is not valid JSON");
  }
  if (route.body == "*") {
    if (!parsed.is_object()) {
      return Invalid(kReasonMalformedBody, "", "request body must be a JSON object");
    }
    if (absl::Status s = CheckMessage(parsed, msg->GetDescriptor(), ""); !s.ok()) return s;
    return ParseJsonInto(body, msg);
  }
  const pb::FieldDescriptor* f = msg->GetDescriptor()->FindFieldByName(route.body);
  if (f == nullptr) {
    return absl::InternalError(absl::StrCat("route ", route.path, ": body field ", route.body,
                                            " not in ", msg->GetDescriptor()->full_name()));
  }
  if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated() &&
      !HasSpecialJson(f->message_type()) && !parsed.is_object()) {
    return Invalid(kReasonMalformedBody, "", "request body must be a JSON object");
  }
  if (absl::Status s = CheckFieldValue(parsed, f, ""); !s.ok()) return s;
  // Wrap the (already validated) JSON as {"<field>": body} and parse the whole request.
  return ParseJsonInto(absl::StrCat("{\"", f->json_name(), "\":", body, "}"), msg);
}

std::string CamelToSnake(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (absl::ascii_isupper(static_cast<unsigned char>(c))) {
      out.push_back('_');
      out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Well-formed UTF-8 (RFC 3629: shortest form, no surrogates, at most U+10FFFF).
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;  // no overlong forms
      if (c == 0xed) hi = 0x9f;  // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;  // no overlong forms
      if (c == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return false;
    }
    i += n + 1;
  }
  return true;
}

// Sets (or, for repeated fields, appends) one value given as text.
absl::Status SetFromText(pb::Message* msg, const pb::FieldDescriptor* f, const std::string& text,
                         const std::string& what, const std::string& field_name) {
  const pb::Reflection* r = msg->GetReflection();
  const bool rep = f->is_repeated();
  auto bad = [&](absl::string_view expectation) {
    return Invalid(kReasonInvalidField, field_name, absl::StrCat(what, ": ", expectation));
  };
  // Proto strings must be UTF-8: the backend would refuse to parse the
  // request at all. Other types do not parse from such text either.
  if (!IsValidUtf8(text)) return bad("not valid UTF-8 (after percent-decoding)");
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      std::string value = text;
      if (f->type() == pb::FieldDescriptor::TYPE_BYTES) {
        value.clear();
        if (!absl::WebSafeBase64Unescape(text, &value) && !absl::Base64Unescape(text, &value)) {
          return bad("expected base64");
        }
      }
      rep ? r->AddString(msg, f, std::move(value)) : r->SetString(msg, f, std::move(value));
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      int32_t v = 0;
      if (!absl::SimpleAtoi(text, &v)) return bad("expected an integer");
      rep ? r->AddInt32(msg, f, v) : r->SetInt32(msg, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      int64_t v = 0;
      if (!absl::SimpleAtoi(text, &v)) return bad("expected an integer");
      rep ? r->AddInt64(msg, f, v) : r->SetInt64(msg, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v = 0;
      if (absl::StartsWith(absl::StripAsciiWhitespace(text), "-") || !absl::SimpleAtoi(text, &v)) {
        return bad("expected an unsigned integer");
      }
      rep ? r->AddUInt32(msg, f, v) : r->SetUInt32(msg, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v = 0;
      if (absl::StartsWith(absl::StripAsciiWhitespace(text), "-") || !absl::SimpleAtoi(text, &v)) {
        return bad("expected an unsigned integer");
      }
      rep ? r->AddUInt64(msg, f, v) : r->SetUInt64(msg, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_DOUBLE: {
      double v = 0;
      if (!absl::SimpleAtod(text, &v)) return bad("expected a number");
      rep ? r->AddDouble(msg, f, v) : r->SetDouble(msg, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_FLOAT: {
      float v = 0;
      if (!absl::SimpleAtof(text, &v)) return bad("expected a number");
      rep ? r->AddFloat(msg, f, v) : r->SetFloat(msg, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL: {
      bool v = false;
      if (text == "true" || text == "1") {
        v = true;
      } else if (text == "false" || text == "0") {
        v = false;
      } else {
        return bad("expected true or false");
      }
      rep ? r->AddBool(msg, f, v) : r->SetBool(msg, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      const pb::EnumDescriptor* e = f->enum_type();
      const pb::EnumValueDescriptor* ev = e->FindValueByName(text);
      int number = 0;
      if (ev == nullptr && absl::SimpleAtoi(text, &number)) ev = e->FindValueByNumber(number);
      if (ev == nullptr) {
        return bad(absl::StrCat("unknown value \"", text, "\" for enum ", e->name()));
      }
      rep ? r->AddEnumValue(msg, f, ev->number()) : r->SetEnumValue(msg, f, ev->number());
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  const pb::Descriptor* md = f->message_type();
  if (f->is_map() || !IsScalarLikeMessage(md)) {
    return bad("cannot be set from a single value");
  }
  pb::Message* sub = rep ? r->AddMessage(msg, f) : r->MutableMessage(msg, f);
  const pb::Reflection* sr = sub->GetReflection();
  const std::string& name = md->full_name();
  if (name == "google.protobuf.Timestamp") {
    pb::Timestamp ts;
    if (!pb::util::TimeUtil::FromString(text, &ts)) {
      return bad("expected an RFC 3339 timestamp such as 2024-01-31T12:00:00Z");
    }
    sr->SetInt64(sub, md->FindFieldByName("seconds"), ts.seconds());
    sr->SetInt32(sub, md->FindFieldByName("nanos"), ts.nanos());
    return absl::OkStatus();
  }
  if (name == "google.protobuf.Duration") {
    pb::Duration d;
    if (!pb::util::TimeUtil::FromString(text, &d)) return bad("expected a duration such as 1.5s");
    sr->SetInt64(sub, md->FindFieldByName("seconds"), d.seconds());
    sr->SetInt32(sub, md->FindFieldByName("nanos"), d.nanos());
    return absl::OkStatus();
  }
  if (name == "google.protobuf.FieldMask") {
    const pb::FieldDescriptor* paths = md->FindFieldByName("paths");
    for (absl::string_view p : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
      sr->AddString(sub, paths, CamelToSnake(absl::StripAsciiWhitespace(p)));
    }
    return absl::OkStatus();
  }
  // Wrappers: set the inner "value".
  return SetFromText(sub, md->FindFieldByName("value"), text, what, field_name);
}

struct ResolvedField {
  std::vector<const pb::FieldDescriptor*> chain;  // top-level first
  std::string canonical;                          // dotted proto names
};

absl::StatusOr<ResolvedField> ResolveFieldPath(const pb::Descriptor* root, absl::string_view dotted,
                                               absl::string_view what) {
  ResolvedField out;
  const pb::Descriptor* d = root;
  std::vector<absl::string_view> parts = absl::StrSplit(dotted, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (d == nullptr) {
      return Invalid(kReasonInvalidField, dotted,
                     absl::StrCat(what, ": ", out.canonical, " has no sub-fields"));
    }
    const pb::FieldDescriptor* f = FindField(d, parts[i]);
    if (f == nullptr) {
      return Invalid(kReasonUnknownField, dotted, absl::StrCat("unknown ", what));
    }
    out.chain.push_back(f);
    out.canonical = JoinPath(out.canonical, f->name());
    const bool last = i + 1 == parts.size();
    if (!last) {
      if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated() ||
          IsScalarLikeMessage(f->message_type())) {
        d = nullptr;
      } else {
        d = f->message_type();
      }
    }
  }
  return out;
}

absl::Status SetResolved(pb::Message* root, const ResolvedField& rf, const std::string& text,
                         const std::string& what) {
  pb::Message* msg = root;
  for (size_t i = 0; i + 1 < rf.chain.size(); ++i) {
    msg = msg->GetReflection()->MutableMessage(msg, rf.chain[i]);
  }
  return SetFromText(msg, rf.chain.back(), text, what, rf.canonical);
}

bool CoveredBy(const std::string& field, const std::string& prefix) {
  return field == prefix || absl::StartsWith(field, absl::StrCat(prefix, "."));
}

}  // namespace

std::vector<RestRoute> RoutesFromServices(
    const std::vector<const pb::ServiceDescriptor*>& services) {
  std::vector<RestRoute> routes;
  auto add = [&routes](const pb::MethodDescriptor* m, const google::api::HttpRule& rule) {
    RestRoute r;
    r.method = m;
    switch (rule.pattern_case()) {
      case google::api::HttpRule::kGet:
        r.http_method = "GET";
        r.path = rule.get();
        break;
      case google::api::HttpRule::kPut:
        r.http_method = "PUT";
        r.path = rule.put();
        break;
      case google::api::HttpRule::kPost:
        r.http_method = "POST";
        r.path = rule.post();
        break;
      case google::api::HttpRule::kDelete:
        r.http_method = "DELETE";
        r.path = rule.delete_();
        break;
      case google::api::HttpRule::kPatch:
        r.http_method = "PATCH";
        r.path = rule.patch();
        break;
      case google::api::HttpRule::kCustom:
        r.http_method = absl::AsciiStrToUpper(rule.custom().kind());
        r.path = rule.custom().path();
        break;
      default:
        return;
    }
    r.body = rule.body();
    r.response_body = rule.response_body();
    routes.push_back(std::move(r));
  };
  for (const pb::ServiceDescriptor* service : services) {
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const pb::MethodDescriptor* m = service->method(i);
      if (!m->options().HasExtension(google::api::http)) continue;
      // REST is request/response: streaming methods are gRPC only (no
      // route, no OpenAPI operation), whatever their annotations say.
      if (m->client_streaming() || m->server_streaming()) continue;
      const google::api::HttpRule& rule = m->options().GetExtension(google::api::http);
      add(m, rule);
      for (const google::api::HttpRule& extra : rule.additional_bindings()) add(m, extra);
    }
  }
  return routes;
}

absl::StatusOr<std::unique_ptr<pb::Message>> BuildRequest(const RestRoute& route,
                                                          const HttpCall& call) {
  if (route.method == nullptr) return absl::InternalError("route without a method");
  const pb::Message* prototype =
      pb::MessageFactory::generated_factory()->GetPrototype(route.method->input_type());
  if (prototype == nullptr) {
    return absl::InternalError(
        absl::StrCat("no generated type for ", route.method->input_type()->full_name()));
  }
  std::unique_ptr<pb::Message> msg(prototype->New());
  const pb::Descriptor* desc = msg->GetDescriptor();

  if (absl::Status s = ApplyBody(route, call.body, msg.get()); !s.ok()) return s;

  std::vector<std::string> bound;
  for (const auto& [path, value] : call.bindings) {
    const std::string what = absl::StrCat("path parameter ", path);
    absl::StatusOr<ResolvedField> rf = ResolveFieldPath(desc, path, what);
    if (!rf.ok()) {
      return absl::InternalError(absl::StrCat("route ", route.path, " binds ", path,
                                              ", which is not a field of ", desc->full_name()));
    }
    if (absl::Status s = SetResolved(msg.get(), *rf, value, what); !s.ok()) return s;
    bound.push_back(rf->canonical);
  }

  std::set<std::string> seen;
  for (absl::string_view pair : absl::StrSplit(call.query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    const std::string key = domain::DecodeQueryComponent(kv.first);
    const std::string value = domain::DecodeQueryComponent(kv.second);
    const std::string what = absl::StrCat("query parameter ", key);
    if (key.empty()) continue;
    absl::StatusOr<ResolvedField> rf = ResolveFieldPath(desc, key, what);
    if (!rf.ok()) {
      if (common::ReasonOf(rf.status()) == kReasonUnknownField) {
        return Invalid(kReasonUnknownField, key,
                       absl::StrCat("unknown query parameter \"", key, "\""));
      }
      return rf.status();
    }
    if (route.body == "*" || (!route.body.empty() && rf->chain.front()->name() == route.body)) {
      return Invalid(kReasonInvalidField, rf->canonical,
                     absl::StrCat(what, ": the field is set through the request body"));
    }
    for (const std::string& b : bound) {
      if (CoveredBy(rf->canonical, b) || CoveredBy(b, rf->canonical)) {
        return Invalid(kReasonInvalidField, rf->canonical,
                       absl::StrCat(what, ": the field is set by the URL path"));
      }
    }
    const pb::FieldDescriptor* leaf = rf->chain.back();
    const bool accumulates =
        leaf->is_repeated() || (leaf->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE &&
                                leaf->message_type()->full_name() == "google.protobuf.FieldMask");
    if (!seen.insert(rf->canonical).second && !accumulates) {
      return Invalid(kReasonInvalidField, rf->canonical,
                     absl::StrCat(what, ": given more than once"));
    }
    if (absl::Status s = SetResolved(msg.get(), *rf, value, what); !s.ok()) return s;
  }
  // Idempotency keys follow the services' rule (common::CheckRequestId):
  // refused here already, whichever of body, path or query set them.
  if (const pb::FieldDescriptor* rid = desc->FindFieldByName("request_id");
      rid != nullptr && rid->type() == pb::FieldDescriptor::TYPE_STRING && !rid->is_repeated()) {
    if (absl::Status s = common::CheckRequestId(msg->GetReflection()->GetString(*msg, rid));
        !s.ok()) {
      return s;
    }
  }
  return msg;
}

absl::StatusOr<std::unique_ptr<pb::Message>> ParseResponse(const pb::MethodDescriptor& method,
                                                           const std::string& bytes) {
  const pb::Message* prototype =
      pb::MessageFactory::generated_factory()->GetPrototype(method.output_type());
  if (prototype == nullptr) {
    return absl::InternalError(
        absl::StrCat("no generated type for ", method.output_type()->full_name()));
  }
  std::unique_ptr<pb::Message> msg(prototype->New());
  if (!msg->ParseFromString(bytes)) {
    return absl::InternalError(absl::StrCat("response of ", method.full_name(), " does not parse"));
  }
  return msg;
}

namespace {

pb::util::JsonPrintOptions PrintOptions() {
  pb::util::JsonPrintOptions options;
  options.always_print_primitive_fields = false;
  options.preserve_proto_field_names = false;
  return options;
}

constexpr char kTypeUrlPrefix[] = "type.googleapis.com";

// The descriptor pool's types as protobuf's converter wants them
// (google.protobuf.Type / Enum), each converted once and then copied out.
class CachingTypeResolver final : public pb::util::TypeResolver {
 public:
  CachingTypeResolver()
      : inner_(pb::util::NewTypeResolverForDescriptorPool(kTypeUrlPrefix,
                                                          pb::DescriptorPool::generated_pool())) {}

  pb::util::Status ResolveMessageType(const std::string& type_url, pb::Type* type) override {
    return Resolve(type_url, type, types_, [this](const std::string& url, pb::Type* t) {
      return inner_->ResolveMessageType(url, t);
    });
  }
  pb::util::Status ResolveEnumType(const std::string& type_url, pb::Enum* enum_type) override {
    return Resolve(type_url, enum_type, enums_, [this](const std::string& url, pb::Enum* e) {
      return inner_->ResolveEnumType(url, e);
    });
  }

 private:
  // Only successful resolutions are kept: the generated pool never loses a type.
  template <typename T, typename Load>
  pb::util::Status Resolve(const std::string& url, T* out,
                           std::map<std::string, std::unique_ptr<const T>, std::less<>>& cache,
                           Load load) {
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it = cache.find(url);
      if (it != cache.end()) {
        *out = *it->second;
        return pb::util::Status();
      }
    }
    auto loaded = std::make_unique<T>();
    pb::util::Status s = load(url, loaded.get());
    if (!s.ok()) return s;
    *out = *loaded;
    absl::MutexLock lock(&mu_);
    cache.emplace(url, std::move(loaded));
    return s;
  }

  std::unique_ptr<pb::util::TypeResolver> inner_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<const pb::Type>, std::less<>> types_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<const pb::Enum>, std::less<>> enums_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

JsonPrinter::JsonPrinter() : resolver_(std::make_unique<CachingTypeResolver>()) {}
JsonPrinter::~JsonPrinter() = default;

absl::StatusOr<std::string> JsonPrinter::BytesToJson(const pb::Descriptor& type,
                                                     const std::string& bytes) const {
  std::string out;
  pb::util::Status s =
      pb::util::BinaryToJsonString(resolver_.get(), absl::StrCat(kTypeUrlPrefix, "/", type.full_name()),
                                   bytes, &out, PrintOptions());
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat(type.full_name(), " cannot be printed as JSON: ", s.ToString()));
  }
  return out;
}

absl::StatusOr<std::string> MessageToJson(const pb::Message& msg) {
  std::string out;
  pb::util::Status s = pb::util::MessageToJsonString(msg, &out, PrintOptions());
  if (!s.ok()) {
    return absl::InternalError(absl::StrCat(msg.GetDescriptor()->full_name(),
                                            " cannot be printed as JSON: ", s.ToString()));
  }
  return out;
}

absl::StatusOr<std::string> ResponseToJson(const pb::MethodDescriptor& method,
                                           const std::string& bytes) {
  absl::StatusOr<std::unique_ptr<pb::Message>> msg = ParseResponse(method, bytes);
  if (!msg.ok()) return msg.status();
  return MessageToJson(**msg);
}

absl::StatusOr<std::string> ResponseToJson(const RestRoute& route, const std::string& bytes) {
  if (route.method == nullptr) return absl::InternalError("route without a method");
  absl::StatusOr<std::string> json = ResponseToJson(*route.method, bytes);
  if (!json.ok() || route.response_body.empty()) return json;
  const pb::FieldDescriptor* f = route.method->output_type()->FindFieldByName(route.response_body);
  if (f == nullptr) {
    return absl::InternalError(absl::StrCat("route ", route.path, ": response_body ",
                                            route.response_body, " is not a field"));
  }
  Json parsed = Json::parse(*json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InternalError("response JSON does not parse");
  auto it = parsed.find(f->json_name());
  if (it == parsed.end()) {
    if (f->is_map() || f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      return std::string(f->is_repeated() && !f->is_map() ? "[]" : "{}");
    }
    return std::string(f->is_repeated() ? "[]" : "null");
  }
  return it->dump();
}

}  // namespace crm::gateway::api

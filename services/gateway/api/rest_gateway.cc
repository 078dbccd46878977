#include "services/gateway/api/rest_gateway.h"

#include <google/protobuf/descriptor.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "libs/grpcutil/status_conversion.h"
#include "libs/observability/log.h"
#include "libs/observability/metrics.h"
#include "services/gateway/api/rest_errors.h"
#include "services/gateway/domain/path_template.h"

namespace crm::gateway::api {
namespace {

HttpResponse Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

// The etag of a response message: its top-level string field "etag", or
// that of a top-level message field that has one (e.g. UpsertCustomerResponse.customer).
std::string EtagOf(const google::protobuf::Message& m) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  if (const auto* f = d->FindFieldByName("etag");
      f && f->type() == google::protobuf::FieldDescriptor::TYPE_STRING && !f->is_repeated()) {
    return r->GetString(m, f);
  }
  return {};
}

void SetEtag(google::protobuf::Message& m, const std::string& etag) {
  const auto* f = m.GetDescriptor()->FindFieldByName("etag");
  if (f && f->type() == google::protobuf::FieldDescriptor::TYPE_STRING && !f->is_repeated()) {
    m.GetReflection()->SetString(&m, f, etag);
  }
}

// "application/json" or "application/json; charset=utf-8" (lower-cased already).
bool IsMediaType(absl::string_view content_type, absl::string_view type) {
  if (!absl::ConsumePrefix(&content_type, type)) return false;
  content_type = absl::StripLeadingAsciiWhitespace(content_type);
  return content_type.empty() || content_type.front() == ';';
}

// A file upload (raw body field `content`): its content_type field, when
// the query left it unset, from the request's Content-Type.
void SetUploadType(const RestRoute& route, const std::string& header,
                   google::protobuf::Message& m) {
  const auto* raw = RawBodyField(route);
  if (raw == nullptr || raw->name() != "content") return;
  const auto* f = m.GetDescriptor()->FindFieldByName("content_type");
  if (f == nullptr || f->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      f->is_repeated() || !m.GetReflection()->GetString(m, f).empty()) {
    return;
  }
  m.GetReflection()->SetString(&m, f, header);
}

// If-Match / ETag values are quoted strings; W/ prefixes are accepted.
std::string Unquote(absl::string_view v) {
  v = absl::StripAsciiWhitespace(v);
  if (absl::StartsWith(v, "W/")) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return std::string(v);
}

absl::Status BodyTooLarge(size_t limit) {
  return common::WithReason(
      absl::ResourceExhaustedError(absl::StrCat("request body exceeds ", limit, " bytes")),
      kReasonBodyTooLarge);
}

// A string field of `m` ("" when it has none).
std::string StringField(const google::protobuf::Message& m, const char* name) {
  const auto* f = m.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->is_repeated() ||
      f->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
    return "";
  }
  return m.GetReflection()->GetString(m, f);
}

// RFC 6266 / 8187: an ASCII fallback name and the UTF-8 name.
std::string ContentDisposition(const std::string& filename) {
  std::string ascii, encoded;
  for (unsigned char c : filename) {
    const bool plain = absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_';
    ascii.push_back(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? static_cast<char>(c) : '_');
    if (plain) {
      encoded.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&encoded, "%", absl::StrFormat("%02X", c));
    }
  }
  if (ascii.empty()) ascii = "download";
  return absl::StrCat("attachment; filename=\"", ascii, "\"; filename*=UTF-8''", encoded);
}

// A download: the bytes as they are, never rendered by a browser on the
// API's origin (attachment, nosniff, a sandboxing CSP).
HttpResponse RawResponse(const google::protobuf::Message& m,
                         const google::protobuf::FieldDescriptor& field) {
  HttpResponse r;
  r.status = 200;
  std::string type = StringField(m, "content_type");
  if (type.empty()) type = "application/octet-stream";
  r.headers.emplace_back("content-type", type);
  r.headers.emplace_back("content-disposition", ContentDisposition(StringField(m, "filename")));
  r.headers.emplace_back("x-content-type-options", "nosniff");
  r.headers.emplace_back("content-security-policy", "sandbox; default-src 'none'");
  r.headers.emplace_back("cache-control", "private, no-store");
  r.body = m.GetReflection()->GetString(m, &field);
  return r;
}

// The answer to a forwarded (or refused) call.
HttpResponse ToHttpResponse(const RestRoute& route, const ForwardResult& r,
                            const JsonPrinter& printer) {
  HttpResponse resp;
  if (!r.status.ok()) {
    absl::Status s = grpcutil::FromGrpcStatus(r.status);
    if (!r.reason.empty() && common::ReasonOf(s).empty()) s = common::WithReason(s, r.reason);
    resp = ErrorResponse(s);
    if (s.code() == absl::StatusCode::kUnauthenticated) {
      resp.headers.emplace_back("www-authenticate", "Bearer");
    }
    if (r.retry_after_ms > 0) {
      resp.headers.emplace_back("retry-after", absl::StrCat((r.retry_after_ms + 999) / 1000));
    }
    return resp;
  }
  std::string out = grpcutil::ByteBufferToString(r.response);
  // Parsed to check the bytes and for the etag header; the JSON is printed
  // from the bytes themselves (JsonPrinter).
  auto message = ParseResponse(*route.method, out);
  if (!message.ok()) return ErrorResponse(message.status());
  if (const auto* raw = RawResponseField(route)) return RawResponse(**message, *raw);
  absl::StatusOr<std::string> json = route.response_body.empty()
                                         ? printer.BytesToJson(*route.method->output_type(), out)
                                         : ResponseToJson(route, out);
  if (!json.ok()) return ErrorResponse(json.status());
  std::string etag = EtagOf(**message);
  resp = Json(200, *std::move(json));
  if (!etag.empty()) resp.headers.emplace_back("etag", absl::StrCat("\"", etag, "\""));
  return resp;
}

}  // namespace

absl::Status RestGateway::CheckBodyHeaders(const RestRoute& route, const HttpRequest& req) const {
  const std::string content_length = req.Header("content-length");
  const bool has_body = !req.Header("transfer-encoding").empty() ||
                        (!content_length.empty() && content_length != "0");
  if (!has_body) return absl::OkStatus();
  const bool raw_body = RawBodyField(route) != nullptr;
  uint64_t length = 0;
  if (!raw_body && absl::SimpleAtoi(content_length, &length) &&
      length > options_.max_json_body_bytes) {
    return BodyTooLarge(options_.max_json_body_bytes);
  }
  const std::string content_type = absl::AsciiStrToLower(req.Header("content-type"));
  if (raw_body) {
    const std::string media = RawBodyMediaType(route);
    if (media == "*") return absl::OkStatus();
    if (!IsMediaType(content_type, media)) {
      return common::WithReason(
          absl::InvalidArgumentError(
              media == "message/rfc822"
                  ? "send the mail as it was received (RFC 5322) with Content-Type: "
                    "message/rfc822"
                  : "send the body as NDJSON (one JSON object per line) with Content-Type: "
                    "application/x-ndjson"),
          kReasonUnsupportedMediaType);
    }
    return absl::OkStatus();
  }
  if (!IsMediaType(content_type, "application/json")) {
    return common::WithReason(
        absl::InvalidArgumentError("send the body as JSON with Content-Type: application/json"),
        kReasonUnsupportedMediaType);
  }
  return absl::OkStatus();
}

RestGateway::RestGateway(Proxy& proxy, RestOptions options, prometheus::Registry& metrics)
    : proxy_(proxy),
      options_(std::move(options)),
      requests_(prometheus::BuildCounter()
                    .Name("crm_gateway_http_requests_total")
                    .Help("REST requests by route and HTTP status")
                    .Register(metrics)),
      latency_(prometheus::BuildHistogram()
                   .Name("crm_gateway_http_request_seconds")
                   .Help("REST request latency by route")
                   .Register(metrics)) {}

absl::StatusOr<std::unique_ptr<RestGateway>> RestGateway::Create(
    Proxy& proxy, const std::vector<const google::protobuf::ServiceDescriptor*>& services,
    RestOptions options, prometheus::Registry& metrics) {
  std::unique_ptr<RestGateway> g(new RestGateway(proxy, std::move(options), metrics));
  g->routes_ = RoutesFromServices(services);
  if (!g->options_.tracking_key.empty()) {
    g->tracking_ = std::make_unique<TrackingLinks>(proxy, g->options_.tracking_key);
  }
  for (size_t i = 0; i < g->routes_.size(); ++i) {
    auto t = domain::ParsePathTemplate(g->routes_[i].path);
    if (!t.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad http rule on ", g->routes_[i].method->full_name(), ": ", t.status().message()));
    }
    g->router_.Add(g->routes_[i].http_method, *std::move(t), static_cast<int>(i));
  }
  return g;
}

bool RestGateway::OriginAllowed(const std::string& origin) const {
  return options_.cors_allowed_origins.count("*") || options_.cors_allowed_origins.count(origin);
}

void RestGateway::Handle(HttpRequest req, Responder respond) {
  std::string body = std::move(req.body);
  Handle(std::move(req),
         [body = std::move(body)](std::function<void(std::string)> done) mutable {
           done(std::move(body));
         },
         std::move(respond));
}

void RestGateway::Handle(HttpRequest req, BodyReader read_body, Responder respond) {
  absl::Time start = absl::Now();
  std::string request_id = RequestIdFrom(req.Header("x-request-id"));
  auto access = std::make_shared<InboundCall>();
  access->request_id = request_id;
  access->traceparent = req.Header("traceparent");
  auto outcome = std::make_shared<ForwardResult>();
  auto finish = [this, start, respond, request_id, access, outcome, method = req.method,
                 origin = req.Header("origin")](HttpResponse resp, const char* route) mutable {
    resp.headers.emplace_back("x-request-id", request_id);
    LogAccess("http", absl::StrCat(method, " ", route), absl::StrCat(resp.status),
              absl::Now() - start, *access, *outcome);
    requests_.Add({{"route", route}, {"code", absl::StrCat(resp.status)}}).Increment();
    latency_.Add({{"route", route}}, observability::Metrics::LatencyBuckets())
        .Observe(absl::ToDoubleSeconds(absl::Now() - start));
    if (!origin.empty() && OriginAllowed(origin)) {
      resp.headers.emplace_back("access-control-allow-origin", origin);
      resp.headers.emplace_back("vary", "Origin");
      resp.headers.emplace_back("access-control-expose-headers", "ETag, Retry-After, X-Request-Id");
    }
    respond(std::move(resp));
  };

  // CORS preflight.
  if (req.method == "OPTIONS") {
    std::string origin = req.Header("origin");
    if (origin.empty() || !OriginAllowed(origin)) {
      finish(Json(403, ErrorJson(absl::PermissionDeniedError("origin not allowed"), 403)), "preflight");
      return;
    }
    HttpResponse r;
    r.status = 204;
    r.headers.emplace_back("access-control-allow-methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS");
    r.headers.emplace_back("access-control-allow-headers",
                           "authorization, content-type, if-match, x-request-id, traceparent");
    r.headers.emplace_back("access-control-max-age", "600");
    finish(std::move(r), "preflight");
    return;
  }
  if (req.path == "/healthz" && req.method == "GET") {
    finish(Json(200, R"({"status":"ok"})"), "healthz");
    return;
  }
  if (req.path == "/readyz" && req.method == "GET") {
    bool ready = ready_;
    finish(Json(ready ? 200 : 503, ready ? R"({"status":"ready"})" : R"({"status":"not ready"})"),
           "readyz");
    return;
  }
  if (req.path == "/openapi.json" && req.method == "GET") {
    finish(Json(200, options_.openapi_json), "openapi");
    return;
  }

  if (tracking_ != nullptr && absl::StartsWith(req.path, kTrackingPrefix)) {
    auto call = std::make_shared<InboundCall>();
    call->request_id = request_id;
    call->traceparent = TraceparentFrom(req.Header("traceparent"));
    access->traceparent = call->traceparent;
    tracking_->Handle(req, std::move(call), std::move(read_body),
                      [finish](HttpResponse r) mutable { finish(std::move(r), "tracking"); });
    return;
  }

  auto match = router_.Match(req.method, req.path);
  if (!match.ok()) {
    HttpResponse r = ErrorResponse(match.status());
    if (common::ReasonOf(match.status()) == "METHOD_NOT_ALLOWED") {
      r.headers.emplace_back("allow", absl::StrJoin(router_.AllowedMethods(req.path), ", "));
    }
    finish(std::move(r), "unmatched");
    return;
  }
  const RestRoute* route = &routes_[match->route_index];
  const char* route_name = route->method->name().c_str();

  auto call = std::make_shared<InboundCall>();
  call->full_method =
      absl::StrCat("/", route->method->service()->full_name(), "/", route->method->name());
  call->authorization = req.Header("authorization");
  call->request_id = request_id;
  call->upload = RawBodyField(*route) != nullptr;
  call->traceparent = TraceparentFrom(req.Header("traceparent"));
  access->traceparent = call->traceparent;

  // Admission (key, role, rate limit) before the body is read: a caller
  // without a good key costs no body read and no parse (the HTTP server
  // closes the connection when the body stays unread).
  auto head = std::make_shared<HttpRequest>(std::move(req));
  auto bindings = std::make_shared<std::vector<std::pair<std::string, std::string>>>(
      std::move(match->bindings));
  proxy_.Admit(call, [this, call, head, bindings, route, route_name, finish, outcome,
                      read_body = std::move(read_body)](const app::Principal* p,
                                                        ForwardResult refusal) mutable {
    if (p == nullptr) {
      outcome->reason = refusal.reason;
      finish(ToHttpResponse(*route, refusal, json_printer_), route_name);
      return;
    }
    if (absl::Status s = CheckBodyHeaders(*route, *head); !s.ok()) {
      finish(ErrorResponse(s), route_name);
      return;
    }
    auto principal = std::make_shared<app::Principal>(*p);
    read_body([this, call, head, bindings, route, route_name, finish, outcome,
               principal](std::string body) mutable {
      if (RawBodyField(*route) == nullptr && body.size() > options_.max_json_body_bytes) {
        finish(ErrorResponse(BodyTooLarge(options_.max_json_body_bytes)), route_name);
        return;
      }
      auto message = BuildRequest(*route, HttpCall{*bindings, head->query, std::move(body)});
      if (!message.ok()) {
        finish(ErrorResponse(message.status()), route_name);
        return;
      }
      SetUploadType(*route, head->Header("content-type"), **message);
      if (std::string if_match = head->Header("if-match"); !if_match.empty() && if_match != "*") {
        SetEtag(**message, Unquote(if_match));
      }
      std::string bytes;
      if (!(*message)->SerializeToString(&bytes)) {
        finish(ErrorResponse(absl::InternalError("could not encode the request")), route_name);
        return;
      }
      grpc::Slice slice(bytes);
      std::vector<grpc::ByteBuffer> buffers;
      buffers.emplace_back(&slice, 1);
      proxy_.ForwardAdmitted(call, *principal, std::move(buffers),
                             [this, route, route_name, finish, outcome](ForwardResult r) mutable {
                               outcome->tenant_id = r.tenant_id;
                               outcome->principal = r.principal;
                               outcome->reason = r.reason;
                               finish(ToHttpResponse(*route, r, json_printer_), route_name);
                             });
    });
  });
}

}  // namespace crm::gateway::api

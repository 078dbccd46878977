#pragma once
// REST <-> proto transcoding driven by google.api.http annotations: routes are read
// from the descriptors, requests are built from the JSON body, path bindings and
// query parameters, responses are printed with protobuf's JSON mapping.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace google::protobuf::util {
class TypeResolver;
}

namespace crm::gateway::api {

inline constexpr const char* kReasonMalformedBody = "MALFORMED_BODY";
inline constexpr const char* kReasonUnknownField = "UNKNOWN_FIELD";
inline constexpr const char* kReasonInvalidField = "INVALID_FIELD";

struct RestRoute {
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string http_method;    // "GET", "POST", "PATCH", "PUT", "DELETE" or a custom kind
  std::string path;           // template text
  std::string body;           // "", "*", or a top-level field name
  std::string response_body;  // usually ""
};

// Reads the google.api.http option of every method (including additional_bindings), in
// service and method order. Methods without the option are skipped.
std::vector<RestRoute> RoutesFromServices(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services);

// The body field when it is of type bytes: such routes take the raw request
// body (any content type, e.g. application/x-ndjson) instead of JSON.
const google::protobuf::FieldDescriptor* RawBodyField(const RestRoute& route);
// The Content-Type a raw body must have: "message/rfc822" for a field named
// raw_mime (a mail as received), "*" (any) for a field named content (a
// file, whose media type the request's content_type field takes from the
// header), else "application/x-ndjson" (uploads).
const char* RawBodyMediaType(const RestRoute& route);
// The response_body field when it is of type bytes: such routes answer its
// bytes raw (a download: Content-Type from the response's content_type,
// Content-Disposition attachment with its filename) instead of JSON.
const google::protobuf::FieldDescriptor* RawResponseField(const RestRoute& route);

struct HttpCall {
  std::vector<std::pair<std::string, std::string>> bindings;  // from the router
  std::string query;                                          // raw query string, no '?'
  std::string body;
};

// Builds the request message of route.method: the JSON body (per route.body), then the
// path bindings, then query parameters for fields covered neither by the body nor the
// path. Errors are INVALID_ARGUMENT with reason MALFORMED_BODY, UNKNOWN_FIELD or
// INVALID_FIELD (plus the field when known).
[[nodiscard]] absl::StatusOr<std::unique_ptr<google::protobuf::Message>> BuildRequest(
    const RestRoute& route, const HttpCall& call);

// Serialized output_type -> message (INTERNAL if the bytes do not parse).
[[nodiscard]] absl::StatusOr<std::unique_ptr<google::protobuf::Message>> ParseResponse(
    const google::protobuf::MethodDescriptor& method, const std::string& bytes);
// A message -> JSON with the options below.
[[nodiscard]] absl::StatusOr<std::string> MessageToJson(const google::protobuf::Message& msg);

// Serialized output_type -> JSON (lowerCamelCase names, int64 as strings, RFC 3339
// timestamps, default values omitted). INTERNAL if the bytes do not parse.
[[nodiscard]] absl::StatusOr<std::string> ResponseToJson(
    const google::protobuf::MethodDescriptor& method, const std::string& bytes);

// Same, honouring route.response_body (only that field of the response is printed).
[[nodiscard]] absl::StatusOr<std::string> ResponseToJson(const RestRoute& route,
                                                         const std::string& bytes);

// Prints serialized messages as JSON straight from their wire bytes, with the
// options of MessageToJson and the same text. MessageToJson resolves every
// message and enum type it meets from the descriptors again on each call
// (protobuf's converter keeps no cache between calls) and needs a parsed
// message that it serializes once more; a REST response is printed on every
// call, so this printer keeps the resolved types for the process's life and
// reads the backend's bytes as they are. Thread-safe.
class JsonPrinter final {
 public:
  JsonPrinter();
  ~JsonPrinter();
  JsonPrinter(const JsonPrinter&) = delete;
  JsonPrinter& operator=(const JsonPrinter&) = delete;

  // Serialized `type` (a generated message type) -> JSON. The bytes must be
  // a message that parses (ParseResponse): protobuf's converter is more
  // lenient than the parser and may print what the parser refuses.
  [[nodiscard]] absl::StatusOr<std::string> BytesToJson(const google::protobuf::Descriptor& type,
                                                        const std::string& bytes) const;

 private:
  std::unique_ptr<google::protobuf::util::TypeResolver> resolver_;
};

}  // namespace crm::gateway::api

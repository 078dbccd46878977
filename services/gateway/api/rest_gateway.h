#pragma once
// REST/JSON front door: CORS, health and OpenAPI, routing by the protos'
// google.api.http annotations, JSON <-> proto transcoding, then the same
// Proxy pipeline as gRPC. No per-RPC code: a new annotated RPC is routed by
// registering its service.
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "services/gateway/api/http_server.h"
#include "services/gateway/api/proxy.h"
#include "services/gateway/api/tracking_links.h"
#include "services/gateway/api/transcoder.h"
#include "services/gateway/domain/router.h"

namespace crm::gateway::api {

struct RestOptions {
  std::set<std::string> cors_allowed_origins;  // exact origins, "*" for any
  std::string openapi_json;                    // served at /openapi.json
  size_t max_json_body_bytes = 1 << 20;        // JSON routes; raw-body (upload) routes
                                               // are bounded by the HTTP server's limit
  std::string tracking_key;  // common::TrackingKey(CRM_CONTEXT_KEY); "": no /t/ links
};

class RestGateway final {
 public:
  // Routes every annotated method of `services`.
  static absl::StatusOr<std::unique_ptr<RestGateway>> Create(
      Proxy& proxy, const std::vector<const google::protobuf::ServiceDescriptor*>& services,
      RestOptions options, prometheus::Registry& metrics);

  // For HttpServer's HeadHandler: routes by the request head, admits the
  // call (API key, role, rate limit) and checks the body's headers first;
  // only an admitted call has its body read, parsed and forwarded.
  void Handle(HttpRequest request, BodyReader read_body, Responder respond);
  // The same for a request whose body is already read.
  void Handle(HttpRequest request, Responder respond);
  void SetReady(bool ready) { ready_ = ready; }
  const std::vector<RestRoute>& routes() const { return routes_; }

 private:
  RestGateway(Proxy& proxy, RestOptions options, prometheus::Registry& metrics);
  bool OriginAllowed(const std::string& origin) const;
  // Content-Type (JSON, or NDJSON for raw-body routes: 415 otherwise) and
  // Content-Length (413 beyond max_json_body_bytes) of a request with a body.
  absl::Status CheckBodyHeaders(const RestRoute& route, const HttpRequest& req) const;

  Proxy& proxy_;
  RestOptions options_;
  std::vector<RestRoute> routes_;
  domain::Router router_;
  std::unique_ptr<TrackingLinks> tracking_;
  JsonPrinter json_printer_;
  std::atomic<bool> ready_{false};
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

}  // namespace crm::gateway::api

#pragma once
// The tracking links of sent email (docs/delivery.md, "Tracking"), served
// without an API key: the recipient's mail client or browser holds no key.
// What the link may do is the token's: the gateway checks it (signature,
// expiry: libs/common/tracking_token.h) before anything else, answers 404
// to any token that does not verify, and only then calls delivery's Track
// in the token's tenant (a proxied call with a principal of its own,
// "tracking-link"; Track's access policy admits no API key).
//
//   GET  /t/o/{token}   the open pixel: a 1×1 transparent GIF
//   GET  /t/c/{token}   a click: 302 to the link the message contained
//                       (HEAD of either: the same answer, nothing counted)
//   GET  /t/u/{token}   the unsubscribe page (asks; changes nothing, so a
//                       link scanner that fetches it unsubscribes nobody)
//   POST /t/u/{token}   unsubscribe: the page's button, and RFC 8058's
//                       one-click POST (List-Unsubscribe=One-Click)
//   POST /t/s/{token}   a provider's status callback about a sent SMS
//                       (delivery's ReportStatus checks the provider's
//                       signature): 204, or 404 when anything is wrong
//   POST /t/e/{tenant}  an email service's event (bounce, complaint,
//                       delivered; delivery's ReportEmailEvent checks its
//                       signature with the tenant's provider): 200, 404
//                       when the tenant has none or it does not verify
//   GET  /t/v/{token}   a satisfaction survey of the service desk: the
//                       page asking for a rating (records nothing)
//   POST /t/v/{token}   its answer (a form: rating 1..5, reason, comment):
//                       the service desk's AnswerSurvey, once per survey
#include <memory>
#include <string>

#include "google/protobuf/message.h"
#include "services/gateway/api/http_server.h"
#include "services/gateway/api/proxy.h"

namespace crm::gateway::api {

inline constexpr char kTrackingPrefix[] = "/t/";

class TrackingLinks final {
 public:
  // `key`: common::TrackingKey(CRM_CONTEXT_KEY).
  TrackingLinks(Proxy& proxy, std::string key) : proxy_(proxy), key_(std::move(key)) {}

  // `call` carries the request id and traceparent; its method is set here.
  void Handle(const HttpRequest& req, std::shared_ptr<InboundCall> call, BodyReader read_body,
              Responder respond);

 private:
  void HandleSurvey(const HttpRequest& req, std::shared_ptr<InboundCall> call,
                    const std::string& tenant, const std::string& token, bool nps,
                    BodyReader read_body, Responder respond);
  void HandleEmailEvent(const HttpRequest& req, std::shared_ptr<InboundCall> call,
                        const std::string& tenant, BodyReader read_body, Responder respond);
  void Forward(std::shared_ptr<InboundCall> call, const std::string& tenant, const char* method,
               const google::protobuf::Message& request, std::function<void(ForwardResult)> done);

  Proxy& proxy_;
  const std::string key_;
};

}  // namespace crm::gateway::api

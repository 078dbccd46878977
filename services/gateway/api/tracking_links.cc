#include "services/gateway/api/tracking_links.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crm/delivery/v1/delivery.pb.h"
#include "crm/service_desk/v1/service_desk.pb.h"
#include "libs/common/id.h"
#include "libs/common/tracking_token.h"
#include "libs/grpcutil/proto_util.h"
#include "services/gateway/domain/path_template.h"

namespace crm::gateway::api {
namespace {

constexpr char kTrackMethod[] = "/crm.delivery.v1.DeliveryService/Track";
constexpr char kReportStatusMethod[] = "/crm.delivery.v1.DeliveryService/ReportStatus";
constexpr char kReportEmailEventMethod[] = "/crm.delivery.v1.DeliveryService/ReportEmailEvent";
constexpr char kAnswerSurveyMethod[] = "/crm.service_desk.v1.ServiceDeskService/AnswerSurvey";
constexpr char kPrincipal[] = "tracking-link";

// The smallest transparent GIF: 1×1, one colour, transparent.
constexpr unsigned char kPixel[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

HttpResponse WithCommonHeaders(HttpResponse r) {
  r.headers.emplace_back("cache-control", "no-store, private");
  r.headers.emplace_back("referrer-policy", "no-referrer");
  r.headers.emplace_back("x-robots-tag", "noindex, nofollow");
  r.headers.emplace_back("x-content-type-options", "nosniff");
  return r;
}

HttpResponse Page(int status, absl::string_view title, absl::string_view body_html) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "text/html; charset=utf-8");
  r.headers.emplace_back("content-security-policy",
                         "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
  r.body = absl::StrCat(
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width\"><title>",
      title,
      "</title></head><body style=\"font-family:sans-serif;max-width:32em;margin:4em "
      "auto;padding:0 1em\"><h1 style=\"font-size:1.4em\">",
      title, "</h1>", body_html, "</body></html>");
  return WithCommonHeaders(std::move(r));
}

HttpResponse NotFound() {
  return Page(404, "Link not valid",
              "<p>This link is not valid: it was altered or has expired.</p>");
}

HttpResponse Unavailable() {
  HttpResponse r = Page(503, "Please try again",
                        "<p>We could not record this just now. Please try again in a "
                        "minute.</p>");
  r.headers.emplace_back("retry-after", "30");
  return r;
}

HttpResponse MethodNotAllowed(absl::string_view allow) {
  HttpResponse r = Page(405, "Not allowed", "<p>This link does not take that request.</p>");
  r.headers.emplace_back("allow", std::string(allow));
  return r;
}

// An NPS survey's page: 0 to 10, a comment.
HttpResponse NpsForm(int status, absl::string_view notice) {
  std::string body = absl::StrCat(
      notice.empty() ? "" : absl::StrCat("<p><strong>", notice, "</strong></p>"),
      "<form method=\"post\"><p>How likely are you to recommend us to a friend or colleague? "
      "(0: not at all likely, 10: extremely likely)</p><p>");
  for (int i = 0; i <= 10; ++i) {
    absl::StrAppend(&body, "<label style=\"margin-right:.6em\"><input type=\"radio\" ",
                    "name=\"rating\" value=\"", i, "\" required> ", i, "</label>");
  }
  absl::StrAppend(&body,
                  "</p><p><label>What is the main reason for your score?<br><textarea "
                  "name=\"comment\" maxlength=\"2000\" rows=\"4\" "
                  "style=\"width:100%\"></textarea></label></p><button type=\"submit\" "
                  "style=\"font-size:1em;padding:.5em 1em\">Send</button></form>");
  return Page(status, "How likely are you to recommend us?", body);
}

// A CSAT survey's page: a rating of 1 to 5, what mattered most, a comment.
HttpResponse SurveyForm(int status, absl::string_view notice) {
  std::string body =
      absl::StrCat(notice.empty() ? "" : absl::StrCat("<p><strong>", notice, "</strong></p>"),
                   "<form method=\"post\"><p>How satisfied are you with our help?</p><p>");
  const char* const labels[] = {"very unsatisfied", "unsatisfied", "neutral", "satisfied",
                                "very satisfied"};
  for (int i = 1; i <= 5; ++i) {
    absl::StrAppend(&body, "<label style=\"display:block;margin:.3em 0\"><input type=\"radio\" ",
                    "name=\"rating\" value=\"", i, "\" required> ", i, " — ", labels[i - 1],
                    "</label>");
  }
  absl::StrAppend(
      &body,
      "</p><p><label>What mattered most?<br><select name=\"reason\"><option value=\"\">—</option>"
      "<option value=\"resolved\">My problem was solved</option><option value=\"quick\">The "
      "answer was quick</option><option value=\"friendly\">You were friendly</option><option "
      "value=\"not_resolved\">My problem is not solved</option><option value=\"slow\">It took "
      "too long</option><option value=\"unfriendly\">You were unfriendly</option><option "
      "value=\"other\">Something else</option></select></label></p><p><label>Anything to "
      "add?<br><textarea name=\"comment\" maxlength=\"2000\" rows=\"4\" "
      "style=\"width:100%\"></textarea></label></p><button type=\"submit\" "
      "style=\"font-size:1em;padding:.5em 1em\">Send</button></form>");
  return Page(status, "How did we do?", body);
}

HttpResponse Pixel() {
  HttpResponse r;
  r.status = 200;
  r.headers.emplace_back("content-type", "image/gif");
  r.body.assign(reinterpret_cast<const char*>(kPixel), sizeof kPixel);
  return WithCommonHeaders(std::move(r));
}

}  // namespace

void TrackingLinks::Forward(std::shared_ptr<InboundCall> call, const std::string& tenant,
                            const char* method, const google::protobuf::Message& request,
                            std::function<void(ForwardResult)> done) {
  call->full_method = method;
  std::string bytes;
  request.SerializeToString(&bytes);
  grpc::Slice slice(bytes);
  std::vector<grpc::ByteBuffer> buffers;
  buffers.emplace_back(&slice, 1);
  app::Principal principal;
  principal.tenant_id = tenant;
  principal.key_id = kPrincipal;
  proxy_.ForwardAdmitted(std::move(call), principal, std::move(buffers), std::move(done));
}

void TrackingLinks::HandleSurvey(const HttpRequest& req, std::shared_ptr<InboundCall> call,
                                 const std::string& tenant, const std::string& token, bool nps,
                                 BodyReader read_body, Responder respond) {
  const auto form = [nps](int status, absl::string_view notice) {
    return nps ? NpsForm(status, notice) : SurveyForm(status, notice);
  };
  if (req.method == "GET" || req.method == "HEAD") {
    // Asks only: a link scanner that fetches it answers nothing.
    respond(form(200, ""));
    return;
  }
  if (req.method != "POST") {
    respond(MethodNotAllowed("GET, HEAD, POST"));
    return;
  }
  read_body([this, call, tenant, token, form, respond](std::string body) mutable {
    service_desk::v1::AnswerSurveyRequest answer;
    answer.set_token(token);
    for (absl::string_view pair : absl::StrSplit(body, '&', absl::SkipEmpty())) {
      const size_t eq = pair.find('=');
      const std::string name = domain::DecodeQueryComponent(pair.substr(0, eq));
      const std::string value =
          eq == absl::string_view::npos ? "" : domain::DecodeQueryComponent(pair.substr(eq + 1));
      int rating = 0;
      if (name == "rating" && absl::SimpleAtoi(value, &rating)) answer.set_rating(rating);
      if (name == "reason") answer.set_reason(value);
      if (name == "comment") answer.set_comment(value);
    }
    Forward(call, tenant, kAnswerSurveyMethod, answer, [form, respond](ForwardResult r) {
      switch (r.status.error_code()) {
        case grpc::StatusCode::OK:
          respond(
              Page(200, "Thank you", "<p>Your answer was recorded. Thank you for telling us.</p>"));
          return;
        case grpc::StatusCode::NOT_FOUND:
          respond(NotFound());
          return;
        case grpc::StatusCode::FAILED_PRECONDITION:
          respond(
              Page(409, "Already answered", "<p>This survey was answered already. Thank you.</p>"));
          return;
        case grpc::StatusCode::INVALID_ARGUMENT:
          respond(form(400, "Please choose a rating (a comment of at most 2,000 characters)."));
          return;
        default:
          respond(Unavailable());
      }
    });
  });
}

void TrackingLinks::HandleEmailEvent(const HttpRequest& req, std::shared_ptr<InboundCall> call,
                                     const std::string& tenant, BodyReader read_body,
                                     Responder respond) {
  if (!common::IsUuid(tenant)) {
    respond(NotFound());
    return;
  }
  if (req.method != "POST") {
    respond(MethodNotAllowed("POST"));
    return;
  }
  read_body([this, call, tenant, respond](std::string body) mutable {
    delivery::v1::ReportEmailEventRequest event;
    event.set_body(std::move(body));
    Forward(call, tenant, kReportEmailEventMethod, event, [respond](ForwardResult r) {
      // 2xx: taken (or not ours: nothing to retry); 404: not this tenant's
      // signature; 400: not an event; 503: try again later.
      HttpResponse out;
      out.status = r.status.ok()                                                 ? 200
                   : r.status.error_code() == grpc::StatusCode::NOT_FOUND        ? 404
                   : r.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? 400
                                                                                 : 503;
      respond(WithCommonHeaders(std::move(out)));
    });
  });
}

void TrackingLinks::Handle(const HttpRequest& req, std::shared_ptr<InboundCall> call,
                           BodyReader read_body, Responder respond) {
  absl::string_view path = req.path;
  path.remove_prefix(std::string_view(kTrackingPrefix).size());
  if (path.size() < 3 || path[1] != '/') {
    respond(NotFound());
    return;
  }
  const char action = path[0];
  if (action == 'e') {
    // An email service's events (docs/delivery.md, "Bounces and
    // complaints"): /t/e/{tenant id}, authenticated by the event's own
    // signature, which delivery checks with the tenant's provider.
    HandleEmailEvent(req, std::move(call), std::string(path.substr(2)), std::move(read_body),
                     std::move(respond));
    return;
  }
  const std::string token(path.substr(2));
  absl::StatusOr<common::TrackingClaims> claims =
      common::VerifyTrackingToken(key_, token, absl::Now());
  const bool get = req.method == "GET" || req.method == "HEAD";
  const char expected = !claims.ok()                                        ? 0
                        : claims->action == common::TrackingAction::kOpen   ? 'o'
                        : claims->action == common::TrackingAction::kClick  ? 'c'
                        : claims->action == common::TrackingAction::kStatus ? 's'
                        : claims->action == common::TrackingAction::kSurvey ? 'v'
                                                                            : 'u';
  if (action != expected) {
    // Not a token, not ours, expired, or used under another action's path.
    respond(NotFound());
    return;
  }
  if (action == 'v') {
    HandleSurvey(req, std::move(call), claims->tenant_id, token, claims->link == 1,
                 std::move(read_body), std::move(respond));
    return;
  }
  delivery::v1::TrackRequest track;
  track.set_token(token);
  // HEAD is a link scanner's or a prefetcher's, not the recipient's: the
  // same answer, nothing recorded (a pixel needs no call at all).
  track.set_peek(req.method == "HEAD");
  if (action == 'o' && req.method == "HEAD") {
    respond(Pixel());
    return;
  }
  if (action == 's') {
    if (req.method != "POST") {
      respond(MethodNotAllowed("POST"));
      return;
    }
    read_body([this, call, tenant = claims->tenant_id, token,
               signature = req.Header("x-twilio-signature"), respond](std::string body) mutable {
      delivery::v1::ReportStatusRequest report;
      report.set_token(token);
      report.set_body(std::move(body));
      report.set_signature(signature);
      Forward(call, tenant, kReportStatusMethod, report, [respond](ForwardResult r) {
        HttpResponse out;
        out.status = r.status.ok()                                                 ? 204
                     : r.status.error_code() == grpc::StatusCode::NOT_FOUND        ? 404
                     : r.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? 400
                                                                                   : 503;
        respond(WithCommonHeaders(std::move(out)));
      });
    });
    return;
  }
  if (action == 'o' || action == 'c') {
    if (!get) {
      respond(MethodNotAllowed("GET, HEAD"));
      return;
    }
    Forward(call, claims->tenant_id, kTrackMethod, track, [action, respond](ForwardResult r) {
      if (action == 'o') {
        // The image shows whatever happened to the count: a mail client
        // has no use for an error.
        respond(r.status.error_code() == grpc::StatusCode::NOT_FOUND ? NotFound() : Pixel());
        return;
      }
      if (r.status.error_code() == grpc::StatusCode::NOT_FOUND) {
        respond(NotFound());
        return;
      }
      delivery::v1::TrackResponse answer;
      if (!r.status.ok() || !answer.ParseFromString(grpcutil::ByteBufferToString(r.response)) ||
          answer.redirect_url().empty()) {
        respond(Unavailable());
        return;
      }
      HttpResponse out;
      out.status = 302;
      out.headers.emplace_back("location", answer.redirect_url());
      respond(WithCommonHeaders(std::move(out)));
    });
    return;
  }
  // Unsubscribe.
  if (get) {
    respond(Page(200, "Unsubscribe",
                 "<p>Stop receiving marketing email from us at this address?</p>"
                 "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" "
                 "value=\"One-Click\"><button type=\"submit\" style=\"font-size:1em;padding:.5em "
                 "1em\">Unsubscribe</button></form>"));
    return;
  }
  if (req.method != "POST") {
    respond(MethodNotAllowed("GET, HEAD, POST"));
    return;
  }
  // The body (List-Unsubscribe=One-Click, as a form) says nothing the token
  // does not: it is read (bounded by the server) and not interpreted.
  read_body([this, call, tenant = claims->tenant_id, track, respond](std::string) mutable {
    Forward(call, tenant, kTrackMethod, track, [respond](ForwardResult r) {
      if (r.status.error_code() == grpc::StatusCode::NOT_FOUND) {
        respond(NotFound());
      } else if (!r.status.ok()) {
        respond(Unavailable());
      } else {
        respond(Page(200, "You are unsubscribed",
                     "<p>You will receive no more marketing email from us at this address. "
                     "Messages about your orders and account still reach you.</p>"));
      }
    });
  });
}

}  // namespace crm::gateway::api

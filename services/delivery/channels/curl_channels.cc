#include "services/delivery/channels/curl_channels.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "libs/common/crypto.h"
#include "services/delivery/app/delivery.h"
#include "services/delivery/domain/email.h"
#include "services/delivery/domain/providers.h"
#include "services/delivery/domain/signature.h"

namespace crm::delivery::channels {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Curl = std::unique_ptr<CURL, CurlDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

void Append(Slist& list, const std::string& line) {
  curl_slist* next = curl_slist_append(list.get(), line.c_str());
  if (next != nullptr) {
    list.release();
    list.reset(next);
  }
}

struct Upload {
  const std::string* data;
  size_t offset = 0;
};
size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* u = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, u->data->size() - u->offset);
  std::memcpy(buffer, u->data->data() + u->offset, n);
  u->offset += n;
  return n;
}

// The response body, kept up to 512 bytes (for last_error).
size_t KeepBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t n = size * count;
  if (body->size() < 512) body->append(data, std::min(n, 512 - body->size()));
  return n;
}

struct Headers {
  std::string location;
  std::string retry_after;
};
size_t KeepHeader(char* data, size_t size, size_t count, void* user) {
  auto* h = static_cast<Headers*>(user);
  const size_t n = size * count;
  absl::string_view line(data, n);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    const std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    const std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    if (name == "location") h->location = value;
    if (name == "retry-after") h->retry_after = value;
  }
  return n;
}

bool TransientCurlError(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_LOGIN_DENIED:  // the relay's credentials: an operator fixes them
      return true;
    default:
      return false;
  }
}

std::string Printable(absl::string_view s) {
  std::string out;
  for (char c : s) out.push_back(absl::ascii_isprint(static_cast<unsigned char>(c)) ? c : ' ');
  return std::string(absl::StripAsciiWhitespace(out));
}

std::string DomainOf(const std::string& address) {
  const size_t at = address.rfind('@');
  return at == std::string::npos ? "crm.invalid" : address.substr(at + 1);
}

// One POST through the SSRF guard: the URL checked again at every send
// (DNS answers change), the connection pinned to an address that passed the
// check (no second lookup between the check and the connect), no redirect
// followed (the caller decides), no proxy. `what` prefixes every detail.
struct HttpExchange {
  std::optional<domain::SendResult> failed;  // no HTTP answer: why (transient or not)
  long status = 0;
  std::string body;      // up to 512 bytes
  std::string location;  // a redirect's, made absolute
  absl::Duration retry_after = absl::ZeroDuration();
};
HttpExchange GuardedPost(app::HostResolver& resolver, const std::vector<domain::Cidr>& allow,
                         const std::string& what, const std::string& url,
                         const std::vector<std::string>& header_lines, const std::string& payload,
                         absl::Duration timeout) {
  HttpExchange x;
  auto fail = [&](domain::Outcome outcome, std::string detail) {
    domain::SendResult r;
    r.outcome = outcome;
    r.detail = absl::StrCat(what, ": ", detail);
    x.failed = std::move(r);
    return x;
  };
  absl::StatusOr<domain::WebhookUrl> checked = app::CheckWebhookUrl(url, resolver, allow);
  if (!checked.ok()) {
    return fail(absl::IsInvalidArgument(checked.status()) &&
                        absl::StrContains(checked.status().message(), "does not resolve")
                    ? domain::Outcome::kTransient
                    : domain::Outcome::kPermanent,
                std::string(checked.status().message()));
  }
  std::vector<domain::IpAddress> addresses;
  if (checked->host_is_ip) {
    addresses.push_back(*domain::ParseIp(checked->host));
  } else {
    absl::StatusOr<std::vector<domain::IpAddress>> resolved = resolver.Resolve(checked->host);
    if (!resolved.ok() || resolved->empty()) {
      return fail(domain::Outcome::kTransient, absl::StrCat(checked->host, " does not resolve"));
    }
    for (const domain::IpAddress& a : *resolved) {
      if (!domain::CheckDestination(a, allow).ok()) {
        return fail(domain::Outcome::kPermanent,
                    absl::StrCat(checked->host, " resolves to a forbidden address"));
      }
    }
    addresses = *std::move(resolved);
  }
  const std::string ip = domain::ToString(addresses.front());
  const std::string host_for_resolve =
      absl::StrCat(absl::StripSuffix(absl::StripPrefix(checked->host, "["), "]"));
  Slist resolve;
  Append(resolve, absl::StrCat(host_for_resolve, ":", checked->port, ":",
                               addresses.front().v4 ? ip : absl::StrCat("[", ip, "]")));
  Slist headers;
  for (const std::string& h : header_lines) Append(headers, h);
  Append(headers, "User-Agent: crm-delivery/1");
  Append(headers, "Expect:");
  // One handle per sender thread: its connection cache keeps connections to
  // the receivers open between messages (HTTP keep-alive).
  thread_local Curl curl;
  if (!curl) {
    curl.reset(curl_easy_init());
  } else {
    curl_easy_reset(curl.get());
  }
  if (!curl) return fail(domain::Outcome::kTransient, "no curl handle");
  Headers got;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &KeepBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &KeepHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &got);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return fail(TransientCurlError(rc) ? domain::Outcome::kTransient : domain::Outcome::kPermanent,
                curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x.status);
  int64_t seconds = 0;
  if (absl::SimpleAtoi(got.retry_after, &seconds) && seconds > 0) {
    x.retry_after = absl::Seconds(std::min<int64_t>(seconds, 3600));
  }
  x.location = got.location;
  // Relative locations resolve against the URL posted to.
  if (absl::StartsWith(x.location, "/")) {
    x.location =
        absl::StrCat(checked->scheme, "://", checked->host, ":", checked->port, x.location);
  }
  return x;
}

}  // namespace

void InitCurl() { curl_global_init(CURL_GLOBAL_DEFAULT); }

absl::StatusOr<std::vector<domain::IpAddress>> SystemResolver::Resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return absl::NotFoundError(absl::StrCat(host, ": ", gai_strerror(rc)));
  std::vector<domain::IpAddress> out;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {0};
    if (a->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, text, sizeof text);
    } else if (a->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, text,
                sizeof text);
    } else {
      continue;
    }
    if (std::optional<domain::IpAddress> ip = domain::ParseIp(text)) out.push_back(*ip);
  }
  freeaddrinfo(res);
  return out;
}

domain::SendResult SmtpChannel::Send(const app::OutboundEmail& email) {
  domain::SendResult result;
  domain::Email e;
  e.from = {email.sender.from_name, email.sender.from_address};
  e.to = {email.to_name, email.to};
  e.reply_to = email.sender.reply_to_address;
  auto part = [&](const char* name) {
    auto it = email.parts.find(name);
    return it == email.parts.end() ? std::string() : it->second;
  };
  e.subject = part("subject");
  e.text = part("text");
  e.html = part("html");
  e.message_id = email.header_message_id.empty()
                     ? absl::StrCat(email.message_id, "@", DomainOf(email.sender.from_address))
                     : email.header_message_id;
  e.date = absl::Now();
  e.headers.push_back({"X-CRM-Message-Id", email.message_id});
  // Threading and loop safety (RFC 5322 3.6.4, RFC 3834).
  if (const std::string in_reply_to = domain::ReferencesHeader({email.in_reply_to});
      !in_reply_to.empty()) {
    e.headers.push_back({"In-Reply-To", in_reply_to});
  }
  if (const std::string references = domain::ReferencesHeader(email.references);
      !references.empty()) {
    e.headers.push_back({"References", references});
  }
  if (email.auto_submitted) {
    e.headers.push_back({"Auto-Submitted", "auto-replied"});
    e.headers.push_back({"X-Auto-Response-Suppress", "All"});
  }
  e.list_unsubscribe_url = email.list_unsubscribe_url;
  e.attachments = email.attachments;
  absl::StatusOr<std::string> mime =
      domain::ComposeEmail(e, absl::StrCat("=_crm_", common::HexEncode(common::RandomBytes(12))));
  if (!mime.ok()) {
    result.outcome = domain::Outcome::kPermanent;
    result.detail = absl::StrCat("email: ", mime.status().message());
    return result;
  }
  // One handle per sender thread, so its connection to the relay is reused.
  thread_local Curl curl;
  if (!curl) {
    curl.reset(curl_easy_init());
  } else {
    curl_easy_reset(curl.get());
  }
  if (!curl) {
    result.outcome = domain::Outcome::kTransient;
    result.detail = "smtp: no curl handle";
    return result;
  }
  Slist rcpt;
  Append(rcpt, absl::StrCat("<", email.to, ">"));
  // An automatic answer goes with a null envelope sender: nothing answers
  // it, a bounce of it included (RFC 3834 3.3).
  const std::string from =
      email.auto_submitted ? "<>" : absl::StrCat("<", email.sender.from_address, ">");
  Upload upload{&*mime};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mime->size()));
  curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (rc == CURLE_OK) {
    result.outcome = domain::Outcome::kDelivered;
    result.provider_id = absl::StrCat("<", e.message_id, ">");
    return result;
  }
  result.detail = absl::StrCat("smtp: ", curl_easy_strerror(rc),
                               code > 0 ? absl::StrCat(" (reply ", code, ")") : "");
  // 5xx: the relay refused for good (unknown recipient, policy); 4xx and
  // network errors: try again.
  result.outcome = (code >= 500 && code < 600) || (!TransientCurlError(rc) && code < 400)
                       ? domain::Outcome::kPermanent
                       : domain::Outcome::kTransient;
  return result;
}

domain::SendResult HttpWebhookChannel::Send(const app::OutboundWebhook& hook) {
  // The endpoint's concurrency, per process.
  {
    absl::MutexLock lock(&mu_);
    auto room = [this, &hook]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return in_flight_[hook.endpoint.id] < hook.endpoint.max_concurrency;
    };
    mu_.Await(absl::Condition(&room));
    ++in_flight_[hook.endpoint.id];
  }
  std::string url = hook.endpoint.url;
  domain::SendResult result;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    std::string location;
    result = Post(hook, url, location);
    if (location.empty()) break;
    if (hop == kMaxRedirects) {
      result.outcome = domain::Outcome::kPermanent;
      result.detail = absl::StrCat("webhook: more than ", kMaxRedirects, " redirects");
      break;
    }
    url = location;
  }
  absl::MutexLock lock(&mu_);
  if (--in_flight_[hook.endpoint.id] == 0) in_flight_.erase(hook.endpoint.id);
  return result;
}

domain::SendResult HttpWebhookChannel::Post(const app::OutboundWebhook& hook,
                                            const std::string& url, std::string& location) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const std::vector<std::string> headers = {
      "Content-Type: application/json", absl::StrCat("Idempotency-Key: ", hook.message_id),
      absl::StrCat("X-CRM-Message-Id: ", hook.message_id),
      absl::StrCat("X-CRM-Signature: ",
                   domain::WebhookSignature(hook.endpoint.secret, now, hook.body))};
  HttpExchange x =
      GuardedPost(resolver_, allow_, "webhook", url, headers, hook.body, hook.endpoint.timeout);
  if (x.failed) return *std::move(x.failed);
  domain::SendResult result;
  result.detail =
      absl::StrCat("webhook: HTTP ", x.status, x.body.empty() ? "" : ": ", Printable(x.body));
  if (x.status >= 200 && x.status < 300) {
    result.outcome = domain::Outcome::kDelivered;
    result.detail.clear();
    return result;
  }
  if ((x.status == 307 || x.status == 308) && !x.location.empty()) {
    location = std::move(x.location);
    return result;
  }
  if (x.status == 408 || x.status == 425 || x.status == 429 || x.status >= 500) {
    result.outcome = domain::Outcome::kTransient;
    result.retry_after = x.retry_after;
    return result;
  }
  // Other 3xx (the method would change) and 4xx: the receiver refuses it.
  result.outcome = domain::Outcome::kPermanent;
  return result;
}

domain::SendResult ProviderChannel::Send(const app::OutboundNotification& n) {
  const domain::ProviderRequest req = domain::BuildProviderRequest(n.provider, n.notification);
  const std::string what(domain::ProviderKindName(n.provider.kind));
  // The request's headers hold the credential: neither they nor the
  // request are ever logged; only the provider's answer is kept.
  HttpExchange x = GuardedPost(resolver_, allow_, what, req.url, req.headers, req.body, timeout_);
  if (x.failed) return *std::move(x.failed);
  return domain::ReadProviderReply(n.provider.kind, static_cast<int>(x.status), x.body,
                                   x.retry_after);
}

}  // namespace crm::delivery::channels

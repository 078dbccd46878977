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
  e.message_id = absl::StrCat(email.message_id, "@", DomainOf(email.sender.from_address));
  e.date = absl::Now();
  e.headers.push_back({"X-CRM-Message-Id", email.message_id});
  e.list_unsubscribe_url = email.list_unsubscribe_url;
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
  const std::string from = absl::StrCat("<", email.sender.from_address, ">");
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
  domain::SendResult result;
  result.outcome = domain::Outcome::kPermanent;
  // Checked again at every send (DNS answers change) and at every redirect.
  absl::StatusOr<domain::WebhookUrl> checked = app::CheckWebhookUrl(url, resolver_, allow_);
  if (!checked.ok()) {
    result.outcome = absl::IsInvalidArgument(checked.status()) &&
                             absl::StrContains(checked.status().message(), "does not resolve")
                         ? domain::Outcome::kTransient
                         : domain::Outcome::kPermanent;
    result.detail = absl::StrCat("webhook: ", checked.status().message());
    return result;
  }
  // Pin the connection to an address that passed the check (no second
  // lookup between the check and the connect).
  std::vector<domain::IpAddress> addresses;
  if (checked->host_is_ip) {
    addresses.push_back(*domain::ParseIp(checked->host));
  } else {
    absl::StatusOr<std::vector<domain::IpAddress>> resolved = resolver_.Resolve(checked->host);
    if (!resolved.ok() || resolved->empty()) {
      result.outcome = domain::Outcome::kTransient;
      result.detail = absl::StrCat("webhook: ", checked->host, " does not resolve");
      return result;
    }
    for (const domain::IpAddress& a : *resolved) {
      if (!domain::CheckDestination(a, allow_).ok()) {
        result.detail =
            absl::StrCat("webhook: ", checked->host, " resolves to a forbidden address");
        return result;
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
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  Slist headers;
  Append(headers, "Content-Type: application/json");
  Append(headers, "User-Agent: crm-delivery/1");
  Append(headers, absl::StrCat("Idempotency-Key: ", hook.message_id));
  Append(headers, absl::StrCat("X-CRM-Message-Id: ", hook.message_id));
  Append(headers, absl::StrCat("X-CRM-Signature: ",
                               domain::WebhookSignature(hook.endpoint.secret, now, hook.body)));
  Append(headers, "Expect:");
  // One handle per sender thread: its connection cache keeps connections to
  // the receivers open between messages (HTTP keep-alive).
  thread_local Curl curl;
  if (!curl) {
    curl.reset(curl_easy_init());
  } else {
    curl_easy_reset(curl.get());
  }
  if (!curl) {
    result.outcome = domain::Outcome::kTransient;
    result.detail = "webhook: no curl handle";
    return result;
  }
  std::string body;
  Headers got;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, hook.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(hook.body.size()));
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(hook.endpoint.timeout)));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &KeepBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &KeepHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &got);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    result.outcome =
        TransientCurlError(rc) ? domain::Outcome::kTransient : domain::Outcome::kPermanent;
    result.detail = absl::StrCat("webhook: ", curl_easy_strerror(rc));
    return result;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  result.detail = absl::StrCat("webhook: HTTP ", status, body.empty() ? "" : ": ", Printable(body));
  if (status >= 200 && status < 300) {
    result.outcome = domain::Outcome::kDelivered;
    result.detail.clear();
    return result;
  }
  if ((status == 307 || status == 308) && !got.location.empty()) {
    // Relative locations resolve against the URL posted to.
    location = got.location;
    if (absl::StartsWith(location, "/")) {
      location = absl::StrCat(checked->scheme, "://", checked->host, ":", checked->port, location);
    }
    return result;
  }
  if (status == 408 || status == 425 || status == 429 || status >= 500) {
    result.outcome = domain::Outcome::kTransient;
    int64_t seconds = 0;
    if (absl::SimpleAtoi(got.retry_after, &seconds) && seconds > 0) {
      result.retry_after = absl::Seconds(std::min<int64_t>(seconds, 3600));
    }
    return result;
  }
  // Other 3xx (the method would change) and 4xx: the receiver refuses it.
  result.outcome = domain::Outcome::kPermanent;
  return result;
}

}  // namespace crm::delivery::channels

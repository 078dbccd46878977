#include "services/service_desk/api/smtp_listener.h"

#include <netdb.h>
#include <poll.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "services/service_desk/mail/mime.h"

namespace crm::service_desk::api {

class DeskMailHandler::Metrics final {
 public:
  explicit Metrics(prometheus::Registry& r)
      : received_(prometheus::BuildCounter()
                      .Name("crm_service_desk_mail_received_total")
                      .Help("Mail per recipient through the SMTP/LMTP listener, by result "
                            "(delivered, deferred: a 4xx the client retries, refused: 5xx)")
                      .Register(r)),
        delivered_(received_.Add({{"result", "delivered"}})),
        deferred_(received_.Add({{"result", "deferred"}})),
        refused_(received_.Add({{"result", "refused"}})),
        connections_(prometheus::BuildCounter()
                         .Name("crm_service_desk_smtp_connections_total")
                         .Help("Connections the SMTP/LMTP listener accepted")
                         .Register(r)
                         .Add({})) {}
  void Count(const mail::SmtpReply& r) {
    (r.ok() ? delivered_ : r.code < 500 ? deferred_ : refused_).Increment();
  }
  prometheus::Family<prometheus::Counter>& received_;
  prometheus::Counter& delivered_;
  prometheus::Counter& deferred_;
  prometheus::Counter& refused_;
  prometheus::Counter& connections_;
};

namespace {

// A failed write's reply: 4xx for what may pass on a retry, 5xx for a mail
// the desk refuses as it is.
mail::SmtpReply ReplyOf(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
      return {554, absl::StrCat("5.6.0 refused: ", s.message())};
    case absl::StatusCode::kNotFound:
      return {550, "5.1.1 no such mailbox here"};
    default:
      return {451, "4.3.0 not delivered now, try again later"};
  }
}

bool SendAll(int fd, const std::string& text) {
  size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

mail::SmtpReply DeskMailHandler::Recipient(const std::string& address) {
  absl::StatusOr<std::optional<app::Mailboxes::Routed>> routed = mailboxes_.ByAddress(address);
  if (!routed.ok()) return {451, "4.3.0 cannot look the mailbox up now, try again later"};
  if (!routed->has_value()) return {550, "5.1.1 no such mailbox here"};
  return {250, "2.1.5 Ok"};
}

std::vector<mail::SmtpReply> DeskMailHandler::Deliver(const std::vector<std::string>& recipients,
                                                      const std::string& raw) {
  std::vector<mail::SmtpReply> out;
  absl::StatusOr<domain::InboundMail> parsed = mail::ParseMail(raw);
  for (const std::string& rcpt : recipients) {
    mail::SmtpReply reply;
    if (!parsed.ok()) {
      reply = ReplyOf(parsed.status());
    } else {
      absl::StatusOr<std::optional<app::Mailboxes::Routed>> routed = mailboxes_.ByAddress(rcpt);
      if (!routed.ok()) {
        reply = ReplyOf(routed.status());
      } else if (!routed->has_value()) {
        reply = {550, "5.1.1 no such mailbox here"};
      } else {
        const app::Mailboxes::Routed& r = **routed;
        absl::StatusOr<app::MailReceived> got = inbound_.Receive(
            r.tenant, absl::StrCat("mailbox:", r.mailbox.address), r.mailbox, *parsed);
        reply = got.ok()
                    ? mail::SmtpReply{250, absl::StrCat("2.0.0 Ok: ticket ", got->ticket.number,
                                                        got->duplicate ? " (a copy)" : "")}
                    : ReplyOf(got.status());
        if (!got.ok() && reply.code < 500) {
          observability::LogLine(observability::Severity::kWarning)
                  .Field("tenant_id", r.tenant)
                  .Field("error", got.status().ToString())
              << "inbound mail deferred";
        }
      }
    }
    if (metrics_ != nullptr) metrics_->Count(reply);
    out.push_back(std::move(reply));
  }
  return out;
}

void SmtpListenerOptions::DumpTo(common::ConfigDump& dump) const {
  dump.Add("smtp_port", port)
      .Add("smtp_protocol", protocol == mail::SmtpSession::Protocol::kLmtp ? std::string("lmtp")
                                                                           : std::string("smtp"))
      .Add("smtp_hostname", hostname)
      .Add("smtp_max_connections", max_connections)
      .Add("smtp_idle_timeout", idle_timeout);
}

absl::StatusOr<SmtpListenerOptions> LoadSmtpListenerOptions(const std::string& bind_host) {
  SmtpListenerOptions o;
  o.host = bind_host;
  CRM_ASSIGN_OR_RETURN(int64_t port, common::EnvInt("CRM_SMTP_PORT", 0, 0, 65535));
  o.port = static_cast<int>(port);
  CRM_ASSIGN_OR_RETURN(std::string protocol, common::EnvString("CRM_SMTP_PROTOCOL", "smtp"));
  if (protocol == "lmtp") {
    o.protocol = mail::SmtpSession::Protocol::kLmtp;
  } else if (protocol != "smtp") {
    return absl::InvalidArgumentError("CRM_SMTP_PROTOCOL must be smtp or lmtp");
  }
  CRM_ASSIGN_OR_RETURN(o.hostname, common::EnvString("CRM_SMTP_HOSTNAME", o.hostname));
  for (char c : o.hostname) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') {
      return absl::InvalidArgumentError("CRM_SMTP_HOSTNAME must be a host name");
    }
  }
  CRM_ASSIGN_OR_RETURN(int64_t max, common::EnvInt("CRM_SMTP_MAX_CONNECTIONS", 64, 1, 10000));
  o.max_connections = static_cast<int>(max);
  CRM_ASSIGN_OR_RETURN(o.idle_timeout,
                       common::EnvDuration("CRM_SMTP_IDLE_TIMEOUT", o.idle_timeout));
  if (o.idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("CRM_SMTP_IDLE_TIMEOUT must be positive");
  }
  return o;
}

SmtpListener::SmtpListener(SmtpListenerOptions options, app::Mailboxes& mailboxes,
                           app::Inbound& inbound, prometheus::Registry& registry)
    : options_(std::move(options)),
      mailboxes_(mailboxes),
      inbound_(inbound),
      metrics_(std::make_unique<DeskMailHandler::Metrics>(registry)) {}

SmtpListener::~SmtpListener() { Stop(); }

absl::Status SmtpListener::Start() {
  if (options_.port == 0 || listen_fd_ >= 0) return absl::OkStatus();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  addrinfo* found = nullptr;
  const std::string port = absl::StrCat(options_.port);
  if (::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
    return absl::InvalidArgumentError(
        absl::StrCat("mail listener: cannot use address ", options_.host));
  }
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool ok =
      fd >= 0 && ::bind(fd, found->ai_addr, found->ai_addrlen) == 0 && ::listen(fd, 128) == 0;
  ::freeaddrinfo(found);
  if (!ok) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("mail listener: cannot listen on ", options_.host, ":", port, ": ", why));
  }
  listen_fd_ = fd;
  port_ = options_.port;
  acceptor_ = std::thread([this] { AcceptLoop(); });
  observability::LogLine(observability::Severity::kInfo)
          .Field("port", port_)
          .Field("protocol",
                 options_.protocol == mail::SmtpSession::Protocol::kLmtp ? "lmtp" : "smtp")
      << "mail listener started";
  return absl::OkStatus();
}

void SmtpListener::Stop() {
  if (listen_fd_ < 0) return;
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  listen_fd_ = -1;
  absl::MutexLock lock(&mu_);
  for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
  mu_.AwaitWithTimeout(absl::Condition(
                           +[](std::set<int>* open) { return open->empty(); }, &open_),
                       absl::Seconds(30));
}

void SmtpListener::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    metrics_->connections_.Increment();
    {
      absl::MutexLock lock(&mu_);
      if (static_cast<int>(open_.size()) >= options_.max_connections) {
        SendAll(fd, "421 4.7.0 too many connections, try again later\r\n");
        ::close(fd);
        continue;
      }
      open_.insert(fd);
    }
    std::thread([this, fd] {
      Serve(fd);
      ::close(fd);
      absl::MutexLock lock(&mu_);
      open_.erase(fd);
    }).detach();
  }
}

void SmtpListener::Serve(int fd) {
  DeskMailHandler handler(mailboxes_, inbound_, metrics_.get());
  mail::SmtpSession session(options_.protocol, options_.hostname, mail::kMaxRawMail, handler);
  if (!SendAll(fd, session.Greeting())) return;
  std::string buffer;
  bool overlong = false;  // inside a line over the limit: dropped to its end
  char chunk[16384];
  absl::Time last = absl::Now();
  while (!session.Closed() && !stopping_) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, 500);
    if (ready == 0) {
      if (absl::Now() - last > options_.idle_timeout) {
        SendAll(fd, "421 4.4.2 idle too long, closing\r\n");
        return;
      }
      continue;
    }
    if (ready < 0 && errno == EINTR) continue;
    const ssize_t n = ready < 0 ? -1 : ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return;
    last = absl::Now();
    buffer.append(chunk, static_cast<size_t>(n));
    std::string replies;
    size_t start = 0;
    for (size_t nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n', start)) {
      std::string line = buffer.substr(start, nl - start);
      start = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (overlong || line.size() > mail::SmtpSession::kMaxDataLine) {
        overlong = false;
        replies += session.OnOverlongLine();
      } else {
        replies += session.OnLine(line);
      }
      if (session.Closed()) break;
    }
    buffer.erase(0, start);
    if (buffer.size() > mail::SmtpSession::kMaxDataLine) {  // a line goes on without end
      overlong = true;
      buffer.clear();
    }
    if (!replies.empty() && !SendAll(fd, replies)) return;
  }
}

}  // namespace crm::service_desk::api

#pragma once
// The desk's mail listener (docs/service-desk.md, "Inbound email"): SMTP
// from the internet's MTAs or LMTP from the operator's, on CRM_SMTP_PORT
// (off when unset). A recipient is accepted when a mailbox has its address
// (of any tenant); the mail is parsed and received for each recipient's
// mailbox (app::Inbound, once per Message-ID) and answered only after its
// write committed: 250, or 451 for a transient failure (the client sends
// it again), or 554 for a mail the desk refuses. A thread per connection,
// at most `max_connections` (more get 421); a connection idle for
// `idle_timeout` is closed. Metrics: crm_service_desk_mail_received_total
// {result="delivered|deferred|refused"}, crm_service_desk_smtp_connections_total.
#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/env.h"
#include "services/service_desk/app/inbound.h"
#include "services/service_desk/app/mailboxes.h"
#include "services/service_desk/mail/smtp_session.h"

namespace prometheus {
class Registry;
}

namespace crm::service_desk::api {

struct SmtpListenerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: off
  mail::SmtpSession::Protocol protocol = mail::SmtpSession::Protocol::kSmtp;
  std::string hostname = "service-desk";  // in the greeting
  int max_connections = 64;
  absl::Duration idle_timeout = absl::Minutes(5);
  void DumpTo(common::ConfigDump& dump) const;
};

// CRM_SMTP_PORT (unset or 0: off), CRM_SMTP_PROTOCOL ("smtp", default, or
// "lmtp"), CRM_SMTP_HOSTNAME (the greeting's name), CRM_SMTP_MAX_CONNECTIONS
// (1..10000, 64), CRM_SMTP_IDLE_TIMEOUT (5m); bound on `bind_host`.
absl::StatusOr<SmtpListenerOptions> LoadSmtpListenerOptions(const std::string& bind_host);

// What the listener does with a conversation's recipients and mail.
class DeskMailHandler final : public mail::SmtpHandler {
 public:
  class Metrics;
  DeskMailHandler(app::Mailboxes& mailboxes, app::Inbound& inbound, Metrics* metrics)
      : mailboxes_(mailboxes), inbound_(inbound), metrics_(metrics) {}
  mail::SmtpReply Recipient(const std::string& address) override;
  std::vector<mail::SmtpReply> Deliver(const std::vector<std::string>& recipients,
                                       const std::string& raw) override;

 private:
  app::Mailboxes& mailboxes_;
  app::Inbound& inbound_;
  Metrics* metrics_;
};

class SmtpListener final {
 public:
  SmtpListener(SmtpListenerOptions options, app::Mailboxes& mailboxes, app::Inbound& inbound,
               prometheus::Registry& registry);
  ~SmtpListener();
  // Binds and accepts (nothing when the port is 0). UNAVAILABLE when the
  // port cannot be bound.
  absl::Status Start();
  void Stop();  // no new connections; open ones are closed; waits for them
  int port() const { return port_; }

 private:
  void AcceptLoop();
  void Serve(int fd);

  const SmtpListenerOptions options_;
  app::Mailboxes& mailboxes_;
  app::Inbound& inbound_;
  std::unique_ptr<DeskMailHandler::Metrics> metrics_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  absl::Mutex mu_;
  // Connections run on detached threads; Stop() shuts their sockets down
  // and waits until none is left.
  std::set<int> open_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::service_desk::api

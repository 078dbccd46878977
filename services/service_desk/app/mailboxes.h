#pragma once
// Mailboxes' use cases (docs/service-desk.md, "Inbound email"): create one
// for an address no mailbox has (of any tenant), read, list, and change its
// own domains, threading windows, name and auto-reply under its etag; the
// mail the desk sends through them.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::app {

class Mailboxes final {
 public:
  Mailboxes(TicketRepository& repository, const common::Clock& clock, common::IdGenerator& ids)
      : repository_(repository), clock_(clock), ids_(ids) {}

  // m: address, own.domains, reopen_window (zero: the default), and
  // same_subject_window. ALREADY_EXISTS MAILBOX_ADDRESS_TAKEN when a
  // mailbox has the address.
  absl::StatusOr<Mailbox> Create(const Actor& actor, Mailbox m);
  absl::StatusOr<Mailbox> Get(const std::string& tenant, const std::string& id);
  absl::StatusOr<std::vector<Mailbox>> List(const std::string& tenant);
  // The mailbox an address routes to and its tenant (nullopt: none).
  struct Routed {
    std::string tenant;
    Mailbox mailbox;
  };
  absl::StatusOr<std::optional<Routed>> ByAddress(const std::string& address);
  // paths: own_domains, reopen_window_seconds, same_subject_window_seconds,
  // name, auto_reply (or one of its enabled, subject, body).
  absl::StatusOr<Mailbox> Update(const Actor& actor, const std::string& id, const Mailbox& patch,
                                 const std::vector<std::string>& paths,
                                 const std::string& if_match);
  // A mail the desk sends, as delivery reads it. INVALID_ARGUMENT for ids
  // that are not UUIDs; NOT_FOUND OUTBOUND_MAIL_NOT_FOUND.
  absl::StatusOr<domain::OutboundMail> Outbound(const std::string& tenant,
                                                const std::string& ticket_id,
                                                const std::string& mail_id);

 private:
  absl::Time Now() const;

  TicketRepository& repository_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::service_desk::app

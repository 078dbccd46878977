#pragma once
// Mailboxes' use cases (docs/service-desk.md, "Inbound email"): create one
// for an address no mailbox has (of any tenant), read, list, and change its
// own domains and threading windows under its etag.
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
  // paths: own_domains, reopen_window_seconds, same_subject_window_seconds.
  absl::StatusOr<Mailbox> Update(const Actor& actor, const std::string& id, const Mailbox& patch,
                                 const std::vector<std::string>& paths,
                                 const std::string& if_match);

 private:
  absl::Time Now() const;

  TicketRepository& repository_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::service_desk::app

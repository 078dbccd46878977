#include "services/service_desk/app/mailboxes.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/id.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"

namespace crm::service_desk::app {
namespace {

absl::Status CheckMailboxId(const std::string& id) {
  if (!common::IsUuid(id)) return common::InvalidField("mailbox_id", "mailbox_id must be a UUID");
  return absl::OkStatus();
}

// A mailbox's own fields are named under "mailbox" in requests.
absl::Status MailboxFields(absl::Status s) {
  if (s.ok() || common::FieldOf(s).empty()) return s;
  const std::string field = absl::StrCat("mailbox.", common::FieldOf(s));
  return common::WithField(std::move(s), field);
}

}  // namespace

absl::Time Mailboxes::Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now())); }

absl::StatusOr<Mailbox> Mailboxes::Create(const Actor& actor, Mailbox m) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  if (m.reopen_window == absl::ZeroDuration()) m.reopen_window = Mailbox().reopen_window;
  CRM_RETURN_IF_ERROR(MailboxFields(domain::NormalizeAndValidate(m)));
  m.id = ids_.NewId();
  m.version = 1;
  m.create_time = m.update_time = Now();
  return repository_.Run<Mailbox>(actor, m.id, [&](TicketTx& tx) -> absl::StatusOr<Mailbox> {
    CRM_ASSIGN_OR_RETURN(bool claimed, tx.ClaimMailboxAddress(m));
    if (!claimed) {
      return common::WithField(
          common::WithReason(
              absl::AlreadyExistsError(absl::StrCat(
                  "a mailbox already receives mail for ", m.address,
                  "; an address routes to one mailbox (use another address, or the mailbox "
                  "that has it)")),
              "MAILBOX_ADDRESS_TAKEN"),
          "mailbox.address");
    }
    tx.SaveMailbox(m, true);
    return m;
  });
}

absl::StatusOr<Mailbox> Mailboxes::Get(const std::string& tenant, const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckMailboxId(id));
  return repository_.GetMailbox(tenant, id);
}

absl::StatusOr<std::vector<Mailbox>> Mailboxes::List(const std::string& tenant) {
  return repository_.ListMailboxes(tenant);
}

absl::StatusOr<std::optional<Mailboxes::Routed>> Mailboxes::ByAddress(const std::string& address) {
  CRM_ASSIGN_OR_RETURN(std::optional<MailboxRoute> route, repository_.RouteOf(address));
  if (!route) return std::optional<Routed>();
  absl::StatusOr<Mailbox> m = repository_.GetMailbox(route->tenant, route->mailbox_id);
  if (absl::IsNotFound(m.status())) return std::optional<Routed>();
  if (!m.ok()) return m.status();
  return std::optional<Routed>(Routed{route->tenant, *std::move(m)});
}

absl::StatusOr<Mailbox> Mailboxes::Update(const Actor& actor, const std::string& id,
                                          const Mailbox& patch,
                                          const std::vector<std::string>& paths,
                                          const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(CheckMailboxId(id));
  if (paths.empty()) {
    return common::InvalidField("update_mask",
                                "nothing to change: give own_domains, reopen_window_seconds, "
                                "same_subject_window_seconds, name or auto_reply");
  }
  static const std::set<std::string> kPaths = {
      "own_domains", "reopen_window_seconds", "same_subject_window_seconds", "name",
      "auto_reply",  "auto_reply.enabled",    "auto_reply.subject",          "auto_reply.body"};
  for (const std::string& p : paths) {
    if (kPaths.count(p) == 0) {
      return common::InvalidField(
          "update_mask",
          absl::StrCat("cannot change \"", p,
                       "\": a mailbox changes own_domains, reopen_window_seconds, "
                       "same_subject_window_seconds, name and auto_reply (its address is "
                       "fixed)"));
    }
  }
  return repository_.Run<Mailbox>(actor, id, [&](TicketTx& tx) -> absl::StatusOr<Mailbox> {
    CRM_ASSIGN_OR_RETURN(Mailbox current, tx.LoadMailbox(id));
    CRM_RETURN_IF_ERROR(common::CheckEtag("mailbox", absl::StrCat(current.version), if_match));
    Mailbox next = current;
    for (const std::string& p : paths) {
      if (p == "own_domains") next.own.domains = patch.own.domains;
      if (p == "reopen_window_seconds") next.reopen_window = patch.reopen_window;
      if (p == "same_subject_window_seconds") next.same_subject_window = patch.same_subject_window;
      if (p == "name") next.name = patch.name;
      if (p == "auto_reply" || p == "auto_reply.enabled") next.auto_reply = patch.auto_reply;
      if (p == "auto_reply" || p == "auto_reply.subject") {
        next.auto_reply_subject = patch.auto_reply_subject;
      }
      if (p == "auto_reply" || p == "auto_reply.body") next.auto_reply_body = patch.auto_reply_body;
    }
    CRM_RETURN_IF_ERROR(MailboxFields(domain::NormalizeAndValidate(next)));
    next.version = current.version + 1;
    next.update_time = std::max(Now(), current.update_time);
    tx.SaveMailbox(next, false);
    return next;
  });
}

absl::StatusOr<domain::OutboundMail> Mailboxes::Outbound(const std::string& tenant,
                                                         const std::string& ticket_id,
                                                         const std::string& mail_id) {
  if (!common::IsUuid(ticket_id))
    return common::InvalidField("ticket_id", "ticket_id must be a UUID");
  if (!common::IsUuid(mail_id)) return common::InvalidField("mail_id", "mail_id must be a UUID");
  return repository_.GetOutboundMail(tenant, ticket_id, mail_id);
}

}  // namespace crm::service_desk::app

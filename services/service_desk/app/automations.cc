#include "services/service_desk/app/automations.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/id.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "services/service_desk/app/documents.h"
#include "services/service_desk/domain/trigger.h"

namespace crm::service_desk::app {
namespace {

constexpr int kTenantsPerRead = 200;

absl::Time Micros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

}  // namespace

absl::StatusOr<domain::Automations> AutomationRules::Get(const std::string& tenant) {
  return repository_.GetAutomations(tenant);
}

absl::StatusOr<domain::Automations> AutomationRules::Update(const Actor& actor,
                                                            domain::Automations automations,
                                                            const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(automations));
  return WriteDocument(repository_, clock_, actor, automations, if_match, "automations",
                       "automations", &TicketTx::LoadAutomations, &TicketTx::SaveAutomations);
}

absl::StatusOr<bool> AutomationRules::Fire(const std::string& tenant, const domain::Automation& a,
                                           const std::string& ticket_id) {
  const std::string who = "automation/" + a.id;
  const Actor actor{tenant, who, "", "RunAutomation", "", ""};
  bool fired = false;
  CRM_RETURN_IF_ERROR(
      repository_
          .Run<domain::Ticket>(
              actor, ticket_id,
              [&](TicketTx& tx) -> absl::StatusOr<domain::Ticket> {
                fired = false;
                CRM_ASSIGN_OR_RETURN(domain::Ticket current, tx.LoadTicket(ticket_id));
                CRM_ASSIGN_OR_RETURN(absl::Time last, tx.LastFired(ticket_id, a.id));
                const absl::Time now = tickets_.NowAfter(current);
                if (!domain::AutomationDue(a, current, last, now)) return current;
                fired = true;
                tx.RecordFiring(ticket_id, a.id, now);
                domain::Ticket next = current;
                absl::StatusOr<std::optional<domain::TriggerFiring>> f =
                    domain::FireRule(a.id, a.name, a.action, a.note, who, next, now);
                if (!f.ok()) {
                  tx.AppendChanges(ticket_id,
                                   {{0, "automation_refused", "",
                                     absl::StrCat(a.id, ": ", f.status().message()), who, now}});
                  return current;
                }
                if (!*f) return current;  // nothing to change
                domain::Ticket out = current;
                if (!(*f)->note.empty()) {
                  domain::TicketMessage note;
                  note.id = common::NewUuid();
                  note.ticket_id = ticket_id;
                  note.kind = domain::MessageKind::kInternalNote;
                  note.body = (*f)->note;
                  CRM_ASSIGN_OR_RETURN(MessageAdded added,
                                       tickets_.WriteMessage(tx, actor, std::move(note), false));
                  out = added.ticket;
                }
                std::vector<std::string> paths;
                for (const domain::TicketChange& c : (*f)->changes) paths.push_back(c.field);
                if (!paths.empty()) {
                  CRM_ASSIGN_OR_RETURN(
                      out, tickets_.WriteUpdate(tx, actor, ticket_id, next, paths, "", {}));
                }
                return out;
              })
          .status());
  return fired;
}

AutomationRound AutomationRules::Sweep(int batch) {
  AutomationRound round;
  const auto fail = [&](absl::Status s) {
    if (round.failure.ok()) round.failure = std::move(s);
  };
  std::string after_tenant;
  while (true) {
    absl::StatusOr<std::vector<AutomatedTenant>> tenants =
        repository_.AutomatedTenants(after_tenant, kTenantsPerRead);
    if (!tenants.ok()) {
      fail(tenants.status());
      return round;
    }
    for (const AutomatedTenant& t : *tenants) {
      for (const domain::Automation& a : t.automations.automations) {
        if (!a.active) continue;
        const std::string cursor_key = t.tenant + "/" + a.id;
        std::string& cursor = cursors_[cursor_key];
        const absl::Time now = Micros(clock_.Now());
        absl::StatusOr<std::vector<AutomationCandidate>> page =
            repository_.AutomationCandidates(t.tenant, a, now, cursor, batch);
        if (!page.ok()) {
          fail(page.status());
          continue;
        }
        round.examined += static_cast<int>(page->size());
        const bool full = static_cast<int>(page->size()) >= batch;
        round.more = round.more || full;
        cursor = full ? page->back().ticket.id : "";
        for (const AutomationCandidate& c : *page) {
          if (!domain::AutomationDue(a, c.ticket, c.last_fired, now)) continue;
          absl::StatusOr<bool> fired = Fire(t.tenant, a, c.ticket.id);
          if (!fired.ok()) {
            fail(fired.status());
          } else if (*fired) {
            ++round.fired;
          }
        }
      }
    }
    if (static_cast<int>(tenants->size()) < kTenantsPerRead) break;
    after_tenant = tenants->back().tenant;
  }
  return round;
}

}  // namespace crm::service_desk::app

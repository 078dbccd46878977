#pragma once
// Macros (docs/service-desk.md, "Macros"): canned replies with template
// fields and field changes an agent applies to a ticket in one step, or
// tries first (a dry run). Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/ticket.h"
#include "services/service_desk/domain/ticket_edits.h"

namespace crm::service_desk::domain {

// Its field changes (TicketEdits: status, priority, type, queue, assignee,
// tags added and removed) are the base.
struct Macro : TicketEdits {
  std::string id;    // UUID, given at creation
  std::string name;  // 1..100 characters
  // The reply it adds, a template of the fields below ("" for none); as an
  // internal note when `internal`.
  std::string reply;
  bool internal = false;
  // Action settings (docs/service-desk.md, "Auto-response"): the intent
  // classifier's labels it answers (a label is one macro's), and whether a
  // person's mail opening a ticket of one of them is answered with it at
  // once.
  std::vector<std::string> intents;
  bool auto_respond = false;
  int64_t version = 0;  // the etag
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

inline constexpr size_t kMaxMacros = 500;  // a tenant's
inline constexpr size_t kMaxMacroIntents = 1'000;
inline constexpr size_t kMaxIntentLabel = 64;  // characters (a classifier label's limit)
// The reply's template fields, filled from the ticket after the macro's
// changes and the agent applying it.
inline constexpr const char* kMacroFields[] = {
    "ticket.number", "ticket.subject",  "ticket.status", "ticket.priority",
    "ticket.queue",  "requester.email", "agent"};

// A template of kMacroFields (a macro's reply, a trigger's note): checked,
// INVALID_ARGUMENT naming `field`; filled from `t` and `agent`.
absl::Status CheckTicketTemplate(const std::string& field, const std::string& text);
std::string FillTicketTemplate(const std::string& text, const Ticket& t, const std::string& agent);

// Trims the name and the intents (each kept once, in order), normalizes
// the tags, checks the reply's template and every field as a ticket's:
// INVALID_ARGUMENT naming the field ("macro.reply", "macro.add_tags[1]",
// "macro.queue", "macro.intents[0]"); a macro that does nothing is refused
// ("macro"), and one that auto-responds needs a public reply and intents
// ("macro.auto_respond").
absl::Status NormalizeAndValidate(Macro& m);

// What applying `m` to `t` by `agent` at `now` makes: the ticket after the
// field changes (a status move checked as an update's; a closed ticket
// takes none: TICKET_CLOSED), the fields changed (an update's paths) and
// the reply filled in ("" for none).
struct MacroOutcome {
  Ticket ticket;
  std::vector<std::string> paths;
  std::string reply;
};
absl::StatusOr<MacroOutcome> ApplyMacro(const Macro& m, const Ticket& t, const std::string& agent,
                                        absl::Time now);

}  // namespace crm::service_desk::domain

#pragma once
// Field changes (domain::TicketEdits) to and from the messages that carry
// them with the same field names: Macro, TicketEdits.
#include <string>

#include "absl/status/status.h"
#include "crm/service_desk/v1/service_desk.pb.h"
#include "libs/common/errors.h"
#include "services/service_desk/domain/ticket_edits.h"

namespace crm::service_desk::api {

// INVALID_ARGUMENT <prefix>status / <prefix>priority for a number that is
// no value of its enum.
template <typename M>
absl::Status EditsFromProto(const M& in, const std::string& prefix, domain::TicketEdits& e) {
  if (in.status() != v1::TICKET_STATUS_UNSPECIFIED) {
    if (!v1::TicketStatus_IsValid(in.status())) {
      return common::InvalidField(prefix + "status", prefix + "status is not a ticket status");
    }
    e.status = static_cast<domain::TicketStatus>(in.status());
  }
  if (in.priority() != v1::TICKET_PRIORITY_UNSPECIFIED) {
    if (!v1::TicketPriority_IsValid(in.priority())) {
      return common::InvalidField(prefix + "priority", prefix + "priority is not a priority");
    }
    e.priority = static_cast<domain::Priority>(in.priority());
  }
  e.type = in.type();
  e.queue = in.queue();
  e.assignee = in.assignee();
  e.add_tags.assign(in.add_tags().begin(), in.add_tags().end());
  e.remove_tags.assign(in.remove_tags().begin(), in.remove_tags().end());
  return absl::OkStatus();
}

template <typename M>
void EditsToProto(const domain::TicketEdits& e, M* out) {
  if (e.status) out->set_status(static_cast<v1::TicketStatus>(*e.status));
  if (e.priority) out->set_priority(static_cast<v1::TicketPriority>(*e.priority));
  out->set_type(e.type);
  out->set_queue(e.queue);
  out->set_assignee(e.assignee);
  for (const std::string& t : e.add_tags) out->add_add_tags(t);
  for (const std::string& t : e.remove_tags) out->add_remove_tags(t);
}

}  // namespace crm::service_desk::api

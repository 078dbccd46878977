#include "libs/events/ticket_event.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace crm::events {

absl::StatusOr<std::optional<TicketEvent>> TicketEventOf(const crm::events::v1::EventEnvelope& e) {
  absl::string_view type = e.type();
  if (!absl::ConsumePrefix(&type, "ticket.") ||
      !(type == "created" || type == "message_added" || type == "status_changed" ||
        type == "survey_answered")) {
    return std::optional<TicketEvent>();
  }
  TicketEvent t;
  t.tenant_id = e.tenant_id();
  t.event_id = e.event_id();
  t.kind = std::string(type);
  t.occurred_time =
      absl::FromUnixSeconds(e.occurred_at().seconds()) + absl::Nanoseconds(e.occurred_at().nanos());
  try {
    const nlohmann::json p = nlohmann::json::parse(e.payload_json());
    t.ticket_id = p.at("ticketId").get<std::string>();
    t.number = p.at("number").get<int64_t>();
    t.customer_id = p.at("customerId").get<std::string>();
    t.subject = p.at("subject").get<std::string>();
    t.channel = p.at("channel").get<std::string>();
    t.status = p.at("status").get<std::string>();
    t.from_status = p.value("fromStatus", std::string());
    t.message_kind = p.value("messageKind", std::string());
    t.survey_kind = p.value("surveyKind", std::string());
    t.rating = p.value("rating", -1);
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat(e.type(), " payload is not the documented JSON"));
  }
  return std::optional<TicketEvent>(std::move(t));
}

absl::StatusOr<std::optional<TicketMailQueued>> TicketMailQueuedOf(
    const crm::events::v1::EventEnvelope& e) {
  if (e.type() != "ticket.mail_queued") return std::optional<TicketMailQueued>();
  TicketMailQueued m;
  m.tenant_id = e.tenant_id();
  m.event_id = e.event_id();
  try {
    const nlohmann::json p = nlohmann::json::parse(e.payload_json());
    m.ticket_id = p.at("ticketId").get<std::string>();
    m.customer_id = p.at("customerId").get<std::string>();
    m.mail_id = p.at("mailId").get<std::string>();
    m.mail_kind = p.at("mailKind").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat(e.type(), " payload is not the documented JSON"));
  }
  return std::optional<TicketMailQueued>(std::move(m));
}

}  // namespace crm::events

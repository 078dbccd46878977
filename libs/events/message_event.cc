#include "libs/events/message_event.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace crm::events {

absl::StatusOr<std::optional<MessageEvent>> MessageEventOf(
    const crm::events::v1::EventEnvelope& e) {
  absl::string_view type = e.type();
  if (!absl::ConsumePrefix(&type, "message.") ||
      !(type == "sent" || type == "opened" || type == "clicked" || type == "unsubscribed" ||
        type == "converted")) {
    return std::optional<MessageEvent>();
  }
  MessageEvent m;
  m.tenant_id = e.tenant_id();
  m.event_id = e.event_id();
  m.kind = std::string(type);
  m.occurred_time =
      absl::FromUnixSeconds(e.occurred_at().seconds()) + absl::Nanoseconds(e.occurred_at().nanos());
  try {
    const nlohmann::json p = nlohmann::json::parse(e.payload_json());
    m.message_id = p.at("messageId").get<std::string>();
    m.customer_id = p.at("customerId").get<std::string>();
    m.channel = p.at("channel").get<std::string>();
    m.purpose = p.value("purpose", std::string());
    m.template_id = p.value("templateId", std::string());
    m.campaign_id = p.value("campaignId", std::string());
    m.ticket_id = p.value("ticketId", std::string());
    m.order_id = p.value("orderId", std::string());
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat(e.type(), " payload is not the documented JSON"));
  }
  return std::optional<MessageEvent>(std::move(m));
}

}  // namespace crm::events

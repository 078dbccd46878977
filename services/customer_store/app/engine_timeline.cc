#include "services/customer_store/app/engine_timeline.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"

namespace crm::customer_store::app {

std::optional<ActivityRepository::Activity> MessageActivityOf(const events::MessageEvent& m) {
  // What reached the customer: email, SMS, push (webhooks went to the
  // tenant's own systems).
  domain::InteractionKind kind = domain::InteractionKind::kUnspecified;
  absl::string_view noun;
  if (m.channel == "email") {
    kind = domain::InteractionKind::kEmail;
    noun = "email";
  } else if (m.channel == "sms") {
    kind = domain::InteractionKind::kSms;
    noun = "SMS";
  } else if (m.channel == "push") {
    kind = domain::InteractionKind::kPush;
    noun = "push notification";
  }
  if (kind == domain::InteractionKind::kUnspecified || !common::IsUuid(m.event_id) ||
      !common::IsUuid(m.customer_id)) {
    return std::nullopt;
  }
  ActivityRepository::Activity a;
  a.tenant_id = m.tenant_id;
  a.id = m.event_id;
  a.customer_id = m.customer_id;
  a.kind = kind;
  a.channel = m.channel;
  a.time = m.occurred_time;
  a.actor = "delivery";
  a.source = "delivery";
  // Ids only: the template (or the ticket), never the content or the address.
  const std::string what =
      !m.ticket_id.empty()
          ? absl::StrCat(noun, " of a service desk ticket")
          : absl::StrCat(m.purpose, m.purpose.empty() ? "" : " ", noun, " \"", m.template_id, "\"",
                         m.campaign_id.empty() ? "" : " (campaign)");
  if (m.kind == "sent") {
    a.summary = absl::StrCat("Sent ", what);
  } else if (m.kind == "opened") {
    a.summary = absl::StrCat("Opened ", what);
  } else if (m.kind == "clicked") {
    a.summary = absl::StrCat("Clicked a link in ", what);
  } else if (m.kind == "unsubscribed") {
    a.summary = absl::StrCat("Unsubscribed from marketing ", noun, " through ", what);
  } else if (m.kind == "converted") {
    a.summary = absl::StrCat("Ordered after ", what);
  } else {
    return std::nullopt;
  }
  nlohmann::json payload = {
      {"event", m.kind}, {"message_id", m.message_id}, {"template_id", m.template_id}};
  if (!m.campaign_id.empty()) payload["campaign_id"] = m.campaign_id;
  if (!m.ticket_id.empty()) payload["ticket_id"] = m.ticket_id;
  if (!m.order_id.empty()) payload["order_id"] = m.order_id;
  a.payload_json = payload.dump();
  return a;
}

std::optional<ActivityRepository::Activity> TicketActivityOf(const events::TicketEvent& t) {
  if (!common::IsUuid(t.event_id) || !common::IsUuid(t.customer_id)) return std::nullopt;
  const std::string ticket = absl::StrCat("ticket #", t.number);
  std::string summary;
  if (t.kind == "created") {
    summary = absl::StrCat("Opened ", ticket, " \"", t.subject, "\"");
  } else if (t.kind == "message_added" && t.message_kind == "customer") {
    summary = absl::StrCat("Wrote on ", ticket);
  } else if (t.kind == "message_added" && t.message_kind == "public_reply") {
    summary = absl::StrCat("Was answered on ", ticket);
  } else if (t.kind == "status_changed" && t.status == "solved") {
    summary = absl::StrCat("Ticket #", t.number, " solved");
  } else if (t.kind == "status_changed" && t.from_status == "solved" && t.status == "open") {
    summary = absl::StrCat("Ticket #", t.number, " reopened");
  } else if (t.kind == "survey_answered" && t.survey_kind == "csat" && t.rating >= 1 &&
             t.rating <= 5) {
    summary = absl::StrCat("Rated the help on ", ticket, " ", t.rating, " of 5");
  } else if (t.kind == "survey_answered" && t.survey_kind == "nps" && t.rating >= 0 &&
             t.rating <= 10) {
    summary = absl::StrCat("Would recommend us ", t.rating, " of 10 (after ", ticket, ")");
  } else {
    return std::nullopt;  // notes, other moves: agents' business, not the customer's history
  }
  ActivityRepository::Activity a;
  a.tenant_id = t.tenant_id;
  a.id = t.event_id;
  a.customer_id = t.customer_id;
  a.kind = domain::InteractionKind::kTicket;
  a.channel = t.channel;
  a.time = t.occurred_time;
  a.actor = "service-desk";
  a.source = "service-desk";
  a.summary = std::move(summary);
  nlohmann::json payload = {
      {"event", t.kind}, {"ticket_id", t.ticket_id}, {"number", t.number}, {"status", t.status}};
  if (t.kind == "survey_answered") {
    payload["survey_kind"] = t.survey_kind;
    payload["rating"] = t.rating;
  }
  a.payload_json = payload.dump();
  return a;
}

absl::Status EngineTimeline::Record(const std::optional<ActivityRepository::Activity>& a) {
  if (!a) return absl::OkStatus();
  CRM_ASSIGN_OR_RETURN(bool added, repository_.RecordActivity(*a));
  if (added) cache_.Invalidate(a->tenant_id, a->customer_id);
  return absl::OkStatus();
}

}  // namespace crm::customer_store::app

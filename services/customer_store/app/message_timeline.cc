#include "services/customer_store/app/message_timeline.h"

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
  // Ids only: the template, never the content or the address.
  const std::string what =
      absl::StrCat(m.purpose, m.purpose.empty() ? "" : " ", noun, " \"", m.template_id, "\"",
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
  if (!m.order_id.empty()) payload["order_id"] = m.order_id;
  a.payload_json = payload.dump();
  return a;
}

absl::Status MessageTimeline::Apply(const events::MessageEvent& m) {
  std::optional<ActivityRepository::Activity> a = MessageActivityOf(m);
  if (!a) return absl::OkStatus();
  CRM_ASSIGN_OR_RETURN(bool added, repository_.RecordActivity(*a));
  if (added) cache_.Invalidate(a->tenant_id, a->customer_id);
  return absl::OkStatus();
}

}  // namespace crm::customer_store::app

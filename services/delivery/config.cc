#include "services/delivery/config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/common/status_macros.h"
#include "libs/common/tracking_token.h"
#include "services/delivery/domain/email.h"

namespace crm::delivery {
namespace {

absl::StatusOr<app::SenderSettings> ParseFrom(const std::string& text) {
  app::SenderSettings s;
  absl::string_view t = absl::StripAsciiWhitespace(text);
  const size_t lt = t.rfind('<');
  if (lt != absl::string_view::npos && absl::EndsWith(t, ">")) {
    s.from_name = std::string(absl::StripAsciiWhitespace(t.substr(0, lt)));
    s.from_address = std::string(t.substr(lt + 1, t.size() - lt - 2));
  } else {
    s.from_address = std::string(t);
  }
  if (!domain::ValidEmailAddress(s.from_address)) {
    return absl::InvalidArgumentError(absl::StrCat("CRM_DELIVERY_EMAIL_FROM: \"", text,
                                                   "\" is not \"Name <address>\" or an address"));
  }
  return s;
}

}  // namespace

absl::StatusOr<DeliveryConfig> LoadDeliveryConfig() {
  DeliveryConfig c;
  CRM_ASSIGN_OR_RETURN(c.smtp_url, common::EnvString("CRM_DELIVERY_SMTP_URL", c.smtp_url));
  if (!absl::StartsWith(c.smtp_url, "smtp://") && !absl::StartsWith(c.smtp_url, "smtps://")) {
    return absl::InvalidArgumentError("CRM_DELIVERY_SMTP_URL: must start with smtp:// or smtps://");
  }
  CRM_ASSIGN_OR_RETURN(c.smtp_username, common::EnvString("CRM_DELIVERY_SMTP_USERNAME", ""));
  CRM_ASSIGN_OR_RETURN(c.smtp_password, common::EnvString("CRM_DELIVERY_SMTP_PASSWORD", ""));
  CRM_ASSIGN_OR_RETURN(c.smtp_timeout,
                       common::EnvDuration("CRM_DELIVERY_SMTP_TIMEOUT", c.smtp_timeout));
  CRM_ASSIGN_OR_RETURN(std::string from,
                       common::EnvString("CRM_DELIVERY_EMAIL_FROM", "CRM <no-reply@crm.invalid>"));
  CRM_ASSIGN_OR_RETURN(c.default_sender, ParseFrom(from));
  CRM_ASSIGN_OR_RETURN(c.allow_networks_text, common::EnvString("CRM_DELIVERY_ALLOW_NETWORKS", ""));
  absl::StatusOr<std::vector<domain::Cidr>> allow = domain::ParseCidrList(c.allow_networks_text);
  if (!allow.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRM_DELIVERY_ALLOW_NETWORKS: ", allow.status().message()));
  }
  c.allow_networks = *std::move(allow);
  CRM_ASSIGN_OR_RETURN(int64_t senders, common::EnvInt("CRM_DELIVERY_SENDERS", c.senders, 1, 256));
  c.senders = static_cast<int>(senders);
  CRM_ASSIGN_OR_RETURN(int64_t batch,
                       common::EnvInt("CRM_DELIVERY_SEND_BATCH", c.send_batch, 1, 500));
  c.send_batch = static_cast<int>(batch);
  CRM_ASSIGN_OR_RETURN(int64_t attempts,
                       common::EnvInt("CRM_DELIVERY_MAX_ATTEMPTS", c.max_attempts, 1, 50));
  c.max_attempts = static_cast<int>(attempts);
  CRM_ASSIGN_OR_RETURN(c.retry_base, common::EnvDuration("CRM_DELIVERY_RETRY_BASE", c.retry_base));
  CRM_ASSIGN_OR_RETURN(c.retry_cap, common::EnvDuration("CRM_DELIVERY_RETRY_CAP", c.retry_cap));
  CRM_ASSIGN_OR_RETURN(c.requeue_after,
                       common::EnvDuration("CRM_DELIVERY_REQUEUE_AFTER", c.requeue_after));
  CRM_ASSIGN_OR_RETURN(c.lease, common::EnvDuration("CRM_DELIVERY_CLAIM_LEASE", c.lease));
  if (c.retry_base <= absl::ZeroDuration() || c.retry_cap < c.retry_base) {
    return absl::InvalidArgumentError(
        "CRM_DELIVERY_RETRY_BASE must be positive and CRM_DELIVERY_RETRY_CAP at least it");
  }
  CRM_ASSIGN_OR_RETURN(c.provider_timeout,
                       common::EnvDuration("CRM_DELIVERY_PROVIDER_TIMEOUT", c.provider_timeout));
  if (c.provider_timeout < absl::Milliseconds(100) || c.provider_timeout > absl::Seconds(30)) {
    return absl::InvalidArgumentError("CRM_DELIVERY_PROVIDER_TIMEOUT is 100ms..30s");
  }
  if (c.lease < c.smtp_timeout + absl::Seconds(5) || c.lease < absl::Seconds(35)) {
    return absl::InvalidArgumentError(
        "CRM_DELIVERY_CLAIM_LEASE must outlast a send: at least 35s and the SMTP timeout + 5s");
  }
  CRM_ASSIGN_OR_RETURN(c.tracking_base_url, common::LinkBaseUrl("CRM_DELIVERY_TRACKING_BASE_URL"));
  CRM_ASSIGN_OR_RETURN(c.tracking_ttl,
                       common::EnvDuration("CRM_DELIVERY_TRACKING_TTL", c.tracking_ttl));
  if (c.tracking_ttl < absl::Hours(24 * 30)) {
    // Unsubscribe links must keep working for at least 30 days after a send
    // (CAN-SPAM); opens and clicks use the same tokens.
    return absl::InvalidArgumentError("CRM_DELIVERY_TRACKING_TTL is at least 720h (30 days)");
  }
  if (c.requeue_after < absl::Seconds(1)) {
    return absl::InvalidArgumentError("CRM_DELIVERY_REQUEUE_AFTER is at least 1s");
  }
  return c;
}

void DeliveryConfig::DumpTo(common::ConfigDump& dump) const {
  dump.Add("smtp_url", smtp_url);
  dump.Add("smtp_username", smtp_username);
  dump.AddSecret("smtp_password", smtp_password);
  dump.Add("email_from",
           absl::StrCat(default_sender.from_name, " <", default_sender.from_address, ">"));
  dump.Add("allow_networks", allow_networks_text);
  dump.Add("senders", int64_t{senders});
  dump.Add("send_batch", int64_t{send_batch});
  dump.Add("max_attempts", int64_t{max_attempts});
  dump.Add("retry_base", retry_base);
  dump.Add("retry_cap", retry_cap);
  dump.Add("requeue_after", requeue_after);
  dump.Add("claim_lease", lease);
  dump.Add("provider_timeout", provider_timeout);
  dump.Add("tracking_base_url", tracking_base_url);
  dump.Add("tracking_ttl", tracking_ttl);
}

}  // namespace crm::delivery

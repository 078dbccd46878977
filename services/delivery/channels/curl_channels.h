#pragma once
// The channels over libcurl: email to an SMTP relay (STARTTLS when the
// relay offers it, or smtps://), webhooks and the SMS and push providers
// over HTTP(S) with the SSRF guard applied to every address and every
// redirect; and the system's resolver for the URL checks.
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::channels {

// Call once in main before any thread uses a channel.
void InitCurl();

class SystemResolver final : public app::HostResolver {
 public:
  absl::StatusOr<std::vector<domain::IpAddress>> Resolve(const std::string& host) override;
};

struct SmtpOptions {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string username;
  std::string password;  // never logged
  absl::Duration timeout = absl::Seconds(30);
};

class SmtpChannel final : public app::EmailChannel {
 public:
  explicit SmtpChannel(SmtpOptions options) : options_(std::move(options)) {}
  domain::SendResult Send(const app::OutboundEmail& email) override;

 private:
  const SmtpOptions options_;
};

class HttpWebhookChannel final : public app::WebhookChannel {
 public:
  HttpWebhookChannel(app::HostResolver& resolver, std::vector<domain::Cidr> allow)
      : resolver_(resolver), allow_(std::move(allow)) {}
  domain::SendResult Send(const app::OutboundWebhook& hook) override;

  static constexpr int kMaxRedirects = 3;

 private:
  // One POST to `url` (checked, pinned to a checked address); `location`
  // gets a 307/308's Location.
  domain::SendResult Post(const app::OutboundWebhook& hook, const std::string& url,
                          std::string& location);
  app::HostResolver& resolver_;
  const std::vector<domain::Cidr> allow_;
  absl::Mutex mu_;
  std::map<std::string, int> in_flight_ ABSL_GUARDED_BY(mu_);  // per endpoint id
};

// SMS and push through the tenant's provider (domain/providers.h), over the
// same SSRF guard as webhooks: a provider's base URL is a tenant's setting.
class ProviderChannel final : public app::NotificationChannel {
 public:
  ProviderChannel(app::HostResolver& resolver, std::vector<domain::Cidr> allow,
                  absl::Duration timeout)
      : resolver_(resolver), allow_(std::move(allow)), timeout_(timeout) {}
  domain::SendResult Send(const app::OutboundNotification& n) override;

 private:
  app::HostResolver& resolver_;
  const std::vector<domain::Cidr> allow_;
  const absl::Duration timeout_;
};

}  // namespace crm::delivery::channels

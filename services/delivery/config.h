#pragma once
// The delivery engine's own settings (CRM_DELIVERY_*), beside the shared
// ServiceConfig and its peers.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/env.h"
#include "services/delivery/app/ports.h"
#include "services/delivery/domain/network_policy.h"

namespace crm::delivery {

struct DeliveryConfig {
  // CRM_DELIVERY_SMTP_URL (default smtp://127.0.0.1:2525), _SMTP_USERNAME,
  // _SMTP_PASSWORD (a secret, never logged), _SMTP_TIMEOUT (30s).
  std::string smtp_url = "smtp://127.0.0.1:2525";
  std::string smtp_username;
  std::string smtp_password;
  absl::Duration smtp_timeout = absl::Seconds(30);
  // CRM_DELIVERY_EMAIL_FROM: "Name <address>" or "address" (the sender of
  // tenants that set none).
  app::SenderSettings default_sender{"no-reply@crm.invalid", "CRM", "", std::nullopt};
  // CRM_DELIVERY_ALLOW_NETWORKS: CIDRs webhooks may reach although private.
  std::vector<domain::Cidr> allow_networks;
  std::string allow_networks_text;
  int senders = 16;                                  // CRM_DELIVERY_SENDERS 1..256
  int send_batch = 32;                               // CRM_DELIVERY_SEND_BATCH 1..500
  int max_attempts = 8;                              // CRM_DELIVERY_MAX_ATTEMPTS 1..50
  absl::Duration retry_base = absl::Seconds(2);      // CRM_DELIVERY_RETRY_BASE
  absl::Duration retry_cap = absl::Minutes(30);      // CRM_DELIVERY_RETRY_CAP
  absl::Duration requeue_after = absl::Seconds(30);  // CRM_DELIVERY_REQUEUE_AFTER
  absl::Duration lease = absl::Seconds(60);          // CRM_DELIVERY_CLAIM_LEASE
  // CRM_DELIVERY_PROVIDER_TIMEOUT: one SMS or push provider call (100ms..30s).
  absl::Duration provider_timeout = absl::Seconds(10);
  // CRM_DELIVERY_TRACKING_BASE_URL: the gateway as recipients reach it
  // ("https://crm.example.com"; http:// only on loopback); "" turns
  // tracking links, the open pixel and the unsubscribe link off.
  std::string tracking_base_url;
  absl::Duration tracking_ttl = absl::Hours(24 * 365);  // CRM_DELIVERY_TRACKING_TTL, >= 30 days

  void DumpTo(common::ConfigDump& dump) const;
};

absl::StatusOr<DeliveryConfig> LoadDeliveryConfig();

}  // namespace crm::delivery

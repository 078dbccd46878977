#pragma once
// The send ledger, webhook endpoints and sender identities in PostgreSQL
// (schema/001_init.sql). Webhook secrets are sealed at rest (AES-256-GCM
// under a key derived from CRM_CONTEXT_KEY, bound to tenant and endpoint).
#include <functional>
#include <string>
#include <vector>

#include "libs/outbox/unit_of_work.h"
#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::storage {

class PgDeliveryRepository final : public app::DeliveryRepository, public app::Ledger {
 public:
  PgDeliveryRepository(pg::Pool& pool, const std::string& context_key);
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Message> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Message>(app::DeliveryTx&)> work) override;
  absl::StatusOr<app::WebhookEndpoint> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::WebhookEndpoint>(app::DeliveryTx&)> work) override;
  absl::StatusOr<app::SenderSettings> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::SenderSettings>(app::DeliveryTx&)> work) override;
  absl::StatusOr<domain::DeliveryPolicy> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::DeliveryPolicy>(app::DeliveryTx&)> work) override;
  absl::StatusOr<domain::Campaign> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Campaign>(app::DeliveryTx&)> work) override;
  absl::StatusOr<domain::ProviderSettings> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::ProviderSettings>(app::DeliveryTx&)> work) override;
  absl::StatusOr<bool> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<bool>(app::DeliveryTx&)> work) override;

  absl::StatusOr<domain::Message> GetMessage(const std::string& tenant,
                                             const std::string& id) override;
  absl::StatusOr<app::MessagePage> ListCustomerMessages(const std::string& tenant,
                                                        const std::string& customer_id,
                                                        const app::Page& page) override;
  absl::StatusOr<app::MessagePage> ListMessages(const std::string& tenant, domain::State state,
                                                const app::Page& page) override;
  absl::StatusOr<app::WebhookEndpoint> GetEndpoint(const std::string& tenant,
                                                   const std::string& id) override;
  absl::StatusOr<std::vector<app::WebhookEndpoint>> ListEndpoints(
      const std::string& tenant) override;
  absl::StatusOr<std::optional<app::SenderSettings>> GetSenderSettings(
      const std::string& tenant) override;
  absl::StatusOr<std::optional<domain::ProviderSettings>> GetProvider(
      const std::string& tenant, domain::Channel channel) override;
  absl::StatusOr<std::vector<domain::ProviderSettings>> ListProviders(
      const std::string& tenant) override;
  absl::StatusOr<std::optional<domain::DeliveryPolicy>> GetPolicy(
      const std::string& tenant) override;
  absl::StatusOr<domain::Campaign> GetCampaign(const std::string& tenant,
                                               const std::string& id) override;
  absl::StatusOr<std::vector<domain::Campaign>> ListCampaigns(const std::string& tenant) override;
  absl::StatusOr<std::vector<app::CampaignCount>> CountCampaignMessages(
      const std::string& tenant, const std::string& campaign_id) override;
  absl::StatusOr<std::vector<domain::Campaign>> TriggeredCampaigns(
      const std::string& tenant, domain::TriggerKind kind) override;
  absl::StatusOr<std::vector<app::ConversionCount>> CountCampaignConversions(
      const std::string& tenant, const std::string& campaign_id) override;
  absl::StatusOr<std::vector<app::OfferCount>> CountCampaignOffers(
      const std::string& tenant, const std::string& campaign_id) override;
  absl::StatusOr<std::vector<CampaignRef>> ActiveCampaigns(int limit) override;
  absl::StatusOr<int64_t> EraseCustomers(const std::string& tenant, const std::string& event_id,
                                         const std::vector<std::string>& customer_ids) override;

  absl::StatusOr<app::SuppressionPage> ListSuppressions(const std::string& tenant,
                                                        domain::Channel channel,
                                                        const app::Page& page) override;
  absl::StatusOr<std::vector<std::string>> SuppressedAmong(
      const std::string& tenant, domain::Channel channel,
      const std::vector<std::string>& addresses) override;
  absl::StatusOr<std::vector<ClaimResult>> ClaimBatch(
      const std::string& tenant, const std::vector<std::string>& ids, absl::Duration lease,
      const std::vector<domain::FrequencyCap>& caps) override;
  absl::StatusOr<bool> MarkSendStarted(const std::string& tenant, const std::string& id,
                                       int claimed_attempts) override;
  absl::StatusOr<std::vector<bool>> FinishBatch(const std::string& tenant,
                                                const std::vector<Finished>& rows) override;
  absl::StatusOr<FinishMark> FinishAndMark(const std::string& tenant, const Finished& row,
                                           const std::string& next_id, int next_attempts) override;
  absl::StatusOr<std::vector<Due>> TakeDue(absl::Duration requeue_after, int limit) override;
  absl::StatusOr<int> ResolveLostClaims(int limit) override;

 private:
  class Tx;
  // One write, once per request id: a retry answers `current` (the
  // resource as it is now, read in the retry's transaction).
  template <typename T>
  absl::StatusOr<T> WriteOnce(
      const outbox::WriteMeta& meta, const std::string& resource,
      std::function<absl::StatusOr<T>(const outbox::WriteTx& w, const std::string& id)> current,
      absl::FunctionRef<absl::StatusOr<T>(app::DeliveryTx&)> work);
  absl::StatusOr<app::MessagePage> List(const std::string& tenant, const app::Page& page,
                                        const pg::NamedQuery& first, const pg::NamedQuery& next,
                                        const std::string& key);
  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
  const std::string secret_key_;
};

}  // namespace crm::delivery::storage

// personalization (engine 3): wiring only.
#include "libs/common/price_quote.h"
#include "libs/common/service_config.h"
#include "libs/grpcutil/channel.h"
#include "libs/observability/log.h"
#include "libs/service/runtime.h"
#include "services/personalization/api/fact_events.h"
#include "services/personalization/api/grpc_service.h"
#include "services/personalization/clients/grpc_customer_store_peer.h"
#include "services/personalization/clients/grpc_segmentation_peer.h"
#include "services/personalization/schema_name.h"
#include "services/personalization/storage/pg_offer_repository.h"
#include "services/personalization/storage/pg_personalization_repository.h"
#include "services/personalization/storage/pg_price_repository.h"
#include "services/personalization/storage/pg_slot_repository.h"
#include "services/personalization/storage/pg_template_repository.h"

int main() {
  using namespace crm;  // NOLINT
  service::Boot boot("personalization");
  const common::ServiceConfig config = boot.Config(common::LoadServiceConfig());
  const common::EventConsumerConfig consumer = boot.Config(common::LoadEventConsumerConfig(1));
  // The segmentation engine evaluates the slots' rules (MatchCustomer).
  const common::PeerConfig segmentation =
      boot.Config(common::LoadPeerConfig("segmentation", {"", absl::Milliseconds(300)}));
  // Message templates render with the customer's profile (GetCustomer).
  const common::PeerConfig customer_store =
      boot.Config(common::LoadPeerConfig("customer-store", {"", absl::Milliseconds(500)}));
  std::vector<pg::NamedQuery> queries =
      personalization::storage::PgPersonalizationRepository::Queries();
  for (pg::NamedQuery& q : personalization::storage::PgSlotRepository::Queries()) {
    queries.push_back(std::move(q));
  }
  for (pg::NamedQuery& q : personalization::storage::PgOfferRepository::Queries()) {
    queries.push_back(std::move(q));
  }
  for (pg::NamedQuery& q : personalization::storage::PgPriceRepository::Queries()) {
    queries.push_back(std::move(q));
  }
  for (pg::NamedQuery& q : personalization::storage::PgTemplateRepository::Queries()) {
    queries.push_back(std::move(q));
  }
  std::unique_ptr<service::Runtime> rt = boot.Start(config, queries);
  personalization::storage::PgPersonalizationRepository repository(rt->pg());
  personalization::storage::PgSlotRepository slot_repository(rt->pg());
  personalization::storage::PgOfferRepository offer_repository(rt->pg());
  personalization::storage::PgPriceRepository price_repository(rt->pg());
  personalization::storage::PgTemplateRepository template_repository(rt->pg());
  personalization::app::Recommender recommender(repository);
  personalization::clients::GrpcSegmentationPeer segmentation_peer(
      grpcutil::MakeChannel(segmentation.addr), segmentation.timeout);
  personalization::app::Slots slots(slot_repository, recommender, segmentation_peer);
  personalization::app::Offers offers(offer_repository, recommender, segmentation_peer);
  personalization::app::Prices prices(price_repository, recommender, segmentation_peer,
                                      common::PriceQuoteKey(config.context_key));
  personalization::clients::GrpcCustomerStorePeer customer_store_peer(
      grpcutil::MakeChannel(customer_store.addr), customer_store.timeout);
  personalization::app::Templates templates(template_repository, recommender, offers,
                                            customer_store_peer);
  // The models from the stored rows, before the first call or event.
  const absl::Time load_start = absl::Now();
  absl::StatusOr<personalization::app::Recommender::LoadStats> loaded = recommender.Rebuild();
  boot.Require(loaded.status(), "loading the models");
  boot.Require(slots.Load(), "loading the content slots");
  boot.Require(offers.Load(), "loading the offers");
  boot.Require(prices.Load(), "loading the price policies");
  boot.Require(templates.Load(), "loading the message templates");
  observability::LogLine(observability::Severity::kInfo)
          .Field("tenants", static_cast<int64_t>(loaded->tenants))
          .Field("users", static_cast<int64_t>(loaded->users))
          .Field("items", static_cast<int64_t>(loaded->items))
          .Field("interactions", static_cast<int64_t>(loaded->interactions))
          .Field("pairs", static_cast<int64_t>(loaded->pairs))
          .Field("rebuild_seconds", absl::ToDoubleSeconds(absl::Now() - load_start))
      << "models loaded";
  rt->AddBatchConsumer("personalization", consumer, [&](const std::vector<events::Event>& batch) {
    return personalization::api::HandleFactBatch(recommender, batch);
  });
  personalization::app::SegmentPopular segment_popular(recommender, segmentation_peer);
  personalization::api::PersonalizationGrpcService service(recommender, segment_popular, slots,
                                                           offers, prices, templates,
                                                           rt->executor(), rt->rpc_metrics());
  return rt->Serve(personalization::kSchema, {&service});
}

// delivery (engine 4): wiring only.
#include <unistd.h>

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/service_config.h"
#include "libs/common/tracking_token.h"
#include "libs/grpcutil/channel.h"
#include "libs/service/runtime.h"
#include "services/delivery/api/customer_events.h"
#include "services/delivery/api/grpc_service.h"
#include "services/delivery/api/order_events.h"
#include "services/delivery/api/send_workers.h"
#include "services/delivery/api/ticket_events.h"
#include "services/delivery/api/trigger_events.h"
#include "services/delivery/app/conversions.h"
#include "services/delivery/channels/curl_channels.h"
#include "services/delivery/clients/grpc_peers.h"
#include "services/delivery/config.h"
#include "services/delivery/schema_name.h"
#include "services/delivery/storage/pg_delivery_repository.h"
#include "services/delivery/storage/pg_journey_repository.h"
#include "services/delivery/storage/redis_queue.h"

int main() {
  using namespace crm;  // NOLINT
  service::Boot boot("delivery");
  const common::ServiceConfig config = boot.Config(common::LoadServiceConfig());
  const delivery::DeliveryConfig own = boot.Config(delivery::LoadDeliveryConfig());
  const common::EventConsumerConfig consumer = boot.Config(common::LoadEventConsumerConfig(1));
  // Campaign audiences: the members of segmentation's live segments.
  const common::PeerConfig segmentation =
      boot.Config(common::LoadPeerConfig("segmentation", {"", absl::Seconds(5)}));
  const common::PeerConfig customer_store =
      boot.Config(common::LoadPeerConfig("customer-store", {"", absl::Seconds(2)}));
  const common::PeerConfig personalization =
      boot.Config(common::LoadPeerConfig("personalization", {"", absl::Seconds(2)}));
  // The service desk's mail (a ticket's replies and auto-replies).
  const common::PeerConfig service_desk =
      boot.Config(common::LoadPeerConfig("service-desk", {"", absl::Seconds(2)}));
  delivery::channels::InitCurl();
  std::vector<pg::NamedQuery> queries = delivery::storage::PgDeliveryRepository::Queries();
  for (pg::NamedQuery& q : delivery::storage::PgJourneyRepository::Queries()) {
    queries.push_back(std::move(q));
  }
  std::unique_ptr<service::Runtime> rt = boot.Start(config, queries);
  delivery::storage::PgDeliveryRepository repository(rt->pg(), config.context_key);
  delivery::storage::PgJourneyRepository journey_repository(rt->pg());
  delivery::storage::RedisWorkQueue queue(rt->redis());
  delivery::clients::GrpcCustomerDirectory directory(grpcutil::MakeChannel(customer_store.addr),
                                                     customer_store.timeout);
  delivery::clients::GrpcRenderer renderer(grpcutil::MakeChannel(personalization.addr),
                                           personalization.timeout);
  delivery::clients::GrpcSegmentDirectory segments(grpcutil::MakeChannel(segmentation.addr),
                                                   segmentation.timeout);
  delivery::clients::GrpcTicketMailSource desk(grpcutil::MakeChannel(service_desk.addr),
                                               service_desk.timeout);
  delivery::channels::SystemResolver resolver;
  delivery::channels::SmtpChannel smtp(
      {own.smtp_url, own.smtp_username, own.smtp_password, own.smtp_timeout});
  delivery::channels::HttpWebhookChannel webhooks(resolver, own.allow_networks);
  delivery::channels::ProviderChannel providers(resolver, own.allow_networks, own.provider_timeout);
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  delivery::app::PolicyCache policies(repository, clock);
  delivery::app::Delivery delivery(repository, policies, queue, renderer, resolver,
                                   {own.max_attempts, own.default_sender, own.allow_networks},
                                   clock, ids);
  absl::Mutex rng_mu;
  std::mt19937_64 rng(std::random_device{}());
  delivery::app::Dispatcher dispatcher(
      repository, repository, policies, directory, renderer, desk, smtp, webhooks, providers,
      {own.lease,
       // The slowest channel: SMTP, a provider, or a webhook (at most 30s).
       std::max({own.smtp_timeout, own.provider_timeout, absl::Seconds(30)}),
       {own.retry_base, own.retry_cap},
       own.default_sender,
       {own.tracking_base_url, common::TrackingKey(config.context_key), own.tracking_ttl}},
      clock, [&] {
        absl::MutexLock lock(&rng_mu);
        return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
      });
  delivery::app::Campaigns campaigns(repository, queue, renderer, segments,
                                     {own.max_attempts, 1000}, clock, ids);
  delivery::app::Journeys journeys(journey_repository, repository, queue, renderer, segments,
                                   directory, {own.max_attempts, 10, own.lease, 200}, clock, ids);
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  delivery::api::SendWorkers workers(
      queue, repository, dispatcher, {&campaigns, &journeys}, rt->registry(),
      {own.senders, own.send_batch, absl::StrCat(host, "-", getpid()), own.requeue_after,
       absl::Seconds(1)});
  workers.Start();
  // customer.erased: the erased customers' messages leave the ledger.
  // order.*: conversions credited to messages and counted for campaigns.
  delivery::api::CustomerEventHandler customer_events(repository);
  delivery::app::Conversions conversions(repository, policies);
  delivery::api::OrderEventHandler order_events(conversions);
  // segment.entered, order.placed, cart.item_added: triggered campaigns
  // (an order also reaches the goal of abandoned-cart reminders) and
  // journeys (triggers, waits, goals).
  delivery::api::TriggerEventHandler trigger_events(campaigns, journeys);
  // ticket.mail_queued: the service desk's mail, sent once.
  delivery::api::TicketEventHandler ticket_events(delivery);
  rt->AddConsumer(delivery::api::kConsumerGroup, consumer, [&](const events::Event& e) {
    absl::Status s = customer_events.Handle(e);
    if (s.ok()) s = order_events.Handle(e);
    if (s.ok()) s = trigger_events.Handle(e);
    if (s.ok()) s = ticket_events.Handle(e);
    return s;
  });
  delivery::app::Tracking tracking(repository, directory, common::TrackingKey(config.context_key),
                                   clock, own.tracking_base_url);
  delivery::api::DeliveryGrpcService service(delivery, campaigns, journeys, tracking, rt->tokens(),
                                             rt->executor(), rt->rpc_metrics());
  const int code = rt->Serve(delivery::kSchema, {&service});
  workers.Stop();
  return code;
}

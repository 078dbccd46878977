// transaction (engine 5): wiring only.
#include <memory>

#include "libs/common/clock.h"
#include "libs/common/env.h"
#include "libs/common/id.h"
#include "libs/common/service_config.h"
#include "libs/events/tail.h"
#include "libs/grpcutil/channel.h"
#include "libs/observability/log.h"
#include "libs/service/runtime.h"
#include "services/transaction/api/customer_events.h"
#include "services/transaction/api/erp_grpc_service.h"
#include "services/transaction/api/grpc_service.h"
#include "services/transaction/api/pipeline_grpc_service.h"
#include "services/transaction/app/caching_customer_directory.h"
#include "services/transaction/app/catalog.h"
#include "services/transaction/app/erp.h"
#include "services/transaction/app/known_customers.h"
#include "services/transaction/schema_name.h"
#include "services/transaction/storage/grpc_customer_directory.h"
#include "services/transaction/storage/pg_erp_repository.h"
#include "services/transaction/storage/pg_order_repository.h"
#include "services/transaction/storage/pg_pipeline_repository.h"
#include "services/transaction/storage/pg_product_repository.h"

int main() {
  using namespace crm;  // NOLINT
  service::InitProcess("transaction");
  absl::StatusOr<common::ServiceConfig> config = common::LoadServiceConfig();
  if (!config.ok()) {
    CRM_LOG(Error) << "invalid configuration: " << config.status().message();
    return 2;
  }
  // Consumer of customer-store's events (customer.erased).
  absl::StatusOr<common::EventConsumerConfig> consumer = common::LoadEventConsumerConfig(2);
  if (!consumer.ok()) {
    CRM_LOG(Error) << "invalid configuration: " << consumer.status().message();
    return 2;
  }
  // Customer-store resolves and checks every customer an order, an
  // opportunity or an ERP batch names (CRM_CUSTOMER_STORE_ADDR, required;
  // CRM_CUSTOMER_STORE_TIMEOUT, the deadline of each call, default 2s).
  absl::StatusOr<common::PeerConfig> customer_store_peer = common::LoadPeerConfig("customer-store");
  if (!customer_store_peer.ok()) {
    CRM_LOG(Error) << "invalid configuration: " << customer_store_peer.status().message();
    return 2;
  }
  common::ConfigDump dump;
  config->DumpTo(dump);
  consumer->DumpTo(dump);
  customer_store_peer->DumpTo(dump);
  CRM_LOG(Info) << "config " << dump.ToString();
  std::vector<pg::NamedQuery> queries = transaction::storage::PgProductRepository::Queries();
  for (auto& q : transaction::storage::PgOrderRepository::Queries()) queries.push_back(std::move(q));
  for (auto& q : transaction::storage::PgPipelineRepository::Queries()) queries.push_back(std::move(q));
  for (auto& q : transaction::storage::PgErpRepository::Queries()) queries.push_back(std::move(q));
  auto rt = service::Runtime::Create("transaction", *config, std::move(queries));
  if (!rt.ok()) {
    CRM_LOG(Error) << "start-up: " << rt.status();
    return 1;
  }

  transaction::storage::PgProductRepository products((*rt)->pg());
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  transaction::app::Catalog catalog(products, clock);
  transaction::storage::PgOrderRepository order_repository((*rt)->pg());
  // Customers customer-store confirmed are remembered (bounded, with a TTL,
  // forgotten on customer.erased / merged / unmerged): an order for a known
  // customer needs no customer-store call (services/transaction/README.md).
  absl::StatusOr<int64_t> cache_size =
      common::EnvInt("CRM_CUSTOMER_CACHE_SIZE", 100000, 0, 10000000);
  absl::StatusOr<absl::Duration> cache_ttl =
      common::EnvDuration("CRM_CUSTOMER_CACHE_TTL", absl::Minutes(5));
  for (const absl::Status& s : {cache_size.status(), cache_ttl.status()}) {
    if (!s.ok()) {
      CRM_LOG(Error) << "invalid configuration: " << s.message();
      return 2;
    }
  }
  CRM_LOG(Info) << "config CRM_CUSTOMER_CACHE_SIZE=" << *cache_size
                << " CRM_CUSTOMER_CACHE_TTL=" << absl::FormatDuration(*cache_ttl);
  transaction::storage::GrpcCustomerDirectory customer_store(
      grpcutil::MakeChannel(customer_store_peer->addr), customer_store_peer->timeout);
  transaction::app::KnownCustomers known_customers(
      clock, transaction::app::KnownCustomersOptions{static_cast<size_t>(*cache_size), *cache_ttl});
  transaction::app::CachingCustomerDirectory directory(customer_store, known_customers);
  transaction::app::Orders orders(order_repository, clock, ids, &directory, &order_repository);
  transaction::app::OrderMoney money(order_repository, clock, ids);
  transaction::api::TransactionGrpcService service(catalog, orders, money, (*rt)->executor(),
                                                  (*rt)->rpc_metrics(), (*rt)->tokens());
  transaction::storage::PgErpRepository erp_repository((*rt)->pg());
  transaction::app::Erp erp(erp_repository, clock, ids, &directory, &order_repository);
  transaction::api::ErpGrpcService erp_service(erp, (*rt)->executor(), (*rt)->rpc_metrics(),
                                               (*rt)->tokens());
  transaction::storage::PgPipelineRepository pipeline_repository((*rt)->pg(), &order_repository);
  transaction::app::Pipeline pipeline(pipeline_repository, orders, &directory, clock, ids);
  transaction::api::PipelineGrpcService pipeline_service(pipeline, (*rt)->executor(),
                                                         (*rt)->rpc_metrics(), (*rt)->tokens());
  // customer.erased from customer-store erases the customer's pipeline data
  // (one replica per event) ...
  transaction::api::CustomerEventHandler customer_events(pipeline, &known_customers);
  (*rt)->AddBatchConsumer(transaction::api::kConsumerGroup, *consumer,
                          [&](const std::vector<events::Event>& batch) {
                            return customer_events.HandleBatch(batch);
                          });
  // ... and every replica forgets the customers erased, merged or unmerged
  // (every event to every replica: no consumer group).
  transaction::api::KnownCustomersInvalidator invalidator(known_customers);
  events::TailOptions tail_options;
  tail_options.partitions = config->event_partitions;
  events::StreamTail known_customers_feed(
      (*rt)->redis(), tail_options,
      [&invalidator](const std::vector<events::Event>& batch) { invalidator.HandleBatch(batch); },
      [&invalidator] { invalidator.Gap(); });
  if (known_customers.enabled()) known_customers_feed.Start();
  const int exit_code =
      (*rt)->Serve(transaction::kSchema, {&service, &erp_service, &pipeline_service});
  known_customers_feed.Stop();
  return exit_code;
}

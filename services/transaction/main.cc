// transaction (engine 5): wiring only.
#include <memory>

#include "libs/common/clock.h"
#include "libs/common/env.h"
#include "libs/common/id.h"
#include "libs/common/price_quote.h"
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
#include "services/transaction/config.h"
#include "services/transaction/schema_name.h"
#include "services/transaction/storage/grpc_customer_directory.h"
#include "services/transaction/storage/pg_erp_repository.h"
#include "services/transaction/storage/pg_order_repository.h"
#include "services/transaction/storage/pg_pipeline_repository.h"
#include "services/transaction/storage/pg_product_repository.h"

int main() {
  using namespace crm;  // NOLINT
  service::Boot boot("transaction");
  const common::ServiceConfig config = boot.Config(common::LoadServiceConfig());
  // Consumer of customer-store's events (customer.erased).
  const common::EventConsumerConfig consumer = boot.Config(common::LoadEventConsumerConfig(2));
  // Customer-store resolves and checks every customer an order, an
  // opportunity or an ERP batch names (CRM_CUSTOMER_STORE_ADDR, required;
  // CRM_CUSTOMER_STORE_TIMEOUT, the deadline of each call, default 2s).
  const common::PeerConfig customer_store_peer =
      boot.Config(common::LoadPeerConfig("customer-store"));
  // Customers customer-store confirmed are remembered (bounded, with a TTL,
  // forgotten on customer.erased / merged / unmerged): an order for a known
  // customer needs no customer-store call (services/transaction/README.md).
  const transaction::CustomerCacheConfig cache =
      boot.Config(transaction::LoadCustomerCacheConfig());
  std::vector<pg::NamedQuery> queries = transaction::storage::PgProductRepository::Queries();
  for (auto& q : transaction::storage::PgOrderRepository::Queries()) queries.push_back(std::move(q));
  for (auto& q : transaction::storage::PgPipelineRepository::Queries()) queries.push_back(std::move(q));
  for (auto& q : transaction::storage::PgErpRepository::Queries()) queries.push_back(std::move(q));
  std::unique_ptr<service::Runtime> rt = boot.Start(config, std::move(queries));

  transaction::storage::PgProductRepository products(rt->pg());
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  transaction::app::Catalog catalog(products, clock);
  transaction::storage::PgOrderRepository order_repository(rt->pg());
  transaction::storage::GrpcCustomerDirectory customer_store(
      grpcutil::MakeChannel(customer_store_peer.addr), customer_store_peer.timeout);
  transaction::app::KnownCustomers known_customers(clock, cache.options);
  transaction::app::CachingCustomerDirectory directory(customer_store, known_customers);
  transaction::app::Orders orders(order_repository, clock, ids, &directory, &order_repository,
                                  common::PriceQuoteKey(config.context_key));
  transaction::app::OrderMoney money(order_repository, clock, ids);
  transaction::api::TransactionGrpcService service(catalog, orders, money, rt->executor(),
                                                   rt->rpc_metrics(), rt->tokens());
  transaction::storage::PgErpRepository erp_repository(rt->pg());
  transaction::app::Erp erp(erp_repository, clock, ids, &directory, &order_repository);
  transaction::api::ErpGrpcService erp_service(erp, rt->executor(), rt->rpc_metrics(),
                                               rt->tokens());
  transaction::storage::PgPipelineRepository pipeline_repository(rt->pg(), &order_repository);
  transaction::app::Pipeline pipeline(pipeline_repository, orders, &directory, clock, ids);
  transaction::api::PipelineGrpcService pipeline_service(pipeline, rt->executor(),
                                                         rt->rpc_metrics(), rt->tokens());
  // customer.erased from customer-store erases the customer's pipeline data
  // (one replica per event) ...
  transaction::api::CustomerEventHandler customer_events(pipeline, &known_customers);
  rt->AddBatchConsumer(
      transaction::api::kConsumerGroup, consumer,
      [&](const std::vector<events::Event>& batch) { return customer_events.HandleBatch(batch); });
  // ... and every replica forgets the customers erased, merged or unmerged
  // (every event to every replica: no consumer group).
  transaction::api::KnownCustomersInvalidator invalidator(known_customers);
  events::TailOptions tail_options;
  tail_options.partitions = config.event_partitions;
  events::StreamTail known_customers_feed(
      rt->redis(), tail_options,
      [&invalidator](const std::vector<events::Event>& batch) { invalidator.HandleBatch(batch); },
      [&invalidator] { invalidator.Gap(); });
  if (known_customers.enabled()) known_customers_feed.Start();
  const int exit_code =
      rt->Serve(transaction::kSchema, {&service, &erp_service, &pipeline_service});
  known_customers_feed.Stop();
  return exit_code;
}

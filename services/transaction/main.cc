// transaction (engine 5): wiring only.
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/common/service_config.h"
#include "libs/observability/log.h"
#include "libs/service/runtime.h"
#include "services/transaction/api/grpc_service.h"
#include "services/transaction/app/catalog.h"
#include "services/transaction/storage/pg_order_repository.h"
#include "services/transaction/storage/pg_product_repository.h"

int main() {
  using namespace crm;  // NOLINT
  service::InitProcess("transaction");
  absl::StatusOr<common::ServiceConfig> config = common::LoadServiceConfig();
  if (!config.ok()) {
    CRM_LOG(Error) << "invalid configuration: " << config.status().message();
    return 2;
  }
  common::ConfigDump dump;
  config->DumpTo(dump);
  CRM_LOG(Info) << "config " << dump.ToString();
  std::vector<pg::NamedQuery> queries = transaction::storage::PgProductRepository::Queries();
  for (auto& q : transaction::storage::PgOrderRepository::Queries()) queries.push_back(std::move(q));
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
  transaction::app::Orders orders(order_repository, clock, ids);
  transaction::api::TransactionGrpcService service(catalog, orders, (*rt)->executor(),
                                                  (*rt)->rpc_metrics(), (*rt)->tokens());
  return (*rt)->Serve("txn", {&service});
}

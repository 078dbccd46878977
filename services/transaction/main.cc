// transaction (engine 5): wiring only.
#include "libs/common/clock.h"
#include "libs/common/service_config.h"
#include "libs/observability/log.h"
#include "libs/service/runtime.h"
#include "services/transaction/api/grpc_service.h"
#include "services/transaction/app/catalog.h"
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
  auto rt = service::Runtime::Create("transaction", *config,
                                     transaction::storage::PgProductRepository::Queries());
  if (!rt.ok()) {
    CRM_LOG(Error) << "start-up: " << rt.status();
    return 1;
  }

  transaction::storage::PgProductRepository products((*rt)->pg());
  common::SystemClock clock;
  transaction::app::Catalog catalog(products, clock);
  transaction::api::TransactionGrpcService service(catalog, (*rt)->executor(),
                                                  (*rt)->rpc_metrics(), (*rt)->tokens());
  return (*rt)->Serve("txn", {&service});
}

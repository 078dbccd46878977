// segmentation (engine 2): wiring only.
#include "libs/common/service_config.h"
#include "libs/service/runtime.h"
#include "services/segmentation/api/grpc_service.h"
#include "services/segmentation/schema_name.h"
#include "services/segmentation/storage/pg_model_repository.h"

int main() {
  using namespace crm;  // NOLINT
  service::Boot boot("segmentation");
  const common::ServiceConfig config = boot.Config(common::LoadServiceConfig());
  std::unique_ptr<service::Runtime> rt =
      boot.Start(config, segmentation::storage::PgModelRepository::Queries());
  segmentation::storage::PgModelRepository models_repository(rt->pg());
  segmentation::app::Models models(models_repository);
  segmentation::api::SegmentationGrpcService service(models, rt->executor(), rt->rpc_metrics());
  return rt->Serve(segmentation::kSchema, {&service});
}

// personalization (engine 3): wiring only.
#include "libs/common/service_config.h"
#include "libs/service/runtime.h"
#include "services/personalization/api/fact_events.h"
#include "services/personalization/api/grpc_service.h"
#include "services/personalization/schema_name.h"
#include "services/personalization/storage/pg_personalization_repository.h"

int main() {
  using namespace crm;  // NOLINT
  service::Boot boot("personalization");
  const common::ServiceConfig config = boot.Config(common::LoadServiceConfig());
  const common::EventConsumerConfig consumer = boot.Config(common::LoadEventConsumerConfig(1));
  std::unique_ptr<service::Runtime> rt =
      boot.Start(config, personalization::storage::PgPersonalizationRepository::Queries());
  personalization::storage::PgPersonalizationRepository repository(rt->pg());
  personalization::app::Recommender recommender(repository);
  // The models from the stored rows, before the first call or event.
  boot.Require(recommender.Rebuild(), "loading the models");
  rt->AddBatchConsumer("personalization", consumer, [&](const std::vector<events::Event>& batch) {
    return personalization::api::HandleFactBatch(recommender, batch);
  });
  personalization::api::PersonalizationGrpcService service(recommender, rt->executor(),
                                                           rt->rpc_metrics());
  return rt->Serve(personalization::kSchema, {&service});
}

#include "services/segmentation/storage/pg_model_repository.h"

#include "libs/common/status_macros.h"
#include "libs/outbox/writer.h"
#include "services/segmentation/schema_name.h"
#include "services/segmentation/storage/model_codec.h"

namespace crm::segmentation::storage {
namespace {

const pg::NamedQuery kSelectClvModel{
    "select_clv_model", "SELECT model::text FROM segmentation.clv_models WHERE tenant_id = $1", 1};

}  // namespace

std::vector<pg::NamedQuery> PgModelRepository::Queries() {
  std::vector<pg::NamedQuery> q = outbox::TransactionalWriter::Queries(kSchema);
  q.push_back(kSelectClvModel);
  return q;
}

absl::StatusOr<std::optional<domain::ClvModel>> PgModelRepository::GetClvModel(
    const std::string& tenant) {
  std::optional<std::string> text;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSelectClvModel, tenant);
    if (!r.empty()) text = r[0][0].as<std::string>();
    return absl::OkStatus();
  }));
  if (!text) return std::nullopt;
  return DecodeClvModel(*text);
}

}  // namespace crm::segmentation::storage

#include "services/segmentation/storage/pg_model_repository.h"

#include <nlohmann/json.hpp>

#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"
#include "services/segmentation/schema_name.h"
#include "services/segmentation/storage/model_codec.h"
#include "services/segmentation/storage/pg_fact_repository.h"

namespace crm::segmentation::storage {
namespace {

const pg::NamedQuery kSelectClvModel{
    "select_clv_model", "SELECT model::text FROM segmentation.clv_models WHERE tenant_id = $1", 1};
const pg::NamedQuery kSaveClvModel{
    "save_clv_model",
    "INSERT INTO segmentation.clv_models (tenant_id, model, fitted_at) "
    "VALUES ($1, $2::jsonb, " +
        pg::MicrosParam(3) +
        ") "
        "ON CONFLICT (tenant_id) DO UPDATE SET model = EXCLUDED.model, fitted_at = "
        "EXCLUDED.fitted_at",
    0};

const outbox::AnswerCodec<domain::ClvModel>& ModelAnswer() {
  static const auto* codec = new outbox::AnswerCodec<domain::ClvModel>(
      outbox::SnapshotCodec<domain::ClvModel>(&EncodeClvModel, &DecodeClvModel));
  return *codec;
}

}  // namespace

class PgModelRepository::Tx final : public app::ModelTx {
 public:
  Tx(pg::Pool& pool, const outbox::WriteTx& w) : pool_(pool), w_(w) {}
  absl::StatusOr<std::vector<domain::PurchaseRecord>> LoadPurchases() override {
    return PgFactRepository::Purchases(pool_, w_.sql(), w_.tenant());
  }
  void Save(const domain::ClvModel& m) override {
    pool_.Exec(w_.sql(), kSaveClvModel, w_.tenant(), EncodeClvModel(m),
               absl::ToUnixMicros(m.fitted_at));
  }
  void EmitRefitted(const domain::ClvModel& m) override {
    w_.Emit("", "segmentation.clv_model_refitted",
            nlohmann::json{{"as_of", absl::FormatCivilTime(m.as_of)},
                           {"time_unit", m.unit == domain::TimeUnit::kDays ? "days" : "weeks"},
                           {"currency_code", m.currency_code},
                           {"customers", m.purchases.customers},
                           {"repeat_customers", m.purchases.repeat_customers}}
                .dump());
  }

 private:
  pg::Pool& pool_;
  const outbox::WriteTx& w_;
};

PgModelRepository::PgModelRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}

std::vector<pg::NamedQuery> PgModelRepository::Queries() {
  std::vector<pg::NamedQuery> q = outbox::TransactionalWriter::Queries(kSchema);
  q.push_back(kSelectClvModel);
  q.push_back(kSaveClvModel);
  for (pg::NamedQuery& f : PgFactRepository::Queries()) q.push_back(std::move(f));
  return q;
}

absl::StatusOr<domain::ClvModel> PgModelRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::ClvModel>(app::ModelTx&)> work) {
  return outbox::WriteOnce<domain::ClvModel>(
      writer_, meta, resource, ModelAnswer(),
      [&](const outbox::WriteTx& w) -> absl::StatusOr<domain::ClvModel> {
        Tx tx(pool_, w);
        return work(tx);
      });
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

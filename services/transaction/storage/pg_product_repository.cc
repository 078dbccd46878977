#include "services/transaction/storage/pg_product_repository.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"

namespace crm::transaction::storage {
namespace {

constexpr char kColumns[] =
    "sku, name, array_to_json(category_path)::text, price_minor, currency, attributes::text, "
    "active, version, (extract(epoch from created_at) * 1000000)::int8, "
    "(extract(epoch from updated_at) * 1000000)::int8, cost_minor";
std::string Ts(int n) { return pg::MicrosParam(n); }

absl::Status NotFound() { return common::NotFound("PRODUCT_NOT_FOUND", "product not found"); }

absl::StatusOr<domain::Product> FromRow(const pqxx::row& r) {
  domain::Product p;
  p.sku = r[0].as<std::string>();
  p.name = r[1].as<std::string>();
  try {
    p.category_path = nlohmann::json::parse(r[2].as<std::string>()).get<std::vector<std::string>>();
    const nlohmann::json attributes = nlohmann::json::parse(r[5].as<std::string>());
    for (auto it = attributes.begin(); it != attributes.end(); ++it) {
      p.attributes[it.key()] = it.value().get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
    return absl::DataLossError("stored product is corrupt");
  }
  p.price = {r[3].as<int64_t>(), r[4].as<std::string>()};
  p.active = r[6].as<bool>();
  p.version = r[7].as<int64_t>();
  p.create_time = absl::FromUnixMicros(r[8].as<int64_t>());
  p.update_time = absl::FromUnixMicros(r[9].as<int64_t>());
  if (!r[10].is_null()) p.cost = domain::Money{r[10].as<int64_t>(), p.price.currency_code};
  return p;
}

std::string AttributesJson(const std::map<std::string, std::string>& a) {
  return nlohmann::json(a).dump();
}

std::optional<int64_t> CostOf(const domain::Product& p) {
  if (!p.cost) return std::nullopt;
  return p.cost->amount_minor;
}

// CreateProduct's answer, stored with its idempotency key: a replay answers
// this product even after it was updated. Integers as strings (JSON numbers
// are doubles to many readers).
std::string SnapshotOf(const domain::Product& p) {
  return nlohmann::json{{"sku", p.sku},
                        {"name", p.name},
                        {"category_path", p.category_path},
                        {"price", absl::StrCat(p.price.amount_minor)},
                        {"currency", p.price.currency_code},
                        {"attributes", p.attributes},
                        {"active", p.active},
                        {"cost", p.cost ? absl::StrCat(p.cost->amount_minor) : ""},
                        {"version", absl::StrCat(p.version)},
                        {"created", absl::StrCat(absl::ToUnixMicros(p.create_time))},
                        {"updated", absl::StrCat(absl::ToUnixMicros(p.update_time))}}
      .dump();
}

absl::StatusOr<domain::Product> FromSnapshot(const std::string& s) {
  const absl::Status corrupt = absl::DataLossError("stored idempotent response is corrupt");
  try {
    const nlohmann::json j = nlohmann::json::parse(s);
    domain::Product p;
    int64_t created = 0, updated = 0;
    p.sku = j.at("sku").get<std::string>();
    p.name = j.at("name").get<std::string>();
    p.category_path = j.at("category_path").get<std::vector<std::string>>();
    p.price.currency_code = j.at("currency").get<std::string>();
    p.attributes = j.at("attributes").get<std::map<std::string, std::string>>();
    p.active = j.at("active").get<bool>();
    if (!absl::SimpleAtoi(j.at("price").get<std::string>(), &p.price.amount_minor) ||
        !absl::SimpleAtoi(j.at("version").get<std::string>(), &p.version) ||
        !absl::SimpleAtoi(j.at("created").get<std::string>(), &created) ||
        !absl::SimpleAtoi(j.at("updated").get<std::string>(), &updated)) {
      return corrupt;
    }
    p.create_time = absl::FromUnixMicros(created);
    p.update_time = absl::FromUnixMicros(updated);
    // Answers stored before products had costs carry none.
    const std::string cost = j.value("cost", std::string());
    if (!cost.empty()) {
      p.cost = domain::Money{0, p.price.currency_code};
      if (!absl::SimpleAtoi(cost, &p.cost->amount_minor)) return corrupt;
    }
    return p;
  } catch (const nlohmann::json::exception&) {
    return corrupt;
  }
}

// The catalog's queries (libs/pg/pool.h: typed, their columns checked at start-up).
const std::string kSelectProductSql =
    absl::StrCat("SELECT ", kColumns, " FROM txn.products WHERE tenant_id = $1 AND sku = $2");
const pg::NamedQuery kSelectProduct{"select_product", kSelectProductSql, 11};
const pg::NamedQuery kSelectProductForUpdate{"select_product_for_update",
                                             kSelectProductSql + " FOR UPDATE", 11};
// RETURNING 1: no row when the sku exists (ON CONFLICT DO NOTHING).
const pg::NamedQuery kInsertProduct{
    "insert_product",
    absl::StrCat("INSERT INTO txn.products (tenant_id, sku, name, category_path, category, "
                 "price_minor, currency, attributes, active, version, created_at, updated_at, "
                 "cost_minor) VALUES ($1, $2, $3, $4::text[], array_to_string($4::text[], '/'), "
                 "$5, $6, $7::jsonb, $8, $9, ",
                 Ts(10), ", ", Ts(11), ", $12) ON CONFLICT DO NOTHING RETURNING 1"),
    1};
const pg::NamedQuery kUpdateProduct{
    "update_product",
    absl::StrCat("UPDATE txn.products SET name = $3, category_path = $4::text[], category = "
                 "array_to_string($4::text[], '/'), price_minor = $5, currency = $6, "
                 "attributes = $7::jsonb, active = $8, version = $9, cost_minor = $11, "
                 "updated_at = ",
                 Ts(10), " WHERE tenant_id = $1 AND sku = $2"),
    0};
const pg::NamedQuery kListProducts{
    "list_products",
    absl::StrCat("SELECT ", kColumns,
                 " FROM txn.products WHERE tenant_id = $1 AND ($2 = '' OR category = $2 OR "
                 "category LIKE $3) AND (NOT $4 OR active) AND ($5 = '' OR lower(name) LIKE "
                 "$6) AND sku > $7 ORDER BY sku LIMIT $8"),
    11};

}  // namespace

std::vector<pg::NamedQuery> PgProductRepository::Queries() {
  std::vector<pg::NamedQuery> q = outbox::TransactionalWriter::Queries(kSchema);
  std::vector<pg::NamedQuery> own = {kSelectProduct, kSelectProductForUpdate, kInsertProduct,
                                     kUpdateProduct, kListProducts};
  q.insert(q.end(), own.begin(), own.end());
  return q;
}

absl::StatusOr<std::optional<domain::Product>> PgProductRepository::Find(pqxx::work& tx,
                                                                         const std::string& tenant,
                                                                         const std::string& sku,
                                                                         bool for_update) {
  pqxx::result r =
      pool_.Exec(tx, for_update ? kSelectProductForUpdate : kSelectProduct, tenant, sku);
  if (r.empty()) return std::optional<domain::Product>();
  CRM_ASSIGN_OR_RETURN(domain::Product p, FromRow(r[0]));
  return std::optional<domain::Product>(std::move(p));
}

// One write's transaction (app::ProductTx) over the repository's queries.
class PgProductRepository::Tx final : public app::ProductTx {
 public:
  Tx(PgProductRepository& repo, const outbox::WriteTx& w) : repo_(repo), w_(w) {}

  absl::StatusOr<std::optional<domain::Product>> FindProduct(const std::string& sku) override {
    return repo_.Find(w_.sql(), w_.tenant(), sku, true);
  }
  bool InsertProduct(const domain::Product& p) override {
    // ON CONFLICT DO NOTHING: no row when the sku exists.
    return !repo_.pool_
                .Exec(w_.sql(), kInsertProduct, w_.tenant(), p.sku, p.name,
                      pg::TextArrayLiteral(p.category_path), p.price.amount_minor,
                      p.price.currency_code, AttributesJson(p.attributes), p.active, p.version,
                      absl::ToUnixMicros(p.create_time), absl::ToUnixMicros(p.update_time),
                      CostOf(p))
                .empty();
  }
  void SaveProduct(const domain::Product& p) override {
    repo_.pool_.Exec(w_.sql(), kUpdateProduct, w_.tenant(), p.sku, p.name,
                     pg::TextArrayLiteral(p.category_path), p.price.amount_minor,
                     p.price.currency_code, AttributesJson(p.attributes), p.active, p.version,
                     absl::ToUnixMicros(p.update_time), CostOf(p));
  }
  void EmitProduct(const char* type, const domain::Product& p) override {
    w_.Emit("", type,
            nlohmann::json{{"sku", p.sku},
                           {"version", p.version},
                           {"active", p.active},
                           {"category_path", p.category_path},
                           {"price_minor", absl::StrCat(p.price.amount_minor)},
                           {"currency_code", p.price.currency_code},
                           {"cost_minor", p.cost ? absl::StrCat(p.cost->amount_minor) : ""}}
                .dump());
  }

 private:
  PgProductRepository& repo_;
  const outbox::WriteTx& w_;
};

template <typename T>
absl::StatusOr<T> PgProductRepository::RunTx(
    const outbox::WriteMeta& meta, const std::string& resource, const outbox::AnswerCodec<T>& codec,
    absl::FunctionRef<absl::StatusOr<T>(app::ProductTx&)> work) {
  return outbox::WriteOnce<T>(writer_, meta, resource, codec,
                              [&](const outbox::WriteTx& w) -> absl::StatusOr<T> {
                                Tx tx(*this, w);
                                return work(tx);
                              });
}

absl::StatusOr<domain::Product> PgProductRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Product>(app::ProductTx&)> work) {
  // CreateProduct's answer is stored with its key (UpdateProduct carries
  // none): a replay answers the product as created, even after an update.
  outbox::AnswerCodec<domain::Product> codec;
  codec.encode = SnapshotOf;
  codec.replay = [this](const outbox::WriteTx& w, const std::string& stored,
                        const std::string& sku) -> absl::StatusOr<domain::Product> {
    if (!stored.empty()) return FromSnapshot(stored);
    // Keys claimed before answers were stored (lenient CreateProduct)
    // answer the product as it is now.
    CRM_ASSIGN_OR_RETURN(std::optional<domain::Product> p, Find(w.sql(), w.tenant(), sku, false));
    if (!p) return NotFound();
    return *std::move(p);
  };
  return RunTx(meta, resource, codec, work);
}

absl::StatusOr<app::BatchResult> PgProductRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::BatchResult>(app::ProductTx&)> work) {
  // BatchUpsertProducts carries no key: nothing is stored or replayed.
  outbox::AnswerCodec<app::BatchResult> codec;
  codec.replay = [](const outbox::WriteTx&, const std::string&,
                    const std::string&) -> absl::StatusOr<app::BatchResult> {
    return absl::FailedPreconditionError("a batch upsert is not answered from a request_id");
  };
  return RunTx(meta, resource, codec, work);
}

absl::StatusOr<domain::Product> PgProductRepository::Get(const std::string& tenant,
                                                         const std::string& sku) {
  std::optional<domain::Product> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(out, Find(tx, tenant, sku, false));
    return absl::OkStatus();
  }));
  if (!out) return NotFound();
  return *std::move(out);
}

absl::StatusOr<app::ProductPage> PgProductRepository::List(const std::string& tenant,
                                                           const app::ProductQuery& q) {
  app::ProductPage page;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    page = app::ProductPage{};
    pqxx::result r = pool_.Exec(
        tx, kListProducts, tenant, q.category_prefix, pg::LikePrefix(q.category_prefix + "/"),
        q.active_only, q.name_prefix, pg::LikePrefix(q.name_prefix), q.after_sku, q.limit + 1);
    for (const auto& row : r) {
      if (static_cast<int>(page.items.size()) == q.limit) break;
      CRM_ASSIGN_OR_RETURN(domain::Product p, FromRow(row));
      page.items.push_back(std::move(p));
    }
    if (static_cast<int>(r.size()) > q.limit) page.next_cursor = page.items.back().sku;
    return absl::OkStatus();
  }));
  return page;
}

}  // namespace crm::transaction::storage

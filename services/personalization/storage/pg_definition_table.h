#pragma once
// A table of definitions written through the unit of work and kept as JSON
// per tenant and id, with a version and times (personalization.slots,
// templates): its queries, and loading, locking, saving and deleting
// definitions of type T, whatever T holds. T has the id member named at
// construction and `version`, `create_time`, `update_time`.
//
//   CREATE TABLE personalization.<table> (tenant_id uuid, <id column> text,
//     definition jsonb, version bigint, created_at, updated_at timestamptz,
//     PRIMARY KEY (tenant_id, <id column>))   -- with the scheduler_read policy
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"
#include "libs/pg/sql.h"
#include "services/personalization/app/ports.h"
#include "services/personalization/schema_name.h"

namespace crm::personalization::storage {

template <typename T>
class PgDefinitionTable {
 public:
  using ToJson = nlohmann::json (*)(const T&);           // the definition
  using FromJson = void (*)(const nlohmann::json&, T&);  // its fields into T
  PgDefinitionTable(const std::string& table, const std::string& id_column, std::string T::*id,
                    ToJson to_json, FromJson from_json)
      : id_column_(id_column), id_(id), to_json_(to_json), from_json_(from_json) {
    const std::string columns =
        absl::StrCat(id_column, ", definition::text, version, ", pg::MicrosColumn("created_at"),
                     ", ", pg::MicrosColumn("updated_at"));
    const std::string from = absl::StrCat(" FROM personalization.", table);
    const std::string one = absl::StrCat(" WHERE tenant_id = $1 AND ", id_column, " = $2");
    for_update_ = {table + "_for_update",
                   absl::StrCat("SELECT ", columns, from, one, " FOR UPDATE"), 5};
    select_ = {"select_" + table, absl::StrCat("SELECT ", columns, from, one), 5};
    count_ = {"count_" + table, absl::StrCat("SELECT count(*)", from, " WHERE tenant_id = $1"), 1};
    save_ = {"save_" + table,
             absl::StrCat("INSERT INTO personalization.", table, " (tenant_id, ", id_column,
                          ", definition, version, created_at, updated_at) VALUES ($1, $2, "
                          "$3::jsonb, $4, ",
                          pg::MicrosParam(5), ", ", pg::MicrosParam(6),
                          ") ON CONFLICT (tenant_id, ", id_column,
                          ") DO UPDATE SET definition = EXCLUDED.definition, version = "
                          "EXCLUDED.version, updated_at = EXCLUDED.updated_at"),
             0};
    delete_ = {"delete_" + table, absl::StrCat("DELETE", from, one), 0};
    scheduler_on_ = {table + "_scheduler_on", "SELECT set_config('app.scheduler', 'on', true)", 1};
    load_ = {"load_" + table, absl::StrCat("SELECT ", columns, ", tenant_id::text", from), 6};
    answer_ = outbox::SnapshotCodec<T>([this](const T& d) { return Encode(d); },
                                       [this](const std::string& s) { return Decode(s); });
  }

  PgDefinitionTable(const PgDefinitionTable&) = delete;  // its codec points at it
  PgDefinitionTable& operator=(const PgDefinitionTable&) = delete;

  std::vector<pg::NamedQuery> Queries() const {
    return {for_update_, select_, count_, save_, delete_, scheduler_on_, load_};
  }
  // How a write's answer is kept with its idempotency key: the whole definition.
  const outbox::AnswerCodec<T>& Answer() const { return answer_; }

  absl::StatusOr<std::optional<T>> LoadForUpdate(pg::Pool& pool, const outbox::WriteTx& w,
                                                 const std::string& id) const {
    pqxx::result r = pool.Exec(w.sql(), for_update_, w.tenant(), id);
    if (r.empty()) return std::optional<T>();
    CRM_ASSIGN_OR_RETURN(T d, Of(r[0]));
    return std::optional<T>(std::move(d));
  }
  std::size_t Count(pg::Pool& pool, const outbox::WriteTx& w) const {
    return pool.Exec(w.sql(), count_, w.tenant())[0][0].template as<std::size_t>();
  }
  void Save(pg::Pool& pool, const outbox::WriteTx& w, const T& d) const {
    pool.Exec(w.sql(), save_, w.tenant(), d.*id_, to_json_(d).dump(), d.version,
              absl::ToUnixMicros(d.create_time), absl::ToUnixMicros(d.update_time));
  }
  void Delete(pg::Pool& pool, const outbox::WriteTx& w, const std::string& id) const {
    pool.Exec(w.sql(), delete_, w.tenant(), id);
  }
  // Every tenant's (read across tenants, at start): (tenant, definition).
  absl::StatusOr<std::vector<std::pair<std::string, T>>> LoadAll(pg::Pool& pool) const {
    std::vector<std::pair<std::string, T>> out;
    CRM_RETURN_IF_ERROR(pool.WithTx([&](pqxx::work& tx) -> absl::Status {
      out.clear();
      pool.Exec(tx, scheduler_on_);
      for (const auto& r : pool.Exec(tx, load_)) {
        CRM_ASSIGN_OR_RETURN(T d, Of(r));
        out.emplace_back(r[5].template as<std::string>(), std::move(d));
      }
      return absl::OkStatus();
    }));
    return out;
  }
  absl::StatusOr<std::optional<T>> Current(pg::Pool& pool, const std::string& tenant,
                                           const std::string& id) const {
    std::optional<T> out;
    CRM_RETURN_IF_ERROR(pool.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
      out.reset();
      pqxx::result r = pool.Exec(tx, select_, tenant, id);
      if (r.empty()) return absl::OkStatus();
      CRM_ASSIGN_OR_RETURN(T d, Of(r[0]));
      out = std::move(d);
      return absl::OkStatus();
    }));
    return out;
  }

 private:
  absl::StatusOr<T> Of(const pqxx::row& r) const {
    return outbox::ParseJsonAnswer<T>(
        r[1].template as<std::string>(),
        [&](const nlohmann::json& j, bool&) {
          T d;
          d.*id_ = r[0].template as<std::string>();
          from_json_(j, d);
          d.version = r[2].template as<std::int64_t>();
          d.create_time = absl::FromUnixMicros(r[3].template as<std::int64_t>());
          d.update_time = absl::FromUnixMicros(r[4].template as<std::int64_t>());
          return d;
        },
        "stored definition unreadable");
  }
  std::string Encode(const T& d) const {
    return nlohmann::json{{id_column_, d.*id_},
                          {"definition", to_json_(d)},
                          {"version", d.version},
                          {"create_time_us", absl::ToUnixMicros(d.create_time)},
                          {"update_time_us", absl::ToUnixMicros(d.update_time)}}
        .dump();
  }
  absl::StatusOr<T> Decode(const std::string& text) const {
    return outbox::ParseJsonAnswer<T>(
        text,
        [&](const nlohmann::json& j, bool&) {
          T d;
          d.*id_ = j.at(id_column_).get<std::string>();
          from_json_(j.at("definition"), d);
          d.version = j.at("version").get<std::int64_t>();
          d.create_time = absl::FromUnixMicros(j.at("create_time_us").get<std::int64_t>());
          d.update_time = absl::FromUnixMicros(j.at("update_time_us").get<std::int64_t>());
          return d;
        },
        "stored answer unreadable");
  }

  std::string id_column_;  // also the id's key in a kept answer
  std::string T::*id_;
  ToJson to_json_;
  FromJson from_json_;
  pg::NamedQuery for_update_, select_, count_, save_, delete_, scheduler_on_, load_;
  outbox::AnswerCodec<T> answer_;
};

// app::DefinitionRepository<T> over one table.
template <typename T>
class PgDefinitionRepository : public app::DefinitionRepository<T> {
 public:
  PgDefinitionRepository(pg::Pool& pool, const PgDefinitionTable<T>& table)
      : pool_(pool), table_(table), writer_(pool, kSchema) {}

  absl::StatusOr<T> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<T>(app::DefinitionTx<T>&)> work) override {
    return outbox::WriteOnce<T>(writer_, meta, resource, table_.Answer(),
                                [&](const outbox::WriteTx& w) {
                                  Tx tx(pool_, table_, w);
                                  return work(tx);
                                });
  }
  absl::StatusOr<std::vector<std::pair<std::string, T>>> LoadAll() override {
    return table_.LoadAll(pool_);
  }
  absl::StatusOr<std::optional<T>> Current(const std::string& tenant,
                                           const std::string& id) override {
    return table_.Current(pool_, tenant, id);
  }

 private:
  class Tx final : public app::DefinitionTx<T> {
   public:
    Tx(pg::Pool& pool, const PgDefinitionTable<T>& table, const outbox::WriteTx& w)
        : pool_(pool), table_(table), w_(w) {}
    absl::StatusOr<std::optional<T>> Load(const std::string& id) override {
      return table_.LoadForUpdate(pool_, w_, id);
    }
    absl::StatusOr<std::size_t> Count() override { return table_.Count(pool_, w_); }
    void Save(const T& d) override { table_.Save(pool_, w_, d); }
    void Delete(const std::string& id) override { table_.Delete(pool_, w_, id); }

   private:
    pg::Pool& pool_;
    const PgDefinitionTable<T>& table_;
    const outbox::WriteTx& w_;
  };
  pg::Pool& pool_;
  const PgDefinitionTable<T>& table_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::personalization::storage

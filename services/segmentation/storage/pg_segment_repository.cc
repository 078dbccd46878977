#include "services/segmentation/storage/pg_segment_repository.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/outbox/wakeup.h"
#include "libs/pg/sql.h"
#include "services/segmentation/domain/purchases.h"
#include "services/segmentation/schema_name.h"

namespace crm::segmentation::storage {
namespace {

const std::string kSegmentColumns =
    "segment_id, display_name, description, expression, version, revision, "
    "array_to_string(refs, ','), "
    "reads_time, " +
    pg::MicrosColumn("created_at") + ", " + pg::MicrosColumn("updated_at");
const pg::NamedQuery kSelectSegment{
    "select_segment",
    "SELECT " + kSegmentColumns + " FROM segmentation.segments WHERE tenant_id = $1 "
    "AND segment_id = $2", 10};
const pg::NamedQuery kSelectSegmentForUpdate{
    "select_segment_for_update",
    "SELECT " + kSegmentColumns + " FROM segmentation.segments WHERE tenant_id = $1 "
    "AND segment_id = $2 FOR UPDATE", 10};
const pg::NamedQuery kSelectSegmentsForUpdate{
    "select_segments_for_update",
    "SELECT " + kSegmentColumns + " FROM segmentation.segments WHERE tenant_id = $1 "
    "ORDER BY segment_id FOR UPDATE", 10};
const pg::NamedQuery kListSegments{
    "list_segments",
    "SELECT " + kSegmentColumns + " FROM segmentation.segments WHERE tenant_id = $1 "
    "AND segment_id > $2 ORDER BY segment_id LIMIT $3", 10};
const pg::NamedQuery kSaveSegment{
    "save_segment",
    "INSERT INTO segmentation.segments (tenant_id, segment_id, display_name, description, "
    "expression, version, revision, refs, reads_time, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, " + pg::MicrosParam(10) + ", " +
        pg::MicrosParam(11) +
        ") ON CONFLICT (tenant_id, segment_id) DO UPDATE SET display_name = EXCLUDED.display_name, "
        "description = EXCLUDED.description, expression = EXCLUDED.expression, "
        "version = EXCLUDED.version, revision = EXCLUDED.revision, refs = EXCLUDED.refs, "
        "reads_time = EXCLUDED.reads_time, updated_at = EXCLUDED.updated_at",
    0};
const pg::NamedQuery kDeleteSegment{
    "delete_segment",
    "WITH m AS (DELETE FROM segmentation.memberships WHERE tenant_id = $1 AND segment_id = $2) "
    "DELETE FROM segmentation.segments WHERE tenant_id = $1 AND segment_id = $2",
    0};
// Rows that really change, returned so that only they publish an event.
const pg::NamedQuery kEnterSegments{
    "enter_segments",
    "INSERT INTO segmentation.memberships (tenant_id, segment_id, customer_id, segment_version, "
    "entered_at) SELECT $1, u.s, u.c, u.v, " + pg::MicrosParam(5) +
        " FROM unnest($2::text[], $3::uuid[], $4::bigint[]) AS u(s, c, v) "
        "ON CONFLICT DO NOTHING RETURNING segment_id, customer_id::text, segment_version",
    3};
const pg::NamedQuery kExitSegments{
    "exit_segments",
    "DELETE FROM segmentation.memberships m USING unnest($2::text[], $3::uuid[]) AS u(s, c) "
    "WHERE m.tenant_id = $1 AND m.segment_id = u.s AND m.customer_id = u.c "
    "RETURNING m.segment_id, m.customer_id::text, m.segment_version",
    3};
const pg::NamedQuery kMembersFirst{
    "select_members_first",
    "SELECT customer_id::text, " + pg::MicrosColumn("entered_at") +
        ", segment_version FROM segmentation.memberships WHERE tenant_id = $1 "
        "AND segment_id = $2 ORDER BY customer_id LIMIT $3",
    3};
const pg::NamedQuery kMembersAfter{
    "select_members_after",
    "SELECT customer_id::text, " + pg::MicrosColumn("entered_at") +
        ", segment_version FROM segmentation.memberships WHERE tenant_id = $1 "
        "AND segment_id = $2 AND customer_id > $4::uuid ORDER BY customer_id LIMIT $3",
    3};
const pg::NamedQuery kSegmentsOfCustomer{
    "select_segments_of_customer",
    "SELECT m.segment_id, s.display_name, " + pg::MicrosColumn("m.entered_at") +
        " FROM segmentation.memberships m JOIN segmentation.segments s "
        "ON s.tenant_id = m.tenant_id AND s.segment_id = m.segment_id "
        "WHERE m.tenant_id = $1 AND m.customer_id = $2::uuid ORDER BY m.segment_id",
    3};
const pg::NamedQuery kCountMembers{
    "count_segment_members",
    "SELECT segment_id, count(*) FROM segmentation.memberships WHERE tenant_id = $1 "
    "AND segment_id = ANY($2::text[]) GROUP BY segment_id",
    2};
const pg::NamedQuery kAllMemberships{
    "select_all_memberships",
    "SELECT segment_id, customer_id::text FROM segmentation.memberships WHERE tenant_id = $1", 2};
// Known customers (created, not erased, not merged into another) and the
// customers of purchases (survivors already), each with its orders.
const std::string kLiveCustomers =
    "live AS (SELECT t.id FROM targets t WHERE (EXISTS (SELECT 1 FROM segmentation.customers c "
    "WHERE c.tenant_id = $1 AND c.customer_id = t.id) OR EXISTS (SELECT 1 FROM "
    "segmentation.purchases p WHERE p.tenant_id = $1 AND p.customer_id = t.id)) AND NOT EXISTS "
    "(SELECT 1 FROM segmentation.merges m WHERE m.tenant_id = $1 AND m.source_id = t.id)) "
    "SELECT l.id::text, " +
    pg::MicrosColumn("p.placed_at") +
    ", p.currency_code, p.net_minor, p.status, array_to_json(p.skus)::text FROM live l "
    "LEFT JOIN segmentation.purchases p "
    "ON p.tenant_id = $1 AND p.customer_id = l.id ORDER BY l.id";
const pg::NamedQuery kAllCustomers{
    "select_live_customers",
    "WITH targets AS (SELECT customer_id AS id FROM segmentation.customers WHERE tenant_id = $1 "
    "UNION SELECT customer_id FROM segmentation.purchases WHERE tenant_id = $1), " +
        kLiveCustomers,
    6};
const pg::NamedQuery kSomeCustomers{
    "select_some_live_customers",
    "WITH ids AS (SELECT unnest($2::uuid[]) AS id), targets AS (SELECT id FROM ids UNION "
    "SELECT m.survivor_id FROM segmentation.merges m JOIN ids ON m.tenant_id = $1 "
    "AND m.source_id = ids.id), " +
        kLiveCustomers,
    6};
const pg::NamedQuery kSchedulerOn{"segments_scheduler_on",
                                  "SELECT set_config('app.scheduler', 'on', true)", 1};
const pg::NamedQuery kTenantsWithSegments{
    "select_tenants_with_segments",
    "SELECT DISTINCT tenant_id::text FROM segmentation.segments ORDER BY 1", 1};

const std::string kSettingsColumns = "profiling_requires_opt_in, version, " +
                                     pg::MicrosColumn("updated_at") +
                                     ", time_zone, behaviour_retention_days";
const pg::NamedQuery kSelectSettings{
    "select_segmentation_settings",
    "SELECT " + kSettingsColumns + " FROM segmentation.settings WHERE tenant_id = $1", 5};
const pg::NamedQuery kSelectSettingsForUpdate{
    "select_segmentation_settings_for_update",
    "SELECT " + kSettingsColumns + " FROM segmentation.settings WHERE tenant_id = $1 FOR UPDATE",
    5};
const pg::NamedQuery kSaveSettings{
    "save_segmentation_settings",
    "INSERT INTO segmentation.settings (tenant_id, profiling_requires_opt_in, version, "
    "updated_at, time_zone) VALUES ($1, $2, $3, " +
        pg::MicrosParam(4) +
        ", $5) ON CONFLICT (tenant_id) DO UPDATE SET profiling_requires_opt_in = "
        "EXCLUDED.profiling_requires_opt_in, version = EXCLUDED.version, "
        "updated_at = EXCLUDED.updated_at, time_zone = EXCLUDED.time_zone",
    0};

// The defaults when the tenant has no row.
domain::SegmentationSettings SettingsOf(const pqxx::result& r) {
  domain::SegmentationSettings s;
  if (r.empty()) return s;
  s.profiling_requires_opt_in = r[0][0].as<bool>();
  s.version = r[0][1].as<int64_t>();
  s.update_time = absl::FromUnixMicros(r[0][2].as<int64_t>());
  s.time_zone = r[0][3].as<std::string>();
  s.behaviour_retention_days = r[0][4].as<int64_t>();
  return s;
}

nlohmann::json SettingsJson(const domain::SegmentationSettings& s) {
  return {{"profiling_requires_opt_in", s.profiling_requires_opt_in},
          {"time_zone", s.time_zone},
          {"version", s.version}};
}

std::string EncodeSettings(const domain::SegmentationSettings& s) {
  nlohmann::json j = SettingsJson(s);
  j["behaviour_retention_days"] = s.behaviour_retention_days;
  j["update_time_us"] = absl::ToUnixMicros(s.update_time);
  return j.dump();
}

absl::StatusOr<domain::SegmentationSettings> DecodeSettings(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return absl::InternalError("stored settings unreadable");
  try {
    domain::SegmentationSettings s;
    s.profiling_requires_opt_in = j.at("profiling_requires_opt_in").get<bool>();
    s.time_zone = j.at("time_zone").get<std::string>();
    s.version = j.at("version").get<int64_t>();
    s.update_time = absl::FromUnixMicros(j.at("update_time_us").get<int64_t>());
    s.behaviour_retention_days = j.value("behaviour_retention_days", int64_t{0});
    return s;
  } catch (const nlohmann::json::exception&) {
    return absl::InternalError("stored settings unreadable");
  }
}

const outbox::AnswerCodec<domain::SegmentationSettings>& SettingsAnswer() {
  static const auto* codec = new outbox::AnswerCodec<domain::SegmentationSettings>(
      outbox::SnapshotCodec<domain::SegmentationSettings>(&EncodeSettings, &DecodeSettings));
  return *codec;
}

domain::SegmentDefinition SegmentOf(const pqxx::row& r) {
  domain::SegmentDefinition d;
  d.id = r[0].as<std::string>();
  d.display_name = r[1].as<std::string>();
  d.description = r[2].as<std::string>();
  d.expression = r[3].as<std::string>();
  d.version = r[4].as<int64_t>();
  d.revision = r[5].as<int64_t>();
  // Segment ids hold no comma.
  for (absl::string_view s : absl::StrSplit(r[6].as<std::string>(), ',', absl::SkipEmpty())) {
    d.references.emplace(s);
  }
  d.reads_time = r[7].as<bool>();
  d.create_time = absl::FromUnixMicros(r[8].as<int64_t>());
  d.update_time = absl::FromUnixMicros(r[9].as<int64_t>());
  return d;
}

std::vector<domain::SegmentDefinition> DefinitionsOf(const pqxx::result& r) {
  std::vector<domain::SegmentDefinition> out;
  for (const pqxx::row& row : r) out.push_back(SegmentOf(row));
  return out;
}

nlohmann::json JsonOf(const domain::SegmentDefinition& d) {
  return {{"segment_id", d.id},
          {"display_name", d.display_name},
          {"description", d.description},
          {"expression", d.expression},
          {"version", d.version},
          {"revision", d.revision},
          {"references", d.references},
          {"reads_time", d.reads_time},
          {"create_time_us", absl::ToUnixMicros(d.create_time)},
          {"update_time_us", absl::ToUnixMicros(d.update_time)}};
}

std::string EncodeSegment(const domain::SegmentDefinition& d) { return JsonOf(d).dump(); }

absl::StatusOr<domain::SegmentDefinition> DecodeSegment(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return absl::InternalError("stored segment unreadable");
  try {
    domain::SegmentDefinition d;
    d.id = j.at("segment_id").get<std::string>();
    d.display_name = j.at("display_name").get<std::string>();
    d.description = j.at("description").get<std::string>();
    d.expression = j.at("expression").get<std::string>();
    d.version = j.at("version").get<int64_t>();
    d.revision = j.at("revision").get<int64_t>();
    d.references = j.at("references").get<std::set<std::string>>();
    d.reads_time = j.at("reads_time").get<bool>();
    d.create_time = absl::FromUnixMicros(j.at("create_time_us").get<int64_t>());
    d.update_time = absl::FromUnixMicros(j.at("update_time_us").get<int64_t>());
    return d;
  } catch (const nlohmann::json::exception&) {
    return absl::InternalError("stored segment unreadable");
  }
}

const outbox::AnswerCodec<domain::SegmentDefinition>& SegmentAnswer() {
  static const auto* codec = new outbox::AnswerCodec<domain::SegmentDefinition>(
      outbox::SnapshotCodec<domain::SegmentDefinition>(&EncodeSegment, &DecodeSegment));
  return *codec;
}

void SaveSegment(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                 const domain::SegmentDefinition& d) {
  pool.Exec(tx, kSaveSegment, tenant, d.id, d.display_name, d.description, d.expression, d.version,
            d.revision,
            pg::TextArrayLiteral(std::vector<std::string>(d.references.begin(), d.references.end())),
            d.reads_time, absl::ToUnixMicros(d.create_time), absl::ToUnixMicros(d.update_time));
}

// Inserts / deletes the rows and publishes one event per row that changed.
void ApplyMembershipRows(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                         const std::vector<domain::MembershipChange>& changes, absl::Time at,
                         const std::function<void(const std::string& customer,
                                                  const std::string& type,
                                                  const std::string& payload)>& emit) {
  std::vector<std::string> in_s, in_c, in_v, out_s, out_c;
  for (const domain::MembershipChange& c : changes) {
    if (c.entered) {
      in_s.push_back(c.segment_id);
      in_c.push_back(c.customer_id);
      in_v.push_back(std::to_string(c.segment_version));
    } else {
      out_s.push_back(c.segment_id);
      out_c.push_back(c.customer_id);
    }
  }
  const int64_t at_us = absl::ToUnixMicros(at);
  auto publish = [&](const pqxx::result& rows, const char* type) {
    for (const pqxx::row& r : rows) {
      const std::string customer = r[1].as<std::string>();
      emit(customer, type,
           nlohmann::json{{"segment_id", r[0].as<std::string>()},
                          {"segment_version", r[2].as<int64_t>()},
                          {"customer_id", customer},
                          {"at_us", std::to_string(at_us)}}
               .dump());
    }
  };
  if (!in_s.empty()) {
    publish(pool.Exec(tx, kEnterSegments, tenant, pg::TextArrayLiteral(in_s),
                      pg::TextArrayLiteral(in_c), pg::TextArrayLiteral(in_v), at_us),
            "segment.entered");
  }
  if (!out_s.empty()) {
    publish(pool.Exec(tx, kExitSegments, tenant, pg::TextArrayLiteral(out_s),
                      pg::TextArrayLiteral(out_c)),
            "segment.exited");
  }
}

}  // namespace

class PgSegmentRepository::Tx final : public app::SegmentTx {
 public:
  Tx(pg::Pool& pool, const outbox::WriteTx& w) : pool_(pool), w_(w) {}
  absl::StatusOr<std::optional<domain::SegmentDefinition>> Load(const std::string& id) override {
    pqxx::result r = pool_.Exec(w_.sql(), kSelectSegmentForUpdate, w_.tenant(), id);
    if (r.empty()) return std::nullopt;
    return SegmentOf(r[0]);
  }
  absl::StatusOr<std::vector<domain::SegmentDefinition>> LoadAll() override {
    return DefinitionsOf(pool_.Exec(w_.sql(), kSelectSegmentsForUpdate, w_.tenant()));
  }
  void Save(const domain::SegmentDefinition& s) override {
    SaveSegment(pool_, w_.sql(), w_.tenant(), s);
  }
  void Delete(const std::string& id) override {
    pool_.Exec(w_.sql(), kDeleteSegment, w_.tenant(), id);
  }
  absl::Status ApplyMemberships(const std::vector<domain::MembershipChange>& changes,
                                absl::Time at) override {
    ApplyMembershipRows(pool_, w_.sql(), w_.tenant(), changes, at,
                        [&](const std::string& customer, const std::string& type,
                            const std::string& payload) { w_.Emit(customer, type, payload); });
    return absl::OkStatus();
  }
  void Emit(const std::string& type, const domain::SegmentDefinition& s) override {
    nlohmann::json j = JsonOf(s);
    j.erase("create_time_us");
    j.erase("update_time_us");
    j.erase("revision");
    w_.Emit("", type, j.dump());
  }
  absl::StatusOr<domain::SegmentationSettings> LoadSettings() override {
    return SettingsOf(pool_.Exec(w_.sql(), kSelectSettingsForUpdate, w_.tenant()));
  }
  void SaveSettings(const domain::SegmentationSettings& s) override {
    pool_.Exec(w_.sql(), kSaveSettings, w_.tenant(), s.profiling_requires_opt_in, s.version,
               absl::ToUnixMicros(s.update_time), s.time_zone);
  }
  void EmitSettings(const domain::SegmentationSettings& s) override {
    w_.Emit("", "segmentation.settings_updated", SettingsJson(s).dump());
  }

 private:
  pg::Pool& pool_;
  const outbox::WriteTx& w_;
};

PgSegmentRepository::PgSegmentRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}

std::vector<pg::NamedQuery> PgSegmentRepository::Queries() {
  return {kSelectSegment,       kSelectSegmentForUpdate, kSelectSegmentsForUpdate, kListSegments,
          kSaveSegment,         kDeleteSegment,          kEnterSegments,           kExitSegments,
          kMembersFirst,        kMembersAfter,           kSegmentsOfCustomer,      kAllMemberships,
          kCountMembers,        kAllCustomers,           kSomeCustomers,           kSchedulerOn,
          kTenantsWithSegments, kSelectSettings,         kSelectSettingsForUpdate, kSaveSettings};
}

absl::StatusOr<domain::SegmentDefinition> PgSegmentRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::SegmentDefinition>(app::SegmentTx&)> work) {
  return outbox::WriteOnce<domain::SegmentDefinition>(
      writer_, meta, resource, SegmentAnswer(),
      [&](const outbox::WriteTx& w) -> absl::StatusOr<domain::SegmentDefinition> {
        Tx tx(pool_, w);
        return work(tx);
      });
}

absl::StatusOr<domain::SegmentationSettings> PgSegmentRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::SegmentationSettings>(app::SegmentTx&)> work) {
  return outbox::WriteOnce<domain::SegmentationSettings>(
      writer_, meta, resource, SettingsAnswer(),
      [&](const outbox::WriteTx& w) -> absl::StatusOr<domain::SegmentationSettings> {
        Tx tx(pool_, w);
        return work(tx);
      });
}

absl::StatusOr<domain::SegmentationSettings> PgSegmentRepository::Settings(
    const std::string& tenant) {
  pqxx::result r;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    r = pool_.Exec(tx, kSelectSettings, tenant);
    return absl::OkStatus();
  }));
  return SettingsOf(r);
}

absl::StatusOr<std::optional<domain::SegmentDefinition>> PgSegmentRepository::Get(
    const std::string& tenant, const std::string& id) {
  std::optional<domain::SegmentDefinition> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSelectSegment, tenant, id);
    if (!r.empty()) out = SegmentOf(r[0]);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<domain::SegmentDefinition>> PgSegmentRepository::List(
    const std::string& tenant, const std::string& after, int limit) {
  std::vector<domain::SegmentDefinition> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = DefinitionsOf(pool_.Exec(tx, kListSegments, tenant, after, limit));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<app::SegmentMember>> PgSegmentRepository::Members(
    const std::string& tenant, const std::string& segment_id, const std::string& after,
    int limit) {
  std::vector<app::SegmentMember> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = after.empty()
                         ? pool_.Exec(tx, kMembersFirst, tenant, segment_id, limit)
                         : pool_.Exec(tx, kMembersAfter, tenant, segment_id, limit, after);
    for (const pqxx::row& row : r) {
      out.push_back({row[0].as<std::string>(), absl::FromUnixMicros(row[1].as<int64_t>()),
                     row[2].as<int64_t>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<app::CustomerSegment>> PgSegmentRepository::SegmentsOf(
    const std::string& tenant, const std::string& customer_id) {
  std::vector<app::CustomerSegment> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    for (const pqxx::row& row : pool_.Exec(tx, kSegmentsOfCustomer, tenant, customer_id)) {
      out.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                     absl::FromUnixMicros(row[2].as<int64_t>())});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
PgSegmentRepository::AllMemberships(const std::string& tenant) {
  std::vector<std::pair<std::string, std::string>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    for (const pqxx::row& row : pool_.Exec(tx, kAllMemberships, tenant)) {
      out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::map<std::string, uint64_t>> PgSegmentRepository::CountMembers(
    const std::string& tenant, const std::vector<std::string>& segment_ids) {
  std::map<std::string, uint64_t> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const std::string& id : segment_ids) out[id] = 0;
    for (const pqxx::row& row :
         pool_.Exec(tx, kCountMembers, tenant, pg::TextArrayLiteral(segment_ids))) {
      out[row[0].as<std::string>()] = row[1].as<uint64_t>();
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<domain::LiveCustomer>> PgSegmentRepository::Customers(
    const std::string& tenant, const std::optional<std::vector<std::string>>& ids) {
  std::vector<domain::LiveCustomer> out;
  std::vector<std::string> uuids;
  if (ids) {
    for (const std::string& id : *ids) {
      if (common::IsUuid(id)) uuids.push_back(id);
    }
    if (uuids.empty()) return out;
  }
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = ids ? pool_.Exec(tx, kSomeCustomers, tenant, pg::TextArrayLiteral(uuids))
                         : pool_.Exec(tx, kAllCustomers, tenant);
    out.clear();
    for (const pqxx::row& row : r) {
      std::string id = row[0].as<std::string>();
      if (out.empty() || out.back().customer_id != id) {
        out.emplace_back();
        out.back().customer_id = std::move(id);
      }
      if (row[1].is_null() || !domain::CountsAsPurchase(row[4].as<std::string>())) continue;
      std::vector<std::string> skus;
      try {
        skus = nlohmann::json::parse(row[5].as<std::string>()).get<std::vector<std::string>>();
      } catch (const nlohmann::json::exception&) {
        return absl::DataLossError("stored purchase with unreadable skus");
      }
      out.back().purchases.push_back({absl::FromUnixMicros(row[1].as<int64_t>()),
                                      row[3].as<int64_t>(), row[2].as<std::string>(),
                                      std::move(skus)});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<std::string>> PgSegmentRepository::TenantsWithSegments() {
  std::vector<std::string> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    pool_.Exec(tx, kSchedulerOn);
    for (const pqxx::row& r : pool_.Exec(tx, kTenantsWithSegments)) {
      out.push_back(r[0].as<std::string>());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgSegmentRepository::ApplyMemberships(
    const std::string& tenant, const std::vector<domain::MembershipChange>& changes,
    absl::Time at) {
  if (changes.empty()) return absl::OkStatus();
  const outbox::WriteMeta meta{tenant, "segmentation", "", "ReevaluateSegments", "", ""};
  absl::Status s = pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    ApplyMembershipRows(pool_, tx, tenant, changes, at,
                        [&](const std::string& customer, const std::string& type,
                            const std::string& payload) {
                          writer_.Emit(tx, meta, customer, type, payload);
                        });
    return absl::OkStatus();
  });
  // Committed: the relay publishes the events now, not at its next idle poll.
  if (s.ok()) outbox::WakeupFor(kSchema).Notify();
  return s;
}

}  // namespace crm::segmentation::storage

#include "services/transaction/storage/pg_pipeline_repository.h"

#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/events/consumer.h"
#include "libs/pg/sql.h"

namespace crm::transaction::storage {
namespace {

using domain::Lead;
using domain::Opportunity;
using domain::OpportunityStage;
using Json = nlohmann::json;

const std::string& LeadColumns() {
  static const std::string cols = absl::StrCat(
      "id::text, given_name, family_name, company_name, email, phone, source, status, owner, "
      "score, coalesce(customer_id::text, ''), coalesce(opportunity_id::text, ''), ",
      pg::MicrosColumn("converted_at"), ", version, ", pg::MicrosColumn("created_at"), ", ",
      pg::MicrosColumn("updated_at"));
  return cols;
}

const std::string& OpportunityColumns() {
  static const std::string cols = absl::StrCat(
      "id::text, name, coalesce(customer_id::text, ''), coalesce(lead_id::text, ''), "
      "amount_minor, currency, to_char(expected_close_date, 'YYYY-MM-DD'), owner, stage, "
      "coalesce(order_id::text, ''), close_reason, ",
      pg::MicrosColumn("closed_at"), ", version, ", pg::MicrosColumn("created_at"), ", ",
      pg::MicrosColumn("updated_at"));
  return cols;
}

absl::Status LeadNotFound() { return common::NotFound("LEAD_NOT_FOUND", "lead not found"); }
absl::Status OpportunityNotFound() {
  return common::NotFound("OPPORTUNITY_NOT_FOUND", "opportunity not found");
}
constexpr char kCorrupt[] = "stored pipeline data is corrupt";
absl::Status Corrupt() { return absl::DataLossError(kCorrupt); }

absl::Time TimeOrPast(const pqxx::field& f) {
  return f.is_null() ? absl::InfinitePast() : absl::FromUnixMicros(f.as<int64_t>());
}
int64_t MicrosOrZero(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixMicros(t);
}
absl::Time TimeOfMicros(int64_t us) {
  return us == 0 ? absl::InfinitePast() : absl::FromUnixMicros(us);
}

Lead LeadFromRow(const pqxx::row& r) {
  Lead l;
  l.id = r[0].as<std::string>();
  l.given_name = r[1].as<std::string>();
  l.family_name = r[2].as<std::string>();
  l.company_name = r[3].as<std::string>();
  l.email = r[4].as<std::string>();
  l.phone = r[5].as<std::string>();
  l.source = r[6].as<std::string>();
  l.status = static_cast<domain::LeadStatus>(r[7].as<int>());
  l.owner = r[8].as<std::string>();
  l.score = r[9].as<int>();
  l.customer_id = r[10].as<std::string>();
  l.opportunity_id = r[11].as<std::string>();
  l.convert_time = TimeOrPast(r[12]);
  l.version = r[13].as<int64_t>();
  l.create_time = absl::FromUnixMicros(r[14].as<int64_t>());
  l.update_time = absl::FromUnixMicros(r[15].as<int64_t>());
  return l;
}

absl::StatusOr<Opportunity> OpportunityFromRow(const pqxx::row& r) {
  Opportunity o;
  o.id = r[0].as<std::string>();
  o.name = r[1].as<std::string>();
  o.customer_id = r[2].as<std::string>();
  o.lead_id = r[3].as<std::string>();
  o.amount_minor = r[4].as<int64_t>();
  o.currency_code = r[5].as<std::string>();
  if (!absl::ParseCivilTime(r[6].as<std::string>(), &o.expected_close_date)) return Corrupt();
  o.owner = r[7].as<std::string>();
  o.stage = static_cast<OpportunityStage>(r[8].as<int>());
  o.order_id = r[9].as<std::string>();
  o.close_reason = r[10].as<std::string>();
  o.close_time = TimeOrPast(r[11]);
  o.version = r[12].as<int64_t>();
  o.create_time = absl::FromUnixMicros(r[13].as<int64_t>());
  o.update_time = absl::FromUnixMicros(r[14].as<int64_t>());
  return o;
}

// ---- snapshots: the answers stored with idempotency keys (int64 as strings)

Json LeadJson(const Lead& l) {
  return Json{{"id", l.id},
              {"given_name", l.given_name},
              {"family_name", l.family_name},
              {"company_name", l.company_name},
              {"email", l.email},
              {"phone", l.phone},
              {"source", l.source},
              {"status", static_cast<int>(l.status)},
              {"owner", l.owner},
              {"score", l.score},
              {"customer_id", l.customer_id},
              {"opportunity_id", l.opportunity_id},
              {"converted", absl::StrCat(MicrosOrZero(l.convert_time))},
              {"version", absl::StrCat(l.version)},
              {"created", absl::StrCat(absl::ToUnixMicros(l.create_time))},
              {"updated", absl::StrCat(absl::ToUnixMicros(l.update_time))}};
}

Json OpportunityJson(const Opportunity& o) {
  return Json{{"id", o.id},
              {"name", o.name},
              {"customer_id", o.customer_id},
              {"lead_id", o.lead_id},
              {"amount", absl::StrCat(o.amount_minor)},
              {"currency", o.currency_code},
              {"close_date", domain::FormatDate(o.expected_close_date)},
              {"owner", o.owner},
              {"stage", static_cast<int>(o.stage)},
              {"order_id", o.order_id},
              {"close_reason", o.close_reason},
              {"closed", absl::StrCat(MicrosOrZero(o.close_time))},
              {"version", absl::StrCat(o.version)},
              {"created", absl::StrCat(absl::ToUnixMicros(o.create_time))},
              {"updated", absl::StrCat(absl::ToUnixMicros(o.update_time))}};
}

int64_t I64(const Json& j, const char* k, bool& ok) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(j.at(k).get<std::string>(), &v)) ok = false;
  return v;
}

Lead LeadFromJson(const Json& j, bool& ok) {
  Lead l;
  l.id = j.at("id").get<std::string>();
  l.given_name = j.at("given_name").get<std::string>();
  l.family_name = j.at("family_name").get<std::string>();
  l.company_name = j.at("company_name").get<std::string>();
  l.email = j.at("email").get<std::string>();
  l.phone = j.at("phone").get<std::string>();
  l.source = j.at("source").get<std::string>();
  l.status = static_cast<domain::LeadStatus>(j.at("status").get<int>());
  l.owner = j.at("owner").get<std::string>();
  l.score = j.at("score").get<int>();
  l.customer_id = j.at("customer_id").get<std::string>();
  l.opportunity_id = j.at("opportunity_id").get<std::string>();
  l.convert_time = TimeOfMicros(I64(j, "converted", ok));
  l.version = I64(j, "version", ok);
  l.create_time = absl::FromUnixMicros(I64(j, "created", ok));
  l.update_time = absl::FromUnixMicros(I64(j, "updated", ok));
  return l;
}

Opportunity OpportunityFromJson(const Json& j, bool& ok) {
  Opportunity o;
  o.id = j.at("id").get<std::string>();
  o.name = j.at("name").get<std::string>();
  o.customer_id = j.at("customer_id").get<std::string>();
  o.lead_id = j.at("lead_id").get<std::string>();
  o.amount_minor = I64(j, "amount", ok);
  o.currency_code = j.at("currency").get<std::string>();
  if (!absl::ParseCivilTime(j.at("close_date").get<std::string>(), &o.expected_close_date)) {
    ok = false;
  }
  o.owner = j.at("owner").get<std::string>();
  o.stage = static_cast<OpportunityStage>(j.at("stage").get<int>());
  o.order_id = j.at("order_id").get<std::string>();
  o.close_reason = j.at("close_reason").get<std::string>();
  o.close_time = TimeOfMicros(I64(j, "closed", ok));
  o.version = I64(j, "version", ok);
  o.create_time = absl::FromUnixMicros(I64(j, "created", ok));
  o.update_time = absl::FromUnixMicros(I64(j, "updated", ok));
  return o;
}

// fn(json, ok) -> T, with JSON and number errors as DATA_LOSS.
template <typename T, typename Fn>
absl::StatusOr<T> FromSnapshot(const std::string& s, Fn fn) {
  return outbox::ParseJsonAnswer<T>(s, fn, kCorrupt);
}

Json ProbabilitiesJson(const domain::StageProbabilities& p) {
  Json j = Json::object();
  for (int s = 1; s <= domain::kStageCount; ++s) {
    j[domain::StageName(static_cast<OpportunityStage>(s))] = p.percent[static_cast<size_t>(s)];
  }
  return j;
}

// "<created micros>|<id>"; defaults to after every row.
absl::Status ParseCursor(const std::string& cursor, int64_t& micros, std::string& id) {
  micros = std::numeric_limits<int64_t>::max() / 2;
  id = "ffffffff-ffff-ffff-ffff-ffffffffffff";
  if (cursor.empty()) return absl::OkStatus();
  std::vector<std::string> parts = absl::StrSplit(cursor, '|');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &micros) || !common::IsUuid(parts[1])) {
    return common::WithReason(absl::InvalidArgumentError("page_token is invalid"),
                              "INVALID_PAGE_TOKEN");
  }
  id = parts[1];
  return absl::OkStatus();
}

const std::string& SubjectOf(const std::string& customer_id, const std::string& own_id) {
  return customer_id.empty() ? own_id : customer_id;
}

// How each write's answer is kept with its idempotency key (libs/outbox/unit_of_work.h).
const outbox::AnswerCodec<Lead> kLeadAnswer = outbox::SnapshotCodec<Lead>(
    [](const Lead& v) { return LeadJson(v).dump(); },
    [](const std::string& stored) { return FromSnapshot<Lead>(stored, LeadFromJson); });

const outbox::AnswerCodec<Opportunity> kOpportunityAnswer = outbox::SnapshotCodec<Opportunity>(
    [](const Opportunity& v) { return OpportunityJson(v).dump(); },
    [](const std::string& stored) {
      return FromSnapshot<Opportunity>(stored, OpportunityFromJson);
    });

const outbox::AnswerCodec<domain::StageProbabilities> kStageProbabilitiesAnswer =
    outbox::SnapshotCodec<domain::StageProbabilities>(
        [](const domain::StageProbabilities& p) { return ProbabilitiesJson(p).dump(); },
        [](const std::string& stored) {
          return FromSnapshot<domain::StageProbabilities>(stored, [](const Json& j, bool&) {
            domain::StageProbabilities p;
            for (int s = 1; s <= domain::kStageCount; ++s) {
              p.percent[static_cast<size_t>(s)] =
                  j.at(domain::StageName(static_cast<OpportunityStage>(s))).get<int>();
            }
            return p;
          });
        });

const outbox::AnswerCodec<app::Conversion> kConversionAnswer =
    outbox::SnapshotCodec<app::Conversion>(
        [](const app::Conversion& c) {
          return Json{{"lead", LeadJson(c.lead)},
                      {"opportunity", OpportunityJson(c.opportunity)},
                      {"customer_created", c.customer_created}}
              .dump();
        },
        [](const std::string& stored) {
          return FromSnapshot<app::Conversion>(stored, [](const Json& j, bool& ok) {
            app::Conversion c;
            c.lead = LeadFromJson(j.at("lead"), ok);
            c.opportunity = OpportunityFromJson(j.at("opportunity"), ok);
            c.customer_created = j.at("customer_created").get<bool>();
            return c;
          });
        });

// ------------------------------------------------------------ queries
// libs/pg/pool.h: typed, their columns checked at start-up.
constexpr char kListTail[] = " ORDER BY created_at DESC, id DESC LIMIT ";

// ------------------------------------------------------------ leads
const std::string kSelectLeadSql =
    absl::StrCat("SELECT ", LeadColumns(), " FROM txn.leads WHERE tenant_id = $1 AND id = $2");
const pg::NamedQuery kSelectLead{"select_lead", kSelectLeadSql, 16};
const pg::NamedQuery kSelectLeadForUpdate{"select_lead_for_update", kSelectLeadSql + " FOR UPDATE",
                                          16};
const pg::NamedQuery kInsertLead{
    "insert_lead",
    absl::StrCat("INSERT INTO txn.leads (tenant_id, id, given_name, family_name, company_name, "
                 "email, phone, source, status, owner, score, version, created_at, updated_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, ",
                 pg::MicrosParam(13), ", ", pg::MicrosParam(13), ")"),
    0};
// Every field a write may change (SaveLead of a loaded lead).
const pg::NamedQuery kSaveLead{
    "save_lead",
    absl::StrCat("UPDATE txn.leads SET given_name = $3, family_name = $4, company_name = $5, "
                 "email = $6, phone = $7, source = $8, status = $9, owner = $10, score = $11, "
                 "customer_id = nullif($12, '')::uuid, opportunity_id = nullif($13, '')::uuid, "
                 "converted_at = CASE WHEN $14::int8 <> 0 THEN ",
                 pg::MicrosParam(14), " END, version = $15, updated_at = ", pg::MicrosParam(16),
                 " WHERE tenant_id = $1 AND id = $2"),
    0};
// ------------------------------------------------------------ erasure
const pg::NamedQuery kSelectLeadsOfCustomersForUpdate{
    "select_leads_of_customers_for_update",
    absl::StrCat("SELECT ", LeadColumns(),
                 " FROM txn.leads WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[]) "
                 "ORDER BY id FOR UPDATE"),
    16};
const pg::NamedQuery kSelectOpportunitiesOfCustomersForUpdate{
    "select_opportunities_of_customers_for_update",
    absl::StrCat("SELECT ", OpportunityColumns(),
                 " FROM txn.opportunities WHERE tenant_id = $1 AND customer_id = "
                 "ANY($2::uuid[]) ORDER BY id FOR UPDATE"),
    15};
const pg::NamedQuery kEraseLead{
    "erase_lead",
    absl::StrCat("UPDATE txn.leads SET given_name = $3, family_name = $4, email = $5, "
                 "phone = $6, version = $7, updated_at = ",
                 pg::MicrosParam(8), " WHERE tenant_id = $1 AND id = $2"),
    0};
const pg::NamedQuery kEraseOpportunity{
    "erase_opportunity",
    absl::StrCat("UPDATE txn.opportunities SET name = $3, close_reason = $4, version = $5, "
                 "updated_at = ",
                 pg::MicrosParam(6), " WHERE tenant_id = $1 AND id = $2"),
    0};
// The answers stored with the keys of those leads ($3: their personal
// fields emptied) and opportunities ($4: name and close reason), by
// the shape of the snapshot: a conversion holds both.
const pg::NamedQuery kEraseStoredAnswers{
    "erase_stored_answers",
    "UPDATE txn.idempotency_keys SET response = (CASE "
    "WHEN response::jsonb ? 'lead' THEN jsonb_set(jsonb_set(response::jsonb, '{lead}', "
    "(response::jsonb -> 'lead') || $3::jsonb), '{opportunity}', "
    "(response::jsonb -> 'opportunity') || $4::jsonb) "
    "WHEN response::jsonb ? 'email' THEN response::jsonb || $3::jsonb "
    "WHEN response::jsonb ? 'stage' THEN response::jsonb || $4::jsonb "
    "ELSE response::jsonb END)::text "
    "WHERE tenant_id = $1 AND resource_id = ANY($2::text[]) AND response IS NOT NULL AND "
    "response <> ''",
    0};
const pg::NamedQuery kListLeads{
    "list_leads",
    absl::StrCat("SELECT ", LeadColumns(),
                 " FROM txn.leads WHERE tenant_id = $1 AND ($2::int2 = 0 OR status = $2) AND "
                 "($3 = '' OR owner = $3) AND (created_at, id) < (",
                 pg::MicrosParam(4), ", $5::uuid)", kListTail, "$6"),
    16};
// ---------------------------------------------------- opportunities
const std::string kSelectOpportunitySql = absl::StrCat(
    "SELECT ", OpportunityColumns(), " FROM txn.opportunities WHERE tenant_id = $1 AND id = $2");
const pg::NamedQuery kSelectOpportunity{"select_opportunity", kSelectOpportunitySql, 15};
const pg::NamedQuery kSelectOpportunityForUpdate{"select_opportunity_for_update",
                                                 kSelectOpportunitySql + " FOR UPDATE", 15};
const pg::NamedQuery kInsertOpportunity{
    "insert_opportunity",
    absl::StrCat("INSERT INTO txn.opportunities (tenant_id, id, name, customer_id, lead_id, "
                 "amount_minor, currency, expected_close_date, owner, stage, version, "
                 "created_at, updated_at) VALUES ($1, $2, $3, nullif($4, '')::uuid, "
                 "nullif($5, '')::uuid, $6, $7, $8::date, $9, $10, $11, ",
                 pg::MicrosParam(12), ", ", pg::MicrosParam(12), ")"),
    0};
// Every field a write may change (SaveOpportunity of a loaded one).
const pg::NamedQuery kSaveOpportunity{
    "save_opportunity",
    absl::StrCat("UPDATE txn.opportunities SET name = $3, customer_id = nullif($4, '')::uuid, "
                 "amount_minor = $5, currency = $6, expected_close_date = $7::date, owner = $8, "
                 "stage = $9, order_id = nullif($10, '')::uuid, close_reason = $11, closed_at = "
                 "CASE WHEN $12::int8 <> 0 THEN ",
                 pg::MicrosParam(12), " END, version = $13, updated_at = ", pg::MicrosParam(14),
                 " WHERE tenant_id = $1 AND id = $2"),
    0};
const pg::NamedQuery kListOpportunities{
    "list_opportunities",
    absl::StrCat("SELECT ", OpportunityColumns(),
                 " FROM txn.opportunities WHERE tenant_id = $1 AND ($2::int2 = 0 OR stage = "
                 "$2) AND ($3 = '' OR owner = $3) AND ($4 = '' OR customer_id = nullif($4, "
                 "'')::uuid) AND (created_at, id) < (",
                 pg::MicrosParam(5), ", $6::uuid)", kListTail, "$7"),
    15};
// Under the opportunity's row lock: seq is the next one.
const pg::NamedQuery kInsertStageChange{
    "insert_stage_change",
    absl::StrCat("INSERT INTO txn.opportunity_stage_history (tenant_id, opportunity_id, seq, "
                 "from_stage, to_stage, changed_at, principal) SELECT $1, $2, "
                 "coalesce(max(seq), 0) + 1, $3, $4, ",
                 pg::MicrosParam(5),
                 ", $6 FROM txn.opportunity_stage_history WHERE tenant_id = $1 AND "
                 "opportunity_id = $2"),
    0};
const pg::NamedQuery kSelectStageHistory{
    "select_stage_history",
    absl::StrCat("SELECT from_stage, to_stage, ", pg::MicrosColumn("changed_at"),
                 ", principal FROM txn.opportunity_stage_history WHERE tenant_id = $1 AND "
                 "opportunity_id = $2 ORDER BY seq"),
    4};
// ---------------------------------------------------- probabilities
const pg::NamedQuery kSelectStageProbabilities{
    "select_stage_probabilities",
    "SELECT stage, probability_percent FROM txn.stage_probabilities WHERE tenant_id = $1", 2};
// One row, one (void) column.
const pg::NamedQuery kLockStageProbabilities{
    "lock_stage_probabilities",
    "SELECT pg_advisory_xact_lock(hashtext('txn.stage_probabilities:' || $1::text))", 1};
const pg::NamedQuery kUpsertStageProbability{
    "upsert_stage_probability",
    absl::StrCat("INSERT INTO txn.stage_probabilities (tenant_id, stage, probability_percent, "
                 "updated_at) VALUES ($1, $2, $3, ",
                 pg::MicrosParam(4),
                 ") ON CONFLICT (tenant_id, stage) DO UPDATE SET probability_percent = "
                 "excluded.probability_percent, updated_at = excluded.updated_at"),
    0};
// --------------------------------------------------------- forecast
const pg::NamedQuery kSelectForecastItems{
    "select_forecast_items",
    "SELECT owner, currency, stage, amount_minor, to_char(expected_close_date, 'YYYY-MM-DD'), "
    "coalesce(to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '') FROM txn.opportunities "
    "WHERE tenant_id = $1 AND ($2 = '' OR owner = $2) AND ($3 = '' OR currency = $3) AND "
    "((stage BETWEEN 1 AND 4 AND expected_close_date BETWEEN $4::date AND $5::date) OR "
    "(stage = 5 AND closed_at >= ($4::date)::timestamp AT TIME ZONE 'UTC' AND closed_at < "
    "($5::date + 1)::timestamp AT TIME ZONE 'UTC')) LIMIT $6",
    6};

}  // namespace

std::vector<pg::NamedQuery> PgPipelineRepository::Queries() {
  return {kSelectLead,
          kSelectLeadForUpdate,
          kInsertLead,
          kSaveLead,
          kSelectLeadsOfCustomersForUpdate,
          kSelectOpportunitiesOfCustomersForUpdate,
          kEraseLead,
          kEraseOpportunity,
          kEraseStoredAnswers,
          kListLeads,
          kSelectOpportunity,
          kSelectOpportunityForUpdate,
          kInsertOpportunity,
          kSaveOpportunity,
          kListOpportunities,
          kInsertStageChange,
          kSelectStageHistory,
          kSelectStageProbabilities,
          kLockStageProbabilities,
          kUpsertStageProbability,
          kSelectForecastItems};
}

// ------------------------------------------------------------------ loading

absl::StatusOr<Lead> PgPipelineRepository::LoadLead(pqxx::work& tx, const std::string& tenant,
                                                    const std::string& id, bool for_update) {
  pqxx::result r = pool_.Exec(tx, for_update ? kSelectLeadForUpdate : kSelectLead, tenant, id);
  if (r.empty()) return LeadNotFound();
  return LeadFromRow(r[0]);
}

absl::StatusOr<Opportunity> PgPipelineRepository::LoadOpportunity(pqxx::work& tx,
                                                                  const std::string& tenant,
                                                                  const std::string& id,
                                                                  bool for_update) {
  pqxx::result r =
      pool_.Exec(tx, for_update ? kSelectOpportunityForUpdate : kSelectOpportunity, tenant, id);
  if (r.empty()) return OpportunityNotFound();
  return OpportunityFromRow(r[0]);
}

absl::StatusOr<domain::StageProbabilities> PgPipelineRepository::LoadProbabilities(
    pqxx::work& tx, const std::string& tenant) {
  domain::StageProbabilities p;
  for (const auto& r : pool_.Exec(tx, kSelectStageProbabilities, tenant)) {
    int stage = r[0].as<int>();
    if (!domain::IsValidStage(stage)) return Corrupt();
    p.percent[static_cast<size_t>(stage)] = r[1].as<int>();
  }
  return p;
}

// ------------------------------------------------------------------- events

void PgPipelineRepository::EmitLead(pqxx::work& tx, const outbox::WriteMeta& meta,
                                    const char* type, const Lead& l) {
  Json payload{{"lead_id", l.id},
               {"status", domain::LeadStatusName(l.status)},
               {"owner", l.owner},
               {"source", l.source},
               {"score", l.score},
               {"version", l.version}};
  if (!l.customer_id.empty()) payload["customer_id"] = l.customer_id;
  if (!l.opportunity_id.empty()) payload["opportunity_id"] = l.opportunity_id;
  writer_.Emit(tx, meta, SubjectOf(l.customer_id, l.id), type, payload.dump());
}

void PgPipelineRepository::EmitOpportunity(pqxx::work& tx, const outbox::WriteMeta& meta,
                                           const char* type, const Opportunity& o,
                                           OpportunityStage from) {
  Json payload{{"opportunity_id", o.id},
               {"customer_id", o.customer_id},
               {"lead_id", o.lead_id},
               {"stage", domain::StageName(o.stage)},
               {"amount_minor", absl::StrCat(o.amount_minor)},
               {"currency_code", o.currency_code},
               {"expected_close_date", domain::FormatDate(o.expected_close_date)},
               {"owner", o.owner},
               {"version", o.version}};
  if (from != OpportunityStage::kUnspecified) {
    payload["from_stage"] = domain::StageName(from);
    payload["to_stage"] = domain::StageName(o.stage);
  }
  if (!o.order_id.empty()) payload["order_id"] = o.order_id;
  writer_.Emit(tx, meta, SubjectOf(o.customer_id, o.id), type, payload.dump());
}

// ------------------------------------------------------------------- writes

// One write's transaction (app::PipelineTx) over the repository's queries.
class PgPipelineRepository::Tx final : public app::PipelineTx {
 public:
  Tx(PgPipelineRepository& repo, const outbox::WriteTx& w) : repo_(repo), w_(w) {}

  absl::StatusOr<Lead> LoadLead(const std::string& id) override {
    return repo_.LoadLead(w_.sql(), w_.tenant(), id, true);
  }
  absl::StatusOr<Opportunity> LoadOpportunity(const std::string& id) override {
    return repo_.LoadOpportunity(w_.sql(), w_.tenant(), id, true);
  }
  absl::StatusOr<domain::StageProbabilities> LoadProbabilities() override {
    // Serializes concurrent updates of one tenant (the rows may not exist yet).
    repo_.pool_.Exec(w_.sql(), kLockStageProbabilities, w_.tenant());
    return repo_.LoadProbabilities(w_.sql(), w_.tenant());
  }
  void SaveLead(const Lead& l, bool is_new) override {
    if (is_new) {
      repo_.pool_.Exec(w_.sql(), kInsertLead, w_.tenant(), l.id, l.given_name, l.family_name,
                       l.company_name, l.email, l.phone, l.source, static_cast<int>(l.status),
                       l.owner, l.score, l.version, absl::ToUnixMicros(l.create_time));
      return;
    }
    repo_.pool_.Exec(w_.sql(), kSaveLead, w_.tenant(), l.id, l.given_name, l.family_name,
                     l.company_name, l.email, l.phone, l.source, static_cast<int>(l.status),
                     l.owner, l.score, l.customer_id, l.opportunity_id,
                     MicrosOrZero(l.convert_time), l.version, absl::ToUnixMicros(l.update_time));
  }
  void SaveOpportunity(const Opportunity& o, bool is_new) override {
    if (is_new) {
      repo_.pool_.Exec(w_.sql(), kInsertOpportunity, w_.tenant(), o.id, o.name, o.customer_id,
                       o.lead_id, o.amount_minor, o.currency_code,
                       domain::FormatDate(o.expected_close_date), o.owner,
                       static_cast<int>(o.stage), o.version, absl::ToUnixMicros(o.create_time));
      return;
    }
    repo_.pool_.Exec(w_.sql(), kSaveOpportunity, w_.tenant(), o.id, o.name, o.customer_id,
                     o.amount_minor, o.currency_code, domain::FormatDate(o.expected_close_date),
                     o.owner, static_cast<int>(o.stage), o.order_id, o.close_reason,
                     MicrosOrZero(o.close_time), o.version, absl::ToUnixMicros(o.update_time));
  }
  void SaveProbabilities(const std::vector<std::pair<int, int>>& changes, absl::Time now) override {
    for (const auto& [stage, percent] : changes) {
      repo_.pool_.Exec(w_.sql(), kUpsertStageProbability, w_.tenant(), stage, percent,
                       absl::ToUnixMicros(now));
    }
  }
  void AppendStageChange(const std::string& opportunity_id, const domain::StageChange& c) override {
    repo_.pool_.Exec(w_.sql(), kInsertStageChange, w_.tenant(), opportunity_id,
                     static_cast<int>(c.from), static_cast<int>(c.to), absl::ToUnixMicros(c.at),
                     c.principal);
  }
  app::OrderTx* Orders() override {
    if (repo_.orders_ == nullptr) return nullptr;
    if (orders_ == nullptr) orders_ = repo_.orders_->TxOf(w_);
    return orders_.get();
  }
  void EmitLead(const char* type, const Lead& l) override {
    repo_.EmitLead(w_.sql(), w_.meta(), type, l);
  }
  void EmitOpportunity(const char* type, const Opportunity& o, OpportunityStage from) override {
    repo_.EmitOpportunity(w_.sql(), w_.meta(), type, o, from);
  }
  void EmitProbabilities(const domain::StageProbabilities& p) override {
    w_.Emit("", "pipeline.stage_probabilities_updated",
            Json{{"stages", ProbabilitiesJson(p)}}.dump());
  }

 private:
  PgPipelineRepository& repo_;
  const outbox::WriteTx& w_;
  std::unique_ptr<app::OrderTx> orders_;  // in the same transaction
};

template <typename T>
absl::StatusOr<T> PgPipelineRepository::RunTx(
    const outbox::WriteMeta& meta, const std::string& resource, const outbox::AnswerCodec<T>& codec,
    absl::FunctionRef<absl::StatusOr<T>(app::PipelineTx&)> work) {
  return outbox::WriteOnce<T>(writer_, meta, resource, codec,
                              [&](const outbox::WriteTx& w) -> absl::StatusOr<T> {
                                Tx tx(*this, w);
                                return work(tx);
                              });
}

absl::StatusOr<Lead> PgPipelineRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<Lead>(app::PipelineTx&)> work) {
  return RunTx(meta, resource, kLeadAnswer, work);
}
absl::StatusOr<app::Conversion> PgPipelineRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::Conversion>(app::PipelineTx&)> work) {
  return RunTx(meta, resource, kConversionAnswer, work);
}
absl::StatusOr<Opportunity> PgPipelineRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<Opportunity>(app::PipelineTx&)> work) {
  return RunTx(meta, resource, kOpportunityAnswer, work);
}
absl::StatusOr<domain::StageProbabilities> PgPipelineRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::StageProbabilities>(app::PipelineTx&)> work) {
  return RunTx(meta, resource, kStageProbabilitiesAnswer, work);
}

absl::StatusOr<bool> PgPipelineRepository::KeyUsed(const app::Actor& actor) {
  outbox::WriteMeta meta = actor;
  bool used = false;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(actor.tenant_id, [&](pqxx::work& tx) -> absl::Status {
    absl::StatusOr<std::optional<std::string>> prev = writer_.PeekIdempotencyKey(tx, meta);
    // A refusal here (another method or body) means the key is taken too.
    used = !prev.ok() || prev->has_value();
    return absl::OkStatus();
  }));
  return used;
}

// ------------------------------------------------------------------ erasure

absl::StatusOr<app::PipelineErasure> PgPipelineRepository::EraseCustomerData(
    const app::Actor& actor, const std::string& consumer, const std::string& event_id,
    const std::vector<std::string>& customer_ids, absl::Time now) {
  outbox::WriteMeta meta = actor;
  meta.idempotency_key.clear();  // idempotent by the event id instead
  meta.fingerprint.clear();
  app::PipelineErasure out;
  const std::string ids = pg::TextArrayLiteral(customer_ids);
  const std::string resource =
      customer_ids.empty() ? std::string("customer") : absl::StrCat("customer:", customer_ids[0]);
  CRM_RETURN_IF_ERROR(writer_.Write(meta, resource, [&](pqxx::work& tx) -> absl::Status {
    out = app::PipelineErasure{};
    CRM_ASSIGN_OR_RETURN(bool first, events::MarkProcessed(tx, kSchema, consumer, event_id));
    if (!first) return absl::OkStatus();
    out.applied = true;
    std::vector<std::string> resources;  // leads and opportunities: their stored answers
    for (const auto& row : pool_.Exec(tx, kSelectLeadsOfCustomersForUpdate, actor.tenant_id, ids)) {
      Lead l = LeadFromRow(row);
      resources.push_back(l.id);
      if (!domain::ApplyErasure(l, now)) continue;
      pool_.Exec(tx, kEraseLead, actor.tenant_id, l.id, l.given_name, l.family_name, l.email,
                 l.phone, l.version, absl::ToUnixMicros(l.update_time));
      EmitLead(tx, meta, "lead.updated", l);
      ++out.leads;
    }
    for (const auto& row :
         pool_.Exec(tx, kSelectOpportunitiesOfCustomersForUpdate, actor.tenant_id, ids)) {
      CRM_ASSIGN_OR_RETURN(Opportunity o, OpportunityFromRow(row));
      resources.push_back(o.id);
      if (!domain::ApplyErasure(o, now)) continue;
      pool_.Exec(tx, kEraseOpportunity, actor.tenant_id, o.id, o.name, o.close_reason, o.version,
                 absl::ToUnixMicros(o.update_time));
      EmitOpportunity(tx, meta, "opportunity.updated", o, OpportunityStage::kUnspecified);
      ++out.opportunities;
    }
    if (!resources.empty()) {
      pool_.Exec(tx, kEraseStoredAnswers, actor.tenant_id, pg::TextArrayLiteral(resources),
                 Json{{"given_name", ""}, {"family_name", ""}, {"email", ""}, {"phone", ""}}.dump(),
                 Json{{"name", domain::kErasedName}, {"close_reason", ""}}.dump());
    }
    return absl::OkStatus();
  }));
  return out;
}

// -------------------------------------------------------------------- leads

absl::StatusOr<Lead> PgPipelineRepository::GetLead(const std::string& tenant,
                                                   const std::string& id) {
  Lead out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(out, LoadLead(tx, tenant, id, false));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::LeadPage> PgPipelineRepository::ListLeads(const std::string& tenant,
                                                              const app::LeadQuery& q) {
  int64_t before_micros = 0;
  std::string before_id;
  CRM_RETURN_IF_ERROR(ParseCursor(q.before_cursor, before_micros, before_id));
  app::LeadPage page;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    page = app::LeadPage{};
    pqxx::result r = pool_.Exec(tx, kListLeads, tenant, static_cast<int>(q.status), q.owner,
                                before_micros, before_id, q.limit + 1);
    for (const auto& row : r) {
      if (static_cast<int>(page.items.size()) == q.limit) break;
      page.items.push_back(LeadFromRow(row));
    }
    if (static_cast<int>(r.size()) > q.limit && !page.items.empty()) {
      const Lead& last = page.items.back();
      page.next_cursor = absl::StrCat(absl::ToUnixMicros(last.create_time), "|", last.id);
    }
    return absl::OkStatus();
  }));
  return page;
}

// ------------------------------------------------------------ opportunities

absl::StatusOr<Opportunity> PgPipelineRepository::GetOpportunity(const std::string& tenant,
                                                                 const std::string& id) {
  Opportunity out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(out, LoadOpportunity(tx, tenant, id, false));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::OpportunityPage> PgPipelineRepository::ListOpportunities(
    const std::string& tenant, const app::OpportunityQuery& q) {
  int64_t before_micros = 0;
  std::string before_id;
  CRM_RETURN_IF_ERROR(ParseCursor(q.before_cursor, before_micros, before_id));
  app::OpportunityPage page;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    page = app::OpportunityPage{};
    pqxx::result r = pool_.Exec(tx, kListOpportunities, tenant, static_cast<int>(q.stage), q.owner,
                                q.customer_id, before_micros, before_id, q.limit + 1);
    for (const auto& row : r) {
      if (static_cast<int>(page.items.size()) == q.limit) break;
      CRM_ASSIGN_OR_RETURN(Opportunity o, OpportunityFromRow(row));
      page.items.push_back(std::move(o));
    }
    if (static_cast<int>(r.size()) > q.limit && !page.items.empty()) {
      const Opportunity& last = page.items.back();
      page.next_cursor = absl::StrCat(absl::ToUnixMicros(last.create_time), "|", last.id);
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<std::vector<domain::StageChange>> PgPipelineRepository::StageHistory(
    const std::string& tenant, const std::string& id) {
  std::vector<domain::StageChange> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    CRM_RETURN_IF_ERROR(LoadOpportunity(tx, tenant, id, false).status());
    for (const auto& r : pool_.Exec(tx, kSelectStageHistory, tenant, id)) {
      domain::StageChange c;
      c.from = static_cast<OpportunityStage>(r[0].as<int>());
      c.to = static_cast<OpportunityStage>(r[1].as<int>());
      c.at = absl::FromUnixMicros(r[2].as<int64_t>());
      c.principal = r[3].as<std::string>();
      out.push_back(std::move(c));
    }
    return absl::OkStatus();
  }));
  return out;
}

// ------------------------------------------------------------ probabilities

absl::StatusOr<domain::StageProbabilities> PgPipelineRepository::GetProbabilities(
    const std::string& tenant) {
  domain::StageProbabilities out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(out, LoadProbabilities(tx, tenant));
    return absl::OkStatus();
  }));
  return out;
}

// ----------------------------------------------------------------- forecast

absl::StatusOr<std::vector<domain::ForecastItem>> PgPipelineRepository::ForecastItems(
    const std::string& tenant, const app::ForecastQuery& q) {
  std::vector<domain::ForecastItem> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pqxx::result r = pool_.Exec(tx, kSelectForecastItems, tenant, q.owner, q.currency_code,
                                domain::FormatDate(q.from), domain::FormatDate(q.to),
                                app::kMaxForecastItems + 1);
    if (static_cast<int>(r.size()) > app::kMaxForecastItems) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the forecast covers more than ", app::kMaxForecastItems,
                       " opportunities; narrow the range or filter by owner"));
    }
    out.reserve(r.size());
    for (const auto& row : r) {
      domain::ForecastItem it;
      it.owner = row[0].as<std::string>();
      it.currency_code = row[1].as<std::string>();
      it.stage = static_cast<OpportunityStage>(row[2].as<int>());
      it.amount_minor = row[3].as<int64_t>();
      if (!absl::ParseCivilTime(row[4].as<std::string>(), &it.expected_close_date)) {
        return Corrupt();
      }
      std::string closed = row[5].as<std::string>();
      if (!closed.empty() && !absl::ParseCivilTime(closed, &it.close_day)) return Corrupt();
      out.push_back(std::move(it));
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace crm::transaction::storage

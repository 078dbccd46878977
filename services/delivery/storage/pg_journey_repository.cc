#include "services/delivery/storage/pg_journey_repository.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"
#include "services/delivery/domain/not_found.h"
#include "services/delivery/schema_name.h"
#include "services/delivery/storage/pg_time.h"

namespace crm::delivery::storage {
namespace {

using domain::Enrollment;
using domain::Journey;
using domain::JourneyStep;

const std::string kJourneyColumns =
    absl::StrCat("journey_id::text, definition::text, state, version, ",
                 pg::MicrosColumn("activated_at"), ", ", pg::MicrosColumn("archived_at"), ", ",
                 pg::MicrosColumn("created_at"), ", ", pg::MicrosColumn("updated_at"));
constexpr int kJourneyColumnCount = 8;
const std::string kEnrollmentColumns = absl::StrCat(
    "enrollment_id::text, journey_id::text, customer_id::text, entry, event_id, state, step_id, "
    "seq, ",
    pg::MicrosColumn("due_at"), ", waiting_for_event, attempts, last_error, exit_reason, version, ",
    pg::MicrosColumn("entered_at"), ", ", pg::MicrosColumn("ended_at"));
constexpr int kEnrollmentColumnCount = 16;

const pg::NamedQuery kSelectJourney{
    "delivery_select_journey",
    absl::StrCat("SELECT ", kJourneyColumns,
                 " FROM delivery.journeys WHERE tenant_id = $1 AND journey_id = $2::uuid"),
    kJourneyColumnCount};
const pg::NamedQuery kJourneyForUpdate{
    "delivery_journey_for_update",
    absl::StrCat("SELECT ", kJourneyColumns,
                 " FROM delivery.journeys WHERE tenant_id = $1 AND journey_id = $2::uuid FOR "
                 "UPDATE"),
    kJourneyColumnCount};
const pg::NamedQuery kListJourneys{
    "delivery_list_journeys",
    absl::StrCat("SELECT ", kJourneyColumns,
                 " FROM delivery.journeys WHERE tenant_id = $1 ORDER BY created_at DESC, "
                 "journey_id DESC LIMIT 1000"),
    kJourneyColumnCount};
const pg::NamedQuery kListeningJourneys{
    "delivery_listening_journeys",
    absl::StrCat("SELECT ", kJourneyColumns,
                 " FROM delivery.journeys WHERE tenant_id = $1 AND state IN ('active', 'paused') "
                 "AND $2 = ANY(listens) ORDER BY journey_id LIMIT 1000"),
    kJourneyColumnCount};
const pg::NamedQuery kSaveJourney{
    "delivery_save_journey",
    absl::StrCat(
        "INSERT INTO delivery.journeys (tenant_id, journey_id, definition, state, version, "
        "listens, activated_at, archived_at, created_at, updated_at) VALUES ($1, "
        "$2::uuid, $3::jsonb, $4, $5, $6::text[], ",
        pg::MicrosParam(7), ", ", pg::MicrosParam(8), ", ", pg::MicrosParam(9), ", ",
        pg::MicrosParam(10),
        ") ON CONFLICT (tenant_id, journey_id) DO UPDATE SET definition = "
        "EXCLUDED.definition, state = EXCLUDED.state, version = EXCLUDED.version, "
        "listens = EXCLUDED.listens, activated_at = EXCLUDED.activated_at, archived_at = "
        "EXCLUDED.archived_at, updated_at = EXCLUDED.updated_at"),
    0};
const pg::NamedQuery kExitEnrollments{
    "delivery_exit_enrollments",
    "UPDATE delivery.journey_enrollments SET state = 'exited', exit_reason = $3, ended_at = now(), "
    "due_at = now(), waiting_for_event = false, leased_until = NULL, version = version + 1 WHERE "
    "tenant_id = $1 AND journey_id = $2::uuid AND state = 'active'",
    0};
// The customer's next entry, unless re-entry keeps them out: under 'once'
// any earlier enrolment does, under 'after_exit' an active one. A race of
// two is settled by the unique keys (the loser inserts nothing).
const pg::NamedQuery kInsertEnrollment{
    "delivery_insert_enrollment",
    absl::StrCat("INSERT INTO delivery.journey_enrollments (tenant_id, enrollment_id, journey_id, "
                 "customer_id, entry, event_id, state, step_id, seq, due_at, waiting_for_event, "
                 "version, entered_at) SELECT $1, $2::uuid, $3::uuid, $4::uuid, "
                 "coalesce(max(entry) + 1, 0), $5, 'active', $6, $7, ",
                 pg::MicrosParam(8), ", $9, 1, ", pg::MicrosParam(10),
                 " FROM delivery.journey_enrollments WHERE tenant_id = $1 AND journey_id = "
                 "$3::uuid AND customer_id = $4::uuid HAVING ($11 = 'after_exit' OR count(*) = 0) "
                 "AND NOT coalesce(bool_or(state = 'active'), false) ON CONFLICT DO NOTHING "
                 "RETURNING entry"),
    1};
const pg::NamedQuery kInsertVisit{
    "delivery_insert_journey_visit",
    absl::StrCat("INSERT INTO delivery.journey_steps (tenant_id, enrollment_id, seq, journey_id, "
                 "step_id, entered_at) VALUES ($1, $2::uuid, $3, $4::uuid, $5, ",
                 pg::MicrosParam(6), ") ON CONFLICT DO NOTHING"),
    0};
const pg::NamedQuery kSelectEnrollment{
    "delivery_select_enrollment",
    absl::StrCat("SELECT ", kEnrollmentColumns,
                 " FROM delivery.journey_enrollments WHERE tenant_id = $1 AND enrollment_id = "
                 "$2::uuid"),
    kEnrollmentColumnCount};
const pg::NamedQuery kListEnrollments{
    "delivery_list_enrollments",
    absl::StrCat("SELECT ", kEnrollmentColumns,
                 " FROM delivery.journey_enrollments WHERE tenant_id = $1 AND journey_id = "
                 "$2::uuid ORDER BY entered_at DESC, enrollment_id DESC LIMIT $3"),
    kEnrollmentColumnCount};
const pg::NamedQuery kListCustomerEnrollments{
    "delivery_list_customer_enrollments",
    absl::StrCat("SELECT ", kEnrollmentColumns,
                 " FROM delivery.journey_enrollments WHERE tenant_id = $1 AND journey_id = "
                 "$2::uuid AND customer_id = $3::uuid ORDER BY entered_at DESC, enrollment_id "
                 "DESC LIMIT $4"),
    kEnrollmentColumnCount};
const pg::NamedQuery kListVisits{
    "delivery_list_journey_visits",
    absl::StrCat("SELECT enrollment_id::text, seq, step_id, ", pg::MicrosColumn("entered_at"),
                 " FROM delivery.journey_steps WHERE tenant_id = $1 AND enrollment_id = "
                 "ANY($2::uuid[]) ORDER BY enrollment_id, seq"),
    4};
const pg::NamedQuery kCountEnrollments{
    "delivery_count_enrollments",
    "SELECT state, exit_reason, count(*) FROM delivery.journey_enrollments WHERE tenant_id = $1 "
    "AND journey_id = $2::uuid GROUP BY state, exit_reason",
    3};
const pg::NamedQuery kCountVisits{
    "delivery_count_journey_visits",
    "SELECT step_id, count(*) FROM delivery.journey_steps WHERE tenant_id = $1 AND journey_id = "
    "$2::uuid GROUP BY step_id",
    2};
const pg::NamedQuery kCountWaiting{
    "delivery_count_journey_waiting",
    "SELECT step_id, count(*) FROM delivery.journey_enrollments WHERE tenant_id = $1 AND "
    "journey_id = $2::uuid AND state = 'active' GROUP BY step_id",
    2};
// A send step's message has the key of its visit (domain::JourneyMessageKey).
const pg::NamedQuery kCountJourneyMessages{
    "delivery_count_journey_messages",
    "SELECT s.step_id, m.state, count(*) FROM delivery.journey_steps s JOIN delivery.messages m "
    "ON m.tenant_id = s.tenant_id AND m.request_id = 'journey:' || s.journey_id::text || ':' || "
    "s.enrollment_id::text || ':' || s.seq::text WHERE s.tenant_id = $1 AND s.journey_id = "
    "$2::uuid AND s.step_id = ANY($3::text[]) GROUP BY 1, 2",
    3};
const pg::NamedQuery kActiveEnrollments{
    "delivery_active_enrollments",
    absl::StrCat("SELECT ", kEnrollmentColumns,
                 " FROM delivery.journey_enrollments WHERE tenant_id = $1 AND customer_id = "
                 "$2::uuid AND state = 'active' AND journey_id = ANY($3::uuid[]) ORDER BY "
                 "enrollment_id"),
    kEnrollmentColumnCount};
const pg::NamedQuery kSchedulerOn{"delivery_journey_scheduler_on",
                                  "SELECT set_config('app.scheduler', 'on', true)", 1};
const pg::NamedQuery kDueEnrollments{
    "delivery_due_enrollments",
    absl::StrCat("SELECT e.tenant_id::text, e.enrollment_id::text FROM "
                 "delivery.journey_enrollments e JOIN delivery.journeys j ON j.tenant_id = "
                 "e.tenant_id AND j.journey_id = e.journey_id WHERE e.state = 'active' AND "
                 "e.due_at <= ",
                 pg::MicrosParam(1), " AND (e.leased_until IS NULL OR e.leased_until < ",
                 pg::MicrosParam(1), ") AND j.state = 'active' ORDER BY e.due_at LIMIT $2"),
    2};
const pg::NamedQuery kClaimEnrollments{
    "delivery_claim_enrollments",
    absl::StrCat("UPDATE delivery.journey_enrollments SET leased_until = ", pg::MicrosParam(3),
                 " + $4::int8 * interval '1 microsecond', version = version + 1 WHERE tenant_id "
                 "= $1 AND enrollment_id = ANY($2::uuid[]) AND state = 'active' AND due_at <= ",
                 pg::MicrosParam(3), " AND (leased_until IS NULL OR leased_until < ",
                 pg::MicrosParam(3), ") RETURNING ", kEnrollmentColumns),
    kEnrollmentColumnCount};
const pg::NamedQuery kSaveEnrollment{
    "delivery_save_enrollment",
    absl::StrCat("UPDATE delivery.journey_enrollments SET state = $4, step_id = $5, seq = $6, "
                 "due_at = ",
                 pg::MicrosParam(7),
                 ", waiting_for_event = $8, attempts = $9, last_error = $10, exit_reason = $11, "
                 "ended_at = ",
                 pg::MicrosParam(12),
                 ", version = version + 1, leased_until = CASE WHEN $13 THEN leased_until END "
                 "WHERE tenant_id = $1 AND enrollment_id = $2::uuid AND version = $3 RETURNING 1"),
    1};

nlohmann::json EventJson(const domain::JourneyEvent& e) {
  return {{"kind", domain::TriggerKindName(e.kind)}, {"segment_id", e.segment_id}};
}
domain::JourneyEvent EventOf(const nlohmann::json& j, bool& ok) {
  std::optional<domain::TriggerKind> kind =
      domain::TriggerKindFromName(j.at("kind").get<std::string>());
  if (!kind) ok = false;
  return {kind.value_or(domain::TriggerKind::kNone), j.at("segment_id").get<std::string>()};
}

const char* TypeName(domain::AttributeValue::Type t) {
  switch (t) {
    case domain::AttributeValue::Type::kInt:
      return "int";
    case domain::AttributeValue::Type::kDouble:
      return "double";
    case domain::AttributeValue::Type::kBool:
      return "bool";
    default:
      return "string";
  }
}

nlohmann::json StepJson(const JourneyStep& s) {
  const domain::AttributeValue& v = s.value;
  return {{"id", s.id},
          {"kind", domain::StepKindName(s.kind)},
          {"next", s.next},
          {"duration_s", absl::ToInt64Seconds(s.duration)},
          {"event", EventJson(s.event)},
          {"on_event", s.on_event},
          {"expression", s.expression},
          {"on_false", s.on_false},
          {"channel", domain::ChannelName(s.channel)},
          {"purpose", domain::PurposeName(s.purpose)},
          {"template_id", s.template_id},
          {"endpoint_id", s.endpoint_id},
          {"offer_count", s.offer_count},
          {"attribute", s.attribute},
          {"value",
           {{"type", TypeName(v.type)},
            {"s", v.string_value},
            {"i", v.int_value},
            {"d", v.double_value},
            {"b", v.bool_value}}}};
}

JourneyStep StepOf(const nlohmann::json& j, bool& ok) {
  JourneyStep s;
  s.id = j.at("id").get<std::string>();
  std::optional<domain::StepKind> kind = domain::StepKindFromName(j.at("kind").get<std::string>());
  std::optional<domain::Channel> channel =
      domain::ChannelFromName(j.at("channel").get<std::string>());
  std::optional<domain::Purpose> purpose =
      domain::PurposeFromName(j.at("purpose").get<std::string>());
  if (!kind || !channel || !purpose) ok = false;
  s.kind = kind.value_or(domain::StepKind::kExit);
  s.channel = channel.value_or(domain::Channel::kEmail);
  s.purpose = purpose.value_or(domain::Purpose::kMarketing);
  s.next = j.at("next").get<std::string>();
  s.duration = absl::Seconds(j.at("duration_s").get<int64_t>());
  s.event = EventOf(j.at("event"), ok);
  s.on_event = j.at("on_event").get<std::string>();
  s.expression = j.at("expression").get<std::string>();
  s.on_false = j.at("on_false").get<std::string>();
  s.template_id = j.at("template_id").get<std::string>();
  s.endpoint_id = j.at("endpoint_id").get<std::string>();
  s.offer_count = j.at("offer_count").get<int>();
  s.attribute = j.at("attribute").get<std::string>();
  const nlohmann::json& v = j.at("value");
  const std::string type = v.at("type").get<std::string>();
  s.value.type = type == "int"      ? domain::AttributeValue::Type::kInt
                 : type == "double" ? domain::AttributeValue::Type::kDouble
                 : type == "bool"   ? domain::AttributeValue::Type::kBool
                                    : domain::AttributeValue::Type::kString;
  s.value.string_value = v.at("s").get<std::string>();
  s.value.int_value = v.at("i").get<int64_t>();
  s.value.double_value = v.at("d").get<double>();
  s.value.bool_value = v.at("b").get<bool>();
  return s;
}

std::string DefinitionJson(const Journey& j) {
  nlohmann::json steps = nlohmann::json::array();
  for (const JourneyStep& s : j.steps) steps.push_back(StepJson(s));
  return nlohmann::json{
      {"name", j.name},
      {"trigger", EventJson(j.trigger)},
      {"reentry", j.reentry == domain::JourneyReentry::kOnce ? "once" : "after_exit"},
      {"goal", EventJson(j.goal)},
      {"steps", steps}}
      .dump();
}

// The event kinds the journey listens to (its trigger, goal and waits).
std::vector<std::string> ListensOf(const Journey& j) {
  std::set<std::string> kinds;
  for (const domain::JourneyEvent* e : {&j.trigger, &j.goal}) {
    if (e->kind != domain::TriggerKind::kNone) kinds.emplace(domain::TriggerKindName(e->kind));
  }
  for (const JourneyStep& s : j.steps) {
    if (s.kind == domain::StepKind::kWaitForEvent) {
      kinds.emplace(domain::TriggerKindName(s.event.kind));
    }
  }
  return {kinds.begin(), kinds.end()};
}

absl::StatusOr<Journey> JourneyOf(const pqxx::row& r) {
  return outbox::ParseJsonAnswer<Journey>(
      r[1].as<std::string>(),
      [&](const nlohmann::json& d, bool& ok) {
        Journey j;
        j.id = r[0].as<std::string>();
        j.name = d.at("name").get<std::string>();
        j.trigger = EventOf(d.at("trigger"), ok);
        j.reentry = d.at("reentry").get<std::string>() == "once"
                        ? domain::JourneyReentry::kOnce
                        : domain::JourneyReentry::kAfterExit;
        j.goal = EventOf(d.at("goal"), ok);
        for (const nlohmann::json& s : d.at("steps")) j.steps.push_back(StepOf(s, ok));
        std::optional<domain::JourneyState> state =
            domain::JourneyStateFromName(r[2].as<std::string>());
        if (!state) ok = false;
        j.state = state.value_or(domain::JourneyState::kDraft);
        j.version = r[3].as<int64_t>();
        j.activated_time = OptionalTime(r[4]);
        j.archived_time = OptionalTime(r[5]);
        j.create_time = absl::FromUnixMicros(r[6].as<int64_t>());
        j.update_time = absl::FromUnixMicros(r[7].as<int64_t>());
        return j;
      },
      "stored journey unreadable");
}

absl::StatusOr<Enrollment> EnrollmentOf(const pqxx::row& r) {
  Enrollment e;
  e.id = r[0].as<std::string>();
  e.journey_id = r[1].as<std::string>();
  e.customer_id = r[2].as<std::string>();
  e.entry = r[3].as<int>();
  e.event_id = r[4].as<std::string>();
  std::optional<domain::EnrollmentState> state =
      domain::EnrollmentStateFromName(r[5].as<std::string>());
  if (!state) return absl::DataLossError("stored enrolment unreadable");
  e.state = *state;
  e.step_id = r[6].as<std::string>();
  e.seq = r[7].as<int>();
  e.due_time = absl::FromUnixMicros(r[8].as<int64_t>());
  e.waiting_for_event = r[9].as<bool>();
  e.attempts = r[10].as<int>();
  e.last_error = r[11].as<std::string>();
  e.exit_reason = r[12].as<std::string>();
  e.version = r[13].as<int64_t>();
  e.enter_time = absl::FromUnixMicros(r[14].as<int64_t>());
  e.end_time = OptionalTime(r[15]);
  return e;
}

absl::StatusOr<std::vector<Enrollment>> EnrollmentsOf(const pqxx::result& rows) {
  std::vector<Enrollment> out;
  for (const auto& r : rows) {
    CRM_ASSIGN_OR_RETURN(Enrollment e, EnrollmentOf(r));
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::vector<Journey>> JourneysOf(const pqxx::result& rows) {
  std::vector<Journey> out;
  for (const auto& r : rows) {
    CRM_ASSIGN_OR_RETURN(Journey j, JourneyOf(r));
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

class PgJourneyRepository::Tx final : public app::JourneyTx {
 public:
  Tx(pg::Pool& pool, const outbox::WriteTx& w) : pool_(pool), w_(w) {}
  absl::StatusOr<Journey> LoadJourneyForUpdate(const std::string& id) override {
    pqxx::result r = pool_.Exec(w_.sql(), kJourneyForUpdate, w_.tenant(), id);
    if (r.empty()) return domain::JourneyNotFound(id);
    return JourneyOf(r[0]);
  }
  void SaveJourney(const Journey& j) override {
    pool_.Exec(w_.sql(), kSaveJourney, w_.tenant(), j.id, DefinitionJson(j),
               std::string(domain::JourneyStateName(j.state)), j.version,
               pg::TextArrayLiteral(ListensOf(j)), MicrosOf(j.activated_time),
               MicrosOf(j.archived_time), absl::ToUnixMicros(j.create_time),
               absl::ToUnixMicros(j.update_time));
  }
  void EmitJourney(const std::string& type, const Journey& j) override {
    w_.Emit("", type,
            nlohmann::json{
                {"journeyId", j.id},
                {"name", j.name},
                {"state", domain::JourneyStateName(j.state)},
                {"version", j.version},
                {"time", absl::FormatTime(absl::RFC3339_full, j.update_time, absl::UTCTimeZone())}}
                .dump());
  }
  absl::StatusOr<int64_t> ExitEnrollments(const std::string& journey_id,
                                          const std::string& reason) override {
    return static_cast<int64_t>(
        pool_.Exec(w_.sql(), kExitEnrollments, w_.tenant(), journey_id, reason).affected_rows());
  }
  absl::StatusOr<std::optional<Enrollment>> InsertEnrollment(
      const Enrollment& e, domain::JourneyReentry reentry) override {
    pqxx::result r =
        pool_.Exec(w_.sql(), kInsertEnrollment, w_.tenant(), e.id, e.journey_id, e.customer_id,
                   e.event_id, e.step_id, e.seq, absl::ToUnixMicros(e.due_time),
                   e.waiting_for_event, absl::ToUnixMicros(e.enter_time),
                   std::string(reentry == domain::JourneyReentry::kOnce ? "once" : "after_exit"));
    if (r.empty()) return std::nullopt;
    Enrollment in = e;
    in.entry = r[0][0].as<int>();
    in.version = 1;
    pool_.Exec(w_.sql(), kInsertVisit, w_.tenant(), e.id, e.seq, e.journey_id, e.step_id,
               absl::ToUnixMicros(e.step_time));
    return std::optional<Enrollment>(std::move(in));
  }

 private:
  pg::Pool& pool_;
  const outbox::WriteTx& w_;
};

PgJourneyRepository::PgJourneyRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}

std::vector<pg::NamedQuery> PgJourneyRepository::Queries() {
  return {kSelectJourney,
          kJourneyForUpdate,
          kListJourneys,
          kListeningJourneys,
          kSaveJourney,
          kExitEnrollments,
          kInsertEnrollment,
          kInsertVisit,
          kSelectEnrollment,
          kListEnrollments,
          kListCustomerEnrollments,
          kListVisits,
          kCountEnrollments,
          kCountVisits,
          kCountWaiting,
          kCountJourneyMessages,
          kActiveEnrollments,
          kSchedulerOn,
          kDueEnrollments,
          kClaimEnrollments,
          kSaveEnrollment};
}

absl::StatusOr<Journey> PgJourneyRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<Journey>(app::JourneyTx&)> work) {
  // A retry answers the journey as it is now.
  const outbox::AnswerCodec<Journey> codec{
      nullptr,
      [this](const outbox::WriteTx& w, const std::string&,
             const std::string& id) -> absl::StatusOr<Journey> {
        pqxx::result r = pool_.Exec(w.sql(), kSelectJourney, w.tenant(), id);
        if (r.empty()) return domain::JourneyNotFound(id);
        return JourneyOf(r[0]);
      }};
  return outbox::WriteOnce<Journey>(writer_, meta, resource, codec, [&](const outbox::WriteTx& w) {
    Tx tx(pool_, w);
    return work(tx);
  });
}

absl::StatusOr<Enrollment> PgJourneyRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<Enrollment>(app::JourneyTx&)> work) {
  // A retry answers the enrolment as it is now.
  const outbox::AnswerCodec<Enrollment> codec{
      nullptr,
      [this](const outbox::WriteTx& w, const std::string&,
             const std::string& id) -> absl::StatusOr<Enrollment> {
        pqxx::result r = pool_.Exec(w.sql(), kSelectEnrollment, w.tenant(), id);
        if (r.empty()) return absl::AbortedError("the enrolment changed meanwhile; retry");
        return EnrollmentOf(r[0]);
      }};
  return outbox::WriteOnce<Enrollment>(writer_, meta, resource, codec,
                                       [&](const outbox::WriteTx& w) {
                                         Tx tx(pool_, w);
                                         return work(tx);
                                       });
}

absl::StatusOr<Journey> PgJourneyRepository::GetJourney(const std::string& tenant,
                                                        const std::string& id) {
  std::optional<absl::StatusOr<Journey>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSelectJourney, tenant, id);
    out = r.empty() ? absl::StatusOr<Journey>(domain::JourneyNotFound(id)) : JourneyOf(r[0]);
    return absl::OkStatus();
  }));
  return *std::move(out);
}

absl::StatusOr<std::vector<Journey>> PgJourneyRepository::ListJourneys(const std::string& tenant) {
  std::optional<absl::StatusOr<std::vector<Journey>>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = JourneysOf(pool_.Exec(tx, kListJourneys, tenant));
    return absl::OkStatus();
  }));
  return *std::move(out);
}

absl::StatusOr<std::vector<Journey>> PgJourneyRepository::ListeningJourneys(
    const std::string& tenant, domain::TriggerKind kind) {
  std::optional<absl::StatusOr<std::vector<Journey>>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = JourneysOf(
        pool_.Exec(tx, kListeningJourneys, tenant, std::string(domain::TriggerKindName(kind))));
    return absl::OkStatus();
  }));
  return *std::move(out);
}

absl::StatusOr<std::vector<app::EnrollmentView>> PgJourneyRepository::ListEnrollments(
    const std::string& tenant, const std::string& journey_id, const std::string& customer_id,
    int limit) {
  std::vector<app::EnrollmentView> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pqxx::result rows =
        customer_id.empty()
            ? pool_.Exec(tx, kListEnrollments, tenant, journey_id, limit)
            : pool_.Exec(tx, kListCustomerEnrollments, tenant, journey_id, customer_id, limit);
    CRM_ASSIGN_OR_RETURN(std::vector<Enrollment> es, EnrollmentsOf(rows));
    std::map<std::string, size_t> at;
    std::vector<std::string> ids;
    for (Enrollment& e : es) {
      at[e.id] = out.size();
      ids.push_back(e.id);
      out.push_back({std::move(e), {}});
    }
    if (ids.empty()) return absl::OkStatus();
    for (const auto& r : pool_.Exec(tx, kListVisits, tenant, pg::TextArrayLiteral(ids))) {
      out[at[r[0].as<std::string>()]].visits.push_back(
          {r[1].as<int>(), r[2].as<std::string>(), absl::FromUnixMicros(r[3].as<int64_t>())});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::JourneyCounts> PgJourneyRepository::CountJourney(
    const std::string& tenant, const std::string& journey_id) {
  app::JourneyCounts out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = app::JourneyCounts();
    for (const auto& r : pool_.Exec(tx, kCountEnrollments, tenant, journey_id)) {
      const std::string state = r[0].as<std::string>();
      out.by_state[state] += r[2].as<int64_t>();
      if (state != "active") out.by_exit_reason[r[1].as<std::string>()] += r[2].as<int64_t>();
    }
    for (const auto& r : pool_.Exec(tx, kCountVisits, tenant, journey_id)) {
      out.entered[r[0].as<std::string>()] = r[1].as<int64_t>();
    }
    for (const auto& r : pool_.Exec(tx, kCountWaiting, tenant, journey_id)) {
      out.waiting[r[0].as<std::string>()] = r[1].as<int64_t>();
    }
    pqxx::result j = pool_.Exec(tx, kSelectJourney, tenant, journey_id);
    if (j.empty()) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(Journey journey, JourneyOf(j[0]));
    std::vector<std::string> sends;
    for (const JourneyStep& s : journey.steps) {
      if (s.kind == domain::StepKind::kSend || s.kind == domain::StepKind::kOffer) {
        sends.push_back(s.id);
      }
    }
    if (sends.empty()) return absl::OkStatus();
    for (const auto& r :
         pool_.Exec(tx, kCountJourneyMessages, tenant, journey_id, pg::TextArrayLiteral(sends))) {
      out.messages[r[0].as<std::string>()][r[1].as<std::string>()] = r[2].as<int64_t>();
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<Enrollment>> PgJourneyRepository::ActiveEnrollments(
    const std::string& tenant, const std::string& customer_id,
    const std::vector<std::string>& journey_ids) {
  std::optional<absl::StatusOr<std::vector<Enrollment>>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = EnrollmentsOf(
        pool_.Exec(tx, kActiveEnrollments, tenant, customer_id, pg::TextArrayLiteral(journey_ids)));
    return absl::OkStatus();
  }));
  return *std::move(out);
}

absl::StatusOr<std::vector<app::JourneyRepository::EnrollmentRef>>
PgJourneyRepository::DueEnrollments(absl::Time now, int limit) {
  std::vector<EnrollmentRef> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pool_.Exec(tx, kSchedulerOn);
    for (const auto& r : pool_.Exec(tx, kDueEnrollments, absl::ToUnixMicros(now), limit)) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<Enrollment>> PgJourneyRepository::ClaimEnrollments(
    const std::string& tenant, const std::vector<std::string>& ids, absl::Time now,
    absl::Duration lease) {
  std::optional<absl::StatusOr<std::vector<Enrollment>>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = EnrollmentsOf(pool_.Exec(tx, kClaimEnrollments, tenant, pg::TextArrayLiteral(ids),
                                   absl::ToUnixMicros(now), absl::ToInt64Microseconds(lease)));
    return absl::OkStatus();
  }));
  return *std::move(out);
}

absl::StatusOr<bool> PgJourneyRepository::SaveEnrollment(const std::string& tenant,
                                                         const Enrollment& e,
                                                         int64_t expected_version, bool entered,
                                                         bool keep_lease) {
  bool saved = false;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    saved = !pool_
                 .Exec(tx, kSaveEnrollment, tenant, e.id, expected_version,
                       std::string(domain::EnrollmentStateName(e.state)), e.step_id, e.seq,
                       absl::ToUnixMicros(e.due_time), e.waiting_for_event, e.attempts,
                       e.last_error, e.exit_reason, MicrosOf(e.end_time), keep_lease)
                 .empty();
    if (saved && entered) {
      pool_.Exec(tx, kInsertVisit, tenant, e.id, e.seq, e.journey_id, e.step_id,
                 absl::ToUnixMicros(e.step_time));
    }
    return absl::OkStatus();
  }));
  return saved;
}

}  // namespace crm::delivery::storage

// PgTicketRepository's satisfaction surveys (schema/017_surveys.sql): the
// tenant's settings as JSON under a version, each ticket's survey, and the
// report's grouped counts.
#include "services/service_desk/storage/pg_surveys.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/pg/sql.h"
#include "services/service_desk/storage/pg_classifiers.h"
#include "services/service_desk/storage/pg_ticket_repository.h"

namespace crm::service_desk::storage {
namespace {

using Json = nlohmann::json;

const std::string kSettingsRead =
    absl::StrCat("SELECT definition::text, version, ", pg::MicrosColumn("updated_at"),
                 " FROM service_desk.survey_settings WHERE tenant_id = $1");
const pg::NamedQuery kSelectSurveySettings{"service_desk_select_survey_settings", kSettingsRead, 3};
const pg::NamedQuery kSurveySettingsForUpdate{"service_desk_survey_settings_for_update",
                                              kSettingsRead + " FOR UPDATE", 3};
const pg::NamedQuery kSaveSurveySettings{
    "service_desk_save_survey_settings",
    absl::StrCat("INSERT INTO service_desk.survey_settings (tenant_id, definition, version, "
                 "updated_at) VALUES ($1, $2::jsonb, $3, ",
                 pg::MicrosParam(4),
                 ") ON CONFLICT (tenant_id) DO UPDATE SET definition = EXCLUDED.definition, "
                 "version = EXCLUDED.version, updated_at = EXCLUDED.updated_at"),
    0};

// A survey's columns; the instants in unix microseconds, 0 for none.
const std::string kSurveyColumns = absl::StrCat(
    "survey_id::text, ticket_id::text, customer_id::text, kind, state, cancel_reason, ",
    pg::MicrosColumn("due_at"), ", coalesce(", pg::MicrosColumn("sent_at"), ", 0), coalesce(",
    pg::MicrosColumn("expires_at"), ", 0), coalesce(", pg::MicrosColumn("answered_at"),
    ", 0), agent, channel, queue, coalesce(rating, -1), reason, comment");
constexpr int kSurveyColumnCount = 16;
const pg::NamedQuery kLockSurvey{
    "service_desk_lock_survey",
    absl::StrCat("SELECT ", kSurveyColumns,
                 " FROM service_desk.surveys WHERE tenant_id = $1 AND survey_id = $2::uuid FOR "
                 "UPDATE"),
    kSurveyColumnCount};
// A new solve of a ticket whose survey is still scheduled moves its due
// instant; a sent, answered or cancelled survey stays as it is.
const pg::NamedQuery kScheduleSurvey{
    "service_desk_schedule_survey",
    absl::StrCat("INSERT INTO service_desk.surveys (tenant_id, survey_id, ticket_id, customer_id, "
                 "kind, state, due_at) VALUES ($1, $2::uuid, $3::uuid, $4::uuid, $6, "
                 "'scheduled', ",
                 pg::MicrosParam(5),
                 ") ON CONFLICT (tenant_id, ticket_id, kind) DO UPDATE SET due_at = "
                 "EXCLUDED.due_at WHERE service_desk.surveys.state = 'scheduled'"),
    0};
std::string MicrosOrNull(int n) {
  return absl::StrCat("CASE WHEN $", n, "::int8 = 0 THEN NULL ELSE ", pg::MicrosParam(n), " END");
}
const pg::NamedQuery kSaveSurvey{
    "service_desk_save_survey",
    absl::StrCat("UPDATE service_desk.surveys SET state = $3, cancel_reason = $4, sent_at = ",
                 MicrosOrNull(5), ", expires_at = ", MicrosOrNull(6),
                 ", answered_at = ", MicrosOrNull(7),
                 ", agent = $8, channel = $9, queue = $10, rating = nullif($11::int, -1), reason = "
                 "$12, comment = $13 WHERE tenant_id = $1 AND survey_id = $2::uuid"),
    0};
const pg::NamedQuery kSurveyedSince{
    "service_desk_surveyed_since",
    absl::StrCat("SELECT EXISTS (SELECT 1 FROM service_desk.surveys WHERE tenant_id = $1 AND "
                 "customer_id = $2::uuid AND sent_at >= ",
                 pg::MicrosParam(3), ")"),
    1};
// Whether the customer was asked NPS (a survey scheduled, sent or
// answered) due at or after $3: the cadence.
const pg::NamedQuery kNpsAskedSince{
    "service_desk_nps_asked_since",
    absl::StrCat("SELECT EXISTS (SELECT 1 FROM service_desk.surveys WHERE tenant_id = $1 AND "
                 "customer_id = $2::uuid AND kind = 'nps' AND state <> 'cancelled' AND due_at >= ",
                 pg::MicrosParam(3), ")"),
    1};
const pg::NamedQuery kDueSurveys{
    "service_desk_due_surveys",
    absl::StrCat("SELECT tenant_id::text, survey_id::text, ticket_id::text FROM "
                 "service_desk.surveys WHERE state = 'scheduled' AND due_at <= ",
                 pg::MicrosParam(1), " ORDER BY due_at LIMIT $2"),
    3};
// The report: the surveys sent in [$2, $3], as a whole and by the ticket's
// agent, channel and queue when sent, its intent (answered prediction; ""
// for none) and who answered it: "auto_response" when its intent's macro
// did (an auto_response mail of the ticket), else "agent".
const pg::NamedQuery kSurveyRows{
    "service_desk_survey_rows",
    absl::StrCat(
        "SELECT CASE WHEN GROUPING(s.agent) = 0 THEN 'agent' WHEN GROUPING(s.channel) = 0 THEN "
        "'channel' WHEN GROUPING(s.queue) = 0 THEN 'queue' WHEN GROUPING(i.label) = 0 THEN "
        "'intent' WHEN GROUPING(a.answered_by) = 0 THEN 'answered_by' ELSE '' END, "
        "coalesce(s.agent, s.channel, s.queue, i.label, a.answered_by, ''), count(*), "
        "count(s.rating), count(*) FILTER (WHERE s.rating >= 4), coalesce(sum(s.rating), 0) FROM "
        "service_desk.surveys s LEFT JOIN LATERAL (SELECT coalesce(max(p.label), '') AS label "
        "FROM service_desk.ticket_predictions p WHERE p.tenant_id = s.tenant_id AND p.ticket_id = "
        "s.ticket_id AND p.target = 'intent' AND p.answered) i ON true CROSS JOIN LATERAL (SELECT "
        "CASE WHEN EXISTS (SELECT 1 FROM service_desk.outbound_mails o WHERE o.tenant_id = "
        "s.tenant_id AND o.ticket_id = s.ticket_id AND o.kind = 'auto_response') THEN "
        "'auto_response' ELSE 'agent' END AS answered_by) a WHERE s.tenant_id = $1 AND "
        "s.kind = 'csat' AND s.sent_at >= ",
        pg::MicrosParam(2), " AND s.sent_at <= ", pg::MicrosParam(3),
        " GROUP BY GROUPING SETS ((), (s.agent), (s.channel), (s.queue), (i.label), "
        "(a.answered_by))"),
    6};

// NPS over the surveys sent in [$2, $3]: the total (month ""), then the
// answers by the month (UTC) they were given (the unanswered, without a
// month, are left out of those).
const pg::NamedQuery kNpsRows{
    "service_desk_nps_rows",
    absl::StrCat(
        "SELECT coalesce(m.month, ''), count(*), count(s.rating), count(*) FILTER (WHERE s.rating "
        ">= 9), count(*) FILTER (WHERE s.rating <= 6) FROM "
        "service_desk.surveys s CROSS JOIN LATERAL (SELECT to_char(s.answered_at AT TIME ZONE "
        "'UTC', 'YYYY-MM') AS month) m WHERE s.tenant_id = $1 AND s.kind = 'nps' AND s.sent_at "
        ">= ",
        pg::MicrosParam(2), " AND s.sent_at <= ", pg::MicrosParam(3),
        " GROUP BY GROUPING SETS ((), (m.month)) HAVING GROUPING(m.month) = 1 OR m.month IS NOT "
        "NULL"),
    5};

Json SettingsJson(const domain::SurveySettings& s) {
  return Json{{"csat_enabled", s.csat_enabled},
              {"csat_delay_s", absl::ToInt64Seconds(s.csat_delay)},
              {"cooldown_days", s.cooldown_days},
              {"subject", s.subject},
              {"body", s.body},
              {"reopen_below", s.reopen_below},
              {"nps_enabled", s.nps_enabled},
              {"nps_every_days", s.nps_every_days},
              {"nps_subject", s.nps_subject},
              {"nps_body", s.nps_body},
              {"version", s.version},
              {"update_us", absl::ToUnixMicros(s.update_time)}};
}
domain::SurveySettings SettingsOfJson(const Json& j, bool&) {
  domain::SurveySettings s;
  s.csat_enabled = j.at("csat_enabled").get<bool>();
  s.csat_delay = absl::Seconds(j.at("csat_delay_s").get<int64_t>());
  s.cooldown_days = j.at("cooldown_days").get<int>();
  s.subject = j.at("subject").get<std::string>();
  s.body = j.at("body").get<std::string>();
  s.reopen_below = j.at("reopen_below").get<int>();
  s.nps_enabled = j.at("nps_enabled").get<bool>();
  s.nps_every_days = j.at("nps_every_days").get<int>();
  s.nps_subject = j.at("nps_subject").get<std::string>();
  s.nps_body = j.at("nps_body").get<std::string>();
  s.version = j.at("version").get<int64_t>();
  s.update_time = absl::FromUnixMicros(j.at("update_us").get<int64_t>());
  return s;
}
absl::StatusOr<domain::SurveySettings> SettingsOf(const std::string& stored) {
  return outbox::ParseJsonAnswer<domain::SurveySettings>(stored, SettingsOfJson,
                                                         "stored survey settings unreadable");
}

absl::Time MicrosOr(const pqxx::field& f) {
  const int64_t us = f.as<int64_t>();
  return us == 0 ? absl::InfinitePast() : absl::FromUnixMicros(us);
}
int64_t MicrosOrZero(absl::Time t) { return t == absl::InfinitePast() ? 0 : absl::ToUnixMicros(t); }

absl::StatusOr<domain::Survey> SurveyOfRow(const pqxx::row& r) {
  domain::Survey s;
  s.id = r[0].as<std::string>();
  s.ticket_id = r[1].as<std::string>();
  s.customer_id = r[2].as<std::string>();
  const std::optional<domain::SurveyKind> kind = domain::SurveyKindFromName(r[3].as<std::string>());
  const std::optional<domain::SurveyState> state =
      domain::SurveyStateFromName(r[4].as<std::string>());
  if (!kind || !state) return absl::DataLossError("stored survey unreadable");
  s.kind = *kind;
  s.state = *state;
  s.cancel_reason = r[5].as<std::string>();
  s.due_time = absl::FromUnixMicros(r[6].as<int64_t>());
  s.sent_time = MicrosOr(r[7]);
  s.expire_time = MicrosOr(r[8]);
  s.answer_time = MicrosOr(r[9]);
  s.agent = r[10].as<std::string>();
  s.channel = r[11].as<std::string>();
  s.queue = r[12].as<std::string>();
  s.rating = r[13].as<int>();
  s.reason = r[14].as<std::string>();
  s.comment = r[15].as<std::string>();
  return s;
}

}  // namespace

std::vector<pg::NamedQuery> SurveyQueries() {
  return {kSelectSurveySettings, kSurveySettingsForUpdate,
          kSaveSurveySettings,   kLockSurvey,
          kScheduleSurvey,       kSaveSurvey,
          kSurveyedSince,        kDueSurveys,
          kSurveyRows,           kNpsRows,
          kNpsAskedSince};
}

absl::StatusOr<domain::SurveySettings> SurveySettingsIn(pg::Pool& pool, pqxx::work& tx,
                                                        const std::string& tenant, bool lock) {
  const pqxx::result r =
      pool.Exec(tx, lock ? kSurveySettingsForUpdate : kSelectSurveySettings, tenant);
  if (r.empty()) return domain::SurveySettings{};
  CRM_ASSIGN_OR_RETURN(domain::SurveySettings s, SettingsOf(r[0][0].as<std::string>()));
  s.version = r[0][1].as<int64_t>();
  s.update_time = absl::FromUnixMicros(r[0][2].as<int64_t>());
  return s;
}

void SaveSurveySettingsIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                          const domain::SurveySettings& s) {
  pool.Exec(tx, kSaveSurveySettings, tenant, SettingsJson(s).dump(), s.version,
            absl::ToUnixMicros(s.update_time));
}

const outbox::AnswerCodec<domain::SurveySettings>& SurveySettingsAnswer() {
  static const auto* const kCodec =
      new outbox::AnswerCodec<domain::SurveySettings>(outbox::SnapshotCodec<domain::SurveySettings>(
          [](const domain::SurveySettings& s) { return SettingsJson(s).dump(); }, SettingsOf));
  return *kCodec;
}

void ScheduleSurveyIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                      const domain::Survey& s) {
  pool.Exec(tx, kScheduleSurvey, tenant, s.id, s.ticket_id, s.customer_id,
            absl::ToUnixMicros(s.due_time), domain::SurveyKindName(s.kind));
}

absl::StatusOr<std::optional<domain::Survey>> LockSurveyIn(pg::Pool& pool, pqxx::work& tx,
                                                           const std::string& tenant,
                                                           const std::string& id) {
  const pqxx::result r = pool.Exec(tx, kLockSurvey, tenant, id);
  if (r.empty()) return std::optional<domain::Survey>();
  CRM_ASSIGN_OR_RETURN(domain::Survey s, SurveyOfRow(r[0]));
  return std::optional<domain::Survey>(std::move(s));
}

void SaveSurveyIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                  const domain::Survey& s) {
  pool.Exec(tx, kSaveSurvey, tenant, s.id, domain::SurveyStateName(s.state), s.cancel_reason,
            MicrosOrZero(s.sent_time), MicrosOrZero(s.expire_time), MicrosOrZero(s.answer_time),
            s.agent, s.channel, s.queue, s.rating, s.reason, s.comment);
}

absl::StatusOr<bool> SurveyedSinceIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                                     const std::string& customer_id, absl::Time since) {
  return pool.Exec(tx, kSurveyedSince, tenant, customer_id, absl::ToUnixMicros(since))[0][0]
      .as<bool>();
}

absl::StatusOr<bool> NpsAskedSinceIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                                     const std::string& customer_id, absl::Time since) {
  return pool.Exec(tx, kNpsAskedSince, tenant, customer_id, absl::ToUnixMicros(since))[0][0]
      .as<bool>();
}

std::vector<app::TicketRepository::DueSurvey> DueSurveysIn(pg::Pool& pool, pqxx::work& tx,
                                                           absl::Time now, int limit) {
  std::vector<app::TicketRepository::DueSurvey> out;
  for (const pqxx::row& r : pool.Exec(tx, kDueSurveys, absl::ToUnixMicros(now), limit)) {
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>()});
  }
  return out;
}

absl::StatusOr<domain::SurveySettings> PgTicketRepository::GetSurveySettings(
    const std::string& tenant) {
  absl::StatusOr<domain::SurveySettings> out = domain::SurveySettings{};
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = SurveySettingsIn(pool_, tx, tenant, false);
    return out.status();
  }));
  return out;
}

absl::StatusOr<std::vector<domain::NpsCounts>> PgTicketRepository::NpsRows(
    const std::string& tenant, absl::Time from, absl::Time to) {
  return TenantRows<domain::NpsCounts>(
      pool_, tenant, kNpsRows,
      [](const pqxx::row& r) {
        return domain::NpsCounts{r[0].as<std::string>(), r[1].as<int64_t>(), r[2].as<int64_t>(),
                                 r[3].as<int64_t>(), r[4].as<int64_t>()};
      },
      absl::ToUnixMicros(from), absl::ToUnixMicros(to));
}

absl::StatusOr<std::vector<domain::SurveyRow>> PgTicketRepository::SurveyRows(
    const std::string& tenant, absl::Time from, absl::Time to) {
  return TenantRows<domain::SurveyRow>(
      pool_, tenant, kSurveyRows,
      [](const pqxx::row& r) {
        return domain::SurveyRow{r[0].as<std::string>(),
                                 {r[1].as<std::string>(), r[2].as<int64_t>(), r[3].as<int64_t>(),
                                  r[4].as<int64_t>(), r[5].as<int64_t>()}};
      },
      absl::ToUnixMicros(from), absl::ToUnixMicros(to));
}

}  // namespace crm::service_desk::storage

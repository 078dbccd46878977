// PgTicketRepository's classifiers (schema/015_classifiers.sql): the
// tenant's classifiers with their reports as JSON, their models as bytes,
// the texts of solved and closed tickets to train on, and predictions.
#include "services/service_desk/storage/pg_classifiers.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"
#include "services/service_desk/storage/pg_ticket_repository.h"

namespace crm::service_desk::storage {
namespace {

using Json = nlohmann::json;

const std::string kClassifierColumns =
    absl::StrCat("target, mode, source, report, version, trained_by, ",
                 pg::MicrosColumn("trained_at"), ", ", pg::MicrosColumn("updated_at"));
const pg::NamedQuery kSelectClassifiers{
    "service_desk_select_classifiers",
    absl::StrCat("SELECT ", kClassifierColumns,
                 " FROM service_desk.classifiers WHERE tenant_id = $1 ORDER BY target"),
    8};
const pg::NamedQuery kClassifierModel{
    "service_desk_classifier_model",
    "SELECT model FROM service_desk.classifiers WHERE tenant_id = $1 AND target = $2 AND version "
    "= $3",
    1};
// The subject and the first message of the newest solved and closed
// tickets with the field set ($2: 'queue' or 'type').
const pg::NamedQuery kTrainingExamples{
    "service_desk_training_examples",
    "SELECT t.subject, coalesce(m.body, ''), CASE $2 WHEN 'queue' THEN t.queue ELSE t.type END "
    "FROM service_desk.tickets t LEFT JOIN LATERAL (SELECT body FROM service_desk.ticket_messages "
    "m WHERE m.tenant_id = $1 AND m.ticket_id = t.ticket_id ORDER BY m.created_at, m.message_id "
    "LIMIT 1) m ON true WHERE t.tenant_id = $1 AND t.status IN ('solved', 'closed') AND CASE $2 "
    "WHEN 'queue' THEN t.queue ELSE t.type END <> '' ORDER BY t.created_at DESC LIMIT $3",
    3};
const pg::NamedQuery kPutClassifier{
    "service_desk_put_classifier",
    absl::StrCat("INSERT INTO service_desk.classifiers AS c (tenant_id, target, mode, source, "
                 "report, model, version, trained_by, trained_at, updated_at) VALUES ($1, $2, "
                 "$3, $4, $5, $6, 1, $7, ",
                 pg::MicrosParam(8), ", ", pg::MicrosParam(8),
                 ") ON CONFLICT (tenant_id, target) DO UPDATE SET mode = excluded.mode, source = "
                 "excluded.source, report = excluded.report, model = excluded.model, version = "
                 "c.version + 1, trained_by = excluded.trained_by, trained_at = "
                 "excluded.trained_at, updated_at = excluded.updated_at RETURNING ",
                 kClassifierColumns),
    8};
const pg::NamedQuery kSetClassifierMode{
    "service_desk_set_classifier_mode",
    absl::StrCat("UPDATE service_desk.classifiers SET mode = $3, version = version + 1, "
                 "updated_at = ",
                 pg::MicrosParam(4), " WHERE tenant_id = $1 AND target = $2 RETURNING ",
                 kClassifierColumns),
    8};
const pg::NamedQuery kDeleteClassifier{
    "service_desk_delete_classifier",
    "DELETE FROM service_desk.classifiers WHERE tenant_id = $1 AND target = $2 RETURNING 1", 1};
const pg::NamedQuery kSavePredictions{
    "service_desk_save_predictions",
    "INSERT INTO service_desk.ticket_predictions (tenant_id, ticket_id, target, label, "
    "confidence, answered, applied, classifier_version) SELECT $1, $2, p.target, p.label, "
    "p.confidence, p.answered, p.applied, p.version FROM unnest($3::text[], $4::text[], "
    "$5::float8[], $6::bool[], $7::bool[], $8::bigint[]) AS p(target, label, confidence, "
    "answered, applied, version)",
    0};
const pg::NamedQuery kSelectPredictions{
    "service_desk_select_predictions",
    "SELECT target, label, confidence, answered, applied, classifier_version FROM "
    "service_desk.ticket_predictions WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY target",
    6};

// Auto-response's counts by label (domain::AutoResponseCounts) over the
// mail tickets opened in [$2, $3]: whether the customer wrote again is a
// customer message after the ticket's auto-response.
const pg::NamedQuery kAutoResponseCounts{
    "service_desk_auto_response_counts",
    absl::StrCat(
        "WITH q AS (SELECT t.ticket_id, p.label, p.answered FROM service_desk.tickets t JOIN "
        "service_desk.ticket_predictions p ON p.tenant_id = t.tenant_id AND p.ticket_id = "
        "t.ticket_id AND p.target = 'intent' WHERE t.tenant_id = $1 AND t.channel = 'email' AND "
        "t.created_at >= ",
        pg::MicrosParam(2), " AND t.created_at <= ", pg::MicrosParam(3),
        "), a AS (SELECT o.ticket_id, min(o.created_at) AS at FROM service_desk.outbound_mails o "
        "WHERE o.tenant_id = $1 AND o.kind = 'auto_response' AND o.ticket_id IN (SELECT "
        "ticket_id FROM q) GROUP BY o.ticket_id) SELECT q.label, count(*), count(*) FILTER "
        "(WHERE q.answered), count(a.ticket_id), count(*) FILTER (WHERE a.ticket_id IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM service_desk.ticket_messages m WHERE m.tenant_id = $1 AND "
        "m.ticket_id = q.ticket_id AND m.kind = 'customer' AND m.created_at > a.at)) FROM q LEFT "
        "JOIN a ON a.ticket_id = q.ticket_id GROUP BY q.label"),
    5};

// The drift alarm's counts ($2 the target field, $3 the training's
// instant, $4 the window): a filled field changed after the creation's
// write (the creation's routing and triggers write at its instant).
const pg::NamedQuery kClassifierCorrections{
    "service_desk_classifier_corrections",
    absl::StrCat(
        "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM service_desk.ticket_changes "
        "c WHERE c.tenant_id = $1 AND c.ticket_id = x.ticket_id AND c.field = $2 AND c.old_value "
        "= x.label AND c.changed_at > x.created_at)) FROM (SELECT t.ticket_id, p.label, "
        "t.created_at FROM service_desk.tickets t JOIN service_desk.ticket_predictions p ON "
        "p.tenant_id = t.tenant_id AND p.ticket_id = t.ticket_id AND p.target = $2 AND p.applied "
        "WHERE t.tenant_id = $1 AND t.created_at >= ",
        pg::MicrosParam(3), " ORDER BY t.created_at DESC LIMIT $4) x"),
    2};

absl::Status NoClassifier() {
  return common::NotFound("CLASSIFIER_NOT_FOUND", "the tenant has no classifier for this target");
}

Json ReportJson(const domain::ClassifierReport& r) {
  Json classes = Json::array();
  for (const domain::ClassReport& c : r.classes) {
    classes.push_back({{"label", c.label},
                       {"precision", c.precision},
                       {"recall", c.recall},
                       {"f1", c.f1},
                       {"support", c.support}});
  }
  return {{"examples", r.examples},
          {"held_out", r.held_out},
          {"labels", r.labels},
          {"features", r.features},
          {"accuracy", r.accuracy},
          {"macro_f1", r.macro_f1},
          {"classes", classes},
          {"precision_target", r.precision_target},
          {"threshold", r.threshold.threshold},
          {"threshold_precision", r.threshold.precision},
          {"threshold_coverage", r.threshold.coverage},
          {"threshold_reached", r.threshold.reached},
          {"train_seconds", r.train_seconds}};
}

absl::StatusOr<domain::ClassifierReport> ReportOf(const std::string& text) {
  try {
    const Json j = Json::parse(text);
    domain::ClassifierReport r;
    r.examples = j.at("examples").get<int>();
    r.held_out = j.at("held_out").get<int>();
    r.labels = j.at("labels").get<int>();
    r.features = j.at("features").get<int>();
    r.accuracy = j.at("accuracy").get<double>();
    r.macro_f1 = j.at("macro_f1").get<double>();
    for (const Json& c : j.at("classes")) {
      r.classes.push_back({c.at("label").get<std::string>(), c.at("precision").get<double>(),
                           c.at("recall").get<double>(), c.at("f1").get<double>(),
                           c.at("support").get<int>()});
    }
    r.precision_target = j.at("precision_target").get<double>();
    r.threshold.threshold = j.at("threshold").get<double>();
    r.threshold.precision = j.at("threshold_precision").get<double>();
    r.threshold.coverage = j.at("threshold_coverage").get<double>();
    r.threshold.reached = j.at("threshold_reached").get<bool>();
    r.train_seconds = j.at("train_seconds").get<double>();
    return r;
  } catch (const Json::exception&) {
    return absl::InternalError("a stored classifier report is not the expected JSON");
  }
}

absl::StatusOr<domain::Classifier> ClassifierOfRow(const pqxx::row& r) {
  domain::Classifier c;
  std::optional<domain::ClassifierTarget> target = domain::TargetFromName(r[0].as<std::string>());
  std::optional<domain::ClassifierMode> mode = domain::ModeFromName(r[1].as<std::string>());
  if (!target || !mode) return absl::InternalError("a stored classifier has an unknown target");
  c.target = *target;
  c.mode = *mode;
  c.source = r[2].as<std::string>();
  CRM_ASSIGN_OR_RETURN(c.report, ReportOf(r[3].as<std::string>()));
  c.version = r[4].as<int64_t>();
  c.trained_by = r[5].as<std::string>();
  c.train_time = absl::FromUnixMicros(r[6].as<int64_t>());
  c.update_time = absl::FromUnixMicros(r[7].as<int64_t>());
  return c;
}

domain::TicketPrediction PredictionOfRow(const pqxx::row& r) {
  domain::TicketPrediction p;
  p.target =
      domain::TargetFromName(r[0].as<std::string>()).value_or(domain::ClassifierTarget::kIntent);
  p.label = r[1].as<std::string>();
  p.confidence = r[2].as<double>();
  p.answered = r[3].as<bool>();
  p.applied = r[4].as<bool>();
  p.version = r[5].as<int64_t>();
  return p;
}

}  // namespace

std::vector<pg::NamedQuery> ClassifierQueries() {
  return {kSelectClassifiers,  kClassifierModel,      kTrainingExamples, kPutClassifier,
          kSetClassifierMode,  kDeleteClassifier,     kSavePredictions,  kSelectPredictions,
          kAutoResponseCounts, kClassifierCorrections};
}

void SavePredictionsIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                       const domain::Ticket& t) {
  if (t.predictions.empty()) return;
  std::vector<std::string> targets, labels, confidences, answered, applied, versions;
  for (const domain::TicketPrediction& p : t.predictions) {
    targets.push_back(domain::TargetName(p.target));
    labels.push_back(p.label);
    confidences.push_back(absl::StrFormat("%.17g", p.confidence));  // exactly
    answered.push_back(p.answered ? "t" : "f");
    applied.push_back(p.applied ? "t" : "f");
    versions.push_back(absl::StrCat(p.version));
  }
  pool.Exec(tx, kSavePredictions, tenant, t.id, pg::TextArrayLiteral(targets),
            pg::TextArrayLiteral(labels), pg::TextArrayLiteral(confidences),
            pg::TextArrayLiteral(answered), pg::TextArrayLiteral(applied),
            pg::TextArrayLiteral(versions));
}

absl::StatusOr<std::vector<domain::Classifier>> PgTicketRepository::GetClassifiers(
    const std::string& tenant) {
  return TenantRows<domain::Classifier>(pool_, tenant, kSelectClassifiers, ClassifierOfRow);
}

absl::StatusOr<std::optional<std::string>> PgTicketRepository::ClassifierModel(
    const std::string& tenant, domain::ClassifierTarget target, int64_t version) {
  std::optional<std::string> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kClassifierModel, tenant, domain::TargetName(target), version);
    out.reset();
    if (!r.empty()) out = pqxx::binarystring(r[0][0]).str();
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<domain::LabelledText>> PgTicketRepository::TrainingExamples(
    const std::string& tenant, domain::ClassifierTarget target, int limit) {
  std::vector<domain::LabelledText> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const pqxx::row& r :
         pool_.Exec(tx, kTrainingExamples, tenant, domain::TargetName(target), limit)) {
      out.push_back({domain::TicketText(r[0].as<std::string>(), r[1].as<std::string>()),
                     r[2].as<std::string>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<domain::Classifier> PgTicketRepository::PutClassifier(const std::string& tenant,
                                                                     const domain::Classifier& c,
                                                                     const std::string& model) {
  absl::StatusOr<domain::Classifier> out = absl::InternalError("not written");
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r =
        pool_.Exec(tx, kPutClassifier, tenant, domain::TargetName(c.target),
                   domain::ModeName(c.mode), c.source, ReportJson(c.report).dump(),
                   pqxx::binarystring(model), c.trained_by, absl::ToUnixMicros(c.train_time));
    out = ClassifierOfRow(r[0]);
    return out.status();
  }));
  return out;
}

absl::StatusOr<domain::Classifier> PgTicketRepository::SetClassifierMode(
    const std::string& tenant, domain::ClassifierTarget target, domain::ClassifierMode mode,
    absl::Time at) {
  absl::StatusOr<domain::Classifier> out = NoClassifier();
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSetClassifierMode, tenant, domain::TargetName(target),
                                domain::ModeName(mode), absl::ToUnixMicros(at));
    out = r.empty() ? absl::StatusOr<domain::Classifier>(NoClassifier()) : ClassifierOfRow(r[0]);
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgTicketRepository::DeleteClassifier(const std::string& tenant,
                                                  domain::ClassifierTarget target) {
  bool found = false;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    found = !pool_.Exec(tx, kDeleteClassifier, tenant, domain::TargetName(target)).empty();
    return absl::OkStatus();
  }));
  return found ? absl::OkStatus() : NoClassifier();
}

absl::StatusOr<std::vector<domain::TicketPrediction>> PgTicketRepository::TicketPredictions(
    const std::string& tenant, const std::string& ticket_id) {
  return TenantRows<domain::TicketPrediction>(pool_, tenant, kSelectPredictions, PredictionOfRow,
                                              ticket_id);
}

absl::StatusOr<app::TicketRepository::Corrections> PgTicketRepository::ClassifierCorrections(
    const std::string& tenant, domain::ClassifierTarget target, absl::Time since, int window) {
  CRM_ASSIGN_OR_RETURN(std::vector<Corrections> rows,
                       TenantRows<Corrections>(
                           pool_, tenant, kClassifierCorrections,
                           [](const pqxx::row& r) {
                             return Corrections{r[0].as<int64_t>(), r[1].as<int64_t>()};
                           },
                           domain::TargetName(target), absl::ToUnixMicros(since), window));
  return rows.empty() ? Corrections{} : rows[0];
}

absl::StatusOr<std::vector<domain::AutoResponseCounts>> PgTicketRepository::AutoResponseCounts(
    const std::string& tenant, absl::Time from, absl::Time to) {
  return TenantRows<domain::AutoResponseCounts>(
      pool_, tenant, kAutoResponseCounts,
      [](const pqxx::row& r) {
        return domain::AutoResponseCounts{r[0].as<std::string>(), r[1].as<int64_t>(),
                                          r[2].as<int64_t>(), r[3].as<int64_t>(),
                                          r[4].as<int64_t>()};
      },
      absl::ToUnixMicros(from), absl::ToUnixMicros(to));
}

}  // namespace crm::service_desk::storage

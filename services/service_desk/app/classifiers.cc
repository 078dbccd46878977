#include "services/service_desk/app/classifiers.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"

namespace crm::service_desk::app {
namespace {

absl::StatusOr<domain::ClassifierTarget> TargetOf(const std::string& name) {
  std::optional<domain::ClassifierTarget> t = domain::TargetFromName(name);
  if (!t) return common::InvalidField("target", "target is queue, type or intent");
  return *t;
}

absl::StatusOr<domain::ClassifierMode> ModeOf(const std::string& name) {
  if (name.empty()) return domain::ClassifierMode::kSuggest;
  std::optional<domain::ClassifierMode> m = domain::ModeFromName(name);
  if (!m) return common::InvalidField("mode", "mode is suggest or auto");
  return *m;
}

}  // namespace

absl::StatusOr<domain::Classifier> Classifiers::Train(const Actor& actor, const TrainRequest& r) {
  domain::Classifier c;
  CRM_ASSIGN_OR_RETURN(c.target, TargetOf(r.target));
  CRM_ASSIGN_OR_RETURN(c.mode, ModeOf(r.mode));
  const double target_precision = r.precision_target == 0 ? 0.95 : r.precision_target;
  std::vector<domain::LabelledText> examples;
  if (!r.examples_ndjson.empty()) {
    c.source = "examples";
    CRM_ASSIGN_OR_RETURN(examples, domain::ParseExamples(r.examples_ndjson));
  } else {
    if (c.target == domain::ClassifierTarget::kIntent) {
      return common::InvalidField(
          "examples", "an intent classifier learns from labelled examples: send them as NDJSON");
    }
    c.source = "tickets";
    CRM_ASSIGN_OR_RETURN(
        examples, repository_.TrainingExamples(actor.tenant_id, c.target,
                                               static_cast<int>(domain::kMaxTrainingExamples)));
    CRM_RETURN_IF_ERROR(domain::CheckExamples(examples));
  }
  const absl::Time start = clock_.Now();
  // INVALID_ARGUMENT precision_target out of (0, 1].
  CRM_ASSIGN_OR_RETURN(domain::TrainedClassifier trained,
                       domain::TrainClassifier(examples, target_precision));
  c.report = std::move(trained.report);
  c.train_time = clock_.Now();
  c.report.train_seconds = absl::ToDoubleSeconds(c.train_time - start);
  c.trained_by = actor.principal;
  return repository_.PutClassifier(actor.tenant_id, c, trained.model.Serialize());
}

absl::Status Classifiers::MeasureDrift(const std::string& tenant, domain::Classifier& c) {
  if (c.target == domain::ClassifierTarget::kIntent) return absl::OkStatus();  // no field
  CRM_ASSIGN_OR_RETURN(
      TicketRepository::Corrections n,
      repository_.ClassifierCorrections(tenant, c.target, c.train_time, domain::kDriftWindow));
  c.drift = domain::DriftOf(n.applied, n.corrected, c.report);
  return absl::OkStatus();
}

absl::StatusOr<domain::Classifier> Classifiers::Get(const std::string& tenant,
                                                    const std::string& target) {
  CRM_ASSIGN_OR_RETURN(domain::ClassifierTarget t, TargetOf(target));
  CRM_ASSIGN_OR_RETURN(std::vector<domain::Classifier> all, repository_.GetClassifiers(tenant));
  for (domain::Classifier& c : all) {
    if (c.target != t) continue;
    CRM_RETURN_IF_ERROR(MeasureDrift(tenant, c));
    return std::move(c);
  }
  return common::NotFound("CLASSIFIER_NOT_FOUND", "the tenant has no classifier for this target");
}

absl::StatusOr<std::vector<domain::Classifier>> Classifiers::List(const std::string& tenant) {
  CRM_ASSIGN_OR_RETURN(std::vector<domain::Classifier> all, repository_.GetClassifiers(tenant));
  for (domain::Classifier& c : all) CRM_RETURN_IF_ERROR(MeasureDrift(tenant, c));
  return all;
}

absl::StatusOr<domain::Classifier> Classifiers::SetMode(const Actor& actor,
                                                        const std::string& target,
                                                        const std::string& mode) {
  CRM_ASSIGN_OR_RETURN(domain::ClassifierTarget t, TargetOf(target));
  if (mode.empty()) return common::InvalidField("mode", "mode is suggest or auto");
  CRM_ASSIGN_OR_RETURN(domain::ClassifierMode m, ModeOf(mode));
  return repository_.SetClassifierMode(actor.tenant_id, t, m, clock_.Now());
}

absl::Status Classifiers::Delete(const Actor& actor, const std::string& target) {
  CRM_ASSIGN_OR_RETURN(domain::ClassifierTarget t, TargetOf(target));
  return repository_.DeleteClassifier(actor.tenant_id, t);
}

absl::StatusOr<domain::AutoResponseReport> Classifiers::AutoResponseReport(
    const std::string& tenant, int days) {
  if (days == 0) days = domain::kDefaultReportDays;
  if (days < 1 || days > domain::kMaxReportDays) {
    return common::InvalidField(
        "days", absl::StrCat("days must be 1..", domain::kMaxReportDays, " (0: the default ",
                             domain::kDefaultReportDays, ")"));
  }
  const absl::Time to = absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now()));
  const absl::Time from = to - absl::Hours(24) * days;
  CRM_ASSIGN_OR_RETURN(std::vector<domain::AutoResponseCounts> counts,
                       repository_.AutoResponseCounts(tenant, from, to));
  CRM_ASSIGN_OR_RETURN(std::vector<domain::Classifier> all, repository_.GetClassifiers(tenant));
  const domain::ClassifierReport* intent = nullptr;
  for (const domain::Classifier& c : all) {
    if (c.target == domain::ClassifierTarget::kIntent) intent = &c.report;
  }
  return domain::SummarizeAutoResponses(std::move(counts), from, to, intent);
}

absl::StatusOr<std::shared_ptr<const domain::IntentModel>> ClassifierModels::Model(
    const std::string& tenant, const domain::Classifier& c) {
  const std::pair<std::string, int> key{tenant, static_cast<int>(c.target)};
  {
    absl::MutexLock lock(&mu_);
    auto it = models_.find(key);
    if (it != models_.end() && it->second.version == c.version) {
      it->second.used = ++uses_;
      return it->second.model;
    }
  }
  // Read and decoded outside the lock: another creation may do the same
  // meanwhile; the last one kept wins, both are the same model.
  CRM_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                       repository_.ClassifierModel(tenant, c.target, c.version));
  if (!bytes) return std::shared_ptr<const domain::IntentModel>();
  absl::StatusOr<domain::IntentModel> model = domain::IntentModel::Deserialize(*bytes);
  if (!model.ok()) {
    observability::LogLine(observability::Severity::kWarning)
            .Field("tenant_id", tenant)
            .Field("target", domain::TargetName(c.target))
            .Field("error", model.status().ToString())
        << "a stored classifier model does not load; it predicts nothing until retrained";
    return std::shared_ptr<const domain::IntentModel>();
  }
  auto shared = std::make_shared<const domain::IntentModel>(*std::move(model));
  absl::MutexLock lock(&mu_);
  if (models_.size() >= capacity_ && !models_.count(key)) {
    auto oldest = models_.begin();
    for (auto it = models_.begin(); it != models_.end(); ++it) {
      if (it->second.used < oldest->second.used) oldest = it;
    }
    models_.erase(oldest);
  }
  models_[key] = Entry{c.version, shared, ++uses_};
  return shared;
}

absl::StatusOr<std::vector<domain::TicketPrediction>> ClassifierModels::Predict(
    const std::string& tenant, const std::string& description, domain::Ticket& t) {
  CRM_ASSIGN_OR_RETURN(std::vector<domain::Classifier> classifiers,
                       repository_.GetClassifiers(tenant));
  std::vector<domain::TicketPrediction> out;
  if (classifiers.empty()) return out;
  const std::string text = domain::TicketText(t.subject, description);
  for (const domain::Classifier& c : classifiers) {
    CRM_ASSIGN_OR_RETURN(std::shared_ptr<const domain::IntentModel> model, Model(tenant, c));
    if (model == nullptr) continue;
    domain::TicketPrediction p = domain::PredictFor(c, *model, text);
    domain::ApplyPrediction(c, p, t);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace crm::service_desk::app

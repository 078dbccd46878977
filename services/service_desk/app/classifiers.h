#pragma once
// Classifiers of a tenant's tickets (docs/service-desk.md, "Classifiers on
// tickets"): trained on labelled texts (NDJSON) or on the tenant's solved
// and closed tickets, stored with their report and model; read, listed,
// switched between suggest and auto, deleted (admins). ClassifierModels
// predicts for new tickets with the models it loads once per version.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::app {

struct TrainRequest {
  std::string target;           // "queue", "type" or "intent"
  std::string mode;             // "suggest" (also "") or "auto"
  double precision_target = 0;  // (0, 1]; 0: 0.95
  // NDJSON {"text", "label"} lines; empty: the tenant's solved and closed
  // tickets (queue and type only).
  std::string examples_ndjson;
};

class Classifiers final {
 public:
  Classifiers(TicketRepository& repository, const common::Clock& clock)
      : repository_(repository), clock_(clock) {}

  // INVALID_ARGUMENT naming target, mode, precision_target or examples.
  // Training takes seconds for tens of thousands of texts (a retry trains
  // again: the same texts give the same model under a new version).
  absl::StatusOr<domain::Classifier> Train(const Actor& actor, const TrainRequest& r);
  // NOT_FOUND CLASSIFIER_NOT_FOUND when the tenant has none for the target.
  // Get and List measure each queue and type classifier's drift.
  absl::StatusOr<domain::Classifier> Get(const std::string& tenant, const std::string& target);
  absl::StatusOr<std::vector<domain::Classifier>> List(const std::string& tenant);
  absl::StatusOr<domain::Classifier> SetMode(const Actor& actor, const std::string& target,
                                             const std::string& mode);
  absl::Status Delete(const Actor& actor, const std::string& target);
  // Auto-response's figures over the mail tickets opened in the last
  // `days` (1..366; 0: 30; INVALID_ARGUMENT naming days otherwise), with
  // the intent classifier's held-out figures.
  absl::StatusOr<domain::AutoResponseReport> AutoResponseReport(const std::string& tenant,
                                                                int days);

 private:
  absl::Status MeasureDrift(const std::string& tenant, domain::Classifier& c);

  TicketRepository& repository_;
  const common::Clock& clock_;
};

// The tenants' models, each read from the repository once per version and
// kept (the `capacity` most recently used: a 77-label model is ~25 MB in
// memory, the replica's limit 1 GiB, k8s/services.yaml).
class ClassifierModels final {
 public:
  explicit ClassifierModels(TicketRepository& repository, size_t capacity = 8)
      : repository_(repository), capacity_(capacity) {}

  // Every classifier of the tenant on a new ticket's text (its subject and
  // first message): its prediction, and in mode auto a known queue or type
  // filling an empty field of `t`. A classifier retrained or deleted
  // meanwhile, or whose model does not load (logged), predicts nothing.
  absl::StatusOr<std::vector<domain::TicketPrediction>> Predict(const std::string& tenant,
                                                                const std::string& description,
                                                                domain::Ticket& t);

 private:
  struct Entry {
    int64_t version = 0;
    std::shared_ptr<const domain::IntentModel> model;
    uint64_t used = 0;
  };
  absl::StatusOr<std::shared_ptr<const domain::IntentModel>> Model(const std::string& tenant,
                                                                   const domain::Classifier& c);

  TicketRepository& repository_;
  const size_t capacity_;
  absl::Mutex mu_;
  std::map<std::pair<std::string, int>, Entry> models_ ABSL_GUARDED_BY(mu_);
  uint64_t uses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::service_desk::app

#pragma once
// Use cases of the segmentation engine over the purchases it keeps: the
// tenant's lifetime-value model (refit, evaluate, read), a customer's scores
// and the tenant's RFM summary.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "libs/common/clock.h"
#include "services/segmentation/app/facts.h"
#include "services/segmentation/app/ports.h"
#include "services/segmentation/app/segment_ports.h"
#include "services/segmentation/domain/holdout.h"
#include "services/segmentation/domain/rfm.h"
#include "services/segmentation/domain/scores.h"

namespace crm::segmentation::app {

// Which purchases a model or summary reads and how it counts time.
struct ModelSettings {
  domain::TimeUnit unit = domain::TimeUnit::kWeeks;
  // IANA: purchase days are its calendar days; "": the tenant's
  // (SegmentationSettings.time_zone, UTC by default).
  std::string time_zone;
  std::string currency_code;      // "": the currency most purchases are in
};

struct RefitRequest {
  std::optional<absl::CivilDay> as_of;  // default: today in time_zone
  ModelSettings settings;
};

struct EvaluateRequest {
  absl::CivilDay calibration_end;
  absl::CivilDay holdout_end;
  ModelSettings settings;
};

struct Evaluation {
  domain::HoldoutEvaluation result;  // one point per week of the holdout
  std::string currency_code;
  int customers = 0;
};

struct CustomerScores {
  std::string customer_id;
  absl::CivilDay as_of;
  std::string currency_code;  // the model's (or the main currency without a model)
  // The customer's purchase summary at as_of; nullopt: no purchase up to as_of.
  std::optional<domain::CustomerSummary> summary;
  int64_t orders = 0;
  double monetary = 0;  // net, major units
  std::optional<absl::CivilDay> last_purchase;
  std::optional<domain::RfmScore> rfm;
  std::optional<domain::ModelScores> model;  // nullopt: no model, or no purchase
  std::string model_absent_reason;           // why `model` is nullopt
};

struct RfmSummaryRequest {
  std::optional<absl::CivilDay> as_of;  // default: today in time_zone
  ModelSettings settings;               // unit unused
};

struct RfmSummary {
  absl::CivilDay as_of;
  std::string currency_code;
  domain::RfmBreakpoints recency{}, frequency{}, monetary{};
  int customers = 0;
  std::vector<std::pair<domain::RfmSegment, int>> segments;  // every named segment, in order
};

class Models {
 public:
  // `settings`: whether profiling needs an opt-in (scores follow it).
  // `versions` (optional; must outlive this): with it, a customer's scores
  // reuse the tenant's RFM breakpoints (and main currency) while the
  // tenant's purchases are unchanged, recomputing them at most every
  // kPopulationFloor while purchases keep changing; without it, every call
  // reads all of the tenant's purchases.
  Models(ModelRepository& models, FactRepository& facts, SettingsReader& settings,
         const common::Clock& clock, const PurchaseVersions* versions = nullptr)
      : models_(models), facts_(facts), settings_(settings), clock_(clock), versions_(versions) {}

  static constexpr absl::Duration kPopulationFloor = absl::Seconds(5);

  // NOT_FOUND (MODEL_NOT_FOUND) before the tenant's first successful refit.
  absl::StatusOr<domain::ClvModel> GetClv(const std::string& tenant);
  // Fits BG/NBD and Gamma-Gamma on the purchases up to as_of and stores the
  // model (idempotent by request_id). A refused fit (INSUFFICIENT_DATA,
  // MODEL_NOT_CONVERGED) keeps the previous model.
  absl::StatusOr<domain::ClvModel> RefitClv(const outbox::WriteMeta& actor,
                                            const RefitRequest& req);
  // Calibration/holdout check; stores nothing.
  absl::StatusOr<Evaluation> EvaluateClv(const std::string& tenant, const EvaluateRequest& req);
  // NOT_FOUND (CUSTOMER_NOT_FOUND) for a customer the engine does not know.
  absl::StatusOr<CustomerScores> Scores(const std::string& tenant, const std::string& customer_id,
                                        std::optional<absl::CivilDay> as_of,
                                        const domain::ScoreOptions& options = {});
  // INSUFFICIENT_DATA when no customer bought in the currency up to as_of.
  absl::StatusOr<RfmSummary> Rfm(const std::string& tenant, const RfmSummaryRequest& req);

  // The scheduled refit: every tenant whose model is older than `max_age`
  // (up to `limit` per call) is refitted as of today with the model's own
  // settings, under the key "scheduled:<today>" (one refit per tenant and
  // day however many replicas run it; a refused one is not retried until
  // the next day, and keeps the previous model).
  struct ScheduledRefits {
    int refitted = 0;
    int refused = 0;
  };
  absl::StatusOr<ScheduledRefits> RefitDue(absl::Duration max_age, int limit = 100);

 private:
  ModelRepository& models_;
  FactRepository& facts_;
  SettingsReader& settings_;

  // `settings` with the tenant's time zone where it names none.
  absl::StatusOr<ModelSettings> WithTenantZone(const std::string& tenant, ModelSettings settings);
  const common::Clock& clock_;

  // What a customer's scores read from the whole tenant: its reporting
  // currency ("" : no purchase) and the RFM breakpoints of every customer's
  // orders in it up to as_of (nullopt: none).
  struct Population {
    std::string currency_code;
    std::optional<domain::RfmResult> rfm;  // breakpoints only
    uint64_t version = 0;
    absl::Time computed;
  };
  // `currency`: the model's ("": the main one).
  absl::StatusOr<Population> PopulationOf(const std::string& tenant, absl::CivilDay as_of,
                                          const std::string& currency, const std::string& zone,
                                          const absl::TimeZone& tz);
  const PurchaseVersions* const versions_;
  absl::Mutex population_mu_;
  std::map<std::string, Population> populations_ ABSL_GUARDED_BY(population_mu_);
};

}  // namespace crm::segmentation::app

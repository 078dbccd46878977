#include "services/segmentation/app/models.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "libs/common/currency.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/time_zone.h"
#include "services/segmentation/domain/purchases.h"

namespace crm::segmentation::app {
namespace {

absl::StatusOr<absl::TimeZone> ZoneOf(const std::string& name) {
  absl::TimeZone tz;
  if (name.empty() || !common::LoadZone(name, &tz)) {
    return common::InvalidField(
        "settings.time_zone",
        absl::StrCat("unknown time zone \"", name, "\": give an IANA name such as Europe/Zurich"));
  }
  return tz;
}

// The currency the settings name (checked), else the purchases' main one.
absl::StatusOr<std::string> CurrencyOf(const ModelSettings& s,
                                       const std::vector<domain::PurchaseRecord>& records) {
  if (!s.currency_code.empty()) {
    if (!common::MinorUnitDigits(s.currency_code)) {
      return common::InvalidField("settings.currency_code", "not an ISO 4217 currency code");
    }
    return s.currency_code;
  }
  std::string main = domain::MainCurrency(records);
  if (main.empty()) {
    return common::WithReason(
        absl::FailedPreconditionError("the tenant has no purchases to model yet"),
        "INSUFFICIENT_DATA");
  }
  return main;
}

std::vector<domain::Transaction> TransactionsIn(const std::vector<domain::PurchaseRecord>& records,
                                                const std::string& currency,
                                                const absl::TimeZone& tz) {
  return domain::TransactionsOf(records, currency, common::MinorUnitDigits(currency).value_or(2),
                                tz);
}

// RFM of every customer's orders in `currency` up to `as_of`; nullopt when
// there is none.
absl::StatusOr<std::optional<domain::RfmResult>> RfmUpTo(
    const std::vector<domain::PurchaseRecord>& records, const std::string& currency,
    const absl::TimeZone& tz, absl::CivilDay as_of) {
  std::vector<domain::Order> orders;
  for (const domain::Order& o : domain::RfmOrdersOf(TransactionsIn(records, currency, tz))) {
    if (o.day <= as_of) orders.push_back(o);
  }
  if (orders.empty()) return std::nullopt;
  CRM_ASSIGN_OR_RETURN(std::vector<domain::RfmInput> inputs,
                       domain::RfmInputsFromOrders(orders, as_of));
  return domain::ScoreRfm(inputs);
}

absl::Status CheckNotFuture(absl::CivilDay day, absl::CivilDay today, absl::string_view field) {
  if (day > today) {
    return common::InvalidField(
        field, absl::StrCat("must not be after today (", absl::FormatCivilTime(today), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<domain::ClvModel> Models::GetClv(const std::string& tenant) {
  CRM_ASSIGN_OR_RETURN(std::optional<domain::ClvModel> model, models_.GetClvModel(tenant));
  if (!model) {
    return common::WithReason(
        absl::NotFoundError("no lifetime-value model yet: refit one (POST /v1/models/clv:refit)"),
        "MODEL_NOT_FOUND");
  }
  return *std::move(model);
}

absl::StatusOr<ModelSettings> Models::WithTenantZone(const std::string& tenant,
                                                     ModelSettings settings) {
  if (settings.time_zone.empty()) {
    CRM_ASSIGN_OR_RETURN(domain::SegmentationSettings s, settings_.Settings(tenant));
    settings.time_zone = s.time_zone;
  }
  return settings;
}

absl::StatusOr<domain::ClvModel> Models::RefitClv(const outbox::WriteMeta& actor,
                                                  const RefitRequest& request) {
  RefitRequest req = request;
  CRM_ASSIGN_OR_RETURN(req.settings, WithTenantZone(actor.tenant_id, req.settings));
  CRM_ASSIGN_OR_RETURN(absl::TimeZone tz, ZoneOf(req.settings.time_zone));
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, tz);
  const absl::CivilDay as_of = req.as_of.value_or(today);
  CRM_RETURN_IF_ERROR(CheckNotFuture(as_of, today, "as_of"));
  return models_.Run<domain::ClvModel>(
      actor, "clv", [&](ModelTx& tx) -> absl::StatusOr<domain::ClvModel> {
        CRM_ASSIGN_OR_RETURN(std::vector<domain::PurchaseRecord> records, tx.LoadPurchases());
        domain::ClvModel m;
        m.as_of = as_of;
        m.unit = req.settings.unit;
        m.time_zone = req.settings.time_zone;
        CRM_ASSIGN_OR_RETURN(m.currency_code, CurrencyOf(req.settings, records));
        m.fitted_at = now;
        CRM_ASSIGN_OR_RETURN(std::vector<domain::CustomerSummary> summaries,
                             domain::SummarizeAll(TransactionsIn(records, m.currency_code, tz),
                                                  {as_of, std::nullopt, m.unit}));
        std::vector<domain::FrequencyRecency> fr;
        std::vector<domain::SpendObservation> spend;
        fr.reserve(summaries.size());
        for (const domain::CustomerSummary& s : summaries) {
          fr.push_back({static_cast<double>(s.x), s.t_x, s.T});
          if (s.x >= 1 && s.m_x > 0) spend.push_back({static_cast<double>(s.x), s.m_x});
        }
        CRM_ASSIGN_OR_RETURN(m.purchases, domain::FitBgNbd(fr));
        CRM_ASSIGN_OR_RETURN(m.spend, domain::FitGammaGamma(spend));
        tx.Save(m);
        tx.EmitRefitted(m);
        return m;
      });
}

absl::StatusOr<Evaluation> Models::EvaluateClv(const std::string& tenant,
                                               const EvaluateRequest& request) {
  EvaluateRequest req = request;
  CRM_ASSIGN_OR_RETURN(req.settings, WithTenantZone(tenant, req.settings));
  CRM_ASSIGN_OR_RETURN(absl::TimeZone tz, ZoneOf(req.settings.time_zone));
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), tz);
  CRM_RETURN_IF_ERROR(CheckNotFuture(req.holdout_end, today, "holdout_end"));
  if (req.holdout_end <= req.calibration_end) {
    return common::InvalidField("holdout_end", "must be after calibration_end");
  }
  CRM_ASSIGN_OR_RETURN(std::vector<domain::PurchaseRecord> records, facts_.Purchases(tenant));
  Evaluation out;
  CRM_ASSIGN_OR_RETURN(out.currency_code, CurrencyOf(req.settings, records));
  CRM_ASSIGN_OR_RETURN(
      std::vector<domain::CustomerSummary> summaries,
      domain::SummarizeAll(TransactionsIn(records, out.currency_code, tz),
                           {req.calibration_end, req.holdout_end, req.settings.unit}));
  out.customers = static_cast<int>(summaries.size());
  // One point per week of the holdout (the last may be a part week).
  const double week = req.settings.unit == domain::TimeUnit::kWeeks ? 1.0 : 7.0;
  const int periods = static_cast<int>(std::ceil((req.holdout_end - req.calibration_end) / 7.0));
  CRM_ASSIGN_OR_RETURN(out.result, domain::EvaluateHoldout(summaries, periods, week));
  return out;
}

absl::StatusOr<Models::Population> Models::PopulationOf(const std::string& tenant,
                                                        absl::CivilDay as_of,
                                                        const std::string& currency,
                                                        const std::string& zone,
                                                        const absl::TimeZone& tz) {
  constexpr size_t kMaxPopulations = 10000;
  const std::string key =
      absl::StrCat(tenant, "|", absl::FormatCivilTime(as_of), "|", zone, "|", currency);
  const absl::Time now = clock_.Now();
  const uint64_t version = versions_ ? versions_->Of(tenant) : 0;  // before the read
  if (versions_ != nullptr) {
    absl::MutexLock l(&population_mu_);
    auto it = populations_.find(key);
    if (it != populations_.end() &&
        (it->second.version == version || now - it->second.computed < kPopulationFloor)) {
      return it->second;
    }
  }
  CRM_ASSIGN_OR_RETURN(std::vector<domain::PurchaseRecord> records, facts_.Purchases(tenant));
  Population p;
  p.version = version;
  p.computed = now;
  p.currency_code = currency.empty() ? domain::MainCurrency(records) : currency;
  if (!p.currency_code.empty()) {
    CRM_ASSIGN_OR_RETURN(std::optional<domain::RfmResult> rfm,
                         RfmUpTo(records, p.currency_code, tz, as_of));
    if (rfm) {  // the breakpoints are what is kept
      p.rfm = domain::RfmResult{rfm->recency, rfm->frequency, rfm->monetary, {}};
    }
  }
  if (versions_ != nullptr) {
    absl::MutexLock l(&population_mu_);
    if (populations_.size() >= kMaxPopulations) populations_.clear();
    populations_[key] = p;
  }
  return p;
}

absl::StatusOr<CustomerScores> Models::Scores(const std::string& tenant,
                                              const std::string& customer_id,
                                              std::optional<absl::CivilDay> as_of,
                                              const domain::ScoreOptions& options) {
  CRM_ASSIGN_OR_RETURN(bool known, facts_.KnowsCustomer(tenant, customer_id));
  if (!known) {
    return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
  }
  CRM_ASSIGN_OR_RETURN(std::optional<domain::ClvModel> model, models_.GetClvModel(tenant));
  CRM_ASSIGN_OR_RETURN(domain::SegmentationSettings tenant_settings, settings_.Settings(tenant));
  ModelSettings settings;
  if (model) settings = {model->unit, model->time_zone, model->currency_code};
  if (settings.time_zone.empty()) settings.time_zone = tenant_settings.time_zone;
  CRM_ASSIGN_OR_RETURN(absl::TimeZone tz, ZoneOf(settings.time_zone));
  CustomerScores out;
  out.customer_id = customer_id;
  out.as_of = as_of.value_or(absl::ToCivilDay(clock_.Now(), tz));
  CRM_ASSIGN_OR_RETURN(
      Population population,
      PopulationOf(tenant, out.as_of, model ? model->currency_code : "", settings.time_zone, tz));
  out.currency_code = population.currency_code;
  if (out.currency_code.empty()) {
    out.model_absent_reason = "the tenant has no purchases yet";
    return out;
  }
  CRM_ASSIGN_OR_RETURN(std::vector<domain::CustomerConsent> consents,
                       facts_.Consents(tenant, std::vector<std::string>{customer_id}));
  domain::ConsentFields kept;
  for (const auto& c : consents) kept[domain::ConsentField(c.channel, c.purpose)] = c.status;
  const domain::Profiling profiling =
      domain::ProfilingOf(kept, tenant_settings.profiling_requires_opt_in);
  CRM_ASSIGN_OR_RETURN(std::vector<domain::PurchaseRecord> records,
                       facts_.PurchasesOf(tenant, customer_id));
  std::vector<domain::Transaction> mine;
  for (const domain::Transaction& t : TransactionsIn(records, out.currency_code, tz)) {
    if (t.day <= out.as_of) {
      mine.push_back(t);
      ++out.orders;
      out.monetary += t.amount;
      if (!out.last_purchase || t.day > *out.last_purchase) out.last_purchase = t.day;
    }
  }
  if (mine.empty()) {
    out.model_absent_reason = absl::StrCat("no purchase in ", out.currency_code, " up to as_of");
    return out;
  }
  if (profiling != domain::Profiling::kAllowed) {
    // Orders and spend are the customer's records; scores are profiling.
    out.model_absent_reason = domain::ProfilingRefusal(profiling);
    return out;
  }
  std::vector<domain::Purchase> days;
  for (const domain::Transaction& t : mine) days.push_back({t.day, t.amount});
  CRM_ASSIGN_OR_RETURN(out.summary,
                       domain::Summarize(days, {out.as_of, std::nullopt, settings.unit}));
  // RFM against every customer's orders up to as_of (the population's
  // breakpoints; the customer's own values are read now).
  if (population.rfm) {
    CRM_ASSIGN_OR_RETURN(std::vector<domain::RfmInput> own,
                         domain::RfmInputsFromOrders(domain::RfmOrdersOf(mine), out.as_of));
    if (own.size() == 1) out.rfm = domain::RfmScoreOf(own.front(), *population.rfm);
  }
  if (!model) {
    out.model_absent_reason = "no lifetime-value model yet";
    return out;
  }
  CRM_ASSIGN_OR_RETURN(out.model, domain::ScoreCustomer(*model, *out.summary, options));
  return out;
}

absl::StatusOr<Models::ScheduledRefits> Models::RefitDue(absl::Duration max_age, int limit) {
  CRM_ASSIGN_OR_RETURN(std::vector<TenantModel> due,
                       models_.ModelsFittedBefore(clock_.Now() - max_age, limit));
  ScheduledRefits out;
  for (const TenantModel& t : due) {
    CRM_ASSIGN_OR_RETURN(absl::TimeZone tz, ZoneOf(t.model.time_zone));
    const std::string today = absl::FormatCivilTime(absl::ToCivilDay(clock_.Now(), tz));
    outbox::WriteMeta actor{t.tenant_id,          "scheduler", "", "ScheduledRefitClvModel",
                            "scheduled:" + today, ""};
    RefitRequest req;
    req.settings = {t.model.unit, t.model.time_zone, t.model.currency_code};
    absl::StatusOr<domain::ClvModel> m = RefitClv(actor, req);
    if (m.ok()) {
      ++out.refitted;
    } else if (absl::IsFailedPrecondition(m.status()) || absl::IsInvalidArgument(m.status())) {
      ++out.refused;  // the tenant's data; the previous model stays
    } else {
      return m.status();  // the database: the next round retries
    }
  }
  return out;
}

absl::StatusOr<RfmSummary> Models::Rfm(const std::string& tenant,
                                       const RfmSummaryRequest& request) {
  RfmSummaryRequest req = request;
  CRM_ASSIGN_OR_RETURN(req.settings, WithTenantZone(tenant, req.settings));
  CRM_ASSIGN_OR_RETURN(absl::TimeZone tz, ZoneOf(req.settings.time_zone));
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), tz);
  RfmSummary out;
  out.as_of = req.as_of.value_or(today);
  CRM_RETURN_IF_ERROR(CheckNotFuture(out.as_of, today, "as_of"));
  CRM_ASSIGN_OR_RETURN(std::vector<domain::PurchaseRecord> records, facts_.Purchases(tenant));
  CRM_ASSIGN_OR_RETURN(out.currency_code, CurrencyOf(req.settings, records));
  CRM_ASSIGN_OR_RETURN(std::optional<domain::RfmResult> scored,
                       RfmUpTo(records, out.currency_code, tz, out.as_of));
  if (!scored) {
    return common::WithReason(
        absl::FailedPreconditionError(absl::StrCat("no purchase in ", out.currency_code, " up to ",
                                                   absl::FormatCivilTime(out.as_of))),
        "INSUFFICIENT_DATA");
  }
  const domain::RfmResult& rfm = *scored;
  out.recency = rfm.recency;
  out.frequency = rfm.frequency;
  out.monetary = rfm.monetary;
  out.customers = static_cast<int>(rfm.scores.size());
  std::vector<int> counts(static_cast<int>(domain::RfmSegment::kOthers) + 1, 0);
  for (const domain::RfmScore& s : rfm.scores) {
    ++counts[static_cast<int>(domain::SegmentOf(s.r, s.f, s.m))];
  }
  for (size_t i = 0; i < counts.size(); ++i) {
    out.segments.emplace_back(static_cast<domain::RfmSegment>(i), counts[i]);
  }
  return out;
}

}  // namespace crm::segmentation::app

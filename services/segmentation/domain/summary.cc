#include "services/segmentation/domain/summary.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/segmentation/domain/model_support.h"

namespace crm::segmentation::domain {
namespace {

double InUnit(absl::civil_diff_t days, TimeUnit unit) {
  return unit == TimeUnit::kWeeks ? static_cast<double>(days) / 7.0 : static_cast<double>(days);
}

absl::Status CheckOptions(const SummaryOptions& options) {
  if (options.holdout_end && *options.holdout_end < options.calibration_end) {
    return common::InvalidField("holdout_end", "holdout_end must not be before calibration_end");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<CustomerSummary>> Summarize(std::vector<Purchase> purchases,
                                                         const SummaryOptions& options) {
  CRM_RETURN_IF_ERROR(CheckOptions(options));
  for (size_t i = 0; i < purchases.size(); ++i) {
    CRM_RETURN_IF_ERROR(
        CheckFinite(purchases[i].amount, absl::StrCat("purchases[", i, "].amount")));
  }
  // Day totals of purchase rows; returns summed apart.
  std::map<absl::CivilDay, double> calibration_days;
  std::map<absl::CivilDay, bool> holdout_days;
  CustomerSummary s;
  for (const Purchase& p : purchases) {
    if (p.day <= options.calibration_end) {
      if (p.amount < 0) {
        s.returns += -p.amount;
      } else {
        calibration_days[p.day] += p.amount;
      }
    } else if (options.holdout_end && p.day <= *options.holdout_end && p.amount >= 0) {
      holdout_days[p.day] = true;
    }
  }
  if (calibration_days.empty()) return std::optional<CustomerSummary>();
  s.first_day = calibration_days.begin()->first;
  const absl::CivilDay last = calibration_days.rbegin()->first;
  s.x = static_cast<int>(calibration_days.size()) - 1;
  s.t_x = InUnit(last - s.first_day, options.unit);
  s.T = InUnit(options.calibration_end - s.first_day, options.unit);
  if (s.x > 0) {
    double repeat_total = 0;
    for (auto it = std::next(calibration_days.begin()); it != calibration_days.end(); ++it) {
      repeat_total += it->second;
    }
    s.m_x = repeat_total / s.x;
  }
  for (const auto& [day, unused] : holdout_days) {
    s.holdout_purchase_times.push_back(InUnit(day - options.calibration_end, options.unit));
  }
  return std::optional<CustomerSummary>(std::move(s));
}

absl::StatusOr<std::vector<CustomerSummary>> SummarizeAll(
    const std::vector<Transaction>& transactions, const SummaryOptions& options) {
  CRM_RETURN_IF_ERROR(CheckOptions(options));
  std::map<std::string, std::vector<Purchase>> by_customer;
  for (const Transaction& t : transactions) {
    by_customer[t.customer_id].push_back({t.day, t.amount});
  }
  std::vector<CustomerSummary> out;
  out.reserve(by_customer.size());
  for (auto& [id, purchases] : by_customer) {
    CRM_ASSIGN_OR_RETURN(std::optional<CustomerSummary> s,
                         Summarize(std::move(purchases), options));
    if (!s) continue;
    s->customer_id = id;
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace crm::segmentation::domain

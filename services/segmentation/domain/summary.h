#pragma once
// A customer's purchase history condensed to what BG/NBD and Gamma-Gamma
// read (x, t_x, T, m_x), by the CDNOW protocol of the papers:
//   - all purchases of one calendar day are one event (amounts summed), so
//     frequency counts purchase days;
//   - x = calibration purchase days - 1 (repeat purchases);
//   - t_x = (last - first calibration purchase day), 0 when x = 0;
//   - T = (calibration end - first purchase day);
//   - m_x = mean day total over the repeat days (first day excluded), 0 when
//     x = 0; t_x and T in days or weeks (days / 7).
// Returns: a row with a negative amount is a return. It never makes a
// purchase day and is not netted into any day's total (a return usually
// comes days later than the purchase it undoes); its absolute value is added
// to `returns` (calibration period), for callers who want net figures.
// A row with amount 0 is a purchase (a free item still is a visit).
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace crm::segmentation::domain {

enum class TimeUnit { kDays, kWeeks };

struct Purchase {
  absl::CivilDay day;
  double amount = 0;  // < 0: a return (see above)
};

struct SummaryOptions {
  absl::CivilDay calibration_end;             // inclusive
  std::optional<absl::CivilDay> holdout_end;  // inclusive; none: no holdout
  TimeUnit unit = TimeUnit::kWeeks;
};

struct CustomerSummary {
  std::string customer_id;
  absl::CivilDay first_day;
  int x = 0;
  double t_x = 0;
  double T = 0;
  double m_x = 0;
  double returns = 0;  // Σ |amount| of calibration returns
  // Purchase days in (calibration_end, holdout_end], as times after
  // calibration_end in the summary's unit (day 1 = 1/7 week), ascending.
  std::vector<double> holdout_purchase_times;
};

// One customer's summary; std::nullopt when they made no purchase up to
// calibration_end. INVALID_ARGUMENT (INVALID_FIELD) for a non-finite amount
// or a holdout_end before calibration_end.
absl::StatusOr<std::optional<CustomerSummary>> Summarize(std::vector<Purchase> purchases,
                                                         const SummaryOptions& options);

struct Transaction {
  std::string customer_id;
  absl::CivilDay day;
  double amount = 0;
};

// Summaries of every customer with a purchase up to calibration_end, ordered
// by customer_id.
absl::StatusOr<std::vector<CustomerSummary>> SummarizeAll(
    const std::vector<Transaction>& transactions, const SummaryOptions& options);

}  // namespace crm::segmentation::domain

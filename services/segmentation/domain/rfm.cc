#include "services/segmentation/domain/rfm.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/segmentation/domain/model_support.h"

namespace crm::segmentation::domain {
namespace {

struct Rule {
  RfmSegment segment;
  int r_lo, r_hi, f_lo, f_hi, m_lo, m_hi;
};

// The table in rfm.h, in order.
constexpr Rule kRules[] = {
    {RfmSegment::kChampions, 4, 5, 4, 5, 4, 5},
    {RfmSegment::kLoyal, 2, 5, 3, 5, 3, 5},
    {RfmSegment::kNew, 4, 5, 1, 1, 1, 1},
    {RfmSegment::kPromising, 3, 4, 1, 1, 1, 1},
    {RfmSegment::kPotentialLoyalist, 3, 5, 1, 3, 1, 3},
    {RfmSegment::kNeedAttention, 2, 3, 2, 3, 2, 3},
    {RfmSegment::kAboutToSleep, 2, 3, 1, 2, 1, 2},
    {RfmSegment::kCantLoseThem, 1, 1, 4, 5, 4, 5},
    {RfmSegment::kAtRisk, 1, 2, 2, 5, 2, 5},
    {RfmSegment::kLost, 1, 1, 1, 1, 1, 1},
    {RfmSegment::kHibernating, 1, 2, 1, 2, 1, 2},
};

}  // namespace

double QuantileType7(const std::vector<double>& sorted, double prob) {
  const double h = (static_cast<double>(sorted.size()) - 1) * prob;
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted[lo];
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

RfmBreakpoints RfmBreakpointsOf(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  RfmBreakpoints b{};
  for (int i = 0; i < 4; ++i) b[i] = QuantileType7(values, 0.2 * (i + 1)) + 1;
  return b;
}

int RfmBin(double v, const RfmBreakpoints& b) {
  int bin = 1;
  for (double bi : b) bin += v >= bi ? 1 : 0;
  return bin;
}

absl::StatusOr<RfmResult> ScoreRfm(const std::vector<RfmInput>& customers, RfmTiePolicy ties) {
  (void)ties;  // kEqualValuesShareBin is the one policy; RfmBin implements it
  if (customers.empty()) {
    return common::InvalidField("customers", "RFM scoring needs at least one customer");
  }
  std::vector<double> rec, freq, mon;
  for (size_t i = 0; i < customers.size(); ++i) {
    const RfmInput& c = customers[i];
    const std::string where = absl::StrCat("customers[", i, "]");
    CRM_RETURN_IF_ERROR(CheckFinite(c.recency_days, where + ".recency_days"));
    CRM_RETURN_IF_ERROR(CheckFinite(c.frequency, where + ".frequency"));
    CRM_RETURN_IF_ERROR(CheckFinite(c.monetary, where + ".monetary"));
    if (c.recency_days < 0) {
      return common::InvalidField(where + ".recency_days", "recency must be >= 0 days");
    }
    if (c.frequency < 0)
      return common::InvalidField(where + ".frequency", "frequency must be >= 0");
    rec.push_back(c.recency_days);
    freq.push_back(c.frequency);
    mon.push_back(c.monetary);
  }
  RfmResult out;
  out.recency = RfmBreakpointsOf(std::move(rec));
  out.frequency = RfmBreakpointsOf(std::move(freq));
  out.monetary = RfmBreakpointsOf(std::move(mon));
  out.scores.reserve(customers.size());
  for (const RfmInput& c : customers) out.scores.push_back(RfmScoreOf(c, out));
  return out;
}

RfmScore RfmScoreOf(const RfmInput& c, const RfmResult& b) {
  return {c.customer_id, 6 - RfmBin(c.recency_days, b.recency), RfmBin(c.frequency, b.frequency),
          RfmBin(c.monetary, b.monetary)};
}

absl::StatusOr<std::vector<RfmInput>> RfmInputsFromOrders(const std::vector<Order>& orders,
                                                          absl::CivilDay analysis_date) {
  struct Acc {
    absl::CivilDay last;
    double count = 0;
    double sum = 0;
  };
  std::map<std::string, Acc> by_customer;
  for (size_t i = 0; i < orders.size(); ++i) {
    const Order& o = orders[i];
    const std::string where = absl::StrCat("orders[", i, "]");
    CRM_RETURN_IF_ERROR(CheckFinite(o.revenue, where + ".revenue"));
    if (o.day > analysis_date) {
      return common::InvalidField(where + ".day", "order after the analysis date");
    }
    auto [it, inserted] = by_customer.try_emplace(o.customer_id, Acc{o.day});
    Acc& a = it->second;
    if (o.day > a.last) a.last = o.day;
    a.count += 1;
    a.sum += o.revenue;
  }
  std::vector<RfmInput> out;
  out.reserve(by_customer.size());
  for (const auto& [id, a] : by_customer) {
    out.push_back({id, static_cast<double>(analysis_date - a.last), a.count, a.sum});
  }
  return out;
}

RfmSegment SegmentOf(int r, int f, int m) {
  for (const Rule& rule : kRules) {
    if (r >= rule.r_lo && r <= rule.r_hi && f >= rule.f_lo && f <= rule.f_hi && m >= rule.m_lo &&
        m <= rule.m_hi) {
      return rule.segment;
    }
  }
  return RfmSegment::kOthers;
}

absl::string_view SegmentName(RfmSegment segment) {
  switch (segment) {
    case RfmSegment::kChampions:
      return "Champions";
    case RfmSegment::kLoyal:
      return "Loyal";
    case RfmSegment::kNew:
      return "New";
    case RfmSegment::kPromising:
      return "Promising";
    case RfmSegment::kPotentialLoyalist:
      return "Potential loyalist";
    case RfmSegment::kNeedAttention:
      return "Need attention";
    case RfmSegment::kAboutToSleep:
      return "About to sleep";
    case RfmSegment::kCantLoseThem:
      return "Can't lose them";
    case RfmSegment::kAtRisk:
      return "At risk";
    case RfmSegment::kLost:
      return "Lost";
    case RfmSegment::kHibernating:
      return "Hibernating";
    case RfmSegment::kOthers:
      return "Others";
  }
  return "Others";
}

}  // namespace crm::segmentation::domain

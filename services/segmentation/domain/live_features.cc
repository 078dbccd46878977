#include "services/segmentation/domain/live_features.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "libs/common/currency.h"
#include "libs/common/time_zone.h"
#include "services/segmentation/domain/behaviour.h"
#include "services/segmentation/domain/scores.h"

namespace crm::segmentation::domain {
namespace {

double MajorOf(int64_t minor, const std::string& currency) {
  return static_cast<double>(minor) / std::pow(10.0, common::MinorUnitDigits(currency).value_or(2));
}

// The customer's purchases in the context's currency up to `now`: amount per
// calendar day, and the number of orders.
struct Days {
  std::map<absl::CivilDay, double> amount;
  int orders = 0;
  double total = 0;
};

Days DaysOf(const LiveCustomer& c, const FeatureContext& ctx, absl::Time now) {
  Days out;
  for (const LivePurchase& p : c.purchases) {
    if (p.currency_code != ctx.currency_code || p.time > now) continue;
    const double amount = MajorOf(p.net_minor, p.currency_code);
    out.amount[absl::ToCivilDay(p.time, ctx.time_zone)] += amount;
    out.total += amount;
    ++out.orders;
  }
  return out;
}

// last_seen (days since the last purchase or behaviour event up to `now`)
// and top_category (the category most often bought or viewed: counted once
// per purchase and once per event that names one; ties go to the smallest
// path) into `s`, whose purchases are already the reporting currency's.
void AddActivityFeatures(const LiveCustomer& c, CustomerSnapshot& s, const FeatureContext& ctx,
                         absl::Time now, absl::CivilDay today) {
  std::optional<absl::Time> last;
  std::map<std::string, int> categories;
  for (const LivePurchase& p : c.purchases) {
    if (p.time <= now && (!last || p.time > *last)) last = p.time;
  }
  for (const SegmentPurchase& p : s.purchases) {
    if (p.time > now) continue;
    for (const std::string& category : p.categories) ++categories[category];
  }
  for (const SegmentEvent& e : c.events) {
    if (e.time > now) continue;
    // A message sent to the customer is not something the customer did.
    if (e.type != "email.sent" && (!last || e.time > *last)) last = e.time;
    auto it = e.properties.find(std::string(kCategoryProperty));
    if (it != e.properties.end()) {
      if (const auto* category = std::get_if<std::string>(&it->second)) ++categories[*category];
    }
  }
  if (last) s.fields["last_seen"] = static_cast<double>(today - absl::ToCivilDay(*last, ctx.time_zone));
  int best = 0;
  std::string top;
  for (const auto& [category, n] : categories) {
    if (n > best) top = category, best = n;  // ordered: ties go to the smallest path
  }
  if (best > 0) s.fields["top_category"] = top;
}

}  // namespace

FeatureContext FeatureContextOf(const std::vector<LiveCustomer>& customers,
                                std::optional<ClvModel> model, absl::Time now,
                                absl::TimeZone tenant_zone) {
  return FeatureContextOf(customers, {}, std::move(model), now, tenant_zone);
}

FeatureContext FeatureContextOf(const std::vector<LiveCustomer>& customers,
                                const std::vector<LiveCustomer>& more,
                                std::optional<ClvModel> model, absl::Time now,
                                absl::TimeZone tenant_zone) {
  const std::vector<const std::vector<LiveCustomer>*> all{&customers, &more};
  FeatureContext ctx;
  ctx.time_zone = tenant_zone;
  if (model) {
    ctx.currency_code = model->currency_code;
    absl::TimeZone tz;
    if (common::LoadZone(model->time_zone, &tz)) ctx.time_zone = tz;
    ctx.model = std::move(model);
  } else {
    std::map<std::string, int> counts;
    for (const auto* list : all) {
      for (const LiveCustomer& c : *list) {
        for (const LivePurchase& p : c.purchases) {
          if (p.time <= now) ++counts[p.currency_code];
        }
      }
    }
    int best = 0;
    for (const auto& [code, n] : counts) {
      if (n > best) ctx.currency_code = code, best = n;  // ties: the smallest code
    }
  }
  ctx.minor_digits = common::MinorUnitDigits(ctx.currency_code).value_or(2);
  std::vector<double> recency, frequency, monetary;
  const absl::CivilDay today = absl::ToCivilDay(now, ctx.time_zone);
  for (const auto* list : all) {
    for (const LiveCustomer& c : *list) {
      Days d = DaysOf(c, ctx, now);
      if (d.orders == 0) continue;
      recency.push_back(static_cast<double>(today - d.amount.rbegin()->first));
      frequency.push_back(d.orders);
      monetary.push_back(d.total);
    }
  }
  if (!recency.empty()) {
    ctx.recency = RfmBreakpointsOf(std::move(recency));
    ctx.frequency = RfmBreakpointsOf(std::move(frequency));
    ctx.monetary = RfmBreakpointsOf(std::move(monetary));
  }
  return ctx;
}

CustomerSnapshot SnapshotOf(const LiveCustomer& customer, const FeatureContext& context,
                            absl::Time now, bool with_features, bool with_consents) {
  CustomerSnapshot s;
  s.fields = customer.profile;
  s.events = customer.events;
  s.behaviour_reach = context.behaviour_reach;
  if (with_consents) {
    for (auto& [field, status] : WithUnknowns(customer.consents)) s.fields[field] = status;
  }
  s.purchases.reserve(customer.purchases.size());
  for (const LivePurchase& p : customer.purchases) {
    // Amounts of different currencies are never added up (no exchange
    // rates): the language sees the reporting currency's purchases.
    if (p.currency_code != context.currency_code) continue;
    SegmentPurchase sp;
    sp.time = p.time;
    sp.amount = MajorOf(p.net_minor, p.currency_code);
    sp.currency = p.currency_code;
    sp.skus = p.skus;
    if (context.categories != nullptr) {
      for (const std::string& sku : p.skus) {
        auto it = context.categories->find(sku);
        if (it != context.categories->end() && std::find(sp.categories.begin(), sp.categories.end(),
                                                         it->second) == sp.categories.end()) {
          sp.categories.push_back(it->second);
        }
      }
    }
    s.purchases.push_back(std::move(sp));
  }
  if (!with_features) return s;
  const absl::CivilDay today = absl::ToCivilDay(now, context.time_zone);
  AddActivityFeatures(customer, s, context, now, today);
  if (context.currency_code.empty()) return s;
  Days d = DaysOf(customer, context, now);
  if (d.orders == 0) return s;
  const double recency = static_cast<double>(today - d.amount.rbegin()->first);
  s.fields["recency"] = recency;
  s.fields["frequency"] = static_cast<double>(d.amount.size());
  s.fields["monetary"] = d.total;
  s.fields["tenure"] = static_cast<double>(today - d.amount.begin()->first);
  if (d.amount.size() > 1) {
    // Gamma-Gamma's m_x: the mean spend of the repeat purchase days.
    s.fields["monetary_repeat_mean"] =
        (d.total - d.amount.begin()->second) / static_cast<double>(d.amount.size() - 1);
  }
  if (context.recency && context.frequency && context.monetary) {
    const int r = 6 - RfmBin(recency, *context.recency);
    const int f = RfmBin(d.orders, *context.frequency);
    const int m = RfmBin(d.total, *context.monetary);
    s.fields["rfm.r"] = static_cast<double>(r);
    s.fields["rfm.f"] = static_cast<double>(f);
    s.fields["rfm.m"] = static_cast<double>(m);
    s.fields["rfm.score"] = static_cast<double>(100 * r + 10 * f + m);
    s.fields["rfm.segment"] = std::string(SegmentName(SegmentOf(r, f, m)));
  }
  if (context.model) {
    std::vector<Purchase> days;
    days.reserve(d.amount.size());
    for (const auto& [day, amount] : d.amount) days.push_back({day, amount});
    absl::StatusOr<std::optional<CustomerSummary>> summary =
        Summarize(std::move(days), {today, std::nullopt, context.model->unit});
    if (summary.ok() && *summary) {
      absl::StatusOr<ModelScores> scores = ScoreCustomer(*context.model, **summary);
      if (scores.ok()) {
        s.fields["p_alive"] = scores->p_alive;
        s.fields["expected_purchases"] = scores->expected_purchases;
        s.fields["clv"] = scores->clv;
      }
    }
  }
  return s;
}

}  // namespace crm::segmentation::domain

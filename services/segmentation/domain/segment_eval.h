#pragma once
// Evaluation of a checked segment against one customer, and the next instant
// at which the answer can change by time passing alone (what the time wheel
// of live membership waits for).
//
// Semantics (docs/segments.md, "Evaluation and time"):
//   - A field absent from the snapshot, or holding a value of another type
//     than the comparison's, makes the comparison false (also for != and
//     NOT IN); NOT of it is true. Strings compare exactly (case-sensitive);
//     enum values are stored in their catalog spelling.
//   - Windows are instants, not calendar days: an aggregate over window W at
//     `now` covers the items with   now - W < time <= now.   An item at t is
//     counted from t (inclusive) until t + W (exclusive). So with a purchase
//     at t, purchased(90d) is true up to t + 90d - 1ns and false from t + 90d:
//     NOT purchased(90d) turns true exactly 90 × 24 h after the purchase,
//     i.e. during the 91st day when the purchase day is the 1st.
//     Items dated after `now` are not counted yet; they enter at their time.
//   - Behaviour windows are capped by the tenant's retention of behaviour
//     (CustomerSnapshot::behaviour_reach): an event older than it counts in
//     no window, whatever the window says.
//   - Property filters: all must hold. On a list-valued property (an order's
//     categories or skus), = and IN hold when any element matches, != and
//     NOT IN when none does. The property `category` matches a category and
//     its subcategories: category = "Music" holds for "Music" and
//     "Music/Jazz", not for "Musicals".
//   - spent() sums SegmentPurchase::amount (one currency: the tenant's
//     reporting currency, or filter with currency = "CHF"), exactly: amounts
//     are rounded to millionths and summed as integers, so purchases of 0.1
//     and 0.2 make spent() = 0.3 hold. A non-finite amount counts as 0, one
//     beyond ±1e12 as ±1e12.
//
// next_change: the result is constant on [now, next_change); InfiniteFuture
// when no time-driven change can happen (no aggregate, or nothing in the
// windows that could leave or enter). For a single aggregate comparison it is
// the exact instant the comparison flips (e.g. count(page.viewed, 7d) >= 3
// with views at t1 < t2 < t3 < t4: t2 + 7d, when only 2 remain). For AND / OR /
// NOT it is a safe lower bound built from the children's instants (AND true:
// the earliest child change; AND false: the latest change among its false
// children; OR dually), so re-evaluating at next_change never misses a flip.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/segmentation/domain/segment_ast.h"
#include "services/segmentation/domain/segment_check.h"

namespace crm::segmentation::domain {

struct SegmentEvent {
  std::string type;  // "product.viewed"
  absl::Time time;
  std::map<std::string, SegmentValue> properties;  // "category" -> "Music/Jazz"
};

struct SegmentPurchase {
  absl::Time time;
  double amount = 0;  // major units (100 = CHF 100.00), net of returns; see spent() above
  std::string currency;
  std::vector<std::string> categories;
  std::vector<std::string> skus;
};

// What one customer looks like to the evaluator. `fields` is keyed by the
// canonical field names of the catalog: "profile.country", "attr.plan",
// "consent.email.marketing", "rfm.segment", "clv", ...
struct CustomerSnapshot {
  std::map<std::string, SegmentValue> fields;
  std::vector<SegmentEvent> events;        // any order
  std::vector<SegmentPurchase> purchases;  // any order
  std::set<std::string> segments;          // ids of the segments the customer is in
  // The tenant's retention of behaviour: an event window reaches back at
  // most this far (count(page.viewed, 400d) under 30 days of retention
  // counts the last 30 days, and an event leaves it 30 days after it).
  absl::Duration behaviour_reach = absl::InfiniteDuration();
};

struct SegmentEvaluation {
  bool matches = false;
  absl::Time next_change = absl::InfiniteFuture();
};

// `expr` must come from CheckSegment (canonical names, checked types).
SegmentEvaluation EvaluateSegment(const Expr& expr, const CustomerSnapshot& customer,
                                  absl::Time now);
inline SegmentEvaluation EvaluateSegment(const CheckedSegment& segment,
                                         const CustomerSnapshot& customer, absl::Time now) {
  return EvaluateSegment(segment.root, customer, now);
}

}  // namespace crm::segmentation::domain

#include "services/segmentation/domain/segment_eval.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/match.h"

namespace crm::segmentation::domain {
namespace {

bool Ordered(CompareOp op, double a, double b) {
  switch (op) {
    case CompareOp::kEq:
      return a == b;
    case CompareOp::kNe:
      return a != b;
    case CompareOp::kLt:
      return a < b;
    case CompareOp::kLe:
      return a <= b;
    case CompareOp::kGt:
      return a > b;
    case CompareOp::kGe:
      return a >= b;
  }
  return false;
}

// `value op literal`; false when the types differ. Only = and != for strings
// and bools (the checker refuses the others).
bool CompareValue(const SegmentValue& value, CompareOp op, const SegmentValue& literal) {
  if (value.index() != literal.index()) return false;
  if (const double* d = std::get_if<double>(&value)) {
    return Ordered(op, *d, std::get<double>(literal));
  }
  const bool equal = value == literal;
  return op == CompareOp::kEq ? equal : op == CompareOp::kNe ? !equal : false;
}

bool InList(const SegmentValue& value, const std::vector<Literal>& values) {
  for (const Literal& l : values) {
    if (CompareValue(value, CompareOp::kEq, l.value)) return true;
  }
  return false;
}

// Equality of a property value with a literal; `category` also matches
// subcategories ("Music/Jazz" is in "Music").
bool PropertyEquals(absl::string_view property, const SegmentValue& value,
                    const SegmentValue& literal) {
  if (property == "category") {
    const std::string* v = std::get_if<std::string>(&value);
    const std::string* l = std::get_if<std::string>(&literal);
    if (v != nullptr && l != nullptr) {
      return *v == *l ||
             (v->size() > l->size() && absl::StartsWith(*v, *l) && (*v)[l->size()] == '/');
    }
  }
  return CompareValue(value, CompareOp::kEq, literal);
}

bool AnyEquals(const PropertyFilter& f, const std::vector<SegmentValue>& values) {
  for (const SegmentValue& v : values) {
    for (const Literal& l : f.values) {
      if (PropertyEquals(f.property, v, l.value)) return true;
    }
  }
  return false;
}

// A filter over a property with the given values (several for list-valued
// properties, none when absent).
bool FilterHolds(const PropertyFilter& f, const std::vector<SegmentValue>& values) {
  if (values.empty()) return false;
  if (f.in_list) return f.negated ? !AnyEquals(f, values) : AnyEquals(f, values);
  if (f.op == CompareOp::kEq) return AnyEquals(f, values);
  if (f.op == CompareOp::kNe) return !AnyEquals(f, values);
  for (const SegmentValue& v : values) {
    if (CompareValue(v, f.op, f.values.at(0).value)) return true;
  }
  return false;
}

bool EventMatches(const Operand& o, const SegmentEvent& e) {
  if (e.type != o.name) return false;
  for (const PropertyFilter& f : o.filters) {
    auto it = e.properties.find(f.property);
    std::vector<SegmentValue> values;
    if (it != e.properties.end()) values.push_back(it->second);
    if (!FilterHolds(f, values)) return false;
  }
  return true;
}

bool PurchaseMatches(const Operand& o, const SegmentPurchase& p) {
  for (const PropertyFilter& f : o.filters) {
    std::vector<SegmentValue> values;
    if (f.property == "category") {
      values.assign(p.categories.begin(), p.categories.end());
    } else if (f.property == "sku") {
      values.assign(p.skus.begin(), p.skus.end());
    } else if (f.property == "currency") {
      values.emplace_back(p.currency);
    }
    if (!FilterHolds(f, values)) return false;
  }
  return true;
}

// Amounts are summed as whole millionths, so sums are exact and the same
// whatever the order (0.1 + 0.2 is 0.3), and a window's sum can be updated
// by adding and removing items.
constexpr double kMicros = 1e6;
constexpr double kMaxAmount = 1e12;  // |amount| above it counts as ±1e12

int64_t AmountMicros(double amount) {
  if (!std::isfinite(amount)) return 0;
  return std::llround(std::clamp(amount, -kMaxAmount, kMaxAmount) * kMicros);
}

struct Item {
  absl::Time time;
  int64_t weight;  // 1 (counts) or millionths of the amount (spent)
};

// Σ weight of the items with at - w < time <= at.
int64_t WindowSum(const std::vector<Item>& items, absl::Duration w, absl::Time at) {
  int64_t sum = 0;
  for (const Item& i : items) {
    if (i.time <= at && at - w < i.time) sum += i.weight;
  }
  return sum;
}

SegmentEvaluation EvaluateAggregate(const Expr& e, const CustomerSnapshot& c, absl::Time now) {
  const Operand& o = e.operand;
  const bool spent = o.kind == OperandKind::kSpent;
  const absl::Duration window =
      o.kind == OperandKind::kEventCount ? std::min(o.window, c.behaviour_reach) : o.window;
  std::vector<Item> items;
  if (o.kind == OperandKind::kEventCount) {
    for (const SegmentEvent& ev : c.events) {
      if (EventMatches(o, ev)) items.push_back({ev.time, 1});
    }
  } else {
    for (const SegmentPurchase& p : c.purchases) {
      if (PurchaseMatches(o, p)) items.push_back({p.time, spent ? AmountMicros(p.amount) : 1});
    }
  }
  auto result_at = [&](int64_t sum) {
    const SegmentValue value(spent ? static_cast<double>(sum) / kMicros : static_cast<double>(sum));
    if (e.kind == ExprKind::kIn) {
      const bool in = InList(value, e.values);
      return e.negated ? !in : in;
    }
    return CompareValue(value, e.op, e.values.at(0).value);
  };
  SegmentEvaluation out;
  int64_t sum = WindowSum(items, window, now);
  out.matches = result_at(sum);
  // The sum only changes when an item enters (at its time) or leaves (at
  // time + window). Walk those instants in order until the result flips.
  std::vector<std::pair<absl::Time, int64_t>> deltas;
  for (const Item& i : items) {
    if (i.time > now) deltas.emplace_back(i.time, i.weight);
    if (i.time + window > now) deltas.emplace_back(i.time + window, -i.weight);
  }
  std::sort(deltas.begin(), deltas.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t k = 0; k < deltas.size();) {
    const absl::Time at = deltas[k].first;
    for (; k < deltas.size() && deltas[k].first == at; ++k) sum += deltas[k].second;
    if (result_at(sum) != out.matches) {
      out.next_change = at;
      return out;
    }
  }
  return out;
}

SegmentEvaluation Eval(const Expr& e, const CustomerSnapshot& c, absl::Time now) {
  SegmentEvaluation out;
  switch (e.kind) {
    case ExprKind::kNot: {
      out = Eval(e.children.at(0), c, now);
      out.matches = !out.matches;
      return out;
    }
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      // AND is decided by a false child, OR by a true one.
      const bool decisive = e.kind == ExprKind::kOr;
      std::vector<SegmentEvaluation> parts;
      parts.reserve(e.children.size());
      bool any_decisive = false;
      for (const Expr& child : e.children) {
        parts.push_back(Eval(child, c, now));
        any_decisive = any_decisive || parts.back().matches == decisive;
      }
      out.matches = any_decisive ? decisive : !decisive;
      if (any_decisive) {
        // Holds until every decisive child has changed.
        out.next_change = absl::InfinitePast();
        for (const SegmentEvaluation& p : parts) {
          if (p.matches == decisive) out.next_change = std::max(out.next_change, p.next_change);
        }
      } else {
        // Any child changing changes the result.
        out.next_change = absl::InfiniteFuture();
        for (const SegmentEvaluation& p : parts) {
          out.next_change = std::min(out.next_change, p.next_change);
        }
      }
      return out;
    }
    case ExprKind::kInSegment:
      out.matches = c.segments.count(e.segment_id) != 0;
      return out;
    case ExprKind::kCompare:
    case ExprKind::kIn: {
      if (e.operand.kind != OperandKind::kField) return EvaluateAggregate(e, c, now);
      auto it = c.fields.find(e.operand.name);
      if (it == c.fields.end()) return out;  // absent: false, for good
      if (e.kind == ExprKind::kIn) {
        // NOT IN needs a value of the list's type.
        if (it->second.index() != e.values.at(0).value.index()) return out;
        const bool in = InList(it->second, e.values);
        out.matches = e.negated ? !in : in;
      } else {
        out.matches = CompareValue(it->second, e.op, e.values.at(0).value);
      }
      return out;
    }
  }
  return out;
}

}  // namespace

SegmentEvaluation EvaluateSegment(const Expr& expr, const CustomerSnapshot& customer,
                                  absl::Time now) {
  return Eval(expr, customer, now);
}

}  // namespace crm::segmentation::domain

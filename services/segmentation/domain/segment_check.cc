#include "services/segmentation/domain/segment_check.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/status_macros.h"
#include "services/segmentation/domain/behaviour.h"
#include "services/segmentation/domain/rfm.h"
#include "services/segmentation/domain/segment_parser.h"

namespace crm::segmentation::domain {
namespace {

constexpr const char* kConsentChannels[] = {"email", "sms", "push", "phone", "web"};
constexpr const char* kConsentPurposes[] = {"marketing", "transactional", "profiling"};

absl::string_view LiteralTypeName(const SegmentValue& v) {
  if (std::holds_alternative<double>(v)) return "a number";
  if (std::holds_alternative<bool>(v)) return "a bool";
  return "a string";
}

void AddKind(SegmentDependencies& d, ChangeKind k) { d.kinds |= static_cast<uint32_t>(k); }

// Checks `values` against a field or property of `type` compared with `op`
// (in_list: an IN list). Rewrites enum values to their canonical spelling.
absl::Status CheckValues(absl::string_view what, FieldType type,
                         const std::vector<std::string>& enum_values, CompareOp op, bool in_list,
                         SourcePos op_pos, std::vector<Literal>& values) {
  const bool ordering = !in_list && op != CompareOp::kEq && op != CompareOp::kNe;
  if (ordering && type != FieldType::kNumber) {
    return SegmentInvalidError(
        op_pos, absl::StrCat(what, " is ", FieldTypeName(type), ": it takes ",
                             type == FieldType::kBool ? "= or !=" : "= != or IN", ", not ",
                             CompareOpText(op)));
  }
  if (in_list && type == FieldType::kBool) {
    return SegmentInvalidError(op_pos, absl::StrCat(what, " is bool: it takes = or !=, not IN"));
  }
  for (Literal& l : values) {
    bool ok = false;
    switch (type) {
      case FieldType::kNumber:
        ok = std::holds_alternative<double>(l.value);
        break;
      case FieldType::kString:
      case FieldType::kEnum:
        ok = std::holds_alternative<std::string>(l.value);
        break;
      case FieldType::kBool:
        ok = std::holds_alternative<bool>(l.value);
        break;
    }
    if (!ok) {
      return SegmentInvalidError(l.pos, absl::StrCat(what, " is ", FieldTypeName(type),
                                                     ", compared with ", LiteralTypeName(l.value)));
    }
    if (type == FieldType::kEnum) {
      std::string& s = std::get<std::string>(l.value);
      bool found = false;
      for (const std::string& allowed : enum_values) {
        if (absl::EqualsIgnoreCase(allowed, s)) {
          s = allowed;
          found = true;
          break;
        }
      }
      if (!found) {
        const std::string shown = ShortenForMessage(s, 40);
        return SegmentInvalidError(
            l.pos, absl::StrCat("\"", shown, "\" is not a value of ", what, " (one of: \"",
                                absl::StrJoin(enum_values, "\", \""), "\")"));
      }
    }
  }
  return absl::OkStatus();
}

class Checker {
 public:
  Checker(const FieldCatalog& catalog, const SegmentLimits& limits)
      : catalog_(catalog), limits_(limits) {}

  absl::Status Check(Expr& e, int depth) {
    // The parser's depth counts parentheses and NOT; a tree node adds up to
    // three levels per parenthesis (OR, AND, NOT), so this bound accepts every
    // parsed tree and only stops hand-built ones before the stack runs out.
    if (depth > 4 * (limits_.max_depth + 1)) {
      return SegmentInvalidError(e.pos, absl::StrFormat("expression tree deeper than %d nodes",
                                                        4 * (limits_.max_depth + 1)));
    }
    switch (e.kind) {
      case ExprKind::kAnd:
      case ExprKind::kOr:
      case ExprKind::kNot: {
        const size_t want = e.kind == ExprKind::kNot ? 1 : 2;
        if (e.kind == ExprKind::kNot ? e.children.size() != 1 : e.children.size() < want) {
          return SegmentInvalidError(e.pos, "malformed expression tree");
        }
        for (Expr& c : e.children) CRM_RETURN_IF_ERROR(Check(c, depth + 1));
        return absl::OkStatus();
      }
      case ExprKind::kInSegment:
        if (e.segment_id.empty()) {
          return SegmentInvalidError(e.pos, "in_segment needs a segment id");
        }
        AddKind(deps_, ChangeKind::kSegments);
        deps_.segments.insert(e.segment_id);
        return absl::OkStatus();
      case ExprKind::kCompare:
      case ExprKind::kIn: {
        if (e.values.empty() || (e.kind == ExprKind::kCompare && e.values.size() != 1)) {
          return SegmentInvalidError(e.pos, "malformed expression tree");
        }
        FieldType type = FieldType::kNumber;
        std::vector<std::string> enum_values;
        std::string what;
        CRM_RETURN_IF_ERROR(CheckOperand(e.operand, e.values, type, enum_values, what));
        return CheckValues(what, type, enum_values, e.op, e.kind == ExprKind::kIn, e.operand.pos,
                           e.values);
      }
    }
    return SegmentInvalidError(e.pos, "malformed expression tree");
  }

  SegmentDependencies Take() { return std::move(deps_); }

 private:
  // `values`: the literals the operand is compared with (they type an
  // undeclared attribute).
  absl::Status CheckOperand(Operand& o, const std::vector<Literal>& values, FieldType& type,
                            std::vector<std::string>& enum_values, std::string& what) {
    if (o.kind == OperandKind::kField) {
      const std::string written = o.name;
      std::vector<absl::string_view> parts = absl::StrSplit(written, '.');
      if (parts.size() == 2 && parts[0] == "consent") {
        o.name = absl::StrCat(o.name, ".marketing");
      }
      const FieldSpec* spec = catalog_.FindField(o.name);
      if (spec == nullptr && parts.size() == 2 && parts[0] == "attr" && !parts[1].empty() &&
          !values.empty()) {
        // A custom attribute the catalog does not declare: customer-store
        // types each value, so the comparison's first literal types it (the
        // other literals must agree; a customer whose value has another
        // type does not match).
        const SegmentValue& v = values.front().value;
        type = std::holds_alternative<double>(v) ? FieldType::kNumber
               : std::holds_alternative<bool>(v) ? FieldType::kBool
                                                 : FieldType::kString;
        enum_values.clear();
        what = o.name;
        AddKind(deps_, ChangeKind::kAttributes);
        deps_.fields.insert(o.name);
        return absl::OkStatus();
      }
      if (spec == nullptr) {
        if (parts[0] == "attr") {
          return SegmentInvalidError(
              o.pos, absl::StrCat("unknown attribute '", written, "' (attr.<name>)"));
        }
        if (parts[0] == "consent") {
          return SegmentInvalidError(
              o.pos, absl::StrCat("unknown consent '", written,
                                  "' (consent.<channel>[.<purpose>], "
                                  "channel email, sms, push, phone or web; purpose marketing, "
                                  "transactional or profiling)"));
        }
        return SegmentInvalidError(o.pos, absl::StrCat("unknown field '", written, "'"));
      }
      type = spec->type;
      enum_values = spec->enum_values;
      what = o.name;
      AddKind(deps_, spec->reads);
      deps_.fields.insert(o.name);
      return absl::OkStatus();
    }
    // Aggregates: numbers over a window.
    type = FieldType::kNumber;
    if (o.window < kMinWindow || o.window > kMaxWindow) {
      return SegmentInvalidError(
          o.pos, absl::StrCat("window ", FormatWindow(o.window), " is outside 1h to 3650d"));
    }
    if (o.window % absl::Hours(1) != absl::ZeroDuration()) {
      return SegmentInvalidError(o.pos, "window must be a whole number of hours");
    }
    const PropertySpecs* props = nullptr;
    if (o.kind == OperandKind::kEventCount) {
      props = catalog_.FindEventType(o.name);
      if (props == nullptr) {
        return SegmentInvalidError(
            o.pos, absl::StrCat("unknown event type '", o.name, "'",
                                absl::StartsWith(o.name, "x.")
                                    ? " (custom types are x.<name>, name of a-z, 0-9, _ and .)"
                                    : ""));
      }
      what = absl::StrCat("count(", o.name, ")");
      AddKind(deps_, ChangeKind::kEvents);
      deps_.event_types.insert(o.name);
    } else {
      props = &catalog_.order_properties();
      what = o.kind == OperandKind::kSpent ? "spent()" : "orders()";
      AddKind(deps_, ChangeKind::kOrders);
    }
    AddKind(deps_, ChangeKind::kTime);
    if (o.window > deps_.longest_window) deps_.longest_window = o.window;
    for (PropertyFilter& f : o.filters) {
      auto it = props->find(f.property);
      if (it == props->end()) {
        std::vector<std::string> known;
        for (const auto& [name, t] : *props) known.push_back(name);
        return SegmentInvalidError(
            f.pos, absl::StrCat("unknown property '", f.property, "' of ",
                                o.kind == OperandKind::kEventCount ? o.name : "orders",
                                known.empty()
                                    ? std::string(" (it has none)")
                                    : absl::StrCat(" (known: ", absl::StrJoin(known, ", "), ")")));
      }
      if (f.values.empty() || (!f.in_list && f.values.size() != 1)) {
        return SegmentInvalidError(f.pos, "malformed property filter");
      }
      CRM_RETURN_IF_ERROR(
          CheckValues(f.property, it->second, {}, f.op, f.in_list, f.pos, f.values));
    }
    return absl::OkStatus();
  }

  const FieldCatalog& catalog_;
  const SegmentLimits& limits_;
  SegmentDependencies deps_;
};

}  // namespace

absl::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kNumber:
      return "number";
    case FieldType::kString:
      return "string";
    case FieldType::kEnum:
      return "enum";
    case FieldType::kBool:
      return "bool";
  }
  return "?";
}

bool SegmentDependencies::ReadsChange(ChangeKind k, absl::string_view name) const {
  if (!Reads(k)) return false;
  if (name.empty()) return true;
  switch (k) {
    case ChangeKind::kEvents:
      return event_types.count(std::string(name)) != 0;
    case ChangeKind::kSegments:
      return segments.count(std::string(name)) != 0;
    case ChangeKind::kOrders:
    case ChangeKind::kTime:
      return true;
    default:
      return fields.count(std::string(name)) != 0;
  }
}

FieldCatalog FieldCatalog::Default() {
  FieldCatalog c;
  for (const char* name :
       {"country", "region", "city", "postal_code", "locale", "time_zone", "owner"}) {
    c.AddField(absl::StrCat("profile.", name), {FieldType::kString, {}, ChangeKind::kProfile});
  }
  c.AddField("profile.lifecycle_stage", {FieldType::kEnum,
                                         {"unspecified", "subscriber", "lead", "prospect",
                                          "customer", "repeat_customer", "churned"},
                                         ChangeKind::kProfile});
  for (const char* channel : kConsentChannels) {
    for (const char* purpose : kConsentPurposes) {
      c.AddField(absl::StrCat("consent.", channel, ".", purpose),
                 {FieldType::kEnum,
                  {"opted_in", "opted_out", "pending", "unknown"},
                  ChangeKind::kConsents});
    }
  }
  FieldSpec rfm_segment{FieldType::kEnum, {}, ChangeKind::kFeatures};
  for (int s = static_cast<int>(RfmSegment::kChampions); s <= static_cast<int>(RfmSegment::kOthers);
       ++s) {
    rfm_segment.enum_values.emplace_back(SegmentName(static_cast<RfmSegment>(s)));
  }
  c.AddField("rfm.segment", rfm_segment);
  for (const char* name :
       {"rfm.r", "rfm.f", "rfm.m", "rfm.score", "clv", "p_alive", "expected_purchases", "recency",
        "frequency", "monetary", "monetary_repeat_mean", "tenure", "last_seen"}) {
    c.AddField(name, {FieldType::kNumber, {}, ChangeKind::kFeatures});
  }
  c.AddField("top_category", {FieldType::kString, {}, ChangeKind::kFeatures});
  // Behaviour (customer-store's behaviour.* events): the types it tracks, each
  // with the properties its events carry; custom x.<name> types are accepted
  // by FindEventType with the same properties.
  for (const char* type : kBehaviourEventTypes) c.AddEventType(type, BehaviourPropertySpecs());
  // Messages (delivery's events, not emitted yet).
  const PropertySpecs message = {{"campaign", FieldType::kString}};
  for (const char* type :
       {"email.sent", "email.opened", "email.clicked", "sms.sent", "push.opened"}) {
    c.AddEventType(type, message);
  }
  c.order_properties_ = {{"category", FieldType::kString},
                         {"sku", FieldType::kString},
                         {"currency", FieldType::kString}};
  return c;
}

void FieldCatalog::AddAttribute(absl::string_view name, FieldType type,
                                std::vector<std::string> enum_values) {
  AddField(absl::StrCat("attr.", name), {type, std::move(enum_values), ChangeKind::kAttributes});
}

void FieldCatalog::AddField(absl::string_view full_name, FieldSpec spec) {
  fields_[std::string(full_name)] = std::move(spec);
}

void FieldCatalog::AddEventType(absl::string_view type, PropertySpecs properties) {
  event_types_[std::string(type)] = std::move(properties);
}

const FieldSpec* FieldCatalog::FindField(absl::string_view name) const {
  auto it = fields_.find(name);
  return it == fields_.end() ? nullptr : &it->second;
}

const PropertySpecs* FieldCatalog::FindEventType(absl::string_view type) const {
  auto it = event_types_.find(type);
  if (it != event_types_.end()) return &it->second;
  if (IsCustomEventType(type)) {
    static const PropertySpecs* const custom = new PropertySpecs(BehaviourPropertySpecs());
    return custom;
  }
  return nullptr;
}

absl::StatusOr<CheckedSegment> CheckSegment(Expr root, const FieldCatalog& catalog,
                                            const SegmentLimits& limits) {
  Checker checker(catalog, limits);
  CRM_RETURN_IF_ERROR(checker.Check(root, 0));
  return CheckedSegment{std::move(root), checker.Take()};
}

absl::StatusOr<CheckedSegment> CompileSegment(absl::string_view text, const FieldCatalog& catalog,
                                              const SegmentLimits& limits) {
  CRM_ASSIGN_OR_RETURN(Expr root, ParseSegment(text, limits));
  return CheckSegment(std::move(root), catalog, limits);
}

}  // namespace crm::segmentation::domain

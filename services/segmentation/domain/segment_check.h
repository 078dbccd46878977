#pragma once
// The field catalog and the type checker of the segment language.
//
// The catalog says which fields exist, their type and what kind of change can
// alter them. CheckSegment refuses, with INVALID_ARGUMENT / SEGMENT_INVALID
// and "line L, column C: ..." (field "expression"):
//   - unknown fields, event types, event or order properties;
//   - type mismatches (clv = "x", profile.country > 3, a bool with <);
//   - enum values the field does not have (rfm.segment = "Champs",
//     consent.email = "maybe");
//   - windows outside [1h, 3650d];
//   - trees deeper than 4 * (SegmentLimits::max_depth + 1) nodes (only
//     hand-built trees: parsed ones are within it).
// It returns the tree with canonical names (consent.email ->
// consent.email.marketing; enum values in their catalog spelling, matched
// case-insensitively) and the segment's dependencies: what must change for
// its result to change.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/segmentation/domain/segment_ast.h"

namespace crm::segmentation::domain {

enum class FieldType { kNumber, kString, kEnum, kBool };
absl::string_view FieldTypeName(FieldType t);  // "number", "string", "enum", "bool"

// Kinds of change a segment can read (a bit set).
enum class ChangeKind : uint32_t {
  kProfile = 1u << 0,     // profile.* (customer record)
  kAttributes = 1u << 1,  // attr.* (custom attributes)
  kConsents = 1u << 2,    // consent.*
  kFeatures = 1u << 3,    // scores: rfm.*, clv, p_alive, recency, frequency, monetary, ...
  kEvents = 1u << 4,      // count(<event type>, ...): see SegmentDependencies::event_types
  kOrders = 1u << 5,      // orders(), spent(), bought(), purchased()
  kSegments = 1u << 6,    // in_segment(): see SegmentDependencies::segments
  kTime = 1u << 7,        // any windowed aggregate: membership can change with no event
};

struct FieldSpec {
  FieldType type = FieldType::kString;
  std::vector<std::string> enum_values;  // kEnum: the allowed values, canonical spelling
  ChangeKind reads = ChangeKind::kProfile;
};

// Properties of an event type or of an order that aggregate filters may test.
using PropertySpecs = std::map<std::string, FieldType>;

class FieldCatalog {
 public:
  // The built-in fields (docs/segments.md lists them):
  //   profile.country, profile.region, profile.city, profile.postal_code,
  //   profile.locale, profile.time_zone, profile.owner (string),
  //   profile.lifecycle_stage (enum);
  //   consent.<channel>[.<purpose>] (enum opted_in, opted_out, pending,
  //   unknown), channel email|sms|push|phone|web, purpose marketing (the
  //   default)|transactional|profiling;
  //   rfm.segment (enum: the RFM segment names of rfm.h), rfm.r, rfm.f,
  //   rfm.m, rfm.score, clv, p_alive, expected_purchases, recency, frequency,
  //   monetary, monetary_repeat_mean, tenure, last_seen (number),
  //   top_category (string);
  //   behaviour event types page.viewed, product.viewed, search.performed,
  //   cart.item_added, cart.item_removed, checkout.started and every custom
  //   x.<name> (behaviour.h: IsCustomEventType), each with the properties of
  //   BehaviourPropertySpecs (category, sku, currency, campaign: string;
  //   value, quantity: number);
  //   message event types email.sent, email.opened, email.clicked, sms.sent,
  //   push.opened with property campaign (string);
  //   order properties category, sku, currency (string).
  // No custom attribute is declared: attr.<name> that is not declared is
  // typed by the literal it is compared with (attr.plan = "gold": string,
  // attr.seats >= 10: number, attr.vip = true: bool), as customer-store types
  // each attribute value; a declared attribute keeps its declared type.
  static FieldCatalog Default();

  // Declares attr.<name>. `enum_values` only for kEnum.
  void AddAttribute(absl::string_view name, FieldType type,
                    std::vector<std::string> enum_values = {});
  // Declares any field under its full name (e.g. a new feature "churn_risk").
  void AddField(absl::string_view full_name, FieldSpec spec);
  void AddEventType(absl::string_view type, PropertySpecs properties);

  // nullptr when unknown. `name` is canonical (consent.email.marketing).
  const FieldSpec* FindField(absl::string_view name) const;
  // A custom type x.<name> not declared with AddEventType has the behaviour
  // properties.
  const PropertySpecs* FindEventType(absl::string_view type) const;
  const PropertySpecs& order_properties() const { return order_properties_; }

 private:
  std::map<std::string, FieldSpec, std::less<>> fields_;
  std::map<std::string, PropertySpecs, std::less<>> event_types_;
  PropertySpecs order_properties_;
};

struct SegmentDependencies {
  uint32_t kinds = 0;                 // ChangeKind bits
  std::set<std::string> fields;       // canonical field names read (profile.country, clv, ...)
  std::set<std::string> event_types;  // counted event types
  std::set<std::string> segments;     // segment ids referenced by in_segment()
  absl::Duration longest_window;      // 0 when no aggregate

  bool Reads(ChangeKind k) const { return (kinds & static_cast<uint32_t>(k)) != 0; }
  bool reads_time() const { return Reads(ChangeKind::kTime); }

  // Whether a change must re-evaluate the segment. `name` narrows it: the
  // canonical field for profile / attribute / consent / feature changes
  // ("profile.country"), the event type for kEvents, the segment id for
  // kSegments; "" means "some, unknown which". Orders and time have no name.
  bool ReadsChange(ChangeKind k, absl::string_view name = "") const;
};

struct CheckedSegment {
  Expr root;
  SegmentDependencies dependencies;
};

inline constexpr absl::Duration kMinWindow = absl::Hours(1);
inline constexpr absl::Duration kMaxWindow = absl::Hours(24 * 3650);

[[nodiscard]] absl::StatusOr<CheckedSegment> CheckSegment(Expr root, const FieldCatalog& catalog,
                                                          const SegmentLimits& limits = {});

// ParseSegment then CheckSegment.
[[nodiscard]] absl::StatusOr<CheckedSegment> CompileSegment(absl::string_view text,
                                                            const FieldCatalog& catalog,
                                                            const SegmentLimits& limits = {});

}  // namespace crm::segmentation::domain

#include "services/segmentation/domain/behaviour.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"

namespace crm::segmentation::domain {

bool IsCustomEventType(absl::string_view type) {
  if (!absl::StartsWith(type, "x.")) return false;
  const absl::string_view name = type.substr(2);
  if (name.empty() || name.size() > 62) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

PropertySpecs BehaviourPropertySpecs() {
  return {{kCategoryProperty, FieldType::kString}, {kSkuProperty, FieldType::kString},
          {kValueProperty, FieldType::kNumber},    {kCurrencyProperty, FieldType::kString},
          {kQuantityProperty, FieldType::kNumber}, {kCampaignProperty, FieldType::kString}};
}

SegmentEvent SegmentEventOf(const events::BehaviourFact& f) {
  SegmentEvent e;
  e.type = f.type;
  e.time = f.occurred_time;
  if (!f.category_path.empty())
    e.properties[kCategoryProperty] = absl::StrJoin(f.category_path, "/");
  if (!f.sku.empty()) e.properties[kSkuProperty] = f.sku;
  if (f.value != 0) e.properties[kValueProperty] = f.value;
  if (!f.currency_code.empty()) e.properties[kCurrencyProperty] = f.currency_code;
  if (f.quantity != 0) e.properties[kQuantityProperty] = static_cast<double>(f.quantity);
  if (!f.utm_campaign.empty()) e.properties[kCampaignProperty] = f.utm_campaign;
  return e;
}

}  // namespace crm::segmentation::domain

#include "services/personalization/app/rules.h"

#include "services/segmentation/domain/segment_check.h"

namespace crm::personalization::app {

absl::Status CheckSegmentRule(const std::string& rule) {
  static const auto* catalog =
      new segmentation::domain::FieldCatalog(segmentation::domain::FieldCatalog::Default());
  return segmentation::domain::CompileSegment(rule, *catalog).status();
}

absl::StatusOr<std::map<std::string, bool>> MatchRules(SegmentationPeer& segmentation,
                                                       const std::string& tenant,
                                                       const std::string& customer_id,
                                                       const std::vector<std::string>& rules) {
  constexpr std::size_t kPerCall = 50;  // MatchCustomer's limit
  std::map<std::string, bool> out;
  std::vector<std::string> distinct;
  for (const std::string& r : rules) {
    if (!r.empty() && out.emplace(r, false).second) distinct.push_back(r);
  }
  for (std::size_t at = 0; at < distinct.size(); at += kPerCall) {
    const std::vector<std::string> chunk(
        distinct.begin() + static_cast<std::ptrdiff_t>(at),
        distinct.begin() + static_cast<std::ptrdiff_t>(std::min(distinct.size(), at + kPerCall)));
    absl::StatusOr<std::vector<bool>> m = segmentation.Match(tenant, customer_id, chunk);
    if (!m.ok() && m.status().code() == absl::StatusCode::kNotFound) return out;  // none
    if (!m.ok()) return m.status();
    for (std::size_t k = 0; k < chunk.size(); ++k) out[chunk[k]] = (*m)[k];
  }
  return out;
}

}  // namespace crm::personalization::app

#include "services/segmentation/domain/consents.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace crm::segmentation::domain {

std::string ConsentField(const std::string& channel, const std::string& purpose) {
  return absl::StrCat("consent.", channel, ".", purpose);
}

ConsentFields WithUnknowns(const ConsentFields& kept) {
  ConsentFields out = kept;
  for (const char* channel : {"email", "sms", "push", "phone", "web"}) {
    for (const char* purpose : {"marketing", "transactional", "profiling"}) {
      out.emplace(ConsentField(channel, purpose), "unknown");
    }
  }
  return out;
}

bool ObjectsToProfiling(const ConsentFields& kept) {
  for (const auto& [field, status] : kept) {
    if (absl::EndsWith(field, ".profiling") && status == "opted_out") return true;
  }
  return false;
}

}  // namespace crm::segmentation::domain

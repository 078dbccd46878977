#pragma once
// The message template use cases: definitions checked at save time
// (domain/templates.h: syntax, names, partials, with line and column) and
// written through the unit of work, kept in memory; previews for marketers
// with the sample data (or data of their own over it).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/outbox/write_meta.h"
#include "services/personalization/app/definitions.h"
#include "services/personalization/app/ports.h"
#include "services/personalization/domain/templates.h"

namespace crm::personalization::app {

inline constexpr std::size_t kMaxTemplatesPerTenant = 500;

struct RenderedMessage {
  std::string template_id;
  std::int64_t version = 0;  // 0: a draft
  std::string locale;        // the one rendered (after the fallback)
  std::map<std::string, std::string> parts;
};

class Templates {
 public:
  explicit Templates(TemplateRepository& repository, const common::Clock* clock = nullptr);

  absl::Status Load();  // every tenant's templates (at start)

  // ALREADY_EXISTS (TEMPLATE_EXISTS); FAILED_PRECONDITION
  // (TOO_MANY_TEMPLATES) beyond kMaxTemplatesPerTenant; INVALID_ARGUMENT as
  // domain::NormalizeTemplate.
  absl::StatusOr<domain::MessageTemplate> Create(const outbox::WriteMeta& meta,
                                                 domain::MessageTemplate draft);
  // if_match: ABORTED (ETAG_MISMATCH); NOT_FOUND (TEMPLATE_NOT_FOUND).
  absl::StatusOr<domain::MessageTemplate> Update(const outbox::WriteMeta& meta,
                                                 domain::MessageTemplate draft,
                                                 const std::string& if_match);
  absl::StatusOr<domain::MessageTemplate> Delete(const outbox::WriteMeta& meta,
                                                 const std::string& template_id,
                                                 const std::string& if_match);
  absl::StatusOr<domain::MessageTemplate> Get(const std::string& tenant,
                                              const std::string& template_id) const {
    return templates_.Get(tenant, template_id);
  }
  std::vector<domain::MessageTemplate> List(const std::string& tenant) const {
    return templates_.List(tenant);
  }

  // The tenant's template `template_id`, or `draft` (checked first, as a
  // save would), rendered for `locale` (domain::PickLocale) with the sample
  // data, `data`'s keys merged over it (RFC 7386). INVALID_ARGUMENT (field
  // data) when `data` is not an object.
  absl::StatusOr<RenderedMessage> Preview(const std::string& tenant, const std::string& template_id,
                                          std::optional<domain::MessageTemplate> draft,
                                          const std::string& locale,
                                          const nlohmann::json& data) const;

 private:
  common::SystemClock system_clock_;
  Definitions<domain::MessageTemplate> templates_;
};

}  // namespace crm::personalization::app

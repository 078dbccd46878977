#include "services/personalization/app/templates.h"

#include <utility>

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::personalization::app {

Templates::Templates(TemplateRepository& repository, const common::Clock* clock)
    : templates_(repository, &domain::MessageTemplate::template_id,
                 DefinitionKind{"template", "templates", "TEMPLATE_EXISTS", "TEMPLATE_NOT_FOUND",
                                "TOO_MANY_TEMPLATES", kMaxTemplatesPerTenant},
                 clock ? *clock : system_clock_) {}

absl::Status Templates::Load() { return templates_.Load(); }

absl::StatusOr<domain::MessageTemplate> Templates::Create(const outbox::WriteMeta& meta,
                                                          domain::MessageTemplate draft) {
  CRM_RETURN_IF_ERROR(domain::NormalizeTemplate(draft));
  return templates_.Create(meta, draft);
}

absl::StatusOr<domain::MessageTemplate> Templates::Update(const outbox::WriteMeta& meta,
                                                          domain::MessageTemplate draft,
                                                          const std::string& if_match) {
  CRM_RETURN_IF_ERROR(domain::NormalizeTemplate(draft));
  return templates_.Update(meta, draft, if_match);
}

absl::StatusOr<domain::MessageTemplate> Templates::Delete(const outbox::WriteMeta& meta,
                                                          const std::string& template_id,
                                                          const std::string& if_match) {
  return templates_.Delete(meta, template_id, if_match);
}

absl::StatusOr<RenderedMessage> Templates::Preview(const std::string& tenant,
                                                   const std::string& template_id,
                                                   std::optional<domain::MessageTemplate> draft,
                                                   const std::string& locale,
                                                   const nlohmann::json& data) const {
  if (!data.is_null() && !data.is_object()) {
    return common::InvalidField("data", "data is an object of the template data's names");
  }
  domain::MessageTemplate t;
  if (draft) {
    draft->template_id = template_id;
    CRM_RETURN_IF_ERROR(domain::NormalizeTemplate(*draft));
    t = *std::move(draft);
    t.version = 0;
  } else {
    CRM_ASSIGN_OR_RETURN(t, templates_.Get(tenant, template_id));
  }
  nlohmann::json merged = domain::TemplateSample();
  if (data.is_object()) merged.merge_patch(data);
  const domain::TemplateLocale& l = domain::PickLocale(t, locale);
  RenderedMessage out;
  out.template_id = t.template_id;
  out.version = t.version;
  out.locale = l.locale;
  CRM_ASSIGN_OR_RETURN(out.parts, domain::RenderTemplate(t, l, merged));
  return out;
}

}  // namespace crm::personalization::app

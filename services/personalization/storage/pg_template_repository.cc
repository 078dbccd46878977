#include "services/personalization/storage/pg_template_repository.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace crm::personalization::storage {
namespace {

const char* ChannelName(domain::TemplateChannel c) {
  switch (c) {
    case domain::TemplateChannel::kEmail:
      return "email";
    case domain::TemplateChannel::kSms:
      return "sms";
    case domain::TemplateChannel::kPush:
      return "push";
    case domain::TemplateChannel::kWebhook:
      return "webhook";
  }
  return "email";
}

domain::TemplateChannel ChannelOf(const std::string& s) {
  if (s == "sms") return domain::TemplateChannel::kSms;
  if (s == "push") return domain::TemplateChannel::kPush;
  if (s == "webhook") return domain::TemplateChannel::kWebhook;
  return domain::TemplateChannel::kEmail;
}

nlohmann::json DefinitionJson(const domain::MessageTemplate& t) {
  nlohmann::json locales = nlohmann::json::array();
  for (const domain::TemplateLocale& l : t.locales) {
    locales.push_back({{"locale", l.locale}, {"parts", l.parts}});
  }
  return {{"display_name", t.display_name},
          {"channel", ChannelName(t.channel)},
          {"default_locale", t.default_locale},
          {"locales", locales},
          {"partials", t.partials}};
}

void FromDefinition(const nlohmann::json& j, domain::MessageTemplate& t) {
  t.display_name = j.at("display_name").get<std::string>();
  t.channel = ChannelOf(j.at("channel").get<std::string>());
  t.default_locale = j.at("default_locale").get<std::string>();
  for (const auto& l : j.at("locales")) {
    t.locales.push_back(
        domain::TemplateLocale{l.at("locale").get<std::string>(),
                               l.at("parts").get<std::map<std::string, std::string>>()});
  }
  t.partials = j.at("partials").get<std::map<std::string, std::string>>();
}

const PgDefinitionTable<domain::MessageTemplate>& Table() {
  static const auto* table = new PgDefinitionTable<domain::MessageTemplate>(
      "templates", "template_id", &domain::MessageTemplate::template_id, &DefinitionJson,
      &FromDefinition);
  return *table;
}

}  // namespace

PgTemplateRepository::PgTemplateRepository(pg::Pool& pool)
    : PgDefinitionRepository<domain::MessageTemplate>(pool, Table()) {}

std::vector<pg::NamedQuery> PgTemplateRepository::Queries() { return Table().Queries(); }

}  // namespace crm::personalization::storage

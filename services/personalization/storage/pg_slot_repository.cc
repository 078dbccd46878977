#include "services/personalization/storage/pg_slot_repository.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "libs/pg/sql.h"
#include "services/personalization/storage/pg_definition_table.h"

namespace crm::personalization::storage {
namespace {

nlohmann::json DefinitionJson(const domain::Slot& s) {
  nlohmann::json variants = nlohmann::json::array();
  for (const domain::SlotVariant& v : s.variants) {
    nlohmann::json arms = nlohmann::json::array();
    for (const domain::ContentArm& a : v.arms) {
      arms.push_back({{"arm_id", a.arm_id}, {"content", a.content}, {"weight", a.weight}});
    }
    variants.push_back({{"variant_id", v.variant_id},
                        {"rule", v.rule},
                        {"topics", v.topics},
                        {"content", v.content},
                        {"arms", arms}});
  }
  return {{"display_name", s.display_name},
          {"selection", s.selection == domain::SlotSelection::kBestInterest ? "best_interest"
                                                                            : "first_eligible"},
          {"variants", variants},
          {"fallback_content", s.fallback_content},
          {"holdout_bp", s.holdout_bp}};
}

// The definition's fields into `s` (slot id, version and times apart).
void FromDefinition(const nlohmann::json& j, domain::Slot& s) {
  s.display_name = j.at("display_name").get<std::string>();
  s.selection = j.at("selection").get<std::string>() == "best_interest"
                    ? domain::SlotSelection::kBestInterest
                    : domain::SlotSelection::kFirstEligible;
  for (const auto& v : j.at("variants")) {
    domain::SlotVariant out;
    out.variant_id = v.at("variant_id").get<std::string>();
    out.rule = v.at("rule").get<std::string>();
    out.topics = v.at("topics").get<std::vector<std::string>>();
    out.content = v.at("content").get<std::string>();
    for (const auto& a : v.at("arms")) {
      out.arms.push_back(domain::ContentArm{a.at("arm_id").get<std::string>(),
                                            a.at("content").get<std::string>(),
                                            a.at("weight").get<std::uint32_t>()});
    }
    s.variants.push_back(std::move(out));
  }
  s.fallback_content = j.at("fallback_content").get<std::string>();
  s.holdout_bp = j.at("holdout_bp").get<std::uint32_t>();
}

const PgDefinitionTable<domain::Slot>& Table() {
  static const auto* table = new PgDefinitionTable<domain::Slot>(
      "slots", "slot_id", &domain::Slot::slot_id, &DefinitionJson, &FromDefinition);
  return *table;
}

}  // namespace

PgSlotRepository::PgSlotRepository(pg::Pool& pool)
    : PgDefinitionRepository<domain::Slot>(pool, Table()) {}

std::vector<pg::NamedQuery> PgSlotRepository::Queries() { return Table().Queries(); }

}  // namespace crm::personalization::storage

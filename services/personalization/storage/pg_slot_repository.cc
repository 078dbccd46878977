#include "services/personalization/storage/pg_slot_repository.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/pg/sql.h"
#include "services/personalization/schema_name.h"

namespace crm::personalization::storage {
namespace {

const std::string kColumns =
    absl::StrCat("slot_id, definition::text, version, ", pg::MicrosColumn("created_at"), ", ",
                 pg::MicrosColumn("updated_at"));

const pg::NamedQuery kSlotForUpdate{
    "slot_for_update",
    absl::StrCat("SELECT ", kColumns,
                 " FROM personalization.slots WHERE tenant_id = $1 AND slot_id = $2 FOR UPDATE"),
    5};
const pg::NamedQuery kSelectSlot{
    "select_slot",
    absl::StrCat("SELECT ", kColumns,
                 " FROM personalization.slots WHERE tenant_id = $1 AND slot_id = $2"),
    5};
const pg::NamedQuery kCountSlots{
    "count_slots", "SELECT count(*) FROM personalization.slots WHERE tenant_id = $1", 1};
const pg::NamedQuery kSaveSlot{
    "save_slot",
    absl::StrCat("INSERT INTO personalization.slots (tenant_id, slot_id, definition, version, "
                 "created_at, updated_at) VALUES ($1, $2, $3::jsonb, $4, ",
                 pg::MicrosParam(5), ", ", pg::MicrosParam(6),
                 ") ON CONFLICT (tenant_id, slot_id) DO UPDATE SET definition = "
                 "EXCLUDED.definition, version = EXCLUDED.version, updated_at = "
                 "EXCLUDED.updated_at"),
    0};
const pg::NamedQuery kDeleteSlot{
    "delete_slot", "DELETE FROM personalization.slots WHERE tenant_id = $1 AND slot_id = $2", 0};
const pg::NamedQuery kSchedulerOn{"slots_scheduler_on",
                                  "SELECT set_config('app.scheduler', 'on', true)", 1};
const pg::NamedQuery kLoadSlots{
    "load_slots", absl::StrCat("SELECT ", kColumns, ", tenant_id::text FROM personalization.slots"),
    6};

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

absl::StatusOr<domain::Slot> SlotOf(const pqxx::row& r) {
  return outbox::ParseJsonAnswer<domain::Slot>(
      r[1].as<std::string>(),
      [&](const nlohmann::json& j, bool&) {
        domain::Slot s;
        s.slot_id = r[0].as<std::string>();
        FromDefinition(j, s);
        s.version = r[2].as<std::int64_t>();
        s.create_time = absl::FromUnixMicros(r[3].as<std::int64_t>());
        s.update_time = absl::FromUnixMicros(r[4].as<std::int64_t>());
        return s;
      },
      "stored slot unreadable");
}

// The answer kept with a slot write's idempotency key: the whole slot.
std::string EncodeSlot(const domain::Slot& s) {
  return nlohmann::json{{"slot_id", s.slot_id},
                        {"definition", DefinitionJson(s)},
                        {"version", s.version},
                        {"create_time_us", absl::ToUnixMicros(s.create_time)},
                        {"update_time_us", absl::ToUnixMicros(s.update_time)}}
      .dump();
}

absl::StatusOr<domain::Slot> DecodeSlot(const std::string& text) {
  return outbox::ParseJsonAnswer<domain::Slot>(
      text,
      [](const nlohmann::json& j, bool&) {
        domain::Slot s;
        s.slot_id = j.at("slot_id").get<std::string>();
        FromDefinition(j.at("definition"), s);
        s.version = j.at("version").get<std::int64_t>();
        s.create_time = absl::FromUnixMicros(j.at("create_time_us").get<std::int64_t>());
        s.update_time = absl::FromUnixMicros(j.at("update_time_us").get<std::int64_t>());
        return s;
      },
      "stored answer unreadable");
}

const outbox::AnswerCodec<domain::Slot>& SlotAnswer() {
  static const auto* codec = new outbox::AnswerCodec<domain::Slot>(
      outbox::SnapshotCodec<domain::Slot>(&EncodeSlot, &DecodeSlot));
  return *codec;
}

}  // namespace

class PgSlotRepository::Tx final : public app::SlotTx {
 public:
  Tx(pg::Pool& pool, const outbox::WriteTx& w) : pool_(pool), w_(w) {}
  absl::StatusOr<std::optional<domain::Slot>> LoadSlot(const std::string& slot_id) override {
    pqxx::result r = pool_.Exec(w_.sql(), kSlotForUpdate, w_.tenant(), slot_id);
    if (r.empty()) return std::optional<domain::Slot>();
    CRM_ASSIGN_OR_RETURN(domain::Slot s, SlotOf(r[0]));
    return std::optional<domain::Slot>(std::move(s));
  }
  absl::StatusOr<std::size_t> CountSlots() override {
    return pool_.Exec(w_.sql(), kCountSlots, w_.tenant())[0][0].as<std::size_t>();
  }
  void SaveSlot(const domain::Slot& s) override {
    pool_.Exec(w_.sql(), kSaveSlot, w_.tenant(), s.slot_id, DefinitionJson(s).dump(), s.version,
               absl::ToUnixMicros(s.create_time), absl::ToUnixMicros(s.update_time));
  }
  void DeleteSlot(const std::string& slot_id) override {
    pool_.Exec(w_.sql(), kDeleteSlot, w_.tenant(), slot_id);
  }

 private:
  pg::Pool& pool_;
  const outbox::WriteTx& w_;
};

PgSlotRepository::PgSlotRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}

std::vector<pg::NamedQuery> PgSlotRepository::Queries() {
  return {kSlotForUpdate, kSelectSlot,  kCountSlots, kSaveSlot,
          kDeleteSlot,    kSchedulerOn, kLoadSlots};
}

absl::StatusOr<domain::Slot> PgSlotRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Slot>(app::SlotTx&)> work) {
  return outbox::WriteOnce<domain::Slot>(writer_, meta, resource, SlotAnswer(),
                                         [&](const outbox::WriteTx& w) {
                                           Tx tx(pool_, w);
                                           return work(tx);
                                         });
}

absl::StatusOr<std::vector<std::pair<std::string, domain::Slot>>> PgSlotRepository::LoadAllSlots() {
  std::vector<std::pair<std::string, domain::Slot>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pool_.Exec(tx, kSchedulerOn);
    for (const auto& r : pool_.Exec(tx, kLoadSlots)) {
      CRM_ASSIGN_OR_RETURN(domain::Slot s, SlotOf(r));
      out.emplace_back(r[5].as<std::string>(), std::move(s));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<domain::Slot>> PgSlotRepository::CurrentSlot(
    const std::string& tenant, const std::string& slot_id) {
  std::optional<domain::Slot> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.reset();
    pqxx::result r = pool_.Exec(tx, kSelectSlot, tenant, slot_id);
    if (r.empty()) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(domain::Slot s, SlotOf(r[0]));
    out = std::move(s);
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace crm::personalization::storage

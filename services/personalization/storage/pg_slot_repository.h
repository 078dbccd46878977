#pragma once
// SlotRepository over PostgreSQL (personalization.slots, schema 003).
#include <string>
#include <utility>
#include <vector>

#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"
#include "services/personalization/app/ports.h"

namespace crm::personalization::storage {

class PgSlotRepository final : public app::SlotRepository {
 public:
  explicit PgSlotRepository(pg::Pool& pool);
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Slot> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Slot>(app::SlotTx&)> work) override;
  absl::StatusOr<std::vector<std::pair<std::string, domain::Slot>>> LoadAllSlots() override;
  absl::StatusOr<std::optional<domain::Slot>> CurrentSlot(const std::string& tenant,
                                                          const std::string& slot_id) override;

 private:
  class Tx;  // app::SlotTx over one outbox::WriteTx
  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
};

}  // namespace crm::personalization::storage

#pragma once
// SlotRepository over PostgreSQL (personalization.slots, schema 003).
#include <vector>

#include "libs/pg/pool.h"
#include "services/personalization/storage/pg_definition_table.h"

namespace crm::personalization::storage {

class PgSlotRepository final : public PgDefinitionRepository<domain::Slot> {
 public:
  explicit PgSlotRepository(pg::Pool& pool);
  static std::vector<pg::NamedQuery> Queries();
};

}  // namespace crm::personalization::storage

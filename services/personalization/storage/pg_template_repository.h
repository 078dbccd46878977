#pragma once
// TemplateRepository over PostgreSQL (personalization.templates, schema 007).
#include <vector>

#include "libs/pg/pool.h"
#include "services/personalization/storage/pg_definition_table.h"

namespace crm::personalization::storage {

class PgTemplateRepository final : public PgDefinitionRepository<domain::MessageTemplate> {
 public:
  explicit PgTemplateRepository(pg::Pool& pool);
  static std::vector<pg::NamedQuery> Queries();
};

}  // namespace crm::personalization::storage

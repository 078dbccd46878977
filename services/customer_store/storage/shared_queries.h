#pragma once
// Queries of one storage file that another one runs too (libs/pg/pool.h,
// NamedQuery). Defined where their aggregate's other queries are.
#include "libs/pg/pool.h"

namespace crm::customer_store::storage {

// $2 and every customer merged into it (transitively, active merges only):
// a survivor's purchases and behaviour include those of the customers
// merged into it, and an unmerge gives them back without moving a row.
inline constexpr char kMergedInto[] =
    "(WITH RECURSIVE down(id, depth) AS (SELECT $2::uuid, 0 UNION ALL SELECT g.source_id, "
    "down.depth + 1 FROM customer_store.merges g JOIN down ON g.survivor_id = down.id WHERE "
    "g.tenant_id = $1 AND g.unmerged_at IS NULL AND down.depth < 32) SELECT id FROM down)";

extern const pg::NamedQuery kInsertConsentReturningId;  // pg_merge.cc
extern const pg::NamedQuery kDeleteCustomer;            // pg_customer_repository.cc
extern const pg::NamedQuery kLockCustomer;              // pg_customer_repository.cc

}  // namespace crm::customer_store::storage

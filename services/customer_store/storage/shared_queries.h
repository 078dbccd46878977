#pragma once
// Queries of one storage file that another one runs too (libs/pg/pool.h,
// NamedQuery). Defined where their aggregate's other queries are.
#include "libs/pg/pool.h"

namespace crm::customer_store::storage {

extern const pg::NamedQuery kInsertConsentReturningId;  // pg_merge.cc
extern const pg::NamedQuery kDeleteCustomer;            // pg_customer_repository.cc

}  // namespace crm::customer_store::storage

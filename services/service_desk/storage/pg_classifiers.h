#pragma once
// For PgTicketRepository's files: a tenant's rows read and parsed; the
// classifiers' tables (schema/015_classifiers.sql): their named queries,
// and a ticket's predictions saved in a write's transaction.
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/status_macros.h"
#include "libs/pg/pool.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::storage {

// The rows `q` reads in the tenant's transaction ($1 the tenant, then
// `args`), each parsed (a T, or a StatusOr<T> whose failure is the read's).
// Shared by the repository's files.
template <typename T, typename Parse, typename... Args>
absl::StatusOr<std::vector<T>> TenantRows(pg::Pool& pool, const std::string& tenant,
                                          const pg::NamedQuery& q, Parse parse,
                                          const Args&... args) {
  std::vector<T> out;
  CRM_RETURN_IF_ERROR(pool.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const pqxx::row& r : pool.Exec(tx, q, tenant, args...)) {
      absl::StatusOr<T> v = parse(r);
      if (!v.ok()) return v.status();
      out.push_back(*std::move(v));
    }
    return absl::OkStatus();
  }));
  return out;
}

std::vector<pg::NamedQuery> ClassifierQueries();
void SavePredictionsIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                       const domain::Ticket& t);

}  // namespace crm::service_desk::storage

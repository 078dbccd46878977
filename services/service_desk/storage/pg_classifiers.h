#pragma once
// The classifiers' tables (schema/015_classifiers.sql), for
// PgTicketRepository: its named queries, and a ticket's predictions saved
// in a write's transaction.
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "libs/pg/pool.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::storage {

std::vector<pg::NamedQuery> ClassifierQueries();
void SavePredictionsIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                       const domain::Ticket& t);

}  // namespace crm::service_desk::storage

#pragma once
// For PgTicketRepository's merge and split (schema/021_ticket_merge.sql):
// a ticket's messages moved to another with their files and mails, and
// its participants copied, in a write's transaction.
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "libs/pg/pool.h"

namespace crm::service_desk::storage {

std::vector<pg::NamedQuery> MoveQueries();

// The messages `ids` of `from` (every one and its pending uploads when
// `ids` is empty) with their attachments and mail records moved to `to`;
// how many messages moved.
int MoveMessagesIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                   const std::string& from, const std::string& to,
                   const std::vector<std::string>& ids);
void CopyParticipantsIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                        const std::string& from, const std::string& to);

}  // namespace crm::service_desk::storage

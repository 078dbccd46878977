// PgTicketRepository's merge and split: one statement moves the messages,
// the files on them and the mails of them (whose ids thread replies), so
// the search (the messages' own tsvector) and the threading follow at once.
#include "services/service_desk/storage/pg_ticket_moves.h"

#include "libs/pg/sql.h"

namespace crm::service_desk::storage {
namespace {

// $1 tenant, $2 from, $3 to, $4 every message (and the pending uploads),
// else $5 the ids. Data-modifying CTEs share one snapshot: the files and
// mails are found through the messages' RETURNING.
const pg::NamedQuery kMoveMessages{
    "service_desk_move_messages",
    "WITH moved AS (UPDATE service_desk.ticket_messages SET ticket_id = $3::uuid WHERE tenant_id "
    "= $1 AND ticket_id = $2::uuid AND ($4 OR message_id = ANY($5::uuid[])) RETURNING message_id), "
    "files AS (UPDATE service_desk.attachments SET ticket_id = $3::uuid WHERE tenant_id = $1 AND "
    "ticket_id = $2::uuid AND ($4 OR message_id IN (SELECT message_id FROM moved)) RETURNING 1), "
    "mails AS (UPDATE service_desk.ticket_mails SET ticket_id = $3::uuid WHERE tenant_id = $1 AND "
    "ticket_id = $2::uuid AND ($4 OR message_id IN (SELECT message_id FROM moved)) RETURNING 1) "
    "SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM files), "
    "(SELECT count(*) FROM mails)",
    3};
const pg::NamedQuery kCopyParticipants{
    "service_desk_copy_participants",
    "INSERT INTO service_desk.ticket_participants (tenant_id, ticket_id, address) SELECT "
    "tenant_id, $3::uuid, address FROM service_desk.ticket_participants WHERE tenant_id = $1 AND "
    "ticket_id = $2::uuid ON CONFLICT DO NOTHING",
    0};

}  // namespace

std::vector<pg::NamedQuery> MoveQueries() { return {kMoveMessages, kCopyParticipants}; }

int MoveMessagesIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                   const std::string& from, const std::string& to,
                   const std::vector<std::string>& ids) {
  pqxx::result r =
      pool.Exec(tx, kMoveMessages, tenant, from, to, ids.empty(), pg::TextArrayLiteral(ids));
  return r[0][0].as<int>();
}

void CopyParticipantsIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                        const std::string& from, const std::string& to) {
  pool.Exec(tx, kCopyParticipants, tenant, from, to);
}

}  // namespace crm::service_desk::storage

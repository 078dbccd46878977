#include "services/service_desk/storage/pg_ticket_repository.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"
#include "services/service_desk/schema_name.h"
#include "services/service_desk/storage/pg_attachments.h"
#include "services/service_desk/storage/pg_classifiers.h"
#include "services/service_desk/storage/pg_surveys.h"
#include "services/service_desk/storage/pg_ticket_moves.h"

namespace crm::service_desk::storage {
namespace {

using domain::Ticket;
using domain::TicketChange;
using domain::TicketMessage;
using Json = nlohmann::json;

// Of a ticket `t` (every query names service_desk.tickets so), with its
// stored SLA instant.
const std::string kTicketColumns = absl::StrCat(
    "t.ticket_id::text, t.number, t.customer_id::text, t.requester_email, t.subject, t.channel, "
    "t.status, t.priority, t.type, t.tags, t.queue, t.assignee, t.custom_fields::text, t.version, "
    "t.message_count, ",
    pg::MicrosColumn("t.created_at"), ", ", pg::MicrosColumn("t.updated_at"), ", ",
    pg::MicrosColumn("t.solved_at"), ", (SELECT ", pg::MicrosColumn("s.next_due_at"),
    " FROM service_desk.ticket_slas s WHERE s.tenant_id = t.tenant_id AND s.ticket_id = "
    "t.ticket_id), coalesce(t.follow_up_of::text, ''), ",
    pg::MicrosColumn("t.status_changed_at"), ", t.visitor_id, coalesce(t.merged_into::text, '')");
constexpr int kTicketColumnCount = 23;
// Of a message, its table named `alias` ("" when the query has one table).
std::string MessageColumnsOf(const std::string& alias) {
  const std::string a = alias.empty() ? "" : alias + ".";
  return absl::StrCat(a, "message_id::text, ", a, "ticket_id::text, ", a, "kind, ", a, "author, ",
                      a, "body, ", pg::MicrosColumn(a + "created_at"), ", ", a, "mail_id");
}
const std::string kMessageColumns = MessageColumnsOf("");
constexpr int kMessageColumnCount = 7;

const pg::NamedQuery kSelectTicket{
    "service_desk_select_ticket",
    absl::StrCat("SELECT ", kTicketColumns,
                 " FROM service_desk.tickets t WHERE t.tenant_id = $1 AND t.ticket_id = $2::uuid"),
    kTicketColumnCount};
const pg::NamedQuery kTicketForUpdate{
    "service_desk_ticket_for_update",
    absl::StrCat("SELECT ", kTicketColumns,
                 " FROM service_desk.tickets t WHERE t.tenant_id = $1 AND t.ticket_id = $2::uuid "
                 "FOR UPDATE OF t"),
    kTicketColumnCount};
const pg::NamedQuery kTicketExists{
    "service_desk_ticket_exists",
    "SELECT 1 FROM service_desk.tickets WHERE tenant_id = $1 AND ticket_id = $2::uuid", 1};
// Newest first after the cursor ($2 micros, $3 id; $4 false = first page);
// each filter applies when set.
const pg::NamedQuery kListTickets{
    "service_desk_list_tickets",
    absl::StrCat("SELECT ", kTicketColumns,
                 " FROM service_desk.tickets t WHERE t.tenant_id = $1 AND ",
                 "(NOT $4 OR (t.created_at, t.ticket_id) < (", pg::MicrosParam(2),
                 ", $3::uuid)) AND ($5 = '' OR t.status = $5) AND ($6 = '' OR t.queue = $6) AND "
                 "($7 = '' OR t.assignee = $7) AND ($8 = '' OR t.customer_id = nullif($8, "
                 "'')::uuid) ORDER BY t.created_at DESC, t.ticket_id DESC LIMIT $9"),
    kTicketColumnCount};
// The earliest SLA instant first, after the cursor (same parameters).
const pg::NamedQuery kListTicketsBySla{
    "service_desk_list_tickets_by_sla",
    absl::StrCat("SELECT ", kTicketColumns,
                 " FROM service_desk.ticket_slas d JOIN service_desk.tickets t ON t.tenant_id = "
                 "d.tenant_id AND t.ticket_id = d.ticket_id WHERE d.tenant_id = $1 AND "
                 "d.next_due_at IS NOT NULL AND (NOT $4 OR (d.next_due_at, d.ticket_id) > (",
                 pg::MicrosParam(2),
                 ", $3::uuid)) AND ($5 = '' OR t.status = $5) AND ($6 = '' OR t.queue = $6) AND "
                 "($7 = '' OR t.assignee = $7) AND ($8 = '' OR t.customer_id = nullif($8, "
                 "'')::uuid) ORDER BY d.next_due_at, d.ticket_id LIMIT $9"),
    kTicketColumnCount};
// The counter's transaction does not wait for its WAL flush: the lock on the
// tenant's row is held for microseconds, not for a disk write. Safe: a
// ticket that commits flushes the WAL up to its own commit, which includes
// the counter's earlier update; a crash can lose only increments whose
// tickets never committed, and (tenant, number) is unique anyway.
const pg::NamedQuery kAsyncCommit{"service_desk_async_commit",
                                  "SELECT set_config('synchronous_commit', 'off', true)", 1};
// A block of $2 numbers: the last one of the block comes back.
const pg::NamedQuery kNextNumbers{
    "service_desk_next_ticket_numbers",
    "INSERT INTO service_desk.ticket_numbers (tenant_id, last_number) VALUES ($1, $2) ON CONFLICT "
    "(tenant_id) DO UPDATE SET last_number = service_desk.ticket_numbers.last_number + $2 "
    "RETURNING last_number",
    1};
const pg::NamedQuery kSaveTicket{
    "service_desk_save_ticket",
    absl::StrCat(
        "INSERT INTO service_desk.tickets (tenant_id, ticket_id, number, customer_id, "
        "requester_email, subject, channel, status, priority, type, tags, queue, assignee, "
        "custom_fields, version, message_count, created_at, updated_at, solved_at, follow_up_of, "
        "status_changed_at, visitor_id, merged_into) "
        "VALUES ($1, $2::uuid, $3, $4::uuid, $5, $6, $7, $8, $9, $10, $11::text[], $12, $13, "
        "$14::jsonb, $15, $16, ",
        pg::MicrosParam(17), ", ", pg::MicrosParam(18), ", CASE WHEN $19 THEN ",
        pg::MicrosParam(20), " END, nullif($21, '')::uuid, ", pg::MicrosParam(22),
        ", $23, nullif($24, '')::uuid) ON CONFLICT (tenant_id, ticket_id) DO UPDATE SET "
        "subject = "
        "EXCLUDED.subject, "
        "status = EXCLUDED.status, priority = EXCLUDED.priority, type = EXCLUDED.type, tags = "
        "EXCLUDED.tags, queue = EXCLUDED.queue, assignee = EXCLUDED.assignee, custom_fields = "
        "EXCLUDED.custom_fields, version = EXCLUDED.version, message_count = "
        "EXCLUDED.message_count, updated_at = EXCLUDED.updated_at, solved_at = "
        "EXCLUDED.solved_at, status_changed_at = EXCLUDED.status_changed_at, merged_into = "
        "EXCLUDED.merged_into"),
    0};
const pg::NamedQuery kInsertMessage{
    "service_desk_insert_message",
    absl::StrCat("INSERT INTO service_desk.ticket_messages (tenant_id, message_id, ticket_id, "
                 "kind, author, body, created_at, mail_id) VALUES ($1, $2::uuid, $3::uuid, $4, "
                 "$5, $6, ",
                 pg::MicrosParam(7), ", $8)"),
    0};
// Oldest first after the cursor ($3 micros, $4 id; $5 false = first page).
const pg::NamedQuery kListMessages{
    "service_desk_list_messages",
    absl::StrCat("SELECT ", kMessageColumns,
                 " FROM service_desk.ticket_messages WHERE tenant_id = $1 AND ticket_id = "
                 "$2::uuid AND (NOT $5 OR (created_at, message_id) > (",
                 pg::MicrosParam(3), ", $4::uuid)) ORDER BY created_at, message_id LIMIT $6"),
    kMessageColumnCount};
// One statement for a write's changes, numbered after the ticket's last;
// each row's actor and time (micros) its own.
const pg::NamedQuery kInsertChanges{
    "service_desk_insert_changes",
    "INSERT INTO service_desk.ticket_changes (tenant_id, ticket_id, seq, field, old_value, "
    "new_value, actor, changed_at) SELECT $1, $2::uuid, coalesce((SELECT max(seq) FROM "
    "service_desk.ticket_changes WHERE tenant_id = $1 AND ticket_id = $2::uuid), 0) + c.n, "
    "c.field, c.old_value, c.new_value, c.actor, 'epoch'::timestamptz + c.at_us::int8 * interval "
    "'1 microsecond' FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) WITH "
    "ORDINALITY AS c(field, old_value, new_value, actor, at_us, n)",
    0};
const pg::NamedQuery kListChanges{
    "service_desk_list_changes",
    absl::StrCat("SELECT seq, field, old_value, new_value, actor, ", pg::MicrosColumn("changed_at"),
                 " FROM (SELECT * FROM service_desk.ticket_changes WHERE tenant_id = $1 AND "
                 "ticket_id = $2::uuid ORDER BY seq DESC LIMIT $3) c ORDER BY seq"),
    6};

// What the SLA clock reads of a thread: kinds and times, not bodies.
const pg::NamedQuery kMessageTimes{
    "service_desk_message_times",
    absl::StrCat("SELECT kind, ", pg::MicrosColumn("created_at"),
                 " FROM service_desk.ticket_messages WHERE tenant_id = $1 AND ticket_id = $2::uuid "
                 "ORDER BY created_at, message_id LIMIT $3"),
    2};
// The tenant's SLA policies (schema/002, 007): the default ('' for none),
// the conditional list, the version and its time.
const std::string kSlaPolicyColumns = absl::StrCat(
    "coalesce(definition::text, ''), policies::text, version, ", pg::MicrosColumn("updated_at"));
const pg::NamedQuery kSelectSlaPolicy{
    "service_desk_select_sla_policy",
    absl::StrCat("SELECT ", kSlaPolicyColumns,
                 " FROM service_desk.sla_policies WHERE tenant_id = $1"),
    4};
const pg::NamedQuery kSlaPolicyForUpdate{
    "service_desk_sla_policy_for_update",
    absl::StrCat("SELECT ", kSlaPolicyColumns,
                 " FROM service_desk.sla_policies WHERE tenant_id = $1 FOR UPDATE"),
    4};
const pg::NamedQuery kSaveSlaPolicy{
    "service_desk_save_sla_policy",
    absl::StrCat("INSERT INTO service_desk.sla_policies (tenant_id, definition, policies, version, "
                 "updated_at) VALUES ($1, nullif($2, '')::jsonb, $3::jsonb, $4, ",
                 pg::MicrosParam(5),
                 ") ON CONFLICT (tenant_id) DO UPDATE SET definition = EXCLUDED.definition, "
                 "policies = EXCLUDED.policies, version = EXCLUDED.version, updated_at = "
                 "EXCLUDED.updated_at"),
    0};
// The policy a ticket is under as last evaluated.
const pg::NamedQuery kTicketSlaPolicy{
    "service_desk_ticket_sla_policy",
    "SELECT policy FROM service_desk.ticket_slas WHERE tenant_id = $1 AND ticket_id = $2::uuid", 1};
// A ticket's SLA reads at most this many changes and messages.
constexpr int kMaxSlaRows = 100'000;

// Stored SLAs (schema/003_sla_deadlines.sql). A ticket write evaluates under
// the policy it reads while holding the tenant's policy lock shared; a
// policy change holds it exclusively, so it waits for those writes and the
// writes after it read the new policy.
const pg::NamedQuery kSlaPolicyLockShared{
    "service_desk_sla_policy_lock_shared",
    "SELECT pg_advisory_xact_lock_shared(hashtextextended('service_desk.sla_policy/' || $1, 0))",
    1};
const pg::NamedQuery kSlaPolicyLock{
    "service_desk_sla_policy_lock",
    "SELECT pg_advisory_xact_lock(hashtextextended('service_desk.sla_policy/' || $1, 0))", 1};
const pg::NamedQuery kStartSlaRebase{
    "service_desk_start_sla_rebase",
    "INSERT INTO service_desk.sla_rebases (tenant_id, policy_version) VALUES ($1, $2) ON CONFLICT "
    "(tenant_id) DO UPDATE SET policy_version = EXCLUDED.policy_version, after_ticket_id = NULL",
    0};
const pg::NamedQuery kMoveSlaRebase{
    "service_desk_move_sla_rebase",
    "UPDATE service_desk.sla_rebases SET after_ticket_id = nullif($3, '')::uuid WHERE tenant_id "
    "= $1 AND policy_version = $2",
    0};
const pg::NamedQuery kEndSlaRebase{
    "service_desk_end_sla_rebase",
    "DELETE FROM service_desk.sla_rebases WHERE tenant_id = $1 AND policy_version = $2", 0};
// The sweeper's tickets, in id order, at most $3 (NULL: all): locked, or
// left out while another transaction holds them.
const pg::NamedQuery kLockTickets{
    "service_desk_lock_tickets",
    absl::StrCat("SELECT ", kTicketColumns,
                 " FROM service_desk.tickets t WHERE t.tenant_id = $1 AND t.ticket_id = "
                 "ANY($2::uuid[]) ORDER BY t.ticket_id LIMIT $3 FOR UPDATE OF t"),
    kTicketColumnCount};
const pg::NamedQuery kLockTicketsSkipLocked{
    "service_desk_lock_tickets_skip_locked",
    absl::StrCat("SELECT ", kTicketColumns,
                 " FROM service_desk.tickets t WHERE t.tenant_id = $1 AND t.ticket_id = "
                 "ANY($2::uuid[]) ORDER BY t.ticket_id LIMIT $3 FOR UPDATE OF t SKIP LOCKED"),
    kTicketColumnCount};
const pg::NamedQuery kSelectSlas{
    "service_desk_select_slas",
    absl::StrCat("SELECT ticket_id::text, policy_version, ", pg::MicrosColumn("next_due_at"),
                 ", array_to_string(told, ','), policy FROM service_desk.ticket_slas WHERE "
                 "tenant_id = $1 AND ticket_id = ANY($2::uuid[])"),
    5};
// What the SLA clock reads of several tickets: status, priority and policy changes
// (kListChanges' columns, then the ticket), message kinds and times.
const pg::NamedQuery kSlaChanges{
    "service_desk_sla_changes",
    absl::StrCat(
        "SELECT seq, field, old_value, new_value, actor, ", pg::MicrosColumn("changed_at"),
        ", ticket_id::text FROM service_desk.ticket_changes WHERE tenant_id = $1 AND "
        "ticket_id = ANY($2::uuid[]) AND field IN ('status', 'priority', 'sla_policy') ORDER BY "
        "ticket_id, seq"),
    7};
const pg::NamedQuery kSlaMessages{
    "service_desk_sla_messages",
    absl::StrCat("SELECT kind, ", pg::MicrosColumn("created_at"),
                 ", ticket_id::text FROM service_desk.ticket_messages WHERE tenant_id = $1 AND "
                 "ticket_id = ANY($2::uuid[]) AND kind <> 'internal_note' ORDER BY ticket_id, "
                 "created_at, message_id"),
    3};
// One statement for a batch: ids, versions, next instants (micros, ''
// for none), told keys (comma-separated) and policies, as text arrays.
const pg::NamedQuery kSaveSlas{
    "service_desk_save_slas",
    absl::StrCat(
        "INSERT INTO service_desk.ticket_slas (tenant_id, ticket_id, policy_version, next_due_at, "
        "told, policy, updated_at) SELECT $1, r.id::uuid, r.version::int8, CASE WHEN r.due = '' "
        "THEN NULL ELSE 'epoch'::timestamptz + r.due::int8 * interval '1 microsecond' END, "
        "string_to_array(r.told, ','), r.policy, ",
        pg::MicrosParam(6),
        " FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $7::text[]) AS r(id, "
        "version, due, told, policy) ON CONFLICT (tenant_id, ticket_id) DO UPDATE SET "
        "policy_version = EXCLUDED.policy_version, next_due_at = EXCLUDED.next_due_at, told = "
        "EXCLUDED.told, policy = EXCLUDED.policy, updated_at = EXCLUDED.updated_at"),
    0};
// The sweeper's reads across tenants. Without parallel workers: a due
// read is an index range of a few hundred rows, and starting workers took
// ~100 ms of its ~2 ms (bench/README.md).
const pg::NamedQuery kSchedulerOn{"service_desk_scheduler_on",
                                  "SELECT set_config('app.scheduler', 'on', true), "
                                  "set_config('max_parallel_workers_per_gather', '0', true)",
                                  2};
const pg::NamedQuery kNoParallel{"service_desk_no_parallel",
                                 "SELECT set_config('max_parallel_workers_per_gather', '0', true)",
                                 1};
const pg::NamedQuery kDueSlas{
    "service_desk_due_slas",
    absl::StrCat("SELECT tenant_id::text, ticket_id::text FROM service_desk.ticket_slas WHERE "
                 "next_due_at <= ",
                 pg::MicrosParam(1), " ORDER BY next_due_at LIMIT $2"),
    2};
const pg::NamedQuery kSlaRebases{
    "service_desk_sla_rebases",
    "SELECT tenant_id::text, policy_version, coalesce(after_ticket_id::text, '') FROM "
    "service_desk.sla_rebases ORDER BY random() LIMIT $1",
    3};
const pg::NamedQuery kStaleSlas{
    "service_desk_stale_slas",
    "SELECT t.ticket_id::text FROM service_desk.tickets t LEFT JOIN service_desk.ticket_slas s "
    "ON s.tenant_id = t.tenant_id AND s.ticket_id = t.ticket_id WHERE t.tenant_id = $1 AND "
    "t.ticket_id > $3::uuid AND coalesce(s.policy_version, -1) < $2 ORDER BY t.ticket_id LIMIT $4",
    1};
const pg::NamedQuery kClaimSlaRebase{
    "service_desk_claim_sla_rebase",
    "SELECT 1 FROM service_desk.sla_rebases WHERE tenant_id = $1 AND policy_version = $2 AND "
    "coalesce(after_ticket_id::text, '') = $3 FOR UPDATE SKIP LOCKED",
    1};
constexpr char kNoUuid[] = "00000000-0000-0000-0000-000000000000";

// Inbound mail (schema/004_inbound_mail.sql).
const pg::NamedQuery kRecordMail{
    "service_desk_record_mail",
    absl::StrCat(
        "INSERT INTO service_desk.ticket_mails (tenant_id, mailbox_id, mail_id, ticket_id, "
        "message_id, outbound, from_addr, thread_subject, machine, rule, received_at, "
        "reply_addr) VALUES ($1, $2::uuid, $3, $4::uuid, $5::uuid, $6, $7, $8, $9, $10, ",
        pg::MicrosParam(11), ", $12) ON CONFLICT DO NOTHING"),
    0};
// Outbound mail (schema/006_outbound_mail.sql).
const std::string kMailRecordColumns = absl::StrCat(
    "mailbox_id::text, mail_id, ticket_id::text, message_id::text, outbound, "
    "from_addr, reply_addr, thread_subject, machine, rule, ",
    pg::MicrosColumn("received_at"));
constexpr int kMailRecordColumnCount = 11;
// The newest $3, returned oldest first.
const pg::NamedQuery kTicketMails{
    "service_desk_ticket_mails",
    absl::StrCat("SELECT * FROM (SELECT ", kMailRecordColumns,
                 " FROM service_desk.ticket_mails WHERE tenant_id = $1 AND ticket_id = $2::uuid "
                 "ORDER BY received_at DESC, mail_id DESC LIMIT $3) m ORDER BY 11, 2"),
    kMailRecordColumnCount};
const std::string kOutboundColumns = absl::StrCat(
    "mail_id::text, ticket_id::text, coalesce(ticket_message_id::text, ''), mailbox_id::text, "
    "kind, from_addr, from_name, to_addr, to_name, subject, body, message_id, in_reply_to, "
    "references_ids, ",
    pg::MicrosColumn("created_at"));
constexpr int kOutboundColumnCount = 15;
const pg::NamedQuery kQueueMail{
    "service_desk_queue_mail",
    absl::StrCat("INSERT INTO service_desk.outbound_mails (tenant_id, mail_id, ticket_id, "
                 "ticket_message_id, mailbox_id, kind, from_addr, from_name, to_addr, to_name, "
                 "subject, body, message_id, in_reply_to, references_ids, created_at) VALUES ($1, "
                 "$2::uuid, $3::uuid, NULLIF($4, '')::uuid, $5::uuid, $6, $7, $8, $9, $10, $11, "
                 "$12, $13, $14, $15::text[], ",
                 pg::MicrosParam(16), ")"),
    0};
const pg::NamedQuery kSelectOutboundMail{
    "service_desk_select_outbound_mail",
    absl::StrCat("SELECT ", kOutboundColumns,
                 " FROM service_desk.outbound_mails WHERE tenant_id = $1 AND ticket_id = $2::uuid "
                 "AND mail_id = $3::uuid"),
    kOutboundColumnCount};
// The slot is taken (a row comes back) when the last auto-reply is older
// than the interval ($5: its cutoff) or there was none.
const pg::NamedQuery kTakeAutoReplySlot{
    "service_desk_take_auto_reply_slot",
    absl::StrCat("INSERT INTO service_desk.auto_replies AS a (tenant_id, mailbox_id, address, "
                 "sent_at) VALUES ($1, $2::uuid, $3, ",
                 pg::MicrosParam(4),
                 ") ON CONFLICT (tenant_id, mailbox_id, address) DO UPDATE SET sent_at = "
                 "EXCLUDED.sent_at WHERE a.sent_at <= ",
                 pg::MicrosParam(5), " RETURNING 1"),
    1};
const pg::NamedQuery kCountMailsFrom{
    "service_desk_count_mails_from",
    absl::StrCat("SELECT count(*) FROM service_desk.ticket_mails WHERE tenant_id = $1 AND "
                 "mailbox_id = $2::uuid AND NOT outbound AND from_addr = $3 AND thread_subject = "
                 "$4 AND received_at >= ",
                 pg::MicrosParam(5)),
    1};
const pg::NamedQuery kQuarantine{
    "service_desk_quarantine",
    absl::StrCat("INSERT INTO service_desk.mail_quarantine AS q (tenant_id, mailbox_id, address, "
                 "until) VALUES ($1, $2::uuid, $3, ",
                 pg::MicrosParam(4),
                 ") ON CONFLICT (tenant_id, mailbox_id, address) DO UPDATE SET until = "
                 "greatest(q.until, EXCLUDED.until)"),
    0};
const pg::NamedQuery kQuarantined{
    "service_desk_quarantined",
    absl::StrCat("SELECT EXISTS (SELECT 1 FROM service_desk.mail_quarantine WHERE tenant_id = $1 "
                 "AND mailbox_id = $2::uuid AND address = $3 AND until > ",
                 pg::MicrosParam(4), ")"),
    1};
const pg::NamedQuery kLatestTicketFrom{
    "service_desk_latest_ticket_from",
    "SELECT ticket_id::text FROM service_desk.ticket_mails WHERE tenant_id = $1 AND mailbox_id = "
    "$2::uuid AND NOT outbound AND from_addr = $3 ORDER BY received_at DESC LIMIT 1",
    1};
const pg::NamedQuery kMailSeen{
    "service_desk_mail_seen",
    "SELECT EXISTS (SELECT 1 FROM service_desk.ticket_mails WHERE tenant_id = $1 AND mailbox_id = "
    "$2::uuid AND mail_id = $3 AND NOT outbound)",
    1};
// A received mail's ticket and message.
const pg::NamedQuery kReceivedMail{
    "service_desk_received_mail",
    absl::StrCat("SELECT ", kTicketColumns, ", ", MessageColumnsOf("g"),
                 " FROM service_desk.ticket_mails m JOIN service_desk.tickets t ON t.tenant_id = "
                 "m.tenant_id AND t.ticket_id = m.ticket_id JOIN service_desk.ticket_messages g "
                 "ON g.tenant_id = m.tenant_id AND g.message_id = m.message_id WHERE m.tenant_id "
                 "= $1 AND m.mailbox_id = $2::uuid AND m.mail_id = $3 AND NOT m.outbound"),
    kTicketColumnCount + kMessageColumnCount};
const pg::NamedQuery kAddParticipants{
    "service_desk_add_participants",
    "INSERT INTO service_desk.ticket_participants (tenant_id, ticket_id, address) SELECT $1, "
    "$2::uuid, a FROM unnest($3::text[]) a ON CONFLICT DO NOTHING",
    0};
const std::string kMailboxColumns = absl::StrCat(
    "b.mailbox_id::text, b.address, b.own_domains, b.reopen_window_s, b.same_subject_window_s, "
    "b.version, ",
    pg::MicrosColumn("b.created_at"), ", ", pg::MicrosColumn("b.updated_at"),
    ", b.name, b.auto_reply, b.auto_reply_subject, b.auto_reply_body");
constexpr int kMailboxColumnCount = 12;
const pg::NamedQuery kSelectMailbox{
    "service_desk_select_mailbox",
    absl::StrCat("SELECT ", kMailboxColumns,
                 " FROM service_desk.mailboxes b WHERE b.tenant_id = $1 AND b.mailbox_id = "
                 "$2::uuid"),
    kMailboxColumnCount};
const pg::NamedQuery kMailboxForUpdate{
    "service_desk_mailbox_for_update",
    absl::StrCat("SELECT ", kMailboxColumns,
                 " FROM service_desk.mailboxes b WHERE b.tenant_id = $1 AND b.mailbox_id = "
                 "$2::uuid FOR UPDATE"),
    kMailboxColumnCount};
const pg::NamedQuery kListMailboxes{
    "service_desk_list_mailboxes",
    absl::StrCat("SELECT ", kMailboxColumns,
                 " FROM service_desk.mailboxes b WHERE b.tenant_id = $1 ORDER BY b.address LIMIT "
                 "$2"),
    kMailboxColumnCount};
// The address's route: nothing comes back when a mailbox has it already.
const pg::NamedQuery kClaimMailboxAddress{
    "service_desk_claim_mailbox_address",
    "INSERT INTO service_desk.mailbox_routes (address, tenant_id, mailbox_id) VALUES ($2, $1, "
    "$3::uuid) ON CONFLICT (address) DO NOTHING RETURNING 1",
    1};
// A tenant's rules kept as one JSON document under a version (routing
// rules: schema/005_routing_rules.sql; triggers: 011_triggers.sql): its
// read, its read locked until the write ends, its save.
struct DocumentQueries {
  pg::NamedQuery select, for_update, save;
};
DocumentQueries DocumentQueriesOf(const std::string& name, const std::string& table) {
  const std::string read =
      absl::StrCat("SELECT definition::text, version, ", pg::MicrosColumn("updated_at"),
                   " FROM service_desk.", table, " WHERE tenant_id = $1");
  return DocumentQueries{
      {absl::StrCat("service_desk_select_", name), read, 3},
      {absl::StrCat("service_desk_", name, "_for_update"), read + " FOR UPDATE", 3},
      {absl::StrCat("service_desk_save_", name),
       absl::StrCat("INSERT INTO service_desk.", table,
                    " (tenant_id, definition, version, updated_at) VALUES ($1, $2::jsonb, $3, ",
                    pg::MicrosParam(4),
                    ") ON CONFLICT (tenant_id) DO UPDATE SET definition = EXCLUDED.definition, "
                    "version = EXCLUDED.version, updated_at = EXCLUDED.updated_at"),
       0}};
}
const DocumentQueries kRoutingRulesDoc = DocumentQueriesOf("routing_rules", "routing_rules");
const DocumentQueries kTriggersDoc = DocumentQueriesOf("triggers", "triggers");
const DocumentQueries kAutomationsDoc = DocumentQueriesOf("automations", "automations");
// Time-based automations (schema/012_automations.sql): the tenants that
// have some (across tenants: the sweeper), a firing's read and record.
const pg::NamedQuery kAutomatedTenants{
    "service_desk_automated_tenants",
    absl::StrCat("SELECT tenant_id::text, definition::text, version, ",
                 pg::MicrosColumn("updated_at"),
                 " FROM service_desk.automations WHERE tenant_id > $1::uuid AND "
                 "jsonb_array_length(definition->'automations') > 0 ORDER BY tenant_id LIMIT $2"),
    4};
const pg::NamedQuery kLastFired{
    "service_desk_last_fired",
    absl::StrCat("SELECT ", pg::MicrosColumn("fired_at"),
                 " FROM service_desk.automation_firings WHERE tenant_id = $1 AND ticket_id = "
                 "$2::uuid AND automation_id = $3"),
    1};
const pg::NamedQuery kRecordFiring{
    "service_desk_record_firing",
    absl::StrCat("INSERT INTO service_desk.automation_firings (tenant_id, ticket_id, "
                 "automation_id, fired_at) VALUES ($1, $2::uuid, $3, ",
                 pg::MicrosParam(4),
                 ") ON CONFLICT (tenant_id, ticket_id, automation_id) DO UPDATE SET fired_at = "
                 "EXCLUDED.fired_at"),
    0};
// A tenant's open tickets automation $2 may be due on: the instant its
// clock reads (`column`) at or before $3 (micros: now less its hours) and
// after its last firing; ticket id order after $4.
pg::NamedQuery AutomationCandidatesQuery(const std::string& clock, const std::string& column) {
  return pg::NamedQuery{
      absl::StrCat("service_desk_automation_candidates_", clock),
      absl::StrCat("SELECT ", kTicketColumns, ", coalesce(", pg::MicrosColumn("f.fired_at"),
                   ", -1) FROM service_desk.tickets t LEFT JOIN service_desk.automation_firings "
                   "f ON f.tenant_id = t.tenant_id AND f.ticket_id = t.ticket_id AND "
                   "f.automation_id = $2 WHERE t.tenant_id = $1 AND t.status <> 'closed' AND t.",
                   column, " <= ", pg::MicrosParam(3),
                   " AND (f.fired_at IS NULL OR f.fired_at < t.", column,
                   ") AND t.ticket_id > $4::uuid ORDER BY t.ticket_id LIMIT $5"),
      kTicketColumnCount + 1};
}
const pg::NamedQuery kCandidatesByCreation = AutomationCandidatesQuery("created", "created_at");
const pg::NamedQuery kCandidatesByUpdate = AutomationCandidatesQuery("updated", "updated_at");
const pg::NamedQuery kCandidatesByStatus =
    AutomationCandidatesQuery("status_changed", "status_changed_at");
const pg::NamedQuery kCandidatesBySolve = AutomationCandidatesQuery("solved", "solved_at");
const pg::NamedQuery& CandidatesQueryOf(domain::AutomationClock c) {
  switch (c) {
    case domain::AutomationClock::kCreated:
      return kCandidatesByCreation;
    case domain::AutomationClock::kStatusChanged:
      return kCandidatesByStatus;
    case domain::AutomationClock::kSolved:
      return kCandidatesBySolve;
    case domain::AutomationClock::kUpdated:
      break;
  }
  return kCandidatesByUpdate;
}
// Agents (schema/008_assignment.sql).
const std::string kAgentColumns =
    absl::StrCat("a.agent_id, a.name, a.queues, a.skills, a.capacity, a.available, a.version, ",
                 pg::MicrosColumn("a.updated_at"), ", coalesce(",
                 pg::MicrosColumn("a.last_assigned_at"), ", -1)");
constexpr int kAgentColumnCount = 9;
// With its open tickets (the load assignment counts).
const std::string kAgentStateColumns = absl::StrCat(
    kAgentColumns,
    ", (SELECT count(*) FROM service_desk.tickets t WHERE t.tenant_id = a.tenant_id AND "
    "t.assignee = a.agent_id AND t.assignee <> '' AND t.status NOT IN ('solved', 'closed'))");
const pg::NamedQuery kAgentForUpdate{
    "service_desk_agent_for_update",
    absl::StrCat("SELECT ", kAgentColumns,
                 " FROM service_desk.agents a WHERE a.tenant_id = $1 AND a.agent_id = $2 FOR "
                 "UPDATE"),
    kAgentColumnCount};
const pg::NamedQuery kSaveAgent{
    "service_desk_save_agent",
    absl::StrCat("INSERT INTO service_desk.agents (tenant_id, agent_id, name, queues, skills, "
                 "capacity, available, version, updated_at, last_assigned_at) VALUES ($1, $2, $3, "
                 "$4::text[], $5::text[], $6, $7, $8, ",
                 pg::MicrosParam(9),
                 ", CASE WHEN $10::int8 < 0 THEN NULL ELSE 'epoch'::timestamptz + $10::int8 * "
                 "interval '1 microsecond' END) ON CONFLICT (tenant_id, agent_id) DO UPDATE SET "
                 "name = EXCLUDED.name, queues = EXCLUDED.queues, skills = EXCLUDED.skills, "
                 "capacity = EXCLUDED.capacity, available = EXCLUDED.available, version = "
                 "EXCLUDED.version, updated_at = EXCLUDED.updated_at"),
    0};
const pg::NamedQuery kSelectAgent{
    "service_desk_select_agent",
    absl::StrCat("SELECT ", kAgentStateColumns,
                 " FROM service_desk.agents a WHERE a.tenant_id = $1 AND a.agent_id = $2"),
    kAgentColumnCount + 1};
const pg::NamedQuery kListAgents{
    "service_desk_list_agents",
    absl::StrCat("SELECT ", kAgentStateColumns,
                 " FROM service_desk.agents a WHERE a.tenant_id = $1 ORDER BY a.agent_id LIMIT $2"),
    kAgentColumnCount + 1};
const pg::NamedQuery kAssignableAgents{
    "service_desk_assignable_agents",
    absl::StrCat("SELECT ", kAgentColumns,
                 " FROM service_desk.agents a WHERE a.tenant_id = $1 ORDER BY a.agent_id LIMIT $2"),
    kAgentColumnCount};
// A claim (ClaimAgent): the agent locked, skipping it when another write
// holds it, or waiting.
const pg::NamedQuery kClaimAgent{
    "service_desk_claim_agent",
    absl::StrCat("SELECT ", kAgentColumns,
                 " FROM service_desk.agents a WHERE a.tenant_id = $1 AND a.agent_id = $2 FOR "
                 "UPDATE SKIP LOCKED"),
    kAgentColumnCount};
const pg::NamedQuery kClaimAgentWaiting{"service_desk_claim_agent_waiting",
                                        absl::StrCat("SELECT ", kAgentColumns,
                                                     " FROM service_desk.agents a WHERE "
                                                     "a.tenant_id = $1 AND a.agent_id = $2 FOR "
                                                     "UPDATE"),
                                        kAgentColumnCount};
const pg::NamedQuery kOpenTickets{
    "service_desk_open_tickets",
    "SELECT assignee, count(*) FROM service_desk.tickets WHERE tenant_id = $1 AND assignee = "
    "ANY($2::text[]) AND assignee <> '' AND status NOT IN ('solved', 'closed') GROUP BY assignee",
    2};
// An agent's new and open tickets, oldest first (reassignment).
const pg::NamedQuery kActiveTicketsOf{
    "service_desk_active_tickets_of",
    "SELECT ticket_id::text FROM service_desk.tickets WHERE tenant_id = $1 AND assignee = $2 AND "
    "status IN ('new', 'open') ORDER BY created_at, ticket_id LIMIT $3",
    1};
const pg::NamedQuery kRecordAssignment{
    "service_desk_record_assignment",
    absl::StrCat("UPDATE service_desk.agents SET last_assigned_at = ", pg::MicrosParam(3),
                 " WHERE tenant_id = $1 AND agent_id = $2"),
    0};

// The SLA report (domain/sla_report.h): the tenant's tickets created in
// [$2, $3) (micros) of queue $4 ('' for all), each with its first public
// reply, its solve when solved or closed, whether a policy applies and the
// breaches told; counted and ranked in one statement.
std::string MicrosOf(const std::string& interval) {
  return absl::StrCat("coalesce((extract(epoch FROM ", interval, ") * 1000000)::int8, -1)");
}
std::string RankOf(double p, const std::string& column) {
  return MicrosOf(absl::StrCat("percentile_disc(", p, ") WITHIN GROUP (ORDER BY ", column, ")"));
}
const pg::NamedQuery kSlaReport{
    "service_desk_sla_report",
    absl::StrCat(
        "WITH t AS (SELECT t.created_at, CASE WHEN t.status IN ('solved', 'closed') THEN "
        "t.solved_at END AS solved_at, coalesce(s.policy, '') <> '' AS under_sla, "
        "coalesce(s.told, '{}') AS told, (SELECT min(m.created_at) FROM "
        "service_desk.ticket_messages m WHERE m.tenant_id = t.tenant_id AND m.ticket_id = "
        "t.ticket_id AND m.kind = 'public_reply') AS replied_at FROM service_desk.tickets t LEFT "
        "JOIN service_desk.ticket_slas s ON s.tenant_id = t.tenant_id AND s.ticket_id = "
        "t.ticket_id WHERE t.tenant_id = $1 AND t.created_at >= ",
        pg::MicrosParam(2), " AND t.created_at < ", pg::MicrosParam(3),
        " AND ($4 = '' OR t.queue = $4)), f AS (SELECT created_at, solved_at, replied_at, "
        "under_sla, EXISTS (SELECT 1 FROM unnest(told) k WHERE k LIKE 'breach/first_reply/%') "
        "AS reply_breached, EXISTS (SELECT 1 FROM unnest(told) k WHERE k LIKE "
        "'breach/resolution/%') AS solve_breached FROM t) SELECT count(*), count(*) FILTER "
        "(WHERE under_sla), count(replied_at), count(*) FILTER (WHERE under_sla AND replied_at "
        "IS NOT NULL AND NOT reply_breached), count(*) FILTER (WHERE under_sla AND "
        "reply_breached), ",
        RankOf(0.5, "replied_at - created_at"), ", ", RankOf(0.9, "replied_at - created_at"),
        ", count(solved_at), count(*) FILTER (WHERE under_sla AND solved_at IS NOT NULL AND NOT "
        "solve_breached), count(*) FILTER (WHERE under_sla AND solve_breached), ",
        RankOf(0.5, "solved_at - created_at"), ", ", RankOf(0.9, "solved_at - created_at"),
        " FROM f"),
    12};

// Macros (schema/009_macros.sql).
const std::string kMacroColumns =
    absl::StrCat("macro_id::text, definition::text, version, ", pg::MicrosColumn("created_at"),
                 ", ", pg::MicrosColumn("updated_at"));
constexpr int kMacroColumnCount = 5;
const pg::NamedQuery kMacroForUpdate{
    "service_desk_macro_for_update",
    absl::StrCat("SELECT ", kMacroColumns,
                 " FROM service_desk.macros WHERE tenant_id = $1 AND macro_id = $2::uuid FOR "
                 "UPDATE"),
    kMacroColumnCount};
const pg::NamedQuery kSelectMacro{
    "service_desk_select_macro",
    absl::StrCat("SELECT ", kMacroColumns,
                 " FROM service_desk.macros WHERE tenant_id = $1 AND macro_id = $2::uuid"),
    kMacroColumnCount};
const pg::NamedQuery kListMacros{
    "service_desk_list_macros",
    absl::StrCat("SELECT ", kMacroColumns,
                 " FROM service_desk.macros WHERE tenant_id = $1 ORDER BY name, macro_id LIMIT $2"),
    kMacroColumnCount};
const pg::NamedQuery kSaveMacro{
    "service_desk_save_macro",
    absl::StrCat("INSERT INTO service_desk.macros (tenant_id, macro_id, name, definition, version, "
                 "created_at, updated_at) VALUES ($1, $2::uuid, $3, $4::jsonb, $5, ",
                 pg::MicrosParam(6), ", ", pg::MicrosParam(7),
                 ") ON CONFLICT (tenant_id, macro_id) DO UPDATE SET name = EXCLUDED.name, "
                 "definition = EXCLUDED.definition, version = EXCLUDED.version, updated_at = "
                 "EXCLUDED.updated_at"),
    0};
const pg::NamedQuery kDeleteMacro{
    "service_desk_delete_macro",
    "DELETE FROM service_desk.macros WHERE tenant_id = $1 AND macro_id = $2::uuid", 0};
const pg::NamedQuery kCountMacros{"service_desk_count_macros",
                                  "SELECT count(*) FROM service_desk.macros WHERE tenant_id = $1",
                                  1};
// The labels macros answer (schema/016_auto_response.sql): the tenant's
// bindings are written under a transaction lock, so a label is checked
// free and bound by one write at a time.
const pg::NamedQuery kLockMacroIntents{
    "service_desk_lock_macro_intents",
    "SELECT pg_advisory_xact_lock(hashtextextended('service_desk.macro_intents/' || $1, 0))", 1};
const pg::NamedQuery kBoundIntent{
    "service_desk_bound_intent",
    "SELECT label, macro_id::text FROM service_desk.macro_intents WHERE tenant_id = $1 AND label = "
    "ANY($2::text[]) AND macro_id <> $3::uuid ORDER BY array_position($2::text[], label) LIMIT 1",
    2};
const pg::NamedQuery kClearMacroIntents{
    "service_desk_clear_macro_intents",
    "DELETE FROM service_desk.macro_intents WHERE tenant_id = $1 AND macro_id = $2::uuid", 0};
const pg::NamedQuery kBindMacroIntents{
    "service_desk_bind_macro_intents",
    "INSERT INTO service_desk.macro_intents (tenant_id, label, macro_id) SELECT $1, l, $2::uuid "
    "FROM unnest($3::text[]) l",
    0};
const pg::NamedQuery kMacroForIntent{
    "service_desk_macro_for_intent",
    absl::StrCat("SELECT ", kMacroColumns,
                 " FROM service_desk.macros WHERE tenant_id = $1 AND macro_id = (SELECT macro_id "
                 "FROM service_desk.macro_intents WHERE tenant_id = $1 AND label = $2)"),
    kMacroColumnCount};

// Articles (schema/013_knowledge_base.sql); `body` in the column list: the
// text, or '' for a list.
std::string ArticleColumnsOf(const std::string& body) {
  return absl::StrCat("a.article_id::text, a.title, ", body,
                      ", a.category, a.locale, a.state, a.author, a.version, ",
                      pg::MicrosColumn("a.created_at"), ", ", pg::MicrosColumn("a.updated_at"));
}
constexpr int kArticleColumnCount = 10;
const pg::NamedQuery kArticleForUpdate{
    "service_desk_article_for_update",
    absl::StrCat("SELECT ", ArticleColumnsOf("a.body"),
                 " FROM service_desk.articles a WHERE a.tenant_id = $1 AND a.article_id = "
                 "$2::uuid FOR UPDATE"),
    kArticleColumnCount};
const pg::NamedQuery kSelectArticle{
    "service_desk_select_article",
    absl::StrCat("SELECT ", ArticleColumnsOf("a.body"),
                 " FROM service_desk.articles a WHERE a.tenant_id = $1 AND a.article_id = "
                 "$2::uuid"),
    kArticleColumnCount};
const pg::NamedQuery kListArticles{
    "service_desk_list_articles",
    absl::StrCat("SELECT ", ArticleColumnsOf("''"),
                 " FROM service_desk.articles a WHERE a.tenant_id = $1 AND ($2 = '' OR "
                 "a.category = $2) AND ($3 = '' OR a.state = $3) AND ($4 = '' OR a.locale = $4) "
                 "AND a.article_id > $5::uuid ORDER BY a.article_id LIMIT $6"),
    kArticleColumnCount};
const pg::NamedQuery kArticleVersions{
    "service_desk_article_versions",
    absl::StrCat("SELECT ", ArticleColumnsOf("a.body"),
                 " FROM service_desk.article_versions a WHERE a.tenant_id = $1 AND a.article_id "
                 "= $2::uuid ORDER BY a.version DESC LIMIT $3"),
    kArticleColumnCount};
const pg::NamedQuery kSaveArticle{
    "service_desk_save_article",
    absl::StrCat("WITH v AS (INSERT INTO service_desk.article_versions (tenant_id, article_id, "
                 "version, title, body, category, locale, state, author, created_at, updated_at) "
                 "VALUES ($1, $2::uuid, $9, $3, $4, $5, $6, $7, $8, ",
                 pg::MicrosParam(10), ", ", pg::MicrosParam(11),
                 ")) INSERT INTO service_desk.articles (tenant_id, article_id, title, body, "
                 "category, locale, state, author, version, created_at, updated_at) VALUES ($1, "
                 "$2::uuid, $3, $4, $5, $6, $7, $8, $9, ",
                 pg::MicrosParam(10), ", ", pg::MicrosParam(11),
                 ") ON CONFLICT (tenant_id, article_id) DO UPDATE SET title = EXCLUDED.title, body "
                 "= EXCLUDED.body, category = EXCLUDED.category, locale = EXCLUDED.locale, state = "
                 "EXCLUDED.state, author = EXCLUDED.author, version = EXCLUDED.version, updated_at "
                 "= EXCLUDED.updated_at"),
    0};
const pg::NamedQuery kDeleteArticle{
    "service_desk_delete_article",
    "WITH v AS (DELETE FROM service_desk.article_versions WHERE tenant_id = $1 AND article_id = "
    "$2::uuid) DELETE FROM service_desk.articles WHERE tenant_id = $1 AND article_id = $2::uuid",
    0};
const pg::NamedQuery kCountArticles{
    "service_desk_count_articles",
    "SELECT count(*) FROM service_desk.articles WHERE tenant_id = $1", 1};
// The search ($2: the tsquery text, domain::TsQueryOf). Each kind ranks
// at most $candidates of its matches, the most recent ones, which
// service_desk.search_candidates finds (migration 014: it runs as the
// schema owner, scoped to the transaction's tenant, because row-level
// security keeps the app role's own statements off the GIN indexes; it
// reads the newest rows for a frequent word and the GIN index for a rare
// one). Articles of state $3 and locale $4 ('' any), the best $5 of at most
// $6 ($7, $8: the function's sample and walk) with their passages.
constexpr char kHeadline[] =
    "'MaxFragments=2, MaxWords=25, MinWords=8, FragmentDelimiter=\" … \"'";
const pg::NamedQuery kSearchArticles{
    "service_desk_search_articles",
    absl::StrCat("WITH q AS (SELECT to_tsquery('english', $2) AS q), hits AS (SELECT c.row_id, "
                 "ts_rank_cd(c.doc, q.q) AS score FROM q, service_desk.search_candidates("
                 "'articles', q.q, $6, $7, $8, $3, $4) c ORDER BY score DESC, c.row_id LIMIT $5) "
                 "SELECT ",
                 ArticleColumnsOf("''"), ", hits.score, ts_headline('english', a.body, q.q, ",
                 kHeadline,
                 ") FROM hits JOIN service_desk.articles a ON a.tenant_id = $1 AND a.article_id = "
                 "hits.row_id CROSS JOIN q ORDER BY hits.score DESC, a.article_id"),
    kArticleColumnCount + 2};
// Tickets: the subject (weighed double) and every message, at most $4 of
// each ($5, $6: sample and walk); a ticket's best match, the best $3
// tickets with that passage.
const pg::NamedQuery kSearchTickets{
    "service_desk_search_tickets",
    absl::StrCat(
        "WITH q AS (SELECT to_tsquery('english', $2) AS q), hits AS (SELECT c.parent_id AS "
        "ticket_id, c.row_id AS message_id, ts_rank_cd(c.doc, q.q) AS score FROM q, "
        "service_desk.search_candidates('messages', q.q, $4, $5, $6, '', '') c UNION ALL SELECT "
        "c.parent_id, NULL::uuid, 2 * ts_rank_cd(c.doc, q.q) FROM q, "
        "service_desk.search_candidates('subjects', q.q, $4, $5, $6, '', '') c), best AS (SELECT "
        "DISTINCT ON (ticket_id) ticket_id, message_id, score FROM hits ORDER BY ticket_id, score "
        "DESC), top AS (SELECT * FROM best ORDER BY score DESC, ticket_id LIMIT $3) SELECT "
        "t.ticket_id::text, t.number, t.subject, t.status, top.score, ts_headline('english', "
        "coalesce(m.body, t.subject), q.q, ",
        kHeadline,
        ") FROM top JOIN service_desk.tickets t ON t.tenant_id = $1 AND t.ticket_id = "
        "top.ticket_id LEFT JOIN service_desk.ticket_messages m ON m.tenant_id = $1 AND "
        "m.message_id = top.message_id CROSS JOIN q ORDER BY top.score DESC, top.ticket_id"),
    6};

// Auto-suggest ($2: a tsquery any of whose words may match,
// domain::SuggestQueryOf; $3: how many of each). Macros: their name and
// reply matched in the statement (a tenant has at most 500).
const pg::NamedQuery kSuggestMacros{
    "service_desk_suggest_macros",
    absl::StrCat(
        "WITH q AS (SELECT to_tsquery('english', $2) AS q), m AS (SELECT macro_id, name, name || "
        "E'\\n' || coalesce(definition->>'reply', '') AS text FROM service_desk.macros WHERE "
        "tenant_id = $1), hits AS (SELECT m.*, ts_rank_cd(to_tsvector('english', m.text), q.q) AS "
        "score FROM m, q WHERE to_tsvector('english', m.text) @@ q.q ORDER BY score DESC, "
        "m.macro_id LIMIT $3) SELECT hits.macro_id::text, hits.name, hits.score, "
        "ts_headline('english', hits.text, q.q, ",
        kHeadline, ") FROM hits, q ORDER BY hits.score DESC, hits.macro_id"),
    4};
// Past answers: tickets whose subject (weighed double) or messages match
// (the candidates as in a search: $4..$6), the best 100 of them that have
// a public reply, the last reply of the best $3.
const pg::NamedQuery kSuggestAnswers{
    "service_desk_suggest_answers",
    absl::StrCat(
        "WITH q AS (SELECT to_tsquery('english', $2) AS q), hits AS (SELECT c.parent_id AS "
        "ticket_id, ts_rank_cd(c.doc, q.q) AS score FROM q, "
        "service_desk.search_candidates('messages', q.q, $4, $5, $6, '', '') c UNION ALL SELECT "
        "c.parent_id, 2 * ts_rank_cd(c.doc, q.q) FROM q, "
        "service_desk.search_candidates('subjects', q.q, $4, $5, $6, '', '') c), best AS (SELECT "
        "ticket_id, max(score) AS score FROM hits GROUP BY ticket_id ORDER BY score DESC, "
        "ticket_id LIMIT 100), answered AS (SELECT b.ticket_id, b.score, r.message_id, r.body "
        "FROM best b JOIN LATERAL (SELECT m.message_id, m.body FROM service_desk.ticket_messages m "
        "WHERE m.tenant_id = $1 AND m.ticket_id = b.ticket_id AND m.kind = 'public_reply' ORDER "
        "BY m.created_at DESC, m.message_id DESC LIMIT 1) r ON true ORDER BY b.score DESC, "
        "b.ticket_id LIMIT $3) SELECT a.ticket_id::text, t.number, t.subject, "
        "a.message_id::text, a.body, a.score, ts_headline('english', a.body, q.q, ",
        kHeadline,
        ") FROM answered a JOIN service_desk.tickets t ON t.tenant_id = $1 AND t.ticket_id = "
        "a.ticket_id CROSS JOIN q ORDER BY a.score DESC, a.ticket_id"),
    7};

// Across tenants: mailbox_routes has no row-level security.
const pg::NamedQuery kMailboxRoute{
    "service_desk_mailbox_route",
    "SELECT tenant_id::text, mailbox_id::text FROM service_desk.mailbox_routes WHERE address = $1",
    2};
const pg::NamedQuery kSaveMailbox{
    "service_desk_save_mailbox",
    absl::StrCat("INSERT INTO service_desk.mailboxes (tenant_id, mailbox_id, address, own_domains, "
                 "reopen_window_s, same_subject_window_s, version, created_at, updated_at, name, "
                 "auto_reply, auto_reply_subject, auto_reply_body) VALUES ($1, $2::uuid, $3, "
                 "$4::text[], $5, $6, $7, ",
                 pg::MicrosParam(8), ", ", pg::MicrosParam(9),
                 ", $10, $11, $12, $13) ON CONFLICT (tenant_id, mailbox_id) DO UPDATE SET "
                 "own_domains = EXCLUDED.own_domains, reopen_window_s = EXCLUDED.reopen_window_s, "
                 "same_subject_window_s = EXCLUDED.same_subject_window_s, version = "
                 "EXCLUDED.version, updated_at = EXCLUDED.updated_at, name = EXCLUDED.name, "
                 "auto_reply = EXCLUDED.auto_reply, auto_reply_subject = "
                 "EXCLUDED.auto_reply_subject, auto_reply_body = EXCLUDED.auto_reply_body"),
    0};
const pg::NamedQuery kTicketMailbox{
    "service_desk_ticket_mailbox",
    absl::StrCat("SELECT ", kMailboxColumns,
                 " FROM service_desk.ticket_mails m JOIN service_desk.mailboxes b ON b.tenant_id = "
                 "m.tenant_id AND b.mailbox_id = m.mailbox_id WHERE m.tenant_id = $1 AND "
                 "m.ticket_id = $2::uuid AND NOT m.outbound ORDER BY m.received_at LIMIT 1"),
    kMailboxColumnCount};
// The tenant's oldest mailbox (a survey of a ticket that came by none).
const pg::NamedQuery kFirstMailbox{
    "service_desk_first_mailbox",
    absl::StrCat("SELECT ", kMailboxColumns,
                 " FROM service_desk.mailboxes b WHERE b.tenant_id = $1 ORDER BY b.created_at, "
                 "b.mailbox_id LIMIT 1"),
    kMailboxColumnCount};
// The first of the ids ($2, in its order) that is a mail of a ticket.
const pg::NamedQuery kTicketOfMail{
    "service_desk_ticket_of_mail",
    absl::StrCat("SELECT ", kTicketColumns,
                 ", m.mail_id FROM service_desk.ticket_mails m JOIN service_desk.tickets t ON "
                 "t.tenant_id = m.tenant_id AND t.ticket_id = m.ticket_id WHERE m.tenant_id = $1 "
                 "AND m.mail_id = ANY($2::text[]) ORDER BY array_position($2::text[], m.mail_id), "
                 "m.received_at LIMIT 1"),
    kTicketColumnCount + 1};
const pg::NamedQuery kTicketNumbered{
    "service_desk_ticket_numbered",
    absl::StrCat("SELECT ", kTicketColumns,
                 " FROM service_desk.tickets t WHERE t.tenant_id = $1 AND t.number = $2"),
    kTicketColumnCount};
const pg::NamedQuery kIsParticipant{
    "service_desk_is_participant",
    "SELECT EXISTS (SELECT 1 FROM service_desk.tickets WHERE tenant_id = $1 AND ticket_id = "
    "$2::uuid AND requester_email = $3) OR EXISTS (SELECT 1 FROM service_desk.ticket_participants "
    "WHERE tenant_id = $1 AND ticket_id = $2::uuid AND address = $3)",
    1};
const pg::NamedQuery kSameSubjectTicket{
    "service_desk_same_subject_ticket",
    absl::StrCat("SELECT ticket_id::text FROM service_desk.ticket_mails WHERE tenant_id = $1 AND "
                 "mailbox_id = $2::uuid AND NOT outbound AND from_addr = $3 AND thread_subject = "
                 "$4 AND received_at >= ",
                 pg::MicrosParam(5), " ORDER BY received_at DESC LIMIT 1"),
    1};

absl::Status TicketNotFound() {
  return common::NotFound("TICKET_NOT_FOUND", "no ticket has this ticket_id");
}

Json PredictionsJson(const std::vector<domain::TicketPrediction>& predictions) {
  Json out = Json::array();
  for (const domain::TicketPrediction& p : predictions) {
    out.push_back({{"target", domain::TargetName(p.target)},
                   {"label", p.label},
                   {"confidence", p.confidence},
                   {"answered", p.answered},
                   {"applied", p.applied},
                   {"version", p.version}});
  }
  return out;
}

std::vector<domain::TicketPrediction> PredictionsOfJson(const Json& j, bool& ok) {
  std::vector<domain::TicketPrediction> out;
  for (const Json& e : j) {
    domain::TicketPrediction p;
    std::optional<domain::ClassifierTarget> target =
        domain::TargetFromName(e.at("target").get<std::string>());
    if (!target) ok = false;
    p.target = target.value_or(domain::ClassifierTarget::kIntent);
    p.label = e.at("label").get<std::string>();
    p.confidence = e.at("confidence").get<double>();
    p.answered = e.at("answered").get<bool>();
    p.applied = e.at("applied").get<bool>();
    p.version = e.at("version").get<int64_t>();
    out.push_back(std::move(p));
  }
  return out;
}

Json TicketJson(const Ticket& t) {
  return Json{
      {"predictions", PredictionsJson(t.predictions)},
      {"id", t.id},
      {"number", t.number},
      {"customer_id", t.customer_id},
      {"requester_email", t.requester_email},
      {"subject", t.subject},
      {"channel", domain::ChannelName(t.channel)},
      {"status", domain::StatusName(t.status)},
      {"priority", domain::PriorityName(t.priority)},
      {"type", t.type},
      {"tags", t.tags},
      {"queue", t.queue},
      {"assignee", t.assignee},
      {"custom_fields", t.custom_fields},
      {"version", t.version},
      {"message_count", t.message_count},
      {"create_us", absl::ToUnixMicros(t.create_time)},
      {"update_us", absl::ToUnixMicros(t.update_time)},
      {"solve_us", t.solve_time == absl::InfinitePast() ? Json(nullptr)
                                                        : Json(absl::ToUnixMicros(t.solve_time))},
      {"sla_due_us", t.sla_due ? Json(absl::ToUnixMicros(*t.sla_due)) : Json(nullptr)},
      {"follow_up_of", t.follow_up_of},
      {"status_us", absl::ToUnixMicros(t.status_time)},
      {"visitor_id", t.visitor_id},
      {"merged_into", t.merged_into}};
}

Ticket TicketOfJson(const Json& j, bool& ok) {
  Ticket t;
  t.id = j.at("id").get<std::string>();
  t.number = j.at("number").get<int64_t>();
  t.customer_id = j.at("customer_id").get<std::string>();
  t.requester_email = j.at("requester_email").get<std::string>();
  t.subject = j.at("subject").get<std::string>();
  auto channel = domain::ChannelFromName(j.at("channel").get<std::string>());
  auto status = domain::StatusFromName(j.at("status").get<std::string>());
  auto priority = domain::PriorityFromName(j.at("priority").get<std::string>());
  if (!channel || !status || !priority) ok = false;
  t.channel = channel.value_or(domain::Channel::kApi);
  t.status = status.value_or(domain::TicketStatus::kNew);
  t.priority = priority.value_or(domain::Priority::kNormal);
  t.type = j.at("type").get<std::string>();
  t.tags = j.at("tags").get<std::vector<std::string>>();
  t.queue = j.at("queue").get<std::string>();
  t.assignee = j.at("assignee").get<std::string>();
  t.custom_fields = j.at("custom_fields").get<std::map<std::string, std::string>>();
  t.version = j.at("version").get<int64_t>();
  t.message_count = j.at("message_count").get<int>();
  t.create_time = absl::FromUnixMicros(j.at("create_us").get<int64_t>());
  t.update_time = absl::FromUnixMicros(j.at("update_us").get<int64_t>());
  const Json& solve = j.at("solve_us");
  t.solve_time =
      solve.is_null() ? absl::InfinitePast() : absl::FromUnixMicros(solve.get<int64_t>());
  // Answers stored before SLA instants were kept have none.
  if (j.contains("sla_due_us") && !j.at("sla_due_us").is_null()) {
    t.sla_due = absl::FromUnixMicros(j.at("sla_due_us").get<int64_t>());
  }
  if (j.contains("follow_up_of")) t.follow_up_of = j.at("follow_up_of").get<std::string>();
  if (j.contains("visitor_id")) t.visitor_id = j.at("visitor_id").get<std::string>();
  if (j.contains("merged_into")) t.merged_into = j.at("merged_into").get<std::string>();
  if (j.contains("predictions")) t.predictions = PredictionsOfJson(j.at("predictions"), ok);
  // Answers stored before the status instant was kept have none.
  t.status_time = j.contains("status_us") ? absl::FromUnixMicros(j.at("status_us").get<int64_t>())
                                          : t.create_time;
  return t;
}

Json MessageJson(const TicketMessage& m) {
  return Json{{"id", m.id},
              {"ticket_id", m.ticket_id},
              {"kind", domain::MessageKindName(m.kind)},
              {"author", m.author},
              {"body", m.body},
              {"create_us", absl::ToUnixMicros(m.create_time)},
              {"mail_id", m.mail_id},
              {"attachments", [&] {
                 Json files = Json::array();
                 for (const domain::Attachment& a : m.attachments)
                   files.push_back(AttachmentJson(a));
                 return files;
               }()}};
}

TicketMessage MessageOfJson(const Json& j, bool& ok) {
  TicketMessage m;
  m.id = j.at("id").get<std::string>();
  m.ticket_id = j.at("ticket_id").get<std::string>();
  auto kind = domain::MessageKindFromName(j.at("kind").get<std::string>());
  if (!kind) ok = false;
  m.kind = kind.value_or(domain::MessageKind::kCustomer);
  m.author = j.at("author").get<std::string>();
  m.body = j.at("body").get<std::string>();
  m.create_time = absl::FromUnixMicros(j.at("create_us").get<int64_t>());
  if (j.contains("mail_id")) m.mail_id = j.at("mail_id").get<std::string>();
  if (j.contains("attachments")) {
    for (const Json& a : j.at("attachments")) m.attachments.push_back(AttachmentOfJson(a));
  }
  return m;
}

const outbox::AnswerCodec<Ticket> kTicketAnswer = outbox::SnapshotCodec<Ticket>(
    [](const Ticket& t) { return TicketJson(t).dump(); },
    [](const std::string& stored) {
      return outbox::ParseJsonAnswer<Ticket>(stored, TicketOfJson, "stored ticket unreadable");
    });

std::optional<int64_t> SecondsOr(const std::optional<absl::Duration>& d) {
  if (!d) return std::nullopt;
  return absl::ToInt64Seconds(*d);
}
std::optional<absl::Duration> DurationOf(const Json& j) {
  if (j.is_null()) return std::nullopt;
  return absl::Seconds(j.get<int64_t>());
}
Json SecondsJson(const std::optional<absl::Duration>& d) {
  std::optional<int64_t> s = SecondsOr(d);
  return s ? Json(*s) : Json(nullptr);
}

// The policy as stored and as answered again to a retried write.
Json SlaPolicyJson(const domain::SlaPolicySpec& p) {
  Json week = Json::array();
  for (const auto& day : p.hours.week) {
    Json intervals = Json::array();
    for (const domain::LocalInterval& i : day) intervals.push_back({i.start_minute, i.end_minute});
    week.push_back(intervals);
  }
  Json holidays = Json::array();
  for (const absl::CivilDay& d : p.hours.holidays) holidays.push_back(absl::FormatCivilTime(d));
  Json targets = Json::object();
  for (const auto& [priority, t] : p.targets_by_priority) {
    targets[priority] = {{"first_reply_s", SecondsJson(t.first_reply)},
                         {"next_reply_s", SecondsJson(t.next_reply)},
                         {"periodic_update_s", SecondsJson(t.periodic_update)},
                         {"resolution_s", SecondsJson(t.resolution)}};
  }
  Json escalations = Json::array();
  for (absl::Duration d : p.escalations) escalations.push_back(absl::ToInt64Seconds(d));
  return Json{{"hours",
               {{"time_zone", p.hours.time_zone},
                {"always_open", p.hours.always_open},
                {"week", week},
                {"holidays", holidays}}},
              {"targets", targets},
              {"paused_statuses", p.paused_statuses},
              {"warn_before_s", absl::ToInt64Seconds(p.warn_before)},
              {"escalations_s", escalations},
              {"version", p.version},
              {"update_us", absl::ToUnixMicros(p.update_time)}};
}

domain::SlaPolicySpec SlaPolicyOfJson(const Json& j, bool& ok) {
  domain::SlaPolicySpec p;
  const Json& hours = j.at("hours");
  p.hours.time_zone = hours.at("time_zone").get<std::string>();
  p.hours.always_open = hours.at("always_open").get<bool>();
  const Json& week = hours.at("week");
  if (!week.is_array() || week.size() != 7) ok = false;
  for (size_t d = 0; d < 7 && d < week.size(); ++d) {
    for (const Json& i : week[d]) {
      p.hours.week[d].push_back({i.at(0).get<int>(), i.at(1).get<int>()});
    }
  }
  for (const Json& h : hours.at("holidays")) {
    absl::CivilDay day;
    if (!absl::ParseCivilTime(h.get<std::string>(), &day)) ok = false;
    p.hours.holidays.push_back(day);
  }
  for (const auto& [priority, t] : j.at("targets").items()) {
    p.targets_by_priority[priority] = {
        DurationOf(t.at("first_reply_s")), DurationOf(t.at("next_reply_s")),
        DurationOf(t.at("periodic_update_s")), DurationOf(t.at("resolution_s"))};
  }
  p.paused_statuses = j.at("paused_statuses").get<std::set<std::string>>();
  p.warn_before = absl::Seconds(j.at("warn_before_s").get<int64_t>());
  for (const Json& e : j.at("escalations_s"))
    p.escalations.push_back(absl::Seconds(e.get<int64_t>()));
  p.version = j.at("version").get<int64_t>();
  p.update_time = absl::FromUnixMicros(j.at("update_us").get<int64_t>());
  return p;
}

absl::StatusOr<domain::SlaPolicySpec> SlaPolicyOf(const std::string& stored) {
  return outbox::ParseJsonAnswer<domain::SlaPolicySpec>(stored, SlaPolicyOfJson,
                                                        "stored SLA policy unreadable");
}

// Conditions of routing rules and SLA policies as stored.
Json ConditionsJson(const std::vector<domain::RoutingCondition>& conditions) {
  Json out = Json::array();
  for (const domain::RoutingCondition& c : conditions) {
    out.push_back({{"field", c.field}, {"op", c.op}, {"values", c.values}});
  }
  return out;
}
std::vector<domain::RoutingCondition> ConditionsOfJson(const Json& j) {
  std::vector<domain::RoutingCondition> out;
  for (const Json& c : j) {
    out.push_back({c.at("field").get<std::string>(), c.at("op").get<std::string>(),
                   c.at("values").get<std::vector<std::string>>()});
  }
  return out;
}

Json ConditionalSlaPoliciesJson(const std::vector<domain::ConditionalSlaPolicy>& list) {
  Json out = Json::array();
  for (const domain::ConditionalSlaPolicy& c : list) {
    out.push_back({{"id", c.id},
                   {"name", c.name},
                   {"conditions", ConditionsJson(c.conditions)},
                   {"policy", SlaPolicyJson(c.policy)}});
  }
  return out;
}
std::vector<domain::ConditionalSlaPolicy> ConditionalSlaPoliciesOfJson(const Json& j, bool& ok) {
  std::vector<domain::ConditionalSlaPolicy> out;
  for (const Json& c : j) {
    out.push_back({c.at("id").get<std::string>(), c.at("name").get<std::string>(),
                   ConditionsOfJson(c.at("conditions")), SlaPolicyOfJson(c.at("policy"), ok)});
  }
  return out;
}

// The policies as answered again to a retried write.
Json SlaPoliciesJson(const domain::SlaPolicies& p) {
  return Json{{"default", p.fallback ? SlaPolicyJson(*p.fallback) : Json(nullptr)},
              {"policies", ConditionalSlaPoliciesJson(p.conditional)},
              {"version", p.version},
              {"update_us", absl::ToUnixMicros(p.update_time)}};
}
domain::SlaPolicies SlaPoliciesOfJson(const Json& j, bool& ok) {
  domain::SlaPolicies p;
  if (!j.at("default").is_null()) p.fallback = SlaPolicyOfJson(j.at("default"), ok);
  p.conditional = ConditionalSlaPoliciesOfJson(j.at("policies"), ok);
  p.version = j.at("version").get<int64_t>();
  p.update_time = absl::FromUnixMicros(j.at("update_us").get<int64_t>());
  return p;
}
absl::StatusOr<domain::SlaPolicies> SlaPoliciesOf(const std::string& stored) {
  return outbox::ParseJsonAnswer<domain::SlaPolicies>(stored, SlaPoliciesOfJson,
                                                      "stored SLA policies unreadable");
}

// A row of kSelectSlaPolicy / kSlaPolicyForUpdate (none: version 0).
absl::StatusOr<domain::SlaPolicies> SlaPoliciesOfRows(const pqxx::result& r) {
  domain::SlaPolicies out;
  if (r.empty()) return out;
  const std::string definition = r[0][0].as<std::string>();
  if (!definition.empty()) {
    CRM_ASSIGN_OR_RETURN(domain::SlaPolicySpec spec, SlaPolicyOf(definition));
    out.fallback = std::move(spec);
  }
  CRM_ASSIGN_OR_RETURN(out.conditional,
                       (outbox::ParseJsonAnswer<std::vector<domain::ConditionalSlaPolicy>>(
                           r[0][1].as<std::string>(), ConditionalSlaPoliciesOfJson,
                           "stored SLA policies unreadable")));
  out.version = r[0][2].as<int64_t>();
  out.update_time = absl::FromUnixMicros(r[0][3].as<int64_t>());
  return out;
}

const outbox::AnswerCodec<domain::SlaPolicies> kSlaPolicyAnswer =
    outbox::SnapshotCodec<domain::SlaPolicies>(
        [](const domain::SlaPolicies& p) { return SlaPoliciesJson(p).dump(); }, SlaPoliciesOf);

const outbox::AnswerCodec<app::MessageAdded> kMessageAnswer =
    outbox::SnapshotCodec<app::MessageAdded>(
        [](const app::MessageAdded& a) {
          return Json{{"message", MessageJson(a.message)}, {"ticket", TicketJson(a.ticket)}}.dump();
        },
        [](const std::string& stored) {
          return outbox::ParseJsonAnswer<app::MessageAdded>(
              stored,
              [](const Json& j, bool& ok) {
                return app::MessageAdded{MessageOfJson(j.at("message"), ok),
                                         TicketOfJson(j.at("ticket"), ok)};
              },
              "stored answer unreadable");
        });

const outbox::AnswerCodec<app::MailReceived> kMailAnswer = outbox::SnapshotCodec<app::MailReceived>(
    [](const app::MailReceived& a) {
      return Json{{"message", MessageJson(a.message)},
                  {"ticket", TicketJson(a.ticket)},
                  {"created", a.created},
                  {"rule", a.rule},
                  {"machine", a.machine},
                  {"autoReply", a.auto_reply},
                  {"quarantined", a.quarantined},
                  {"autoResponse", a.auto_response}}
          .dump();
    },
    [](const std::string& stored) {
      return outbox::ParseJsonAnswer<app::MailReceived>(
          stored,
          [](const Json& j, bool& ok) {
            // Answers stored before auto-replies (auto-responses) have
            // no such field.
            return app::MailReceived{
                TicketOfJson(j.at("ticket"), ok),      MessageOfJson(j.at("message"), ok),
                j.at("created").get<bool>(),           j.at("rule").get<std::string>(),
                j.at("machine").get<std::string>(),    false,
                j.value("autoReply", std::string()),   j.value("quarantined", false),
                j.value("autoResponse", std::string())};
          },
          "stored answer unreadable");
    });

// The sweeper writes without an idempotency key: nothing is replayed.
const outbox::AnswerCodec<app::SlaSweep> kSweepAnswer = outbox::SnapshotCodec<app::SlaSweep>(
    [](const app::SlaSweep& s) {
      return Json{{"records", s.records}, {"notices", s.notices}}.dump();
    },
    [](const std::string& stored) {
      return outbox::ParseJsonAnswer<app::SlaSweep>(
          stored,
          [](const Json& j, bool&) {
            return app::SlaSweep{j.at("records").get<int>(), j.at("notices").get<int>()};
          },
          "stored answer unreadable");
    });

// The strings of a text[] column (NULL elements left out).
std::vector<std::string> TextArrayOf(const pqxx::field& f) {
  std::vector<std::string> out;
  auto a = f.as_array();
  for (auto e = a.get_next(); e.first != pqxx::array_parser::juncture::done; e = a.get_next()) {
    if (e.first == pqxx::array_parser::juncture::string_value) out.push_back(e.second);
  }
  return out;
}

absl::StatusOr<Ticket> TicketOf(const pqxx::row& r) {
  Ticket t;
  t.id = r[0].as<std::string>();
  t.number = r[1].as<int64_t>();
  t.customer_id = r[2].as<std::string>();
  t.requester_email = r[3].as<std::string>();
  t.subject = r[4].as<std::string>();
  auto channel = domain::ChannelFromName(r[5].as<std::string>());
  auto status = domain::StatusFromName(r[6].as<std::string>());
  auto priority = domain::PriorityFromName(r[7].as<std::string>());
  if (!channel || !status || !priority) return absl::DataLossError("stored ticket unreadable");
  t.channel = *channel;
  t.status = *status;
  t.priority = *priority;
  t.type = r[8].as<std::string>();
  t.tags = TextArrayOf(r[9]);
  try {
    t.custom_fields =
        Json::parse(r[12].as<std::string>()).get<std::map<std::string, std::string>>();
  } catch (const Json::exception&) {
    return absl::DataLossError("stored ticket unreadable");
  }
  t.queue = r[10].as<std::string>();
  t.assignee = r[11].as<std::string>();
  t.version = r[13].as<int64_t>();
  t.message_count = r[14].as<int>();
  t.create_time = absl::FromUnixMicros(r[15].as<int64_t>());
  t.update_time = absl::FromUnixMicros(r[16].as<int64_t>());
  t.solve_time = r[17].is_null() ? absl::InfinitePast() : absl::FromUnixMicros(r[17].as<int64_t>());
  if (!r[18].is_null()) t.sla_due = absl::FromUnixMicros(r[18].as<int64_t>());
  t.follow_up_of = r[19].as<std::string>();
  t.status_time = absl::FromUnixMicros(r[20].as<int64_t>());
  t.visitor_id = r[21].as<std::string>();
  t.merged_into = r[22].as<std::string>();
  return t;
}

absl::StatusOr<TicketMessage> MessageOf(const pqxx::row& r) {
  TicketMessage m;
  m.id = r[0].as<std::string>();
  m.ticket_id = r[1].as<std::string>();
  auto kind = domain::MessageKindFromName(r[2].as<std::string>());
  if (!kind) return absl::DataLossError("stored message unreadable");
  m.kind = *kind;
  m.author = r[3].as<std::string>();
  m.body = r[4].as<std::string>();
  m.create_time = absl::FromUnixMicros(r[5].as<int64_t>());
  m.mail_id = r[6].as<std::string>();
  return m;
}

// A row of kMailboxColumns.
app::Mailbox MailboxOf(const pqxx::row& r) {
  app::Mailbox b;
  b.id = r[0].as<std::string>();
  b.address = r[1].as<std::string>();
  b.own.addresses = {b.address};
  b.own.domains = TextArrayOf(r[2]);
  b.reopen_window = absl::Seconds(r[3].as<int64_t>());
  b.same_subject_window = absl::Seconds(r[4].as<int64_t>());
  b.version = r[5].as<int64_t>();
  b.create_time = absl::FromUnixMicros(r[6].as<int64_t>());
  b.update_time = absl::FromUnixMicros(r[7].as<int64_t>());
  b.name = r[8].as<std::string>();
  b.auto_reply = r[9].as<bool>();
  b.auto_reply_subject = r[10].as<std::string>();
  b.auto_reply_body = r[11].as<std::string>();
  return b;
}

app::MailRecord MailRecordOf(const pqxx::row& r) {
  app::MailRecord m;
  m.mailbox_id = r[0].as<std::string>();
  m.mail_id = r[1].as<std::string>();
  m.ticket_id = r[2].as<std::string>();
  m.ticket_message_id = r[3].as<std::string>();
  m.outbound = r[4].as<bool>();
  m.from_addr = r[5].as<std::string>();
  m.reply_addr = r[6].as<std::string>();
  m.thread_subject = r[7].as<std::string>();
  m.machine = r[8].as<std::string>();
  m.rule = r[9].as<std::string>();
  m.time = absl::FromUnixMicros(r[10].as<int64_t>());
  return m;
}

absl::StatusOr<domain::OutboundMail> OutboundMailOf(const pqxx::row& r) {
  domain::OutboundMail m;
  m.id = r[0].as<std::string>();
  m.ticket_id = r[1].as<std::string>();
  m.ticket_message_id = r[2].as<std::string>();
  m.mailbox_id = r[3].as<std::string>();
  const std::optional<domain::OutboundKind> kind =
      domain::OutboundKindFromName(r[4].as<std::string>());
  if (!kind) return absl::DataLossError("stored mail unreadable");
  m.kind = *kind;
  m.from_addr = r[5].as<std::string>();
  m.from_name = r[6].as<std::string>();
  m.to_addr = r[7].as<std::string>();
  m.to_name = r[8].as<std::string>();
  m.subject = r[9].as<std::string>();
  m.body = r[10].as<std::string>();
  m.message_id = r[11].as<std::string>();
  m.in_reply_to = r[12].as<std::string>();
  m.references = TextArrayOf(r[13]);
  m.create_time = absl::FromUnixMicros(r[14].as<int64_t>());
  return m;
}

Json RoutingRulesJson(const domain::RoutingRules& r) {
  Json rules = Json::array();
  for (const domain::RoutingRule& rule : r.rules) {
    rules.push_back(
        {{"name", rule.name},
         {"conditions", ConditionsJson(rule.conditions)},
         {"queue", rule.action.queue},
         {"priority",
          rule.action.priority ? Json(domain::PriorityName(*rule.action.priority)) : Json(nullptr)},
         {"type", rule.action.type},
         {"add_tags", rule.action.add_tags},
         {"assign", domain::AssignModeName(rule.action.assign)},
         {"skills", rule.action.skills}});
  }
  return Json{
      {"rules", rules}, {"version", r.version}, {"update_us", absl::ToUnixMicros(r.update_time)}};
}

domain::RoutingRules RoutingRulesOfJson(const Json& j, bool& ok) {
  domain::RoutingRules r;
  for (const Json& rule : j.at("rules")) {
    domain::RoutingRule out;
    out.name = rule.at("name").get<std::string>();
    out.conditions = ConditionsOfJson(rule.at("conditions"));
    out.action.queue = rule.at("queue").get<std::string>();
    if (!rule.at("priority").is_null()) {
      out.action.priority = domain::PriorityFromName(rule.at("priority").get<std::string>());
      if (!out.action.priority) ok = false;
    }
    out.action.type = rule.at("type").get<std::string>();
    out.action.add_tags = rule.at("add_tags").get<std::vector<std::string>>();
    // Rules written before assignment have neither.
    if (rule.contains("assign")) {
      std::optional<domain::AssignMode> mode =
          domain::AssignModeFromName(rule.at("assign").get<std::string>());
      if (!mode) ok = false;
      out.action.assign = mode.value_or(domain::AssignMode::kNone);
      out.action.skills = rule.at("skills").get<std::vector<std::string>>();
    }
    r.rules.push_back(std::move(out));
  }
  r.version = j.at("version").get<int64_t>();
  r.update_time = absl::FromUnixMicros(j.at("update_us").get<int64_t>());
  return r;
}

absl::StatusOr<domain::RoutingRules> RoutingRulesOf(const std::string& stored) {
  return outbox::ParseJsonAnswer<domain::RoutingRules>(stored, RoutingRulesOfJson,
                                                       "stored routing rules unreadable");
}

// A row of kRoutingRulesDoc's reads (none: version 0).
absl::StatusOr<domain::RoutingRules> RoutingRulesOfRows(const pqxx::result& r) {
  if (r.empty()) return domain::RoutingRules{};
  CRM_ASSIGN_OR_RETURN(domain::RoutingRules rules, RoutingRulesOf(r[0][0].as<std::string>()));
  rules.version = r[0][1].as<int64_t>();
  rules.update_time = absl::FromUnixMicros(r[0][2].as<int64_t>());
  return rules;
}

const outbox::AnswerCodec<domain::RoutingRules> kRoutingAnswer =
    outbox::SnapshotCodec<domain::RoutingRules>(
        [](const domain::RoutingRules& r) { return RoutingRulesJson(r).dump(); }, RoutingRulesOf);

// A macro as stored (definition) and as answered again to a retried write.
// A macro's or a trigger's field changes, as members of `j`.
void PutEdits(const domain::TicketEdits& e, Json& j) {
  j["status"] = e.status ? Json(domain::StatusName(*e.status)) : Json(nullptr);
  j["priority"] = e.priority ? Json(domain::PriorityName(*e.priority)) : Json(nullptr);
  j["type"] = e.type;
  j["queue"] = e.queue;
  j["assignee"] = e.assignee;
  j["add_tags"] = e.add_tags;
  j["remove_tags"] = e.remove_tags;
}
void GetEdits(const Json& j, domain::TicketEdits& e, bool& ok) {
  if (!j.at("status").is_null()) {
    e.status = domain::StatusFromName(j.at("status").get<std::string>());
    if (!e.status) ok = false;
  }
  if (!j.at("priority").is_null()) {
    e.priority = domain::PriorityFromName(j.at("priority").get<std::string>());
    if (!e.priority) ok = false;
  }
  e.type = j.at("type").get<std::string>();
  e.queue = j.at("queue").get<std::string>();
  e.assignee = j.at("assignee").get<std::string>();
  e.add_tags = j.at("add_tags").get<std::vector<std::string>>();
  e.remove_tags = j.at("remove_tags").get<std::vector<std::string>>();
}

Json MacroJson(const domain::Macro& m) {
  Json j{{"id", m.id},
         {"name", m.name},
         {"reply", m.reply},
         {"internal", m.internal},
         {"intents", m.intents},
         {"auto_respond", m.auto_respond},
         {"version", m.version},
         {"create_us", absl::ToUnixMicros(m.create_time)},
         {"update_us", absl::ToUnixMicros(m.update_time)}};
  PutEdits(m, j);
  return j;
}
domain::Macro MacroOfJson(const Json& j, bool& ok) {
  domain::Macro m;
  m.id = j.at("id").get<std::string>();
  m.name = j.at("name").get<std::string>();
  m.reply = j.at("reply").get<std::string>();
  m.internal = j.at("internal").get<bool>();
  // Macros written before auto-response have neither.
  m.intents = j.value("intents", std::vector<std::string>());
  m.auto_respond = j.value("auto_respond", false);
  GetEdits(j, m, ok);
  m.version = j.at("version").get<int64_t>();
  m.create_time = absl::FromUnixMicros(j.at("create_us").get<int64_t>());
  m.update_time = absl::FromUnixMicros(j.at("update_us").get<int64_t>());
  return m;
}
absl::StatusOr<domain::Macro> MacroOf(const std::string& stored) {
  return outbox::ParseJsonAnswer<domain::Macro>(stored, MacroOfJson, "stored macro unreadable");
}
// A row of kMacroColumns: the definition, its columns authoritative.
absl::StatusOr<domain::Macro> MacroOfRow(const pqxx::row& r) {
  CRM_ASSIGN_OR_RETURN(domain::Macro m, MacroOf(r[1].as<std::string>()));
  m.id = r[0].as<std::string>();
  m.version = r[2].as<int64_t>();
  m.create_time = absl::FromUnixMicros(r[3].as<int64_t>());
  m.update_time = absl::FromUnixMicros(r[4].as<int64_t>());
  return m;
}

absl::StatusOr<domain::Article> ArticleOfRow(const pqxx::row& r) {
  domain::Article a;
  a.id = r[0].as<std::string>();
  a.title = r[1].as<std::string>();
  a.body = r[2].as<std::string>();
  a.category = r[3].as<std::string>();
  a.locale = r[4].as<std::string>();
  std::optional<domain::ArticleState> state = domain::ArticleStateFromName(r[5].as<std::string>());
  if (!state) return absl::InternalError("stored article unreadable");
  a.state = *state;
  a.author = r[6].as<std::string>();
  a.version = r[7].as<int64_t>();
  a.create_time = absl::FromUnixMicros(r[8].as<int64_t>());
  a.update_time = absl::FromUnixMicros(r[9].as<int64_t>());
  return a;
}
Json ArticleJson(const domain::Article& a) {
  return Json{{"id", a.id},
              {"title", a.title},
              {"body", a.body},
              {"category", a.category},
              {"locale", a.locale},
              {"state", domain::ArticleStateName(a.state)},
              {"author", a.author},
              {"version", a.version},
              {"create_us", absl::ToUnixMicros(a.create_time)},
              {"update_us", absl::ToUnixMicros(a.update_time)}};
}
domain::Article ArticleOfJson(const Json& j, bool& ok) {
  domain::Article a;
  a.id = j.at("id").get<std::string>();
  a.title = j.at("title").get<std::string>();
  a.body = j.at("body").get<std::string>();
  a.category = j.at("category").get<std::string>();
  a.locale = j.at("locale").get<std::string>();
  std::optional<domain::ArticleState> state =
      domain::ArticleStateFromName(j.at("state").get<std::string>());
  if (!state) ok = false;
  a.state = state.value_or(domain::ArticleState::kDraft);
  a.author = j.at("author").get<std::string>();
  a.version = j.at("version").get<int64_t>();
  a.create_time = absl::FromUnixMicros(j.at("create_us").get<int64_t>());
  a.update_time = absl::FromUnixMicros(j.at("update_us").get<int64_t>());
  return a;
}
absl::StatusOr<domain::Article> ArticleOf(const std::string& stored) {
  return outbox::ParseJsonAnswer<domain::Article>(stored, ArticleOfJson,
                                                  "stored article unreadable");
}
const outbox::AnswerCodec<domain::Article> kArticleAnswer = outbox::SnapshotCodec<domain::Article>(
    [](const domain::Article& a) { return ArticleJson(a).dump(); }, ArticleOf);

const outbox::AnswerCodec<domain::Macro> kMacroAnswer = outbox::SnapshotCodec<domain::Macro>(
    [](const domain::Macro& m) { return MacroJson(m).dump(); }, MacroOf);

// The tenant's triggers as stored (definition) and answered again.
Json TriggersJson(const domain::Triggers& t) {
  Json list = Json::array();
  for (const domain::Trigger& tr : t.triggers) {
    Json events = Json::array();
    for (domain::TriggerEvent e : tr.events) events.push_back(domain::TriggerEventName(e));
    Json action = Json::object();
    PutEdits(tr.action, action);
    list.push_back({{"id", tr.id},
                    {"name", tr.name},
                    {"active", tr.active},
                    {"events", events},
                    {"conditions", ConditionsJson(tr.conditions)},
                    {"action", action},
                    {"note", tr.note}});
  }
  return Json{
      {"triggers", list}, {"version", t.version}, {"update_us", absl::ToUnixMicros(t.update_time)}};
}
domain::Triggers TriggersOfJson(const Json& j, bool& ok) {
  domain::Triggers t;
  for (const Json& tr : j.at("triggers")) {
    domain::Trigger out;
    out.id = tr.at("id").get<std::string>();
    out.name = tr.at("name").get<std::string>();
    out.active = tr.at("active").get<bool>();
    for (const Json& e : tr.at("events")) {
      std::optional<domain::TriggerEvent> event =
          domain::TriggerEventFromName(e.get<std::string>());
      if (!event) ok = false;
      out.events.push_back(event.value_or(domain::TriggerEvent::kUpdated));
    }
    out.conditions = ConditionsOfJson(tr.at("conditions"));
    GetEdits(tr.at("action"), out.action, ok);
    out.note = tr.at("note").get<std::string>();
    t.triggers.push_back(std::move(out));
  }
  t.version = j.at("version").get<int64_t>();
  t.update_time = absl::FromUnixMicros(j.at("update_us").get<int64_t>());
  return t;
}
absl::StatusOr<domain::Triggers> TriggersOf(const std::string& stored) {
  return outbox::ParseJsonAnswer<domain::Triggers>(stored, TriggersOfJson,
                                                   "stored triggers unreadable");
}
// A row of kTriggersDoc's reads (none: version 0).
absl::StatusOr<domain::Triggers> TriggersOfRows(const pqxx::result& r) {
  if (r.empty()) return domain::Triggers{};
  CRM_ASSIGN_OR_RETURN(domain::Triggers t, TriggersOf(r[0][0].as<std::string>()));
  t.version = r[0][1].as<int64_t>();
  t.update_time = absl::FromUnixMicros(r[0][2].as<int64_t>());
  return t;
}
const outbox::AnswerCodec<domain::Triggers> kTriggersAnswer =
    outbox::SnapshotCodec<domain::Triggers>(
        [](const domain::Triggers& t) { return TriggersJson(t).dump(); }, TriggersOf);

// The tenant's automations as stored (definition) and answered again.
Json AutomationsJson(const domain::Automations& a) {
  Json list = Json::array();
  for (const domain::Automation& au : a.automations) {
    Json action = Json::object();
    PutEdits(au.action, action);
    list.push_back({{"id", au.id},
                    {"name", au.name},
                    {"active", au.active},
                    {"since", domain::AutomationClockName(au.since)},
                    {"hours", au.hours},
                    {"conditions", ConditionsJson(au.conditions)},
                    {"action", action},
                    {"note", au.note}});
  }
  return Json{{"automations", list},
              {"version", a.version},
              {"update_us", absl::ToUnixMicros(a.update_time)}};
}
domain::Automations AutomationsOfJson(const Json& j, bool& ok) {
  domain::Automations a;
  for (const Json& au : j.at("automations")) {
    domain::Automation out;
    out.id = au.at("id").get<std::string>();
    out.name = au.at("name").get<std::string>();
    out.active = au.at("active").get<bool>();
    std::optional<domain::AutomationClock> since =
        domain::AutomationClockFromName(au.at("since").get<std::string>());
    if (!since) ok = false;
    out.since = since.value_or(domain::AutomationClock::kUpdated);
    out.hours = au.at("hours").get<int>();
    out.conditions = ConditionsOfJson(au.at("conditions"));
    GetEdits(au.at("action"), out.action, ok);
    out.note = au.at("note").get<std::string>();
    a.automations.push_back(std::move(out));
  }
  a.version = j.at("version").get<int64_t>();
  a.update_time = absl::FromUnixMicros(j.at("update_us").get<int64_t>());
  return a;
}
absl::StatusOr<domain::Automations> AutomationsOf(const std::string& stored) {
  return outbox::ParseJsonAnswer<domain::Automations>(stored, AutomationsOfJson,
                                                      "stored automations unreadable");
}
// kAutomationsDoc's columns from `at` of a row: definition, version, updated.
absl::StatusOr<domain::Automations> AutomationsOfRow(const pqxx::row& r, int at) {
  CRM_ASSIGN_OR_RETURN(domain::Automations a, AutomationsOf(r[at].as<std::string>()));
  a.version = r[at + 1].as<int64_t>();
  a.update_time = absl::FromUnixMicros(r[at + 2].as<int64_t>());
  return a;
}
absl::StatusOr<domain::Automations> AutomationsOfRows(const pqxx::result& r) {
  if (r.empty()) return domain::Automations{};
  return AutomationsOfRow(r[0], 0);
}
const outbox::AnswerCodec<domain::Automations> kAutomationsAnswer =
    outbox::SnapshotCodec<domain::Automations>(
        [](const domain::Automations& a) { return AutomationsJson(a).dump(); }, AutomationsOf);

// A row of kAgentColumns.
domain::Agent AgentOf(const pqxx::row& r) {
  domain::Agent a;
  a.id = r[0].as<std::string>();
  a.name = r[1].as<std::string>();
  a.queues = TextArrayOf(r[2]);
  a.skills = TextArrayOf(r[3]);
  a.capacity = r[4].as<int>();
  a.available = r[5].as<bool>();
  a.version = r[6].as<int64_t>();
  a.update_time = absl::FromUnixMicros(r[7].as<int64_t>());
  const int64_t last = r[8].as<int64_t>();
  a.last_assigned = last < 0 ? absl::InfinitePast() : absl::FromUnixMicros(last);
  return a;
}
// A row of kAgentStateColumns.
app::AgentState AgentStateOf(const pqxx::row& r) {
  return app::AgentState{AgentOf(r), r[kAgentColumnCount].as<int>()};
}

int64_t MicrosOrNone(absl::Time t) {
  return t == absl::InfinitePast() ? -1 : absl::ToUnixMicros(t);
}

const outbox::AnswerCodec<app::AgentState> kAgentAnswer = outbox::SnapshotCodec<app::AgentState>(
    [](const app::AgentState& s) {
      const domain::Agent& a = s.agent;
      return Json{{"id", a.id},
                  {"name", a.name},
                  {"queues", a.queues},
                  {"skills", a.skills},
                  {"capacity", a.capacity},
                  {"available", a.available},
                  {"version", a.version},
                  {"update_us", absl::ToUnixMicros(a.update_time)},
                  {"last_assigned_us", MicrosOrNone(a.last_assigned)},
                  {"open", s.open_tickets},
                  {"reassigned", s.reassigned},
                  {"released", s.released}}
          .dump();
    },
    [](const std::string& stored) {
      return outbox::ParseJsonAnswer<app::AgentState>(
          stored,
          [](const Json& j, bool&) {
            app::AgentState s;
            domain::Agent& a = s.agent;
            a.id = j.at("id").get<std::string>();
            a.name = j.at("name").get<std::string>();
            a.queues = j.at("queues").get<std::vector<std::string>>();
            a.skills = j.at("skills").get<std::vector<std::string>>();
            a.capacity = j.at("capacity").get<int>();
            a.available = j.at("available").get<bool>();
            a.version = j.at("version").get<int64_t>();
            a.update_time = absl::FromUnixMicros(j.at("update_us").get<int64_t>());
            const int64_t last = j.at("last_assigned_us").get<int64_t>();
            a.last_assigned = last < 0 ? absl::InfinitePast() : absl::FromUnixMicros(last);
            s.open_tickets = j.at("open").get<int>();
            // Answers stored before reassignment have neither.
            s.reassigned = j.value("reassigned", 0);
            s.released = j.value("released", 0);
            return s;
          },
          "stored answer unreadable");
    });

absl::Status MailboxNotFound() {
  return common::NotFound("MAILBOX_NOT_FOUND", "no mailbox has this mailbox_id");
}

Json MailboxJson(const app::Mailbox& b) {
  return Json{{"id", b.id},
              {"address", b.address},
              {"own_domains", b.own.domains},
              {"reopen_window_s", absl::ToInt64Seconds(b.reopen_window)},
              {"same_subject_window_s", absl::ToInt64Seconds(b.same_subject_window)},
              {"version", b.version},
              {"create_us", absl::ToUnixMicros(b.create_time)},
              {"update_us", absl::ToUnixMicros(b.update_time)}};
}

const outbox::AnswerCodec<app::Mailbox> kMailboxAnswer = outbox::SnapshotCodec<app::Mailbox>(
    [](const app::Mailbox& b) { return MailboxJson(b).dump(); },
    [](const std::string& stored) {
      return outbox::ParseJsonAnswer<app::Mailbox>(
          stored,
          [](const Json& j, bool&) {
            app::Mailbox b;
            b.id = j.at("id").get<std::string>();
            b.address = j.at("address").get<std::string>();
            b.own.addresses = {b.address};
            b.own.domains = j.at("own_domains").get<std::vector<std::string>>();
            b.reopen_window = absl::Seconds(j.at("reopen_window_s").get<int64_t>());
            b.same_subject_window = absl::Seconds(j.at("same_subject_window_s").get<int64_t>());
            b.version = j.at("version").get<int64_t>();
            b.create_time = absl::FromUnixMicros(j.at("create_us").get<int64_t>());
            b.update_time = absl::FromUnixMicros(j.at("update_us").get<int64_t>());
            return b;
          },
          "stored answer unreadable");
    });

// A row of kListChanges.
TicketChange ChangeOf(const pqxx::row& r) {
  TicketChange c;
  c.seq = r[0].as<int64_t>();
  c.field = r[1].as<std::string>();
  c.old_value = r[2].as<std::string>();
  c.new_value = r[3].as<std::string>();
  c.actor = r[4].as<std::string>();
  c.time = absl::FromUnixMicros(r[5].as<int64_t>());
  return c;
}

// "<micros>|<uuid>"; false for anything else (a cursor we did not write).
bool ParseCursor(const std::string& cursor, int64_t& micros, std::string& id) {
  std::vector<std::string> parts = absl::StrSplit(cursor, '|');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &micros) || !common::IsUuid(parts[1])) {
    return false;
  }
  id = parts[1];
  return true;
}

std::string CursorOf(absl::Time t, const std::string& id) {
  return absl::StrCat(absl::ToUnixMicros(t), "|", id);
}

// The events' payload (docs/events.md, "ticket.*"): camelCase.
Json TicketEventJson(const Ticket& t) {
  return Json{{"ticketId", t.id},
              {"number", t.number},
              {"customerId", t.customer_id},
              {"subject", t.subject},
              {"channel", domain::ChannelName(t.channel)},
              {"status", domain::StatusName(t.status)},
              {"priority", domain::PriorityName(t.priority)},
              {"type", t.type},
              {"queue", t.queue},
              {"assignee", t.assignee},
              {"tags", t.tags},
              {"version", t.version},
              {"time", absl::FormatTime(absl::RFC3339_full, t.update_time, absl::UTCTimeZone())}};
}

}  // namespace

class PgTicketRepository::Tx final : public app::TicketTx {
 public:
  Tx(PgTicketRepository& repo, const outbox::WriteTx& w) : repo_(repo), w_(w) {}

  absl::StatusOr<Ticket> LoadTicket(const std::string& id) override {
    pqxx::result r = repo_.pool_.Exec(w_.sql(), kTicketForUpdate, w_.tenant(), id);
    if (r.empty()) return TicketNotFound();
    return TicketOf(r[0]);
  }
  void SaveTicket(const Ticket& t, bool) override {
    const bool solved = t.solve_time != absl::InfinitePast();
    repo_.pool_.Exec(w_.sql(), kSaveTicket, w_.tenant(), t.id, t.number, t.customer_id,
                     t.requester_email, t.subject, domain::ChannelName(t.channel),
                     domain::StatusName(t.status), domain::PriorityName(t.priority), t.type,
                     pg::TextArrayLiteral(t.tags), t.queue, t.assignee,
                     Json(t.custom_fields).dump(), t.version, t.message_count,
                     absl::ToUnixMicros(t.create_time), absl::ToUnixMicros(t.update_time), solved,
                     solved ? absl::ToUnixMicros(t.solve_time) : int64_t{0}, t.follow_up_of,
                     absl::ToUnixMicros(t.status_time), t.visitor_id, t.merged_into);
  }
  void SavePredictions(const Ticket& t) override {
    SavePredictionsIn(repo_.pool_, w_.sql(), w_.tenant(), t);
  }
  void AppendMessage(const TicketMessage& m) override {
    repo_.pool_.Exec(w_.sql(), kInsertMessage, w_.tenant(), m.id, m.ticket_id,
                     domain::MessageKindName(m.kind), m.author, m.body,
                     absl::ToUnixMicros(m.create_time), m.mail_id);
  }
  void AppendChanges(const std::string& ticket_id,
                     const std::vector<TicketChange>& changes) override {
    if (changes.empty()) return;
    std::vector<std::string> fields, olds, news, actors, times;
    for (const TicketChange& c : changes) {
      fields.push_back(c.field);
      olds.push_back(c.old_value);
      news.push_back(c.new_value);
      actors.push_back(c.actor);
      times.push_back(absl::StrCat(absl::ToUnixMicros(c.time)));
    }
    repo_.pool_.Exec(w_.sql(), kInsertChanges, w_.tenant(), ticket_id, pg::TextArrayLiteral(fields),
                     pg::TextArrayLiteral(olds), pg::TextArrayLiteral(news),
                     pg::TextArrayLiteral(actors), pg::TextArrayLiteral(times));
  }
  void EmitTicket(const char* type, const Ticket& t) override {
    w_.Emit(t.customer_id, type, TicketEventJson(t).dump());
  }
  void EmitMessage(const TicketMessage& m, const Ticket& t) override {
    Json j = TicketEventJson(t);
    j["messageId"] = m.id;
    j["messageKind"] = domain::MessageKindName(m.kind);
    j["author"] = m.author;
    j["time"] = absl::FormatTime(absl::RFC3339_full, m.create_time, absl::UTCTimeZone());
    w_.Emit(t.customer_id, "ticket.message_added", j.dump());
  }
  void EmitStatusChange(const Ticket& t, domain::TicketStatus from) override {
    Json j = TicketEventJson(t);
    j["fromStatus"] = domain::StatusName(from);
    w_.Emit(t.customer_id, "ticket.status_changed", j.dump());
  }
  void EmitSurveyAnswered(const domain::Survey& s, const Ticket& t) override {
    Json j = TicketEventJson(t);
    j["surveyId"] = s.id;
    j["surveyKind"] = domain::SurveyKindName(s.kind);
    j["rating"] = s.rating;
    j["reason"] = s.reason;
    j["surveyAgent"] = s.agent;
    j["time"] = absl::FormatTime(absl::RFC3339_full, s.answer_time, absl::UTCTimeZone());
    w_.Emit(t.customer_id, "ticket.survey_answered", j.dump());
  }
  absl::StatusOr<domain::SurveySettings> LoadSurveySettings() override {
    return SurveySettingsIn(repo_.pool_, w_.sql(), w_.tenant(), true);
  }
  void SaveSurveySettings(const domain::SurveySettings& s) override {
    SaveSurveySettingsIn(repo_.pool_, w_.sql(), w_.tenant(), s);
  }
  absl::StatusOr<domain::SurveySettings> ReadSurveySettings() override {
    return SurveySettingsIn(repo_.pool_, w_.sql(), w_.tenant(), false);
  }
  void ScheduleSurvey(const domain::Survey& s) override {
    ScheduleSurveyIn(repo_.pool_, w_.sql(), w_.tenant(), s);
  }
  absl::StatusOr<std::optional<domain::Survey>> LockSurvey(const std::string& id) override {
    return LockSurveyIn(repo_.pool_, w_.sql(), w_.tenant(), id);
  }
  void SaveSurvey(const domain::Survey& s) override {
    SaveSurveyIn(repo_.pool_, w_.sql(), w_.tenant(), s);
  }
  absl::StatusOr<bool> SurveyedSince(const std::string& customer_id, absl::Time since) override {
    return SurveyedSinceIn(repo_.pool_, w_.sql(), w_.tenant(), customer_id, since);
  }
  absl::StatusOr<bool> NpsAskedSince(const std::string& customer_id, absl::Time since) override {
    return NpsAskedSinceIn(repo_.pool_, w_.sql(), w_.tenant(), customer_id, since);
  }
  absl::StatusOr<std::optional<app::Mailbox>> FirstMailbox() override {
    pqxx::result r = repo_.pool_.Exec(w_.sql(), kFirstMailbox, w_.tenant());
    if (r.empty()) return std::optional<app::Mailbox>();
    return std::optional<app::Mailbox>(MailboxOf(r[0]));
  }
  absl::StatusOr<domain::SlaPolicies> LoadSlaPolicies() override {
    repo_.pool_.Exec(w_.sql(), kSlaPolicyLock, w_.tenant());
    return SlaPoliciesOfRows(repo_.pool_.Exec(w_.sql(), kSlaPolicyForUpdate, w_.tenant()));
  }
  void SaveSlaPolicies(const domain::SlaPolicies& p) override {
    repo_.pool_.Exec(w_.sql(), kSaveSlaPolicy, w_.tenant(),
                     p.fallback ? SlaPolicyJson(*p.fallback).dump() : std::string(),
                     ConditionalSlaPoliciesJson(p.conditional).dump(), p.version,
                     absl::ToUnixMicros(p.update_time));
  }
  void StartSlaRebase(int64_t version) override {
    repo_.pool_.Exec(w_.sql(), kStartSlaRebase, w_.tenant(), version);
  }
  absl::StatusOr<domain::SlaPolicies> ShareSlaPolicies() override {
    repo_.pool_.Exec(w_.sql(), kSlaPolicyLockShared, w_.tenant());
    return SlaPoliciesOfRows(repo_.pool_.Exec(w_.sql(), kSelectSlaPolicy, w_.tenant()));
  }
  absl::StatusOr<std::vector<app::SlaRecord>> LockSlas(const std::vector<std::string>& ids,
                                                       bool skip_locked, int limit) override {
    std::vector<app::SlaRecord> out;
    if (ids.empty()) return out;
    const std::string tenant = w_.tenant();
    const std::string id_array = pg::TextArrayLiteral(ids);
    std::map<std::string, size_t> at;
    for (const pqxx::row& r :
         repo_.pool_.Exec(w_.sql(), skip_locked ? kLockTicketsSkipLocked : kLockTickets, tenant,
                          id_array, limit > 0 ? std::optional<int>(limit) : std::nullopt)) {
      app::SlaRecord rec;
      CRM_ASSIGN_OR_RETURN(rec.inputs.ticket, TicketOf(r));
      at[rec.inputs.ticket.id] = out.size();
      out.push_back(std::move(rec));
    }
    if (out.empty()) return out;
    const auto record = [&](const pqxx::row& r, int column) -> app::SlaRecord* {
      const auto it = at.find(r[column].as<std::string>());
      return it == at.end() ? nullptr : &out[it->second];
    };
    for (const pqxx::row& r : repo_.pool_.Exec(w_.sql(), kSelectSlas, tenant, id_array)) {
      app::SlaRecord* rec = record(r, 0);
      if (rec == nullptr) continue;
      rec->policy_version = r[1].as<int64_t>();
      if (!r[2].is_null()) rec->next_due = absl::FromUnixMicros(r[2].as<int64_t>());
      const std::string told = r[3].as<std::string>();
      if (!told.empty()) rec->told = absl::StrSplit(told, ',');
      rec->inputs.policy = r[4].as<std::string>();
    }
    for (const pqxx::row& r : repo_.pool_.Exec(w_.sql(), kSlaChanges, tenant, id_array)) {
      if (app::SlaRecord* rec = record(r, 6)) rec->inputs.changes.push_back(ChangeOf(r));
    }
    for (const pqxx::row& r : repo_.pool_.Exec(w_.sql(), kSlaMessages, tenant, id_array)) {
      app::SlaRecord* rec = record(r, 2);
      if (rec == nullptr) continue;
      std::optional<domain::MessageKind> kind = domain::MessageKindFromName(r[0].as<std::string>());
      if (!kind) return absl::DataLossError("stored message unreadable");
      domain::TicketMessage m;
      m.kind = *kind;
      m.create_time = absl::FromUnixMicros(r[1].as<int64_t>());
      rec->inputs.messages.push_back(std::move(m));
    }
    return out;
  }
  void SaveSlas(const std::vector<app::SlaRecord>& records, absl::Time now) override {
    if (records.empty()) return;
    std::vector<std::string> ids, versions, dues, told, policies;
    for (const app::SlaRecord& r : records) {
      ids.push_back(r.inputs.ticket.id);
      policies.push_back(r.inputs.policy);
      versions.push_back(absl::StrCat(r.policy_version));
      dues.push_back(r.next_due ? absl::StrCat(absl::ToUnixMicros(*r.next_due)) : "");
      told.push_back(absl::StrJoin(r.told, ","));
    }
    repo_.pool_.Exec(w_.sql(), kSaveSlas, w_.tenant(), pg::TextArrayLiteral(ids),
                     pg::TextArrayLiteral(versions), pg::TextArrayLiteral(dues),
                     pg::TextArrayLiteral(told), absl::ToUnixMicros(now),
                     pg::TextArrayLiteral(policies));
  }
  void EmitSlaNotice(const Ticket& t, const domain::SlaNotice& n, int64_t policy_version,
                     absl::Time told_at) override {
    Json j = TicketEventJson(t);
    j["metric"] = domain::MetricName(n.metric);
    j["cycleStartTime"] = absl::FormatTime(absl::RFC3339_full, n.cycle_start, absl::UTCTimeZone());
    j["dueTime"] = absl::FormatTime(absl::RFC3339_full, n.at, absl::UTCTimeZone());
    if (n.kind == domain::SlaNotice::Kind::kEscalation) j["level"] = n.level;
    j["policyVersion"] = policy_version;
    j["time"] = absl::FormatTime(absl::RFC3339_full, told_at, absl::UTCTimeZone());
    w_.Emit(t.customer_id, domain::NoticeEventType(n.kind), j.dump());
  }
  absl::StatusOr<bool> ClaimSlaRebase(int64_t version, const std::string& after) override {
    return !repo_.pool_.Exec(w_.sql(), kClaimSlaRebase, w_.tenant(), version, after).empty();
  }
  void MoveSlaRebase(int64_t version, const std::string& after) override {
    repo_.pool_.Exec(w_.sql(), kMoveSlaRebase, w_.tenant(), version, after);
  }
  void EndSlaRebase(int64_t version) override {
    repo_.pool_.Exec(w_.sql(), kEndSlaRebase, w_.tenant(), version);
  }
  void EmitSlaPolicies(const domain::SlaPolicies& p) override {
    std::vector<std::string> ids;
    for (const domain::ConditionalSlaPolicy& c : p.conditional) ids.push_back(c.id);
    w_.Emit("", "sla_policy.updated",
            Json{{"version", p.version},
                 {"time", absl::FormatTime(absl::RFC3339_full, p.update_time, absl::UTCTimeZone())},
                 {"hasDefault", p.fallback.has_value()},
                 {"policies", ids}}
                .dump());
  }

  absl::StatusOr<int> MoveMessages(const std::string& from, const std::string& to,
                                   const std::vector<std::string>& ids) override {
    return MoveMessagesIn(repo_.pool_, w_.sql(), w_.tenant(), from, to, ids);
  }
  void CopyParticipants(const std::string& from, const std::string& to) override {
    CopyParticipantsIn(repo_.pool_, w_.sql(), w_.tenant(), from, to);
  }
  void StoreAttachment(const domain::Attachment& a, const std::string& content) override {
    StoreAttachmentIn(repo_.pool_, w_.sql(), w_.tenant(), a, content);
  }
  absl::StatusOr<std::optional<domain::Attachment>> PendingAttachment(
      const std::string& ticket_id, const std::string& sha256,
      const std::string& filename) override {
    return PendingAttachmentIn(repo_.pool_, w_.sql(), w_.tenant(), ticket_id, sha256, filename);
  }
  absl::StatusOr<std::vector<domain::Attachment>> BindAttachments(
      const std::string& ticket_id, const std::string& message_id,
      const std::vector<std::string>& ids) override {
    return BindAttachmentsIn(repo_.pool_, w_.sql(), w_.tenant(), ticket_id, message_id, ids);
  }
  void RecordMail(const app::MailRecord& r) override {
    repo_.pool_.Exec(w_.sql(), kRecordMail, w_.tenant(), r.mailbox_id, r.mail_id, r.ticket_id,
                     r.ticket_message_id, r.outbound, r.from_addr, r.thread_subject, r.machine,
                     r.rule, absl::ToUnixMicros(r.time), r.reply_addr);
  }
  absl::StatusOr<std::vector<app::MailRecord>> TicketMails(const std::string& ticket_id) override {
    std::vector<app::MailRecord> out;
    for (const pqxx::row& r :
         repo_.pool_.Exec(w_.sql(), kTicketMails, w_.tenant(), ticket_id, app::kMaxTrail)) {
      out.push_back(MailRecordOf(r));
    }
    return out;
  }
  void QueueMail(const domain::OutboundMail& m, const Ticket& t) override {
    repo_.pool_.Exec(w_.sql(), kQueueMail, w_.tenant(), m.id, m.ticket_id, m.ticket_message_id,
                     m.mailbox_id, domain::OutboundKindName(m.kind), m.from_addr, m.from_name,
                     m.to_addr, m.to_name, m.subject, m.body, m.message_id, m.in_reply_to,
                     pg::TextArrayLiteral(m.references), absl::ToUnixMicros(m.create_time));
    Json j = TicketEventJson(t);
    j["mailId"] = m.id;
    j["mailKind"] = domain::OutboundKindName(m.kind);
    j["time"] = absl::FormatTime(absl::RFC3339_full, m.create_time, absl::UTCTimeZone());
    w_.Emit(t.customer_id, "ticket.mail_queued", j.dump());
  }
  absl::StatusOr<bool> TakeAutoReplySlot(const std::string& mailbox_id, const std::string& addr,
                                         absl::Time now) override {
    return !repo_.pool_
                .Exec(w_.sql(), kTakeAutoReplySlot, w_.tenant(), mailbox_id, addr,
                      absl::ToUnixMicros(now), absl::ToUnixMicros(now - domain::kAutoReplyInterval))
                .empty();
  }
  absl::StatusOr<int> CountMailsFrom(const std::string& mailbox_id, const std::string& addr,
                                     const std::string& thread_subject, absl::Time since) override {
    return repo_.pool_
        .Exec(w_.sql(), kCountMailsFrom, w_.tenant(), mailbox_id, addr, thread_subject,
              absl::ToUnixMicros(since))[0][0]
        .as<int>();
  }
  void Quarantine(const std::string& mailbox_id, const std::string& addr,
                  absl::Time until) override {
    repo_.pool_.Exec(w_.sql(), kQuarantine, w_.tenant(), mailbox_id, addr,
                     absl::ToUnixMicros(until));
  }
  absl::StatusOr<bool> MailSeen(const std::string& mailbox_id,
                                const std::string& mail_id) override {
    return repo_.pool_.Exec(w_.sql(), kMailSeen, w_.tenant(), mailbox_id, mail_id)[0][0].as<bool>();
  }
  void AddParticipants(const std::string& ticket_id,
                       const std::vector<std::string>& addrs) override {
    if (addrs.empty()) return;
    repo_.pool_.Exec(w_.sql(), kAddParticipants, w_.tenant(), ticket_id,
                     pg::TextArrayLiteral(addrs));
  }
  absl::StatusOr<std::optional<app::Mailbox>> TicketMailbox(const std::string& ticket_id) override {
    pqxx::result r = repo_.pool_.Exec(w_.sql(), kTicketMailbox, w_.tenant(), ticket_id);
    if (r.empty()) return std::optional<app::Mailbox>();
    return std::optional<app::Mailbox>(MailboxOf(r[0]));
  }
  absl::StatusOr<domain::RoutingRules> LoadRoutingRules() override {
    return RoutingRulesOfRows(repo_.pool_.Exec(w_.sql(), kRoutingRulesDoc.for_update, w_.tenant()));
  }
  void SaveRoutingRules(const domain::RoutingRules& r) override {
    repo_.pool_.Exec(w_.sql(), kRoutingRulesDoc.save, w_.tenant(), RoutingRulesJson(r).dump(),
                     r.version, absl::ToUnixMicros(r.update_time));
  }
  absl::StatusOr<domain::Triggers> LoadTriggers() override {
    return TriggersOfRows(repo_.pool_.Exec(w_.sql(), kTriggersDoc.for_update, w_.tenant()));
  }
  void SaveTriggers(const domain::Triggers& t) override {
    repo_.pool_.Exec(w_.sql(), kTriggersDoc.save, w_.tenant(), TriggersJson(t).dump(), t.version,
                     absl::ToUnixMicros(t.update_time));
  }
  absl::StatusOr<std::optional<domain::Article>> LoadArticle(const std::string& id) override {
    pqxx::result r = repo_.pool_.Exec(w_.sql(), kArticleForUpdate, w_.tenant(), id);
    if (r.empty()) return std::optional<domain::Article>();
    CRM_ASSIGN_OR_RETURN(domain::Article a, ArticleOfRow(r[0]));
    return std::optional<domain::Article>(std::move(a));
  }
  void SaveArticle(const domain::Article& a, bool) override {
    repo_.pool_.Exec(w_.sql(), kSaveArticle, w_.tenant(), a.id, a.title, a.body, a.category,
                     a.locale, domain::ArticleStateName(a.state), a.author, a.version,
                     absl::ToUnixMicros(a.create_time), absl::ToUnixMicros(a.update_time));
  }
  void DeleteArticle(const std::string& id) override {
    repo_.pool_.Exec(w_.sql(), kDeleteArticle, w_.tenant(), id);
  }
  absl::StatusOr<int> CountArticles() override {
    return repo_.pool_.Exec(w_.sql(), kCountArticles, w_.tenant())[0][0].as<int>();
  }
  absl::StatusOr<domain::Automations> LoadAutomations() override {
    return AutomationsOfRows(repo_.pool_.Exec(w_.sql(), kAutomationsDoc.for_update, w_.tenant()));
  }
  void SaveAutomations(const domain::Automations& a) override {
    repo_.pool_.Exec(w_.sql(), kAutomationsDoc.save, w_.tenant(), AutomationsJson(a).dump(),
                     a.version, absl::ToUnixMicros(a.update_time));
  }
  absl::StatusOr<absl::Time> LastFired(const std::string& ticket_id,
                                       const std::string& automation_id) override {
    pqxx::result r = repo_.pool_.Exec(w_.sql(), kLastFired, w_.tenant(), ticket_id, automation_id);
    return r.empty() ? absl::InfinitePast() : absl::FromUnixMicros(r[0][0].as<int64_t>());
  }
  void RecordFiring(const std::string& ticket_id, const std::string& automation_id,
                    absl::Time at) override {
    repo_.pool_.Exec(w_.sql(), kRecordFiring, w_.tenant(), ticket_id, automation_id,
                     absl::ToUnixMicros(at));
  }
  absl::StatusOr<domain::Triggers> ReadTriggers() override {
    return TriggersOfRows(repo_.pool_.Exec(w_.sql(), kTriggersDoc.select, w_.tenant()));
  }
  absl::StatusOr<std::optional<domain::Agent>> LoadAgent(const std::string& id) override {
    pqxx::result r = repo_.pool_.Exec(w_.sql(), kAgentForUpdate, w_.tenant(), id);
    if (r.empty()) return std::optional<domain::Agent>();
    return std::optional<domain::Agent>(AgentOf(r[0]));
  }
  void SaveAgent(const domain::Agent& a) override {
    repo_.pool_.Exec(w_.sql(), kSaveAgent, w_.tenant(), a.id, a.name,
                     pg::TextArrayLiteral(a.queues), pg::TextArrayLiteral(a.skills), a.capacity,
                     a.available, a.version, absl::ToUnixMicros(a.update_time),
                     MicrosOrNone(a.last_assigned));
  }
  absl::StatusOr<std::vector<domain::Agent>> AssignableAgents() override {
    std::vector<domain::Agent> out;
    for (const pqxx::row& r : repo_.pool_.Exec(w_.sql(), kAssignableAgents, w_.tenant(),
                                               static_cast<int>(domain::kMaxAgents))) {
      out.push_back(AgentOf(r));
    }
    return out;
  }
  // A claim is a savepoint: given back, the savepoint is rolled back, which
  // releases the agent's lock; kept, it is released into the write.
  absl::StatusOr<std::optional<std::pair<domain::Agent, int>>> ClaimAgent(const std::string& id,
                                                                          bool wait) override {
    w_.sql().exec("SAVEPOINT service_desk_claim");
    pqxx::result r =
        repo_.pool_.Exec(w_.sql(), wait ? kClaimAgentWaiting : kClaimAgent, w_.tenant(), id);
    if (r.empty()) {
      ReleaseClaim();
      return std::optional<std::pair<domain::Agent, int>>();
    }
    domain::Agent agent = AgentOf(r[0]);
    CRM_ASSIGN_OR_RETURN(auto open, OpenTickets({id}));  // a statement after the lock
    const int n = open.count(id) ? open.at(id) : 0;
    return std::optional<std::pair<domain::Agent, int>>(std::in_place, std::move(agent), n);
  }
  void ReleaseClaim() override {
    w_.sql().exec("ROLLBACK TO SAVEPOINT service_desk_claim");
    w_.sql().exec("RELEASE SAVEPOINT service_desk_claim");
  }
  absl::StatusOr<std::map<std::string, int>> OpenTickets(
      const std::vector<std::string>& agent_ids) override {
    std::map<std::string, int> out;
    for (const pqxx::row& r :
         repo_.pool_.Exec(w_.sql(), kOpenTickets, w_.tenant(), pg::TextArrayLiteral(agent_ids))) {
      out[r[0].as<std::string>()] = r[1].as<int>();
    }
    return out;
  }
  void RecordAssignment(const std::string& agent_id, absl::Time at) override {
    w_.sql().exec("RELEASE SAVEPOINT service_desk_claim");
    repo_.pool_.Exec(w_.sql(), kRecordAssignment, w_.tenant(), agent_id, absl::ToUnixMicros(at));
  }
  absl::StatusOr<std::vector<std::string>> ActiveTicketsOf(const std::string& agent_id,
                                                           int limit) override {
    std::vector<std::string> out;
    for (const pqxx::row& r :
         repo_.pool_.Exec(w_.sql(), kActiveTicketsOf, w_.tenant(), agent_id, limit)) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }
  absl::StatusOr<std::optional<domain::Macro>> LoadMacro(const std::string& id) override {
    pqxx::result r = repo_.pool_.Exec(w_.sql(), kMacroForUpdate, w_.tenant(), id);
    if (r.empty()) return std::optional<domain::Macro>();
    CRM_ASSIGN_OR_RETURN(domain::Macro m, MacroOfRow(r[0]));
    return std::optional<domain::Macro>(std::move(m));
  }
  absl::StatusOr<std::optional<IntentBinding>> BoundIntent(const std::vector<std::string>& labels,
                                                           const std::string& macro_id) override {
    repo_.pool_.Exec(w_.sql(), kLockMacroIntents, w_.tenant());
    pqxx::result r = repo_.pool_.Exec(w_.sql(), kBoundIntent, w_.tenant(),
                                      pg::TextArrayLiteral(labels), macro_id);
    if (r.empty()) return std::optional<IntentBinding>();
    return std::optional<IntentBinding>(
        IntentBinding{r[0][0].as<std::string>(), r[0][1].as<std::string>()});
  }
  absl::StatusOr<std::optional<domain::Macro>> MacroForIntent(const std::string& label) override {
    pqxx::result r = repo_.pool_.Exec(w_.sql(), kMacroForIntent, w_.tenant(), label);
    if (r.empty()) return std::optional<domain::Macro>();
    CRM_ASSIGN_OR_RETURN(domain::Macro m, MacroOfRow(r[0]));
    return std::optional<domain::Macro>(std::move(m));
  }
  void SaveMacro(const domain::Macro& m, bool is_new) override {
    repo_.pool_.Exec(w_.sql(), kSaveMacro, w_.tenant(), m.id, m.name, MacroJson(m).dump(),
                     m.version, absl::ToUnixMicros(m.create_time),
                     absl::ToUnixMicros(m.update_time));
    // After the row (the bindings refer to it); checked free by BoundIntent.
    if (!is_new) repo_.pool_.Exec(w_.sql(), kClearMacroIntents, w_.tenant(), m.id);
    if (!m.intents.empty()) {
      repo_.pool_.Exec(w_.sql(), kBindMacroIntents, w_.tenant(), m.id,
                       pg::TextArrayLiteral(m.intents));
    }
  }
  void DeleteMacro(const std::string& id) override {
    repo_.pool_.Exec(w_.sql(), kDeleteMacro, w_.tenant(), id);
  }
  absl::StatusOr<int> CountMacros() override {
    return repo_.pool_.Exec(w_.sql(), kCountMacros, w_.tenant())[0][0].as<int>();
  }
  absl::StatusOr<app::Mailbox> LoadMailbox(const std::string& id) override {
    pqxx::result r = repo_.pool_.Exec(w_.sql(), kMailboxForUpdate, w_.tenant(), id);
    if (r.empty()) return MailboxNotFound();
    return MailboxOf(r[0]);
  }
  absl::StatusOr<bool> ClaimMailboxAddress(const app::Mailbox& m) override {
    return !repo_.pool_.Exec(w_.sql(), kClaimMailboxAddress, w_.tenant(), m.address, m.id).empty();
  }
  void SaveMailbox(const app::Mailbox& m, bool) override {
    repo_.pool_.Exec(w_.sql(), kSaveMailbox, w_.tenant(), m.id, m.address,
                     pg::TextArrayLiteral(m.own.domains), absl::ToInt64Seconds(m.reopen_window),
                     absl::ToInt64Seconds(m.same_subject_window), m.version,
                     absl::ToUnixMicros(m.create_time), absl::ToUnixMicros(m.update_time), m.name,
                     m.auto_reply, m.auto_reply_subject, m.auto_reply_body);
  }

 private:
  PgTicketRepository& repo_;
  const outbox::WriteTx& w_;
};

PgTicketRepository::PgTicketRepository(pg::Pool& pool) : pool_(pool), writer_(pool, kSchema) {}

std::vector<pg::NamedQuery> PgTicketRepository::Queries() {
  std::vector<pg::NamedQuery> q = {kSelectTicket,
                                   kTicketForUpdate,
                                   kTicketExists,
                                   kListTickets,
                                   kListTicketsBySla,
                                   kNextNumbers,
                                   kAsyncCommit,
                                   kSaveTicket,
                                   kInsertMessage,
                                   kListMessages,
                                   kInsertChanges,
                                   kListChanges,
                                   kMessageTimes,
                                   kSelectSlaPolicy,
                                   kSlaPolicyForUpdate,
                                   kSaveSlaPolicy,
                                   kTicketSlaPolicy,
                                   kSlaPolicyLockShared,
                                   kSlaPolicyLock,
                                   kStartSlaRebase,
                                   kMoveSlaRebase,
                                   kEndSlaRebase,
                                   kLockTickets,
                                   kLockTicketsSkipLocked,
                                   kSelectSlas,
                                   kSlaChanges,
                                   kSlaMessages,
                                   kSaveSlas,
                                   kSchedulerOn,
                                   kDueSlas,
                                   kSlaRebases,
                                   kStaleSlas,
                                   kNoParallel,
                                   kRecordMail,
                                   kMailSeen,
                                   kReceivedMail,
                                   kAddParticipants,
                                   kTicketMailbox,
                                   kTicketOfMail,
                                   kTicketNumbered,
                                   kIsParticipant,
                                   kSameSubjectTicket,
                                   kSelectMailbox,
                                   kMailboxForUpdate,
                                   kListMailboxes,
                                   kClaimMailboxAddress,
                                   kSaveMailbox,
                                   kMailboxRoute,
                                   kRoutingRulesDoc.select,
                                   kRoutingRulesDoc.for_update,
                                   kRoutingRulesDoc.save,
                                   kTriggersDoc.select,
                                   kTriggersDoc.for_update,
                                   kTriggersDoc.save,
                                   kAutomationsDoc.select,
                                   kAutomationsDoc.for_update,
                                   kAutomationsDoc.save,
                                   kAutomatedTenants,
                                   kLastFired,
                                   kRecordFiring,
                                   kCandidatesByCreation,
                                   kCandidatesByUpdate,
                                   kCandidatesByStatus,
                                   kCandidatesBySolve,
                                   kArticleForUpdate,
                                   kSelectArticle,
                                   kListArticles,
                                   kArticleVersions,
                                   kSaveArticle,
                                   kDeleteArticle,
                                   kCountArticles,
                                   kSearchArticles,
                                   kSuggestMacros,
                                   kSuggestAnswers,
                                   kSearchTickets,
                                   kClaimSlaRebase,
                                   kTicketMails,
                                   kQueueMail,
                                   kSelectOutboundMail,
                                   kTakeAutoReplySlot,
                                   kCountMailsFrom,
                                   kQuarantine,
                                   kQuarantined,
                                   kLatestTicketFrom,
                                   kAgentForUpdate,
                                   kSaveAgent,
                                   kSelectAgent,
                                   kListAgents,
                                   kAssignableAgents,
                                   kClaimAgent,
                                   kClaimAgentWaiting,
                                   kOpenTickets,
                                   kRecordAssignment,
                                   kMacroForUpdate,
                                   kSelectMacro,
                                   kListMacros,
                                   kSaveMacro,
                                   kDeleteMacro,
                                   kCountMacros,
                                   kLockMacroIntents,
                                   kBoundIntent,
                                   kClearMacroIntents,
                                   kBindMacroIntents,
                                   kMacroForIntent,
                                   kFirstMailbox,
                                   kActiveTicketsOf,
                                   kSlaReport};
  for (pg::NamedQuery& w : outbox::TransactionalWriter::Queries(kSchema)) q.push_back(std::move(w));
  for (pg::NamedQuery& c : ClassifierQueries()) q.push_back(std::move(c));
  for (pg::NamedQuery& s : SurveyQueries()) q.push_back(std::move(s));
  for (pg::NamedQuery& a : AttachmentQueries()) q.push_back(std::move(a));
  for (pg::NamedQuery& m : MoveQueries()) q.push_back(std::move(m));
  return q;
}

template <typename T>
absl::StatusOr<T> PgTicketRepository::RunTx(
    const outbox::WriteMeta& meta, const std::string& resource, const outbox::AnswerCodec<T>& codec,
    absl::FunctionRef<absl::StatusOr<T>(app::TicketTx&)> work) {
  return outbox::WriteOnce<T>(writer_, meta, resource, codec,
                              [&](const outbox::WriteTx& w) -> absl::StatusOr<T> {
                                Tx tx(*this, w);
                                return work(tx);
                              });
}

absl::StatusOr<Ticket> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<Ticket>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kTicketAnswer, work);
}
absl::StatusOr<app::SlaSweep> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::SlaSweep>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kSweepAnswer, work);
}
absl::StatusOr<domain::SlaPolicies> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::SlaPolicies>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kSlaPolicyAnswer, work);
}
absl::StatusOr<app::MessageAdded> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::MessageAdded>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kMessageAnswer, work);
}

absl::StatusOr<app::MailReceived> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::MailReceived>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kMailAnswer, work);
}

absl::StatusOr<app::Mailbox> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::Mailbox>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kMailboxAnswer, work);
}

absl::StatusOr<domain::RoutingRules> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::RoutingRules>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kRoutingAnswer, work);
}
absl::StatusOr<domain::Article> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Article>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kArticleAnswer, work);
}
absl::StatusOr<domain::SurveySettings> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::SurveySettings>(app::TicketTx&)> work) {
  return RunTx(meta, resource, SurveySettingsAnswer(), work);
}
absl::StatusOr<domain::Attachment> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Attachment>(app::TicketTx&)> work) {
  return RunTx(meta, resource, AttachmentAnswer(), work);
}
absl::StatusOr<std::pair<domain::Attachment, std::string>> PgTicketRepository::AttachmentContent(
    const std::string& tenant, const std::string& ticket_id, const std::string& attachment_id) {
  absl::StatusOr<std::pair<domain::Attachment, std::string>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = AttachmentContentIn(pool_, tx, tenant, ticket_id, attachment_id);
    return out.status();
  }));
  return out;
}
absl::StatusOr<std::vector<app::TicketRepository::DueSurvey>> PgTicketRepository::DueSurveys(
    absl::Time now, int limit) {
  std::vector<DueSurvey> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    pool_.Exec(tx, kSchedulerOn);
    out = DueSurveysIn(pool_, tx, now, limit);
    return absl::OkStatus();
  }));
  return out;
}
absl::StatusOr<domain::Automations> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Automations>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kAutomationsAnswer, work);
}
absl::StatusOr<domain::Triggers> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Triggers>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kTriggersAnswer, work);
}
absl::StatusOr<app::AgentState> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::AgentState>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kAgentAnswer, work);
}

absl::StatusOr<domain::Macro> PgTicketRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Macro>(app::TicketTx&)> work) {
  return RunTx(meta, resource, kMacroAnswer, work);
}

absl::StatusOr<domain::SlaReport> PgTicketRepository::SlaReportOf(const std::string& tenant,
                                                                  const domain::SlaReportQuery& q) {
  domain::SlaReport out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantSnapshot(tenant, [&](pqxx::work& tx) -> absl::Status {
    const pqxx::row r = pool_.Exec(tx, kSlaReport, tenant, absl::ToUnixMicros(q.from),
                                   absl::ToUnixMicros(q.to), q.queue)[0];
    const auto rank = [&](int column) -> std::optional<absl::Duration> {
      const int64_t us = r[column].as<int64_t>();
      if (us < 0) return std::nullopt;
      return absl::Microseconds(us);
    };
    const auto metric = [&](int column) {
      domain::MetricReport m;
      m.done = r[column].as<int64_t>();
      m.met = r[column + 1].as<int64_t>();
      m.breached = r[column + 2].as<int64_t>();
      m.met_percent = domain::MetPercent(m.met, m.breached);
      m.p50 = rank(column + 3);
      m.p90 = rank(column + 4);
      return m;
    };
    out.tickets = r[0].as<int64_t>();
    out.under_sla = r[1].as<int64_t>();
    out.first_reply = metric(2);
    out.resolution = metric(7);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<domain::Macro> PgTicketRepository::GetMacro(const std::string& tenant,
                                                           const std::string& id) {
  CRM_ASSIGN_OR_RETURN(std::vector<domain::Macro> found,
                       TenantRows<domain::Macro>(pool_, tenant, kSelectMacro, MacroOfRow, id));
  if (found.empty()) return common::NotFound("MACRO_NOT_FOUND", "no macro has this macro_id");
  return std::move(found.front());
}

absl::StatusOr<std::vector<domain::Macro>> PgTicketRepository::ListMacros(
    const std::string& tenant) {
  return TenantRows<domain::Macro>(pool_, tenant, kListMacros, MacroOfRow,
                                   static_cast<int>(domain::kMaxMacros));
}

absl::StatusOr<app::AgentState> PgTicketRepository::GetAgent(const std::string& tenant,
                                                             const std::string& id) {
  CRM_ASSIGN_OR_RETURN(std::vector<app::AgentState> found,
                       TenantRows<app::AgentState>(pool_, tenant, kSelectAgent, AgentStateOf, id));
  if (found.empty()) {
    return common::NotFound(
        "AGENT_NOT_FOUND",
        absl::StrCat("no agent \"", id, "\"; write one with PUT /v1/agents/", id));
  }
  return std::move(found.front());
}

absl::StatusOr<std::vector<app::AgentState>> PgTicketRepository::ListAgents(
    const std::string& tenant) {
  return TenantRows<app::AgentState>(pool_, tenant, kListAgents, AgentStateOf,
                                     static_cast<int>(domain::kMaxAgents));
}

absl::StatusOr<domain::RoutingRules> PgTicketRepository::GetRoutingRules(
    const std::string& tenant) {
  absl::StatusOr<domain::RoutingRules> out = domain::RoutingRules{};
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = RoutingRulesOfRows(pool_.Exec(tx, kRoutingRulesDoc.select, tenant));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<domain::Article> PgTicketRepository::GetArticle(const std::string& tenant,
                                                               const std::string& id) {
  CRM_ASSIGN_OR_RETURN(
      std::vector<domain::Article> found,
      TenantRows<domain::Article>(pool_, tenant, kSelectArticle, ArticleOfRow, id));
  if (found.empty()) return common::NotFound("ARTICLE_NOT_FOUND", "no article has this article_id");
  return std::move(found.front());
}

absl::StatusOr<app::ArticlePage> PgTicketRepository::ListArticles(const std::string& tenant,
                                                                  const app::ArticleQuery& q) {
  app::ArticlePage page;
  CRM_ASSIGN_OR_RETURN(
      page.items,
      TenantRows<domain::Article>(pool_, tenant, kListArticles, ArticleOfRow, q.category, q.state,
                                  q.locale, q.after_id.empty() ? kNoUuid : q.after_id, q.limit));
  if (static_cast<int>(page.items.size()) == q.limit) page.next_after = page.items.back().id;
  return page;
}

absl::StatusOr<std::vector<domain::Article>> PgTicketRepository::ArticleVersions(
    const std::string& tenant, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(
      std::vector<domain::Article> out,
      TenantRows<domain::Article>(pool_, tenant, kArticleVersions, ArticleOfRow, id, 1000));
  if (out.empty()) return common::NotFound("ARTICLE_NOT_FOUND", "no article has this article_id");
  return out;
}

absl::StatusOr<app::SearchResult> PgTicketRepository::Search(const std::string& tenant,
                                                             const domain::SearchQuery& q,
                                                             const std::string& tsquery) {
  app::SearchResult out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = app::SearchResult{};
    const int candidates = domain::kSearchCandidates;
    const int sample = domain::kSearchSample;
    const int walk = domain::kSearchWalk;
    if (q.scope != domain::SearchScope::kTickets) {
      for (const pqxx::row& r : pool_.Exec(tx, kSearchArticles, tenant, tsquery, q.state, q.locale,
                                           q.limit, candidates, sample, walk)) {
        CRM_ASSIGN_OR_RETURN(domain::Article a, ArticleOfRow(r));
        out.articles.push_back({std::move(a), r[kArticleColumnCount].as<double>(),
                                r[kArticleColumnCount + 1].as<std::string>()});
      }
    }
    if (q.scope != domain::SearchScope::kArticles) {
      for (const pqxx::row& r :
           pool_.Exec(tx, kSearchTickets, tenant, tsquery, q.limit, candidates, sample, walk)) {
        app::TicketHit h;
        h.ticket_id = r[0].as<std::string>();
        h.number = r[1].as<int64_t>();
        h.subject = r[2].as<std::string>();
        h.status =
            domain::StatusFromName(r[3].as<std::string>()).value_or(domain::TicketStatus::kNew);
        h.score = r[4].as<double>();
        h.snippet = r[5].as<std::string>();
        out.tickets.push_back(std::move(h));
      }
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::Suggestions> PgTicketRepository::Suggest(const std::string& tenant,
                                                             const std::string& tsquery,
                                                             int limit) {
  app::Suggestions out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = app::Suggestions{};
    const int candidates = domain::kSearchCandidates;
    const int sample = domain::kSearchSample;
    const int walk = domain::kSearchWalk;
    for (const pqxx::row& r : pool_.Exec(tx, kSearchArticles, tenant, tsquery, "", "", limit,
                                         candidates, sample, walk)) {
      CRM_ASSIGN_OR_RETURN(domain::Article a, ArticleOfRow(r));
      out.articles.push_back({std::move(a), r[kArticleColumnCount].as<double>(),
                              r[kArticleColumnCount + 1].as<std::string>()});
    }
    for (const pqxx::row& r : pool_.Exec(tx, kSuggestMacros, tenant, tsquery, limit)) {
      out.macros.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<double>(),
                            r[3].as<std::string>()});
    }
    for (const pqxx::row& r :
         pool_.Exec(tx, kSuggestAnswers, tenant, tsquery, limit, candidates, sample, walk)) {
      out.answers.push_back({r[0].as<std::string>(), r[1].as<int64_t>(), r[2].as<std::string>(),
                             r[3].as<std::string>(), r[4].as<std::string>(), r[5].as<double>(),
                             r[6].as<std::string>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<domain::Automations> PgTicketRepository::GetAutomations(const std::string& tenant) {
  absl::StatusOr<domain::Automations> out = domain::Automations{};
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = AutomationsOfRows(pool_.Exec(tx, kAutomationsDoc.select, tenant));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<app::AutomatedTenant>> PgTicketRepository::AutomatedTenants(
    const std::string& after_tenant, int limit) {
  std::vector<app::AutomatedTenant> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pool_.Exec(tx, kSchedulerOn);
    for (const pqxx::row& r :
         pool_.Exec(tx, kAutomatedTenants, after_tenant.empty() ? kNoUuid : after_tenant, limit)) {
      CRM_ASSIGN_OR_RETURN(domain::Automations a, AutomationsOfRow(r, 1));
      out.push_back({r[0].as<std::string>(), std::move(a)});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<app::AutomationCandidate>> PgTicketRepository::AutomationCandidates(
    const std::string& tenant, const domain::Automation& a, absl::Time now,
    const std::string& after_ticket_id, int limit) {
  std::vector<app::AutomationCandidate> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const pqxx::row& r :
         pool_.Exec(tx, CandidatesQueryOf(a.since), tenant, a.id,
                    absl::ToUnixMicros(now - absl::Hours(a.hours)),
                    after_ticket_id.empty() ? kNoUuid : after_ticket_id, limit)) {
      CRM_ASSIGN_OR_RETURN(Ticket t, TicketOf(r));
      const int64_t fired = r[kTicketColumnCount].as<int64_t>();
      out.push_back({std::move(t), fired < 0 ? absl::InfinitePast() : absl::FromUnixMicros(fired)});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<domain::Triggers> PgTicketRepository::GetTriggers(const std::string& tenant) {
  absl::StatusOr<domain::Triggers> out = domain::Triggers{};
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = TriggersOfRows(pool_.Exec(tx, kTriggersDoc.select, tenant));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::Mailbox> PgTicketRepository::GetMailbox(const std::string& tenant,
                                                            const std::string& id) {
  std::optional<app::Mailbox> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSelectMailbox, tenant, id);
    if (!r.empty()) out = MailboxOf(r[0]);
    return absl::OkStatus();
  }));
  if (!out) return MailboxNotFound();
  return *out;
}

absl::StatusOr<std::vector<app::Mailbox>> PgTicketRepository::ListMailboxes(
    const std::string& tenant) {
  std::vector<app::Mailbox> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    for (const pqxx::row& r : pool_.Exec(tx, kListMailboxes, tenant, app::kMaxMailboxes)) {
      out.push_back(MailboxOf(r));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<app::MailboxRoute>> PgTicketRepository::RouteOf(
    const std::string& address) {
  std::optional<app::MailboxRoute> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kMailboxRoute, address);
    if (!r.empty()) out = app::MailboxRoute{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<app::MessageAdded>> PgTicketRepository::ReceivedMail(
    const std::string& tenant, const std::string& mailbox_id, const std::string& mail_id) {
  std::optional<app::MessageAdded> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kReceivedMail, tenant, mailbox_id, mail_id);
    if (r.empty()) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(Ticket t, TicketOf(r[0]));
    CRM_ASSIGN_OR_RETURN(
        TicketMessage m,
        MessageOf(r[0].slice(kTicketColumnCount, kTicketColumnCount + kMessageColumnCount)));
    out = app::MessageAdded{std::move(m), std::move(t)};
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<app::MailThread>> PgTicketRepository::TicketOfMail(
    const std::string& tenant, const std::vector<std::string>& ids) {
  std::optional<app::MailThread> out;
  if (ids.empty()) return out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kTicketOfMail, tenant, pg::TextArrayLiteral(ids));
    if (r.empty()) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(Ticket t, TicketOf(r[0]));
    out = app::MailThread{std::move(t), r[0][kTicketColumnCount].as<std::string>()};
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<Ticket>> PgTicketRepository::TicketNumbered(const std::string& tenant,
                                                                         int64_t number) {
  std::optional<Ticket> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kTicketNumbered, tenant, number);
    if (r.empty()) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(Ticket t, TicketOf(r[0]));
    out = std::move(t);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<bool> PgTicketRepository::IsParticipant(const std::string& tenant,
                                                       const std::string& ticket_id,
                                                       const std::string& addr) {
  bool yes = false;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    yes = pool_.Exec(tx, kIsParticipant, tenant, ticket_id, addr)[0][0].as<bool>();
    return absl::OkStatus();
  }));
  return yes;
}

absl::StatusOr<std::optional<std::string>> PgTicketRepository::SameSubjectTicket(
    const std::string& tenant, const std::string& mailbox_id, const std::string& from_addr,
    const std::string& thread_subject, absl::Time since) {
  std::optional<std::string> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSameSubjectTicket, tenant, mailbox_id, from_addr,
                                thread_subject, absl::ToUnixMicros(since));
    if (!r.empty()) out = r[0][0].as<std::string>();
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<bool> PgTicketRepository::Quarantined(const std::string& tenant,
                                                     const std::string& mailbox_id,
                                                     const std::string& addr, absl::Time now) {
  bool out = false;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = pool_.Exec(tx, kQuarantined, tenant, mailbox_id, addr, absl::ToUnixMicros(now))[0][0]
              .as<bool>();
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<std::string>> PgTicketRepository::LatestTicketFrom(
    const std::string& tenant, const std::string& mailbox_id, const std::string& addr) {
  std::optional<std::string> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kLatestTicketFrom, tenant, mailbox_id, addr);
    if (!r.empty()) out = r[0][0].as<std::string>();
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<domain::OutboundMail> PgTicketRepository::GetOutboundMail(
    const std::string& tenant, const std::string& ticket_id, const std::string& mail_id) {
  std::optional<absl::StatusOr<domain::OutboundMail>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSelectOutboundMail, tenant, ticket_id, mail_id);
    if (r.empty()) return absl::OkStatus();
    out = OutboundMailOf(r[0]);
    if (out->ok() && !(*out)->ticket_message_id.empty()) {
      (*out)->files = MessageFilesIn(pool_, tx, tenant, (*out)->ticket_message_id);
    }
    return absl::OkStatus();
  }));
  if (!out) {
    return common::NotFound("OUTBOUND_MAIL_NOT_FOUND",
                            "the ticket has no outbound mail of this id");
  }
  return *std::move(out);
}

absl::StatusOr<int64_t> PgTicketRepository::NextNumber(const std::string& tenant) {
  absl::MutexLock lock(&numbers_mu_);
  NumberBlock& block = numbers_[tenant];
  if (block.next > block.last) {
    int64_t last = 0;
    CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
      pool_.Exec(tx, kAsyncCommit);
      last = pool_.Exec(tx, kNextNumbers, tenant, kNumberBlock)[0][0].as<int64_t>();
      return absl::OkStatus();
    }));
    block = {last - kNumberBlock + 1, last};
  }
  return block.next++;
}

absl::StatusOr<bool> PgTicketRepository::KeyUsed(const app::Actor& actor) {
  bool used = false;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(actor.tenant_id, [&](pqxx::work& tx) -> absl::Status {
    absl::StatusOr<std::optional<std::string>> prev = writer_.PeekIdempotencyKey(tx, actor);
    // A refusal here (another method or body) means the key is taken too.
    used = !prev.ok() || prev->has_value();
    return absl::OkStatus();
  }));
  return used;
}

absl::Status PgTicketRepository::RequireTicket(pqxx::work& tx, const std::string& tenant,
                                               const std::string& id) {
  if (pool_.Exec(tx, kTicketExists, tenant, id).empty()) return TicketNotFound();
  return absl::OkStatus();
}

absl::StatusOr<Ticket> PgTicketRepository::GetTicket(const std::string& tenant,
                                                     const std::string& id) {
  std::optional<Ticket> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSelectTicket, tenant, id);
    if (r.empty()) return TicketNotFound();
    CRM_ASSIGN_OR_RETURN(Ticket t, TicketOf(r[0]));
    out = std::move(t);
    return absl::OkStatus();
  }));
  return std::move(*out);
}

absl::StatusOr<app::TicketPage> PgTicketRepository::ListTickets(const std::string& tenant,
                                                                const app::TicketQuery& q) {
  int64_t micros = 0;
  std::string id = "00000000-0000-0000-0000-000000000000";
  const bool after = !q.before_cursor.empty();
  if (after && !ParseCursor(q.before_cursor, micros, id)) {
    return common::InvalidField("page_token", "page_token is not one this list gave");
  }
  app::TicketPage page;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    page.items.clear();
    pqxx::result r =
        pool_.Exec(tx, q.by_sla_due ? kListTicketsBySla : kListTickets, tenant, micros, id, after,
                   q.status ? std::string(domain::StatusName(*q.status)) : std::string(), q.queue,
                   q.assignee, q.customer_id, q.limit + 1);
    for (const pqxx::row& row : r) {
      if (static_cast<int>(page.items.size()) == q.limit) break;
      CRM_ASSIGN_OR_RETURN(Ticket t, TicketOf(row));
      page.items.push_back(std::move(t));
    }
    if (static_cast<int>(r.size()) > q.limit) {
      const Ticket& last = page.items.back();
      page.next_cursor = CursorOf(
          q.by_sla_due ? last.sla_due.value_or(absl::UnixEpoch()) : last.create_time, last.id);
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<app::MessagePage> PgTicketRepository::ListMessages(const std::string& tenant,
                                                                  const std::string& ticket_id,
                                                                  const std::string& after_cursor,
                                                                  int limit) {
  int64_t micros = 0;
  std::string id = "00000000-0000-0000-0000-000000000000";
  const bool after = !after_cursor.empty();
  if (after && !ParseCursor(after_cursor, micros, id)) {
    return common::InvalidField("page_token", "page_token is not one this list gave");
  }
  app::MessagePage page;
  CRM_RETURN_IF_ERROR(pool_.WithTenantSnapshot(tenant, [&](pqxx::work& tx) -> absl::Status {
    page.items.clear();
    CRM_RETURN_IF_ERROR(RequireTicket(tx, tenant, ticket_id));
    pqxx::result r = pool_.Exec(tx, kListMessages, tenant, ticket_id, micros, id, after, limit + 1);
    for (const pqxx::row& row : r) {
      if (static_cast<int>(page.items.size()) == limit) break;
      CRM_ASSIGN_OR_RETURN(TicketMessage m, MessageOf(row));
      page.items.push_back(std::move(m));
    }
    page.next_cursor = static_cast<int>(r.size()) > limit
                           ? CursorOf(page.items.back().create_time, page.items.back().id)
                           : "";
    std::vector<std::string> ids;
    for (const TicketMessage& m : page.items) ids.push_back(m.id);
    std::map<std::string, std::vector<domain::Attachment>> files =
        MessageAttachmentsIn(pool_, tx, tenant, ids);
    for (TicketMessage& m : page.items) {
      if (auto it = files.find(m.id); it != files.end()) m.attachments = std::move(it->second);
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<std::vector<TicketChange>> PgTicketRepository::ListChanges(
    const std::string& tenant, const std::string& ticket_id) {
  std::vector<TicketChange> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantSnapshot(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    CRM_RETURN_IF_ERROR(RequireTicket(tx, tenant, ticket_id));
    for (const pqxx::row& r : pool_.Exec(tx, kListChanges, tenant, ticket_id, app::kMaxChanges)) {
      out.push_back(ChangeOf(r));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<domain::SlaPolicies> PgTicketRepository::GetSlaPolicies(const std::string& tenant) {
  domain::SlaPolicies out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(out, SlaPoliciesOfRows(pool_.Exec(tx, kSelectSlaPolicy, tenant)));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::SlaInputs> PgTicketRepository::GetSlaInputs(const std::string& tenant,
                                                                const std::string& ticket_id) {
  app::SlaInputs in;
  CRM_RETURN_IF_ERROR(pool_.WithTenantSnapshot(tenant, [&](pqxx::work& tx) -> absl::Status {
    in = app::SlaInputs();
    pqxx::result t = pool_.Exec(tx, kSelectTicket, tenant, ticket_id);
    if (t.empty()) return TicketNotFound();
    CRM_ASSIGN_OR_RETURN(in.ticket, TicketOf(t[0]));
    pqxx::result policy = pool_.Exec(tx, kTicketSlaPolicy, tenant, ticket_id);
    if (!policy.empty()) in.policy = policy[0][0].as<std::string>();
    for (const pqxx::row& r : pool_.Exec(tx, kListChanges, tenant, ticket_id, kMaxSlaRows)) {
      in.changes.push_back(ChangeOf(r));
    }
    for (const pqxx::row& r : pool_.Exec(tx, kMessageTimes, tenant, ticket_id, kMaxSlaRows)) {
      std::optional<domain::MessageKind> kind = domain::MessageKindFromName(r[0].as<std::string>());
      if (!kind) return absl::DataLossError("stored message unreadable");
      domain::TicketMessage m;
      m.kind = *kind;
      m.create_time = absl::FromUnixMicros(r[1].as<int64_t>());
      in.messages.push_back(std::move(m));
    }
    return absl::OkStatus();
  }));
  return in;
}

absl::StatusOr<std::vector<app::SlaDue>> PgTicketRepository::DueSlas(absl::Time now, int limit) {
  std::vector<app::SlaDue> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pool_.Exec(tx, kSchedulerOn);
    for (const pqxx::row& r : pool_.Exec(tx, kDueSlas, absl::ToUnixMicros(now), limit)) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<app::SlaRebase>> PgTicketRepository::SlaRebases(int limit) {
  std::vector<app::SlaRebase> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pool_.Exec(tx, kSchedulerOn);
    for (const pqxx::row& r : pool_.Exec(tx, kSlaRebases, limit)) {
      out.push_back({r[0].as<std::string>(), r[1].as<int64_t>(), r[2].as<std::string>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<std::string>> PgTicketRepository::StaleSlas(
    const std::string& tenant, int64_t version, const std::string& after_ticket_id, int limit) {
  std::vector<std::string> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pool_.Exec(tx, kNoParallel);
    for (const pqxx::row& r :
         pool_.Exec(tx, kStaleSlas, tenant, version,
                    after_ticket_id.empty() ? std::string(kNoUuid) : after_ticket_id, limit)) {
      out.push_back(r[0].as<std::string>());
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace crm::service_desk::storage

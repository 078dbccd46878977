// PgTicketRepository's attachments (schema/020_attachments.sql): the
// content-addressed bytes (inserted once per tenant and hash) and the rows
// naming them, pending (no message) until a message takes them.
#include "services/service_desk/storage/pg_attachments.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/pg/sql.h"

namespace crm::service_desk::storage {
namespace {

using Json = nlohmann::json;

const std::string kColumns = absl::StrCat(
    "a.attachment_id::text, a.ticket_id::text, coalesce(a.message_id::text, ''), a.filename, "
    "a.content_type, a.size, a.sha256, a.uploaded_by, ",
    pg::MicrosColumn("a.created_at"));
constexpr int kColumnCount = 9;

const pg::NamedQuery kInsertContent{
    "service_desk_insert_attachment_content",
    "INSERT INTO service_desk.attachment_contents (tenant_id, sha256, size, content) VALUES ($1, "
    "$2, $3, $4) ON CONFLICT (tenant_id, sha256) DO NOTHING",
    0};
const pg::NamedQuery kInsertAttachment{
    "service_desk_insert_attachment",
    absl::StrCat("INSERT INTO service_desk.attachments (tenant_id, attachment_id, ticket_id, "
                 "message_id, filename, content_type, size, sha256, uploaded_by, created_at) "
                 "VALUES ($1, $2::uuid, $3::uuid, nullif($4, '')::uuid, $5, $6, $7, $8, $9, ",
                 pg::MicrosParam(10), ")"),
    0};
const pg::NamedQuery kPendingAttachment{
    "service_desk_pending_attachment",
    absl::StrCat("SELECT ", kColumns,
                 " FROM service_desk.attachments a WHERE a.tenant_id = $1 AND a.ticket_id = "
                 "$2::uuid AND a.sha256 = $3 AND a.filename = $4 AND a.message_id IS NULL "
                 "ORDER BY a.created_at LIMIT 1"),
    kColumnCount};
// The ticket's pending uploads among $3 put on message $4, in one statement.
const pg::NamedQuery kBindAttachments{
    "service_desk_bind_attachments",
    absl::StrCat("UPDATE service_desk.attachments a SET message_id = $4::uuid WHERE a.tenant_id = "
                 "$1 AND a.ticket_id = $2::uuid AND a.message_id IS NULL AND a.attachment_id = "
                 "ANY($3::uuid[]) RETURNING ",
                 kColumns),
    kColumnCount};
const pg::NamedQuery kMessageAttachments{
    "service_desk_message_attachments",
    absl::StrCat("SELECT ", kColumns,
                 " FROM service_desk.attachments a WHERE a.tenant_id = $1 AND a.message_id = "
                 "ANY($2::uuid[]) ORDER BY a.message_id, a.created_at, a.attachment_id"),
    kColumnCount};
const pg::NamedQuery kAttachmentContent{
    "service_desk_attachment_content",
    absl::StrCat(
        "SELECT ", kColumns,
        ", c.content FROM service_desk.attachments a JOIN service_desk.attachment_contents "
        "c ON c.tenant_id = a.tenant_id AND c.sha256 = a.sha256 WHERE a.tenant_id = $1 "
        "AND a.ticket_id = $2::uuid AND a.attachment_id = $3::uuid"),
    kColumnCount + 1};
// A message's files with their bytes, in upload order.
const pg::NamedQuery kMessageFiles{
    "service_desk_message_files",
    absl::StrCat(
        "SELECT ", kColumns,
        ", c.content FROM service_desk.attachments a JOIN service_desk.attachment_contents "
        "c ON c.tenant_id = a.tenant_id AND c.sha256 = a.sha256 WHERE a.tenant_id = $1 "
        "AND a.message_id = $2::uuid ORDER BY a.created_at, a.attachment_id"),
    kColumnCount + 1};

domain::Attachment AttachmentOf(const pqxx::row& r) {
  domain::Attachment a;
  a.id = r[0].as<std::string>();
  a.ticket_id = r[1].as<std::string>();
  a.message_id = r[2].as<std::string>();
  a.filename = r[3].as<std::string>();
  a.content_type = r[4].as<std::string>();
  a.size = r[5].as<int64_t>();
  a.sha256_hex = r[6].as<std::string>();
  a.uploaded_by = r[7].as<std::string>();
  a.create_time = absl::FromUnixMicros(r[8].as<int64_t>());
  return a;
}

absl::Status AttachmentNotFound(const std::string& id) {
  return common::WithField(
      common::NotFound("ATTACHMENT_NOT_FOUND",
                       absl::StrCat("no attachment ", id,
                                    " of this ticket that is on no message yet; upload it to "
                                    "this ticket first")),
      "attachment_ids");
}

}  // namespace

std::vector<pg::NamedQuery> AttachmentQueries() {
  return {kInsertContent,      kInsertAttachment,  kPendingAttachment, kBindAttachments,
          kMessageAttachments, kAttachmentContent, kMessageFiles};
}

void StoreAttachmentIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                       const domain::Attachment& a, const std::string& content) {
  pool.Exec(tx, kInsertContent, tenant, a.sha256_hex, a.size,
            pqxx::binarystring(content.data(), content.size()));
  pool.Exec(tx, kInsertAttachment, tenant, a.id, a.ticket_id, a.message_id, a.filename,
            a.content_type, a.size, a.sha256_hex, a.uploaded_by, absl::ToUnixMicros(a.create_time));
}

absl::StatusOr<std::optional<domain::Attachment>> PendingAttachmentIn(
    pg::Pool& pool, pqxx::work& tx, const std::string& tenant, const std::string& ticket_id,
    const std::string& sha256, const std::string& filename) {
  pqxx::result r = pool.Exec(tx, kPendingAttachment, tenant, ticket_id, sha256, filename);
  if (r.empty()) return std::nullopt;
  return AttachmentOf(r[0]);
}

absl::StatusOr<std::vector<domain::Attachment>> BindAttachmentsIn(
    pg::Pool& pool, pqxx::work& tx, const std::string& tenant, const std::string& ticket_id,
    const std::string& message_id, const std::vector<std::string>& ids) {
  std::map<std::string, domain::Attachment> bound;
  for (const pqxx::row& r :
       pool.Exec(tx, kBindAttachments, tenant, ticket_id, pg::TextArrayLiteral(ids), message_id)) {
    domain::Attachment a = AttachmentOf(r);
    bound.emplace(a.id, std::move(a));
  }
  std::vector<domain::Attachment> out;
  for (const std::string& id : ids) {
    auto it = bound.find(id);
    if (it == bound.end()) return AttachmentNotFound(id);  // the write rolls back
    out.push_back(it->second);
  }
  return out;
}

std::map<std::string, std::vector<domain::Attachment>> MessageAttachmentsIn(
    pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
    const std::vector<std::string>& message_ids) {
  std::map<std::string, std::vector<domain::Attachment>> out;
  if (message_ids.empty()) return out;
  for (const pqxx::row& r :
       pool.Exec(tx, kMessageAttachments, tenant, pg::TextArrayLiteral(message_ids))) {
    domain::Attachment a = AttachmentOf(r);
    out[a.message_id].push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<std::pair<domain::Attachment, std::string>> AttachmentContentIn(
    pg::Pool& pool, pqxx::work& tx, const std::string& tenant, const std::string& ticket_id,
    const std::string& attachment_id) {
  pqxx::result r = pool.Exec(tx, kAttachmentContent, tenant, ticket_id, attachment_id);
  if (r.empty()) {
    return common::NotFound("ATTACHMENT_NOT_FOUND", "no such attachment of this ticket");
  }
  pqxx::binarystring bytes(r[0][kColumnCount]);
  return std::make_pair(AttachmentOf(r[0]), bytes.str());
}

std::vector<domain::OutboundMail::File> MessageFilesIn(pg::Pool& pool, pqxx::work& tx,
                                                       const std::string& tenant,
                                                       const std::string& message_id) {
  std::vector<domain::OutboundMail::File> out;
  for (const pqxx::row& r : pool.Exec(tx, kMessageFiles, tenant, message_id)) {
    pqxx::binarystring bytes(r[kColumnCount]);
    out.push_back({AttachmentOf(r), bytes.str()});
  }
  return out;
}

Json AttachmentJson(const domain::Attachment& a) {
  return Json{{"id", a.id},
              {"ticket_id", a.ticket_id},
              {"message_id", a.message_id},
              {"filename", a.filename},
              {"content_type", a.content_type},
              {"size", a.size},
              {"sha256", a.sha256_hex},
              {"uploaded_by", a.uploaded_by},
              {"create_us", absl::ToUnixMicros(a.create_time)}};
}

domain::Attachment AttachmentOfJson(const Json& j) {
  domain::Attachment a;
  a.id = j.at("id").get<std::string>();
  a.ticket_id = j.at("ticket_id").get<std::string>();
  a.message_id = j.at("message_id").get<std::string>();
  a.filename = j.at("filename").get<std::string>();
  a.content_type = j.at("content_type").get<std::string>();
  a.size = j.at("size").get<int64_t>();
  a.sha256_hex = j.at("sha256").get<std::string>();
  a.uploaded_by = j.at("uploaded_by").get<std::string>();
  a.create_time = absl::FromUnixMicros(j.at("create_us").get<int64_t>());
  return a;
}

const outbox::AnswerCodec<domain::Attachment>& AttachmentAnswer() {
  static const auto* const kCodec =
      new outbox::AnswerCodec<domain::Attachment>(outbox::SnapshotCodec<domain::Attachment>(
          [](const domain::Attachment& a) { return AttachmentJson(a).dump(); },
          [](const std::string& stored) {
            return outbox::ParseJsonAnswer<domain::Attachment>(
                stored, [](const Json& j, bool&) { return AttachmentOfJson(j); },
                "stored attachment unreadable");
          }));
  return *kCodec;
}

}  // namespace crm::service_desk::storage

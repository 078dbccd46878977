#pragma once
// For PgTicketRepository's files: attachments (schema/020_attachments.sql):
// the bytes once per tenant by their SHA-256, each file's row, written in a
// write's transaction and read on their own.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/pg/pool.h"
#include "services/service_desk/domain/attachment.h"
#include "services/service_desk/domain/outbound_mail.h"

namespace crm::service_desk::storage {

std::vector<pg::NamedQuery> AttachmentQueries();

void StoreAttachmentIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                       const domain::Attachment& a, const std::string& content);
absl::StatusOr<std::optional<domain::Attachment>> PendingAttachmentIn(
    pg::Pool& pool, pqxx::work& tx, const std::string& tenant, const std::string& ticket_id,
    const std::string& sha256, const std::string& filename);
absl::StatusOr<std::vector<domain::Attachment>> BindAttachmentsIn(
    pg::Pool& pool, pqxx::work& tx, const std::string& tenant, const std::string& ticket_id,
    const std::string& message_id, const std::vector<std::string>& ids);
// The attachments of `message_ids`, by message, each message's in upload order.
std::map<std::string, std::vector<domain::Attachment>> MessageAttachmentsIn(
    pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
    const std::vector<std::string>& message_ids);
// The files of a message with their bytes, in upload order (a reply's, as
// its mail takes them).
std::vector<domain::OutboundMail::File> MessageFilesIn(pg::Pool& pool, pqxx::work& tx,
                                                       const std::string& tenant,
                                                       const std::string& message_id);
// One attachment of the ticket with its bytes (NOT_FOUND ATTACHMENT_NOT_FOUND).
absl::StatusOr<std::pair<domain::Attachment, std::string>> AttachmentContentIn(
    pg::Pool& pool, pqxx::work& tx, const std::string& tenant, const std::string& ticket_id,
    const std::string& attachment_id);

nlohmann::json AttachmentJson(const domain::Attachment& a);
domain::Attachment AttachmentOfJson(const nlohmann::json& j);
// An UploadAttachment answer as stored with the write and read again.
const outbox::AnswerCodec<domain::Attachment>& AttachmentAnswer();

}  // namespace crm::service_desk::storage

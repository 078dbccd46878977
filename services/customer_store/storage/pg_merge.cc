// PgCustomerRepository: merge and unmerge, each one transaction with the
// merge log, audit row and outbox event.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"
#include "services/customer_store/domain/rules.h"
#include "services/customer_store/storage/json_codec.h"
#include "services/customer_store/storage/pg_customer_repository.h"
#include "services/customer_store/storage/shared_queries.h"

namespace crm::customer_store::storage {
namespace {

// The stored answer of a merge, so a retry answers exactly the first call's
// outcome (the source is gone by then).
std::string MergeAnswerJson(const app::MergeOutcome& m) {
  nlohmann::json resolutions = nlohmann::json::array();
  for (const auto& c : m.resolutions) {
    resolutions.push_back({{"channel", static_cast<int>(c.channel)},
                           {"purpose", static_cast<int>(c.purpose)},
                           {"status", static_cast<int>(c.status)},
                           {"source", c.source},
                           {"policy_version", c.policy_version},
                           {"record_us", absl::StrCat(absl::ToUnixMicros(c.record_time))}});
  }
  return nlohmann::json{{"survivor", CustomerToJson(m.survivor)},
                        {"merge_id", m.merge_id},
                        {"identities_moved", m.identities_moved},
                        {"interactions_moved", m.interactions_moved},
                        {"consents_moved", m.consents_moved},
                        {"resolutions", resolutions}}
      .dump();
}

absl::StatusOr<app::MergeOutcome> MergeAnswerFromJson(const std::string& s) {
  const absl::Status corrupt = absl::DataLossError("stored idempotent response is corrupt");
  try {
    nlohmann::json j = nlohmann::json::parse(s);
    app::MergeOutcome m;
    auto survivor = CustomerFromJson(j.at("survivor").get<std::string>());
    if (!survivor.ok()) return corrupt;
    m.survivor = *std::move(survivor);
    m.merge_id = j.at("merge_id").get<std::string>();
    m.identities_moved = j.at("identities_moved").get<int64_t>();
    m.interactions_moved = j.at("interactions_moved").get<int64_t>();
    m.consents_moved = j.at("consents_moved").get<int64_t>();
    for (const auto& r : j.at("resolutions")) {
      domain::Consent c;
      c.channel = static_cast<domain::ConsentChannel>(r.at("channel").get<int>());
      c.purpose = static_cast<domain::ConsentPurpose>(r.at("purpose").get<int>());
      c.status = static_cast<domain::ConsentStatus>(r.at("status").get<int>());
      c.source = r.at("source").get<std::string>();
      c.policy_version = r.at("policy_version").get<std::string>();
      int64_t us = 0;
      if (!absl::SimpleAtoi(r.at("record_us").get<std::string>(), &us)) return corrupt;
      c.record_time = absl::FromUnixMicros(us);
      m.resolutions.push_back(std::move(c));
    }
    return m;
  } catch (const nlohmann::json::exception&) {
    return corrupt;
  }
}

// The ids of a uuid[] or int8[] column read as text ("{a,b}"): no quoting.
std::vector<std::string> IdsOfArray(const std::string& text) {
  std::string inner = text.size() >= 2 ? text.substr(1, text.size() - 2) : std::string();
  if (inner.empty()) return {};
  return absl::StrSplit(inner, ',');
}

}  // namespace

outbox::AnswerCodec<app::MergeOutcome> PgCustomerRepository::MergeCodec() {
  outbox::AnswerCodec<app::MergeOutcome> codec;
  codec.encode = MergeAnswerJson;
  codec.replay = [this](const outbox::WriteTx& w, const std::string& stored,
                        const std::string& survivor_id) -> absl::StatusOr<app::MergeOutcome> {
    if (!stored.empty()) return MergeAnswerFromJson(stored);
    // The answer was forgotten by an erasure: the survivor as it is now
    // (not found).
    app::MergeOutcome m;
    CRM_ASSIGN_OR_RETURN(m.survivor, LoadCustomer(w.sql(), w.tenant(), survivor_id, false));
    return m;
  };
  return codec;
}

outbox::AnswerCodec<app::UnmergeOutcome> PgCustomerRepository::UnmergeCodec() {
  outbox::AnswerCodec<app::UnmergeOutcome> codec;
  codec.encode = [](const app::UnmergeOutcome& u) {
    return nlohmann::json{{"survivor", CustomerToJson(u.survivor)},
                          {"restored", CustomerToJson(u.restored)}}
        .dump();
  };
  codec.replay = [this](const outbox::WriteTx& w, const std::string& stored,
                        const std::string& survivor_id) -> absl::StatusOr<app::UnmergeOutcome> {
    app::UnmergeOutcome u;
    if (stored.empty()) {  // forgotten by an erasure
      CRM_ASSIGN_OR_RETURN(u.survivor, LoadCustomer(w.sql(), w.tenant(), survivor_id, false));
      return u;
    }
    try {
      nlohmann::json j = nlohmann::json::parse(stored);
      absl::StatusOr<domain::Customer> survivor =
          CustomerFromJson(j.at("survivor").get<std::string>());
      absl::StatusOr<domain::Customer> restored =
          CustomerFromJson(j.at("restored").get<std::string>());
      if (survivor.ok() && restored.ok()) {
        u.survivor = *std::move(survivor);
        u.restored = *std::move(restored);
        return u;
      }
    } catch (const nlohmann::json::exception&) {
    }
    return absl::DataLossError("stored idempotent response is corrupt");
  };
  return codec;
}

// ------------------------------------------------------------ queries
// What a merge and an unmerge run (libs/pg/pool.h, NamedQuery: a misspelt
// query does not compile, and the columns read are checked at start-up).

const pg::NamedQuery kMoveIdentities{
    "move_identities",
    "UPDATE customer_store.identities SET customer_id = $2, position = position + 1000 "
    "WHERE tenant_id = $1 AND customer_id = $3",
    0};
const pg::NamedQuery kMoveIdentityBack{
    "move_identity_back",
    "UPDATE customer_store.identities SET customer_id = $5 WHERE tenant_id = $1 AND kind = $2 "
    "AND source = $3 AND value = $4 AND customer_id = $6",
    0};
const pg::NamedQuery kMoveInteractions{
    "move_interactions",
    "UPDATE customer_store.interactions SET customer_id = $2 WHERE tenant_id = $1 AND "
    "customer_id = $3 RETURNING id::text",
    1};
const pg::NamedQuery kMoveInteractionsBack{
    "move_interactions_back",
    "UPDATE customer_store.interactions SET customer_id = $2 WHERE tenant_id = $1 AND "
    "customer_id = $3 AND id = ANY($4::uuid[])",
    0};
const pg::NamedQuery kMoveConsents{
    "move_consents",
    "UPDATE customer_store.consents SET customer_id = $2 WHERE tenant_id = $1 AND "
    "customer_id = $3 RETURNING id",
    1};
const pg::NamedQuery kMoveConsentsBack{
    "move_consents_back",
    "UPDATE customer_store.consents SET customer_id = $2 WHERE tenant_id = $1 AND "
    "customer_id = $3 AND id = ANY($4::int8[])",
    0};
const pg::NamedQuery kDeleteConsents{
    "delete_consents",
    "DELETE FROM customer_store.consents WHERE tenant_id = $1 AND customer_id = $2 AND "
    "id = ANY($3::int8[])",
    0};
const pg::NamedQuery kInsertConsentReturningId{
    "insert_consent_returning_id",
    "INSERT INTO customer_store.consents (tenant_id, customer_id, channel, purpose, status, "
    "source, policy_version, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
    "'epoch'::timestamptz + $8::int8 * interval '1 microsecond') RETURNING id",
    1};
const pg::NamedQuery kInsertMerge{
    "insert_merge",
    "INSERT INTO customer_store.merges (tenant_id, id, survivor_id, source_id, "
    "source_snapshot, survivor_before, survivor_after, filled_paths, moved_interactions, "
    "moved_consents, added_consents) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, "
    "$8::jsonb, $9::uuid[], $10::int8[], $11::int8[])",
    0};
const pg::NamedQuery kSelectMergeForUpdate{
    "select_merge_for_update",
    "SELECT survivor_id::text, source_id::text, source_snapshot::text, survivor_before::text, "
    "survivor_after::text, filled_paths::text, moved_interactions::text, moved_consents::text, "
    "added_consents::text, unmerged_at IS NOT NULL FROM customer_store.merges WHERE "
    "tenant_id = $1 AND id = $2 FOR UPDATE",
    10};
const pg::NamedQuery kSelectMergeOfSource{
    "select_merge_of_source",
    "SELECT survivor_id::text FROM customer_store.merges WHERE tenant_id = $1 AND "
    "source_id = $2 AND unmerged_at IS NULL ORDER BY merged_at DESC LIMIT 1",
    1};
const pg::NamedQuery kMarkUnmerged{
    "mark_unmerged",
    "UPDATE customer_store.merges SET unmerged_at = now() WHERE tenant_id = $1 AND id = $2",
    0};

std::vector<pg::NamedQuery> PgCustomerRepository::MergeQueries() {
  return {kMoveIdentities,       kMoveIdentityBack, kMoveInteractions,         kMoveInteractionsBack,
          kMoveConsents,         kMoveConsentsBack, kDeleteConsents,           kInsertConsentReturningId,
          kInsertMerge,          kSelectMergeForUpdate, kSelectMergeOfSource, kMarkUnmerged};
}

absl::Status PgCustomerRepository::NotFoundOrMerged(pqxx::work& tx, const std::string& tenant,
                                                    const std::string& id) {
  pqxx::result m = pool_.Exec(tx, kSelectMergeOfSource, tenant, id);
  if (!m.empty()) {
    return common::WithReason(
        absl::NotFoundError(absl::StrCat("customer was merged into customer ",
                                         m[0][0].as<std::string>())),
        "CUSTOMER_MERGED");
  }
  return common::NotFound("CUSTOMER_NOT_FOUND", "customer not found");
}

app::MergeMoves PgCustomerRepository::MoveToSurvivor(
    pqxx::work& tx, const std::string& t, const std::string& survivor_id,
    const std::string& source_id, const std::vector<domain::Consent>& resolutions) {
  app::MergeMoves moves;
  pool_.Exec(tx, kMoveIdentities, t, survivor_id, source_id);
  for (const auto& r : pool_.Exec(tx, kMoveInteractions, t, survivor_id, source_id)) {
    moves.interactions.push_back(r[0].as<std::string>());
  }
  for (const auto& r : pool_.Exec(tx, kMoveConsents, t, survivor_id, source_id)) {
    moves.consents.push_back(r[0].as<std::string>());
  }
  for (const auto& c : resolutions) {
    pqxx::result r =
        pool_.Exec(tx, kInsertConsentReturningId, t, survivor_id, static_cast<int>(c.channel),
                   static_cast<int>(c.purpose), static_cast<int>(c.status), c.source,
                   c.policy_version, absl::ToUnixMicros(c.record_time));
    moves.added_consents.push_back(r[0][0].as<std::string>());
  }
  return moves;
}

std::string PgCustomerRepository::AppendMerge(pqxx::work& tx, const std::string& t,
                                              const app::MergeRecord& rec,
                                              const app::MergeMoves& moves) {
  std::string merge_id = common::NewUuid();
  pool_.Exec(tx, kInsertMerge, t, merge_id, rec.survivor_id, rec.source_id,
             CustomerToJson(rec.source_snapshot), CustomerToJson(rec.survivor_before),
             CustomerToJson(rec.survivor_after), StringsToJson(rec.filled_paths),
             pg::TextArrayLiteral(moves.interactions), pg::TextArrayLiteral(moves.consents),
             pg::TextArrayLiteral(moves.added_consents));
  return merge_id;
}

absl::StatusOr<app::LoggedMerge> PgCustomerRepository::LoadMerge(pqxx::work& tx,
                                                                 const std::string& t,
                                                                 const std::string& survivor_id,
                                                                 const std::string& merge_id) {
  pqxx::result m = pool_.Exec(tx, kSelectMergeForUpdate, t, merge_id);
  if (m.empty() || m[0][0].as<std::string>() != survivor_id) {
    return common::NotFound("NOT_MERGED", "no merge with this id for this customer");
  }
  const pqxx::row& row = m[0];
  app::LoggedMerge out;
  app::MergeRecord& rec = out.record;
  rec.id = merge_id;
  rec.survivor_id = survivor_id;
  rec.source_id = row[1].as<std::string>();
  CRM_ASSIGN_OR_RETURN(rec.source_snapshot, CustomerFromJson(row[2].as<std::string>()));
  CRM_ASSIGN_OR_RETURN(rec.survivor_before, CustomerFromJson(row[3].as<std::string>()));
  CRM_ASSIGN_OR_RETURN(rec.survivor_after, CustomerFromJson(row[4].as<std::string>()));
  CRM_ASSIGN_OR_RETURN(rec.filled_paths, StringsFromJson(row[5].as<std::string>()));
  out.moves.interactions = IdsOfArray(row[6].as<std::string>());
  out.moves.consents = IdsOfArray(row[7].as<std::string>());
  out.moves.added_consents = IdsOfArray(row[8].as<std::string>());
  out.undone = row[9].as<bool>();
  return out;
}

void PgCustomerRepository::MoveBack(pqxx::work& tx, const std::string& t,
                                    const app::LoggedMerge& merge) {
  const app::MergeRecord& rec = merge.record;
  for (const auto& i : domain::IdentitiesOf(rec.source_snapshot)) {
    pool_.Exec(tx, kMoveIdentityBack, t, static_cast<int>(i.kind), i.source, i.value, rec.source_id,
               rec.survivor_id);
  }
  pool_.Exec(tx, kMoveInteractionsBack, t, rec.source_id, rec.survivor_id,
             pg::TextArrayLiteral(merge.moves.interactions));
  pool_.Exec(tx, kMoveConsentsBack, t, rec.source_id, rec.survivor_id,
             pg::TextArrayLiteral(merge.moves.consents));
  pool_.Exec(tx, kDeleteConsents, t, rec.survivor_id,
             pg::TextArrayLiteral(merge.moves.added_consents));
}

void PgCustomerRepository::MarkUnmerged(pqxx::work& tx, const std::string& t,
                                        const std::string& merge_id) {
  pool_.Exec(tx, kMarkUnmerged, t, merge_id);
}

}  // namespace crm::customer_store::storage

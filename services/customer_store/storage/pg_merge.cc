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

absl::StatusOr<app::MergeOutcome> PgCustomerRepository::Merge(const app::Actor& actor,
                                                              const std::string& survivor_id,
                                                              const std::string& source_id,
                                                              const app::MergeDecider& decide) {
  const std::string& t = actor.tenant_id;
  return WriteOnce<app::MergeOutcome>(
      actor, survivor_id, MergeCodec(),
      [&](const outbox::WriteTx& w) -> absl::StatusOr<app::MergeOutcome> {
        pqxx::work& tx = w.sql();
        app::MergeOutcome out;
        // Lock both rows in id order so concurrent merges cannot deadlock.
        const std::string& first = std::min(survivor_id, source_id);
        const std::string& second = std::max(survivor_id, source_id);
        CRM_ASSIGN_OR_RETURN(domain::Customer a, LoadCustomer(tx, t, first, true));
        CRM_ASSIGN_OR_RETURN(domain::Customer b, LoadCustomer(tx, t, second, true));
        const domain::Customer& survivor = first == survivor_id ? a : b;
        const domain::Customer& source = first == survivor_id ? b : a;
        CRM_ASSIGN_OR_RETURN(std::vector<domain::Consent> survivor_hist,
                             ConsentHistoryTx(tx, t, survivor_id));
        CRM_ASSIGN_OR_RETURN(std::vector<domain::Consent> source_hist,
                             ConsentHistoryTx(tx, t, source_id));
        CRM_ASSIGN_OR_RETURN(app::MergeDecision d,
                             decide(survivor, source, domain::CurrentConsents(survivor_hist),
                                    domain::CurrentConsents(source_hist)));
        pool_.Exec(tx, kMoveIdentities, t, survivor_id, source_id);
        std::vector<std::string> interactions, consents, added;
        for (const auto& r : pool_.Exec(tx, kMoveInteractions, t, survivor_id, source_id)) {
          interactions.push_back(r[0].as<std::string>());
        }
        for (const auto& r : pool_.Exec(tx, kMoveConsents, t, survivor_id, source_id)) {
          consents.push_back(r[0].as<std::string>());
        }
        for (const auto& c : d.resolutions) {
          pqxx::result r = pool_.Exec(tx, kInsertConsentReturningId, t, survivor_id,
                                      static_cast<int>(c.channel), static_cast<int>(c.purpose),
                                      static_cast<int>(c.status), c.source, c.policy_version,
                                      absl::ToUnixMicros(c.record_time));
          added.push_back(r[0][0].as<std::string>());
        }
        domain::Customer merged = d.merged;
        merged.version = survivor.version + 1;
        WriteProfile(tx, t, merged);
        pool_.Exec(tx, kDeleteCustomer, t, source_id);
        std::string merge_id = common::NewUuid();
        pool_.Exec(tx, kInsertMerge, t, merge_id, survivor_id, source_id, CustomerToJson(source),
                   CustomerToJson(survivor), CustomerToJson(merged), StringsToJson(d.filled_paths),
                   pg::TextArrayLiteral(interactions), pg::TextArrayLiteral(consents),
                   pg::TextArrayLiteral(added));
        w.Emit(survivor_id, "customer.merged",
               absl::StrCat(R"({"customer_id":")", survivor_id, R"(","source_customer_id":")",
                            source_id, R"(","merge_id":")", merge_id, R"("})"));
        CRM_ASSIGN_OR_RETURN(out.survivor, LoadCustomer(tx, t, survivor_id, false));
        out.merge_id = merge_id;
        out.identities_moved = static_cast<int64_t>(domain::IdentitiesOf(source).size());
        out.interactions_moved = static_cast<int64_t>(interactions.size());
        out.consents_moved = static_cast<int64_t>(consents.size());
        out.resolutions = d.resolutions;
        // As stored (microseconds), so the first answer and a replay agree.
        for (auto& c : out.resolutions) {
          c.record_time = absl::FromUnixMicros(absl::ToUnixMicros(c.record_time));
        }
        return out;
      });
}

absl::StatusOr<app::UnmergeOutcome> PgCustomerRepository::Unmerge(
    const app::Actor& actor, const std::string& survivor_id, const std::string& merge_id,
    const app::UnmergeDecider& decide) {
  const std::string& t = actor.tenant_id;
  return WriteOnce<app::UnmergeOutcome>(
      actor, survivor_id, UnmergeCodec(),
      [&](const outbox::WriteTx& w) -> absl::StatusOr<app::UnmergeOutcome> {
        pqxx::work& tx = w.sql();
        pqxx::result m = pool_.Exec(tx, kSelectMergeForUpdate, t, merge_id);
        if (m.empty() || m[0][0].as<std::string>() != survivor_id) {
          return common::NotFound("NOT_MERGED", "no merge with this id for this customer");
        }
        const pqxx::row& row = m[0];
        if (row[9].as<bool>()) {
          return common::WithReason(absl::FailedPreconditionError("this merge was already undone"),
                                    "NOT_MERGED");
        }
        app::MergeRecord rec;
        rec.id = merge_id;
        rec.survivor_id = survivor_id;
        rec.source_id = row[1].as<std::string>();
        CRM_ASSIGN_OR_RETURN(rec.source_snapshot, CustomerFromJson(row[2].as<std::string>()));
        CRM_ASSIGN_OR_RETURN(rec.survivor_before, CustomerFromJson(row[3].as<std::string>()));
        CRM_ASSIGN_OR_RETURN(rec.survivor_after, CustomerFromJson(row[4].as<std::string>()));
        CRM_ASSIGN_OR_RETURN(rec.filled_paths, StringsFromJson(row[5].as<std::string>()));
        CRM_ASSIGN_OR_RETURN(domain::Customer survivor, LoadCustomer(tx, t, survivor_id, true));

        domain::Customer restored = rec.source_snapshot;
        restored.version = rec.source_snapshot.version + 1;
        restored.update_time = absl::Now();
        InsertProfile(tx, t, restored);
        for (const auto& i : domain::IdentitiesOf(rec.source_snapshot)) {
          pool_.Exec(tx, kMoveIdentityBack, t, static_cast<int>(i.kind), i.source, i.value,
                     restored.id, survivor_id);
        }
        pool_.Exec(tx, kMoveInteractionsBack, t, restored.id, survivor_id,
                   row[6].as<std::string>());
        pool_.Exec(tx, kMoveConsentsBack, t, restored.id, survivor_id, row[7].as<std::string>());
        pool_.Exec(tx, kDeleteConsents, t, survivor_id, row[8].as<std::string>());
        // Identities now reflect the moves; the profile goes back where
        // untouched.
        CRM_ASSIGN_OR_RETURN(domain::Customer survivor_now,
                             LoadCustomer(tx, t, survivor_id, false));
        domain::Customer undone = decide(survivor_now, rec);
        undone.version = survivor.version + 1;
        undone.update_time = absl::Now();
        WriteProfile(tx, t, undone);
        pool_.Exec(tx, kMarkUnmerged, t, merge_id);
        w.Emit(survivor_id, "customer.unmerged",
               absl::StrCat(R"({"customer_id":")", survivor_id, R"(","restored_customer_id":")",
                            restored.id, R"(","merge_id":")", merge_id, R"("})"));
        app::UnmergeOutcome out;
        CRM_ASSIGN_OR_RETURN(out.survivor, LoadCustomer(tx, t, survivor_id, false));
        CRM_ASSIGN_OR_RETURN(out.restored, LoadCustomer(tx, t, restored.id, false));
        return out;
      });
}

}  // namespace crm::customer_store::storage

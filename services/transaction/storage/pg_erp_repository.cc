// PgErpRepository. Ingest: one transaction per batch. The valid orders and
// their lines are COPYed into temporary staging tables, then a handful of
// set-based statements decide and write the whole batch (no per-order round
// trip):
//   1. staged orders whose external_id the tenant has -> ALREADY_EXISTS
//   2. staged orders naming a SKU missing from the catalog -> UNKNOWN_SKU
//   3. one statement inserts the rest (ON CONFLICT on the partial unique
//      index orders_external_id_key DO NOTHING, in external_id order so
//      concurrent batches wait on each other instead of deadlocking), their
//      lines, one outbox event and one audit row per created order
//   4. staged orders that step 3 skipped (a concurrent batch committed the
//      same external_id meanwhile) -> ALREADY_EXISTS with that order's id.
// The event payloads are built in C++ by OrderEventPayload (the same
// function every other order write uses) and staged with the order.
//
// Export: orders in (change_xid, change_seq) order below the reading
// snapshot's xmin; why that never skips a row: schema/007_order_changes.sql.
#include "services/transaction/storage/pg_erp_repository.h"

#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"
#include "services/transaction/storage/order_event.h"
#include "services/transaction/storage/order_row.h"

namespace crm::transaction::storage {
namespace {

// Per-connection staging tables, emptied at every commit (and by rollback).
// client_min_messages hides the "already exists, skipping" notices.
constexpr char kStage[] =
    "SET LOCAL client_min_messages = warning; "
    "CREATE TEMP TABLE IF NOT EXISTS erp_stage_orders (idx int4 NOT NULL, id uuid NOT NULL, "
    "external_id text NOT NULL, customer_id uuid NOT NULL, currency text NOT NULL, "
    "total_minor int8 NOT NULL, channel int2 NOT NULL, store_id text NOT NULL, "
    "status int2 NOT NULL, version int8 NOT NULL, placed_us int8 NOT NULL, "
    "created_us int8 NOT NULL, event_type text NOT NULL, payload text NOT NULL) "
    "ON COMMIT DELETE ROWS; "
    "CREATE TEMP TABLE IF NOT EXISTS erp_stage_lines (idx int4 NOT NULL, line_no int4 NOT NULL, "
    "sku text NOT NULL, quantity int8 NOT NULL, unit_price_minor int8 NOT NULL, "
    "discount_minor int8 NOT NULL) ON COMMIT DELETE ROWS";

std::string Ts(const char* column) {
  return absl::StrCat("('epoch'::timestamptz + ", column, " * interval '1 microsecond')");
}

outbox::WriteMeta IngestMetaOf(const app::Actor& a) {
  outbox::WriteMeta m = a;
  m.idempotency_key.clear();  // ingest is idempotent by external_id
  m.fingerprint.clear();
  return m;
}

absl::Status BadCursor() {
  return common::WithReason(absl::InvalidArgumentError("cursor is invalid"),
                            "INVALID_PAGE_TOKEN");
}

// ------------------------------------------------------------ queries
// libs/pg/pool.h: typed, their columns checked at start-up, except those
// that read the staging tables (kUnchecked, their columns in a comment):
// the tables are created per connection inside the ingest transaction, so
// the start-up check, on a connection of its own, cannot prepare them.

// Staged orders (s) with the tenant's order (o) that has their external id.
constexpr char kStagedAndTaken[] =
    "erp_stage_orders s JOIN txn.orders o ON o.tenant_id = $1 AND o.external_id = "
    "s.external_id AND o.external_id <> ''";

const pg::NamedQuery kErpSelectExternalIds{
    "erp_select_external_ids",
    "SELECT external_id, id::text FROM txn.orders WHERE tenant_id = $1 AND "
    "external_id = ANY($2::text[]) AND external_id <> ''",
    2};
// idx, id. Unchecked: reads the temporary staging tables.
const pg::NamedQuery kErpTakeExisting{
    "erp_take_existing",
    absl::StrCat("WITH ex AS (SELECT s.idx, o.id FROM ", kStagedAndTaken,
                 ") DELETE FROM erp_stage_orders s USING ex WHERE s.idx = ex.idx "
                 "RETURNING s.idx, ex.id::text"),
    pg::NamedQuery::kUnchecked};
// idx, line_no, sku. Unchecked: reads the temporary staging tables.
const pg::NamedQuery kErpTakeUnknownSkus{
    "erp_take_unknown_skus",
    "WITH bad AS (SELECT DISTINCT ON (l.idx) l.idx, l.line_no, l.sku FROM erp_stage_lines l "
    "JOIN erp_stage_orders s ON s.idx = l.idx WHERE NOT EXISTS (SELECT 1 FROM txn.products p "
    "WHERE p.tenant_id = $1 AND p.sku = l.sku) ORDER BY l.idx, l.line_no) "
    "DELETE FROM erp_stage_orders s USING bad WHERE s.idx = bad.idx "
    "RETURNING s.idx, bad.line_no, bad.sku",
    pg::NamedQuery::kUnchecked};
// idx, id. Unchecked: reads the temporary staging tables.
const pg::NamedQuery kErpInsertOrders{
    "erp_insert_orders",
    absl::StrCat(
        "WITH ins AS (INSERT INTO txn.orders (tenant_id, id, customer_id, currency, "
        "total_minor, channel, store_id, status, placed_at, version, created_at, updated_at, "
        "external_id) SELECT $1, id, customer_id, currency, total_minor, channel, store_id, "
        "status, ",
        Ts("placed_us"), ", version, ", Ts("created_us"), ", ", Ts("created_us"),
        ", external_id FROM erp_stage_orders ORDER BY external_id "
        "ON CONFLICT (tenant_id, external_id) WHERE external_id <> '' DO NOTHING "
        "RETURNING id), "
        "created AS (SELECT s.* FROM ins JOIN erp_stage_orders s ON s.id = ins.id), "
        "lines AS (INSERT INTO txn.order_lines (tenant_id, order_id, line_no, sku, quantity, "
        "unit_price_minor, discount_minor) SELECT $1, c.id, l.line_no, l.sku, l.quantity, "
        "l.unit_price_minor, l.discount_minor FROM created c JOIN erp_stage_lines l "
        "ON l.idx = c.idx), "
        "events AS (INSERT INTO txn.outbox (event_id, tenant_id, customer_id, event_type, "
        "payload) SELECT gen_random_uuid(), $1, c.customer_id, c.event_type, c.payload::jsonb "
        "FROM created c ORDER BY c.idx), "
        "audit AS (INSERT INTO txn.audit_log (tenant_id, principal, method, resource, "
        "outcome, request_id) SELECT $1, $2, $3, c.id::text, 'OK', $4 FROM created c "
        "ORDER BY c.idx) "
        "SELECT idx, id::text FROM created"),
    pg::NamedQuery::kUnchecked};
// idx, id. Unchecked: reads the temporary staging tables.
const pg::NamedQuery kErpSelectExisting{
    "erp_select_existing",
    absl::StrCat("SELECT s.idx, o.id::text FROM ", kStagedAndTaken, " WHERE o.id <> s.id"),
    pg::NamedQuery::kUnchecked};
const pg::NamedQuery kErpExportHeldBack{
    "erp_export_held_back",
    "SELECT EXISTS (SELECT 1 FROM txn.orders o WHERE o.tenant_id = $1 AND "
    "(o.change_xid, o.change_seq) > ($2::xid8, $3::int8) AND "
    "o.change_xid >= pg_snapshot_xmin(pg_current_snapshot()))",
    1};
// The order (storage/order_row.h), then its change stamp and its lines.
const pg::NamedQuery kErpExportChanges{
    "erp_export_changes",
    absl::StrCat(
        "SELECT ", OrderColumns(),
        ", change_xid::text, change_seq, "
        "(SELECT coalesce(json_agg(json_build_array(l.sku, l.quantity, l.unit_price_minor, "
        "l.discount_minor, l.returned_quantity) ORDER BY l.line_no), '[]'::json) "
        "FROM txn.order_lines l WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id)::text "
        "FROM txn.orders o WHERE o.tenant_id = $1 "
        "AND (o.change_xid, o.change_seq) > ($2::xid8, $3::int8) "
        // Only what every earlier transaction has finished with: see
        // schema/007_order_changes.sql.
        "AND o.change_xid < pg_snapshot_xmin(pg_current_snapshot()) "
        "ORDER BY o.change_xid, o.change_seq LIMIT $4"),
    kOrderColumnCount + 3};
constexpr int kChangeXid = kOrderColumnCount, kChangeSeq = kOrderColumnCount + 1,
              kLines = kOrderColumnCount + 2;

}  // namespace

std::vector<pg::NamedQuery> PgErpRepository::Queries() {
  return {kErpSelectExternalIds, kErpTakeExisting,   kErpTakeUnknownSkus, kErpInsertOrders,
          kErpSelectExisting,    kErpExportHeldBack, kErpExportChanges};
}

absl::StatusOr<std::map<std::string, std::string>> PgErpRepository::ExistingExternalIds(
    const std::string& tenant, const std::vector<std::string>& external_ids) {
  std::map<std::string, std::string> out;
  if (external_ids.empty()) return out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const auto& row :
         pool_.Exec(tx, kErpSelectExternalIds, tenant, pg::TextArrayLiteral(external_ids))) {
      out.emplace(row[0].as<std::string>(), row[1].as<std::string>());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<app::IngestRowResult>> PgErpRepository::IngestBatch(
    const app::Actor& actor, const std::string& batch_id,
    const std::vector<app::IngestRow>& rows) {
  const std::string& t = actor.tenant_id;
  // Everything that does not depend on the database, computed once (the
  // transaction may be retried).
  std::map<int, const app::IngestRow*> by_index;
  std::vector<std::string> payloads;
  payloads.reserve(rows.size());
  for (const app::IngestRow& r : rows) {
    by_index[r.index] = &r;
    payloads.push_back(OrderEventPayload(r.order));
  }
  outbox::WriteMeta meta = IngestMetaOf(actor);
  std::vector<app::IngestRowResult> results;
  std::string resource = batch_id.empty() ? std::string("erp-batch")
                                          : absl::StrCat("erp-batch:", batch_id);
  absl::Status s = writer_.Write(meta, resource, [&](pqxx::work& tx) -> absl::Status {
    results.clear();
    results.reserve(rows.size());
    tx.exec(kStage);
    {
      pqxx::stream_to out(
          tx, "erp_stage_orders",
          std::vector<std::string>{"idx", "id", "external_id", "customer_id", "currency",
                                   "total_minor", "channel", "store_id", "status", "version",
                                   "placed_us", "created_us", "event_type", "payload"});
      for (size_t i = 0; i < rows.size(); ++i) {
        const domain::Order& o = rows[i].order;
        out << std::make_tuple(rows[i].index, o.id, o.external_id, o.customer_id,
                               o.currency_code, o.total_minor, static_cast<int>(o.channel),
                               o.store_id, static_cast<int>(o.status), o.version,
                               absl::ToUnixMicros(o.placed_time),
                               absl::ToUnixMicros(o.create_time), OrderEventType(o), payloads[i]);
      }
      out.complete();
    }
    {
      pqxx::stream_to out(tx, "erp_stage_lines",
                          std::vector<std::string>{"idx", "line_no", "sku", "quantity",
                                                   "unit_price_minor", "discount_minor"});
      for (const app::IngestRow& r : rows) {
        for (size_t n = 0; n < r.order.lines.size(); ++n) {
          const domain::OrderLine& l = r.order.lines[n];
          out << std::make_tuple(r.index, static_cast<int>(n), l.sku, l.quantity,
                                 l.unit_price_minor, l.discount_minor);
        }
      }
      out.complete();
    }
    // Statistics for the staged rows: without them the planner guesses the
    // wide staging table is large and scans every order of the tenant to
    // find the taken external ids (50 ms at 100k orders, growing) instead of
    // probing orders_external_id_key (1 ms).
    tx.exec("ANALYZE erp_stage_orders, erp_stage_lines");
    auto existing = [&](const pqxx::result& res) {
      for (const auto& row : res) {
        app::IngestRowResult x;
        x.index = row[0].as<int>();
        x.external_id = by_index.at(x.index)->order.external_id;
        x.outcome = app::IngestOutcome::kAlreadyExists;
        x.order_id = row[1].as<std::string>();
        results.push_back(std::move(x));
      }
    };
    existing(pool_.Exec(tx, kErpTakeExisting, t));
    for (const auto& row : pool_.Exec(tx, kErpTakeUnknownSkus, t)) {
      app::IngestRowResult x;
      x.index = row[0].as<int>();
      x.external_id = by_index.at(x.index)->order.external_id;
      x.outcome = app::IngestOutcome::kRejected;
      x.field = absl::StrCat("lines[", row[1].as<int>(), "].sku");
      x.reason = "UNKNOWN_SKU";
      x.message = absl::StrCat(x.field, " \"", row[2].as<std::string>(),
                               "\" is not in the catalog; create the product first");
      results.push_back(std::move(x));
    }
    const size_t decided = results.size();
    if (decided < rows.size()) {
      pqxx::result created =
          pool_.Exec(tx, kErpInsertOrders, t, meta.principal, meta.method, meta.request_id);
      for (const auto& row : created) {
        app::IngestRowResult x;
        x.index = row[0].as<int>();
        x.external_id = by_index.at(x.index)->order.external_id;
        x.outcome = app::IngestOutcome::kCreated;
        x.order_id = row[1].as<std::string>();
        results.push_back(std::move(x));
      }
      if (decided + created.size() < rows.size()) {
        existing(pool_.Exec(tx, kErpSelectExisting, t));
      }
    }
    if (results.size() != rows.size()) {
      return absl::AbortedError("orders changed while the batch ran; send the batch again");
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return results;
}

absl::StatusOr<app::ExportPage> PgErpRepository::ExportChanges(const std::string& tenant,
                                                               const std::string& cursor,
                                                               int limit) {
  std::string xid = "0";
  int64_t seq = 0;
  if (!cursor.empty()) {
    std::vector<std::string> parts = absl::StrSplit(cursor, '.');
    uint64_t x = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &x) ||
        !absl::SimpleAtoi(parts[1], &seq) || seq < 0) {
      return BadCursor();
    }
    xid = absl::StrCat(x);
  }
  app::ExportPage page;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    page = app::ExportPage{};
    pqxx::result r = pool_.Exec(tx, kErpExportChanges, tenant, xid, seq, limit + 1);
    page.caught_up = static_cast<int>(r.size()) <= limit;
    for (const auto& row : r) {
      if (static_cast<int>(page.orders.size()) == limit) break;
      domain::Order o = OrderFromRow(row);
      try {
        for (const auto& l : nlohmann::json::parse(row[kLines].as<std::string>())) {
          domain::OrderLine line;
          line.sku = l.at(0).get<std::string>();
          line.quantity = l.at(1).get<int64_t>();
          line.unit_price_minor = l.at(2).get<int64_t>();
          line.discount_minor = l.at(3).get<int64_t>();
          line.returned_quantity = l.at(4).get<int64_t>();
          line.line_total_minor = domain::LineTotalMinor(line);
          o.lines.push_back(std::move(line));
        }
      } catch (const nlohmann::json::exception&) {
        return absl::DataLossError("order lines could not be read");
      }
      page.next_cursor =
          absl::StrCat(row[kChangeXid].as<std::string>(), ".", row[kChangeSeq].as<int64_t>());
      page.orders.push_back(std::move(o));
    }
    if (page.caught_up) {
      // Committed changes after the cursor that a transaction still in
      // progress holds back: not caught up, but nothing to send now either.
      page.held_back = pool_.Exec(tx, kErpExportHeldBack, tenant, xid, seq)[0][0].as<bool>();
      if (page.held_back) page.caught_up = false;
    }
    return absl::OkStatus();
  }));
  return page;
}

}  // namespace crm::transaction::storage

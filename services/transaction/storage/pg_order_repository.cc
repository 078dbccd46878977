#include "services/transaction/storage/pg_order_repository.h"

#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"
#include "services/transaction/storage/order_event.h"
#include "services/transaction/storage/order_row.h"

namespace crm::transaction::storage {
namespace {

absl::Status NotFound() { return common::NotFound("ORDER_NOT_FOUND", "order not found"); }

// The answer of a call, stored with its idempotency key.
std::string SnapshotOf(const domain::Order& o) {
  nlohmann::json lines = nlohmann::json::array();
  for (const auto& l : o.lines) {
    lines.push_back({{"sku", l.sku},
                     {"q", absl::StrCat(l.quantity)},
                     {"p", absl::StrCat(l.unit_price_minor)},
                     {"d", absl::StrCat(l.discount_minor)},
                     {"t", absl::StrCat(l.line_total_minor)},
                     {"r", absl::StrCat(l.returned_quantity)},
                     {"pq", l.price_quote_id}});
  }
  return nlohmann::json{{"id", o.id},
                        {"customer_id", o.customer_id},
                        {"currency", o.currency_code},
                        {"total", absl::StrCat(o.total_minor)},
                        {"channel", static_cast<int>(o.channel)},
                        {"store_id", o.store_id},
                        {"status", static_cast<int>(o.status)},
                        {"placed", absl::StrCat(absl::ToUnixMicros(o.placed_time))},
                        {"version", absl::StrCat(o.version)},
                        {"created", absl::StrCat(absl::ToUnixMicros(o.create_time))},
                        {"updated", absl::StrCat(absl::ToUnixMicros(o.update_time))},
                        {"external_id", o.external_id},
                        {"paid", absl::StrCat(o.paid_minor)},
                        {"returned", absl::StrCat(o.returned_minor)},
                        {"refunded", absl::StrCat(o.refunded_minor)},
                        {"adjusted", absl::StrCat(o.adjusted_minor)},
                        {"lines", lines}}
      .dump();
}

absl::StatusOr<domain::Order> FromSnapshot(const std::string& s) {
  bool numbers_ok = true;
  auto i64 = [&numbers_ok](const nlohmann::json& j, const char* k) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(j.at(k).get<std::string>(), &v)) numbers_ok = false;
    return v;
  };
  // Keys added later (snapshots written before them lack them).
  auto opt64 = [&](const nlohmann::json& j, const char* k) -> int64_t {
    return j.contains(k) ? i64(j, k) : 0;
  };
  try {
    nlohmann::json j = nlohmann::json::parse(s);
    domain::Order o;
    o.id = j.at("id").get<std::string>();
    o.customer_id = j.at("customer_id").get<std::string>();
    o.currency_code = j.at("currency").get<std::string>();
    o.total_minor = i64(j, "total");
    o.channel = static_cast<domain::SalesChannel>(j.at("channel").get<int>());
    o.store_id = j.at("store_id").get<std::string>();
    o.status = static_cast<domain::OrderStatus>(j.at("status").get<int>());
    o.placed_time = absl::FromUnixMicros(i64(j, "placed"));
    o.version = i64(j, "version");
    o.create_time = absl::FromUnixMicros(i64(j, "created"));
    o.update_time = absl::FromUnixMicros(i64(j, "updated"));
    o.external_id = j.value("external_id", std::string());
    o.paid_minor = opt64(j, "paid");
    o.returned_minor = opt64(j, "returned");
    o.refunded_minor = opt64(j, "refunded");
    o.adjusted_minor = opt64(j, "adjusted");
    for (const auto& l : j.at("lines")) {
      o.lines.push_back({l.at("sku").get<std::string>(), i64(l, "q"), i64(l, "p"), i64(l, "d"),
                         i64(l, "t"), opt64(l, "r"), "", l.value("pq", std::string())});
    }
    if (!numbers_ok) return absl::DataLossError("stored idempotent response is corrupt");
    return o;
  } catch (const nlohmann::json::exception&) {
    return absl::DataLossError("stored idempotent response is corrupt");
  }
}

std::string Cursor(const domain::Order& o) {
  return absl::StrCat(absl::ToUnixMicros(o.placed_time), "|", o.id);
}

// How each write's answer is kept with its idempotency key (libs/outbox/unit_of_work.h).
const outbox::AnswerCodec<domain::Order> kOrderAnswer = outbox::SnapshotCodec<domain::Order>(
    [](const domain::Order& v) { return SnapshotOf(v); },
    [](const std::string& stored) { return FromSnapshot(stored); });

// The orders' queries (libs/pg/pool.h: typed, their columns checked at
// start-up); payments, returns, refunds and settings: pg_order_money.cc.
const std::string kSelectOrderSql =
    absl::StrCat("SELECT ", OrderColumns(), " FROM txn.orders WHERE tenant_id = $1 AND id = $2");
const pg::NamedQuery kSelectOrder{"select_order", kSelectOrderSql, kOrderColumnCount};
const pg::NamedQuery kSelectOrderForUpdate{"select_order_for_update",
                                           kSelectOrderSql + " FOR UPDATE", kOrderColumnCount};
const pg::NamedQuery kSelectOrderLines{
    "select_order_lines",
    "SELECT order_id::text, sku, quantity, unit_price_minor, discount_minor, "
    "returned_quantity, coalesce(price_quote_id::text, '') FROM "
    "txn.order_lines WHERE tenant_id = $1 AND order_id = ANY($2::uuid[]) "
    "ORDER BY order_id, line_no",
    7};
const pg::NamedQuery kSelectKnownSkus{
    "select_known_skus",
    "SELECT sku FROM txn.products WHERE tenant_id = $1 AND sku = ANY($2::text[])", 1};
const pg::NamedQuery kInsertOrder{
    "insert_order",
    absl::StrCat("INSERT INTO txn.orders (tenant_id, id, customer_id, currency, total_minor, "
                 "channel, store_id, status, placed_at, version, created_at, updated_at, "
                 "external_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ",
                 pg::MicrosParam(9), ", $10, ", pg::MicrosParam(11), ", ", pg::MicrosParam(11),
                 ", $12)"),
    0};
// external_id <> '' lets the prepared (generic) plan use the partial
// unique index orders_external_id_key (WHERE external_id <> ''); only
// asked for a non-empty id.
const pg::NamedQuery kSelectOrderByExternalId{
    "select_order_by_external_id",
    "SELECT id::text FROM txn.orders WHERE tenant_id = $1 AND external_id = $2 AND "
    "external_id <> ''",
    1};
// Every line of an order in one statement (arrays by column, in line order).
const pg::NamedQuery kInsertOrderLines{
    "insert_order_lines",
    "INSERT INTO txn.order_lines (tenant_id, order_id, line_no, sku, quantity, "
    "unit_price_minor, discount_minor, price_quote_id) SELECT $1::uuid, $2::uuid, l.line_no, "
    "l.sku, l.quantity, l.price, l.discount, nullif(l.quote, '')::uuid FROM unnest($3::int4[], "
    "$4::text[], $5::int8[], $6::int8[], $7::int8[], $8::text[]) AS l(line_no, sku, quantity, "
    "price, discount, quote)",
    0};
// Every field a write may change of a loaded order (SaveOrder).
const pg::NamedQuery kSaveOrder{
    "save_order",
    absl::StrCat(
        "UPDATE txn.orders SET status = $3, version = $4, updated_at = ", pg::MicrosParam(5),
        ", paid_minor = $6, returned_minor = $7, refunded_minor = $8, "
        "adjusted_minor = $9 WHERE tenant_id = $1 AND id = $2"),
    0};
const pg::NamedQuery kListOrders{
    "list_orders",
    absl::StrCat("SELECT ", OrderColumns(),
                 " FROM txn.orders WHERE tenant_id = $1 AND ($2 = '' OR customer_id = "
                 "nullif($2, '')::uuid) AND ($3::int2 = 0 OR status = $3) AND (placed_at, id) "
                 "< (",
                 pg::MicrosParam(4), ", $5::uuid) ORDER BY placed_at DESC, id DESC LIMIT $6"),
    kOrderColumnCount};

}  // namespace

std::vector<pg::NamedQuery> PgOrderRepository::Queries() {
  std::vector<pg::NamedQuery> queries = MoneyQueries();
  std::vector<pg::NamedQuery> own = {
      kSelectOrder, kSelectOrderForUpdate,    kSelectOrderLines, kSelectKnownSkus,
      kInsertOrder, kSelectOrderByExternalId, kInsertOrderLines, kSaveOrder,
      kListOrders};
  queries.insert(queries.end(), own.begin(), own.end());
  return queries;
}

absl::Status PgOrderRepository::LoadLines(pqxx::work& tx, const std::string& tenant,
                                          std::vector<domain::Order*> orders) {
  if (orders.empty()) return absl::OkStatus();
  std::map<std::string, domain::Order*> by_id;
  std::vector<std::string> ids;
  for (domain::Order* o : orders) {
    o->lines.clear();
    by_id[o->id] = o;
    ids.push_back(o->id);
  }
  for (const auto& r : pool_.Exec(tx, kSelectOrderLines, tenant, pg::TextArrayLiteral(ids))) {
    auto it = by_id.find(r[0].as<std::string>());
    if (it == by_id.end()) continue;
    domain::OrderLine l;
    l.sku = r[1].as<std::string>();
    l.quantity = r[2].as<int64_t>();
    l.unit_price_minor = r[3].as<int64_t>();
    l.discount_minor = r[4].as<int64_t>();
    l.line_total_minor = domain::LineTotalMinor(l);
    l.returned_quantity = r[5].as<int64_t>();
    l.price_quote_id = r[6].as<std::string>();
    it->second->lines.push_back(std::move(l));
  }
  return absl::OkStatus();
}

absl::StatusOr<domain::Order> PgOrderRepository::Load(pqxx::work& tx, const std::string& tenant,
                                                      const std::string& id, bool for_update) {
  pqxx::result r = pool_.Exec(tx, for_update ? kSelectOrderForUpdate : kSelectOrder, tenant, id);
  if (r.empty()) return NotFound();
  domain::Order o = OrderFromRow(r[0]);
  CRM_RETURN_IF_ERROR(LoadLines(tx, tenant, {&o}));
  return o;
}

// ---- PgOrderRepository::Tx: orders (money: pg_order_money.cc) ----

absl::StatusOr<domain::Order> PgOrderRepository::Tx::LoadOrder(const std::string& id) {
  return repo_.Load(w_.sql(), w_.tenant(), id, true);
}

std::set<std::string> PgOrderRepository::Tx::KnownSkus(const std::vector<std::string>& skus) {
  std::set<std::string> known;
  for (const auto& r :
       repo_.pool_.Exec(w_.sql(), kSelectKnownSkus, w_.tenant(), pg::TextArrayLiteral(skus))) {
    known.insert(r[0].as<std::string>());
  }
  return known;
}

std::optional<std::string> PgOrderRepository::Tx::OrderWithExternalId(
    const std::string& external_id) {
  pqxx::result r = repo_.pool_.Exec(w_.sql(), kSelectOrderByExternalId, w_.tenant(), external_id);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::string>();
}

void PgOrderRepository::Tx::SaveOrder(const domain::Order& o, bool is_new) {
  if (!is_new) {
    repo_.pool_.Exec(w_.sql(), kSaveOrder, w_.tenant(), o.id, static_cast<int>(o.status), o.version,
                     absl::ToUnixMicros(o.update_time), o.paid_minor, o.returned_minor,
                     o.refunded_minor, o.adjusted_minor);
    return;
  }
  repo_.pool_.Exec(w_.sql(), kInsertOrder, w_.tenant(), o.id, o.customer_id, o.currency_code,
                   o.total_minor, static_cast<int>(o.channel), o.store_id,
                   static_cast<int>(o.status), absl::ToUnixMicros(o.placed_time), o.version,
                   absl::ToUnixMicros(o.create_time), o.external_id);
  if (o.lines.empty()) return;
  std::vector<std::string> line_no, sku, quantity, price, discount, quote;
  for (size_t i = 0; i < o.lines.size(); ++i) {
    const domain::OrderLine& l = o.lines[i];
    line_no.push_back(absl::StrCat(i));
    sku.push_back(l.sku);
    quantity.push_back(absl::StrCat(l.quantity));
    price.push_back(absl::StrCat(l.unit_price_minor));
    discount.push_back(absl::StrCat(l.discount_minor));
    quote.push_back(l.price_quote_id);
  }
  auto ints = [](const std::vector<std::string>& v) {
    return absl::StrCat("{", absl::StrJoin(v, ","), "}");
  };
  repo_.pool_.Exec(w_.sql(), kInsertOrderLines, w_.tenant(), o.id, ints(line_no),
                   pg::TextArrayLiteral(sku), ints(quantity), ints(price), ints(discount),
                   pg::TextArrayLiteral(quote));
}

void PgOrderRepository::Tx::EmitOrder(const std::string& type, const domain::Order& o) {
  w_.Emit(o.customer_id, type, OrderEventPayload(o));
}

std::unique_ptr<app::OrderTx> PgOrderRepository::TxOf(const outbox::WriteTx& w) {
  return std::make_unique<Tx>(*this, w);
}

absl::StatusOr<domain::Order> PgOrderRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Order>(app::OrderTx&)> work) {
  return RunTx(meta, resource, kOrderAnswer, work);
}

absl::StatusOr<std::optional<domain::Order>> PgOrderRepository::FindReplay(
    const app::Actor& actor) {
  CRM_ASSIGN_OR_RETURN(std::optional<std::string> stored, writer_.FindStoredResponse(actor));
  if (!stored) return std::optional<domain::Order>();
  CRM_ASSIGN_OR_RETURN(domain::Order o, FromSnapshot(*stored));
  return std::optional<domain::Order>(std::move(o));
}

absl::StatusOr<domain::Order> PgOrderRepository::Get(const std::string& tenant,
                                                     const std::string& id) {
  domain::Order out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(out, Load(tx, tenant, id, false));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::OrderPage> PgOrderRepository::List(const std::string& tenant,
                                                       const app::OrderQuery& q) {
  int64_t before_micros = std::numeric_limits<int64_t>::max() / 2;
  std::string before_id = "ffffffff-ffff-ffff-ffff-ffffffffffff";
  if (!q.before_cursor.empty()) {
    std::vector<std::string> parts = absl::StrSplit(q.before_cursor, '|');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &before_micros) ||
        !common::IsUuid(parts[1])) {
      return common::WithReason(absl::InvalidArgumentError("page_token is invalid"),
                                "INVALID_PAGE_TOKEN");
    }
    before_id = parts[1];
  }
  app::OrderPage page;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    page = app::OrderPage{};
    pqxx::result r = pool_.Exec(tx, kListOrders, tenant, q.customer_id, static_cast<int>(q.status),
                                before_micros, before_id, q.limit + 1);
    for (const auto& row : r) {
      if (static_cast<int>(page.items.size()) == q.limit) break;
      page.items.push_back(OrderFromRow(row));
    }
    std::vector<domain::Order*> ptrs;
    for (auto& o : page.items) ptrs.push_back(&o);
    CRM_RETURN_IF_ERROR(LoadLines(tx, tenant, ptrs));
    if (static_cast<int>(r.size()) > q.limit) page.next_cursor = Cursor(page.items.back());
    return absl::OkStatus();
  }));
  return page;
}

}  // namespace crm::transaction::storage

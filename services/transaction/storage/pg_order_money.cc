// Payments, returns, refunds and the tenant's order settings (PgOrderRepository).
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"
#include "services/transaction/domain/order_money.h"
#include "services/transaction/storage/order_event.h"
#include "services/transaction/storage/pg_order_repository.h"

namespace crm::transaction::storage {
namespace {

absl::Status Corrupt() { return absl::DataLossError("stored idempotent response is corrupt"); }

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// ---- snapshots of first answers (strict replay) ----
std::string Str(int64_t v) { return absl::StrCat(v); }
bool I64(const nlohmann::json& j, const char* k, int64_t* out) {
  return j.contains(k) && j.at(k).is_string() && absl::SimpleAtoi(j.at(k).get<std::string>(), out);
}

std::string SnapshotOf(const domain::Payment& p) {
  return nlohmann::json{{"id", p.id},
                        {"order_id", p.order_id},
                        {"amount", Str(p.amount_minor)},
                        {"method", static_cast<int>(p.method)},
                        {"status", static_cast<int>(p.status)},
                        {"provider_ref", p.provider_ref},
                        {"version", Str(p.version)},
                        {"created", Str(Micros(p.create_time))},
                        {"updated", Str(Micros(p.update_time))}}
      .dump();
}

absl::StatusOr<domain::Payment> PaymentFromSnapshot(const std::string& s) {
  try {
    nlohmann::json j = nlohmann::json::parse(s);
    domain::Payment p;
    int64_t created = 0, updated = 0;
    p.id = j.at("id").get<std::string>();
    p.order_id = j.at("order_id").get<std::string>();
    p.method = static_cast<domain::PaymentMethod>(j.at("method").get<int>());
    p.status = static_cast<domain::PaymentStatus>(j.at("status").get<int>());
    p.provider_ref = j.at("provider_ref").get<std::string>();
    if (!I64(j, "amount", &p.amount_minor) || !I64(j, "version", &p.version) ||
        !I64(j, "created", &created) || !I64(j, "updated", &updated)) {
      return Corrupt();
    }
    p.create_time = absl::FromUnixMicros(created);
    p.update_time = absl::FromUnixMicros(updated);
    return p;
  } catch (const nlohmann::json::exception&) {
    return Corrupt();
  }
}

std::string SnapshotOf(const domain::Return& r) {
  nlohmann::json lines = nlohmann::json::array();
  for (const auto& l : r.lines) {
    lines.push_back({{"line_no", l.line_no},
                     {"sku", l.sku},
                     {"q", Str(l.quantity)},
                     {"amount", Str(l.amount_minor)}});
  }
  return nlohmann::json{{"id", r.id},
                        {"order_id", r.order_id},
                        {"amount", Str(r.amount_minor)},
                        {"reason", r.reason},
                        {"created", Str(Micros(r.create_time))},
                        {"lines", lines}}
      .dump();
}

absl::StatusOr<domain::Return> ReturnFromSnapshot(const std::string& s) {
  try {
    nlohmann::json j = nlohmann::json::parse(s);
    domain::Return r;
    int64_t created = 0;
    r.id = j.at("id").get<std::string>();
    r.order_id = j.at("order_id").get<std::string>();
    r.reason = j.at("reason").get<std::string>();
    if (!I64(j, "amount", &r.amount_minor) || !I64(j, "created", &created)) return Corrupt();
    r.create_time = absl::FromUnixMicros(created);
    for (const auto& l : j.at("lines")) {
      domain::ReturnLine line;
      line.line_no = l.at("line_no").get<int>();
      line.sku = l.at("sku").get<std::string>();
      if (!I64(l, "q", &line.quantity) || !I64(l, "amount", &line.amount_minor)) return Corrupt();
      r.lines.push_back(std::move(line));
    }
    return r;
  } catch (const nlohmann::json::exception&) {
    return Corrupt();
  }
}

std::string SnapshotOf(const domain::Refund& r) {
  return nlohmann::json{{"id", r.id},
                        {"order_id", r.order_id},
                        {"return_id", r.return_id},
                        {"amount", Str(r.amount_minor)},
                        {"status", static_cast<int>(r.status)},
                        {"reason", r.reason},
                        {"version", Str(r.version)},
                        {"created", Str(Micros(r.create_time))},
                        {"updated", Str(Micros(r.update_time))}}
      .dump();
}

absl::StatusOr<domain::Refund> RefundFromSnapshot(const std::string& s) {
  try {
    nlohmann::json j = nlohmann::json::parse(s);
    domain::Refund r;
    int64_t created = 0, updated = 0;
    r.id = j.at("id").get<std::string>();
    r.order_id = j.at("order_id").get<std::string>();
    r.return_id = j.at("return_id").get<std::string>();
    r.status = static_cast<domain::RefundStatus>(j.at("status").get<int>());
    r.reason = j.at("reason").get<std::string>();
    if (!I64(j, "amount", &r.amount_minor) || !I64(j, "version", &r.version) ||
        !I64(j, "created", &created) || !I64(j, "updated", &updated)) {
      return Corrupt();
    }
    r.create_time = absl::FromUnixMicros(created);
    r.update_time = absl::FromUnixMicros(updated);
    return r;
  } catch (const nlohmann::json::exception&) {
    return Corrupt();
  }
}

// ---- rows ----
const char kPaymentColumns[] =
    "id::text, order_id::text, amount_minor, method, status, provider_ref, version, "
    "(extract(epoch from created_at) * 1000000)::bigint, "
    "(extract(epoch from updated_at) * 1000000)::bigint";
const char kRefundColumns[] =
    "id::text, order_id::text, coalesce(return_id::text, ''), amount_minor, status, reason, "
    "version, (extract(epoch from created_at) * 1000000)::bigint, "
    "(extract(epoch from updated_at) * 1000000)::bigint";

domain::Payment PaymentFromRow(const pqxx::row& r) {
  domain::Payment p;
  p.id = r[0].as<std::string>();
  p.order_id = r[1].as<std::string>();
  p.amount_minor = r[2].as<int64_t>();
  p.method = static_cast<domain::PaymentMethod>(r[3].as<int>());
  p.status = static_cast<domain::PaymentStatus>(r[4].as<int>());
  p.provider_ref = r[5].as<std::string>();
  p.version = r[6].as<int64_t>();
  p.create_time = absl::FromUnixMicros(r[7].as<int64_t>());
  p.update_time = absl::FromUnixMicros(r[8].as<int64_t>());
  return p;
}

domain::Refund RefundFromRow(const pqxx::row& r) {
  domain::Refund f;
  f.id = r[0].as<std::string>();
  f.order_id = r[1].as<std::string>();
  f.return_id = r[2].as<std::string>();
  f.amount_minor = r[3].as<int64_t>();
  f.status = static_cast<domain::RefundStatus>(r[4].as<int>());
  f.reason = r[5].as<std::string>();
  f.version = r[6].as<int64_t>();
  f.create_time = absl::FromUnixMicros(r[7].as<int64_t>());
  f.update_time = absl::FromUnixMicros(r[8].as<int64_t>());
  return f;
}

absl::Status RecordNotFound(const char* what, const char* reason) {
  return common::NotFound(reason, absl::StrCat(what, " not found"));
}

// How each write's answer is kept with its idempotency key (libs/outbox/unit_of_work.h).
const outbox::AnswerCodec<domain::Payment> kPaymentAnswer = outbox::SnapshotCodec<domain::Payment>(
    [](const domain::Payment& v) { return SnapshotOf(v); },
    [](const std::string& stored) { return PaymentFromSnapshot(stored); });

const outbox::AnswerCodec<domain::Return> kReturnAnswer = outbox::SnapshotCodec<domain::Return>(
    [](const domain::Return& v) { return SnapshotOf(v); },
    [](const std::string& stored) { return ReturnFromSnapshot(stored); });

const outbox::AnswerCodec<domain::Refund> kRefundAnswer = outbox::SnapshotCodec<domain::Refund>(
    [](const domain::Refund& v) { return SnapshotOf(v); },
    [](const std::string& stored) { return RefundFromSnapshot(stored); });

// ---- queries (libs/pg/pool.h: typed, their columns checked at start-up)
const pg::NamedQuery kUpdateOrderMoney{
    "update_order_money",
    absl::StrCat(
        "UPDATE txn.orders SET status = $3, version = $4, updated_at = ", pg::MicrosParam(5),
        ", paid_minor = $6, returned_minor = $7, refunded_minor = $8, "
        "adjusted_minor = $9 WHERE tenant_id = $1 AND id = $2"),
    0};
const pg::NamedQuery kInsertPayment{
    "insert_payment",
    absl::StrCat("INSERT INTO txn.payments (tenant_id, id, order_id, amount_minor, method, "
                 "status, provider_ref, version, created_at, updated_at) VALUES ($1, $2, $3, "
                 "$4, $5, $6, $7, $9, ",
                 pg::MicrosParam(8), ", ", pg::MicrosParam(8), ")"),
    0};
const pg::NamedQuery kSelectPaymentForUpdate{
    "select_payment_for_update",
    absl::StrCat("SELECT ", kPaymentColumns,
                 " FROM txn.payments WHERE tenant_id = $1 AND order_id = $2 AND id = $3 "
                 "FOR UPDATE"),
    9};
const pg::NamedQuery kUpdatePaymentStatus{
    "update_payment_status",
    absl::StrCat("UPDATE txn.payments SET status = $3, version = $5, updated_at = ",
                 pg::MicrosParam(4), " WHERE tenant_id = $1 AND id = $2"),
    0};
const pg::NamedQuery kListPayments{
    "list_payments",
    absl::StrCat("SELECT ", kPaymentColumns,
                 " FROM txn.payments WHERE tenant_id = $1 AND order_id = $2 "
                 "ORDER BY created_at, id"),
    9};
const pg::NamedQuery kInsertReturn{
    "insert_return",
    absl::StrCat("INSERT INTO txn.returns (tenant_id, id, order_id, amount_minor, reason, "
                 "created_at) VALUES ($1, $2, $3, $4, $5, ",
                 pg::MicrosParam(6), ")"),
    0};
const pg::NamedQuery kInsertReturnLine{
    "insert_return_line",
    "INSERT INTO txn.return_lines (tenant_id, return_id, line_no, sku, quantity, "
    "amount_minor) VALUES ($1, $2, $3, $4, $5, $6)",
    0};
const pg::NamedQuery kUpdateLineReturned{
    "update_line_returned",
    "UPDATE txn.order_lines SET returned_quantity = $4 WHERE tenant_id = $1 AND order_id = $2 "
    "AND line_no = $3",
    0};
const pg::NamedQuery kListReturns{
    "list_returns",
    "SELECT id::text, amount_minor, reason, (extract(epoch from created_at) * "
    "1000000)::bigint FROM txn.returns WHERE tenant_id = $1 AND order_id = $2 ORDER BY "
    "created_at, id",
    4};
const pg::NamedQuery kListReturnLines{
    "list_return_lines",
    "SELECT l.return_id::text, l.line_no, l.sku, l.quantity, l.amount_minor FROM "
    "txn.return_lines l JOIN txn.returns r ON r.tenant_id = l.tenant_id AND r.id = "
    "l.return_id WHERE r.tenant_id = $1 AND r.order_id = $2 ORDER BY l.return_id, l.line_no",
    5};
const pg::NamedQuery kInsertRefund{
    "insert_refund",
    absl::StrCat("INSERT INTO txn.refunds (tenant_id, id, order_id, return_id, amount_minor, "
                 "status, reason, version, created_at, updated_at) VALUES ($1, $2, $3, "
                 "nullif($4, '')::uuid, $5, $6, $7, $9, ",
                 pg::MicrosParam(8), ", ", pg::MicrosParam(8), ")"),
    0};
const pg::NamedQuery kSelectRefundForUpdate{
    "select_refund_for_update",
    absl::StrCat("SELECT ", kRefundColumns,
                 " FROM txn.refunds WHERE tenant_id = $1 AND order_id = $2 AND id = $3 "
                 "FOR UPDATE"),
    9};
const pg::NamedQuery kUpdateRefundStatus{
    "update_refund_status",
    absl::StrCat("UPDATE txn.refunds SET status = $3, version = $5, updated_at = ",
                 pg::MicrosParam(4), " WHERE tenant_id = $1 AND id = $2"),
    0};
const pg::NamedQuery kListRefunds{
    "list_refunds",
    absl::StrCat("SELECT ", kRefundColumns,
                 " FROM txn.refunds WHERE tenant_id = $1 AND order_id = $2 "
                 "ORDER BY created_at, id"),
    9};
const pg::NamedQuery kSelectOrderSettings{
    "select_order_settings",
    "SELECT create_unknown_customers, version, (extract(epoch from updated_at) * "
    "1000000)::bigint FROM txn.order_settings WHERE tenant_id = $1",
    3};
// Locks the row (when there is one) so the etag check and the write
// are atomic.
const pg::NamedQuery kSelectOrderSettingsForUpdate{
    "select_order_settings_for_update",
    "SELECT create_unknown_customers, version FROM txn.order_settings WHERE tenant_id = $1 "
    "FOR UPDATE",
    2};
// Writes only over the version read ($3 - 1): a concurrent first write
// (no row to lock yet) makes it return no row instead of writing the
// same version twice.
const pg::NamedQuery kUpsertOrderSettings{
    "upsert_order_settings",
    absl::StrCat("INSERT INTO txn.order_settings (tenant_id, create_unknown_customers, "
                 "version, updated_at) VALUES ($1, $2, $3, ",
                 pg::MicrosParam(4),
                 ") ON CONFLICT (tenant_id) DO UPDATE SET create_unknown_customers = "
                 "EXCLUDED.create_unknown_customers, version = EXCLUDED.version, "
                 "updated_at = EXCLUDED.updated_at WHERE txn.order_settings.version = "
                 "EXCLUDED.version - 1 RETURNING version"),
    1};

}  // namespace

std::vector<pg::NamedQuery> PgOrderRepository::MoneyQueries() {
  return {
      kUpdateOrderMoney,   kInsertPayment,   kSelectPaymentForUpdate, kUpdatePaymentStatus,
      kListPayments,       kInsertReturn,    kInsertReturnLine,       kUpdateLineReturned,
      kListReturns,        kListReturnLines, kInsertRefund,           kSelectRefundForUpdate,
      kUpdateRefundStatus, kListRefunds,     kSelectOrderSettings,    kSelectOrderSettingsForUpdate,
      kUpsertOrderSettings};
}

void PgOrderRepository::SaveOrderMoney(pqxx::work& tx, const outbox::WriteMeta& meta,
                                       domain::Order& o, domain::OrderStatus before,
                                       absl::Time now) {
  std::string event = domain::ApplyOrderChange(o, before, now);
  pool_.Exec(tx, kUpdateOrderMoney, meta.tenant_id, o.id, static_cast<int>(o.status), o.version,
             Micros(o.update_time), o.paid_minor, o.returned_minor, o.refunded_minor,
             o.adjusted_minor);
  writer_.Emit(tx, meta, o.customer_id, event, OrderEventPayload(o));
}

std::vector<domain::Return> PgOrderRepository::LoadReturns(pqxx::work& tx,
                                                           const std::string& tenant,
                                                           const std::string& order_id) {
  std::vector<domain::Return> out;
  for (const auto& r : pool_.Exec(tx, kListReturns, tenant, order_id)) {
    domain::Return ret;
    ret.id = r[0].as<std::string>();
    ret.order_id = order_id;
    ret.amount_minor = r[1].as<int64_t>();
    ret.reason = r[2].as<std::string>();
    ret.create_time = absl::FromUnixMicros(r[3].as<int64_t>());
    out.push_back(std::move(ret));
  }
  return out;
}

void PgOrderRepository::EmitPayment(pqxx::work& tx, const outbox::WriteMeta& meta,
                                    const domain::Order& o, const domain::Payment& p) {
  writer_.Emit(tx, meta, o.customer_id, absl::StrCat("payment.", domain::PaymentStatusName(p.status)),
               nlohmann::json{{"payment_id", p.id},
                              {"order_id", o.id},
                              {"customer_id", o.customer_id},
                              {"amount_minor", Str(p.amount_minor)},
                              {"currency_code", o.currency_code},
                              {"method", static_cast<int>(p.method)},
                              {"status", domain::PaymentStatusName(p.status)},
                              {"version", p.version}}
                   .dump());
}

void PgOrderRepository::EmitRefund(pqxx::work& tx, const outbox::WriteMeta& meta,
                                   const domain::Order& o, const domain::Refund& r) {
  writer_.Emit(tx, meta, o.customer_id, absl::StrCat("refund.", domain::RefundStatusName(r.status)),
               nlohmann::json{{"refund_id", r.id},
                              {"order_id", o.id},
                              {"return_id", r.return_id},
                              {"customer_id", o.customer_id},
                              {"amount_minor", Str(r.amount_minor)},
                              {"currency_code", o.currency_code},
                              {"status", domain::RefundStatusName(r.status)},
                              {"version", r.version}}
                   .dump());
}

absl::StatusOr<domain::Payment> PgOrderRepository::RecordPayment(const app::Actor& actor,
                                                                 const domain::Payment& p) {
  outbox::WriteMeta meta = actor;
  return outbox::WriteOnce<domain::Payment>(
      writer_, meta, p.id, kPaymentAnswer,
      [&](const outbox::WriteTx& w) -> absl::StatusOr<domain::Payment> {
        pqxx::work& tx = w.sql();
        CRM_ASSIGN_OR_RETURN(domain::Order o, Load(tx, actor.tenant_id, p.order_id, true));
        const domain::OrderStatus before = o.status;
        CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyNewPayment(o, p));
        if (changed) SaveOrderMoney(tx, meta, o, before, p.create_time);
        pool_.Exec(tx, kInsertPayment, actor.tenant_id, p.id, p.order_id, p.amount_minor,
                   static_cast<int>(p.method), static_cast<int>(p.status), p.provider_ref,
                   Micros(p.create_time), p.version);
        EmitPayment(tx, meta, o, p);
        return p;
      });
}

absl::StatusOr<domain::Payment> PgOrderRepository::UpdatePaymentStatus(
    const app::Actor& actor, const std::string& order_id, const std::string& payment_id,
    domain::PaymentStatus to, absl::Time now) {
  outbox::WriteMeta meta = actor;
  return outbox::WriteOnce<domain::Payment>(
      writer_, meta, payment_id, kPaymentAnswer,
      [&](const outbox::WriteTx& w) -> absl::StatusOr<domain::Payment> {
        pqxx::work& tx = w.sql();
        // Order first, then payment: the same lock order as RecordPayment.
        CRM_ASSIGN_OR_RETURN(domain::Order o, Load(tx, actor.tenant_id, order_id, true));
        const domain::OrderStatus before = o.status;
        pqxx::result r =
            pool_.Exec(tx, kSelectPaymentForUpdate, actor.tenant_id, order_id, payment_id);
        if (r.empty()) return RecordNotFound("payment", "PAYMENT_NOT_FOUND");
        domain::Payment p = PaymentFromRow(r[0]);
        CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyPaymentStatus(o, p, to, now));
        if (changed) SaveOrderMoney(tx, meta, o, before, now);
        pool_.Exec(tx, kUpdatePaymentStatus, actor.tenant_id, payment_id, static_cast<int>(to),
                   Micros(p.update_time), p.version);
        EmitPayment(tx, meta, o, p);
        return p;
      });
}

absl::StatusOr<std::vector<domain::Payment>> PgOrderRepository::ListPayments(
    const std::string& tenant, const std::string& order_id) {
  std::vector<domain::Payment> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    CRM_RETURN_IF_ERROR(Load(tx, tenant, order_id, false).status());
    for (const auto& r : pool_.Exec(tx, kListPayments, tenant, order_id)) {
      out.push_back(PaymentFromRow(r));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<domain::Return> PgOrderRepository::CreateReturn(
    const app::Actor& actor, const domain::Return& in,
    const std::vector<domain::ReturnLineRequest>& lines) {
  outbox::WriteMeta meta = actor;
  return outbox::WriteOnce<domain::Return>(
      writer_, meta, in.id, kReturnAnswer,
      [&](const outbox::WriteTx& w) -> absl::StatusOr<domain::Return> {
        pqxx::work& tx = w.sql();
        domain::Return out = in;
        CRM_ASSIGN_OR_RETURN(domain::Order o, Load(tx, actor.tenant_id, in.order_id, true));
        const domain::OrderStatus before = o.status;
        CRM_RETURN_IF_ERROR(domain::ApplyNewReturn(o, out, lines));
        pool_.Exec(tx, kInsertReturn, actor.tenant_id, out.id, o.id, out.amount_minor, out.reason,
                   Micros(out.create_time));
        nlohmann::json event_lines = nlohmann::json::array();
        for (const auto& l : out.lines) {
          pool_.Exec(tx, kInsertReturnLine, actor.tenant_id, out.id, l.line_no, l.sku, l.quantity,
                     l.amount_minor);
          pool_.Exec(tx, kUpdateLineReturned, actor.tenant_id, o.id, l.line_no,
                     o.lines[l.line_no].returned_quantity);
          event_lines.push_back({{"line_no", l.line_no},
                                 {"sku", l.sku},
                                 {"quantity", l.quantity},
                                 {"amount_minor", Str(l.amount_minor)}});
        }
        writer_.Emit(tx, meta, o.customer_id, "return.created",
                     nlohmann::json{{"return_id", out.id},
                                    {"order_id", o.id},
                                    {"customer_id", o.customer_id},
                                    {"currency_code", o.currency_code},
                                    {"amount_minor", Str(out.amount_minor)},
                                    {"reason", out.reason},
                                    {"lines", event_lines}}
                         .dump());
        SaveOrderMoney(tx, meta, o, before, out.create_time);
        return out;
      });
}

absl::StatusOr<std::vector<domain::Return>> PgOrderRepository::ListReturns(
    const std::string& tenant, const std::string& order_id) {
  std::vector<domain::Return> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    CRM_RETURN_IF_ERROR(Load(tx, tenant, order_id, false).status());
    std::map<std::string, size_t> index;
    for (domain::Return& ret : LoadReturns(tx, tenant, order_id)) {
      index[ret.id] = out.size();
      out.push_back(std::move(ret));
    }
    for (const auto& r : pool_.Exec(tx, kListReturnLines, tenant, order_id)) {
      auto it = index.find(r[0].as<std::string>());
      if (it == index.end()) continue;
      domain::ReturnLine l;
      l.line_no = r[1].as<int>();
      l.sku = r[2].as<std::string>();
      l.quantity = r[3].as<int64_t>();
      l.amount_minor = r[4].as<int64_t>();
      out[it->second].lines.push_back(std::move(l));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<domain::Refund> PgOrderRepository::CreateRefund(const app::Actor& actor,
                                                               const domain::Refund& in) {
  outbox::WriteMeta meta = actor;
  return outbox::WriteOnce<domain::Refund>(
      writer_, meta, in.id, kRefundAnswer,
      [&](const outbox::WriteTx& w) -> absl::StatusOr<domain::Refund> {
        pqxx::work& tx = w.sql();
        CRM_ASSIGN_OR_RETURN(domain::Order o, Load(tx, actor.tenant_id, in.order_id, true));
        const domain::OrderStatus before = o.status;
        // Under the order's row lock: no refund or return of it can come in between.
        std::vector<domain::Refund> refunds;
        for (const auto& r : pool_.Exec(tx, kListRefunds, actor.tenant_id, o.id)) {
          refunds.push_back(RefundFromRow(r));
        }
        CRM_ASSIGN_OR_RETURN(
            bool changed,
            domain::ApplyNewRefund(o, in, refunds, LoadReturns(tx, actor.tenant_id, o.id)));
        pool_.Exec(tx, kInsertRefund, actor.tenant_id, in.id, o.id, in.return_id, in.amount_minor,
                   static_cast<int>(in.status), in.reason, Micros(in.create_time), in.version);
        if (changed) SaveOrderMoney(tx, meta, o, before, in.create_time);
        EmitRefund(tx, meta, o, in);
        return in;
      });
}

absl::StatusOr<domain::Refund> PgOrderRepository::UpdateRefundStatus(
    const app::Actor& actor, const std::string& order_id, const std::string& refund_id,
    domain::RefundStatus to, absl::Time now) {
  outbox::WriteMeta meta = actor;
  return outbox::WriteOnce<domain::Refund>(
      writer_, meta, refund_id, kRefundAnswer,
      [&](const outbox::WriteTx& w) -> absl::StatusOr<domain::Refund> {
        pqxx::work& tx = w.sql();
        CRM_ASSIGN_OR_RETURN(domain::Order o, Load(tx, actor.tenant_id, order_id, true));
        const domain::OrderStatus before = o.status;
        pqxx::result r =
            pool_.Exec(tx, kSelectRefundForUpdate, actor.tenant_id, order_id, refund_id);
        if (r.empty()) return RecordNotFound("refund", "REFUND_NOT_FOUND");
        domain::Refund f = RefundFromRow(r[0]);
        CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyRefundStatus(o, f, to, now));
        pool_.Exec(tx, kUpdateRefundStatus, actor.tenant_id, refund_id, static_cast<int>(to),
                   Micros(f.update_time), f.version);
        if (changed) SaveOrderMoney(tx, meta, o, before, now);
        EmitRefund(tx, meta, o, f);
        return f;
      });
}

absl::StatusOr<std::vector<domain::Refund>> PgOrderRepository::ListRefunds(
    const std::string& tenant, const std::string& order_id) {
  std::vector<domain::Refund> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    CRM_RETURN_IF_ERROR(Load(tx, tenant, order_id, false).status());
    for (const auto& r : pool_.Exec(tx, kListRefunds, tenant, order_id)) {
      out.push_back(RefundFromRow(r));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::OrderSettings> PgOrderRepository::GetSettings(const std::string& tenant) {
  app::OrderSettings out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = app::OrderSettings{};
    pqxx::result r = pool_.Exec(tx, kSelectOrderSettings, tenant);
    if (!r.empty()) {
      out.create_unknown_customers = r[0][0].as<bool>();
      out.version = r[0][1].as<int64_t>();
      out.update_time = absl::FromUnixMicros(r[0][2].as<int64_t>());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::OrderSettings> PgOrderRepository::UpdateSettings(const app::Actor& actor,
                                                             const app::OrderSettings& s,
                                                             const std::string& if_match,
                                                             absl::Time now) {
  outbox::WriteMeta meta = actor;
  meta.idempotency_key.clear();  // settings updates are naturally idempotent
  app::OrderSettings out;
  CRM_RETURN_IF_ERROR(writer_.Write(meta, "order_settings", [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSelectOrderSettingsForUpdate, actor.tenant_id);
    int64_t version = r.empty() ? 0 : r[0][1].as<int64_t>();
    if (!if_match.empty() && if_match != absl::StrCat(version)) {
      return common::WithReason(
          absl::AbortedError(absl::StrCat("the settings changed (etag is now \"", version,
                                          "\"); read them again and retry")),
          "ETAG_MISMATCH");
    }
    out.create_unknown_customers = s.create_unknown_customers;
    out.version = version + 1;
    out.update_time = now;
    if (pool_
            .Exec(tx, kUpsertOrderSettings, actor.tenant_id, out.create_unknown_customers,
                  out.version, Micros(now))
            .empty()) {
      return common::WithReason(
          absl::AbortedError("the settings changed concurrently; read them again and retry"),
          "ETAG_MISMATCH");
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace crm::transaction::storage

// Payments, returns, refunds and the tenant's order settings (PgOrderRepository).
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/pg/sql.h"
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
  return {kInsertPayment,
          kSelectPaymentForUpdate,
          kUpdatePaymentStatus,
          kListPayments,
          kInsertReturn,
          kInsertReturnLine,
          kUpdateLineReturned,
          kListReturns,
          kListReturnLines,
          kInsertRefund,
          kSelectRefundForUpdate,
          kUpdateRefundStatus,
          kListRefunds,
          kSelectOrderSettings,
          kSelectOrderSettingsForUpdate,
          kUpsertOrderSettings};
}

// ---- PgOrderRepository::Tx: payments, returns, refunds ----

absl::StatusOr<domain::Payment> PgOrderRepository::Tx::LoadPayment(const std::string& order_id,
                                                                   const std::string& id) {
  pqxx::result r = repo_.pool_.Exec(w_.sql(), kSelectPaymentForUpdate, w_.tenant(), order_id, id);
  if (r.empty()) return RecordNotFound("payment", "PAYMENT_NOT_FOUND");
  return PaymentFromRow(r[0]);
}

absl::StatusOr<domain::Refund> PgOrderRepository::Tx::LoadRefund(const std::string& order_id,
                                                                 const std::string& id) {
  pqxx::result r = repo_.pool_.Exec(w_.sql(), kSelectRefundForUpdate, w_.tenant(), order_id, id);
  if (r.empty()) return RecordNotFound("refund", "REFUND_NOT_FOUND");
  return RefundFromRow(r[0]);
}

std::vector<domain::Refund> PgOrderRepository::Tx::LoadRefunds(const std::string& order_id) {
  return repo_.LoadRefunds(w_.sql(), w_.tenant(), order_id);
}

std::vector<domain::Return> PgOrderRepository::Tx::LoadReturns(const std::string& order_id) {
  return repo_.LoadReturns(w_.sql(), w_.tenant(), order_id);
}

void PgOrderRepository::Tx::SavePayment(const domain::Payment& p, bool is_new) {
  if (is_new) {
    repo_.pool_.Exec(w_.sql(), kInsertPayment, w_.tenant(), p.id, p.order_id, p.amount_minor,
                     static_cast<int>(p.method), static_cast<int>(p.status), p.provider_ref,
                     Micros(p.create_time), p.version);
    return;
  }
  repo_.pool_.Exec(w_.sql(), kUpdatePaymentStatus, w_.tenant(), p.id, static_cast<int>(p.status),
                   Micros(p.update_time), p.version);
}

void PgOrderRepository::Tx::SaveRefund(const domain::Refund& r, bool is_new) {
  if (is_new) {
    repo_.pool_.Exec(w_.sql(), kInsertRefund, w_.tenant(), r.id, r.order_id, r.return_id,
                     r.amount_minor, static_cast<int>(r.status), r.reason, Micros(r.create_time),
                     r.version);
    return;
  }
  repo_.pool_.Exec(w_.sql(), kUpdateRefundStatus, w_.tenant(), r.id, static_cast<int>(r.status),
                   Micros(r.update_time), r.version);
}

void PgOrderRepository::Tx::AppendReturn(const domain::Return& r, const domain::Order& o) {
  repo_.pool_.Exec(w_.sql(), kInsertReturn, w_.tenant(), r.id, o.id, r.amount_minor, r.reason,
                   Micros(r.create_time));
  for (const auto& l : r.lines) {
    repo_.pool_.Exec(w_.sql(), kInsertReturnLine, w_.tenant(), r.id, l.line_no, l.sku, l.quantity,
                     l.amount_minor);
    repo_.pool_.Exec(w_.sql(), kUpdateLineReturned, w_.tenant(), o.id, l.line_no,
                     o.lines[static_cast<size_t>(l.line_no)].returned_quantity);
  }
}

void PgOrderRepository::Tx::EmitPayment(const std::string& type, const domain::Order& o,
                                        const domain::Payment& p) {
  w_.Emit(o.customer_id, type,
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

void PgOrderRepository::Tx::EmitReturn(const domain::Order& o, const domain::Return& r) {
  nlohmann::json lines = nlohmann::json::array();
  for (const auto& l : r.lines) {
    lines.push_back({{"line_no", l.line_no},
                     {"sku", l.sku},
                     {"quantity", l.quantity},
                     {"amount_minor", Str(l.amount_minor)}});
  }
  w_.Emit(o.customer_id, "return.created",
          nlohmann::json{{"return_id", r.id},
                         {"order_id", o.id},
                         {"customer_id", o.customer_id},
                         {"currency_code", o.currency_code},
                         {"amount_minor", Str(r.amount_minor)},
                         {"reason", r.reason},
                         {"lines", lines}}
              .dump());
}

void PgOrderRepository::Tx::EmitRefund(const std::string& type, const domain::Order& o,
                                       const domain::Refund& r) {
  w_.Emit(o.customer_id, type,
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

// ---- the repository's side ----

std::vector<domain::Refund> PgOrderRepository::LoadRefunds(pqxx::work& tx,
                                                           const std::string& tenant,
                                                           const std::string& order_id) {
  std::vector<domain::Refund> out;
  for (const auto& r : pool_.Exec(tx, kListRefunds, tenant, order_id)) {
    out.push_back(RefundFromRow(r));
  }
  return out;
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

absl::StatusOr<domain::Payment> PgOrderRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Payment>(app::OrderTx&)> work) {
  return RunTx(meta, resource, kPaymentAnswer, work);
}
absl::StatusOr<domain::Return> PgOrderRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Return>(app::OrderTx&)> work) {
  return RunTx(meta, resource, kReturnAnswer, work);
}
absl::StatusOr<domain::Refund> PgOrderRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Refund>(app::OrderTx&)> work) {
  return RunTx(meta, resource, kRefundAnswer, work);
}

// ---- reads ----

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

absl::StatusOr<std::vector<domain::Refund>> PgOrderRepository::ListRefunds(
    const std::string& tenant, const std::string& order_id) {
  std::vector<domain::Refund> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    CRM_RETURN_IF_ERROR(Load(tx, tenant, order_id, false).status());
    out = LoadRefunds(tx, tenant, order_id);
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

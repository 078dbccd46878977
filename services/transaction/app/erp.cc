#include "services/transaction/app/erp.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/page_token.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"

namespace crm::transaction::app {
namespace {

IngestRowResult Rejected(int index, const std::string& external_id, const absl::Status& s) {
  IngestRowResult r;
  r.index = index;
  r.external_id = external_id;
  r.outcome = IngestOutcome::kRejected;
  r.field = common::FieldOf(s);
  r.reason = common::ReasonOf(s);
  if (r.reason.empty()) r.reason = "INVALID_FIELD";
  r.message = std::string(s.message());
  return r;
}

}  // namespace

absl::Status Erp::ResolveCustomers(const Actor& actor, std::vector<IngestRow>& rows,
                                   std::vector<std::optional<CustomerIdentities>>& refs,
                                   IngestReport& report) {
  if (rows.empty() || directory_ == nullptr) return absl::OkStatus();
  bool any_ref = false;
  std::vector<CustomerRefInput> inputs;
  inputs.reserve(rows.size());
  std::string content;  // what the resolution depends on: its idempotency key
  for (size_t k = 0; k < rows.size(); ++k) {
    CustomerRefInput in;
    if (refs[k]) {
      any_ref = true;
      in.who = *refs[k];
    } else {
      in.customer_id = rows[k].order.customer_id;
    }
    absl::StrAppend(&content, rows[k].order.external_id, "\x1f", in.customer_id, "\x1f",
                    in.who.email, "\x1f", in.who.phone, "\x1f", in.who.external_id_source,
                    "\x1f", in.who.external_id, "\x1f", in.who.given_name, "\x1f",
                    in.who.family_name, "\x1e");
    inputs.push_back(std::move(in));
  }
  bool create = false;
  if (any_ref) {
    CRM_ASSIGN_OR_RETURN(OrderSettings settings, settings_->GetSettings(actor.tenant_id));
    create = settings.create_unknown_customers;
  }
  Actor resolver = actor;
  resolver.idempotency_key =
      absl::StrCat("erp-ingest/", common::HexEncode(common::Sha256(content)));
  CRM_ASSIGN_OR_RETURN(std::vector<RefResolution> resolved,
                       directory_->ResolveBatch(resolver, inputs, create));
  if (resolved.size() != rows.size()) {
    return absl::InternalError("customer directory answered another number of references");
  }
  size_t kept = 0;
  for (size_t k = 0; k < rows.size(); ++k) {
    if (!resolved[k].error.ok()) {
      report.results[rows[k].index] =
          Rejected(rows[k].index, rows[k].order.external_id, resolved[k].error);
      continue;
    }
    rows[k].order.customer_id = resolved[k].customer_id;
    if (kept != k) rows[kept] = std::move(rows[k]);
    ++kept;
  }
  rows.resize(kept);
  return absl::OkStatus();
}

absl::Time Erp::Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now())); }

absl::StatusOr<IngestReport> Erp::Ingest(const Actor& actor, const std::string& batch_id,
                                         std::vector<IngestInput> batch) {
  if (batch_id.size() > 128) {
    return common::InvalidField("batch_id", "batch_id is at most 128 characters");
  }
  CRM_RETURN_IF_ERROR(common::CheckStorableText("batch_id", batch_id));
  if (batch.size() > static_cast<size_t>(kMaxIngestBatch)) {
    return common::InvalidField(
        "orders", absl::StrCat("a batch carries at most ", kMaxIngestBatch, " orders, this one ",
                               batch.size(), "; split it into smaller batches"));
  }
  const absl::Time now = Now();
  IngestReport report;
  report.results.resize(batch.size());
  std::vector<IngestRow> rows;
  rows.reserve(batch.size());
  std::vector<std::optional<CustomerIdentities>> refs;  // parallel to rows
  std::map<std::string, int> first_index;  // external id -> first row carrying it
  for (size_t i = 0; i < batch.size(); ++i) {
    const int index = static_cast<int>(i);
    domain::Order& o = batch[i].order;
    if (!batch[i].parse_error.ok()) {
      report.results[i] = Rejected(index, o.external_id, batch[i].parse_error);
      continue;
    }
    const std::optional<CustomerIdentities>& ref = batch[i].customer_ref;
    if (ref && (directory_ == nullptr || settings_ == nullptr)) {
      report.results[i] = Rejected(
          index, o.external_id,
          common::InvalidField("customer_ref",
                               "customer_ref is not available in this deployment; give "
                               "customer_id"));
      continue;
    }
    if (ref && !o.customer_id.empty()) {
      report.results[i] = Rejected(
          index, o.external_id,
          common::InvalidField("customer_ref", "give either customer_id or customer_ref, not both"));
      continue;
    }
    if (o.external_id.empty()) {
      report.results[i] = Rejected(
          index, o.external_id,
          common::InvalidField("external_id",
                               "external_id is required: orders are ingested idempotently by it"));
      continue;
    }
    // An order with a customer_ref gets its customer once the batch's refs
    // are resolved below.
    absl::Status s = ref ? domain::NormalizeAndValidateContent(o) : domain::NormalizeAndValidate(o);
    if (s.ok()) {
      if (o.placed_time == absl::InfinitePast()) o.placed_time = now;
      o.placed_time = absl::FromUnixMicros(absl::ToUnixMicros(o.placed_time));
      if (o.placed_time > now + absl::Minutes(5)) {
        s = common::InvalidField("placed_time", "placed_time is in the future");
      }
    }
    if (s.ok()) {
      auto [it, fresh] = first_index.emplace(o.external_id, index);
      if (!fresh) {
        s = common::InvalidField("external_id",
                                 absl::StrCat("external_id \"", o.external_id,
                                              "\" repeats order ", it->second, " of this batch"));
      }
    }
    if (!s.ok()) {
      report.results[i] = Rejected(index, o.external_id, s);
      continue;
    }
    o.id = ids_.NewId();
    o.status = domain::OrderStatus::kPlaced;
    o.version = 1;
    o.create_time = o.update_time = now;
    rows.push_back(IngestRow{index, std::move(o)});
    refs.push_back(ref);
  }
  if (!rows.empty()) {
    // Orders the tenant already has are answered now: a batch sent again
    // needs nothing from customer-store.
    std::vector<std::string> external_ids;
    external_ids.reserve(rows.size());
    for (const IngestRow& r : rows) external_ids.push_back(r.order.external_id);
    CRM_ASSIGN_OR_RETURN(auto existing,
                         repository_.ExistingExternalIds(actor.tenant_id, external_ids));
    if (!existing.empty()) {
      size_t kept = 0;
      for (size_t k = 0; k < rows.size(); ++k) {
        auto it = existing.find(rows[k].order.external_id);
        if (it != existing.end()) {
          IngestRowResult& x = report.results[rows[k].index];
          x.index = rows[k].index;
          x.external_id = rows[k].order.external_id;
          x.outcome = IngestOutcome::kAlreadyExists;
          x.order_id = it->second;
          continue;
        }
        if (kept != k) {
          rows[kept] = std::move(rows[k]);
          refs[kept] = std::move(refs[k]);
        }
        ++kept;
      }
      rows.resize(kept);
      refs.resize(kept);
    }
    CRM_RETURN_IF_ERROR(ResolveCustomers(actor, rows, refs, report));
  }
  if (!rows.empty()) {
    CRM_ASSIGN_OR_RETURN(std::vector<IngestRowResult> written,
                         repository_.IngestBatch(actor, batch_id, rows));
    for (IngestRowResult& r : written) {
      if (r.index < 0 || r.index >= static_cast<int>(batch.size())) {
        return absl::InternalError("ingest result for an unknown row");
      }
      report.results[r.index] = std::move(r);
    }
  }
  for (size_t i = 0; i < report.results.size(); ++i) {
    IngestRowResult& r = report.results[i];
    switch (r.outcome) {
      case IngestOutcome::kCreated:
        ++report.created;
        break;
      case IngestOutcome::kAlreadyExists:
        ++report.already_existing;
        break;
      case IngestOutcome::kRejected:
        ++report.rejected;
        break;
      default:
        return absl::InternalError(absl::StrCat("no ingest result for order ", i));
    }
  }
  return report;
}

absl::StatusOr<ExportPage> Erp::Export(const std::string& tenant, const std::string& cursor,
                                       int page_size) {
  if (page_size < 0) return common::InvalidField("page_size", "page_size must not be negative");
  CRM_ASSIGN_OR_RETURN(int limit,
                       common::ClampPageSize(page_size, kDefaultExportPage, kMaxExportPage));
  return repository_.ExportChanges(tenant, cursor, limit);
}

}  // namespace crm::transaction::app

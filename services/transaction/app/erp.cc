#include "services/transaction/app/erp.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
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
  std::map<std::string, int> first_index;  // external id -> first row carrying it
  for (size_t i = 0; i < batch.size(); ++i) {
    const int index = static_cast<int>(i);
    domain::Order& o = batch[i].order;
    if (!batch[i].parse_error.ok()) {
      report.results[i] = Rejected(index, o.external_id, batch[i].parse_error);
      continue;
    }
    if (o.external_id.empty()) {
      report.results[i] = Rejected(
          index, o.external_id,
          common::InvalidField("external_id",
                               "external_id is required: orders are ingested idempotently by it"));
      continue;
    }
    absl::Status s = domain::NormalizeAndValidate(o);
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

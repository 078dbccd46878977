#pragma once
// Header-only (moved out of tests/unit/transaction/erp_test.cc so the api
// tests share it).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "libs/common/errors.h"
#include "services/transaction/app/erp_ports.h"

namespace crm::testing {

// Creates every order unless its external id is known (then ALREADY_EXISTS)
// or a line names SKU "NOPE" (then UNKNOWN_SKU), like the PostgreSQL adapter.
class FakeErpRepository final : public transaction::app::ErpRepository {
 public:
  absl::StatusOr<std::vector<transaction::app::IngestRowResult>> IngestBatch(
      const transaction::app::Actor& actor, const std::string& batch_id,
      const std::vector<transaction::app::IngestRow>& rows) override {
    ++calls;
    last_batch_id = batch_id;
    last_method = actor.method;
    last_rows = rows;
    if (!fail.ok()) return fail;
    std::vector<transaction::app::IngestRowResult> out;
    for (const auto& r : rows) {
      transaction::app::IngestRowResult x;
      x.index = r.index;
      x.external_id = r.order.external_id;
      auto it = by_external_id.find(r.order.external_id);
      bool unknown_sku = false;
      for (const auto& l : r.order.lines) unknown_sku |= l.sku == "NOPE";
      if (it != by_external_id.end()) {
        x.outcome = transaction::app::IngestOutcome::kAlreadyExists;
        x.order_id = it->second;
      } else if (unknown_sku) {
        x.outcome = transaction::app::IngestOutcome::kRejected;
        x.reason = "UNKNOWN_SKU";
        x.field = "lines[0].sku";
      } else {
        x.outcome = transaction::app::IngestOutcome::kCreated;
        x.order_id = r.order.id;
        by_external_id[r.order.external_id] = r.order.id;
        created[actor.tenant_id].push_back(r.order);
      }
      out.push_back(x);
    }
    std::reverse(out.begin(), out.end());  // any order: the use case sorts
    return out;
  }
  absl::StatusOr<std::map<std::string, std::string>> ExistingExternalIds(
      const std::string&, const std::vector<std::string>& external_ids) override {
    ++existing_calls;
    std::map<std::string, std::string> out;
    for (const auto& x : external_ids) {
      auto it = by_external_id.find(x);
      if (it != by_external_id.end()) out.emplace(x, it->second);
    }
    return out;
  }
  // The orders this fake created for the tenant, in creation order; the
  // cursor is the count of orders already exported ("" = none).
  absl::StatusOr<transaction::app::ExportPage> ExportChanges(const std::string& tenant,
                                                             const std::string& cursor,
                                                             int limit) override {
    last_cursor = cursor;
    last_limit = limit;
    ++export_calls;
    if (!fail.ok()) return fail;
    size_t from = 0;
    if (!cursor.empty() && !absl::SimpleAtoi(cursor, &from)) {
      return common::WithReason(absl::InvalidArgumentError("malformed cursor"),
                                "INVALID_PAGE_TOKEN");
    }
    const auto& log = created[tenant];
    transaction::app::ExportPage page;
    size_t end = std::min(log.size(), from + static_cast<size_t>(std::max(limit, 0)));
    for (size_t i = from; i < end; ++i) page.orders.push_back(log[i]);
    if (end > from) page.next_cursor = std::to_string(end);
    page.caught_up = end >= log.size();
    return page;
  }

  int calls = 0;
  int existing_calls = 0;
  std::string last_batch_id;
  std::string last_method;
  std::vector<transaction::app::IngestRow> last_rows;
  std::map<std::string, std::string> by_external_id;
  absl::Status fail;
  std::string last_cursor;
  int last_limit = 0;
  int export_calls = 0;
  std::map<std::string, std::vector<transaction::domain::Order>> created;  // by tenant
};

}  // namespace crm::testing

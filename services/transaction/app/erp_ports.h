#pragma once
// Port of the ERP integration use cases (bulk ingest by external id, export
// of changes after a cursor). Pure: no gRPC, protobuf or libpqxx here.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/transaction/app/customer_directory.h"
#include "services/transaction/app/ports.h"
#include "services/transaction/domain/order.h"

namespace crm::transaction::app {

inline constexpr int kMaxIngestBatch = 1000;
inline constexpr int kDefaultExportPage = 100;
inline constexpr int kMaxExportPage = 1000;

enum class IngestOutcome : int { kUnspecified = 0, kCreated = 1, kAlreadyExists = 2, kRejected = 3 };

// One order of a batch as the edge decoded it: either an order or why it
// could not be read (parse_error not OK).
struct IngestInput {
  domain::Order order;
  // Identities the customer is resolved by when order.customer_id is empty.
  std::optional<CustomerIdentities> customer_ref;
  absl::Status parse_error;
};

// A valid, normalized order ready to be written (id, status, version and
// times set), with its position in the batch.
struct IngestRow {
  int index = 0;
  domain::Order order;
};

struct IngestRowResult {
  int index = 0;
  std::string external_id;
  IngestOutcome outcome = IngestOutcome::kUnspecified;
  std::string order_id;  // created or existing order
  std::string field;     // rejected
  std::string reason;
  std::string message;
};

struct IngestReport {
  int created = 0;
  int already_existing = 0;
  int rejected = 0;
  std::vector<IngestRowResult> results;  // one per input, by index
};

struct ExportPage {
  std::vector<domain::Order> orders;  // with lines, in change order
  // Position after the last order ("" when the page is empty: the caller
  // keeps the cursor it asked with).
  std::string next_cursor;
  // No further change was exportable when the page was read.
  bool caught_up = true;
  // Not caught up, yet nothing more can be sent now: committed changes after
  // the cursor wait for an older transaction still in progress (caught_up is
  // then false). The stream ends; the caller retries later from the cursor.
  bool held_back = false;
};

class ErpRepository {
 public:
  virtual ~ErpRepository() = default;
  // Writes one batch of valid orders in one transaction: orders whose
  // external_id the tenant already has (also when a concurrent batch created
  // it meanwhile) answer kAlreadyExists with the existing id; orders naming
  // a SKU not in the catalog answer kRejected (UNKNOWN_SKU, field
  // lines[i].sku); the rest are created with their lines, one order.placed
  // outbox event and one audit row each. Returns one result per row (any
  // order). Distinct external ids within `rows` are the caller's job.
  // batch_id (may be "") names the batch in the audit trail.
  // The tenant's orders among `external_ids`: external id -> order id (one
  // query), so orders a batch already created are answered before any
  // customer is resolved for them.
  virtual absl::StatusOr<std::map<std::string, std::string>> ExistingExternalIds(
      const std::string& tenant, const std::vector<std::string>& external_ids) = 0;
  virtual absl::StatusOr<std::vector<IngestRowResult>> IngestBatch(
      const Actor& actor, const std::string& batch_id, const std::vector<IngestRow>& rows) = 0;
  // Up to `limit` orders changed after `cursor` ("" = from the beginning;
  // otherwise a next_cursor this repository returned, INVALID_PAGE_TOKEN if
  // malformed), never past a change that may still be followed by an
  // earlier one committing later.
  virtual absl::StatusOr<ExportPage> ExportChanges(const std::string& tenant,
                                                   const std::string& cursor, int limit) = 0;
};

}  // namespace crm::transaction::app

#pragma once
// ERP integration use cases: ingest a batch of orders idempotently by
// external id, export the orders changed after a cursor.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/transaction/app/erp_ports.h"

namespace crm::transaction::app {

class Erp final {
 public:
  Erp(ErpRepository& repository, const common::Clock& clock, common::IdGenerator& ids)
      : repository_(repository), clock_(clock), ids_(ids) {}

  // More than kMaxIngestBatch orders: INVALID_ARGUMENT (field orders), nothing
  // written. Otherwise every order is validated on its own (external_id
  // required; domain::NormalizeAndValidate; placed_time at most 5 minutes
  // ahead; an external_id repeated within the batch is rejected after its
  // first occurrence); invalid orders are reported kRejected and not
  // written, the valid ones go to the repository in one transaction.
  // Results come back in input order.
  absl::StatusOr<IngestReport> Ingest(const Actor& actor, const std::string& batch_id,
                                      std::vector<IngestInput> batch);

  // page_size: 0 = kDefaultExportPage, at most kMaxExportPage, negative is
  // INVALID_ARGUMENT.
  absl::StatusOr<ExportPage> Export(const std::string& tenant, const std::string& cursor,
                                    int page_size);

 private:
  absl::Time Now() const;
  ErpRepository& repository_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::transaction::app

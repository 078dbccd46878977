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
  // Without a directory and settings, customers are not checked and
  // customer_ref is refused (unit tests and tools only).
  Erp(ErpRepository& repository, const common::Clock& clock, common::IdGenerator& ids,
      CustomerDirectory* directory = nullptr, OrderSettingsRepository* settings = nullptr)
      : repository_(repository),
        clock_(clock),
        ids_(ids),
        directory_(directory),
        settings_(settings) {}

  // More than kMaxIngestBatch orders: INVALID_ARGUMENT (field orders), nothing
  // written. Otherwise every order is validated on its own (external_id
  // required; domain::NormalizeAndValidate; placed_time at most 5 minutes
  // ahead; an external_id repeated within the batch is rejected after its
  // first occurrence); invalid orders are reported kRejected and not
  // written. Orders whose external_id the tenant has are answered
  // kAlreadyExists first. The customers of the others (customer_id, or
  // customer_ref identities created under the tenant's OrderSettings) are
  // resolved in ONE directory call for the batch (idempotency key derived
  // from the batch's content); an order whose customer does not resolve is
  // kRejected (CUSTOMER_NOT_FOUND on customer_id, CUSTOMER_NOT_RESOLVED /
  // CUSTOMER_REF_CONFLICT / INVALID_FIELD on customer_ref), a merged-away
  // customer_id is booked to its survivor. The rest go to the repository in
  // one transaction. Results come back in input order.
  absl::StatusOr<IngestReport> Ingest(const Actor& actor, const std::string& batch_id,
                                      std::vector<IngestInput> batch);

  // page_size: 0 = kDefaultExportPage, at most kMaxExportPage, negative is
  // INVALID_ARGUMENT.
  absl::StatusOr<ExportPage> Export(const std::string& tenant, const std::string& cursor,
                                    int page_size);

 private:
  absl::Time Now() const;
  // Resolves the customers of `rows` in place (one directory call); the
  // rows that do not resolve are moved to `report` as rejected.
  absl::Status ResolveCustomers(const Actor& actor, std::vector<IngestRow>& rows,
                                std::vector<std::optional<CustomerIdentities>>& refs,
                                IngestReport& report);
  ErpRepository& repository_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
  CustomerDirectory* directory_;
  OrderSettingsRepository* settings_;
};

}  // namespace crm::transaction::app

#pragma once
// Loads the reference data sets of /work/shared/data (../shared/data from
// the project root, see its README) for the segmentation model tests.
#include <functional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "services/segmentation/domain/rfm.h"
#include "services/segmentation/domain/summary.h"

namespace crm::segmentation::testing {

// $CRM_SHARED_DATA_DIR (environment) or the CMake-configured folder
// (../shared/data from the project root) + "/" + name; fails the test
// (REQUIRE) with a message naming the path when the file is absent.
std::string SharedDataFile(const std::string& name);

// CDNOW_sample.txt: customer = column 2, day = column 3, amount = column 5.
std::vector<domain::Transaction> LoadCdnowSample();

// rfm_data_orders.csv: customer_id,order_date,revenue.
std::vector<domain::Order> LoadRfmOrders();

// The CDNOW summaries by the papers' protocol: calibration to 1997-09-30,
// holdout to 1998-06-30, weeks.
std::vector<domain::CustomerSummary> CdnowSummaries();

// One invoice line of online_retail.csv.gz (UCI "Online Retail"), as the
// file has it: header invoice,stock_code,description,quantity,invoice_date,
// unit_price,customer_id,country; customer_id and description may be empty.
struct OnlineRetailLine {
  std::string invoice;
  std::string stock_code;
  std::string description;
  double quantity = 0;
  absl::CivilMinute invoice_date;  // YYYY-MM-DDTHH:MM, UK time as recorded
  double unit_price = 0;
  std::string customer_id;  // empty: no customer
  std::string country;
};

// Reads every line of online_retail.csv.gz (gzip, proper CSV: quoted fields
// may hold commas, doubled quotes and line breaks) in file order and hands it
// to `visit`; REQUIREs the header and 8 fields per record. Returns the number
// of lines read.
long ReadOnlineRetail(const std::function<void(const OnlineRetailLine&)>& visit);

// The README's clean purchases ("Preparing Online Retail"): not a
// cancellation (invoice starting with 'C'), a customer, quantity > 0 and
// unit_price > 0. Non-product stock codes (POST, M, ...) stay, as the README's
// checksums count them.
bool IsOnlineRetailPurchase(const OnlineRetailLine& line);

// The clean purchases as transactions: customer_id, calendar day of the
// invoice, amount = quantity * unit_price (one per invoice line; the summary
// merges a customer's day). REQUIREs the README's 397,884 rows.
std::vector<domain::Transaction> LoadOnlineRetail();

// The README's split: calibration 2010-12-01 .. 2011-06-30, holdout
// 2011-07-01 .. 2011-12-09, weeks.
inline constexpr absl::CivilDay kOnlineRetailCalibrationEnd{2011, 6, 30};
inline constexpr absl::CivilDay kOnlineRetailHoldoutEnd{2011, 12, 9};
std::vector<domain::CustomerSummary> OnlineRetailSummaries();

}  // namespace crm::segmentation::testing

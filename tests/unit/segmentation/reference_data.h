#pragma once
// Loads the reference data sets of /work/shared/data (../shared/data from
// the project root, see its README) for the segmentation model tests.
#include <string>
#include <vector>

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

}  // namespace crm::segmentation::testing

#include "tests/unit/segmentation/reference_data.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"

namespace crm::segmentation::testing {

std::string SharedDataFile(const std::string& name) {
  const char* env = std::getenv("CRM_SHARED_DATA_DIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : CRM_SHARED_DATA_DIR;
  const std::string path = dir + "/" + name;
  std::ifstream probe(path);
  INFO("reference data file " << path
                              << " is missing: the tests read the shared data set from "
                                 "../shared/data relative to the project root (see its README); "
                                 "point CRM_SHARED_DATA_DIR (cmake -D or environment) at it");
  REQUIRE(probe.good());
  return path;
}

std::vector<domain::Transaction> LoadCdnowSample() {
  std::ifstream in(SharedDataFile("CDNOW_sample.txt"));
  std::vector<domain::Transaction> out;
  std::string master, id, date;
  int cds = 0;
  double dollars = 0;
  while (in >> master >> id >> date >> cds >> dollars) {
    absl::CivilDay day;
    REQUIRE(absl::ParseCivilTime(
        date.substr(0, 4) + "-" + date.substr(4, 2) + "-" + date.substr(6, 2), &day));
    out.push_back({id, day, dollars});
  }
  REQUIRE(out.size() == 6919);
  return out;
}

std::vector<domain::Order> LoadRfmOrders() {
  std::ifstream in(SharedDataFile("rfm_data_orders.csv"));
  std::string line;
  std::getline(in, line);  // header
  std::vector<domain::Order> out;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> f = absl::StrSplit(line, ',');
    REQUIRE(f.size() == 3);
    domain::Order o;
    o.customer_id = f[0];
    REQUIRE(absl::ParseCivilTime(f[1], &o.day));
    REQUIRE(absl::SimpleAtod(f[2], &o.revenue));
    out.push_back(o);
  }
  REQUIRE(out.size() == 4906);
  return out;
}

std::vector<domain::CustomerSummary> CdnowSummaries() {
  domain::SummaryOptions options;
  options.calibration_end = absl::CivilDay(1997, 9, 30);
  options.holdout_end = absl::CivilDay(1998, 6, 30);
  options.unit = domain::TimeUnit::kWeeks;
  auto s = domain::SummarizeAll(LoadCdnowSample(), options);
  REQUIRE(s.ok());
  return *s;
}

}  // namespace crm::segmentation::testing

#include "tests/unit/segmentation/reference_data.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"

namespace crm::segmentation::testing {
namespace {

// Reads one CSV record (RFC 4180: fields in double quotes may hold commas,
// "" and line breaks) from a gzip stream; false at the end of the file.
class GzipCsvReader {
 public:
  explicit GzipCsvReader(const std::string& path) : file_(gzopen(path.c_str(), "rb"), &gzclose) {
    INFO("cannot open " << path);
    REQUIRE(file_ != nullptr);
    gzbuffer(file_.get(), 1 << 17);
  }

  bool Next(std::vector<std::string>& fields) {
    fields.clear();
    std::string field;
    bool quoted = false;  // inside a quoted field
    bool any = false;     // read anything of this record
    while (true) {
      if (pos_ >= line_.size()) {
        if (!ReadLine()) {
          if (quoted) FAIL("the file ends inside a quoted field");
          if (!any) return false;
          fields.push_back(std::move(field));
          return true;
        }
        any = true;
      }
      const char c = line_[pos_++];
      if (quoted) {
        if (c == '"') {
          if (pos_ < line_.size() && line_[pos_] == '"') {
            field.push_back('"');
            ++pos_;
          } else {
            quoted = false;
          }
        } else {
          field.push_back(c);  // including a line break inside quotes
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
      } else if (c == '\n') {
        if (!field.empty() && field.back() == '\r') field.pop_back();
        fields.push_back(std::move(field));
        return true;
      } else {
        field.push_back(c);
      }
    }
  }

 private:
  // The next physical line (with its '\n', if any) into line_.
  bool ReadLine() {
    line_.clear();
    pos_ = 0;
    char buf[8192];
    while (gzgets(file_.get(), buf, sizeof buf) != nullptr) {
      line_ += buf;
      if (!line_.empty() && line_.back() == '\n') break;
    }
    int err = Z_OK;
    const char* message = gzerror(file_.get(), &err);
    if (err != Z_OK && err != Z_STREAM_END) FAIL("gzip error: " << message);
    return !line_.empty();
  }

  std::unique_ptr<gzFile_s, int (*)(gzFile)> file_;
  std::string line_;
  size_t pos_ = 0;
};

}  // namespace

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

long ReadOnlineRetail(const std::function<void(const OnlineRetailLine&)>& visit) {
  GzipCsvReader reader(SharedDataFile("online_retail.csv.gz"));
  std::vector<std::string> f;
  REQUIRE(reader.Next(f));
  REQUIRE(f == std::vector<std::string>{"invoice", "stock_code", "description", "quantity",
                                        "invoice_date", "unit_price", "customer_id", "country"});
  long n = 0;
  OnlineRetailLine line;
  // Plain ifs, not a REQUIRE per field: 541,909 records.
  while (reader.Next(f)) {
    ++n;
    if (f.size() != 8) FAIL("online_retail.csv.gz record " << n << ": " << f.size() << " fields");
    line.invoice = std::move(f[0]);
    line.stock_code = std::move(f[1]);
    line.description = std::move(f[2]);
    if (!absl::SimpleAtod(f[3], &line.quantity) ||
        !absl::ParseCivilTime(f[4], &line.invoice_date) ||
        !absl::SimpleAtod(f[5], &line.unit_price) || line.invoice.empty()) {
      FAIL("online_retail.csv.gz record " << n << ": bad invoice, quantity, date or price");
    }
    line.customer_id = std::move(f[6]);
    line.country = std::move(f[7]);
    visit(line);
  }
  return n;
}

bool IsOnlineRetailPurchase(const OnlineRetailLine& line) {
  return line.invoice[0] != 'C' && !line.customer_id.empty() && line.quantity > 0 &&
         line.unit_price > 0;
}

std::vector<domain::Transaction> LoadOnlineRetail() {
  std::vector<domain::Transaction> out;
  out.reserve(400000);
  const long lines = ReadOnlineRetail([&](const OnlineRetailLine& line) {
    if (!IsOnlineRetailPurchase(line)) return;
    out.push_back(
        {line.customer_id, absl::CivilDay(line.invoice_date), line.quantity * line.unit_price});
  });
  REQUIRE(lines == 541909);
  REQUIRE(out.size() == 397884);
  return out;
}

std::vector<domain::CustomerSummary> OnlineRetailSummaries() {
  domain::SummaryOptions options;
  options.calibration_end = kOnlineRetailCalibrationEnd;
  options.holdout_end = kOnlineRetailHoldoutEnd;
  options.unit = domain::TimeUnit::kWeeks;
  auto s = domain::SummarizeAll(LoadOnlineRetail(), options);
  REQUIRE(s.ok());
  return *s;
}

}  // namespace crm::segmentation::testing

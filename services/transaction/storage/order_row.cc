#include "services/transaction/storage/order_row.h"

#include "absl/strings/str_cat.h"
#include "libs/pg/sql.h"

namespace crm::transaction::storage {

const std::string& OrderColumns() {
  static const std::string cols = absl::StrCat(
      "id::text, customer_id::text, currency, total_minor, channel, store_id, status, ",
      pg::MicrosColumn("placed_at"), ", version, ", pg::MicrosColumn("created_at"), ", ",
      pg::MicrosColumn("updated_at"),
      ", external_id, paid_minor, returned_minor, refunded_minor, adjusted_minor");
  return cols;
}

domain::Order OrderFromRow(const pqxx::row& r) {
  domain::Order o;
  o.id = r[0].as<std::string>();
  o.customer_id = r[1].as<std::string>();
  o.currency_code = r[2].as<std::string>();
  o.total_minor = r[3].as<int64_t>();
  o.channel = static_cast<domain::SalesChannel>(r[4].as<int>());
  o.store_id = r[5].as<std::string>();
  o.status = static_cast<domain::OrderStatus>(r[6].as<int>());
  o.placed_time = absl::FromUnixMicros(r[7].as<int64_t>());
  o.version = r[8].as<int64_t>();
  o.create_time = absl::FromUnixMicros(r[9].as<int64_t>());
  o.update_time = absl::FromUnixMicros(r[10].as<int64_t>());
  o.external_id = r[11].as<std::string>();
  o.paid_minor = r[12].as<int64_t>();
  o.returned_minor = r[13].as<int64_t>();
  o.refunded_minor = r[14].as<int64_t>();
  o.adjusted_minor = r[15].as<int64_t>();
  return o;
}

}  // namespace crm::transaction::storage

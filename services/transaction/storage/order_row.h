#pragma once
// An order as its txn.orders row is read, shared by the order repository
// and the ERP export: the columns are written once, with their reader.
#include <pqxx/pqxx>
#include <string>

#include "services/transaction/domain/order.h"

namespace crm::transaction::storage {

// How many columns OrderColumns() lists.
constexpr int kOrderColumnCount = 16;

// The SELECT list of an order (unqualified column names of txn.orders).
const std::string& OrderColumns();

// The order in a row that starts with OrderColumns(); without its lines.
domain::Order OrderFromRow(const pqxx::row& r);

}  // namespace crm::transaction::storage

#pragma once
// JSON columns of the customers table (address, dates, attributes) <-> domain.
#include <string>

#include "absl/status/statusor.h"
#include "services/customer_store/domain/customer.h"

namespace crm::customer_store::storage {

std::string AddressToJson(const domain::PostalAddress& a);
absl::StatusOr<domain::PostalAddress> AddressFromJson(const std::string& s);
std::string DateToJson(const domain::Date& d);
absl::StatusOr<domain::Date> DateFromJson(const std::string& s);
std::string AnniversariesToJson(const std::vector<domain::Anniversary>& v);
absl::StatusOr<std::vector<domain::Anniversary>> AnniversariesFromJson(const std::string& s);
// Typed values: {"k":{"s":"x"}|{"i":"123"}|{"d":1.5}|{"b":true}|{"t":<unix micros as string>}}
std::string AttributesToJson(const std::map<std::string, domain::AttributeValue>& m);
absl::StatusOr<std::map<std::string, domain::AttributeValue>> AttributesFromJson(
    const std::string& s);

// The payload of customer.created / customer.updated (docs/events.md):
// {"customer_id", "version", "profile": {"country", "region", "city",
// "postal_code", "locale", "time_zone", "owner" (strings, "" when unset),
// "lifecycle_stage" (enum number), "attributes" (as AttributesToJson)}}.
// pg_import.cc builds the same object in SQL for imported customers.
std::string CustomerEventJson(const domain::Customer& c);

}  // namespace crm::customer_store::storage

namespace crm::customer_store::storage {
// A whole customer (profile, identities, version, times) for the merge log.
std::string CustomerToJson(const domain::Customer& c);
absl::StatusOr<domain::Customer> CustomerFromJson(const std::string& s);
std::string StringsToJson(const std::vector<std::string>& v);
absl::StatusOr<std::vector<std::string>> StringsFromJson(const std::string& s);
}  // namespace crm::customer_store::storage

#pragma once
// The product catalog's domain (pure): products, their validation and the
// field-mask update rules.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::transaction::domain {

struct Money {
  int64_t amount_minor = 0;
  std::string currency_code;
  bool operator==(const Money& o) const {
    return amount_minor == o.amount_minor && currency_code == o.currency_code;
  }
};

struct Product {
  std::string sku;
  std::string name;
  std::vector<std::string> category_path;  // 2..3 levels
  Money price;
  // What one unit costs the tenant, in the price's currency (personal
  // prices never go below it); none when not given.
  std::optional<Money> cost;
  std::map<std::string, std::string> attributes;
  bool active = true;
  int64_t version = 0;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

inline constexpr int kMaxBatchProducts = 1000;

bool IsValidSku(absl::string_view sku);
// Trims names, upper-cases the currency; errors name the field.
absl::Status NormalizeAndValidate(Product& p);
// Same content (everything but version and times).
bool SameContent(const Product& a, const Product& b);
// "Music/Jazz/Bebop"
std::string CategoryKey(const std::vector<std::string>& path);
// Paths: name category_path price cost attributes attributes.<key> active.
absl::Status ApplyUpdateMask(const Product& patch, const std::vector<std::string>& paths,
                             Product& target);
std::string EtagOf(const Product& p);

// ALREADY_EXISTS PRODUCT_EXISTS on sku: the tenant has a product `sku`.
absl::Status ProductExists(const std::string& sku);

// An update of `current`: if_match checked against its etag (ABORTED
// ETAG_MISMATCH), then `mutate` runs on a copy. A mutation that changes no
// content leaves `current` as it was and returns false (nothing to write, no
// event); otherwise `current` becomes the copy with version + 1 and its
// create time kept. `current` is unchanged on a refusal.
absl::StatusOr<bool> ApplyUpdate(Product& current, const std::string& if_match,
                                 const std::function<absl::Status(Product&)>& mutate);

// What a batch upsert does with one (valid) product.
enum class UpsertOutcome { kCreated, kUpdated, kUnchanged };
// `incoming` against the product stored under its SKU (nullopt: none):
// created with version 1; the same content unchanged (nothing to write);
// otherwise updated with the stored version + 1 and the stored create time.
UpsertOutcome ApplyUpsert(const std::optional<Product>& stored, Product& incoming);

}  // namespace crm::transaction::domain

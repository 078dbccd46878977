#pragma once
// The product catalog's domain (pure): products, their validation and the
// field-mask update rules.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
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
// Paths: name category_path price attributes attributes.<key> active.
absl::Status ApplyUpdateMask(const Product& patch, const std::vector<std::string>& paths,
                             Product& target);
std::string EtagOf(const Product& p);

}  // namespace crm::transaction::domain

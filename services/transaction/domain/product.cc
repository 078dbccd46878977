#include "services/transaction/domain/product.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/currency.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"

namespace crm::transaction::domain {

using common::InvalidField;

namespace {
constexpr int64_t kMaxAmountMinor = 1'000'000'000'000'000;  // 10^15 minor units

bool IsAttributeKey(absl::string_view k) {
  if (k.empty() || k.size() > 64 || !absl::ascii_islower(static_cast<unsigned char>(k[0]))) {
    return false;
  }
  for (char c : k) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
}
}  // namespace

bool IsValidSku(absl::string_view sku) {
  if (sku.empty() || sku.size() > 64) return false;
  for (char c : sku) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

std::string CategoryKey(const std::vector<std::string>& path) { return absl::StrJoin(path, "/"); }

std::string EtagOf(const Product& p) { return absl::StrCat(p.version); }

absl::Status ProductExists(const std::string& sku) {
  return common::WithField(
      common::WithReason(
          absl::AlreadyExistsError(absl::StrCat("a product with sku \"", sku,
                                                "\" exists; update it or use BatchUpsertProducts")),
          "PRODUCT_EXISTS"),
      "sku");
}

absl::StatusOr<bool> ApplyUpdate(Product& current, const std::string& if_match,
                                 const std::function<absl::Status(Product&)>& mutate) {
  if (!if_match.empty() && if_match != EtagOf(current)) {
    return common::WithReason(
        absl::AbortedError("etag does not match: the product changed since you read it"),
        "ETAG_MISMATCH");
  }
  Product after = current;
  CRM_RETURN_IF_ERROR(mutate(after));
  if (SameContent(current, after)) return false;
  after.version = current.version + 1;
  after.create_time = current.create_time;
  current = std::move(after);
  return true;
}

UpsertOutcome ApplyUpsert(const std::optional<Product>& stored, Product& incoming) {
  if (!stored) {
    incoming.version = 1;
    return UpsertOutcome::kCreated;
  }
  if (SameContent(*stored, incoming)) return UpsertOutcome::kUnchanged;
  incoming.version = stored->version + 1;
  incoming.create_time = stored->create_time;
  return UpsertOutcome::kUpdated;
}

absl::Status NormalizeAndValidate(Product& p) {
  // Text must be storable exactly as given (no NUL bytes).
  CRM_RETURN_IF_ERROR(common::CheckStorableText("name", p.name));
  for (const auto& level : p.category_path) {
    CRM_RETURN_IF_ERROR(common::CheckStorableText("category_path", level));
  }
  for (const auto& [k, v] : p.attributes) {
    CRM_RETURN_IF_ERROR(common::CheckStorableText(absl::StrCat("attributes.", k), k));
    CRM_RETURN_IF_ERROR(common::CheckStorableText(absl::StrCat("attributes.", k), v));
  }
  if (!IsValidSku(p.sku)) {
    return InvalidField("sku", "sku must be 1..64 characters of A-Z a-z 0-9 . _ -");
  }
  p.name = std::string(absl::StripAsciiWhitespace(p.name));
  if (p.name.empty() || p.name.size() > 200) {
    return InvalidField("name", "name is required, at most 200 characters");
  }
  if (p.category_path.size() < 2 || p.category_path.size() > 3) {
    return InvalidField("category_path",
                        "category_path must have 2 or 3 levels, most general first");
  }
  for (auto& level : p.category_path) {
    level = std::string(absl::StripAsciiWhitespace(level));
    if (level.empty() || level.size() > 64 || absl::StrContains(level, "/")) {
      return InvalidField("category_path",
                          "each category level is 1..64 characters without '/'");
    }
  }
  p.price.currency_code = absl::AsciiStrToUpper(p.price.currency_code);
  if (!common::MinorUnitDigits(p.price.currency_code)) {
    return InvalidField("price.currency_code",
                        absl::StrCat("price.currency_code \"", p.price.currency_code,
                                     "\" is not an ISO 4217 currency in circulation"));
  }
  if (p.price.amount_minor < 0 || p.price.amount_minor > kMaxAmountMinor) {
    return InvalidField("price.amount_minor", "price.amount_minor must be 0..10^15");
  }
  if (p.cost) {
    p.cost->currency_code = absl::AsciiStrToUpper(p.cost->currency_code);
    if (p.cost->currency_code.empty()) p.cost->currency_code = p.price.currency_code;
    if (p.cost->currency_code != p.price.currency_code) {
      return InvalidField("cost.currency_code",
                          absl::StrCat("cost.currency_code must be the price's currency (",
                                       p.price.currency_code, ") or empty"));
    }
    if (p.cost->amount_minor < 0 || p.cost->amount_minor > kMaxAmountMinor) {
      return InvalidField("cost.amount_minor", "cost.amount_minor must be 0..10^15");
    }
  }
  if (p.attributes.size() > 50) return InvalidField("attributes", "at most 50 attributes");
  for (const auto& [k, v] : p.attributes) {
    if (!IsAttributeKey(k)) {
      return InvalidField(absl::StrCat("attributes.", k),
                          "attribute keys must match [a-z][a-z0-9_]{0,63}");
    }
    if (v.size() > 500) {
      return InvalidField(absl::StrCat("attributes.", k), "attribute values are at most 500 characters");
    }
  }
  return absl::OkStatus();
}

bool SameContent(const Product& a, const Product& b) {
  return a.sku == b.sku && a.name == b.name && a.category_path == b.category_path &&
         a.price == b.price && a.cost == b.cost && a.attributes == b.attributes &&
         a.active == b.active;
}

absl::Status ApplyUpdateMask(const Product& patch, const std::vector<std::string>& paths,
                             Product& target) {
  auto bad = [](const std::string& p, absl::string_view why) {
    return common::WithField(
        common::WithReason(
            absl::InvalidArgumentError(absl::StrCat("update_mask path \"", p, "\" ", why)),
            "INVALID_UPDATE_MASK"),
        "update_mask");
  };
  if (paths.empty()) return bad("", "is empty: name at least one field");
  for (const std::string& p : paths) {
    if (p == "name") {
      target.name = patch.name;
    } else if (p == "category_path") {
      target.category_path = patch.category_path;
    } else if (p == "price") {
      target.price = patch.price;
    } else if (p == "cost") {
      target.cost = patch.cost;  // none in the patch: the cost is removed
    } else if (p == "active") {
      target.active = patch.active;
    } else if (p == "attributes") {
      target.attributes = patch.attributes;
    } else if (absl::StartsWith(p, "attributes.")) {
      std::string key = p.substr(11);
      if (!IsAttributeKey(key)) return bad(p, "names an invalid attribute key");
      auto it = patch.attributes.find(key);
      if (it == patch.attributes.end()) {
        target.attributes.erase(key);
      } else {
        target.attributes[key] = it->second;
      }
    } else if (p == "sku" || p == "etag" || p == "create_time" || p == "update_time") {
      return bad(p, "cannot be changed");
    } else {
      return bad(p, "is not a field of Product");
    }
  }
  return absl::OkStatus();
}

}  // namespace crm::transaction::domain

#include "services/transaction/app/catalog.h"

#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::transaction::app {

namespace {
absl::Status CheckSku(const std::string& sku) {
  if (!domain::IsValidSku(sku)) {
    return common::InvalidField("sku", "sku must be 1..64 characters of A-Z a-z 0-9 . _ -");
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<domain::Product> WriteNewProduct(ProductTx& tx, const domain::Product& p) {
  if (!tx.InsertProduct(p)) return domain::ProductExists(p.sku);
  tx.EmitProduct("product.created", p);
  return p;
}

absl::StatusOr<domain::Product> WriteProductUpdate(
    ProductTx& tx, const std::string& sku, const std::string& if_match,
    const std::function<absl::Status(domain::Product&)>& mutate) {
  CRM_ASSIGN_OR_RETURN(std::optional<domain::Product> found, tx.FindProduct(sku));
  if (!found) return common::NotFound("PRODUCT_NOT_FOUND", "product not found");
  domain::Product p = *std::move(found);
  CRM_ASSIGN_OR_RETURN(bool changed, domain::ApplyUpdate(p, if_match, mutate));
  if (changed) {
    tx.SaveProduct(p);
    tx.EmitProduct("product.updated", p);
  }
  return p;
}

absl::StatusOr<BatchResult> WriteProductUpsert(ProductTx& tx,
                                               const std::vector<domain::Product>& products) {
  BatchResult result;
  for (domain::Product p : products) {
    CRM_ASSIGN_OR_RETURN(std::optional<domain::Product> stored, tx.FindProduct(p.sku));
    switch (domain::ApplyUpsert(stored, p)) {
      case domain::UpsertOutcome::kCreated:
        tx.InsertProduct(p);  // a concurrent insert of the SKU wins; counted all the same
        tx.EmitProduct("product.created", p);
        ++result.created;
        break;
      case domain::UpsertOutcome::kUpdated:
        tx.SaveProduct(p);
        tx.EmitProduct("product.updated", p);
        ++result.updated;
        break;
      case domain::UpsertOutcome::kUnchanged:
        ++result.unchanged;
        break;
    }
  }
  return result;
}

absl::StatusOr<domain::Product> Catalog::Create(const Actor& actor, domain::Product p) {
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(p));
  p.version = 1;
  p.create_time = p.update_time = clock_.Now();
  return repository_.Run<domain::Product>(actor, p.sku,
                                          [&](ProductTx& tx) { return WriteNewProduct(tx, p); });
}

absl::StatusOr<domain::Product> Catalog::Get(const std::string& tenant, const std::string& sku) {
  CRM_RETURN_IF_ERROR(CheckSku(sku));
  return repository_.Get(tenant, sku);
}

absl::StatusOr<domain::Product> Catalog::Update(const Actor& actor, const std::string& sku,
                                                const domain::Product& patch,
                                                const std::vector<std::string>& paths,
                                                const std::string& if_match) {
  CRM_RETURN_IF_ERROR(CheckSku(sku));
  domain::Product probe;
  CRM_RETURN_IF_ERROR(domain::ApplyUpdateMask(patch, paths, probe));
  absl::Time now = clock_.Now();
  return repository_.Run<domain::Product>(actor, sku, [&](ProductTx& tx) {
    return WriteProductUpdate(tx, sku, if_match, [&](domain::Product& current) {
      CRM_RETURN_IF_ERROR(domain::ApplyUpdateMask(patch, paths, current));
      CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(current));
      current.update_time = now;
      return absl::OkStatus();
    });
  });
}

absl::StatusOr<ProductPage> Catalog::List(const std::string& tenant, ProductQuery q) {
  q.name_prefix = absl::AsciiStrToLower(absl::StripAsciiWhitespace(q.name_prefix));
  if (q.name_prefix.size() > 200) {
    return common::InvalidField("name_prefix", "name_prefix is at most 200 characters");
  }
  if (q.category_prefix.size() > 200) {
    return common::InvalidField("category_prefix", "category_prefix is at most 200 characters");
  }
  return repository_.List(tenant, q);
}

absl::StatusOr<BatchResult> Catalog::BatchUpsert(const Actor& actor,
                                                 std::vector<domain::Product> products) {
  if (products.empty()) return common::InvalidField("products", "give at least one product");
  if (products.size() > static_cast<size_t>(domain::kMaxBatchProducts)) {
    return common::InvalidField(
        "products", absl::StrCat("at most ", domain::kMaxBatchProducts, " products per batch"));
  }
  std::vector<BatchItemError> errors;
  std::vector<domain::Product> valid;
  std::set<std::string> seen;
  absl::Time now = clock_.Now();
  for (size_t i = 0; i < products.size(); ++i) {
    domain::Product& p = products[i];
    absl::Status s = domain::NormalizeAndValidate(p);
    if (s.ok() && !seen.insert(p.sku).second) {
      s = common::InvalidField("sku", "the same sku appears twice in this batch");
    }
    if (!s.ok()) {
      std::string reason = common::ReasonOf(s);
      errors.push_back({static_cast<int>(i), p.sku, common::FieldOf(s),
                        reason.empty() ? "INVALID_FIELD" : reason, std::string(s.message())});
      continue;
    }
    p.create_time = p.update_time = now;
    valid.push_back(std::move(p));
  }
  BatchResult result;
  if (!valid.empty()) {
    CRM_ASSIGN_OR_RETURN(result, repository_.Run<BatchResult>(
                                     actor, absl::StrCat("products:", valid.size()),
                                     [&](ProductTx& tx) { return WriteProductUpsert(tx, valid); }));
  }
  result.errors = std::move(errors);
  return result;
}

}  // namespace crm::transaction::app

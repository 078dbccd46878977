#include "tests/support/fakes/transaction/fake_product_repository.h"

#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace crm::testing {

namespace app = transaction::app;
namespace domain = transaction::domain;
using domain::Product;

namespace {

absl::Status ProductNotFound() { return common::NotFound("PRODUCT_NOT_FOUND", "product not found"); }

std::string Lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Matches(const Product& p, const app::ProductQuery& q) {
  if (!q.category_prefix.empty()) {
    const std::string category = domain::CategoryKey(p.category_path);
    if (category != q.category_prefix &&
        !absl::StartsWith(category, absl::StrCat(q.category_prefix, "/"))) {
      return false;
    }
  }
  if (q.active_only && !p.active) return false;
  if (!q.name_prefix.empty() && !absl::StartsWith(Lower(p.name), q.name_prefix)) return false;
  return true;
}

}  // namespace

absl::Status FakeProductRepository::Enter(const char* method) {
  ++calls_;
  last_method_ = method;
  if (fail_) return *fail_;
  return absl::OkStatus();
}

void FakeProductRepository::FailWith(std::optional<absl::Status> s) {
  absl::MutexLock lock(&mu_);
  fail_ = std::move(s);
}

int FakeProductRepository::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}
int FakeProductRepository::writes() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}
int FakeProductRepository::update_calls() const {
  absl::MutexLock lock(&mu_);
  return update_calls_;
}
int FakeProductRepository::upsert_calls() const {
  absl::MutexLock lock(&mu_);
  return upsert_calls_;
}
std::string FakeProductRepository::last_method() const {
  absl::MutexLock lock(&mu_);
  return last_method_;
}
std::vector<Product> FakeProductRepository::last_upsert() const {
  absl::MutexLock lock(&mu_);
  return last_upsert_;
}
app::ProductQuery FakeProductRepository::last_query() const {
  absl::MutexLock lock(&mu_);
  return last_query_;
}
std::vector<std::string> FakeProductRepository::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

absl::StatusOr<Product> FakeProductRepository::Insert(const app::Actor& actor, const Product& p) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("Insert"); !s.ok()) return s;
  TenantData& t = tenants_[actor.tenant_id];
  if (!actor.idempotency_key.empty()) {
    auto it = t.requests.find(actor.idempotency_key);
    if (it != t.requests.end()) {
      if (it->second.first != actor.method) {
        return common::InvalidField("request_id", "request_id was already used for a different call");
      }
      auto prev = t.products.find(it->second.second);
      if (prev == t.products.end()) return ProductNotFound();
      return prev->second;
    }
  }
  if (t.products.count(p.sku) > 0) {
    return common::WithField(
        common::WithReason(absl::AlreadyExistsError(absl::StrCat("a product with sku \"", p.sku,
                                                                 "\" exists")),
                           "PRODUCT_EXISTS"),
        "sku");
  }
  t.products[p.sku] = p;
  if (!actor.idempotency_key.empty()) {
    t.requests[actor.idempotency_key] = {actor.method, p.sku};
  }
  ++writes_;
  events_.push_back(absl::StrCat("product.created:", p.sku));
  return p;
}

absl::StatusOr<Product> FakeProductRepository::Get(const std::string& tenant,
                                                   const std::string& sku) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("Get"); !s.ok()) return s;
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return ProductNotFound();
  auto it = t->second.products.find(sku);
  if (it == t->second.products.end()) return ProductNotFound();
  return it->second;
}

absl::StatusOr<Product> FakeProductRepository::Update(const app::Actor& actor,
                                                      const std::string& sku,
                                                      const std::string& if_match,
                                                      const Mutation& mutate) {
  absl::MutexLock lock(&mu_);
  ++update_calls_;
  if (absl::Status s = Enter("Update"); !s.ok()) return s;
  auto t = tenants_.find(actor.tenant_id);
  if (t == tenants_.end()) return ProductNotFound();
  auto it = t->second.products.find(sku);
  if (it == t->second.products.end()) return ProductNotFound();
  const Product before = it->second;
  if (!if_match.empty() && if_match != domain::EtagOf(before)) {
    return common::WithReason(absl::AbortedError("etag does not match"), "ETAG_MISMATCH");
  }
  Product after = before;
  if (absl::Status s = mutate(after); !s.ok()) return s;
  if (domain::SameContent(before, after)) return before;
  after.version = before.version + 1;
  after.create_time = before.create_time;
  it->second = after;
  ++writes_;
  events_.push_back(absl::StrCat("product.updated:", sku));
  return after;
}

absl::StatusOr<app::ProductPage> FakeProductRepository::List(const std::string& tenant,
                                                             const app::ProductQuery& q) {
  absl::MutexLock lock(&mu_);
  last_query_ = q;
  if (absl::Status s = Enter("List"); !s.ok()) return s;
  app::ProductPage page;
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return page;
  bool more = false;
  for (auto it = t->second.products.upper_bound(q.after_sku); it != t->second.products.end();
       ++it) {
    if (!Matches(it->second, q)) continue;
    if (static_cast<int>(page.items.size()) == q.limit) {
      more = true;
      break;
    }
    page.items.push_back(it->second);
  }
  if (more && !page.items.empty()) page.next_cursor = page.items.back().sku;
  return page;
}

absl::StatusOr<app::BatchResult> FakeProductRepository::Upsert(
    const app::Actor& actor, const std::vector<Product>& products) {
  absl::MutexLock lock(&mu_);
  ++upsert_calls_;
  last_upsert_ = products;
  if (absl::Status s = Enter("Upsert"); !s.ok()) return s;
  TenantData& t = tenants_[actor.tenant_id];
  app::BatchResult r;
  for (const Product& p : products) {
    auto it = t.products.find(p.sku);
    if (it == t.products.end()) {
      Product created = p;
      created.version = 1;
      t.products[p.sku] = created;
      ++r.created;
      ++writes_;
      events_.push_back(absl::StrCat("product.created:", p.sku));
      continue;
    }
    if (domain::SameContent(it->second, p)) {
      ++r.unchanged;
      continue;
    }
    Product after = p;
    after.version = it->second.version + 1;
    after.create_time = it->second.create_time;
    it->second = after;
    ++r.updated;
    ++writes_;
    events_.push_back(absl::StrCat("product.updated:", p.sku));
  }
  return r;
}

}  // namespace crm::testing

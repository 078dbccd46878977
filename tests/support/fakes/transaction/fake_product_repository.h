#pragma once
// In-memory ProductRepository keeping the port's contracts
// (services/transaction/app/ports.h): tenant scoping (NOT_FOUND
// PRODUCT_NOT_FOUND), SKU uniqueness per tenant, SKU-ordered paging with
// category / active / name-prefix filters, and the unit of work's key
// discipline and all-or-nothing writes (FakeUnitOfWork). The use cases drive
// its writes through ProductTx, as they drive PostgreSQL's; the fake only
// stores what they save and records what they emit ("type:sku").
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/transaction/app/ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

class FakeProductRepository final : public transaction::app::ProductRepository {
 public:
  using Product = transaction::domain::Product;
  using BatchResult = transaction::app::BatchResult;
  using ProductTx = transaction::app::ProductTx;

  absl::StatusOr<Product> Write(
      const outbox::WriteMeta& m, const std::string&,
      absl::FunctionRef<absl::StatusOr<Product>(ProductTx&)> work) override {
    return Run<Product>(m, work);
  }
  absl::StatusOr<BatchResult> Write(
      const outbox::WriteMeta& m, const std::string&,
      absl::FunctionRef<absl::StatusOr<BatchResult>(ProductTx&)> work) override {
    Count([](State& st) { ++st.batch_writes; });
    return Run<BatchResult>(m, work);
  }

  absl::StatusOr<Product> Get(const std::string& tenant, const std::string& sku) override {
    return uow_.WithMutable([&](State& st) -> absl::StatusOr<Product> {
      if (absl::Status s = Enter(st); !s.ok()) return s;
      const auto& products = st.tenants[tenant];
      auto it = products.find(sku);
      if (it == products.end()) return NotFound();
      return it->second;
    });
  }
  absl::StatusOr<transaction::app::ProductPage> List(
      const std::string& tenant, const transaction::app::ProductQuery& q) override {
    return uow_.WithMutable([&](State& st) -> absl::StatusOr<transaction::app::ProductPage> {
      st.last_query = q;
      if (absl::Status s = Enter(st); !s.ok()) return s;
      transaction::app::ProductPage page;
      const auto& products = st.tenants[tenant];
      bool more = false;
      for (auto it = products.upper_bound(q.after_sku); it != products.end(); ++it) {
        if (!Matches(it->second, q)) continue;
        if (static_cast<int>(page.items.size()) == q.limit) {
          more = true;
          break;
        }
        page.items.push_back(it->second);
      }
      if (more && !page.items.empty()) page.next_cursor = page.items.back().sku;
      return page;
    });
  }

  // Every call fails with `s` until cleared with std::nullopt.
  void FailWith(std::optional<absl::Status> s) {
    uow_.WithMutable([&](State& st) { st.fail = std::move(s); });
  }

  // Counters and captures for assertions.
  int calls() const {  // every port call
    return uow_.With([](const State& st) { return st.calls; });
  }
  int writes() const {  // rows written (inserted or saved)
    return uow_.With([](const State& st) { return st.rows_written; });
  }
  int upsert_calls() const {  // batch upserts run
    return uow_.With([](const State& st) { return st.batch_writes; });
  }
  // The products the last successful write saved, in order.
  std::vector<Product> last_saved() const {
    return uow_.With([](const State& st) { return st.last_saved; });
  }
  transaction::app::ProductQuery last_query() const {  // of the last List
    return uow_.With([](const State& st) { return st.last_query; });
  }
  std::vector<std::string> events() const {  // "product.created:<sku>", ...
    return uow_.With([](const State& st) { return st.events; });
  }

 private:
  struct State {
    std::map<std::string, std::map<std::string, Product>> tenants;  // tenant -> sku -> product
    std::vector<std::string> events;
    std::vector<Product> last_saved;
    std::optional<absl::Status> fail;
    int calls = 0;
    int rows_written = 0;
    int batch_writes = 0;
    transaction::app::ProductQuery last_query;
  };

  // ProductTx over the copy of the state a write works on.
  class Tx final : public ProductTx {
   public:
    Tx(State& st, const std::string& tenant) : st_(st), products_(st.tenants[tenant]) {}
    absl::StatusOr<std::optional<Product>> FindProduct(const std::string& sku) override {
      auto it = products_.find(sku);
      if (it == products_.end()) return std::optional<Product>();
      return std::optional<Product>(it->second);
    }
    bool InsertProduct(const Product& p) override {
      if (!products_.emplace(p.sku, p).second) return false;
      Saved(p);
      return true;
    }
    void SaveProduct(const Product& p) override {
      products_[p.sku] = p;
      Saved(p);
    }
    void EmitProduct(const char* type, const Product& p) override {
      st_.events.push_back(absl::StrCat(type, ":", p.sku));
    }

   private:
    void Saved(const Product& p) {
      ++st_.rows_written;
      st_.last_saved.push_back(p);
    }
    State& st_;
    std::map<std::string, Product>& products_;
  };

  template <typename T>
  absl::StatusOr<T> Run(const outbox::WriteMeta& m,
                        absl::FunctionRef<absl::StatusOr<T>(ProductTx&)> work) {
    if (absl::Status s = uow_.WithMutable([](State& st) { return Enter(st); }); !s.ok()) return s;
    return uow_.Write<T>(m, [&](State& st) -> absl::StatusOr<T> {
      st.last_saved.clear();
      Tx tx(st, m.tenant_id);
      return work(tx);
    });
  }
  template <typename Fn>
  void Count(Fn fn) {
    uow_.WithMutable([&](State& st) { fn(st); });
  }
  static absl::Status Enter(State& st) {
    ++st.calls;
    return st.fail ? *st.fail : absl::OkStatus();
  }
  static absl::Status NotFound() {
    return common::NotFound("PRODUCT_NOT_FOUND", "product not found");
  }
  static bool Matches(const Product& p, const transaction::app::ProductQuery& q) {
    if (!q.category_prefix.empty()) {
      const std::string category = transaction::domain::CategoryKey(p.category_path);
      if (category != q.category_prefix &&
          !absl::StartsWith(category, absl::StrCat(q.category_prefix, "/"))) {
        return false;
      }
    }
    if (q.active_only && !p.active) return false;
    if (!q.name_prefix.empty()) {
      std::string name = p.name;
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!absl::StartsWith(name, q.name_prefix)) return false;
    }
    return true;
  }

  FakeUnitOfWork<State> uow_;
};

}  // namespace crm::testing

#pragma once
// In-memory OrderRepository keeping the port's contracts
// (services/transaction/app/ports.h): tenant scoping (another tenant's order
// is NOT_FOUND ORDER_NOT_FOUND; a record of another order PAYMENT_NOT_FOUND /
// REFUND_NOT_FOUND), a per-tenant catalog of SKUs (AddSku), newest-first
// paging by (placed_time, id) with customer and status filters, and the
// unit of work's key discipline and all-or-nothing writes
// (FakeUnitOfWork). The use cases drive its writes through OrderTx, as they
// drive PostgreSQL's; the fake only stores what they save and records what
// they emit ("order.placed:<id>:<customer_id>", "payment.captured:<id>", ...).
#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/transaction/app/ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

class FakeOrderRepository final : public transaction::app::OrderRepository {
 public:
  using Actor = transaction::app::Actor;
  using Order = transaction::domain::Order;
  using Payment = transaction::domain::Payment;
  using Return = transaction::domain::Return;
  using Refund = transaction::domain::Refund;
  using OrderTx = transaction::app::OrderTx;

  absl::StatusOr<Order> Write(const outbox::WriteMeta& m, const std::string&,
                              absl::FunctionRef<absl::StatusOr<Order>(OrderTx&)> work) override {
    return Run<Order>(m, work);
  }
  absl::StatusOr<Payment> Write(
      const outbox::WriteMeta& m, const std::string&,
      absl::FunctionRef<absl::StatusOr<Payment>(OrderTx&)> work) override {
    return Run<Payment>(m, work);
  }
  absl::StatusOr<Return> Write(const outbox::WriteMeta& m, const std::string&,
                               absl::FunctionRef<absl::StatusOr<Return>(OrderTx&)> work) override {
    return Run<Return>(m, work);
  }
  absl::StatusOr<Refund> Write(const outbox::WriteMeta& m, const std::string&,
                               absl::FunctionRef<absl::StatusOr<Refund>(OrderTx&)> work) override {
    return Run<Refund>(m, work);
  }

  absl::StatusOr<std::optional<Order>> FindReplay(const Actor& actor) override {
    CRM_RETURN_IF_ERROR(Enter());
    std::optional<absl::StatusOr<Order>> replay = uow_.Peek<Order>(actor);
    if (!replay) return std::optional<Order>();
    if (!replay->ok()) return replay->status();
    return std::optional<Order>(**replay);
  }
  absl::StatusOr<Order> Get(const std::string& tenant, const std::string& id) override {
    CRM_RETURN_IF_ERROR(Enter());
    return uow_.WithMutable([&](State& st) -> absl::StatusOr<Order> {
      CRM_ASSIGN_OR_RETURN(OrderData * d, Find(st.tenants[tenant], id));
      return d->order;
    });
  }
  absl::StatusOr<transaction::app::OrderPage> List(const std::string& tenant,
                                                   const transaction::app::OrderQuery& q) override {
    CRM_RETURN_IF_ERROR(Enter());
    return uow_.WithMutable([&](State& st) -> absl::StatusOr<transaction::app::OrderPage> {
      st.last_query = q;
      std::optional<Order> before;  // only placed_time and id are used
      if (!q.before_cursor.empty()) {
        std::vector<std::string> parts = absl::StrSplit(q.before_cursor, '|');
        int64_t micros = 0;
        if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &micros)) {
          return common::WithReason(absl::InvalidArgumentError("page_token is invalid"),
                                    "INVALID_PAGE_TOKEN");
        }
        before = Order{};
        before->placed_time = absl::FromUnixMicros(micros);
        before->id = parts[1];
      }
      std::vector<Order> all;
      for (const auto& [id, d] : st.tenants[tenant].orders) {
        const Order& o = d.order;
        if (!q.customer_id.empty() && o.customer_id != q.customer_id) continue;
        if (q.status != transaction::domain::OrderStatus::kUnspecified && o.status != q.status) {
          continue;
        }
        if (before && !Newer(*before, o)) continue;
        all.push_back(o);
      }
      std::sort(all.begin(), all.end(), Newer);
      transaction::app::OrderPage page;
      for (const auto& o : all) {
        if (static_cast<int>(page.items.size()) == q.limit) break;
        page.items.push_back(o);
      }
      if (static_cast<int>(all.size()) > q.limit && !page.items.empty()) {
        const Order& last = page.items.back();
        page.next_cursor = absl::StrCat(absl::ToUnixMicros(last.placed_time), "|", last.id);
      }
      return page;
    });
  }
  absl::StatusOr<std::vector<Payment>> ListPayments(const std::string& tenant,
                                                    const std::string& order_id) override {
    return Records<Payment>(tenant, order_id, &OrderData::payments);
  }
  absl::StatusOr<std::vector<Return>> ListReturns(const std::string& tenant,
                                                  const std::string& order_id) override {
    return Records<Return>(tenant, order_id, &OrderData::returns);
  }
  absl::StatusOr<std::vector<Refund>> ListRefunds(const std::string& tenant,
                                                  const std::string& order_id) override {
    return Records<Refund>(tenant, order_id, &OrderData::refunds);
  }

  // The tenant's catalog: only these SKUs may be ordered.
  void AddSku(const std::string& tenant, const std::string& sku) {
    uow_.WithMutable([&](State& st) { st.tenants[tenant].skus.insert(sku); });
  }
  // An order of `tenant` as if it had been written (money can be recorded for it).
  void PutOrder(const std::string& tenant, const Order& o) {
    uow_.WithMutable([&](State& st) { st.tenants[tenant].orders[o.id].order = o; });
  }
  // Every call fails with `s` until cleared with std::nullopt.
  void FailWith(std::optional<absl::Status> s) {
    uow_.WithMutable([&](State& st) { st.fail = std::move(s); });
  }

  // Counters and captures for assertions.
  int calls() const {  // every port call
    return uow_.With([](const State& st) { return st.calls; });
  }
  int writes() const {  // writes that succeeded (replays not counted)
    return uow_.writes() + uow_.With([](const State& st) { return st.joined_writes; });
  }
  std::optional<Order> last_insert() const {  // the last new order saved
    return uow_.With([](const State& st) { return st.last_insert; });
  }
  transaction::app::OrderQuery last_query() const {  // of the last List
    return uow_.With([](const State& st) { return st.last_query; });
  }
  std::vector<std::string> events() const {
    return uow_.With([](const State& st) { return st.events; });
  }

 private:
  struct OrderData {
    Order order;
    std::vector<Payment> payments;
    std::vector<Return> returns;
    std::vector<Refund> refunds;
  };
  struct TenantData {
    std::set<std::string> skus;
    std::map<std::string, OrderData> orders;  // by id
  };
  struct State {
    std::map<std::string, TenantData> tenants;
    std::vector<std::string> events;
    std::optional<Order> last_insert;
    std::optional<absl::Status> fail;
    int calls = 0;
    int joined_writes = 0;
    transaction::app::OrderQuery last_query;
  };

 public:
  // The orders' port inside another fake's write (a won opportunity's
  // order, written with its close): it works on a copy of the tenant's
  // orders; Commit() keeps what it saved once that write succeeded.
  class Joined;
  std::unique_ptr<Joined> Join(const std::string& tenant);

 private:
  // OrderTx over the copy of the state a write works on.
  class Tx final : public OrderTx {
   public:
    Tx(State& st, const std::string& tenant) : st_(st), t_(st.tenants[tenant]) {}
    absl::StatusOr<Order> LoadOrder(const std::string& id) override {
      CRM_ASSIGN_OR_RETURN(OrderData * d, Find(t_, id));
      return d->order;
    }
    absl::StatusOr<Payment> LoadPayment(const std::string& order_id,
                                        const std::string& id) override {
      for (const Payment& p : Data(order_id).payments) {
        if (p.id == id) return p;
      }
      return common::NotFound("PAYMENT_NOT_FOUND", "payment not found");
    }
    absl::StatusOr<Refund> LoadRefund(const std::string& order_id, const std::string& id) override {
      for (const Refund& r : Data(order_id).refunds) {
        if (r.id == id) return r;
      }
      return common::NotFound("REFUND_NOT_FOUND", "refund not found");
    }
    std::vector<Refund> LoadRefunds(const std::string& order_id) override {
      return Data(order_id).refunds;
    }
    std::vector<Return> LoadReturns(const std::string& order_id) override {
      return Data(order_id).returns;
    }
    std::set<std::string> KnownSkus(const std::vector<std::string>& skus) override {
      std::set<std::string> known;
      for (const std::string& sku : skus) {
        if (t_.skus.count(sku)) known.insert(sku);
      }
      return known;
    }
    std::optional<std::string> OrderWithExternalId(const std::string& external_id) override {
      for (const auto& [id, d] : t_.orders) {
        if (d.order.external_id == external_id) return id;
      }
      return std::nullopt;
    }
    void SaveOrder(const Order& o, bool is_new) override {
      if (is_new) {
        t_.orders[o.id].order = o;
        st_.last_insert = o;
        return;
      }
      // What the adapter saves of a loaded order: status, version, time, sums.
      Order& stored = t_.orders[o.id].order;
      stored.status = o.status;
      stored.version = o.version;
      stored.update_time = o.update_time;
      stored.paid_minor = o.paid_minor;
      stored.returned_minor = o.returned_minor;
      stored.refunded_minor = o.refunded_minor;
      stored.adjusted_minor = o.adjusted_minor;
    }
    void SavePayment(const Payment& p, bool) override { Upsert(Data(p.order_id).payments, p); }
    void SaveRefund(const Refund& r, bool) override { Upsert(Data(r.order_id).refunds, r); }
    void AppendReturn(const Return& r, const Order& o) override {
      OrderData& d = Data(o.id);
      d.returns.push_back(r);
      for (const auto& l : r.lines) {
        const auto i = static_cast<size_t>(l.line_no);
        d.order.lines[i].returned_quantity = o.lines[i].returned_quantity;
      }
    }
    void EmitOrder(const std::string& type, const Order& o) override {
      st_.events.push_back(absl::StrCat(type, ":", o.id, ":", o.customer_id));
    }
    void EmitPayment(const std::string& type, const Order&, const Payment& p) override {
      st_.events.push_back(absl::StrCat(type, ":", p.id));
    }
    void EmitReturn(const Order&, const Return& r) override {
      st_.events.push_back(absl::StrCat("return.created:", r.id));
    }
    void EmitRefund(const std::string& type, const Order&, const Refund& r) override {
      st_.events.push_back(absl::StrCat(type, ":", r.id));
    }

   private:
    OrderData& Data(const std::string& order_id) { return t_.orders[order_id]; }
    template <typename R>
    static void Upsert(std::vector<R>& records, const R& r) {
      for (R& existing : records) {
        if (existing.id == r.id) {
          existing = r;
          return;
        }
      }
      records.push_back(r);
    }
    State& st_;
    TenantData& t_;
  };

  template <typename T>
  absl::StatusOr<T> Run(const outbox::WriteMeta& m,
                        absl::FunctionRef<absl::StatusOr<T>(OrderTx&)> work) {
    CRM_RETURN_IF_ERROR(Enter());
    return uow_.Write<T>(m, [&](State& st) -> absl::StatusOr<T> {
      Tx tx(st, m.tenant_id);
      return work(tx);
    });
  }
  template <typename R>
  absl::StatusOr<std::vector<R>> Records(const std::string& tenant, const std::string& order_id,
                                         std::vector<R> OrderData::*field) {
    CRM_RETURN_IF_ERROR(Enter());
    return uow_.WithMutable([&](State& st) -> absl::StatusOr<std::vector<R>> {
      CRM_ASSIGN_OR_RETURN(OrderData * d, Find(st.tenants[tenant], order_id));
      return d->*field;
    });
  }
  absl::Status Enter() {
    return uow_.WithMutable([](State& st) {
      ++st.calls;
      return st.fail ? *st.fail : absl::OkStatus();
    });
  }
  static absl::StatusOr<OrderData*> Find(TenantData& t, const std::string& id) {
    auto it = t.orders.find(id);
    if (it == t.orders.end()) return common::NotFound("ORDER_NOT_FOUND", "order not found");
    return &it->second;
  }
  // (placed_time, id) descending, as the listing orders them.
  static bool Newer(const Order& a, const Order& b) {
    if (a.placed_time != b.placed_time) return a.placed_time > b.placed_time;
    return a.id > b.id;
  }

  FakeUnitOfWork<State> uow_;
};

class FakeOrderRepository::Joined {
 public:
  Joined(FakeOrderRepository& repo, std::string tenant)
      : repo_(repo),
        tenant_(std::move(tenant)),
        copy_(repo.uow_.With([](const State& st) { return st; })),
        events_before_(copy_.events.size()),
        tx_(copy_, tenant_) {
    copy_.last_insert.reset();
  }
  OrderTx& tx() { return tx_; }
  void Commit() {
    repo_.uow_.WithMutable([&](State& st) {
      st.tenants[tenant_] = copy_.tenants[tenant_];
      st.events.insert(st.events.end(),
                       copy_.events.begin() + static_cast<std::ptrdiff_t>(events_before_),
                       copy_.events.end());
      if (copy_.last_insert) st.last_insert = copy_.last_insert;
      ++st.joined_writes;
    });
  }

 private:
  FakeOrderRepository& repo_;
  std::string tenant_;
  State copy_;
  size_t events_before_;
  Tx tx_;
};

inline std::unique_ptr<FakeOrderRepository::Joined> FakeOrderRepository::Join(
    const std::string& tenant) {
  return std::make_unique<Joined>(*this, tenant);
}

}  // namespace crm::testing

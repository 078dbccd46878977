#pragma once
// In-memory ModelRepository and FactRepository of the segmentation engine
// (services/segmentation/app/ports.h), keeping the ports' contracts: tenant
// scoping, the newest version of each order, customer changes once per event
// id (created, erased with their orders, merged / unmerged re-pointing
// orders), behaviour facts once per event id following visitor links and
// merges, and the unit of work's key discipline and all-or-nothing writes
// (FakeUnitOfWork) for refits.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_join.h"
#include "services/segmentation/app/ports.h"
#include "services/segmentation/app/segment_ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

class FakeSegmentationStore final : public segmentation::app::ModelRepository,
                                    public segmentation::app::FactRepository,
                                    public segmentation::app::SettingsReader {
 public:
  using ClvModel = segmentation::domain::ClvModel;
  using PurchaseRecord = segmentation::domain::PurchaseRecord;

  struct Order {
    PurchaseRecord record;
    std::string placed_by;
  };
  struct BehaviourRow {
    events::BehaviourFact fact;
    std::string subject;   // the customer named, or the visitor's linked one; "" anonymous
    std::string customer;  // the subject's survivor, else the subject
  };
  struct Tenant {
    std::optional<ClvModel> model;
    std::map<std::string, Order> orders;  // by order id
    std::set<std::string> customers;
    std::map<std::string, std::string> merges;  // source -> survivor
    std::map<std::string, BehaviourRow> behaviour;     // by event id
    std::map<std::string, std::string> visitor_links;  // visitor -> customer
    // (customer, channel, purpose) -> (status, recorded at)
    std::map<std::tuple<std::string, std::string, std::string>, std::pair<std::string, absl::Time>>
        consents;
    segmentation::domain::SegmentationSettings settings;
    int64_t behaviour_retention_version = 0;
    // sku -> (version, category path)
    std::map<std::string, std::pair<int64_t, std::vector<std::string>>> products;
    // customer -> (version, fields)
    std::map<std::string, std::pair<int64_t, segmentation::domain::ProfileFields>> profiles;
  };
  struct State {
    std::map<std::string, Tenant> tenants;
    std::set<std::string> processed;  // event ids
    std::vector<std::string> emitted;
    std::optional<absl::Status>
        fail;  // RecordOrders / RecordBehaviour of several facts fail with it
  };

  absl::StatusOr<ClvModel> Write(
      const outbox::WriteMeta& m, const std::string&,
      absl::FunctionRef<absl::StatusOr<ClvModel>(segmentation::app::ModelTx&)> work) override {
    return uow_.Write<ClvModel>(m, [&](State& st) -> absl::StatusOr<ClvModel> {
      Tx tx(st.tenants[m.tenant_id], st.emitted);
      return work(tx);
    });
  }
  absl::StatusOr<std::optional<ClvModel>> GetClvModel(const std::string& tenant) override {
    return uow_.WithMutable([&](State& st) { return st.tenants[tenant].model; });
  }
  absl::StatusOr<std::vector<segmentation::app::TenantModel>> ModelsFittedBefore(
      absl::Time fitted_before, int limit) override {
    return uow_.With([&](const State& st) {
      std::vector<segmentation::app::TenantModel> out;
      for (const auto& [tenant, t] : st.tenants) {
        if (t.model && t.model->fitted_at < fitted_before) out.push_back({tenant, *t.model});
      }
      std::sort(out.begin(), out.end(),
                [](const auto& l, const auto& r) { return l.model.fitted_at < r.model.fitted_at; });
      if (static_cast<int>(out.size()) > limit) out.resize(limit);
      return out;
    });
  }

  absl::StatusOr<std::vector<PurchaseRecord>> Purchases(const std::string& tenant) override {
    return uow_.WithMutable([&](State& st) { return Records(st.tenants[tenant], ""); });
  }
  absl::StatusOr<std::vector<PurchaseRecord>> PurchasesOf(const std::string& tenant,
                                                          const std::string& customer) override {
    return uow_.WithMutable([&](State& st) { return Records(st.tenants[tenant], customer); });
  }
  absl::StatusOr<bool> KnowsCustomer(const std::string& tenant,
                                     const std::string& customer) override {
    return uow_.WithMutable([&](State& st) {
      Tenant& t = st.tenants[tenant];
      return t.customers.count(customer) > 0 || !Records(t, customer).empty();
    });
  }
  absl::Status RecordOrders(const std::string& tenant,
                            const std::vector<events::OrderFact>& facts) override {
    return uow_.WithMutable([&](State& st) -> absl::Status {
      if (st.fail && facts.size() > 1) return *st.fail;
      Tenant& t = st.tenants[tenant];
      for (const events::OrderFact& f : facts) {
        auto it = t.orders.find(f.order_id);
        if (it != t.orders.end() && it->second.record.version >= f.version) continue;
        auto survivor = t.merges.find(f.customer_id);
        Order o{{f.order_id, survivor == t.merges.end() ? f.customer_id : survivor->second,
                 f.placed_time, f.currency_code, f.net_minor, f.status, f.version},
                f.customer_id};
        t.orders[f.order_id] = o;
      }
      return absl::OkStatus();
    });
  }
  absl::Status ApplyCustomerChange(const events::CustomerChange& c) override {
    using Kind = events::CustomerChange::Kind;
    return uow_.WithMutable([&](State& st) -> absl::Status {
      if (!st.processed.insert(c.event_id).second) return absl::OkStatus();
      Tenant& t = st.tenants[c.tenant_id];
      switch (c.kind) {
        case Kind::kCreated:
        case Kind::kUpdated:
          t.customers.insert(c.customer_id);
          if (c.has_profile) {
            auto& kept = t.profiles[c.customer_id];
            if (kept.first < c.version) kept = {c.version, c.profile};
          }
          break;
        case Kind::kErased:
          for (const std::string& id : c.erased_ids) {
            t.customers.erase(id);
            t.profiles.erase(id);
            for (auto it = t.orders.begin(); it != t.orders.end();) {
              const bool gone = it->second.record.customer_id == id || it->second.placed_by == id;
              it = gone ? t.orders.erase(it) : std::next(it);
            }
            for (auto it = t.behaviour.begin(); it != t.behaviour.end();) {
              const bool gone = it->second.customer == id || it->second.subject == id;
              it = gone ? t.behaviour.erase(it) : std::next(it);
            }
            for (auto it = t.consents.begin(); it != t.consents.end();) {
              it = std::get<0>(it->first) == id ? t.consents.erase(it) : std::next(it);
            }
            for (auto it = t.visitor_links.begin(); it != t.visitor_links.end();) {
              it = it->second == id ? t.visitor_links.erase(it) : std::next(it);
            }
          }
          break;
        case Kind::kMerged:
          t.merges[c.other_id] = c.customer_id;
          for (auto& [_, o] : t.orders) {
            if (o.record.customer_id == c.other_id) o.record.customer_id = c.customer_id;
          }
          for (auto& [_, b] : t.behaviour) {
            if (b.customer == c.other_id) b.customer = c.customer_id;
          }
          break;
        case Kind::kUnmerged:
          t.merges.erase(c.other_id);
          for (auto& [_, o] : t.orders) {
            if (o.placed_by == c.other_id && o.record.customer_id == c.customer_id) {
              o.record.customer_id = c.other_id;
            }
          }
          for (auto& [_, b] : t.behaviour) {
            if (b.subject == c.other_id && b.customer == c.customer_id) b.customer = c.other_id;
          }
          break;
      }
      return absl::OkStatus();
    });
  }

  absl::Status RecordBehaviour(const std::string& tenant,
                               const std::vector<events::BehaviourFact>& facts) override {
    return uow_.WithMutable([&](State& st) -> absl::Status {
      if (st.fail && facts.size() > 1) return *st.fail;
      Tenant& t = st.tenants[tenant];
      for (const events::BehaviourFact& f : facts) {
        if (t.behaviour.count(f.event_id) > 0) continue;
        BehaviourRow b{f, f.customer_id, ""};
        if (b.subject.empty()) {
          auto link = t.visitor_links.find(f.visitor_id);
          if (link != t.visitor_links.end()) b.subject = link->second;
        }
        b.customer = SurvivorOf(t, b.subject);
        t.behaviour.emplace(f.event_id, std::move(b));
      }
      return absl::OkStatus();
    });
  }
  absl::Status LinkVisitor(const events::CustomerIdentified& link) override {
    return uow_.WithMutable([&](State& st) -> absl::Status {
      if (!st.processed.insert(link.event_id).second) return absl::OkStatus();
      Tenant& t = st.tenants[link.tenant_id];
      const std::string& customer =
          t.visitor_links.emplace(link.visitor_id, link.customer_id).first->second;
      for (auto& [_, b] : t.behaviour) {
        if (b.customer.empty() && b.fact.visitor_id == link.visitor_id) {
          b.subject = customer;
          b.customer = SurvivorOf(t, customer);
        }
      }
      return absl::OkStatus();
    });
  }
  absl::Status RecordBehaviourRetention(const events::BehaviourRetention& r) override {
    return uow_.WithMutable([&](State& st) -> absl::Status {
      Tenant& t = st.tenants[r.tenant_id];
      if (r.version > t.behaviour_retention_version) {
        t.behaviour_retention_version = r.version;
        t.settings.behaviour_retention_days = r.retention_days;
      }
      return absl::OkStatus();
    });
  }
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> TenantsWithBehaviourRetention()
      override {
    return uow_.With([](const State& st) {
      std::vector<std::pair<std::string, int64_t>> out;
      for (const auto& [id, t] : st.tenants) {
        if (t.settings.behaviour_retention_days > 0) {
          out.emplace_back(id, t.settings.behaviour_retention_days);
        }
      }
      return out;
    });
  }
  // One step deletes every expired row: the fake has no blocks.
  absl::StatusOr<common::PurgeStep> PurgeBehaviour(const std::string& tenant, absl::Time cutoff,
                                                   int64_t from_block, int blocks) override {
    return uow_.WithMutable([&](State& st) {
      common::PurgeStep step;
      auto& rows = st.tenants[tenant].behaviour;
      for (auto it = rows.begin(); it != rows.end();) {
        if (it->second.fact.occurred_time < cutoff) {
          it = rows.erase(it);
          ++step.deleted;
        } else {
          ++it;
        }
      }
      step.next_block = from_block + blocks;
      step.done = true;
      return step;
    });
  }
  absl::Status RecordConsent(const events::ConsentFact& c) override {
    return uow_.WithMutable([&](State& st) -> absl::Status {
      auto& kept = st.tenants[c.tenant_id].consents[{c.customer_id, c.channel, c.purpose}];
      if (kept.first.empty() || kept.second <= c.recorded_time) kept = {c.status, c.recorded_time};
      return absl::OkStatus();
    });
  }
  absl::StatusOr<std::vector<segmentation::domain::CustomerConsent>> Consents(
      const std::string& tenant, const std::optional<std::vector<std::string>>& ids) override {
    return uow_.WithMutable([&](State& st) {
      std::set<std::string> wanted;
      if (ids) wanted.insert(ids->begin(), ids->end());
      std::vector<segmentation::domain::CustomerConsent> out;
      for (const auto& [key, value] : st.tenants[tenant].consents) {
        const auto& [customer, channel, purpose] = key;
        if (!ids || wanted.count(customer))
          out.push_back({customer, channel, purpose, value.first});
      }
      return out;
    });
  }
  absl::Status RecordProducts(const std::string& tenant,
                              const std::vector<events::ProductFact>& facts) override {
    return uow_.WithMutable([&](State& st) -> absl::Status {
      for (const events::ProductFact& f : facts) {
        auto& kept = st.tenants[tenant].products[f.sku];
        if (kept.first < f.version) kept = {f.version, f.category_path};
      }
      return absl::OkStatus();
    });
  }
  absl::StatusOr<segmentation::domain::SkuCategories> ProductCategories(
      const std::string& tenant) override {
    return uow_.WithMutable([&](State& st) {
      segmentation::domain::SkuCategories out;
      for (const auto& [sku, kept] : st.tenants[tenant].products) {
        if (!kept.second.empty()) out[sku] = absl::StrJoin(kept.second, "/");
      }
      return out;
    });
  }
  absl::StatusOr<std::vector<segmentation::domain::CustomerProfile>> Profiles(
      const std::string& tenant, const std::optional<std::vector<std::string>>& ids) override {
    return uow_.WithMutable([&](State& st) {
      std::vector<segmentation::domain::CustomerProfile> out;
      for (const auto& [customer, kept] : st.tenants[tenant].profiles) {
        if (!ids || std::count(ids->begin(), ids->end(), customer) > 0) {
          out.push_back({customer, kept.second});
        }
      }
      return out;
    });
  }
  absl::StatusOr<std::vector<segmentation::domain::CustomerEvent>> Behaviour(
      const std::string& tenant) override {
    return uow_.WithMutable([&](State& st) { return EventsOf(st.tenants[tenant], nullptr); });
  }
  absl::StatusOr<std::vector<segmentation::domain::CustomerEvent>> BehaviourOf(
      const std::string& tenant, const std::vector<std::string>& customers) override {
    const std::set<std::string> wanted(customers.begin(), customers.end());
    return uow_.WithMutable([&](State& st) { return EventsOf(st.tenants[tenant], &wanted); });
  }

  absl::StatusOr<segmentation::domain::SegmentationSettings> Settings(
      const std::string& tenant) override {
    return uow_.WithMutable([&](State& st) { return st.tenants[tenant].settings; });
  }
  void SetSettings(const std::string& tenant, segmentation::domain::SegmentationSettings s) {
    uow_.WithMutable([&](State& st) { st.tenants[tenant].settings = s; });
  }

  // RecordOrders with more than one fact fails with `s` until cleared.
  void FailBatchesWith(std::optional<absl::Status> s) {
    uow_.WithMutable([&](State& st) { st.fail = std::move(s); });
  }
  std::vector<std::string> emitted() const {
    return uow_.With([](const State& st) { return st.emitted; });
  }
  int writes() const { return uow_.writes(); }

 private:
  class Tx final : public segmentation::app::ModelTx {
   public:
    Tx(Tenant& t, std::vector<std::string>& emitted) : t_(t), emitted_(emitted) {}
    absl::StatusOr<std::vector<PurchaseRecord>> LoadPurchases() override { return Records(t_, ""); }
    void Save(const ClvModel& m) override { t_.model = m; }
    void EmitRefitted(const ClvModel& m) override {
      emitted_.push_back("segmentation.clv_model_refitted:" + m.currency_code);
    }

   private:
    Tenant& t_;
    std::vector<std::string>& emitted_;
  };

  static std::string SurvivorOf(const Tenant& t, const std::string& customer) {
    auto it = t.merges.find(customer);
    return it == t.merges.end() ? customer : it->second;
  }
  // The facts that count for a customer (`customer`, or any), by customer,
  // time and event id.
  static std::vector<segmentation::domain::CustomerEvent> EventsOf(
      const Tenant& t, const std::set<std::string>* customers) {
    std::vector<const BehaviourRow*> rows;
    for (const auto& [_, b] : t.behaviour) {
      if (!b.customer.empty() && (customers == nullptr || customers->count(b.customer) > 0)) {
        rows.push_back(&b);
      }
    }
    std::sort(rows.begin(), rows.end(), [](const BehaviourRow* l, const BehaviourRow* r) {
      return std::tie(l->customer, l->fact.occurred_time, l->fact.event_id) <
             std::tie(r->customer, r->fact.occurred_time, r->fact.event_id);
    });
    std::vector<segmentation::domain::CustomerEvent> out;
    for (const BehaviourRow* b : rows) {
      out.push_back({b->customer, segmentation::domain::SegmentEventOf(b->fact)});
    }
    return out;
  }

  static std::vector<PurchaseRecord> Records(const Tenant& t, const std::string& customer) {
    std::vector<PurchaseRecord> out;
    for (const auto& [_, o] : t.orders) {
      if (customer.empty() || o.record.customer_id == customer) out.push_back(o.record);
    }
    return out;
  }

  FakeUnitOfWork<State> uow_;
};

}  // namespace crm::testing

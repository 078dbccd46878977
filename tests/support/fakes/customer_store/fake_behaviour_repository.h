#pragma once
// In-memory BehaviourRepository keeping the port's contracts (app/ports.h):
// tenant scoping, customers seeded with Put (and merged ids reading as
// their survivor), identity owners, visitor links unique per tenant
// (LinkVisitor false when taken), an append-only event list, and the unit
// of work's key discipline and all-or-nothing writes (FakeUnitOfWork). It
// stores what the use cases append and records what they emit
// ("type:subject").
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "libs/common/errors.h"
#include "services/customer_store/app/ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

class FakeBehaviourRepository final : public customer_store::app::BehaviourRepository,
                                      public customer_store::app::BehaviourRetentionStore {
 public:
  using Settings = customer_store::domain::BehaviourSettings;
  using Tx = customer_store::app::BehaviourTx;
  using TrackOutcome = customer_store::app::TrackOutcome;
  using IdentifyOutcome = customer_store::app::IdentifyOutcome;
  using Event = customer_store::domain::BehaviourEvent;
  using IdentityKey = customer_store::domain::IdentityKey;

  struct TenantData {
    std::map<std::string, bool> customers;             // id -> exists
    std::map<std::string, std::string> merged_into;    // source -> survivor
    std::map<IdentityKey, std::string> owners;         // identity -> customer
    std::map<std::string, std::string> visitor_links;  // visitor -> customer
    std::vector<Event> events;                         // append order
    std::set<std::string> vanish_on_lock;              // erased "concurrently": gone when locked
    Settings settings;
  };
  struct State {
    std::map<std::string, TenantData> tenants;
    std::vector<std::string> emitted;  // "type:subject"
    int appends = 0;                   // AppendEvents calls (one per batch)
    int deletes = 0;                   // DeleteBehaviourBefore calls
    std::vector<absl::Time> drops;     // DropEmptyBehaviourPartitions' `before`
  };

  absl::StatusOr<TrackOutcome> Write(
      const outbox::WriteMeta& m, const std::string&,
      absl::FunctionRef<absl::StatusOr<TrackOutcome>(Tx&)> work) override {
    return Run<TrackOutcome>(m, work);
  }
  absl::StatusOr<IdentifyOutcome> Write(
      const outbox::WriteMeta& m, const std::string&,
      absl::FunctionRef<absl::StatusOr<IdentifyOutcome>(Tx&)> work) override {
    return Run<IdentifyOutcome>(m, work);
  }
  absl::StatusOr<Settings> Write(const outbox::WriteMeta& m, const std::string&,
                                 absl::FunctionRef<absl::StatusOr<Settings>(Tx&)> work) override {
    return Run<Settings>(m, work);
  }

  // Retention.
  absl::StatusOr<Settings> BehaviourSettingsOf(const std::string& tenant) override {
    return uow_.With([&](const State& s) {
      auto it = s.tenants.find(tenant);
      return it == s.tenants.end() ? Settings() : it->second.settings;
    });
  }
  absl::StatusOr<std::vector<std::pair<std::string, Settings>>> TenantsWithRetention() override {
    return uow_.With([](const State& s) {
      std::vector<std::pair<std::string, Settings>> out;
      for (const auto& [tenant, t] : s.tenants) {
        if (t.settings.retention_days > 0) out.emplace_back(tenant, t.settings);
      }
      return out;
    });
  }
  // A "block" here is one position of the tenant's append order; deleted
  // events leave their position empty, as rows leave their block.
  absl::StatusOr<common::PurgeStep> DeleteBehaviourBefore(const std::string& tenant,
                                                          absl::Time cutoff, int64_t from_block,
                                                          int blocks) override {
    common::PurgeStep step;
    uow_.WithMutable([&](State& s) {
      ++s.deletes;
      TenantData& t = s.tenants[tenant];
      const int64_t end = std::min<int64_t>(from_block + blocks, t.events.size());
      for (int64_t i = from_block; i < end; ++i) {
        if (t.events[i].id.empty() || t.events[i].occur_time >= cutoff) continue;
        t.events[i].id.clear();
        ++step.deleted;
      }
      step.next_block = from_block + blocks;
      step.done = step.next_block >= static_cast<int64_t>(t.events.size());
    });
    return step;
  }
  absl::StatusOr<int> DropEmptyBehaviourPartitions(absl::Time before) override {
    uow_.WithMutable([&](State& s) { s.drops.push_back(before); });
    return 0;
  }
  int deletes() const {
    return uow_.With([](const State& s) { return s.deletes; });
  }
  std::vector<absl::Time> drops() const {
    return uow_.With([](const State& s) { return s.drops; });
  }

  // Seeding (not writes).
  void PutCustomer(const std::string& tenant, const std::string& id) {
    uow_.WithMutable([&](State& s) { s.tenants[tenant].customers[id] = true; });
  }
  void PutIdentity(const std::string& tenant, int kind, const std::string& source,
                   const std::string& value, const std::string& owner) {
    uow_.WithMutable([&](State& s) {
      s.tenants[tenant].owners[IdentityKey{kind, source, value}] = owner;
    });
  }
  void MarkMerged(const std::string& tenant, const std::string& source,
                  const std::string& survivor) {
    uow_.WithMutable([&](State& s) {
      s.tenants[tenant].customers.erase(source);
      s.tenants[tenant].merged_into[source] = survivor;
    });
  }

  // The customer is erased by a concurrent write after a batch's lookup and
  // before its lock (LockCustomers no longer finds it).
  void VanishOnLock(const std::string& tenant, const std::string& id) {
    uow_.WithMutable([&](State& s) { s.tenants[tenant].vanish_on_lock.insert(id); });
  }

  std::vector<Event> Events(const std::string& tenant) const {
    return uow_.With([&](const State& s) {
      std::vector<Event> out;
      auto it = s.tenants.find(tenant);
      if (it == s.tenants.end()) return out;
      for (const Event& e : it->second.events) {
        if (!e.id.empty()) out.push_back(e);  // not purged
      }
      return out;
    });
  }
  std::map<std::string, std::string> Links(const std::string& tenant) const {
    return uow_.With([&](const State& s) {
      auto it = s.tenants.find(tenant);
      return it == s.tenants.end() ? std::map<std::string, std::string>()
                                   : it->second.visitor_links;
    });
  }
  std::vector<std::string> emitted() const {
    return uow_.With([](const State& s) { return s.emitted; });
  }
  int appends() const {
    return uow_.With([](const State& s) { return s.appends; });
  }
  int writes() const { return uow_.writes(); }

 private:
  class FakeTx final : public Tx {
   public:
    FakeTx(State& s, const std::string& tenant) : s_(s), t_(s.tenants[tenant]) {}
    customer_store::domain::RefLookup LookupRefs(const std::vector<std::string>& ids,
                                                 const std::vector<IdentityKey>& keys) override {
      customer_store::domain::RefLookup out;
      for (const std::string& id : ids) {
        std::string at = id;
        for (int depth = 0; depth < 32; ++depth) {
          auto m = t_.merged_into.find(at);
          if (m == t_.merged_into.end()) break;
          at = m->second;
        }
        if (t_.customers.count(at)) out.ids[id] = at;
      }
      for (const IdentityKey& k : keys) {
        auto it = t_.owners.find(k);
        if (it != t_.owners.end()) out.owners[k] = it->second;
      }
      return out;
    }
    std::map<std::string, std::string> VisitorOwners(
        const std::vector<std::string>& visitors) override {
      std::map<std::string, std::string> out;
      for (const std::string& v : visitors) {
        auto it = t_.visitor_links.find(v);
        if (it != t_.visitor_links.end()) out[v] = it->second;
      }
      return out;
    }
    absl::Status LockCustomer(const std::string& id) override {
      if (t_.customers.count(id)) return absl::OkStatus();
      if (auto m = t_.merged_into.find(id); m != t_.merged_into.end()) {
        return common::WithReason(absl::NotFoundError("customer was merged"), "CUSTOMER_MERGED");
      }
      return common::NotFound("CUSTOMER_NOT_FOUND", "customer not found");
    }
    std::set<std::string> LockCustomers(const std::set<std::string>& ids) override {
      std::set<std::string> out;
      for (const std::string& id : ids) {
        if (t_.vanish_on_lock.count(id)) t_.customers.erase(id);
        if (t_.customers.count(id)) out.insert(id);
      }
      return out;
    }
    void AppendEvents(const std::vector<Event>& events) override {
      ++s_.appends;
      t_.events.insert(t_.events.end(), events.begin(), events.end());
    }
    bool LinkVisitor(const std::string& customer_id, const std::string& visitor_id) override {
      return t_.visitor_links.emplace(visitor_id, customer_id).second;
    }
    int64_t CountAnonymousEvents(const std::string& visitor_id) override {
      int64_t n = 0;
      for (const Event& e : t_.events) {
        n += !e.id.empty() && e.visitor_id == visitor_id && e.customer_id.empty();
      }
      return n;
    }
    void EmitEvents(const std::vector<Event>& events) override {
      for (const Event& e : events) {
        s_.emitted.push_back("behaviour." + e.type + ":" +
                             (e.customer_id.empty() ? "visitor/" + e.visitor_id : e.customer_id));
      }
    }
    void EmitIdentified(const IdentifyOutcome& o) override {
      s_.emitted.push_back("customer.identified:" + o.customer_id);
    }
    Settings LoadSettings() override { return t_.settings; }
    void SaveSettings(const Settings& settings) override { t_.settings = settings; }
    void EmitSettings(const Settings& settings) override {
      s_.emitted.push_back("behaviour.settings_updated:" + std::to_string(settings.retention_days));
    }

   private:
    State& s_;
    TenantData& t_;
  };

  template <typename T>
  absl::StatusOr<T> Run(const outbox::WriteMeta& m,
                        absl::FunctionRef<absl::StatusOr<T>(Tx&)> work) {
    return uow_.Write<T>(m, [&](State& s) -> absl::StatusOr<T> {
      FakeTx tx(s, m.tenant_id);
      return work(tx);
    });
  }

  FakeUnitOfWork<State> uow_;
};

}  // namespace crm::testing

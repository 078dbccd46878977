#pragma once
// Header-only (moved out of tests/unit/transaction/pipeline_test.cc so the
// api tests share it).
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/errors.h"
#include "services/transaction/app/pipeline_ports.h"
#include "services/transaction/domain/pipeline.h"
#include "tests/support/fakes/fake_unit_of_work.h"
#include "tests/support/fakes/transaction/fake_order_repository.h"

namespace crm::testing {

// In-memory PipelineRepository keeping the port's contracts: tenant scoping
// (NOT_FOUND LEAD_NOT_FOUND / OPPORTUNITY_NOT_FOUND) and the unit of work's
// key discipline and all-or-nothing writes (FakeUnitOfWork). The use cases
// drive its writes through PipelineTx, as they drive PostgreSQL's; the fake
// only stores what they save and records what they emit ("type:id").
class FakePipelineRepository final : public transaction::app::PipelineRepository {
 public:
  using Actor = transaction::app::Actor;
  using Conversion = transaction::app::Conversion;
  using Lead = transaction::domain::Lead;
  using Opportunity = transaction::domain::Opportunity;
  using LeadStatus = transaction::domain::LeadStatus;
  using OpportunityStage = transaction::domain::OpportunityStage;
  using ForecastItem = transaction::domain::ForecastItem;
  using StageProbabilities = transaction::domain::StageProbabilities;
  // Where a won close writes its order.
  FakeOrderRepository* orders = nullptr;

  absl::StatusOr<Lead> Write(
      const outbox::WriteMeta& m, const std::string&,
      absl::FunctionRef<absl::StatusOr<Lead>(transaction::app::PipelineTx&)> work) override {
    return Run<Lead>(m, work);
  }
  absl::StatusOr<Conversion> Write(
      const outbox::WriteMeta& m, const std::string&,
      absl::FunctionRef<absl::StatusOr<Conversion>(transaction::app::PipelineTx&)> work) override {
    return Run<Conversion>(m, work);
  }
  absl::StatusOr<Opportunity> Write(
      const outbox::WriteMeta& m, const std::string&,
      absl::FunctionRef<absl::StatusOr<Opportunity>(transaction::app::PipelineTx&)> work) override {
    return Run<Opportunity>(m, work);
  }
  absl::StatusOr<StageProbabilities> Write(
      const outbox::WriteMeta& m, const std::string&,
      absl::FunctionRef<absl::StatusOr<StageProbabilities>(transaction::app::PipelineTx&)> work)
      override {
    return Run<StageProbabilities>(m, work);
  }

  absl::StatusOr<bool> KeyUsed(const Actor& a) override { return uow_.KeyUsed(a); }
  absl::StatusOr<transaction::app::PipelineErasure> EraseCustomerData(
      const Actor& a, const std::string& consumer, const std::string& event_id,
      const std::vector<std::string>& customer_ids, absl::Time now) override {
    return uow_.WithMutable([&](State& st) {
      transaction::app::PipelineErasure out;
      if (!st.processed.insert(consumer + "/" + event_id).second) return out;
      out.applied = true;
      auto of = [&](const std::string& id) {
        return std::find(customer_ids.begin(), customer_ids.end(), id) != customer_ids.end();
      };
      auto& t = st.tenants[a.tenant_id];
      for (auto& [id, l] : t.leads) {
        if (l.customer_id.empty() || !of(l.customer_id) ||
            !transaction::domain::ApplyErasure(l, now)) {
          continue;
        }
        st.events.push_back("lead.updated:" + id);
        ++out.leads;
      }
      for (auto& [id, o] : t.opportunities) {
        if (o.customer_id.empty() || !of(o.customer_id) ||
            !transaction::domain::ApplyErasure(o, now)) {
          continue;
        }
        st.events.push_back("opportunity.updated:" + id);
        ++out.opportunities;
      }
      return out;
    });
  }
  absl::StatusOr<Lead> GetLead(const std::string& tenant, const std::string& id) override {
    return uow_.WithMutable([&](State& st) -> absl::StatusOr<Lead> {
      ++st.reads;
      const auto& leads = st.tenants[tenant].leads;
      auto it = leads.find(id);
      if (it == leads.end()) return LeadNotFound();
      return it->second;
    });
  }
  absl::StatusOr<transaction::app::LeadPage> ListLeads(
      const std::string& tenant, const transaction::app::LeadQuery& q) override {
    return uow_.WithMutable([&](State& st) {
      transaction::app::LeadPage page;
      for (const auto& [id, l] : st.tenants[tenant].leads) {
        if (q.status != LeadStatus::kUnspecified && l.status != q.status) continue;
        if (!q.owner.empty() && l.owner != q.owner) continue;
        page.items.push_back(l);
      }
      return page;
    });
  }
  absl::StatusOr<Opportunity> GetOpportunity(const std::string& tenant,
                                             const std::string& id) override {
    return uow_.WithMutable([&](State& st) -> absl::StatusOr<Opportunity> {
      ++st.reads;
      const auto& opportunities = st.tenants[tenant].opportunities;
      auto it = opportunities.find(id);
      if (it == opportunities.end()) return OppNotFound();
      return it->second;
    });
  }
  absl::StatusOr<transaction::app::OpportunityPage> ListOpportunities(
      const std::string& tenant, const transaction::app::OpportunityQuery& q) override {
    return uow_.WithMutable([&](State& st) {
      transaction::app::OpportunityPage page;
      for (const auto& [id, o] : st.tenants[tenant].opportunities) {
        if (q.stage != OpportunityStage::kUnspecified && o.stage != q.stage) continue;
        page.items.push_back(o);
      }
      return page;
    });
  }
  absl::StatusOr<std::vector<transaction::domain::StageChange>> StageHistory(
      const std::string& tenant, const std::string& id) override {
    return uow_.WithMutable(
        [&](State& st) -> absl::StatusOr<std::vector<transaction::domain::StageChange>> {
          auto& t = st.tenants[tenant];
          if (!t.opportunities.count(id)) return OppNotFound();
          return t.history[id];
        });
  }
  absl::StatusOr<StageProbabilities> GetProbabilities(const std::string& tenant) override {
    return uow_.WithMutable([&](State& st) { return st.tenants[tenant].probabilities; });
  }
  absl::StatusOr<std::vector<ForecastItem>> ForecastItems(
      const std::string& tenant, const transaction::app::ForecastQuery& q) override {
    return uow_.WithMutable([&](State& st) {
      st.last_forecast_query = q;
      std::vector<ForecastItem> out;
      for (const auto& [id, o] : st.tenants[tenant].opportunities) {
        if (!q.owner.empty() && o.owner != q.owner) continue;
        if (!q.currency_code.empty() && o.currency_code != q.currency_code) continue;
        ForecastItem it;
        it.owner = o.owner;
        it.currency_code = o.currency_code;
        it.stage = o.stage;
        it.amount_minor = o.amount_minor;
        it.expected_close_date = o.expected_close_date;
        if (o.close_time != absl::InfinitePast()) {
          it.close_day = absl::ToCivilDay(o.close_time, absl::UTCTimeZone());
        }
        out.push_back(it);
      }
      return out;
    });
  }

  // Writes that succeeded (replays and refusals not counted).
  int writes() const { return uow_.writes(); }
  int reads() const {
    return uow_.With([](const State& st) { return st.reads; });
  }
  std::vector<std::string> events() const {
    return uow_.With([](const State& st) { return st.events; });
  }
  transaction::app::ForecastQuery last_forecast_query() const {
    return uow_.With([](const State& st) { return st.last_forecast_query; });
  }

 private:
  struct TenantData {
    std::map<std::string, Lead> leads;
    std::map<std::string, Opportunity> opportunities;
    std::map<std::string, std::vector<transaction::domain::StageChange>> history;
    StageProbabilities probabilities;
  };
  struct State {
    std::map<std::string, TenantData> tenants;
    std::vector<std::string> events;  // "type:id"
    std::set<std::string> processed;  // consumer/event id
    int reads = 0;
    transaction::app::ForecastQuery last_forecast_query;
  };

  // PipelineTx over the copy of the state a write works on.
  class Tx final : public transaction::app::PipelineTx {
   public:
    Tx(State& st, const Actor& actor, FakeOrderRepository* orders)
        : st_(st), t_(st.tenants[actor.tenant_id]), actor_(actor), orders_(orders) {}
    absl::StatusOr<Lead> LoadLead(const std::string& id) override {
      auto it = t_.leads.find(id);
      if (it == t_.leads.end()) return LeadNotFound();
      return it->second;
    }
    absl::StatusOr<Opportunity> LoadOpportunity(const std::string& id) override {
      auto it = t_.opportunities.find(id);
      if (it == t_.opportunities.end()) return OppNotFound();
      return it->second;
    }
    absl::StatusOr<StageProbabilities> LoadProbabilities() override { return t_.probabilities; }
    void SaveLead(const Lead& l, bool) override { t_.leads[l.id] = l; }
    void SaveOpportunity(const Opportunity& o, bool) override { t_.opportunities[o.id] = o; }
    void SaveProbabilities(const std::vector<std::pair<int, int>>& changes, absl::Time) override {
      for (const auto& [stage, percent] : changes) {
        t_.probabilities.percent[static_cast<size_t>(stage)] = percent;
      }
    }
    void AppendStageChange(const std::string& id,
                           const transaction::domain::StageChange& c) override {
      t_.history[id].push_back(c);
    }
    transaction::app::OrderTx* Orders() override {
      if (orders_ == nullptr) return nullptr;
      // The order repository is another fake: its part of the write works
      // on a copy, kept when this write succeeds (CommitOrders).
      if (!joined_) joined_ = orders_->Join(actor_.tenant_id);
      return &joined_->tx();
    }
    void CommitOrders() {
      if (joined_) joined_->Commit();
    }
    void EmitLead(const char* type, const Lead& l) override {
      st_.events.push_back(absl::StrCat(type, ":", l.id));
    }
    void EmitOpportunity(const char* type, const Opportunity& o, OpportunityStage) override {
      st_.events.push_back(absl::StrCat(type, ":", o.id));
    }
    void EmitProbabilities(const StageProbabilities&) override {
      st_.events.push_back("pipeline.stage_probabilities_updated:");
    }

   private:
    State& st_;
    TenantData& t_;
    const Actor& actor_;
    FakeOrderRepository* orders_;
    std::unique_ptr<FakeOrderRepository::Joined> joined_;
  };

  template <typename T>
  absl::StatusOr<T> Run(const Actor& a,
                        absl::FunctionRef<absl::StatusOr<T>(transaction::app::PipelineTx&)> work) {
    return uow_.Write<T>(a, [&](State& st) -> absl::StatusOr<T> {
      Tx tx(st, a, orders);
      absl::StatusOr<T> out = work(tx);
      if (out.ok()) tx.CommitOrders();
      return out;
    });
  }
  static absl::Status LeadNotFound() {
    return crm::common::NotFound("LEAD_NOT_FOUND", "lead not found");
  }
  static absl::Status OppNotFound() {
    return crm::common::NotFound("OPPORTUNITY_NOT_FOUND", "opportunity not found");
  }

  FakeUnitOfWork<State> uow_;
};

}  // namespace crm::testing

#pragma once
// Header-only (moved out of tests/unit/transaction/pipeline_test.cc so the
// api tests share it).
#include <any>
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/errors.h"
#include "services/transaction/app/pipeline_ports.h"
#include "services/transaction/domain/pipeline.h"
#include "tests/support/fakes/transaction/fake_order_repository.h"

namespace crm::testing {

// In-memory PipelineRepository keeping the port's contracts: tenant scoping
// (NOT_FOUND LEAD_NOT_FOUND / OPPORTUNITY_NOT_FOUND), strict idempotency by
// key + fingerprint (first answer or deterministic refusal replayed,
// IDEMPOTENCY_KEY_REUSED for another fingerprint, INVALID_FIELD request_id
// for another method), stage history, events. Every write applies the same
// domain rules as PgPipelineRepository (domain::ApplyUpdate,
// ApplyConversion, ApplyStageMove, ApplyErasure: etags, versions, what a
// write changes and which events it emits).
class FakePipelineRepository final : public transaction::app::PipelineRepository {
 public:
  using Lead = transaction::domain::Lead;
  using Opportunity = transaction::domain::Opportunity;
  using LeadStatus = transaction::domain::LeadStatus;
  using OpportunityStage = transaction::domain::OpportunityStage;
  using ForecastItem = transaction::domain::ForecastItem;
  // Where a won close writes its order.
  FakeOrderRepository* orders = nullptr;
  absl::StatusOr<bool> KeyUsed(const transaction::app::Actor& a) override {
    absl::MutexLock lock(&mu_);
    return !a.idempotency_key.empty() && T(a.tenant_id).answers.count(a.idempotency_key) > 0;
  }
  absl::StatusOr<transaction::app::PipelineErasure> EraseCustomerData(
      const transaction::app::Actor& a, const std::string& consumer, const std::string& event_id,
      const std::vector<std::string>& customer_ids, absl::Time now) override {
    absl::MutexLock lock(&mu_);
    transaction::app::PipelineErasure out;
    if (!processed_.insert(consumer + "/" + event_id).second) return out;
    out.applied = true;
    auto of = [&](const std::string& id) {
      return std::find(customer_ids.begin(), customer_ids.end(), id) != customer_ids.end();
    };
    auto& t = T(a.tenant_id);
    for (auto& [id, l] : t.leads) {
      if (l.customer_id.empty() || !of(l.customer_id) || !transaction::domain::ApplyErasure(l, now))
        continue;
      Event("lead.updated", id);
      ++out.leads;
    }
    for (auto& [id, o] : t.opportunities) {
      if (o.customer_id.empty() || !of(o.customer_id) || !transaction::domain::ApplyErasure(o, now))
        continue;
      Event("opportunity.updated", id);
      ++out.opportunities;
    }
    return out;
  }
  absl::StatusOr<Lead> InsertLead(const transaction::app::Actor& a, const Lead& l) override {
    return Idem<Lead>(a, [&]() -> absl::StatusOr<Lead> {
      T(a.tenant_id).leads[l.id] = l;
      Event("lead.created", l.id);
      return l;
    });
  }
  absl::StatusOr<Lead> GetLead(const std::string& tenant, const std::string& id) override {
    absl::MutexLock lock(&mu_);
    ++reads_;
    auto& t = T(tenant);
    auto it = t.leads.find(id);
    if (it == t.leads.end()) return crm::common::NotFound("LEAD_NOT_FOUND", "lead not found");
    return it->second;
  }
  absl::StatusOr<transaction::app::LeadPage> ListLeads(const std::string& tenant,
                                          const transaction::app::LeadQuery& q) override {
    absl::MutexLock lock(&mu_);
    transaction::app::LeadPage page;
    for (const auto& [id, l] : T(tenant).leads) {
      if (q.status != LeadStatus::kUnspecified && l.status != q.status) continue;
      if (!q.owner.empty() && l.owner != q.owner) continue;
      page.items.push_back(l);
    }
    return page;
  }
  absl::StatusOr<Lead> UpdateLead(const transaction::app::Actor& a, const std::string& id,
                                  const std::string& if_match,
                                  const LeadMutation& mutate) override {
    return Idem<Lead>(a, [&]() -> absl::StatusOr<Lead> {
      auto& t = T(a.tenant_id);
      auto it = t.leads.find(id);
      if (it == t.leads.end()) return crm::common::NotFound("LEAD_NOT_FOUND", "lead not found");
      auto changed = transaction::domain::ApplyUpdate(it->second, if_match, mutate);
      if (!changed.ok()) return changed.status();
      if (*changed) Event("lead.updated", id);
      return it->second;
    });
  }
  absl::StatusOr<transaction::app::Conversion> ConvertLead(const transaction::app::Actor& a, const std::string& lead_id,
                                              const std::string& customer_id,
                                              bool customer_created,
                                              const Opportunity& o) override {
    return Idem<transaction::app::Conversion>(a, [&]() -> absl::StatusOr<transaction::app::Conversion> {
      auto& t = T(a.tenant_id);
      auto it = t.leads.find(lead_id);
      if (it == t.leads.end()) return crm::common::NotFound("LEAD_NOT_FOUND", "lead not found");
      transaction::app::Conversion c;
      c.lead = it->second;
      c.opportunity = o;
      if (absl::Status s = transaction::domain::ApplyConversion(c.lead, c.opportunity, customer_id);
          !s.ok()) {
        return s;
      }
      t.opportunities[o.id] = c.opportunity;
      t.history[o.id].push_back({OpportunityStage::kUnspecified, o.stage, o.create_time,
                                 a.principal});
      it->second = c.lead;
      c.customer_created = customer_created;
      Event("lead.converted", lead_id);
      Event("opportunity.created", o.id);
      return c;
    });
  }
  absl::StatusOr<Opportunity> InsertOpportunity(const transaction::app::Actor& a,
                                                const Opportunity& o) override {
    return Idem<Opportunity>(a, [&]() -> absl::StatusOr<Opportunity> {
      auto& t = T(a.tenant_id);
      t.opportunities[o.id] = o;
      t.history[o.id].push_back({OpportunityStage::kUnspecified, o.stage, o.create_time,
                                 a.principal});
      Event("opportunity.created", o.id);
      return o;
    });
  }
  absl::StatusOr<Opportunity> GetOpportunity(const std::string& tenant,
                                             const std::string& id) override {
    absl::MutexLock lock(&mu_);
    ++reads_;
    auto& t = T(tenant);
    auto it = t.opportunities.find(id);
    if (it == t.opportunities.end()) return OppNotFound();
    return it->second;
  }
  absl::StatusOr<transaction::app::OpportunityPage> ListOpportunities(const std::string& tenant,
                                                         const transaction::app::OpportunityQuery& q) override {
    absl::MutexLock lock(&mu_);
    transaction::app::OpportunityPage page;
    for (const auto& [id, o] : T(tenant).opportunities) {
      if (q.stage != OpportunityStage::kUnspecified && o.stage != q.stage) continue;
      page.items.push_back(o);
    }
    return page;
  }
  absl::StatusOr<Opportunity> UpdateOpportunity(const transaction::app::Actor& a, const std::string& id,
                                                const std::string& if_match,
                                                const OpportunityMutation& mutate) override {
    return Idem<Opportunity>(a, [&]() -> absl::StatusOr<Opportunity> {
      auto& t = T(a.tenant_id);
      auto it = t.opportunities.find(id);
      if (it == t.opportunities.end()) return OppNotFound();
      auto changed = transaction::domain::ApplyUpdate(it->second, if_match, mutate);
      if (!changed.ok()) return changed.status();
      if (*changed) Event("opportunity.updated", id);
      return it->second;
    });
  }
  absl::StatusOr<Opportunity> MoveStage(const transaction::app::Actor& a, const std::string& id,
                                        const transaction::app::StageMove& move, absl::Time now) override {
    return Idem<Opportunity>(a, [&]() -> absl::StatusOr<Opportunity> {
      auto& t = T(a.tenant_id);
      auto it = t.opportunities.find(id);
      if (it == t.opportunities.end()) return OppNotFound();
      Opportunity o = it->second;
      const OpportunityStage from = o.stage;
      if (absl::Status s = transaction::domain::ApplyStageMove(o, move, now); !s.ok()) return s;
      if (move.order) {
        // The order in the same (all-or-nothing) step, for the customer as
        // it is now, like the PostgreSQL repository's transaction.
        transaction::domain::Order order = *move.order;
        order.customer_id = o.customer_id;
        transaction::app::Actor order_actor = a;
        order_actor.idempotency_key += "/order";
        auto created = orders->Insert(order_actor, order);
        if (!created.ok()) return created.status();
      }
      it->second = o;
      t.history[id].push_back({from, o.stage, now, a.principal});
      for (const char* type : transaction::domain::StageMoveEventTypes(o.stage)) Event(type, id);
      return o;
    });
  }
  absl::StatusOr<std::vector<transaction::domain::StageChange>> StageHistory(const std::string& tenant,
                                                                const std::string& id) override {
    absl::MutexLock lock(&mu_);
    auto& t = T(tenant);
    if (!t.opportunities.count(id)) return OppNotFound();
    return t.history[id];
  }
  absl::StatusOr<transaction::domain::StageProbabilities> GetProbabilities(const std::string& tenant) override {
    absl::MutexLock lock(&mu_);
    return T(tenant).probabilities;
  }
  absl::StatusOr<transaction::domain::StageProbabilities> UpdateProbabilities(
      const transaction::app::Actor& a, const std::vector<std::pair<int, int>>& changes, absl::Time) override {
    return Idem<transaction::domain::StageProbabilities>(
        a, [&]() -> absl::StatusOr<transaction::domain::StageProbabilities> {
          auto& t = T(a.tenant_id);
          auto p = transaction::domain::ApplyProbabilities(t.probabilities, changes);
          if (!p.ok()) return p.status();
          t.probabilities = *p;
          Event("pipeline.stage_probabilities_updated", "");
          return *p;
        });
  }
  absl::StatusOr<std::vector<ForecastItem>> ForecastItems(const std::string& tenant,
                                                          const transaction::app::ForecastQuery& q) override {
    absl::MutexLock lock(&mu_);
    last_forecast_query_ = q;
    std::vector<ForecastItem> out;
    for (const auto& [id, o] : T(tenant).opportunities) {
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
  }

  int writes() const {
    absl::MutexLock lock(&mu_);
    return writes_;
  }
  int reads() const {
    absl::MutexLock lock(&mu_);
    return reads_;
  }
  std::vector<std::string> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  transaction::app::ForecastQuery last_forecast_query() const {
    absl::MutexLock lock(&mu_);
    return last_forecast_query_;
  }

 private:
  struct Answer {
    std::string method;
    std::string fingerprint;
    absl::Status error;
    std::any value;
  };
  struct TenantData {
    std::map<std::string, Lead> leads;
    std::map<std::string, Opportunity> opportunities;
    std::map<std::string, std::vector<transaction::domain::StageChange>> history;
    transaction::domain::StageProbabilities probabilities;
    std::map<std::string, Answer> answers;
  };

  static absl::Status OppNotFound() {
    return crm::common::NotFound("OPPORTUNITY_NOT_FOUND", "opportunity not found");
  }
  TenantData& T(const std::string& tenant) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return tenants_[tenant];
  }
  void Event(const std::string& type, const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    events_.push_back(absl::StrCat(type, ":", id));
  }

  // Runs `write` under the key's rules; a write's changes to the fake stay
  // (the fake does not roll back): writes return before changing anything
  // when they refuse.
  template <typename V, typename Fn>
  absl::StatusOr<V> Idem(const transaction::app::Actor& a, Fn write) {
    absl::MutexLock lock(&mu_);
    auto& answers = T(a.tenant_id).answers;
    if (!a.idempotency_key.empty()) {
      auto it = answers.find(a.idempotency_key);
      if (it != answers.end()) {
        if (it->second.method != a.method) {
          return crm::common::InvalidField("request_id", "used for a different call");
        }
        if (it->second.fingerprint != a.fingerprint) {
          return crm::common::WithField(
              crm::common::WithReason(absl::InvalidArgumentError("different body"),
                                      "IDEMPOTENCY_KEY_REUSED"),
              "request_id");
        }
        if (!it->second.error.ok()) return it->second.error;
        return std::any_cast<V>(it->second.value);
      }
    }
    absl::StatusOr<V> r = write();
    if (r.ok()) {
      ++writes_;
      if (!a.idempotency_key.empty()) answers[a.idempotency_key] = {a.method, a.fingerprint, {}, *r};
    } else {
      absl::StatusCode c = r.status().code();
      if (!a.idempotency_key.empty() &&
          (c == absl::StatusCode::kInvalidArgument || c == absl::StatusCode::kFailedPrecondition ||
           c == absl::StatusCode::kNotFound)) {
        answers[a.idempotency_key] = {a.method, a.fingerprint, r.status(), {}};
      }
    }
    return r;
  }

  mutable absl::Mutex mu_;
  std::map<std::string, TenantData> tenants_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> processed_ ABSL_GUARDED_BY(mu_);
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
  int reads_ ABSL_GUARDED_BY(mu_) = 0;
  transaction::app::ForecastQuery last_forecast_query_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::testing

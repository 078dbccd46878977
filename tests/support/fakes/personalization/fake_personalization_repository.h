#pragma once
// In-memory PersonalizationRepository with the PostgreSQL adapter's rules:
// rows keyed as the tables are (an interaction per source and sku, the
// newest product version, the newest consent per channel), erased customers
// kept as tombstones whose later rows are dropped, and a tenant that can be
// made to fail. Chosen topics are written through the in-memory unit of work.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "libs/common/errors.h"
#include "services/personalization/app/ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

class FakePersonalizationRepository final : public personalization::app::PersonalizationRepository {
 public:
  absl::StatusOr<personalization::app::StoredBatch> Store(
      const std::string& tenant, const personalization::app::TenantBatch& b) override {
    using namespace personalization::app;  // NOLINT
    if (tenant == failing_tenant) return absl::UnavailableError("the store is down");
    Tenant& t = tenants_[tenant];
    StoredBatch out;
    for (const ProductRow& p : b.products) {
      auto it = t.products.find(p.sku);
      const bool newer = it == t.products.end() || it->second.version < p.version;
      if (newer) t.products[p.sku] = p;
      out.newer_products.push_back(newer);
    }
    for (const std::string& c : b.known_customers) t.customers.emplace(c, false);
    for (const ProfilingConsentRow& c : b.consents) {
      auto key = std::make_pair(c.customer_id, c.channel);
      auto it = t.consents.find(key);
      const bool newer = it == t.consents.end() || it->second.time <= c.time;
      if (newer) t.consents[key] = c;
      out.newer_consents.push_back(newer);
    }
    for (const InteractionRow& given : b.interactions) {
      InteractionRow r = given;  // a linked visitor's row is the customer's
      for (const auto& [visitor, customer] : t.links) {
        if (r.user_key == VisitorKey(visitor)) r.user_key = customer;
      }
      auto c = t.customers.find(r.user_key);
      const bool erased = c != t.customers.end() && c->second;
      const bool fresh =
          !erased && t.interactions.emplace(std::make_pair(r.source, r.sku), r).second;
      if (fresh) stored_.emplace_back(tenant, std::make_pair(r.source, r.sku));
      out.new_interactions.push_back(fresh);
      out.stored_users.push_back(fresh ? r.user_key : "");
    }
    std::vector<std::string> touched;
    for (const HistoryMove& m : b.moves) {
      const auto move = [&](const std::string& from, const std::string& to, bool only_origin) {
        for (auto& [key, row] : t.interactions) {
          if (row.user_key != from || (only_origin && origins_[{tenant, key}] != to)) continue;
          std::string& origin = origins_[{tenant, key}];
          if (m.kind == HistoryMove::Kind::kMerged && origin.empty()) origin = from;
          if (m.kind == HistoryMove::Kind::kUnmerged) origin.clear();
          row.user_key = to;
        }
      };
      if (m.kind == HistoryMove::Kind::kIdentified) {
        auto c = t.customers.find(m.to);
        if (c != t.customers.end() && c->second) continue;  // erased
        t.links[m.from] = m.to;
        move(VisitorKey(m.from), m.to, false);
        touched.push_back(VisitorKey(m.from));
      } else if (m.kind == HistoryMove::Kind::kMerged) {
        move(m.from, m.to, false);
        for (auto& [visitor, customer] : t.links) {
          if (customer == m.from) customer = m.to;
        }
        if (!t.customers[m.from]) t.customers.erase(m.from);
        uow_.WithMutable([&](Chosen& c) { return c.erase({tenant, m.from}); });
        out.merged_away.push_back(m.from);
        touched.push_back(m.from);
      } else {
        move(m.from, m.to, true);
        touched.push_back(m.from);
      }
      touched.push_back(m.to);
    }
    for (const auto& [source, skus] : b.unlearned) {
      for (auto it = t.interactions.begin(); it != t.interactions.end();) {
        const bool hit =
            it->first.first == source &&
            (skus.empty() || std::find(skus.begin(), skus.end(), it->first.second) != skus.end());
        if (!hit) {
          ++it;
          continue;
        }
        touched.push_back(it->second.user_key);
        it = t.interactions.erase(it);
      }
    }
    std::set<std::string> listed;
    for (const std::string& u : touched) {
      if (!listed.insert(u).second) continue;
      UserHistory h{u, {}};
      for (const auto& [tn, key] : stored_) {  // stored order
        if (tn != tenant) continue;
        auto it = t.interactions.find(key);
        if (it != t.interactions.end() && it->second.user_key == u) h.rows.push_back(it->second);
      }
      out.moved.push_back(std::move(h));
    }
    for (const std::string& id : b.erased_customers) {
      t.customers[id] = true;
      for (auto it = t.links.begin(); it != t.links.end();) {
        it = it->second == id ? t.links.erase(it) : std::next(it);
      }
      for (auto it = t.interactions.begin(); it != t.interactions.end();) {
        it = it->second.user_key == id ? t.interactions.erase(it) : std::next(it);
      }
      for (auto it = t.consents.begin(); it != t.consents.end();) {
        it = it->first.first == id ? t.consents.erase(it) : std::next(it);
      }
      uow_.WithMutable([&](Chosen& c) { return c.erase({tenant, id}); });
    }
    return out;
  }

  absl::StatusOr<personalization::app::ChosenTopics> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<
          absl::StatusOr<personalization::app::ChosenTopics>(personalization::app::InterestTx&)>
          work) override {
    return uow_.Write<personalization::app::ChosenTopics>(
        meta, [&](Chosen& chosen) -> absl::StatusOr<personalization::app::ChosenTopics> {
          Tx tx(*this, meta.tenant_id, chosen);
          return work(tx);
        });
  }

  absl::Status Load(personalization::app::StoredRows& rows) override {
    using namespace personalization::app;  // NOLINT
    for (const auto& [tenant, t] : tenants_) {
      for (const auto& [sku, p] : t.products) rows.Product(tenant, p);
      for (const auto& [id, erased] : t.customers) {
        if (!erased) rows.Customer(tenant, id);
      }
      for (const auto& [key, c] : t.consents) rows.Consent(tenant, c);
    }
    uow_.With([&](const Chosen& chosen) {
      for (const auto& [key, c] : chosen) rows.Chosen(key.first, c);
      return 0;
    });
    // Interactions in the order they were stored, across tenants (seq).
    for (const auto& [tenant, key] : stored_) {
      const auto& rows_of = tenants_.at(tenant).interactions;
      auto it = rows_of.find(key);
      if (it != rows_of.end()) rows.Interaction(tenant, it->second);  // not erased since
    }
    return absl::OkStatus();
  }

  std::size_t InteractionCount(const std::string& tenant) const {
    auto it = tenants_.find(tenant);
    return it == tenants_.end() ? 0 : it->second.interactions.size();
  }

  std::string failing_tenant;

 private:
  using Chosen = std::map<std::pair<std::string, std::string>, personalization::app::ChosenTopics>;
  class Tx final : public personalization::app::InterestTx {
   public:
    Tx(FakePersonalizationRepository& r, std::string tenant, Chosen& chosen)
        : r_(r), tenant_(std::move(tenant)), chosen_(chosen) {}
    absl::StatusOr<personalization::app::ChosenTopics> LoadChosen(
        const std::string& customer_id) override {
      auto t = r_.tenants_.find(tenant_);
      if (t == r_.tenants_.end() || !t->second.customers.count(customer_id) ||
          t->second.customers.at(customer_id)) {
        return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
      }
      auto it = chosen_.find({tenant_, customer_id});
      if (it != chosen_.end()) return it->second;
      personalization::app::ChosenTopics none;
      none.customer_id = customer_id;
      return none;
    }
    void SaveChosen(const personalization::app::ChosenTopics& c) override {
      chosen_[{tenant_, c.customer_id}] = c;
    }

   private:
    FakePersonalizationRepository& r_;
    std::string tenant_;
    Chosen& chosen_;
  };
  FakeUnitOfWork<Chosen> uow_;

  struct Tenant {
    std::map<std::string, personalization::app::ProductRow> products;
    std::map<std::string, bool> customers;  // id -> erased
    std::map<std::pair<std::string, std::string>, personalization::app::ProfilingConsentRow>
        consents;
    std::map<std::pair<std::string, std::string>, personalization::app::InteractionRow>
        interactions;
    std::map<std::string, std::string> links;  // visitor id -> customer id
  };
  // (tenant, (source, sku)) -> the customer a merge moved the row from
  std::map<std::pair<std::string, std::pair<std::string, std::string>>, std::string> origins_;
  std::map<std::string, Tenant> tenants_;
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> stored_;  // seq order
};

}  // namespace crm::testing

#pragma once
// In-memory PriceRepository: policies written through FakeUnitOfWork (all or
// nothing, key rules kept) and the quotes logged.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "services/personalization/app/ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

class FakePriceRepository final : public personalization::app::PriceRepository {
 public:
  using PricePolicy = personalization::domain::PricePolicy;
  using QuoteRecord = personalization::app::QuoteRecord;

  absl::StatusOr<PricePolicy> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<PricePolicy>(personalization::app::PriceTx&)> work)
      override {
    return uow_.Write<PricePolicy>(meta, [&](State& s) -> absl::StatusOr<PricePolicy> {
      Tx tx(meta.tenant_id, s);
      return work(tx);
    });
  }
  absl::StatusOr<std::vector<std::pair<std::string, PricePolicy>>> LoadAllPolicies() override {
    return uow_.With([](const State& s) {
      return std::vector<std::pair<std::string, PricePolicy>>(s.policies.begin(), s.policies.end());
    });
  }
  absl::StatusOr<std::optional<PricePolicy>> CurrentPolicy(const std::string& tenant) override {
    return uow_.With([&](const State& s) {
      auto it = s.policies.find(tenant);
      return it == s.policies.end() ? std::optional<PricePolicy>()
                                    : std::optional<PricePolicy>(it->second);
    });
  }
  absl::Status LogQuote(const std::string& tenant, const QuoteRecord& q) override {
    uow_.WithMutable([&](State& s) { s.quotes.emplace_back(tenant, q); });
    return absl::OkStatus();
  }
  // The quotes logged: (tenant, quote).
  std::vector<std::pair<std::string, QuoteRecord>> Quotes() const {
    return uow_.With([](const State& s) { return s.quotes; });
  }

 private:
  struct State {
    std::map<std::string, PricePolicy> policies;  // by tenant
    std::vector<std::pair<std::string, QuoteRecord>> quotes;
  };
  class Tx final : public personalization::app::PriceTx {
   public:
    Tx(std::string tenant, State& s) : tenant_(std::move(tenant)), s_(s) {}
    absl::StatusOr<std::optional<PricePolicy>> LoadPolicy() override {
      auto it = s_.policies.find(tenant_);
      return it == s_.policies.end() ? std::optional<PricePolicy>()
                                     : std::optional<PricePolicy>(it->second);
    }
    void SavePolicy(const PricePolicy& p) override { s_.policies[tenant_] = p; }

   private:
    std::string tenant_;
    State& s_;
  };
  FakeUnitOfWork<State> uow_;
};

}  // namespace crm::testing

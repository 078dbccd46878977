#pragma once
// In-memory OfferRepository: definitions, cap counters and decisions in one
// state written through FakeUnitOfWork (all or nothing, key rules kept).
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "services/personalization/app/ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

class FakeOfferRepository final : public personalization::app::OfferRepository {
 public:
  using Offer = personalization::domain::Offer;
  using NextBestOffers = personalization::app::NextBestOffers;

  absl::StatusOr<Offer> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<Offer>(personalization::app::OfferTx&)> work) override {
    return uow_.Write<Offer>(meta, [&](State& s) -> absl::StatusOr<Offer> {
      Tx tx(meta.tenant_id, s);
      return work(tx);
    });
  }
  absl::StatusOr<NextBestOffers> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<NextBestOffers>(personalization::app::OfferTx&)> work)
      override {
    return uow_.Write<NextBestOffers>(meta, [&](State& s) -> absl::StatusOr<NextBestOffers> {
      Tx tx(meta.tenant_id, s);
      return work(tx);
    });
  }
  absl::StatusOr<std::vector<std::pair<std::string, Offer>>> LoadAllOffers() override {
    return uow_.With([](const State& s) {
      std::vector<std::pair<std::string, Offer>> out;
      for (const auto& [key, o] : s.offers) out.emplace_back(key.first, o);
      return out;
    });
  }
  absl::StatusOr<std::optional<Offer>> CurrentOffer(const std::string& tenant,
                                                    const std::string& offer_id) override {
    return uow_.With([&](const State& s) {
      auto it = s.offers.find({tenant, offer_id});
      return it == s.offers.end() ? std::optional<Offer>() : std::optional<Offer>(it->second);
    });
  }
  absl::StatusOr<std::int64_t> Presented(const std::string& tenant,
                                         const std::string& offer_id) override {
    return uow_.With([&](const State& s) {
      auto it = s.totals.find({tenant, offer_id});
      return it == s.totals.end() ? std::int64_t{0} : it->second;
    });
  }
  // Decisions logged, (tenant, customer, offer id) each.
  std::vector<std::tuple<std::string, std::string, std::string>> Decisions() const {
    return uow_.With([](const State& s) { return s.decisions; });
  }

 private:
  struct State {
    std::map<std::pair<std::string, std::string>, Offer> offers;
    std::map<std::pair<std::string, std::string>, std::int64_t> totals;   // decisions
    std::map<std::pair<std::string, std::string>, std::int64_t> claimed;  // capped offers
    std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> per_customer;
    std::vector<std::tuple<std::string, std::string, std::string>> decisions;
  };
  class Tx final : public personalization::app::OfferTx {
   public:
    Tx(std::string tenant, State& s) : tenant_(std::move(tenant)), s_(s) {}
    absl::StatusOr<std::optional<Offer>> LoadOffer(const std::string& id) override {
      auto it = s_.offers.find({tenant_, id});
      return it == s_.offers.end() ? std::optional<Offer>() : std::optional<Offer>(it->second);
    }
    absl::StatusOr<std::size_t> CountOffers() override {
      std::size_t n = 0;
      for (const auto& [key, o] : s_.offers) n += key.first == tenant_ ? 1 : 0;
      return n;
    }
    void SaveOffer(const Offer& o) override { s_.offers[{tenant_, o.offer_id}] = o; }
    absl::StatusOr<bool> ClaimPresentation(const Offer& o, const std::string& customer) override {
      std::int64_t& mine = s_.per_customer[{tenant_, o.offer_id, customer}];
      std::int64_t& all = s_.claimed[{tenant_, o.offer_id}];
      if ((o.per_customer_cap > 0 && mine >= o.per_customer_cap) ||
          (o.global_cap > 0 && all >= o.global_cap)) {
        return false;
      }
      ++mine;
      ++all;
      return true;
    }
    void LogDecisions(const std::string& customer,
                      const std::vector<personalization::app::OfferDecision>& ds) override {
      for (const auto& d : ds) {
        s_.decisions.emplace_back(tenant_, customer, d.offer.offer_id);
        ++s_.totals[{tenant_, d.offer.offer_id}];
      }
    }

   private:
    std::string tenant_;
    State& s_;
  };
  FakeUnitOfWork<State> uow_;
};

}  // namespace crm::testing

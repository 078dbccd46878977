#pragma once
// In-memory definition repositories: slots, templates (the unit of work's key
// rules, FakeUnitOfWork)
// and a SegmentationPeer that answers what the test says each customer
// matches (the segment language itself is segmentation's, tested there and
// end to end).
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "services/personalization/app/ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

// An in-memory DefinitionRepository<T> (slots, templates); `id` names T's id.
template <typename T, std::string T::*id>
class FakeDefinitionRepository final : public personalization::app::DefinitionRepository<T> {
 public:
  absl::StatusOr<T> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<T>(personalization::app::DefinitionTx<T>&)> work) override {
    return uow_.template Write<T>(meta, [&](State& s) -> absl::StatusOr<T> {
      Tx tx(meta.tenant_id, s);
      return work(tx);
    });
  }
  absl::StatusOr<std::vector<std::pair<std::string, T>>> LoadAll() override {
    return uow_.With([](const State& s) {
      std::vector<std::pair<std::string, T>> out;
      for (const auto& [key, d] : s) out.emplace_back(key.first, d);
      return out;
    });
  }
  absl::StatusOr<std::optional<T>> Current(const std::string& tenant,
                                           const std::string& def_id) override {
    return uow_.With([&](const State& s) {
      auto it = s.find({tenant, def_id});
      return it == s.end() ? std::optional<T>() : std::optional<T>(it->second);
    });
  }

 private:
  using State = std::map<std::pair<std::string, std::string>, T>;
  class Tx final : public personalization::app::DefinitionTx<T> {
   public:
    Tx(std::string tenant, State& s) : tenant_(std::move(tenant)), s_(s) {}
    absl::StatusOr<std::optional<T>> Load(const std::string& def_id) override {
      auto it = s_.find({tenant_, def_id});
      return it == s_.end() ? std::optional<T>() : std::optional<T>(it->second);
    }
    absl::StatusOr<std::size_t> Count() override {
      std::size_t n = 0;
      for (const auto& [key, d] : s_) n += key.first == tenant_ ? 1 : 0;
      return n;
    }
    void Save(const T& d) override { s_[{tenant_, d.*id}] = d; }
    void Delete(const std::string& def_id) override { s_.erase({tenant_, def_id}); }

   private:
    std::string tenant_;
    State& s_;
  };
  FakeUnitOfWork<State> uow_;
};

using FakeSlotRepository = FakeDefinitionRepository<personalization::domain::Slot,
                                                    &personalization::domain::Slot::slot_id>;
using FakeTemplateRepository =
    FakeDefinitionRepository<personalization::domain::MessageTemplate,
                             &personalization::domain::MessageTemplate::template_id>;

class FakeSegmentation final : public personalization::app::SegmentationPeer {
 public:
  absl::StatusOr<std::vector<bool>> Match(const std::string&, const std::string& customer_id,
                                          const std::vector<std::string>& expressions) override {
    ++calls;
    if (!down.ok()) return down;
    if (!known.count(customer_id)) return absl::NotFoundError("customer not found");
    std::vector<bool> out;
    for (const std::string& e : expressions) out.push_back(matches.count({customer_id, e}) > 0);
    return out;
  }
  absl::StatusOr<std::optional<double>> PAlive(const std::string&,
                                               const std::string& customer_id) override {
    if (!down.ok()) return down;
    if (!known.count(customer_id)) return absl::NotFoundError("customer not found");
    auto it = p_alive.find(customer_id);
    return it == p_alive.end() ? std::optional<double>() : std::optional<double>(it->second);
  }
  absl::StatusOr<std::vector<std::pair<std::string, absl::Time>>> Segments(
      const std::string&, const std::string& customer_id) override {
    ++calls;
    if (!down.ok()) return down;
    if (!known.count(customer_id)) return absl::NotFoundError("customer not found");
    std::vector<std::pair<std::string, absl::Time>> out;
    for (const auto& [segment, members] : segments) {
      auto it = members.find(customer_id);
      if (it != members.end()) out.emplace_back(segment, it->second);
    }
    return out;
  }
  absl::StatusOr<std::vector<std::string>> Members(const std::string&,
                                                   const std::string& segment_id,
                                                   std::size_t limit) override {
    ++calls;
    if (!down.ok()) return down;
    auto it = segments.find(segment_id);
    if (it == segments.end()) {
      return common::WithReason(absl::NotFoundError("segment not found"), "SEGMENT_NOT_FOUND");
    }
    std::vector<std::string> out;
    for (const auto& [customer, entered] : it->second) {
      if (out.size() < limit) out.push_back(customer);
    }
    return out;
  }
  std::set<std::string> known;
  std::set<std::pair<std::string, std::string>> matches;  // (customer, expression)
  // segment -> member -> time entered
  std::map<std::string, std::map<std::string, absl::Time>> segments;
  std::map<std::string, double> p_alive;                  // none: no model
  absl::Status down;
  int calls = 0;
};

}  // namespace crm::testing

#pragma once
// In-memory SlotRepository (the unit of work's key rules, FakeUnitOfWork)
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
#include "services/personalization/app/ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

class FakeSlotRepository final : public personalization::app::SlotRepository {
 public:
  using Slot = personalization::domain::Slot;

  absl::StatusOr<Slot> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<Slot>(personalization::app::SlotTx&)> work) override {
    return uow_.Write<Slot>(meta, [&](State& s) -> absl::StatusOr<Slot> {
      Tx tx(meta.tenant_id, s);
      return work(tx);
    });
  }
  absl::StatusOr<std::vector<std::pair<std::string, Slot>>> LoadAllSlots() override {
    return uow_.With([](const State& s) {
      std::vector<std::pair<std::string, Slot>> out;
      for (const auto& [key, slot] : s) out.emplace_back(key.first, slot);
      return out;
    });
  }
  absl::StatusOr<std::optional<Slot>> CurrentSlot(const std::string& tenant,
                                                  const std::string& slot_id) override {
    return uow_.With([&](const State& s) {
      auto it = s.find({tenant, slot_id});
      return it == s.end() ? std::optional<Slot>() : std::optional<Slot>(it->second);
    });
  }

 private:
  using State = std::map<std::pair<std::string, std::string>, Slot>;
  class Tx final : public personalization::app::SlotTx {
   public:
    Tx(std::string tenant, State& s) : tenant_(std::move(tenant)), s_(s) {}
    absl::StatusOr<std::optional<Slot>> LoadSlot(const std::string& slot_id) override {
      auto it = s_.find({tenant_, slot_id});
      return it == s_.end() ? std::optional<Slot>() : std::optional<Slot>(it->second);
    }
    absl::StatusOr<std::size_t> CountSlots() override {
      std::size_t n = 0;
      for (const auto& [key, slot] : s_) n += key.first == tenant_ ? 1 : 0;
      return n;
    }
    void SaveSlot(const Slot& s) override { s_[{tenant_, s.slot_id}] = s; }
    void DeleteSlot(const std::string& slot_id) override { s_.erase({tenant_, slot_id}); }

   private:
    std::string tenant_;
    State& s_;
  };
  FakeUnitOfWork<State> uow_;
};

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
  std::set<std::string> known;
  std::set<std::pair<std::string, std::string>> matches;  // (customer, expression)
  std::map<std::string, double> p_alive;                  // none: no model
  absl::Status down;
  int calls = 0;
};

}  // namespace crm::testing

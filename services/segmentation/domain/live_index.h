#pragma once
// The in-memory side of live segments, per tenant: customers numbered
// densely, each segment's members as a compressed bitmap (CRoaring), and a
// queue of the instants at which a customer's memberships can change by time
// passing alone (the time wheel: one entry per customer, the earliest of its
// segments' next_change). Pure data structures: no locking, no I/O.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/segmentation/domain/segment_check.h"
#include "services/segmentation/domain/segment_eval.h"

class Roaring;

namespace crm::segmentation::domain {

// Customer ids <-> dense numbers 0, 1, 2, ... (never reused in a tenant).
class CustomerIndex {
 public:
  uint32_t Intern(const std::string& customer_id);
  std::optional<uint32_t> Find(absl::string_view customer_id) const;
  const std::string& IdOf(uint32_t index) const { return ids_[index]; }
  size_t size() const { return ids_.size(); }
  size_t MemoryBytes() const;

 private:
  std::vector<std::string> ids_;
  std::unordered_map<std::string, uint32_t> index_;
};

// Members per segment id.
class SegmentBitmaps {
 public:
  SegmentBitmaps();
  ~SegmentBitmaps();
  SegmentBitmaps(SegmentBitmaps&&) noexcept;
  SegmentBitmaps& operator=(SegmentBitmaps&&) noexcept;

  bool Contains(const std::string& segment_id, uint32_t customer) const;
  // Whether it changed.
  bool Set(const std::string& segment_id, uint32_t customer, bool member);
  uint64_t Count(const std::string& segment_id) const;
  std::vector<uint32_t> Members(const std::string& segment_id) const;  // ascending
  void Drop(const std::string& segment_id);
  size_t MemoryBytes() const;

 private:
  std::map<std::string, std::unique_ptr<Roaring>, std::less<>> bitmaps_;
};

// When each customer must be re-evaluated next. Schedule replaces a
// customer's instant; PopDue returns (once each) the customers whose instant
// is <= now. A heap with lazy deletion: O(log n) per change.
class TimerQueue {
 public:
  void Schedule(uint32_t customer, absl::Time when);  // InfiniteFuture: none
  // Schedule unless the customer is due earlier already.
  void ScheduleEarlier(uint32_t customer, absl::Time when);
  std::vector<uint32_t> PopDue(absl::Time now);
  size_t pending() const { return due_.size(); }
  std::optional<absl::Time> Next();  // the earliest pending instant

 private:
  struct Entry {
    absl::Time when;
    uint32_t customer;
    bool operator>(const Entry& o) const { return when > o.when; }
  };
  void DropStale();
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
  std::unordered_map<uint32_t, absl::Time> due_;
};

// A saved segment, checked against the catalog.
struct LiveSegment {
  std::string id;
  int64_t version = 0;
  CheckedSegment checked;
  // Reads behaviour events or the model / RFM features: a customer who
  // objects to profiling is never a member.
  bool behavioural() const {
    return checked.dependencies.Reads(ChangeKind::kEvents) ||
           checked.dependencies.Reads(ChangeKind::kFeatures);
  }
};

struct CustomerMemberships {
  std::set<std::string> members;  // segment ids
  absl::Time next_change = absl::InfiniteFuture();
};

// Evaluates `ordered` (each after the segments it references:
// SegmentEvaluationOrder) for one customer at `now`; in_segment() reads the
// memberships computed earlier in the same pass, and for segments not in
// `ordered` the ones given in snapshot.segments (so a pass may evaluate only
// the segments an edit affects). `members` holds the segments of `ordered`
// the customer is in; next_change is the earliest over `ordered`.
// A customer who may not be profiled (`no_profiling`: an objection, or no
// opt-in where the tenant requires one; consents.h ProfilingOf) is in no
// behavioural segment.
CustomerMemberships EvaluateCustomer(const std::vector<const LiveSegment*>& ordered,
                                     CustomerSnapshot snapshot, absl::Time now,
                                     bool no_profiling = false);

// What a change of memberships publishes.
struct MembershipChange {
  std::string segment_id;
  int64_t segment_version = 0;
  std::string customer_id;
  bool entered = false;
};

}  // namespace crm::segmentation::domain

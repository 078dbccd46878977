#include "services/segmentation/domain/live_index.h"

#include <roaring/roaring.hh>

namespace crm::segmentation::domain {

uint32_t CustomerIndex::Intern(const std::string& customer_id) {
  auto [it, inserted] = index_.try_emplace(customer_id, static_cast<uint32_t>(ids_.size()));
  if (inserted) ids_.push_back(customer_id);
  return it->second;
}

std::optional<uint32_t> CustomerIndex::Find(absl::string_view customer_id) const {
  auto it = index_.find(std::string(customer_id));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

size_t CustomerIndex::MemoryBytes() const {
  // Two copies of each id (vector and map key) plus the map's node and bucket.
  size_t bytes = ids_.capacity() * sizeof(std::string) + index_.bucket_count() * sizeof(void*);
  for (const std::string& id : ids_) {
    const size_t heap = id.capacity() > 15 ? id.capacity() + 1 : 0;
    bytes += 2 * heap + sizeof(std::string) + sizeof(uint32_t) + 2 * sizeof(void*);
  }
  return bytes;
}

SegmentBitmaps::SegmentBitmaps() = default;
SegmentBitmaps::~SegmentBitmaps() = default;
SegmentBitmaps::SegmentBitmaps(SegmentBitmaps&&) noexcept = default;
SegmentBitmaps& SegmentBitmaps::operator=(SegmentBitmaps&&) noexcept = default;

bool SegmentBitmaps::Contains(const std::string& segment_id, uint32_t customer) const {
  auto it = bitmaps_.find(segment_id);
  return it != bitmaps_.end() && it->second->contains(customer);
}

bool SegmentBitmaps::Set(const std::string& segment_id, uint32_t customer, bool member) {
  auto it = bitmaps_.find(segment_id);
  if (it == bitmaps_.end()) {
    if (!member) return false;
    it = bitmaps_.emplace(segment_id, std::make_unique<Roaring>()).first;
  }
  return member ? it->second->addChecked(customer) : it->second->removeChecked(customer);
}

uint64_t SegmentBitmaps::Count(const std::string& segment_id) const {
  auto it = bitmaps_.find(segment_id);
  return it == bitmaps_.end() ? 0 : it->second->cardinality();
}

std::vector<uint32_t> SegmentBitmaps::Members(const std::string& segment_id) const {
  std::vector<uint32_t> out;
  auto it = bitmaps_.find(segment_id);
  if (it == bitmaps_.end()) return out;
  out.reserve(it->second->cardinality());
  for (uint32_t c : *it->second) out.push_back(c);
  return out;
}

void SegmentBitmaps::Drop(const std::string& segment_id) {
  auto it = bitmaps_.find(segment_id);
  if (it != bitmaps_.end()) bitmaps_.erase(it);
}

size_t SegmentBitmaps::MemoryBytes() const {
  size_t bytes = 0;
  for (const auto& [id, bitmap] : bitmaps_) bytes += id.size() + bitmap->getSizeInBytes(false);
  return bytes;
}

void TimerQueue::Schedule(uint32_t customer, absl::Time when) {
  if (when == absl::InfiniteFuture()) {
    due_.erase(customer);  // its heap entries go stale
  } else {
    due_[customer] = when;
    heap_.push({when, customer});
  }
  // Stale entries (a rescheduled or cancelled customer) are skipped when
  // they come up; compact once they outnumber the live ones.
  if (heap_.size() > 2 * due_.size() + 1024) DropStale();
}

void TimerQueue::DropStale() {
  std::vector<Entry> live;
  live.reserve(due_.size());
  for (const auto& [customer, when] : due_) live.push_back({when, customer});
  heap_ = decltype(heap_)(std::greater<Entry>(), std::move(live));
}

void TimerQueue::ScheduleEarlier(uint32_t customer, absl::Time when) {
  auto it = due_.find(customer);
  if (it == due_.end() || when < it->second) Schedule(customer, when);
}

std::vector<uint32_t> TimerQueue::PopDue(absl::Time now) {
  std::vector<uint32_t> out;
  while (!heap_.empty() && heap_.top().when <= now) {
    Entry e = heap_.top();
    heap_.pop();
    auto it = due_.find(e.customer);
    if (it == due_.end() || it->second != e.when) continue;  // stale
    due_.erase(it);
    out.push_back(e.customer);
  }
  return out;
}

std::optional<absl::Time> TimerQueue::Next() {
  while (!heap_.empty()) {
    auto it = due_.find(heap_.top().customer);
    if (it != due_.end() && it->second == heap_.top().when) return heap_.top().when;
    heap_.pop();  // stale
  }
  return std::nullopt;
}

CustomerMemberships EvaluateCustomer(const std::vector<const LiveSegment*>& ordered,
                                     CustomerSnapshot snapshot, absl::Time now, bool no_profiling) {
  CustomerMemberships out;
  for (const LiveSegment* s : ordered) {
    if (no_profiling && s->behavioural()) {
      snapshot.segments.erase(s->id);  // out, whatever time does
      continue;
    }
    SegmentEvaluation e = EvaluateSegment(s->checked, snapshot, now);
    if (e.matches) {
      snapshot.segments.insert(s->id);
      out.members.insert(s->id);
    } else {
      snapshot.segments.erase(s->id);
    }
    out.next_change = std::min(out.next_change, e.next_change);
  }
  return out;
}

}  // namespace crm::segmentation::domain

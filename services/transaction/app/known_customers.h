#pragma once
// Customers the transaction engine has recently seen customer-store confirm:
// (tenant, customer id) -> the id orders are booked to (the id itself, or
// the survivor it was merged into). Lets an order for a known customer skip
// the ResolveCustomerRefs round trip (and its PostgreSQL transaction in
// customer-store).
//
// Bounded: at most `capacity` entries (least recently used evicted first),
// each trusted for `ttl` after customer-store confirmed it. Invalidated by
// customer-store's events (api/customer_events.h): customer.erased forgets
// the erased customer and every customer merged into it, customer.merged the
// source, customer.unmerged the survivor and the restored customer; each
// forgets the entries keyed by those ids and those that read as one of them.
//
// The window (docs in services/transaction/README.md): between customer-store
// committing an erasure (or merge) and this process consuming its event, a
// cached customer is still accepted. Once the event is consumed, no order for
// it is accepted from the cache: an answer of customer-store fetched before
// the invalidation is not remembered after it (Epoch()).
//
// Thread-safe.
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"

namespace crm::transaction::app {

struct KnownCustomersOptions {
  size_t capacity = 100000;  // entries; 0 turns the cache off
  absl::Duration ttl = absl::Minutes(5);
};

class KnownCustomers final {
 public:
  KnownCustomers(const common::Clock& clock, KnownCustomersOptions options)
      : clock_(clock), options_(options) {}
  KnownCustomers(const KnownCustomers&) = delete;
  KnownCustomers& operator=(const KnownCustomers&) = delete;

  bool enabled() const { return options_.capacity > 0 && options_.ttl > absl::ZeroDuration(); }

  // The id `customer_id` of `tenant` reads as, when confirmed within the TTL.
  std::optional<std::string> Find(const std::string& tenant, const std::string& customer_id);

  // Read before asking customer-store; pass to Remember() with its answer.
  uint64_t Epoch() const;
  // Remembers that customer-store confirmed `customer_id` as `reads_as`,
  // unless an invalidation happened after `epoch` was read (the answer may
  // predate it).
  void Remember(uint64_t epoch, const std::string& tenant, const std::string& customer_id,
                const std::string& reads_as);
  // Forgets the entries of `tenant` keyed by one of `ids` or reading as one
  // of them.
  void Forget(const std::string& tenant, const std::vector<std::string>& ids);
  // Forgets every entry of `tenant` (an event naming its customers could
  // not be read).
  void ForgetTenant(const std::string& tenant);
  // Forgets everything (invalidations may have been missed).
  void Clear();

  size_t size() const;
  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evicted = 0;   // by capacity
    uint64_t expired = 0;   // by TTL, found at lookup
    uint64_t forgotten = 0; // by events
  };
  Stats stats() const;

 private:
  struct Entry {
    std::string key;       // tenant + '/' + customer id
    std::string tenant;
    std::string reads_as;
    absl::Time expires;
  };
  static std::string Key(const std::string& tenant, const std::string& id) {
    return tenant + "/" + id;
  }

  const common::Clock& clock_;
  const KnownCustomersOptions options_;
  mutable absl::Mutex mu_;
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_ ABSL_GUARDED_BY(mu_);
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::transaction::app

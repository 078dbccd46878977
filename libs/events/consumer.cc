#include "libs/events/consumer.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/events/stream_read.h"
#include "libs/observability/log.h"
#include "libs/observability/metrics.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace crm::events {

// ---------------------------------------------------------------- RecentIds

RecentIds::RecentIds(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

bool RecentIds::Contains(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return false;
  order_.splice(order_.begin(), order_, it->second);
  return true;
}

void RecentIds::Insert(const std::string& id) {
  if (Contains(id)) return;
  order_.push_front(id);
  index_.emplace(id, order_.begin());
  while (index_.size() > capacity_) {
    index_.erase(order_.back());
    order_.pop_back();
  }
}

// ------------------------------------------------------------------ Metrics

class Consumer::Metrics {
 public:
  Metrics(prometheus::Registry& r, const std::string& group)
      : group_(group),
        consumed_(prometheus::BuildCounter()
                      .Name("crm_events_consumed_total")
                      .Help("Stream entries handled by event consumers, by outcome")
                      .Register(r)),
        lag_(prometheus::BuildGauge()
                 .Name("crm_events_consumer_lag")
                 .Help("Entries of a stream not yet delivered to the consumer group")
                 .Register(r)),
        handle_(prometheus::BuildHistogram()
                    .Name("crm_events_handle_seconds")
                    .Help("Time spent in event handlers")
                    .Register(r)),
        ok(consumed_.Add({{"group", group}, {"outcome", "ok"}})),
        retry(consumed_.Add({{"group", group}, {"outcome", "retry"}})),
        dead(consumed_.Add({{"group", group}, {"outcome", "dead"}})),
        duplicate(consumed_.Add({{"group", group}, {"outcome", "duplicate"}})),
        handle(handle_.Add({{"group", group}}, observability::Metrics::LatencyBuckets())),
        group_resets(prometheus::BuildCounter()
                         .Name("crm_events_group_resets_total")
                         .Help("Consumer groups found missing (NOGROUP, e.g. Redis lost its "
                               "data) and recreated at id 0")
                         .Register(r)
                         .Add({{"group", group}})) {}

  void SetLag(const std::string& stream, double lag) {
    lag_.Add({{"group", group_}, {"stream", stream}}).Set(lag);
  }

 private:
  std::string group_;
  prometheus::Family<prometheus::Counter>& consumed_;
  prometheus::Family<prometheus::Gauge>& lag_;
  prometheus::Family<prometheus::Histogram>& handle_;

 public:
  prometheus::Counter& ok;
  prometheus::Counter& retry;
  prometheus::Counter& dead;
  prometheus::Counter& duplicate;
  prometheus::Histogram& handle;
  prometheus::Counter& group_resets;
};

// ------------------------------------------------------------------ parsing

namespace {

using Entry = internal::StreamEntry;

constexpr int64_t kDeadLetterMaxLen = 1000000;

// [id, [field, value, ...] | nil]
absl::StatusOr<Entry> ParseEntry(const std::string& stream, const redis::Reply& r) {
  Entry e;
  e.stream = stream;
  CRM_ASSIGN_OR_RETURN(redis::Reply id, r.Element(0));
  CRM_ASSIGN_OR_RETURN(e.id, id.String());
  CRM_ASSIGN_OR_RETURN(redis::Reply fields, r.Element(1));
  if (fields.is_nil()) {
    e.deleted = true;
    return e;
  }
  CRM_ASSIGN_OR_RETURN(size_t n, fields.ArraySize());
  for (size_t i = 0; i + 1 < n; i += 2) {
    CRM_ASSIGN_OR_RETURN(redis::Reply k, fields.Element(i));
    CRM_ASSIGN_OR_RETURN(std::string key, k.String());
    if (key != "envelope") continue;
    CRM_ASSIGN_OR_RETURN(redis::Reply v, fields.Element(i + 1));
    CRM_ASSIGN_OR_RETURN(std::string value, v.String());
    e.envelope = std::move(value);
  }
  return e;
}

absl::StatusOr<std::vector<Entry>> ParseEntries(const std::string& stream,
                                                          const redis::Reply& arr) {
  std::vector<Entry> out;
  CRM_ASSIGN_OR_RETURN(size_t n, arr.ArraySize());
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    CRM_ASSIGN_OR_RETURN(redis::Reply r, arr.Element(i));
    CRM_ASSIGN_OR_RETURN(Entry e, ParseEntry(stream, r));
    out.push_back(std::move(e));
  }
  return out;
}

bool IsIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  if (!(absl::ascii_islower(s[0]) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
  });
}

}  // namespace

namespace internal {

// XREADGROUP reply: [[stream, entries], ...] or nil (BLOCK timed out).
absl::StatusOr<std::vector<std::pair<std::string, std::vector<StreamEntry>>>> ParseRead(
    const redis::Reply& reply) {
  std::vector<std::pair<std::string, std::vector<StreamEntry>>> out;
  CRM_ASSIGN_OR_RETURN(size_t n, reply.ArraySize());
  for (size_t i = 0; i < n; ++i) {
    CRM_ASSIGN_OR_RETURN(redis::Reply s, reply.Element(i));
    CRM_ASSIGN_OR_RETURN(redis::Reply name, s.Element(0));
    CRM_ASSIGN_OR_RETURN(std::string stream, name.String());
    CRM_ASSIGN_OR_RETURN(redis::Reply entries, s.Element(1));
    CRM_ASSIGN_OR_RETURN(std::vector<StreamEntry> parsed, ParseEntries(stream, entries));
    out.emplace_back(std::move(stream), std::move(parsed));
  }
  return out;
}

}  // namespace internal

// ----------------------------------------------------------------- Consumer

Consumer::Consumer(redis::Pool& redis, ConsumerOptions options, Handler handler)
    : redis_(redis),
      options_(std::move(options)),
      handler_(std::move(handler)),
      recent_(options_.dedup_capacity) {
  options_.partitions = std::max(options_.partitions, 1);
  options_.batch = std::max(options_.batch, 1);
  options_.max_deliveries = std::max(options_.max_deliveries, 1);
  if (options_.metrics != nullptr) {
    metrics_ = std::make_unique<Metrics>(*options_.metrics, options_.group);
  }
}

Consumer::Consumer(redis::Pool& redis, ConsumerOptions options, BatchHandler handler)
    : Consumer(redis, std::move(options), Handler()) {
  batch_handler_ = std::move(handler);
}

Consumer::~Consumer() { Stop(); }

std::string Consumer::Stream(int p) const { return absl::StrCat(options_.stream_prefix, p); }

absl::Status Consumer::EnsureGroups() {
  if (options_.group.empty() || options_.consumer.empty()) {
    return absl::InvalidArgumentError("event consumer needs a group and a consumer name");
  }
  int created = 0;
  for (int p = 0; p < options_.partitions; ++p) {
    const std::string stream = Stream(p);
    auto r = redis_.Command({"XGROUP", "CREATE", stream, options_.group, "0", "MKSTREAM"});
    if (r.ok()) {
      ++created;
    } else if (!(absl::IsFailedPrecondition(r.status()) &&
                 absl::StrContains(r.status().message(), "BUSYGROUP"))) {
      return r.status();
    }
  }
  if (groups_lost_ && created > 0) {
    // Redis lost the group (a restart with an empty dataset, or a deleted
    // stream): recreated at 0, so whatever the relay republishes is read;
    // already handled events are deduplicated (RecentIds, MarkProcessed).
    if (metrics_) metrics_->group_resets.Increment();
    CRM_LOG(Warning).Field("group", options_.group).Field("recreated", created)
        << "event consumer: consumer group was missing, recreated at id 0";
  }
  groups_lost_ = false;
  groups_ready_ = true;
  return absl::OkStatus();
}

absl::Status Consumer::CheckGroupError(const absl::Status& s) {
  // The stream or group was deleted under us: recreate on the next poll.
  if (absl::IsFailedPrecondition(s) && absl::StrContains(s.message(), "NOGROUP")) {
    groups_ready_ = false;
    groups_lost_ = true;
    claim_cursor_.clear();
  }
  return s;
}

absl::StatusOr<int> Consumer::PollOnce() {
  absl::StatusOr<int> n = PollRound();
  if (!n.ok() && groups_lost_) {
    // NOGROUP: recreate the groups now; the next round reads from id 0.
    CRM_RETURN_IF_ERROR(EnsureGroups());
    return 0;
  }
  return n;
}

absl::StatusOr<int> Consumer::PollRound() {
  if (!groups_ready_) CRM_RETURN_IF_ERROR(EnsureGroups());
  int handled = 0;
  if (!own_pending_done_) {
    CRM_ASSIGN_OR_RETURN(int n, ReadOwnPending());
    handled += n;
    own_pending_done_ = true;
  }
  CRM_ASSIGN_OR_RETURN(int claimed, ClaimStuck());
  handled += claimed;
  CRM_ASSIGN_OR_RETURN(int fresh, ReadNew(/*block=*/handled == 0));
  handled += fresh;
  MaybeUpdateLag();
  return handled;
}

absl::StatusOr<int> Consumer::ReadOwnPending() {
  std::map<std::string, std::string> cursor;
  for (int p = 0; p < options_.partitions; ++p) cursor[Stream(p)] = "0";
  const std::string count = absl::StrCat(options_.batch);
  int handled = 0;
  while (!cursor.empty()) {
    std::vector<std::string_view> argv = {"XREADGROUP", "GROUP", options_.group,
                                          options_.consumer, "COUNT", count, "STREAMS"};
    for (const auto& [stream, id] : cursor) argv.push_back(stream);
    for (const auto& [stream, id] : cursor) argv.push_back(id);
    auto reply = redis_.Command(argv);
    if (!reply.ok()) return CheckGroupError(reply.status());
    CRM_ASSIGN_OR_RETURN(auto per_stream, internal::ParseRead(*reply));
    std::set<std::string> more;
    std::vector<std::pair<std::string, std::vector<Entry>>> work;
    for (auto& [stream, entries] : per_stream) {
      if (entries.empty() || cursor.count(stream) == 0) continue;
      CRM_RETURN_IF_ERROR(FillDeliveries(stream, entries));
      cursor[stream] = entries.back().id;
      more.insert(stream);
      work.emplace_back(stream, std::move(entries));
    }
    CRM_ASSIGN_OR_RETURN(int n, ProcessRead(work, /*parallel=*/false));
    handled += n;
    for (auto it = cursor.begin(); it != cursor.end();) {
      it = more.count(it->first) ? std::next(it) : cursor.erase(it);
    }
  }
  return handled;
}

absl::StatusOr<int> Consumer::ClaimStuck() {
  const std::string idle =
      absl::StrCat(std::max<int64_t>(absl::ToInt64Milliseconds(options_.claim_idle), 0));
  const std::string count = absl::StrCat(options_.batch);
  std::vector<std::string> streams;
  std::vector<std::vector<std::string_view>> cmds;
  for (int p = 0; p < options_.partitions; ++p) streams.push_back(Stream(p));
  for (const std::string& s : streams) {
    auto [it, inserted] = claim_cursor_.try_emplace(s, "0-0");
    cmds.push_back({"XAUTOCLAIM", s, options_.group, options_.consumer, idle, it->second, "COUNT",
                    count});
  }
  CRM_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, redis_.Pipeline(cmds));
  std::vector<std::pair<std::string, std::vector<Entry>>> work;
  for (size_t i = 0; i < replies.size(); ++i) {
    const redis::Reply& r = replies[i];
    // [next cursor, entries, deleted ids]
    auto next = r.Element(0);
    if (!next.ok()) return CheckGroupError(next.status());
    CRM_ASSIGN_OR_RETURN(claim_cursor_[streams[i]], next->String());
    CRM_ASSIGN_OR_RETURN(redis::Reply entries_reply, r.Element(1));
    CRM_ASSIGN_OR_RETURN(std::vector<Entry> entries, ParseEntries(streams[i], entries_reply));
    if (entries.empty()) continue;
    CRM_RETURN_IF_ERROR(FillDeliveries(streams[i], entries));
    work.emplace_back(streams[i], std::move(entries));
  }
  return ProcessRead(work, /*parallel=*/false);
}

absl::StatusOr<int> Consumer::ReadNew(bool block) {
  const std::string count = absl::StrCat(options_.batch);
  const std::string block_ms =
      absl::StrCat(std::max<int64_t>(absl::ToInt64Milliseconds(options_.block), 1));
  std::vector<std::string> streams;
  for (int p = 0; p < options_.partitions; ++p) streams.push_back(Stream(p));
  std::vector<std::string_view> argv = {"XREADGROUP", "GROUP", options_.group, options_.consumer,
                                        "COUNT", count};
  if (block) {
    argv.push_back("BLOCK");
    argv.push_back(block_ms);
  }
  argv.push_back("STREAMS");
  for (const std::string& s : streams) argv.push_back(s);
  for (size_t i = 0; i < streams.size(); ++i) argv.push_back(">");
  auto reply = redis_.Command(argv);
  if (!reply.ok()) return CheckGroupError(reply.status());
  CRM_ASSIGN_OR_RETURN(auto per_stream, internal::ParseRead(*reply));
  // First delivery: deliveries = 1.
  std::vector<std::pair<std::string, std::vector<Entry>>> work;
  for (auto& [stream, entries] : per_stream) {
    if (!entries.empty()) work.emplace_back(stream, std::move(entries));
  }
  return ProcessRead(work, /*parallel=*/true);
}

absl::StatusOr<int> Consumer::ProcessRead(
    const std::vector<std::pair<std::string, std::vector<Entry>>>& per_stream, bool parallel) {
  if (batch_handler_) return ProcessBatch(per_stream);
  if (parallel) return ProcessStreams(per_stream);
  int handled = 0;
  for (const auto& [stream, entries] : per_stream) {
    CRM_ASSIGN_OR_RETURN(int n, ProcessEntries(entries));
    handled += n;
  }
  return handled;
}

absl::StatusOr<int> Consumer::ProcessStreams(
    const std::vector<std::pair<std::string, std::vector<Entry>>>& per_stream) {
  auto one_stream = [this](const std::vector<Entry>& entries) -> absl::StatusOr<int> {
    return ProcessEntries(entries);
  };
  const size_t workers =
      std::min<size_t>(std::max(options_.stream_workers, 1), per_stream.size());
  if (workers <= 1) {
    int handled = 0;
    for (const auto& [stream, entries] : per_stream) {
      CRM_ASSIGN_OR_RETURN(int n, one_stream(entries));
      handled += n;
    }
    return handled;
  }
  // Streams are taken from a shared index by `workers` threads.
  std::atomic<size_t> next{0};
  std::vector<absl::StatusOr<int>> results(per_stream.size(), 0);
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < per_stream.size(); i = next++) {
        results[i] = one_stream(per_stream[i].second);
      }
    });
  }
  for (auto& t : threads) t.join();
  int handled = 0;
  for (const auto& r : results) {
    if (!r.ok()) return r.status();
    handled += *r;
  }
  return handled;
}

absl::Status Consumer::FillDeliveries(const std::string& stream, std::vector<Entry>& entries) {
  std::vector<std::vector<std::string_view>> cmds;
  cmds.reserve(entries.size());
  for (const Entry& e : entries) {
    cmds.push_back({"XPENDING", stream, options_.group, e.id, e.id, "1"});
  }
  CRM_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, redis_.Pipeline(cmds));
  for (size_t i = 0; i < entries.size(); ++i) {
    // [[id, consumer, idle ms, delivery count]]; empty when no longer pending.
    CRM_ASSIGN_OR_RETURN(size_t n, replies[i].ArraySize());
    if (n == 0) continue;
    CRM_ASSIGN_OR_RETURN(redis::Reply row, replies[i].Element(0));
    CRM_ASSIGN_OR_RETURN(redis::Reply count, row.Element(3));
    CRM_ASSIGN_OR_RETURN(entries[i].deliveries, count.Integer());
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Consumer::ProcessEntries(const std::vector<Entry>& entries) {
  int n = 0;
  for (const Entry& e : entries) {
    CRM_RETURN_IF_ERROR(Process(e));
    ++n;
  }
  return n;
}

absl::StatusOr<bool> Consumer::Settle(const Entry& e, Event& ev, std::vector<std::string>* ack) {
  if (e.deleted) {  // trimmed or XDEL'd while pending
    ack->push_back(e.id);
    return true;
  }
  ev.stream = e.stream;
  ev.entry_id = e.id;
  ev.deliveries = e.deliveries;
  if (!e.envelope || !ev.envelope.ParseFromString(*e.envelope) || ev.envelope.event_id().empty()) {
    if (metrics_) metrics_->dead.Increment();
    CRM_LOG(Warning).Field("group", options_.group).Field("stream", e.stream).Field("entry", e.id)
        << "event without a parsable envelope: dead-lettered";
    CRM_RETURN_IF_ERROR(DeadLetter(e, "entry has no parsable envelope field"));
    return true;
  }
  bool seen = false;
  {
    absl::MutexLock lock(&recent_mu_);
    seen = recent_.Contains(ev.envelope.event_id());
  }
  if (seen) {
    if (metrics_) metrics_->duplicate.Increment();
    ack->push_back(e.id);
    return true;
  }
  if (e.deliveries > options_.max_deliveries) {
    if (metrics_) metrics_->dead.Increment();
    CRM_RETURN_IF_ERROR(DeadLetter(e, absl::StrCat("delivered ", e.deliveries,
                                                   " times without an acknowledgement")));
    return true;
  }
  return false;
}

absl::StatusOr<bool> Consumer::Outcome(const Entry& e, const Event& ev, const absl::Status& s) {
  if (s.ok()) {
    {
      absl::MutexLock lock(&recent_mu_);
      recent_.Insert(ev.envelope.event_id());
    }
    if (metrics_) metrics_->ok.Increment();
    return true;
  }
  if (e.deliveries >= options_.max_deliveries) {
    if (metrics_) metrics_->dead.Increment();
    CRM_LOG(Warning).Field("group", options_.group).Field("event_id", ev.envelope.event_id())
            .Field("deliveries", e.deliveries)
        << "event handler failed for the last time, dead-lettered: " << s;
    CRM_RETURN_IF_ERROR(DeadLetter(e, s.ToString()));
    return false;
  }
  if (metrics_) metrics_->retry.Increment();
  CRM_LOG(Info).Field("group", options_.group).Field("event_id", ev.envelope.event_id())
          .Field("deliveries", e.deliveries)
      << "event handler failed, will retry: " << s;
  return false;
}

absl::Status Consumer::Process(const Entry& e) {
  Event ev;
  std::vector<std::string> ack;
  CRM_ASSIGN_OR_RETURN(bool settled, Settle(e, ev, &ack));
  if (settled) return ack.empty() ? absl::OkStatus() : Ack(e.stream, e.id);
  const absl::Time start = absl::Now();
  absl::Status s;
  try {
    s = handler_(ev);
  } catch (const std::exception& ex) {
    s = absl::InternalError(absl::StrCat("handler threw: ", observability::ExceptionSummary(ex)));
  } catch (...) {
    s = absl::InternalError("handler threw a non-standard exception");
  }
  if (metrics_) metrics_->handle.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  CRM_ASSIGN_OR_RETURN(bool acknowledge, Outcome(e, ev, s));
  return acknowledge ? Ack(e.stream, e.id) : absl::OkStatus();
}

absl::StatusOr<int> Consumer::ProcessBatch(
    const std::vector<std::pair<std::string, std::vector<Entry>>>& per_stream) {
  std::map<std::string, std::vector<std::string>> ack;  // stream -> ids
  std::vector<Event> events;
  std::vector<const Entry*> handled_entries;
  int read = 0;
  for (const auto& [stream, entries] : per_stream) {
    for (const Entry& e : entries) {
      ++read;
      Event ev;
      CRM_ASSIGN_OR_RETURN(bool settled, Settle(e, ev, &ack[stream]));
      if (settled) continue;
      events.push_back(std::move(ev));
      handled_entries.push_back(&e);
    }
  }
  if (!events.empty()) {
    const absl::Time start = absl::Now();
    std::vector<absl::Status> results;
    try {
      results = batch_handler_(events);
      if (results.size() != events.size()) {
        results.assign(events.size(),
                       absl::InternalError(absl::StrCat("batch handler answered ", results.size(),
                                                        " results for ", events.size(),
                                                        " events")));
      }
    } catch (const std::exception& ex) {
      results.assign(events.size(), absl::InternalError(absl::StrCat(
                                        "handler threw: ", observability::ExceptionSummary(ex))));
    } catch (...) {
      results.assign(events.size(),
                     absl::InternalError("handler threw a non-standard exception"));
    }
    if (metrics_) metrics_->handle.Observe(absl::ToDoubleSeconds(absl::Now() - start));
    for (size_t i = 0; i < events.size(); ++i) {
      const Entry& e = *handled_entries[i];
      CRM_ASSIGN_OR_RETURN(bool acknowledge, Outcome(e, events[i], results[i]));
      if (acknowledge) ack[e.stream].push_back(e.id);
    }
  }
  CRM_RETURN_IF_ERROR(AckMany(ack));
  return read;
}

absl::Status Consumer::Ack(const std::string& stream, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(redis::Reply r, redis_.Command({"XACK", stream, options_.group, id}));
  return r.Integer().status();
}

absl::Status Consumer::AckMany(const std::map<std::string, std::vector<std::string>>& ids) {
  std::vector<std::vector<std::string_view>> cmds;
  for (const auto& [stream, list] : ids) {
    if (list.empty()) continue;
    std::vector<std::string_view> argv = {"XACK", stream, options_.group};
    for (const std::string& id : list) argv.push_back(id);
    cmds.push_back(std::move(argv));
  }
  if (cmds.empty()) return absl::OkStatus();
  CRM_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, redis_.Pipeline(cmds));
  for (const redis::Reply& r : replies) CRM_RETURN_IF_ERROR(r.Integer().status());
  return absl::OkStatus();
}

absl::Status Consumer::DeadLetter(const Entry& e, const std::string& error) {
  const std::string maxlen = absl::StrCat(kDeadLetterMaxLen);
  const std::string deliveries = absl::StrCat(e.deliveries);
  const std::string envelope = e.envelope.value_or("");
  std::vector<std::vector<std::string_view>> cmds = {
      {"MULTI"},
      {"XADD", options_.dead_letter_stream, "MAXLEN", "~", maxlen, "*", "stream", e.stream,
       "entry_id", e.id, "group", options_.group, "consumer", options_.consumer, "deliveries",
       deliveries, "error", error, "envelope", envelope},
      {"XACK", e.stream, options_.group, e.id},
      {"EXEC"}};
  CRM_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, redis_.Pipeline(cmds));
  const redis::Reply& exec = replies.back();
  if (exec.is_nil()) return absl::AbortedError("redis: dead-letter transaction aborted");
  CRM_ASSIGN_OR_RETURN(size_t n, exec.ArraySize());
  if (n != 2) return absl::InternalError("redis: unexpected EXEC reply for dead letter");
  CRM_ASSIGN_OR_RETURN(redis::Reply added, exec.Element(0));
  CRM_RETURN_IF_ERROR(added.String().status());
  CRM_ASSIGN_OR_RETURN(redis::Reply acked, exec.Element(1));
  return acked.Integer().status();
}

void Consumer::MaybeUpdateLag() {
  if (!metrics_) return;
  const absl::Time now = absl::Now();
  if (now - last_lag_update_ < absl::Seconds(1)) return;
  last_lag_update_ = now;
  std::vector<std::string> streams;
  std::vector<std::vector<std::string_view>> cmds;
  for (int p = 0; p < options_.partitions; ++p) streams.push_back(Stream(p));
  for (const std::string& s : streams) cmds.push_back({"XINFO", "GROUPS", s});
  auto replies = redis_.Pipeline(cmds);
  if (!replies.ok()) return;  // best effort; the next poll tries again
  for (size_t i = 0; i < streams.size(); ++i) {
    auto n = (*replies)[i].ArraySize();
    if (!n.ok()) continue;
    for (size_t g = 0; g < *n; ++g) {
      auto group = (*replies)[i].Element(g);
      if (!group.ok()) continue;
      auto fields = group->ArraySize();
      if (!fields.ok()) continue;
      std::optional<std::string> name;
      std::optional<int64_t> lag;
      for (size_t f = 0; f + 1 < *fields; f += 2) {
        auto k = group->Element(f);
        auto v = group->Element(f + 1);
        if (!k.ok() || !v.ok()) continue;
        auto key = k->String();
        if (!key.ok()) continue;
        if (*key == "name") {
          auto value = v->String();
          if (value.ok()) name = *value;
        } else if (*key == "lag") {
          auto value = v->Integer();  // nil when Redis cannot tell
          if (value.ok()) lag = *value;
        }
      }
      if (name && *name == options_.group && lag) {
        metrics_->SetLag(streams[i], static_cast<double>(*lag));
      }
    }
  }
}

void Consumer::Start() {
  if (thread_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void Consumer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Consumer::Loop() {
  const absl::Duration base = absl::Milliseconds(50);
  absl::Duration backoff = base;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    auto n = PollOnce();
    if (n.ok()) {
      backoff = base;
      continue;
    }
    CRM_LOG(Warning).Field("group", options_.group) << "event consumer: " << n.status();
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stop_), backoff)) return;
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

// ------------------------------------------------------------ MarkProcessed

absl::StatusOr<bool> MarkProcessed(pqxx::work& tx, const std::string& schema,
                                   const std::string& consumer, const std::string& event_id) {
  if (!IsIdentifier(schema)) return absl::InvalidArgumentError("schema is not an identifier");
  if (consumer.empty()) return absl::InvalidArgumentError("consumer is empty");
  if (!common::IsUuid(event_id)) return absl::InvalidArgumentError("event id is not a UUID");
  pqxx::result r = tx.exec_params(
      absl::StrCat("INSERT INTO ", schema,
                   ".processed_events (consumer, event_id) VALUES ($1, $2::uuid) "
                   "ON CONFLICT DO NOTHING"),
      consumer, event_id);
  return r.affected_rows() == 1;
}

}  // namespace crm::events

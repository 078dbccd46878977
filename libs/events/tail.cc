#include "libs/events/tail.h"

#include <algorithm>
#include <exception>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/events/stream_read.h"
#include "libs/observability/log.h"

namespace crm::events {

StreamTail::StreamTail(redis::Pool& redis, TailOptions options, EventsHandler on_events,
                       std::function<void()> on_gap)
    : redis_(redis),
      options_(std::move(options)),
      on_events_(std::move(on_events)),
      on_gap_(std::move(on_gap)) {
  options_.partitions = std::max(options_.partitions, 1);
  options_.batch = std::max(options_.batch, 1);
  for (int p = 0; p < options_.partitions; ++p) {
    streams_.push_back(absl::StrCat(options_.stream_prefix, p));
  }
}

StreamTail::~StreamTail() { Stop(); }

absl::Status StreamTail::Position() {
  std::vector<std::vector<std::string_view>> cmds;
  for (const std::string& s : streams_) cmds.push_back({"XREVRANGE", s, "+", "-", "COUNT", "1"});
  CRM_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, redis_.Pipeline(cmds));
  std::vector<std::string> ids;
  for (const redis::Reply& r : replies) {
    CRM_ASSIGN_OR_RETURN(size_t n, r.ArraySize());  // a missing stream: empty
    if (n == 0) {
      ids.push_back("0-0");
      continue;
    }
    CRM_ASSIGN_OR_RETURN(redis::Reply entry, r.Element(0));
    CRM_ASSIGN_OR_RETURN(redis::Reply id, entry.Element(0));
    CRM_ASSIGN_OR_RETURN(std::string last, id.String());
    ids.push_back(std::move(last));
  }
  last_ids_ = std::move(ids);
  // Positioned: whatever happened before is not delivered.
  if (on_gap_) on_gap_();
  return absl::OkStatus();
}

absl::StatusOr<int> StreamTail::PollOnce() {
  if (last_ids_.empty()) CRM_RETURN_IF_ERROR(Position());
  const std::string count = absl::StrCat(options_.batch);
  const std::string block_ms =
      absl::StrCat(std::max<int64_t>(absl::ToInt64Milliseconds(options_.block), 1));
  std::vector<std::string_view> argv = {"XREAD", "COUNT", count, "BLOCK", block_ms, "STREAMS"};
  for (const std::string& s : streams_) argv.push_back(s);
  for (const std::string& id : last_ids_) argv.push_back(id);
  auto reply = redis_.Command(argv);
  if (!reply.ok()) {
    last_ids_.clear();  // start over (and report the gap) at the next poll
    return reply.status();
  }
  auto per_stream = internal::ParseRead(*reply);
  if (!per_stream.ok()) {
    last_ids_.clear();
    return per_stream.status();
  }
  int read = 0;
  for (auto& [stream, entries] : *per_stream) {
    if (entries.empty()) continue;
    auto it = std::find(streams_.begin(), streams_.end(), stream);
    if (it == streams_.end()) continue;
    last_ids_[static_cast<size_t>(it - streams_.begin())] = entries.back().id;
    read += static_cast<int>(entries.size());
    std::vector<Event> events;
    events.reserve(entries.size());
    for (const internal::StreamEntry& e : entries) {
      Event ev;
      ev.stream = e.stream;
      ev.entry_id = e.id;
      if (!e.envelope || !ev.envelope.ParseFromString(*e.envelope)) continue;
      events.push_back(std::move(ev));
    }
    if (!events.empty() && on_events_) on_events_(events);
  }
  return read;
}

void StreamTail::Start() {
  if (thread_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void StreamTail::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void StreamTail::Loop() {
  const absl::Duration base = absl::Milliseconds(50);
  absl::Duration backoff = base;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    absl::StatusOr<int> n = absl::InternalError("not polled");
    try {
      n = PollOnce();
    } catch (const std::exception& ex) {
      last_ids_.clear();
      n = absl::InternalError(absl::StrCat("handler threw: ", observability::ExceptionSummary(ex)));
    }
    if (n.ok()) {
      backoff = base;
      continue;
    }
    CRM_LOG(Warning) << "event stream tail: " << n.status();
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stop_), backoff)) return;
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

}  // namespace crm::events

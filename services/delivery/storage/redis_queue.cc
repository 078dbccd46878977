#include "services/delivery/storage/redis_queue.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/events/stream_read.h"

namespace crm::delivery::storage {

absl::Status RedisWorkQueue::Enqueue(const std::vector<app::Ledger::Due>& items) {
  if (items.empty()) return absl::OkStatus();
  std::vector<std::string> envelopes;
  envelopes.reserve(items.size());
  for (const app::Ledger::Due& d : items) envelopes.push_back(absl::StrCat(d.tenant, "/", d.id));
  std::vector<std::vector<std::string_view>> commands;
  commands.reserve(items.size());
  for (const std::string& e : envelopes) {
    // Bounded: a queue that long is re-read from the ledger anyway.
    commands.push_back({"XADD", stream_, "MAXLEN", "~", "1000000", "*", "envelope", e});
  }
  CRM_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(commands));
  for (const redis::Reply& r : replies) {
    if (r.is_error()) return r.String().status();
  }
  return absl::OkStatus();
}

absl::Status RedisWorkQueue::EnsureGroup() {
  absl::StatusOr<redis::Reply> r =
      pool_.Command({"XGROUP", "CREATE", stream_, "delivery", "$", "MKSTREAM"});
  if (!r.ok() && !absl::StrContains(r.status().message(), "BUSYGROUP")) return r.status();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<app::Ledger::Due>> RedisWorkQueue::Read(const std::string& consumer,
                                                                   int count,
                                                                   absl::Duration block) {
  const std::string count_text = absl::StrCat(count);
  const std::string block_ms = absl::StrCat(std::max<int64_t>(absl::ToInt64Milliseconds(block), 1));
  const std::vector<std::string_view> argv = {"XREADGROUP", "GROUP",    "delivery", consumer,
                                              "COUNT",      count_text, "BLOCK",    block_ms,
                                              "NOACK",      "STREAMS",  stream_,    ">"};
  absl::StatusOr<redis::Reply> reply = pool_.Command(argv);
  if (!reply.ok() && absl::StrContains(reply.status().message(), "NOGROUP")) {
    // A Redis that lost its data (or a first start): the ledger re-queues.
    CRM_RETURN_IF_ERROR(EnsureGroup());
    reply = pool_.Command(argv);
  }
  if (!reply.ok()) return reply.status();
  std::vector<app::Ledger::Due> out;
  if (reply->is_nil()) return out;
  CRM_ASSIGN_OR_RETURN(auto per_stream, events::internal::ParseRead(*reply));
  for (const auto& [stream, entries] : per_stream) {
    for (const events::internal::StreamEntry& e : entries) {
      if (!e.envelope) continue;
      const size_t slash = e.envelope->find('/');
      if (slash == std::string::npos) continue;
      out.push_back({e.envelope->substr(0, slash), e.envelope->substr(slash + 1)});
    }
  }
  return out;
}

}  // namespace crm::delivery::storage

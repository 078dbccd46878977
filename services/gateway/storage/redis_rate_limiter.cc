#include "services/gateway/storage/redis_rate_limiter.h"

#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/crypto.h"
#include "libs/common/status_macros.h"

namespace crm::gateway::storage {
namespace {

// KEYS[1] bucket; ARGV rate (tokens/s), burst, want. Returns {granted, retry_after_ms}.
constexpr char kScript[] = R"(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(s[1])
local ts = tonumber(s[2])
if tokens == nil or ts == nil then tokens = burst; ts = now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
local want = tonumber(ARGV[3])
local granted = math.min(want, math.floor(tokens))
local retry = 0
if granted >= 1 then
  tokens = tokens - granted
else
  granted = 0
  retry = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {granted, retry}
)";

// Redis names scripts by the SHA-1 of their text.
const std::string& ScriptSha1() {
  static const std::string sha = [] {
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(kScript), sizeof(kScript) - 1, digest);
    return common::HexEncode(
        absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  }();
  return sha;
}

}  // namespace

absl::StatusOr<app::RateDecision> RedisRateLimiter::Take(const std::string& key_id, int rate,
                                                         int burst, int want) {
  std::string key = absl::StrCat("crm:rl:", key_id);
  std::string r = absl::StrCat(rate), b = absl::StrCat(burst), w = absl::StrCat(std::max(1, want));
  // EVALSHA sends 40 bytes instead of the script; EVAL (which also caches the
  // script) only when the server does not know it yet (NOSCRIPT).
  absl::StatusOr<redis::Reply> sent = pool_.Command({"EVALSHA", ScriptSha1(), "1", key, r, b, w});
  if (!sent.ok() && absl::StrContains(sent.status().message(), "NOSCRIPT")) {
    sent = pool_.Command({"EVAL", kScript, "1", key, r, b, w});
  }
  CRM_ASSIGN_OR_RETURN(redis::Reply reply, std::move(sent));
  CRM_ASSIGN_OR_RETURN(size_t n, reply.ArraySize());
  if (n != 2) return absl::InternalError("rate limiter: unexpected reply");
  CRM_ASSIGN_OR_RETURN(redis::Reply a, reply.Element(0));
  CRM_ASSIGN_OR_RETURN(redis::Reply wait, reply.Element(1));
  CRM_ASSIGN_OR_RETURN(int64_t granted, a.Integer());
  CRM_ASSIGN_OR_RETURN(int64_t retry_ms, wait.Integer());
  return app::RateDecision{granted >= 1, absl::Milliseconds(retry_ms), static_cast<int>(granted)};
}

}  // namespace crm::gateway::storage

#include "services/personalization/domain/assignment.h"

#include "absl/status/status.h"

namespace crm::personalization::domain {
namespace {

constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

std::uint64_t Fnv(std::uint64_t h, absl::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  h *= kFnvPrime;  // the 0 byte after each string (its xor is a no-op)
  return h;
}

// splitmix64's finalizer: FNV's low bits are weak, this mixes every bit.
std::uint64_t Mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

std::uint64_t AssignmentHash(absl::string_view tenant, absl::string_view experiment,
                             absl::string_view unit) {
  return Mix(Fnv(Fnv(Fnv(kFnvOffset, tenant), experiment), unit));
}

std::uint32_t Bucket(absl::string_view tenant, absl::string_view experiment,
                     absl::string_view unit) {
  return static_cast<std::uint32_t>(AssignmentHash(tenant, experiment, unit) % kBuckets);
}

absl::StatusOr<Assignment> Assign(absl::string_view tenant, const Experiment& experiment,
                                  absl::string_view unit) {
  if (experiment.arms.empty()) return absl::InvalidArgumentError("an experiment needs an arm");
  if (experiment.holdout_bp > kBuckets) {
    return absl::InvalidArgumentError("the holdout is at most 10000 basis points");
  }
  std::uint64_t total = 0;
  for (const Arm& a : experiment.arms) {
    if (a.weight == 0) return absl::InvalidArgumentError("an arm's weight must be positive");
    total += a.weight;
  }
  Assignment out;
  out.bucket = Bucket(tenant, experiment.key, unit);
  if (out.bucket < experiment.holdout_bp) {
    out.holdout = true;
    return out;
  }
  // The bucket's place among the buckets left for the arms, scaled to the
  // total weight: arm k owns [cum_k, cum_k + weight_k).
  const std::uint64_t left = kBuckets - experiment.holdout_bp;
  const std::uint64_t at = (out.bucket - experiment.holdout_bp) * total / left;
  std::uint64_t cum = 0;
  for (const Arm& a : experiment.arms) {
    cum += a.weight;
    if (at < cum) {
      out.arm = a.name;
      return out;
    }
  }
  out.arm = experiment.arms.back().name;
  return out;
}

}  // namespace crm::personalization::domain

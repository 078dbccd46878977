#pragma once
// Deterministic experiment assignment: a customer (or anonymous visitor)
// lands in the same holdout or arm of an experiment on every call, every
// replica and every restart, with no stored state, and independently across
// experiments and tenants.
//
// Bucket(tenant, experiment, unit) hashes the three strings (FNV-1a 64 over
// their bytes, each followed by a 0 byte, then the splitmix64 finalizer) to
// one of 10,000 buckets. The first holdout_bp buckets are the holdout; the
// rest are shared among the arms in proportion to their weights, in the
// arms' order. The hash is part of the API: changing it reshuffles every
// running experiment (a unit test pins known values).
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::personalization::domain {

inline constexpr std::uint32_t kBuckets = 10000;

std::uint64_t AssignmentHash(absl::string_view tenant, absl::string_view experiment,
                             absl::string_view unit);
std::uint32_t Bucket(absl::string_view tenant, absl::string_view experiment,
                     absl::string_view unit);

struct Arm {
  std::string name;
  std::uint32_t weight = 1;
};

struct Experiment {
  std::string key;                  // the experiment's stable name
  std::uint32_t holdout_bp = 0;     // basis points (0..10000) kept out
  std::vector<Arm> arms;            // at least one, weights > 0
};

struct Assignment {
  bool holdout = false;
  std::string arm;  // empty in the holdout
  std::uint32_t bucket = 0;
};

// INVALID_ARGUMENT for an experiment without arms, a zero weight, or a
// holdout above 10000 basis points.
absl::StatusOr<Assignment> Assign(absl::string_view tenant, const Experiment& experiment,
                                  absl::string_view unit);

}  // namespace crm::personalization::domain

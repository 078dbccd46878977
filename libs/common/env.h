#pragma once
// Typed parsing of CRM_* environment variables. Each getter returns the
// default when the variable is unset and an INVALID_ARGUMENT naming the
// variable when it is set to something unusable.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::common {

absl::StatusOr<std::string> EnvString(const char* name, std::string def);
absl::StatusOr<std::string> EnvRequired(const char* name);
absl::StatusOr<int64_t> EnvInt(const char* name, int64_t def, int64_t min, int64_t max);
absl::StatusOr<absl::Duration> EnvDuration(const char* name, absl::Duration def);
absl::StatusOr<bool> EnvBool(const char* name, bool def);

// Collects (name, value) pairs for the redacted dump of a config.
class ConfigDump {
 public:
  ConfigDump& Add(std::string name, std::string value);
  ConfigDump& Add(std::string name, int64_t value);
  ConfigDump& Add(std::string name, absl::Duration value);
  // Secrets: shown as "***" (or the DSN with its password masked).
  ConfigDump& AddSecret(std::string name, const std::string& value);
  std::string ToString() const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// "postgresql://u:pw@h/db" or "password=pw host=h" with the password masked.
std::string RedactDsn(const std::string& dsn);

}  // namespace crm::common

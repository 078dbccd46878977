#pragma once
// Sets (or unsets) an environment variable for the scope of a test and puts
// back what was there before.
#include <cstdlib>
#include <optional>
#include <string>

namespace crm::testing {

class ScopedEnv {
 public:
  // value nullptr: the variable is unset for the scope.
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// The variables every service requires (CRM_PG_DSN, CRM_PAGE_TOKEN_SECRET,
// CRM_CONTEXT_KEY), set to valid values for the scope; the DSN's password
// is "pw".
class RequiredServiceEnv {
 public:
  RequiredServiceEnv()
      : dsn_("CRM_PG_DSN", "postgresql://u:pw@h/db"),
        secret_("CRM_PAGE_TOKEN_SECRET", "0123456789abcdef"),
        key_("CRM_CONTEXT_KEY", "0123456789abcdef0123456789abcdef") {}

 private:
  ScopedEnv dsn_;
  ScopedEnv secret_;
  ScopedEnv key_;
};

}  // namespace crm::testing

#pragma once
// Picks the route for (HTTP method, path) among google.api.http templates.
// Most specific template wins: segment by segment, a literal beats "*" beats "**";
// on a tie a template with a matching ':verb' wins, then the earlier Add().
// Pure: std + Abseil only.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/gateway/domain/path_template.h"

namespace crm::gateway::domain {

inline constexpr const char* kReasonRouteNotFound = "ROUTE_NOT_FOUND";
inline constexpr const char* kReasonMethodNotAllowed = "METHOD_NOT_ALLOWED";

struct RouteMatch {
  int route_index = -1;
  // Field path -> percent-decoded value, in template order.
  std::vector<std::pair<std::string, std::string>> bindings;
};

class Router {
 public:
  // `http_method` is GET, POST, PATCH, PUT, DELETE (or any custom verb), upper-cased here.
  void Add(std::string http_method, PathTemplate t, int route_index);

  // NOT_FOUND (reason ROUTE_NOT_FOUND) when no template matches the path;
  // INVALID_ARGUMENT (reason METHOD_NOT_ALLOWED, allowed methods in the message) when
  // templates match the path but none for `method`; INVALID_ARGUMENT (reason
  // INVALID_FIELD, field = variable) when a single-segment variable would hold a '/'.
  [[nodiscard]] absl::StatusOr<RouteMatch> Match(absl::string_view method,
                                                 absl::string_view path) const;

  // Sorted, unique methods of every template matching `path` (the Allow header).
  std::vector<std::string> AllowedMethods(absl::string_view path) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string method;
    PathTemplate path_template;
    int route_index;
  };
  std::vector<Entry> entries_;
};

}  // namespace crm::gateway::domain

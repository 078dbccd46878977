#include "services/gateway/domain/router.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"

namespace crm::gateway::domain {

void Router::Add(std::string http_method, PathTemplate t, int route_index) {
  absl::AsciiStrToUpper(&http_method);
  entries_.push_back(Entry{std::move(http_method), std::move(t), route_index});
}

absl::StatusOr<RouteMatch> Router::Match(absl::string_view method, absl::string_view path) const {
  const Entry* best = nullptr;
  TemplateMatch best_match;
  bool path_matched = false;
  for (const Entry& e : entries_) {
    TemplateMatch m = MatchPathTemplate(e.path_template, path);
    if (!m.matched) continue;
    path_matched = true;
    if (e.method != method) continue;
    if (best == nullptr || m.rank > best_match.rank) {
      best = &e;
      best_match = std::move(m);
    }
  }
  if (best == nullptr) {
    if (!path_matched) {
      return common::WithReason(
          absl::NotFoundError(absl::StrCat("no route matches ", method, " ", path)),
          kReasonRouteNotFound);
    }
    return common::WithReason(absl::InvalidArgumentError(absl::StrCat(
                                  "method ", method, " is not allowed for ", path,
                                  "; allowed: ", absl::StrJoin(AllowedMethods(path), ", "))),
                              kReasonMethodNotAllowed);
  }
  if (!best_match.error.empty()) {
    return common::InvalidField(best_match.error_field, best_match.error);
  }
  RouteMatch out;
  out.route_index = best->route_index;
  out.bindings = std::move(best_match.bindings);
  return out;
}

std::vector<std::string> Router::AllowedMethods(absl::string_view path) const {
  std::vector<std::string> methods;
  for (const Entry& e : entries_) {
    if (MatchPathTemplate(e.path_template, path).matched) methods.push_back(e.method);
  }
  std::sort(methods.begin(), methods.end());
  methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
  return methods;
}

}  // namespace crm::gateway::domain

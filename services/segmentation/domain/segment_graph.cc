#include "services/segmentation/domain/segment_graph.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"

namespace crm::segmentation::domain {

absl::Status CheckSegmentReferences(const SegmentGraph& graph, absl::string_view segment_id,
                                    const std::set<std::string>& references) {
  const std::string self(segment_id);
  for (const std::string& r : references) {
    if (r != self && graph.find(r) == graph.end()) {
      return common::WithField(
          common::WithReason(absl::InvalidArgumentError(
                                 absl::StrCat("in_segment(\"", r, "\"): no segment has this id")),
                             "SEGMENT_INVALID"),
          "expression");
    }
  }
  auto edges_of = [&](const std::string& id) -> const std::set<std::string>* {
    if (id == self) return &references;
    auto it = graph.find(id);
    return it == graph.end() ? nullptr : &it->second;
  };
  // Depth-first from `self` over an explicit stack; parent links give the path.
  std::map<std::string, std::string> parent;  // also the visited set
  struct Frame {
    std::string id;
    std::set<std::string>::const_iterator next;
    std::set<std::string>::const_iterator end;
  };
  std::vector<Frame> stack;
  stack.push_back({self, references.begin(), references.end()});
  parent[self] = "";
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.end) {
      stack.pop_back();
      continue;
    }
    const std::string& to = *top.next++;
    if (to == self) {
      std::vector<std::string> path = {self};
      for (std::string at = top.id; at != self; at = parent[at]) path.push_back(at);
      std::reverse(path.begin() + 1, path.end());
      path.push_back(self);
      if (path.size() > 12) {
        // A long path: its ends name the edit, the middle would only flood logs.
        const size_t omitted = path.size() - 10;
        std::vector<std::string> shown(path.begin(), path.begin() + 5);
        shown.push_back(absl::StrCat("... (", omitted, " more)"));
        shown.insert(shown.end(), path.end() - 5, path.end());
        path = std::move(shown);
      }
      return common::WithReason(
          absl::FailedPreconditionError(
              absl::StrCat("segment references form a cycle: ", absl::StrJoin(path, " -> "))),
          "SEGMENT_CYCLE");
    }
    if (parent.count(to) != 0) continue;
    parent[to] = top.id;
    if (const std::set<std::string>* edges = edges_of(to); edges != nullptr) {
      stack.push_back({to, edges->begin(), edges->end()});
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SegmentEvaluationOrder(const SegmentGraph& graph) {
  // Kahn's algorithm over "referenced -> referencing" edges.
  std::map<std::string, int> pending;  // references not yet placed
  std::map<std::string, std::vector<std::string>> referenced_by;
  for (const auto& [id, refs] : graph) {
    int n = 0;
    for (const std::string& r : refs) {
      if (graph.count(r) == 0) continue;
      ++n;
      referenced_by[r].push_back(id);
    }
    pending[id] = n;
  }
  std::set<std::string> ready;
  for (const auto& [id, n] : pending) {
    if (n == 0) ready.insert(id);
  }
  std::vector<std::string> order;
  order.reserve(graph.size());
  while (!ready.empty()) {
    std::string id = *ready.begin();
    ready.erase(ready.begin());
    for (const std::string& user : referenced_by[id]) {
      if (--pending[user] == 0) ready.insert(user);
    }
    order.push_back(std::move(id));
  }
  if (order.size() != graph.size()) {
    std::vector<std::string> stuck;
    for (const auto& [id, n] : pending) {
      if (n > 0) stuck.push_back(id);
    }
    if (stuck.size() > 10) {
      const size_t more = stuck.size() - 10;
      stuck.resize(10);
      stuck.push_back(absl::StrCat("... (", more, " more)"));
    }
    return common::WithReason(
        absl::FailedPreconditionError(
            absl::StrCat("segment references form a cycle; these segments cannot be ordered: ",
                         absl::StrJoin(stuck, ", "))),
        "SEGMENT_CYCLE");
  }
  return order;
}

}  // namespace crm::segmentation::domain

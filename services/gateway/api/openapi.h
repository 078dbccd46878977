#pragma once
// OpenAPI 3.0.3 document generated from the REST routes (and so from the protos).
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/gateway/api/transcoder.h"

namespace crm::gateway::api {

// Deterministic JSON: paths in route order, schemas sorted by message full name.
std::string GenerateOpenApi(const std::vector<RestRoute>& routes, absl::string_view title,
                            absl::string_view version);

}  // namespace crm::gateway::api

#pragma once
// Small SQL text helpers shared by the repositories.
#include <string>
#include <vector>

namespace crm::pg {

// A PostgreSQL array literal of text values ({"a","b"}), each quoted and escaped.
std::string TextArrayLiteral(const std::vector<std::string>& values);
// SQL turning bigint parameter $n (microseconds since the Unix epoch) into a
// timestamptz, exactly.
std::string MicrosParam(int n);
// SQL turning a timestamptz column into bigint microseconds since the epoch.
std::string MicrosColumn(const std::string& column);
// A LIKE pattern matching strings that start with `prefix` literally
// (% _ and \ escaped).
std::string LikePrefix(const std::string& prefix);

}  // namespace crm::pg

#include "libs/pg/sql.h"

#include "absl/strings/str_cat.h"

namespace crm::pg {

std::string TextArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string MicrosParam(int n) {
  return absl::StrCat("('epoch'::timestamptz + $", n, "::int8 * interval '1 microsecond')");
}

std::string MicrosColumn(const std::string& column) {
  return absl::StrCat("(extract(epoch from ", column, ") * 1000000)::int8");
}

std::string LikePrefix(const std::string& prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

}  // namespace crm::pg

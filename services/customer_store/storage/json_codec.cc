#include "services/customer_store/storage/json_codec.h"

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crm::customer_store::storage {
namespace {
using nlohmann::json;

absl::Status Corrupt(const char* what) {
  return absl::DataLossError(absl::StrCat("stored ", what, " is corrupt"));
}

template <typename Fn>
auto Parse(const std::string& s, const char* what, Fn fn) -> decltype(fn(json())) {
  try {
    return fn(json::parse(s));
  } catch (const json::exception&) {
    return Corrupt(what);
  }
}

json DateJ(const domain::Date& d) { return json{{"y", d.year}, {"m", d.month}, {"d", d.day}}; }
domain::Date DateOf(const json& j) {
  return domain::Date{j.at("y").get<int>(), j.at("m").get<int>(), j.at("d").get<int>()};
}
}  // namespace

std::string AddressToJson(const domain::PostalAddress& a) {
  return json{{"lines", a.lines},
              {"locality", a.locality},
              {"region", a.region},
              {"postal_code", a.postal_code},
              {"country_code", a.country_code}}
      .dump();
}

absl::StatusOr<domain::PostalAddress> AddressFromJson(const std::string& s) {
  return Parse(s, "address", [](const json& j) -> absl::StatusOr<domain::PostalAddress> {
    domain::PostalAddress a;
    a.lines = j.at("lines").get<std::vector<std::string>>();
    a.locality = j.at("locality").get<std::string>();
    a.region = j.at("region").get<std::string>();
    a.postal_code = j.at("postal_code").get<std::string>();
    a.country_code = j.at("country_code").get<std::string>();
    return a;
  });
}

std::string DateToJson(const domain::Date& d) { return DateJ(d).dump(); }

absl::StatusOr<domain::Date> DateFromJson(const std::string& s) {
  return Parse(s, "date", [](const json& j) -> absl::StatusOr<domain::Date> { return DateOf(j); });
}

std::string AnniversariesToJson(const std::vector<domain::Anniversary>& v) {
  json arr = json::array();
  for (const auto& a : v) arr.push_back(json{{"label", a.label}, {"date", DateJ(a.date)}});
  return arr.dump();
}

absl::StatusOr<std::vector<domain::Anniversary>> AnniversariesFromJson(const std::string& s) {
  return Parse(s, "anniversaries",
               [](const json& j) -> absl::StatusOr<std::vector<domain::Anniversary>> {
                 std::vector<domain::Anniversary> out;
                 for (const auto& e : j) {
                   out.push_back({e.at("label").get<std::string>(), DateOf(e.at("date"))});
                 }
                 return out;
               });
}

std::string AttributesToJson(const std::map<std::string, domain::AttributeValue>& m) {
  json obj = json::object();
  for (const auto& [k, v] : m) {
    json t;
    if (const auto* s = std::get_if<std::string>(&v)) {
      t["s"] = *s;
    } else if (const auto* i = std::get_if<int64_t>(&v)) {
      t["i"] = absl::StrCat(*i);
    } else if (const auto* d = std::get_if<double>(&v)) {
      t["d"] = *d;
    } else if (const auto* b = std::get_if<bool>(&v)) {
      t["b"] = *b;
    } else if (const auto* tm = std::get_if<absl::Time>(&v)) {
      t["t"] = absl::StrCat(absl::ToUnixMicros(*tm));
    }
    obj[k] = t;
  }
  return obj.dump();
}

absl::StatusOr<std::map<std::string, domain::AttributeValue>> AttributesFromJson(
    const std::string& s) {
  return Parse(
      s, "attributes",
      [](const json& j) -> absl::StatusOr<std::map<std::string, domain::AttributeValue>> {
        std::map<std::string, domain::AttributeValue> out;
        for (auto it = j.begin(); it != j.end(); ++it) {
          const json& t = it.value();
          if (t.contains("s")) {
            out[it.key()] = t.at("s").get<std::string>();
          } else if (t.contains("i")) {
            int64_t v;
            if (!absl::SimpleAtoi(t.at("i").get<std::string>(), &v)) return Corrupt("attribute");
            out[it.key()] = v;
          } else if (t.contains("d")) {
            out[it.key()] = t.at("d").get<double>();
          } else if (t.contains("b")) {
            out[it.key()] = t.at("b").get<bool>();
          } else if (t.contains("t")) {
            int64_t v;
            if (!absl::SimpleAtoi(t.at("t").get<std::string>(), &v)) return Corrupt("attribute");
            out[it.key()] = absl::FromUnixMicros(v);
          } else {
            return Corrupt("attribute");
          }
        }
        return out;
      });
}

std::string CustomerEventJson(const domain::Customer& c) {
  const domain::PostalAddress a = c.postal_address.value_or(domain::PostalAddress{});
  json profile{{"country", a.country_code},
               {"region", a.region},
               {"city", a.locality},
               {"postal_code", a.postal_code},
               {"locale", c.locale},
               {"time_zone", c.time_zone},
               {"owner", c.owner},
               {"lifecycle_stage", static_cast<int>(c.lifecycle_stage)},
               {"attributes", json::parse(AttributesToJson(c.attributes))}};
  return json{{"customer_id", c.id}, {"version", c.version}, {"profile", std::move(profile)}}
      .dump();
}

}  // namespace crm::customer_store::storage

namespace crm::customer_store::storage {

std::string CustomerToJson(const domain::Customer& c) {
  nlohmann::json ext = nlohmann::json::array();
  for (const auto& x : c.external_ids) ext.push_back({{"source", x.source}, {"value", x.value}});
  nlohmann::json j = {
      {"id", c.id},
      {"given_name", c.given_name},
      {"family_name", c.family_name},
      {"display_name", c.display_name},
      {"emails", c.emails},
      {"phones", c.phones},
      {"external_ids", ext},
      {"postal_address", c.postal_address ? AddressToJson(*c.postal_address) : std::string()},
      {"birthday", c.birthday ? DateToJson(*c.birthday) : std::string()},
      {"anniversaries", AnniversariesToJson(c.anniversaries)},
      {"locale", c.locale},
      {"time_zone", c.time_zone},
      {"lifecycle_stage", static_cast<int>(c.lifecycle_stage)},
      {"owner", c.owner},
      {"attributes", AttributesToJson(c.attributes)},
      {"version", absl::StrCat(c.version)},
      {"create_us", absl::StrCat(absl::ToUnixMicros(c.create_time))},
      {"update_us", absl::StrCat(absl::ToUnixMicros(c.update_time))},
  };
  return j.dump();
}

absl::StatusOr<domain::Customer> CustomerFromJson(const std::string& s) {
  domain::Customer c;
  try {
    nlohmann::json j = nlohmann::json::parse(s);
    c.id = j.at("id").get<std::string>();
    c.given_name = j.at("given_name").get<std::string>();
    c.family_name = j.at("family_name").get<std::string>();
    c.display_name = j.at("display_name").get<std::string>();
    c.emails = j.at("emails").get<std::vector<std::string>>();
    c.phones = j.at("phones").get<std::vector<std::string>>();
    for (const auto& x : j.at("external_ids")) {
      c.external_ids.push_back({x.at("source").get<std::string>(), x.at("value").get<std::string>()});
    }
    if (std::string a = j.at("postal_address").get<std::string>(); !a.empty()) {
      auto addr = AddressFromJson(a);
      if (!addr.ok()) return addr.status();
      c.postal_address = *addr;
    }
    if (std::string b = j.at("birthday").get<std::string>(); !b.empty()) {
      auto d = DateFromJson(b);
      if (!d.ok()) return d.status();
      c.birthday = *d;
    }
    auto ann = AnniversariesFromJson(j.at("anniversaries").get<std::string>());
    if (!ann.ok()) return ann.status();
    c.anniversaries = *ann;
    c.locale = j.at("locale").get<std::string>();
    c.time_zone = j.at("time_zone").get<std::string>();
    c.lifecycle_stage = static_cast<domain::LifecycleStage>(j.at("lifecycle_stage").get<int>());
    c.owner = j.at("owner").get<std::string>();
    auto attrs = AttributesFromJson(j.at("attributes").get<std::string>());
    if (!attrs.ok()) return attrs.status();
    c.attributes = *attrs;
    int64_t v = 0, cu = 0, uu = 0;
    if (!absl::SimpleAtoi(j.at("version").get<std::string>(), &v) ||
        !absl::SimpleAtoi(j.at("create_us").get<std::string>(), &cu) ||
        !absl::SimpleAtoi(j.at("update_us").get<std::string>(), &uu)) {
      return absl::DataLossError("stored customer snapshot is corrupt");
    }
    c.version = v;
    c.create_time = absl::FromUnixMicros(cu);
    c.update_time = absl::FromUnixMicros(uu);
  } catch (const nlohmann::json::exception&) {
    return absl::DataLossError("stored customer snapshot is corrupt");
  }
  return c;
}

std::string StringsToJson(const std::vector<std::string>& v) { return nlohmann::json(v).dump(); }

absl::StatusOr<std::vector<std::string>> StringsFromJson(const std::string& s) {
  try {
    return nlohmann::json::parse(s).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    return absl::DataLossError("stored list is corrupt");
  }
}

}  // namespace crm::customer_store::storage

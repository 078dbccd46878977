#include "services/customer_store/domain/merge_rules.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/customer_store/domain/rules.h"

namespace crm::customer_store::domain {
namespace {

int Restrictiveness(ConsentStatus s) {
  switch (s) {
    case ConsentStatus::kOptedOut:
      return 3;
    case ConsentStatus::kPending:
      return 2;
    case ConsentStatus::kOptedIn:
      return 1;
    default:
      return 0;
  }
}

bool SameAddress(const std::optional<PostalAddress>& a, const std::optional<PostalAddress>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->lines == b->lines && a->locality == b->locality && a->region == b->region &&
         a->postal_code == b->postal_code && a->country_code == b->country_code;
}

bool SameAnniversaries(const std::vector<Anniversary>& a, const std::vector<Anniversary>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].label != b[i].label || !(a[i].date == b[i].date)) return false;
  }
  return true;
}

}  // namespace

MergePlan PlanMerge(const Customer& survivor, const Customer& source) {
  MergePlan plan{survivor, {}};
  Customer& m = plan.merged;
  auto fill = [&](std::string& dst, const std::string& src, const char* path) {
    if (dst.empty() && !src.empty()) {
      dst = src;
      plan.filled_paths.emplace_back(path);
    }
  };
  fill(m.given_name, source.given_name, "given_name");
  fill(m.family_name, source.family_name, "family_name");
  fill(m.display_name, source.display_name, "display_name");
  fill(m.locale, source.locale, "locale");
  fill(m.time_zone, source.time_zone, "time_zone");
  fill(m.owner, source.owner, "owner");
  if (!m.postal_address && source.postal_address) {
    m.postal_address = source.postal_address;
    plan.filled_paths.emplace_back("postal_address");
  }
  if (!m.birthday && source.birthday) {
    m.birthday = source.birthday;
    plan.filled_paths.emplace_back("birthday");
  }
  if (m.lifecycle_stage == LifecycleStage::kUnspecified &&
      source.lifecycle_stage != LifecycleStage::kUnspecified) {
    m.lifecycle_stage = source.lifecycle_stage;
    plan.filled_paths.emplace_back("lifecycle_stage");
  }
  bool added_anniversary = false;
  for (const auto& a : source.anniversaries) {
    bool clash = std::any_of(m.anniversaries.begin(), m.anniversaries.end(),
                             [&](const Anniversary& x) { return x.label == a.label; });
    if (!clash) {
      m.anniversaries.push_back(a);
      added_anniversary = true;
    }
  }
  if (added_anniversary) plan.filled_paths.emplace_back("anniversaries");
  for (const auto& [k, v] : source.attributes) {
    if (m.attributes.emplace(k, v).second) plan.filled_paths.push_back(absl::StrCat("attributes.", k));
  }
  auto unite = [](auto& into, const auto& from) {
    for (const auto& x : from) {
      if (std::find(into.begin(), into.end(), x) == into.end()) into.push_back(x);
    }
  };
  unite(m.emails, source.emails);
  unite(m.phones, source.phones);
  unite(m.external_ids, source.external_ids);
  return plan;
}

ConsentStatus MostRestrictive(ConsentStatus a, ConsentStatus b) {
  return Restrictiveness(a) >= Restrictiveness(b) ? a : b;
}

std::vector<Consent> ResolveConsents(const std::vector<Consent>& survivor_current,
                                     const std::vector<Consent>& source_current, absl::Time at,
                                     const std::string& source_label) {
  std::map<std::pair<int, int>, ConsentStatus> survivor;
  for (const auto& c : survivor_current) {
    survivor[{static_cast<int>(c.channel), static_cast<int>(c.purpose)}] = c.status;
  }
  std::vector<Consent> out;
  for (const auto& c : source_current) {
    auto it = survivor.find({static_cast<int>(c.channel), static_cast<int>(c.purpose)});
    Consent r;
    r.channel = c.channel;
    r.purpose = c.purpose;
    r.status = it == survivor.end() ? c.status : MostRestrictive(it->second, c.status);
    r.source = source_label;
    r.record_time = at;
    r.policy_version = c.policy_version;
    out.push_back(r);
  }
  return out;
}

bool SameAtPath(const Customer& a, const Customer& b, const std::string& path) {
  if (path == "given_name") return a.given_name == b.given_name;
  if (path == "family_name") return a.family_name == b.family_name;
  if (path == "display_name") return a.display_name == b.display_name;
  if (path == "locale") return a.locale == b.locale;
  if (path == "time_zone") return a.time_zone == b.time_zone;
  if (path == "owner") return a.owner == b.owner;
  if (path == "lifecycle_stage") return a.lifecycle_stage == b.lifecycle_stage;
  if (path == "postal_address") return SameAddress(a.postal_address, b.postal_address);
  if (path == "birthday") {
    return a.birthday.has_value() == b.birthday.has_value() &&
           (!a.birthday || *a.birthday == *b.birthday);
  }
  if (path == "anniversaries") return SameAnniversaries(a.anniversaries, b.anniversaries);
  if (path == "emails") return a.emails == b.emails;
  if (path == "phones") return a.phones == b.phones;
  if (path == "external_ids") return a.external_ids == b.external_ids;
  if (path == "attributes") return a.attributes == b.attributes;
  if (absl::StartsWith(path, "attributes.")) {
    std::string key = path.substr(11);
    auto ia = a.attributes.find(key), ib = b.attributes.find(key);
    if ((ia == a.attributes.end()) != (ib == b.attributes.end())) return false;
    return ia == a.attributes.end() || ia->second == ib->second;
  }
  return false;
}

Customer UndoMergeProfile(const Customer& current, const Customer& before_merge,
                          const Customer& after_merge,
                          const std::vector<std::string>& filled_paths) {
  Customer out = current;
  for (const std::string& p : filled_paths) {
    if (SameAtPath(current, after_merge, p)) {
      // ApplyUpdateMask only fails on unknown paths, and filled paths are known.
      (void)ApplyUpdateMask(before_merge, {p}, out);
    }
  }
  return out;
}

}  // namespace crm::customer_store::domain

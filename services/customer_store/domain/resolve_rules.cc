#include "services/customer_store/domain/resolve_rules.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/customer_store/domain/rules.h"

namespace crm::customer_store::domain {
namespace {

RefResult Refused(int index, RefOutcome outcome, const absl::Status& s) {
  RefResult r;
  r.index = index;
  r.outcome = outcome;
  r.reason = common::ReasonOf(s);
  r.field = common::FieldOf(s);
  r.message = std::string(s.message());
  return r;
}

// Union-find over reference indexes.
int Root(std::vector<int>& parent, int i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

}  // namespace

absl::StatusOr<ParsedRef> ParseRef(const RefQuery& q) {
  ParsedRef p;
  const bool by_identity = !q.email.empty() || !q.phone.empty() || !q.external_id.empty() ||
                           !q.external_id_source.empty();
  if (!q.customer_id.empty()) {
    if (by_identity) {
      return common::InvalidField("customer_id",
                                  "give either customer_id or identities, not both");
    }
    if (!common::IsUuid(q.customer_id)) {
      return common::InvalidField("customer_id", "customer_id must be a UUID");
    }
    p.customer_id = absl::AsciiStrToLower(q.customer_id);
    return p;
  }
  if (!by_identity) {
    return common::InvalidField("customer_id",
                                "a reference needs a customer_id, an email, a phone or an "
                                "external id");
  }
  if (!q.email.empty()) {
    auto e = NormalizeEmail(q.email);
    if (!e.ok()) return common::InvalidField("email", e.status().message());
    p.keys.emplace_back(static_cast<int>(IdentityKind::kEmail), "", *e);
  }
  if (!q.phone.empty()) {
    auto ph = NormalizePhone(q.phone);
    if (!ph.ok()) return common::InvalidField("phone", ph.status().message());
    p.keys.emplace_back(static_cast<int>(IdentityKind::kPhone), "", *ph);
  }
  if (!q.external_id.empty() || !q.external_id_source.empty()) {
    ExternalId x{q.external_id_source, q.external_id};
    if (absl::Status s = ValidateExternalId(x); !s.ok()) {
      return common::InvalidField(q.external_id_source.empty() ? "external_id_source"
                                                               : "external_id",
                                  s.message());
    }
    p.keys.emplace_back(static_cast<int>(IdentityKind::kExternalId), x.source, x.value);
  }
  p.given_name = std::string(absl::StripAsciiWhitespace(q.given_name));
  p.family_name = std::string(absl::StripAsciiWhitespace(q.family_name));
  if (p.given_name.size() > static_cast<size_t>(kMaxNameLength)) {
    return common::InvalidField("given_name", "given_name is at most 200 characters");
  }
  if (p.family_name.size() > static_cast<size_t>(kMaxNameLength)) {
    return common::InvalidField("family_name", "family_name is at most 200 characters");
  }
  return p;
}

ResolvePlan PlanResolution(const std::vector<absl::StatusOr<ParsedRef>>& refs,
                           const RefLookup& lookup, bool create_missing,
                           const std::function<std::string()>& new_id) {
  const int n = static_cast<int>(refs.size());
  ResolvePlan plan;
  plan.results.resize(refs.size());
  std::vector<int> missing;  // identity references nobody owns
  for (int i = 0; i < n; ++i) {
    RefResult& r = plan.results[i];
    r.index = i;
    if (!refs[i].ok()) {
      r = Refused(i, RefOutcome::kInvalid, refs[i].status());
      if (r.reason.empty()) r.reason = "INVALID_FIELD";
      continue;
    }
    const ParsedRef& ref = *refs[i];
    if (!ref.customer_id.empty()) {
      auto it = lookup.ids.find(ref.customer_id);
      if (it == lookup.ids.end()) {
        r = Refused(i, RefOutcome::kNotFound,
                    common::WithField(common::NotFound("CUSTOMER_NOT_FOUND",
                                                       "customer_id names no customer"),
                                      "customer_id"));
      } else {
        r.customer_id = it->second;
        r.outcome = it->second == ref.customer_id ? RefOutcome::kFound : RefOutcome::kMerged;
      }
      continue;
    }
    std::set<std::string> owners;
    for (const IdentityKey& k : ref.keys) {
      auto it = lookup.owners.find(k);
      if (it != lookup.owners.end()) owners.insert(it->second);
    }
    if (owners.size() > 1) {
      r = Refused(i, RefOutcome::kConflict,
                  common::WithReason(absl::FailedPreconditionError(
                                         "the identities belong to different customers; merge "
                                         "them or give the customer's id"),
                                     "CUSTOMER_REF_CONFLICT"));
    } else if (owners.size() == 1) {
      r.outcome = RefOutcome::kFound;
      r.customer_id = *owners.begin();
    } else {
      missing.push_back(i);
    }
  }
  if (!create_missing) {
    for (int i : missing) {
      plan.results[i] = Refused(
          i, RefOutcome::kNotFound,
          common::NotFound("CUSTOMER_NOT_RESOLVED",
                           "no customer has these identities, and creating customers was not "
                           "asked for"));
    }
    return plan;
  }
  // Missing references sharing an identity are one person: one customer.
  std::vector<int> parent(static_cast<size_t>(n));
  std::iota(parent.begin(), parent.end(), 0);
  std::map<IdentityKey, int> first_with;
  for (int i : missing) {
    for (const IdentityKey& k : refs[i]->keys) {
      auto [it, fresh] = first_with.emplace(k, i);
      if (!fresh) parent[Root(parent, i)] = Root(parent, it->second);
    }
  }
  std::map<int, size_t> group_of_root;  // root -> index in plan.creates
  for (int i : missing) {
    int root = Root(parent, i);
    auto [it, fresh] = group_of_root.emplace(root, plan.creates.size());
    if (fresh) {
      NewCustomer c;
      c.customer.id = new_id();
      plan.creates.push_back(std::move(c));
    }
    NewCustomer& c = plan.creates[it->second];
    const ParsedRef& ref = *refs[i];
    // Names of the first reference that has them.
    if (c.customer.given_name.empty() && c.customer.family_name.empty()) {
      c.customer.given_name = ref.given_name;
      c.customer.family_name = ref.family_name;
    }
    for (const auto& [kind, source, value] : ref.keys) {
      if (kind == static_cast<int>(IdentityKind::kEmail)) {
        if (std::find(c.customer.emails.begin(), c.customer.emails.end(), value) ==
            c.customer.emails.end()) {
          c.customer.emails.push_back(value);
        }
      } else if (kind == static_cast<int>(IdentityKind::kPhone)) {
        if (std::find(c.customer.phones.begin(), c.customer.phones.end(), value) ==
            c.customer.phones.end()) {
          c.customer.phones.push_back(value);
        }
      } else {
        ExternalId x{source, value};
        if (std::find(c.customer.external_ids.begin(), c.customer.external_ids.end(), x) ==
            c.customer.external_ids.end()) {
          c.customer.external_ids.push_back(x);
        }
      }
    }
    c.refs.push_back(i);
    RefResult& r = plan.results[i];
    r.outcome = RefOutcome::kCreated;
    r.customer_id = c.customer.id;
  }
  return plan;
}

}  // namespace crm::customer_store::domain

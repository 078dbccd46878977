#include "tests/support/fakes/customer_store/fake_customer_repository.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/customer_store/domain/rules.h"

namespace crm::testing {

namespace app = customer_store::app;
namespace domain = customer_store::domain;
using domain::Customer;

namespace {

absl::Status CustomerNotFound() {
  return common::NotFound("CUSTOMER_NOT_FOUND", "customer not found");
}

absl::Status EtagMismatch() {
  return common::WithReason(absl::AbortedError("etag does not match"), "ETAG_MISMATCH");
}

// What the PostgreSQL adapter compares: content, not version or times.
bool SameContent(const Customer& a, const Customer& b) {
  auto addr = [](const std::optional<domain::PostalAddress>& p) {
    if (!p) return std::make_tuple(false, std::vector<std::string>{}, std::string(), std::string(),
                                   std::string(), std::string());
    return std::make_tuple(true, p->lines, p->locality, p->region, p->postal_code,
                           p->country_code);
  };
  auto anniversaries = [](const std::vector<domain::Anniversary>& v) {
    std::vector<std::tuple<std::string, int, int, int>> out;
    for (const auto& x : v) out.emplace_back(x.label, x.date.year, x.date.month, x.date.day);
    return out;
  };
  return a.given_name == b.given_name && a.family_name == b.family_name &&
         a.display_name == b.display_name && a.emails == b.emails && a.phones == b.phones &&
         a.external_ids == b.external_ids && addr(a.postal_address) == addr(b.postal_address) &&
         a.birthday.has_value() == b.birthday.has_value() &&
         (!a.birthday || *a.birthday == *b.birthday) &&
         anniversaries(a.anniversaries) == anniversaries(b.anniversaries) &&
         a.locale == b.locale && a.time_zone == b.time_zone &&
         a.lifecycle_stage == b.lifecycle_stage && a.owner == b.owner &&
         a.attributes == b.attributes;
}

std::string Cursor(const domain::Interaction& i) {
  return absl::StrCat(absl::ToUnixMicros(i.occur_time), "|", i.id);
}

std::string Lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

absl::Status FakeCustomerRepository::Enter(const char* method) {
  ++calls_;
  last_method_ = method;
  if (fail_) return *fail_;
  return absl::OkStatus();
}

void FakeCustomerRepository::FailWith(std::optional<absl::Status> s) {
  absl::MutexLock lock(&mu_);
  fail_ = std::move(s);
}

int FakeCustomerRepository::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}
int FakeCustomerRepository::writes() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}
int FakeCustomerRepository::load_view_calls() const {
  absl::MutexLock lock(&mu_);
  return load_view_calls_;
}
int FakeCustomerRepository::update_calls() const {
  absl::MutexLock lock(&mu_);
  return update_calls_;
}
std::string FakeCustomerRepository::last_method() const {
  absl::MutexLock lock(&mu_);
  return last_method_;
}

absl::Status FakeCustomerRepository::WriteIdentities(TenantData& t, const Customer& c,
                                                     absl::Time now) {
  std::set<IdentityKey> wanted;
  for (const auto& i : domain::IdentitiesOf(c)) {
    IdentityKey key{static_cast<int>(i.kind), i.source, i.value};
    auto it = t.identities.find(key);
    if (it != t.identities.end() && it->second.first != c.id) {
      return common::WithField(
          common::WithReason(
              absl::AlreadyExistsError("this identity already belongs to another customer"),
              "IDENTITY_TAKEN"),
          i.kind == domain::IdentityKind::kEmail   ? "emails"
          : i.kind == domain::IdentityKind::kPhone ? "phones"
                                                   : "external_ids");
    }
    wanted.insert(key);
  }
  for (auto it = t.identities.begin(); it != t.identities.end();) {
    if (it->second.first == c.id && !wanted.count(it->first)) {
      it = t.identities.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& key : wanted) t.identities.emplace(key, std::make_pair(c.id, now));
  return absl::OkStatus();
}

std::vector<domain::Identity> FakeCustomerRepository::IdentitiesOfLocked(
    const TenantData& t, const std::string& id) const {
  std::vector<domain::Identity> out;
  auto c = t.customers.find(id);
  if (c == t.customers.end()) return out;
  for (domain::Identity i : domain::IdentitiesOf(c->second)) {
    auto it = t.identities.find({static_cast<int>(i.kind), i.source, i.value});
    if (it != t.identities.end()) i.create_time = it->second.second;
    out.push_back(std::move(i));
  }
  return out;
}

std::vector<domain::Interaction> FakeCustomerRepository::SortedInteractions(
    const TenantData& t, const std::string& id) const {
  std::vector<domain::Interaction> out;
  auto it = t.interactions.find(id);
  if (it != t.interactions.end()) out = it->second;
  // Newest first, ties by id descending (ORDER BY occurred_at DESC, id DESC).
  std::sort(out.begin(), out.end(), [](const domain::Interaction& a, const domain::Interaction& b) {
    if (a.occur_time != b.occur_time) return a.occur_time > b.occur_time;
    return a.id > b.id;
  });
  return out;
}

absl::StatusOr<Customer> FakeCustomerRepository::Insert(const app::Actor& actor,
                                                        const Customer& c) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("Insert"); !s.ok()) return s;
  TenantData& t = tenants_[actor.tenant_id];
  auto previous = Previous(t, actor);
  if (!previous.ok()) return previous.status();
  if (*previous != nullptr) return (*previous)->answer.customer;
  if (t.customers.count(c.id)) return absl::AlreadyExistsError("customer id already exists");
  if (absl::Status s = WriteIdentities(t, c, c.create_time); !s.ok()) return s;
  t.customers[c.id] = c;
  if (!actor.idempotency_key.empty()) {
    t.requests[actor.idempotency_key] = {actor.method, actor.fingerprint, {c, true}};
  }
  ++writes_;
  return c;
}

absl::StatusOr<const FakeCustomerRepository::TenantData::Request*>
FakeCustomerRepository::Previous(const TenantData& t, const app::Actor& actor) const {
  if (actor.idempotency_key.empty()) return nullptr;
  auto r = t.requests.find(actor.idempotency_key);
  if (r == t.requests.end()) return nullptr;
  if (r->second.method != actor.method) {
    return common::InvalidField("request_id", "request_id was already used for a different call");
  }
  if (r->second.fingerprint != actor.fingerprint) {
    return common::WithField(
        common::WithReason(absl::InvalidArgumentError(
                               "request_id was already used with a different request body"),
                           "IDEMPOTENCY_KEY_REUSED"),
        "request_id");
  }
  return &r->second;
}

absl::StatusOr<std::optional<app::CustomerAnswer>> FakeCustomerRepository::FindAnswer(
    const app::Actor& actor) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("FindAnswer"); !s.ok()) return s;
  auto previous = Previous(tenants_[actor.tenant_id], actor);
  if (!previous.ok()) return previous.status();
  if (*previous == nullptr) return std::optional<app::CustomerAnswer>();
  return std::optional<app::CustomerAnswer>((*previous)->answer);
}

absl::StatusOr<Customer> FakeCustomerRepository::Get(const std::string& tenant,
                                                     const std::string& id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("Get"); !s.ok()) return s;
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return CustomerNotFound();
  auto c = t->second.customers.find(id);
  if (c == t->second.customers.end()) return CustomerNotFound();
  return c->second;
}

absl::StatusOr<Customer> FakeCustomerRepository::Update(const app::Actor& actor,
                                                        const std::string& id,
                                                        const std::string& if_match,
                                                        const Mutation& mutate) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("Update"); !s.ok()) return s;
  ++update_calls_;
  TenantData& t = tenants_[actor.tenant_id];
  auto previous = Previous(t, actor);
  if (!previous.ok()) return previous.status();
  if (*previous != nullptr) return (*previous)->answer.customer;
  auto it = t.customers.find(id);
  if (it == t.customers.end()) return CustomerNotFound();
  const Customer& before = it->second;
  if (!if_match.empty() && if_match != domain::EtagOf(before)) return EtagMismatch();
  Customer after = before;
  if (absl::Status s = mutate(after); !s.ok()) return s;
  if (SameContent(before, after)) {
    after = before;
  } else {
    after.id = before.id;
    after.create_time = before.create_time;
    after.version = before.version + 1;
    if (absl::Status s = WriteIdentities(t, after, after.update_time); !s.ok()) return s;
    it->second = after;
    ++writes_;
  }
  if (!actor.idempotency_key.empty()) {
    t.requests[actor.idempotency_key] = {actor.method, actor.fingerprint, {after, false}};
  }
  return after;
}

absl::StatusOr<domain::ErasureResult> FakeCustomerRepository::Erase(const app::Actor& actor,
                                                                    const std::string& id,
                                                                    const std::string& if_match) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("Erase"); !s.ok()) return s;
  TenantData& t = tenants_[actor.tenant_id];
  auto it = t.customers.find(id);
  if (it == t.customers.end()) return CustomerNotFound();
  if (!if_match.empty() && if_match != domain::EtagOf(it->second)) return EtagMismatch();
  domain::ErasureResult out;
  out.interactions_erased = static_cast<int64_t>(t.interactions[id].size());
  for (auto i = t.identities.begin(); i != t.identities.end();) {
    if (i->second.first == id) {
      ++out.identities_erased;
      i = t.identities.erase(i);
    } else {
      ++i;
    }
  }
  t.interactions.erase(id);
  t.customers.erase(it);  // consents stay as proof of consent
  ++writes_;
  return out;
}

absl::StatusOr<app::Page<Customer>> FakeCustomerRepository::List(const std::string& tenant,
                                                                 const app::ListQuery& q) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("List"); !s.ok()) return s;
  app::Page<Customer> page;
  const TenantData& t = tenants_[tenant];
  for (auto it = t.customers.upper_bound(q.after_id); it != t.customers.end(); ++it) {
    const Customer& c = it->second;
    if (q.stage != domain::LifecycleStage::kUnspecified && c.lifecycle_stage != q.stage) continue;
    if (!q.owner.empty() && c.owner != q.owner) continue;
    if (static_cast<int>(page.items.size()) == q.limit) {
      page.next_cursor = page.items.back().id;
      break;
    }
    page.items.push_back(c);
  }
  return page;
}

absl::StatusOr<app::Page<Customer>> FakeCustomerRepository::Search(const std::string& tenant,
                                                                   const app::SearchQuery& q) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("Search"); !s.ok()) return s;
  app::Page<Customer> page;
  const TenantData& t = tenants_[tenant];
  for (auto it = t.customers.upper_bound(q.after_id); it != t.customers.end(); ++it) {
    const Customer& c = it->second;
    bool match;
    if (!q.external_id.empty()) {
      domain::ExternalId want{q.external_id_source, q.external_id};
      match = std::find(c.external_ids.begin(), c.external_ids.end(), want) !=
              c.external_ids.end();
    } else if (!q.email.empty()) {
      match = std::find(c.emails.begin(), c.emails.end(), q.email) != c.emails.end();
    } else if (!q.phone.empty()) {
      match = std::find(c.phones.begin(), c.phones.end(), q.phone) != c.phones.end();
    } else {
      match = absl::StartsWith(Lower(c.given_name), q.name_prefix) ||
              absl::StartsWith(Lower(c.family_name), q.name_prefix) ||
              absl::StartsWith(Lower(c.display_name), q.name_prefix);
    }
    if (!match) continue;
    if (static_cast<int>(page.items.size()) == q.limit) {
      page.next_cursor = page.items.back().id;
      break;
    }
    page.items.push_back(c);
  }
  return page;
}

absl::StatusOr<std::vector<std::string>> FakeCustomerRepository::FindOwners(
    const std::string& tenant, const std::vector<domain::Identity>& identities) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("FindOwners"); !s.ok()) return s;
  std::vector<std::string> owners;
  const TenantData& t = tenants_[tenant];
  for (const auto& i : identities) {
    auto it = t.identities.find({static_cast<int>(i.kind), i.source, i.value});
    if (it != t.identities.end() &&
        std::find(owners.begin(), owners.end(), it->second.first) == owners.end()) {
      owners.push_back(it->second.first);
    }
  }
  return owners;
}

absl::StatusOr<domain::Consent> FakeCustomerRepository::AppendConsent(const app::Actor& actor,
                                                                      const std::string& id,
                                                                      const domain::Consent& c) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("AppendConsent"); !s.ok()) return s;
  TenantData& t = tenants_[actor.tenant_id];
  if (!t.customers.count(id)) return CustomerNotFound();
  t.consents[id].push_back(c);
  ++writes_;
  return c;
}

absl::StatusOr<std::vector<domain::Consent>> FakeCustomerRepository::ConsentHistory(
    const std::string& tenant, const std::string& id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("ConsentHistory"); !s.ok()) return s;
  TenantData& t = tenants_[tenant];
  if (!t.customers.count(id)) return CustomerNotFound();
  std::vector<domain::Consent> out = t.consents[id];
  // ORDER BY recorded_at DESC (stable for equal times: later appends first).
  std::reverse(out.begin(), out.end());
  std::stable_sort(out.begin(), out.end(), [](const domain::Consent& a, const domain::Consent& b) {
    return a.record_time > b.record_time;
  });
  return out;
}

absl::StatusOr<domain::Interaction> FakeCustomerRepository::AppendInteraction(
    const app::Actor& actor, const std::string& id, const domain::Interaction& i) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("AppendInteraction"); !s.ok()) return s;
  TenantData& t = tenants_[actor.tenant_id];
  if (!t.customers.count(id)) return CustomerNotFound();
  t.interactions[id].push_back(i);
  ++writes_;
  return i;
}

absl::StatusOr<app::Page<domain::Interaction>> FakeCustomerRepository::Interactions(
    const std::string& tenant, const std::string& id, const app::InteractionQuery& q) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("Interactions"); !s.ok()) return s;
  bool bounded = false;
  int64_t before_micros = 0;
  std::string before_id;
  if (!q.before_cursor.empty()) {
    std::vector<std::string> parts = absl::StrSplit(q.before_cursor, '|');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &before_micros) ||
        !common::IsUuid(parts[1])) {
      return common::WithReason(absl::InvalidArgumentError("page_token is invalid"),
                                "INVALID_PAGE_TOKEN");
    }
    bounded = true;
    before_id = parts[1];
  }
  const TenantData& t = tenants_[tenant];
  if (!t.customers.count(id)) return CustomerNotFound();
  app::Page<domain::Interaction> page;
  for (const auto& i : SortedInteractions(t, id)) {
    if (q.kind != domain::InteractionKind::kUnspecified && i.kind != q.kind) continue;
    if (bounded) {
      int64_t m = absl::ToUnixMicros(i.occur_time);
      // (occurred_at, id) < (before_micros, before_id)
      if (m > before_micros || (m == before_micros && i.id >= before_id)) continue;
    }
    if (static_cast<int>(page.items.size()) == q.limit) {
      page.next_cursor = Cursor(page.items.back());
      break;
    }
    page.items.push_back(i);
  }
  return page;
}

absl::StatusOr<domain::CustomerView> FakeCustomerRepository::LoadView(const std::string& tenant,
                                                                      const std::string& id,
                                                                      int interaction_limit) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("LoadView"); !s.ok()) return s;
  ++load_view_calls_;
  TenantData& t = tenants_[tenant];
  auto c = t.customers.find(id);
  if (c == t.customers.end()) return CustomerNotFound();
  domain::CustomerView v;
  v.customer = c->second;
  v.identities = IdentitiesOfLocked(t, id);
  v.consents = domain::CurrentConsents(t.consents[id]);
  std::vector<domain::Interaction> all = SortedInteractions(t, id);
  v.interaction_count = static_cast<int64_t>(all.size());
  if (static_cast<int>(all.size()) > interaction_limit) all.resize(interaction_limit);
  v.recent_interactions = std::move(all);
  return v;
}

absl::StatusOr<domain::CustomerExport> FakeCustomerRepository::LoadExport(
    const std::string& tenant, const std::string& id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("LoadExport"); !s.ok()) return s;
  TenantData& t = tenants_[tenant];
  auto c = t.customers.find(id);
  if (c == t.customers.end()) return CustomerNotFound();
  domain::CustomerExport e;
  e.customer = c->second;
  e.identities = IdentitiesOfLocked(t, id);
  e.consent_history = t.consents[id];
  e.interactions = SortedInteractions(t, id);
  return e;
}

}  // namespace crm::testing

#include "services/customer_store/app/customer_store.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/customer_store/app/customer_writes.h"
#include "services/customer_store/domain/rules.h"

namespace crm::customer_store::app {

using domain::Customer;

absl::Status CustomerStore::CheckId(const std::string& id) const {
  if (!common::IsUuid(id)) {
    return common::InvalidField("customer_id", "customer_id must be a UUID");
  }
  return absl::OkStatus();
}

absl::StatusOr<Customer> CustomerStore::Create(const Actor& actor, Customer c) {
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(c));
  c.id = ids_.NewId();
  c.version = 1;
  c.create_time = c.update_time = clock_.Now();
  CRM_ASSIGN_OR_RETURN(CustomerAnswer created, InsertCustomer(repository_, actor, c));
  return std::move(created.customer);
}

absl::StatusOr<Customer> CustomerStore::Get(const std::string& tenant, const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckId(id));
  return repository_.Get(tenant, id);
}

absl::StatusOr<CustomerStore::Batch> CustomerStore::BatchGet(const std::string& tenant,
                                                             const std::vector<std::string>& ids,
                                                             bool with_consents) {
  if (ids.empty() || ids.size() > static_cast<size_t>(kMaxBatchGet)) {
    return common::InvalidField("customer_ids",
                                absl::StrCat("customer_ids takes 1 to ", kMaxBatchGet, " ids"));
  }
  std::set<std::string> distinct;
  for (const std::string& id : ids) {
    if (!common::IsUuid(id)) {
      return common::InvalidField(
          "customer_ids", absl::StrCat("customer_ids: \"", id.substr(0, 64), "\" is not a UUID"));
    }
    distinct.insert(id);
  }
  const std::vector<std::string> wanted(distinct.begin(), distinct.end());
  Batch out;
  CRM_ASSIGN_OR_RETURN(out.found, repository_.GetMany(tenant, wanted, with_consents));
  for (CustomerRepository::CustomerRecord& r : out.found) {
    distinct.erase(r.customer.id);
    r.consent_history = domain::CurrentConsents(r.consent_history);
  }
  out.missing.assign(distinct.begin(), distinct.end());
  return out;
}

absl::StatusOr<Customer> CustomerStore::Update(const Actor& actor, const std::string& id,
                                               const Customer& patch,
                                               const std::vector<std::string>& paths,
                                               const std::string& if_match) {
  CRM_RETURN_IF_ERROR(CheckId(id));
  // Validate the mask before touching the database.
  Customer probe;
  CRM_RETURN_IF_ERROR(domain::ApplyUpdateMask(patch, paths, probe));
  absl::Time now = clock_.Now();
  auto updated = UpdateCustomer(repository_, actor, id, if_match, [&](Customer& current) {
    CRM_RETURN_IF_ERROR(domain::ApplyUpdateMask(patch, paths, current));
    CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(current));
    current.update_time = now;
    return absl::OkStatus();
  });
  if (!updated.ok()) return updated.status();
  cache_.Invalidate(actor.tenant_id, id);
  return std::move(updated->customer);
}

absl::StatusOr<domain::ErasureResult> CustomerStore::Erase(const Actor& actor,
                                                           const std::string& id,
                                                           const std::string& if_match) {
  CRM_RETURN_IF_ERROR(CheckId(id));
  auto r = EraseCustomer(repository_, actor, id, if_match);
  if (r.ok()) cache_.Invalidate(actor.tenant_id, id);
  return r;
}

absl::StatusOr<Page<Customer>> CustomerStore::List(const std::string& tenant, const ListQuery& q) {
  return repository_.List(tenant, q);
}

absl::StatusOr<Page<Customer>> CustomerStore::Search(const std::string& tenant, SearchQuery q) {
  int given = !q.email.empty() + !q.phone.empty() + !q.name_prefix.empty() +
              !q.external_id.empty();
  if (given != 1) {
    return common::InvalidField(
        "email", "give exactly one of email, phone, external_id or name_prefix to search by");
  }
  if (!q.external_id.empty() && q.external_id_source.empty()) {
    return common::InvalidField("external_id_source",
                                "external_id_source is required with external_id");
  }
  if (!q.email.empty()) {
    auto e = domain::NormalizeEmail(q.email);
    if (!e.ok()) return common::InvalidField("email", e.status().message());
    q.email = *e;
  }
  if (!q.phone.empty()) {
    auto p = domain::NormalizePhone(q.phone);
    if (!p.ok()) return common::InvalidField("phone", p.status().message());
    q.phone = *p;
  }
  if (!q.name_prefix.empty()) {
    q.name_prefix = absl::AsciiStrToLower(absl::StripAsciiWhitespace(q.name_prefix));
    if (q.name_prefix.empty() || q.name_prefix.size() > domain::kMaxNameLength) {
      return common::InvalidField("name_prefix", "name_prefix must be 1..200 characters");
    }
  }
  return repository_.Search(tenant, q);
}

absl::StatusOr<UpsertResult> CustomerStore::Upsert(const Actor& actor, Customer c,
                                                   const std::vector<std::string>& present_paths) {
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(c));
  if (!actor.idempotency_key.empty()) {
    // A retry answers what the first call answered, created flag included,
    // even though the customer it created now exists.
    CRM_ASSIGN_OR_RETURN(std::optional<CustomerAnswer> answered, repository_.FindAnswer(actor));
    if (answered) return UpsertResult{std::move(answered->customer), answered->created};
  }
  std::vector<domain::Identity> identities = domain::IdentitiesOf(c);
  if (identities.empty()) {
    return common::InvalidField("customer.emails",
                                "upsert needs at least one email, phone or external id to match on");
  }
  CRM_ASSIGN_OR_RETURN(std::vector<std::string> owners,
                       repository_.FindOwners(actor.tenant_id, identities));
  if (owners.size() > 1) {
    return common::WithReason(
        absl::AlreadyExistsError(absl::StrCat(
            "the identities given belong to ", owners.size(),
            " different customers; merge them first or upsert with identities of one customer")),
        "IDENTITY_TAKEN");
  }
  if (owners.empty()) {
    CRM_ASSIGN_OR_RETURN(Customer created, Create(actor, std::move(c)));
    return UpsertResult{std::move(created), true};
  }
  std::vector<std::string> paths;
  for (const auto& p : present_paths) {
    if (p != "emails" && p != "phones" && p != "external_ids") paths.push_back(p);
  }
  absl::Time now = clock_.Now();
  auto updated = UpdateCustomer(repository_, actor, owners[0], "", [&](Customer& current) {
    if (!paths.empty()) CRM_RETURN_IF_ERROR(domain::ApplyUpdateMask(c, paths, current));
    auto add = [](auto& into, const auto& from) {
      for (const auto& x : from) {
        if (std::find(into.begin(), into.end(), x) == into.end()) into.push_back(x);
      }
    };
    add(current.emails, c.emails);
    add(current.phones, c.phones);
    add(current.external_ids, c.external_ids);
    CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(current));
    current.update_time = now;
    return absl::OkStatus();
  });
  if (!updated.ok()) return updated.status();
  cache_.Invalidate(actor.tenant_id, owners[0]);
  return UpsertResult{std::move(updated->customer), false};
}

absl::StatusOr<std::vector<domain::Consent>> CustomerStore::Consents(const std::string& tenant,
                                                                     const std::string& id,
                                                                     bool include_history) {
  CRM_RETURN_IF_ERROR(CheckId(id));
  CRM_ASSIGN_OR_RETURN(std::vector<domain::Consent> history,
                       repository_.ConsentHistory(tenant, id));
  if (include_history) return history;
  return domain::CurrentConsents(history);
}

absl::StatusOr<domain::Consent> CustomerStore::RecordConsent(const Actor& actor,
                                                             const std::string& id,
                                                             domain::Consent c) {
  CRM_RETURN_IF_ERROR(CheckId(id));
  CRM_RETURN_IF_ERROR(domain::ValidateConsent(c));
  absl::Time now = clock_.Now();
  if (c.record_time == absl::InfinitePast()) c.record_time = now;
  if (c.record_time > now + absl::Minutes(5)) {
    return common::InvalidField("consent.record_time", "consent.record_time is in the future");
  }
  auto r = AppendConsent(repository_, actor, id, c);
  if (r.ok()) cache_.Invalidate(actor.tenant_id, id);
  return r;
}

absl::StatusOr<Page<domain::Interaction>> CustomerStore::Interactions(const std::string& tenant,
                                                                      const std::string& id,
                                                                      const InteractionQuery& q) {
  CRM_RETURN_IF_ERROR(CheckId(id));
  CRM_ASSIGN_OR_RETURN(domain::TimelineCursor cursor, domain::ParseTimelineCursor(q.before_cursor));
  CRM_ASSIGN_OR_RETURN(Page<domain::Interaction> stored, repository_.Interactions(tenant, id, q));
  if (q.kind != domain::InteractionKind::kUnspecified &&
      q.kind != domain::InteractionKind::kWebVisit) {
    return stored;
  }
  CRM_ASSIGN_OR_RETURN(auto visits, VisitsBefore(tenant, id, cursor, q.limit));
  domain::TimelinePage page =
      domain::MergeTimeline(std::move(stored.items), !stored.next_cursor.empty(),
                            std::move(visits.first), visits.second, q.limit);
  Page<domain::Interaction> out;
  out.items = std::move(page.items);
  out.next_cursor = std::move(page.next_cursor);
  return out;
}

absl::StatusOr<std::pair<std::vector<domain::Interaction>, bool>> CustomerStore::VisitsBefore(
    const std::string& tenant, const std::string& id, const domain::TimelineCursor& cursor,
    int limit) {
  std::vector<domain::BehaviourEvent> events;
  std::set<std::string> seen;
  auto add = [&](domain::BehaviourEvent& e) {
    if (seen.insert(e.id).second) events.push_back(std::move(e));
  };
  // The visit running at the boundary may go on after it: its later
  // events, up to the first gap that ends a visit.
  if (cursor.time != absl::InfiniteFuture()) {
    absl::Time last = cursor.time, from = cursor.time;
    for (int read = 0; read < kMaxVisitReads; ++read) {
      CRM_ASSIGN_OR_RETURN(std::vector<domain::BehaviourEvent> later,
                           repository_.BehaviourFrom(tenant, BehaviourOwner::kCustomer, id, from,
                                                     false, kVisitRead));
      bool ended = static_cast<int>(later.size()) < kVisitRead;
      for (domain::BehaviourEvent& e : later) {
        if (e.occur_time - last > domain::kSessionGap) {
          ended = true;
          break;
        }
        last = e.occur_time;
        add(e);
      }
      if (ended) break;
      // The next read starts just before the last time read: events sharing
      // it beyond this read are not skipped (those read again are dropped).
      from = last - absl::Microseconds(1);
    }
  }
  // Events at or before the boundary, newest first, until `limit` whole
  // visits are known (the oldest of a full read may begin before it).
  absl::Time until = cursor.time;
  for (int read = 0; read < kMaxVisitReads; ++read) {
    CRM_ASSIGN_OR_RETURN(
        std::vector<domain::BehaviourEvent> earlier,
        repository_.BehaviourFrom(tenant, BehaviourOwner::kCustomer, id, until, true, kVisitRead));
    const bool all = static_cast<int>(earlier.size()) < kVisitRead;
    if (!earlier.empty()) until = earlier.back().occur_time;
    for (domain::BehaviourEvent& e : earlier) add(e);
    std::vector<domain::BehaviourSession> sessions =
        domain::SessionsBefore(events, cursor, domain::kSessionGap);
    if (!all && !sessions.empty()) sessions.pop_back();  // may be cut
    if (all || read + 1 == kMaxVisitReads || static_cast<int>(sessions.size()) > limit) {
      const bool more = !all || static_cast<int>(sessions.size()) > limit;
      if (static_cast<int>(sessions.size()) > limit) sessions.resize(limit);
      std::vector<domain::Interaction> out;
      for (const domain::BehaviourSession& s : sessions) out.push_back(domain::VisitEntry(s));
      return std::make_pair(std::move(out), more);
    }
  }
  return std::make_pair(std::vector<domain::Interaction>(), false);
}

absl::StatusOr<domain::Visit> CustomerStore::VisitAt(const std::string& tenant,
                                                     const VisitQuery& q) {
  BehaviourOwner owner = BehaviourOwner::kCustomer;
  std::string id = q.customer_id;
  if (q.visitor_id.empty() == q.customer_id.empty()) {
    return common::InvalidField("visitor_id", "name the visit's visitor_id or customer_id (one)");
  }
  if (!q.visitor_id.empty()) {
    if (!common::IsVisitorId(q.visitor_id)) {
      return common::InvalidField("visitor_id", "visitor_id is 1..128 of [A-Za-z0-9._:-]");
    }
    owner = BehaviourOwner::kVisitor;
    id = q.visitor_id;
  } else {
    CRM_RETURN_IF_ERROR(CheckId(id));
    // An unknown customer (another tenant's too) is NOT_FOUND, not a
    // customer without a visit.
    CRM_RETURN_IF_ERROR(repository_.Get(tenant, id).status());
  }
  int limit = q.event_limit == 0 ? domain::kDefaultVisitEvents : q.event_limit;
  if (limit < 0 || limit > domain::kMaxVisitEvents) {
    return common::InvalidField("event_limit",
                                absl::StrCat("event_limit is 1..", domain::kMaxVisitEvents));
  }
  const absl::Time at = q.at == absl::InfinitePast() ? clock_.Now() : q.at;
  const absl::Time edge = at + domain::kMaxFutureSkew;
  CRM_ASSIGN_OR_RETURN(std::vector<domain::BehaviourEvent> before,
                       repository_.BehaviourFrom(tenant, owner, id, edge, true, kVisitRead));
  std::vector<domain::BehaviourEvent> after;
  if (!before.empty() && at - before.front().occur_time <= domain::kSessionGap) {
    CRM_ASSIGN_OR_RETURN(after,
                         repository_.BehaviourFrom(tenant, owner, id, edge, false, kVisitRead));
  }
  const auto full = [](const std::vector<domain::BehaviourEvent>& read) {
    return static_cast<int>(read.size()) == kVisitRead;
  };
  return domain::VisitAt(before, full(before), after, full(after), at, domain::kSessionGap,
                         static_cast<size_t>(limit));
}

absl::StatusOr<domain::Interaction> CustomerStore::AddInteraction(const Actor& actor,
                                                                  const std::string& id,
                                                                  domain::Interaction i) {
  CRM_RETURN_IF_ERROR(CheckId(id));
  CRM_RETURN_IF_ERROR(domain::ValidateInteraction(i));
  i.id = ids_.NewId();
  if (i.occur_time == absl::InfinitePast()) i.occur_time = clock_.Now();
  auto r = AppendInteraction(repository_, actor, id, i);
  if (r.ok()) cache_.Invalidate(actor.tenant_id, id);
  return r;
}

absl::StatusOr<std::string> CustomerStore::ViewBytes(
    const std::string& tenant, const std::string& id, int interaction_limit,
    const std::function<std::string(const domain::CustomerView&)>& serialize) {
  CRM_RETURN_IF_ERROR(CheckId(id));
  if (interaction_limit < 0 || interaction_limit > kMaxViewInteractions) {
    return common::InvalidField("interaction_limit",
                                absl::StrCat("interaction_limit must be 0..", kMaxViewInteractions));
  }
  if (interaction_limit == 0) interaction_limit = kDefaultViewInteractions;
  const bool cacheable = interaction_limit == kDefaultViewInteractions;
  ViewCache::Lookup lookup;
  if (cacheable) {
    lookup = cache_.Get(tenant, id);
    if (lookup.hit) return *std::move(lookup.hit);
  }
  CRM_ASSIGN_OR_RETURN(domain::CustomerView view,
                       repository_.LoadView(tenant, id, interaction_limit));
  std::string bytes = serialize(view);
  if (cacheable && lookup.usable) cache_.Put(tenant, id, lookup.generation, bytes);
  return bytes;
}

absl::StatusOr<domain::CustomerExport> CustomerStore::Export(const std::string& tenant,
                                                             const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckId(id));
  return repository_.LoadExport(tenant, id);
}

}  // namespace crm::customer_store::app

#include "services/segmentation/app/live_segments.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/status_macros.h"
#include "libs/common/time_zone.h"
#include "services/segmentation/domain/behaviour.h"
#include "services/segmentation/domain/segment_graph.h"

namespace crm::segmentation::app {
namespace {

constexpr int kAllSegments = 100000;
// A re-evaluation whose write failed is retried this much later.
constexpr absl::Duration kRetryAfter = absl::Seconds(5);
// The id a preview's expression is checked under (no saved id can be it).
constexpr char kPreviewId[] = " preview";

absl::Status SegmentNotFound(const std::string& id) {
  return common::WithReason(absl::NotFoundError(absl::StrCat("segment \"", id, "\" not found")),
                            "SEGMENT_NOT_FOUND");
}

domain::SegmentGraph GraphOf(const std::vector<domain::SegmentDefinition>& defs) {
  domain::SegmentGraph g;
  for (const auto& d : defs) g[d.id] = d.references;
  return g;
}

}  // namespace

struct LiveSegments::Compiled {
  std::vector<std::unique_ptr<domain::LiveSegment>> segments;
  std::vector<const domain::LiveSegment*> order;
  bool with_features = false;
  uint64_t unreadable = 0;

  // `changed` and every segment that reads one of them, directly or not, in
  // evaluation order.
  std::set<std::string> Affected(const std::set<std::string>& changed) const {
    std::set<std::string> out = changed;
    for (const domain::LiveSegment* s : order) {  // referenced ones come first
      for (const std::string& ref : s->checked.dependencies.segments) {
        if (out.count(ref)) out.insert(s->id);
      }
    }
    return out;
  }
};

struct LiveSegments::Outcome {
  std::vector<domain::MembershipChange> changes;
  std::vector<std::pair<uint32_t, absl::Time>> timers;
  // Some segments only were evaluated: a timer may only move earlier (the
  // others' instants are not known here).
  bool partial = false;
};

struct LiveSegments::Tenant {
  absl::Mutex mu;
  bool loaded = false;            // segments read
  bool customers_loaded = false;  // customers, members and timers built
  std::vector<domain::SegmentDefinition> defs;  // id order
  Compiled compiled;
  domain::CustomerIndex index;
  std::vector<domain::LiveCustomer> customers;  // by index
  std::vector<bool> present;                    // known, not erased or merged away
  domain::SegmentBitmaps members;
  domain::TimerQueue timers;
  domain::SegmentationSettings settings;
  domain::SkuCategories categories;  // context.categories points here
  domain::FeatureContext context;
  absl::Time context_time = absl::InfinitePast();
};

LiveSegments::LiveSegments(SegmentRepository& segments, FactRepository& facts,
                           ModelRepository& models, const common::Clock& clock,
                           domain::FieldCatalog catalog, absl::Duration refresh_every,
                           domain::Ownership ownership, ReplicaPeers* peers)
    : segments_(segments),
      facts_(facts),
      models_(models),
      clock_(clock),
      catalog_(std::move(catalog)),
      refresh_every_(refresh_every),
      ownership_(ownership),
      peers_(peers) {}

LiveSegments::~LiveSegments() = default;

namespace {

void AttachConsents(std::vector<domain::LiveCustomer>& customers,
                    const std::vector<domain::CustomerConsent>& consents) {
  std::map<std::string, domain::ConsentFields> by_customer;
  for (const domain::CustomerConsent& c : consents) {
    by_customer[c.customer_id][domain::ConsentField(c.channel, c.purpose)] = c.status;
  }
  for (domain::LiveCustomer& c : customers) {
    auto it = by_customer.find(c.customer_id);
    if (it != by_customer.end()) c.consents = std::move(it->second);
  }
}

void AttachProfiles(std::vector<domain::LiveCustomer>& customers,
                    std::vector<domain::CustomerProfile> profiles) {
  std::map<std::string, domain::ProfileFields> by_customer;
  for (domain::CustomerProfile& p : profiles) by_customer[p.customer_id] = std::move(p.fields);
  for (domain::LiveCustomer& c : customers) {
    auto it = by_customer.find(c.customer_id);
    if (it != by_customer.end()) c.profile = std::move(it->second);
  }
}

void AttachEvents(std::vector<domain::LiveCustomer>& customers,
                  std::vector<domain::CustomerEvent> events) {
  std::map<std::string, std::vector<domain::SegmentEvent>> by_customer;
  for (domain::CustomerEvent& e : events) by_customer[e.customer_id].push_back(std::move(e.event));
  for (domain::LiveCustomer& c : customers) {
    auto it = by_customer.find(c.customer_id);
    if (it != by_customer.end()) c.events = std::move(it->second);
  }
}

}  // namespace

absl::StatusOr<std::vector<domain::LiveCustomer>> LiveSegments::CustomersOf(
    const std::string& tenant, const std::optional<std::vector<std::string>>& ids,
    std::vector<domain::LiveCustomer>* others) {
  CRM_ASSIGN_OR_RETURN(std::vector<domain::LiveCustomer> customers,
                       segments_.Customers(tenant, ids));
  if (!ownership_.all()) {  // another replica holds the others
    auto theirs = std::stable_partition(
        customers.begin(), customers.end(),
        [&](const domain::LiveCustomer& c) { return ownership_.Owns(c.customer_id); });
    if (others != nullptr) {
      others->assign(std::make_move_iterator(theirs), std::make_move_iterator(customers.end()));
    }
    customers.erase(theirs, customers.end());
    if (ids && customers.empty()) return customers;
  }
  if (ids) {  // a few customers: their facts in one read
    std::vector<std::string> found;
    for (const domain::LiveCustomer& c : customers) found.push_back(c.customer_id);
    CRM_ASSIGN_OR_RETURN(FactRepository::CustomerFacts facts, facts_.FactsOf(tenant, found));
    AttachConsents(customers, facts.consents);
    AttachProfiles(customers, std::move(facts.profiles));
    AttachEvents(customers, std::move(facts.behaviour));
    return customers;
  }
  CRM_ASSIGN_OR_RETURN(std::vector<domain::CustomerConsent> consents,
                       facts_.Consents(tenant, std::nullopt));
  AttachConsents(customers, consents);
  CRM_ASSIGN_OR_RETURN(std::vector<domain::CustomerProfile> profiles,
                       facts_.Profiles(tenant, std::nullopt));
  AttachProfiles(customers, std::move(profiles));
  CRM_ASSIGN_OR_RETURN(std::vector<domain::CustomerEvent> events, facts_.Behaviour(tenant));
  AttachEvents(customers, std::move(events));
  return customers;
}

LiveSegments::Tenant& LiveSegments::TenantOf(const std::string& tenant) {
  absl::MutexLock l(&mu_);
  std::unique_ptr<Tenant>& t = tenants_[tenant];
  if (!t) t = std::make_unique<Tenant>();
  return *t;
}

LiveSegments::Compiled LiveSegments::CompileAll(
    const std::vector<domain::SegmentDefinition>& defs) {
  Compiled c;
  std::map<std::string, const domain::LiveSegment*> by_id;
  domain::SegmentGraph graph;
  for (const domain::SegmentDefinition& d : defs) {
    absl::StatusOr<domain::CheckedSegment> checked = domain::CompileSegment(d.expression, catalog_);
    if (!checked.ok()) {
      ++c.unreadable;  // kept with its members as they are; an edit fixes it
      continue;
    }
    auto s = std::make_unique<domain::LiveSegment>();
    s->id = d.id;
    s->version = d.version;
    s->checked = *std::move(checked);
    c.with_features = c.with_features || s->checked.dependencies.Reads(domain::ChangeKind::kFeatures);
    graph[d.id] = s->checked.dependencies.segments;
    by_id[d.id] = s.get();
    c.segments.push_back(std::move(s));
  }
  absl::StatusOr<std::vector<std::string>> order = domain::SegmentEvaluationOrder(graph);
  if (order.ok()) {
    for (const std::string& id : *order) c.order.push_back(by_id[id]);
  }  // a cycle cannot be saved (CheckSegmentReferences): nothing is evaluated
  return c;
}

absl::Status LiveSegments::ReadyLocked(const std::string& tenant, Tenant& t) {
  if (!t.loaded) {
    CRM_ASSIGN_OR_RETURN(t.settings, segments_.Settings(tenant));
    CRM_ASSIGN_OR_RETURN(t.defs, segments_.List(tenant, "", kAllSegments));
    t.compiled = CompileAll(t.defs);
    t.loaded = true;
  }
  if (!t.customers_loaded && !t.defs.empty()) return LoadCustomersLocked(tenant, t);
  return absl::OkStatus();
}

absl::Status LiveSegments::LoadCustomersLocked(const std::string& tenant, Tenant& t) {
  const absl::Time started = clock_.Now();
  // Partitioned: the others' customers (purchases only) serve the tenant's
  // feature context below, so the tenant is read once.
  std::vector<domain::LiveCustomer> others;
  CRM_ASSIGN_OR_RETURN(std::vector<domain::LiveCustomer> customers,
                       CustomersOf(tenant, std::nullopt, &others));
  CRM_ASSIGN_OR_RETURN(auto rows, segments_.AllMemberships(tenant));
  CRM_ASSIGN_OR_RETURN(t.categories, facts_.ProductCategories(tenant));
  t.index = domain::CustomerIndex();
  t.members = domain::SegmentBitmaps();
  t.timers = domain::TimerQueue();
  t.customers.clear();
  t.present.clear();
  for (domain::LiveCustomer& c : customers) {
    const uint32_t i = t.index.Intern(c.customer_id);
    t.customers.resize(std::max<size_t>(t.customers.size(), i + 1));
    t.present.resize(t.customers.size(), false);
    t.customers[i] = std::move(c);
    t.present[i] = true;
  }
  for (const auto& [segment, customer] : rows) {
    if (!ownership_.Owns(customer)) continue;
    const uint32_t i = t.index.Intern(customer);
    if (i >= t.customers.size()) {  // a member no longer known: leaves on re-evaluation
      t.customers.resize(i + 1);
      t.present.resize(i + 1, false);
      t.customers[i].customer_id = customer;
    }
    t.members.Set(segment, i, true);
  }
  CRM_RETURN_IF_ERROR(RebuildContextLocked(tenant, t, ownership_.all() ? nullptr : &others));
  others = {};
  t.customers_loaded = true;
  // What changed while no one was looking (time passed, facts arrived
  // before the segment's memory was built) is published now.
  CRM_RETURN_IF_ERROR(ReevaluateLocked(tenant, t, EveryoneLocked(t)));
  absl::MutexLock l(&mu_);
  last_rebuild_ = clock_.Now() - started;
  return absl::OkStatus();
}

bool LiveSegments::NoProfilingLocked(const Tenant& t, uint32_t i) {
  return domain::ProfilingOf(t.customers[i].consents, t.settings.profiling_requires_opt_in) !=
         domain::Profiling::kAllowed;
}

std::vector<uint32_t> LiveSegments::EveryoneLocked(const Tenant& t) const {
  std::vector<uint32_t> all(t.customers.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  return all;
}

LiveSegments::Outcome LiveSegments::EvaluateLocked(const Tenant& t, const Compiled& segments,
                                                   const std::vector<uint32_t>& which,
                                                   absl::Time now,
                                                   const std::set<std::string>* only) const {
  Outcome out;
  out.partial = only != nullptr;
  std::vector<const domain::LiveSegment*> ordered;
  bool features = false, consents = false;
  for (const domain::LiveSegment* s : segments.order) {
    if (only && !only->count(s->id)) continue;
    ordered.push_back(s);
    features = features || s->checked.dependencies.Reads(domain::ChangeKind::kFeatures);
    consents = consents || s->checked.dependencies.Reads(domain::ChangeKind::kConsents);
  }
  out.timers.reserve(which.size());
  for (uint32_t i : which) {
    domain::CustomerMemberships m;
    if (t.present[i]) {
      domain::CustomerSnapshot snapshot =
          domain::SnapshotOf(t.customers[i], t.context, now, features, consents);
      if (only) {  // the memberships the pass does not recompute
        for (const domain::LiveSegment* s : segments.order) {
          if (!only->count(s->id) && t.members.Contains(s->id, i)) snapshot.segments.insert(s->id);
        }
      }
      m = domain::EvaluateCustomer(ordered, std::move(snapshot), now, NoProfilingLocked(t, i));
    }
    for (const domain::LiveSegment* s : ordered) {
      const bool was = t.members.Contains(s->id, i);
      const bool is = m.members.count(s->id) > 0;
      if (was != is) out.changes.push_back({s->id, s->version, t.index.IdOf(i), is});
    }
    out.timers.emplace_back(i, m.next_change);
  }
  return out;
}

void LiveSegments::CommitLocked(Tenant& t, const Outcome& outcome) {
  for (const domain::MembershipChange& c : outcome.changes) {
    t.members.Set(c.segment_id, *t.index.Find(c.customer_id), c.entered);
  }
  for (const auto& [i, when] : outcome.timers) {
    if (outcome.partial) {
      t.timers.ScheduleEarlier(i, when);
    } else {
      t.timers.Schedule(i, when);
    }
  }
}

absl::Status LiveSegments::ReevaluateLocked(const std::string& tenant, Tenant& t,
                                            const std::vector<uint32_t>& which) {
  const absl::Time now = clock_.Now();
  Outcome outcome = EvaluateLocked(t, t.compiled, which, now);
  if (!outcome.changes.empty()) {
    if (absl::Status s = segments_.ApplyMemberships(tenant, outcome.changes, now); !s.ok()) {
      for (uint32_t i : which) t.timers.Schedule(i, now + kRetryAfter);
      return s;
    }
  }
  CommitLocked(t, outcome);
  return absl::OkStatus();
}

absl::StatusOr<domain::SegmentDefinition> LiveSegments::CheckedDraft(
    domain::SegmentDefinition d) const {
  CRM_RETURN_IF_ERROR(domain::CheckDefinition(d));
  absl::StatusOr<domain::CheckedSegment> checked = domain::CompileSegment(d.expression, catalog_);
  if (!checked.ok()) return common::WithField(checked.status(), "segment.expression");
  d.references = checked->dependencies.segments;
  d.reads_time = checked->dependencies.reads_time();
  return d;
}

absl::StatusOr<SegmentView> LiveSegments::Written(const std::string& tenant, Tenant& t,
                                                  absl::StatusOr<domain::SegmentDefinition> written,
                                                  bool ran,
                                                  std::vector<domain::SegmentDefinition> all,
                                                  Outcome outcome) {
  if (!written.ok()) return written.status();
  if (!ran) {
    // A replay of an earlier call: the memory may predate it (another
    // replica, a restart); read everything again.
    t.loaded = t.customers_loaded = false;
    CRM_RETURN_IF_ERROR(ReadyLocked(tenant, t));
  } else {
    std::sort(all.begin(), all.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    std::set<std::string> kept;
    for (const auto& d : all) kept.insert(d.id);
    for (const auto& d : t.defs) {
      if (!kept.count(d.id)) t.members.Drop(d.id);
    }
    t.defs = std::move(all);
    t.compiled = CompileAll(t.defs);
    CommitLocked(t, outcome);
  }
  return SegmentView{*written, t.members.Count(written->id)};
}

absl::StatusOr<SegmentView> LiveSegments::CreateHere(const outbox::WriteMeta& actor,
                                                     domain::SegmentDefinition draft) {
  const absl::Time now = clock_.Now();
  draft.version = draft.revision = 1;
  draft.create_time = draft.update_time = now;
  CRM_ASSIGN_OR_RETURN(draft, CheckedDraft(std::move(draft)));
  Tenant& t = TenantOf(actor.tenant_id);
  absl::MutexLock l(&t.mu);
  CRM_RETURN_IF_ERROR(ReadyLocked(actor.tenant_id, t));
  if (!t.customers_loaded) CRM_RETURN_IF_ERROR(LoadCustomersLocked(actor.tenant_id, t));
  bool ran = false;
  std::vector<domain::SegmentDefinition> all;
  Outcome outcome;
  absl::StatusOr<domain::SegmentDefinition> written = segments_.Run<domain::SegmentDefinition>(
      actor, draft.id, [&](SegmentTx& tx) -> absl::StatusOr<domain::SegmentDefinition> {
        ran = true;
        CRM_ASSIGN_OR_RETURN(std::optional<domain::SegmentDefinition> existing, tx.Load(draft.id));
        if (existing) {
          return common::WithReason(
              absl::AlreadyExistsError(absl::StrCat("segment \"", draft.id, "\" exists already")),
              "SEGMENT_EXISTS");
        }
        CRM_ASSIGN_OR_RETURN(all, tx.LoadAll());
        CRM_RETURN_IF_ERROR(
            domain::CheckSegmentReferences(GraphOf(all), draft.id, draft.references));
        all.push_back(draft);
        Compiled next = CompileAll(all);
        const std::set<std::string> only{draft.id};  // no segment reads a new one
        outcome = EvaluateLocked(t, next, EveryoneLocked(t), now, &only);
        tx.Save(draft);
        CRM_RETURN_IF_ERROR(tx.ApplyMemberships(outcome.changes, now));
        tx.Emit("segment.created", draft);
        return draft;
      });
  return Written(actor.tenant_id, t, std::move(written), ran, std::move(all), std::move(outcome));
}

absl::StatusOr<SegmentView> LiveSegments::UpdateHere(const outbox::WriteMeta& actor,
                                                     const std::string& id,
                                                     const domain::SegmentPatch& patch,
                                                     const std::string& if_match) {
  const absl::Time now = clock_.Now();
  Tenant& t = TenantOf(actor.tenant_id);
  absl::MutexLock l(&t.mu);
  CRM_RETURN_IF_ERROR(ReadyLocked(actor.tenant_id, t));
  bool ran = false;
  std::vector<domain::SegmentDefinition> all;
  Outcome outcome;
  absl::StatusOr<domain::SegmentDefinition> written = segments_.Run<domain::SegmentDefinition>(
      actor, id, [&](SegmentTx& tx) -> absl::StatusOr<domain::SegmentDefinition> {
        ran = true;
        CRM_ASSIGN_OR_RETURN(std::optional<domain::SegmentDefinition> current, tx.Load(id));
        if (!current) return SegmentNotFound(id);
        CRM_RETURN_IF_ERROR(common::CheckEtag("segment", domain::EtagOf(*current), if_match));
        const int64_t revision = current->revision;
        const bool new_version = domain::ApplyPatch(*current, patch, now);
        if (current->revision == revision) return *current;  // nothing to change
        CRM_ASSIGN_OR_RETURN(domain::SegmentDefinition next, CheckedDraft(*std::move(current)));
        CRM_ASSIGN_OR_RETURN(all, tx.LoadAll());
        if (new_version) {
          CRM_RETURN_IF_ERROR(domain::CheckSegmentReferences(GraphOf(all), id, next.references));
        }
        for (auto& d : all) {
          if (d.id == id) d = next;
        }
        if (new_version) {
          // Everyone once under the new expression, for it and the
          // segments that read it.
          Compiled next = CompileAll(all);
          const std::set<std::string> only = next.Affected({id});
          outcome = EvaluateLocked(t, next, EveryoneLocked(t), now, &only);
          CRM_RETURN_IF_ERROR(tx.ApplyMemberships(outcome.changes, now));
        }
        tx.Save(next);
        tx.Emit("segment.updated", next);
        return next;
      });
  if (ran && written.ok() && all.empty()) return SegmentView{*written, t.members.Count(id)};
  return Written(actor.tenant_id, t, std::move(written), ran, std::move(all), std::move(outcome));
}

absl::Status LiveSegments::Delete(const outbox::WriteMeta& actor, const std::string& id,
                                  const std::string& if_match) {
  CRM_RETURN_IF_ERROR(DeleteHere(actor, id, if_match));
  SyncPeers(actor.tenant_id);
  return absl::OkStatus();
}

absl::Status LiveSegments::DeleteHere(const outbox::WriteMeta& actor, const std::string& id,
                                      const std::string& if_match) {
  Tenant& t = TenantOf(actor.tenant_id);
  absl::MutexLock l(&t.mu);
  CRM_RETURN_IF_ERROR(ReadyLocked(actor.tenant_id, t));
  bool ran = false;
  std::vector<domain::SegmentDefinition> all;
  absl::StatusOr<domain::SegmentDefinition> written = segments_.Run<domain::SegmentDefinition>(
      actor, id, [&](SegmentTx& tx) -> absl::StatusOr<domain::SegmentDefinition> {
        ran = true;
        CRM_ASSIGN_OR_RETURN(std::optional<domain::SegmentDefinition> current, tx.Load(id));
        if (!current) return SegmentNotFound(id);
        CRM_RETURN_IF_ERROR(common::CheckEtag("segment", domain::EtagOf(*current), if_match));
        CRM_ASSIGN_OR_RETURN(all, tx.LoadAll());
        std::vector<std::string> referrers;
        for (const auto& d : all) {
          if (d.id != id && d.references.count(id)) referrers.push_back(d.id);
        }
        CRM_RETURN_IF_ERROR(domain::CheckDeletable(id, referrers));
        all.erase(std::remove_if(all.begin(), all.end(), [&](const auto& d) { return d.id == id; }),
                  all.end());
        tx.Delete(id);
        tx.Emit("segment.deleted", *current);
        return *current;
      });
  return Written(actor.tenant_id, t, std::move(written), ran, std::move(all), Outcome{}).status();
}

absl::StatusOr<SegmentView> LiveSegments::GetHere(const std::string& tenant,
                                                  const std::string& id) {
  CRM_ASSIGN_OR_RETURN(std::optional<domain::SegmentDefinition> d, segments_.Get(tenant, id));
  if (!d) return SegmentNotFound(id);
  Tenant& t = TenantOf(tenant);
  absl::MutexLock l(&t.mu);
  CRM_RETURN_IF_ERROR(ReadyLocked(tenant, t));
  return SegmentView{*std::move(d), t.members.Count(id)};
}

absl::StatusOr<std::vector<SegmentView>> LiveSegments::ListHere(const std::string& tenant,
                                                                const std::string& after,
                                                                int limit) {
  CRM_ASSIGN_OR_RETURN(std::vector<domain::SegmentDefinition> defs,
                       segments_.List(tenant, after, limit));
  Tenant& t = TenantOf(tenant);
  absl::MutexLock l(&t.mu);
  CRM_RETURN_IF_ERROR(ReadyLocked(tenant, t));
  std::vector<SegmentView> out;
  for (auto& d : defs) {
    const uint64_t n = t.members.Count(d.id);
    out.push_back({std::move(d), n});
  }
  return out;
}

absl::StatusOr<SegmentPreview> LiveSegments::PreviewHere(const std::string& tenant,
                                                         const std::string& expression,
                                                         int sample_size) {
  absl::StatusOr<domain::CheckedSegment> checked = domain::CompileSegment(expression, catalog_);
  if (!checked.ok()) return common::WithField(checked.status(), "expression");
  Tenant& t = TenantOf(tenant);
  absl::MutexLock l(&t.mu);
  CRM_RETURN_IF_ERROR(ReadyLocked(tenant, t));
  CRM_RETURN_IF_ERROR(domain::CheckSegmentReferences(GraphOf(t.defs), kPreviewId,
                                                     checked->dependencies.segments));
  SegmentPreview out;
  out.references = checked->dependencies.segments;
  out.reads_time = checked->dependencies.reads_time();
  if (!t.customers_loaded) {  // no segment yet: the customers are not in memory
    CRM_RETURN_IF_ERROR(LoadCustomersLocked(tenant, t));
  }
  const bool features = checked->dependencies.Reads(domain::ChangeKind::kFeatures);
  const bool consents = checked->dependencies.Reads(domain::ChangeKind::kConsents);
  const bool behavioural = features || checked->dependencies.Reads(domain::ChangeKind::kEvents);
  const absl::Time now = clock_.Now();
  std::set<std::string> sample;  // the smallest ids
  for (uint32_t i = 0; i < t.customers.size(); ++i) {
    if (!t.present[i]) continue;
    ++out.customers;
    if (behavioural && NoProfilingLocked(t, i)) continue;
    domain::CustomerSnapshot s =
        domain::SnapshotOf(t.customers[i], t.context, now, features, consents);
    for (const std::string& ref : out.references) {
      if (t.members.Contains(ref, i)) s.segments.insert(ref);
    }
    if (!domain::EvaluateSegment(checked->root, s, now).matches) continue;
    ++out.count;
    sample.insert(t.index.IdOf(i));
    if (static_cast<int>(sample.size()) > sample_size) sample.erase(std::prev(sample.end()));
  }
  out.sample.assign(sample.begin(), sample.end());
  return out;
}

absl::StatusOr<std::optional<std::vector<bool>>> LiveSegments::MatchHere(
    const std::string& tenant, const std::string& customer_id,
    const std::vector<std::string>& expressions) {
  std::vector<domain::CheckedSegment> checked;
  for (const std::string& e : expressions) {
    absl::StatusOr<domain::CheckedSegment> c = domain::CompileSegment(e, catalog_);
    if (!c.ok()) return common::WithField(c.status(), "expressions");
    checked.push_back(*std::move(c));
  }
  if (!ownership_.Owns(customer_id)) return std::nullopt;
  Tenant& t = TenantOf(tenant);
  absl::MutexLock l(&t.mu);
  CRM_RETURN_IF_ERROR(ReadyLocked(tenant, t));
  for (const domain::CheckedSegment& c : checked) {
    CRM_RETURN_IF_ERROR(common::WithField(
        domain::CheckSegmentReferences(GraphOf(t.defs), kPreviewId, c.dependencies.segments),
        "expressions"));
  }
  if (!t.customers_loaded) CRM_RETURN_IF_ERROR(LoadCustomersLocked(tenant, t));
  std::optional<uint32_t> i = t.index.Find(customer_id);
  if (!i || *i >= t.present.size() || !t.present[*i]) return std::nullopt;
  const absl::Time now = clock_.Now();
  std::vector<bool> out;
  for (const domain::CheckedSegment& c : checked) {
    const bool features = c.dependencies.Reads(domain::ChangeKind::kFeatures);
    const bool consents = c.dependencies.Reads(domain::ChangeKind::kConsents);
    const bool behavioural = features || c.dependencies.Reads(domain::ChangeKind::kEvents);
    if (behavioural && NoProfilingLocked(t, *i)) {
      out.push_back(false);
      continue;
    }
    domain::CustomerSnapshot s =
        domain::SnapshotOf(t.customers[*i], t.context, now, features, consents);
    for (const std::string& ref : c.dependencies.segments) {
      if (t.members.Contains(ref, *i)) s.segments.insert(ref);
    }
    out.push_back(domain::EvaluateSegment(c.root, s, now).matches);
  }
  return out;
}

// ---------------------------------------------------------------- replicas

absl::StatusOr<std::vector<bool>> LiveSegments::Match(const std::string& tenant,
                                                      const std::string& customer_id,
                                                      const std::vector<std::string>& expressions) {
  CRM_ASSIGN_OR_RETURN(std::optional<std::vector<bool>> here,
                       MatchHere(tenant, customer_id, expressions));
  if (here) return *std::move(here);
  if (!ownership_.Owns(customer_id) && HasPeers()) {
    return peers_->Match(tenant, customer_id, expressions);
  }
  return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
}

absl::StatusOr<SegmentView> LiveSegments::Create(const outbox::WriteMeta& actor,
                                                 domain::SegmentDefinition draft) {
  return Gathered(actor.tenant_id, CreateHere(actor, std::move(draft)), /*sync=*/true);
}

absl::StatusOr<SegmentView> LiveSegments::Update(const outbox::WriteMeta& actor,
                                                 const std::string& id,
                                                 const domain::SegmentPatch& patch,
                                                 const std::string& if_match) {
  return Gathered(actor.tenant_id, UpdateHere(actor, id, patch, if_match), /*sync=*/true);
}

absl::StatusOr<SegmentView> LiveSegments::Get(const std::string& tenant, const std::string& id) {
  return Gathered(tenant, GetHere(tenant, id), /*sync=*/false);
}

absl::StatusOr<SegmentView> LiveSegments::Gathered(const std::string& tenant,
                                                   absl::StatusOr<SegmentView> here, bool sync) {
  if (!here.ok()) return here;
  std::vector<SegmentView> views{*std::move(here)};
  CRM_RETURN_IF_ERROR(Gather(tenant, views, sync));
  return std::move(views.front());
}

absl::StatusOr<std::vector<SegmentView>> LiveSegments::List(const std::string& tenant,
                                                            const std::string& after, int limit) {
  CRM_ASSIGN_OR_RETURN(std::vector<SegmentView> views, ListHere(tenant, after, limit));
  CRM_RETURN_IF_ERROR(Gather(tenant, views, /*sync=*/false));
  return views;
}

absl::StatusOr<domain::SegmentationSettings> LiveSegments::UpdateSettings(
    const outbox::WriteMeta& actor, const domain::SettingsPatch& patch,
    const std::string& if_match) {
  CRM_ASSIGN_OR_RETURN(domain::SegmentationSettings s, UpdateSettingsHere(actor, patch, if_match));
  SyncPeers(actor.tenant_id);
  return s;
}

absl::StatusOr<SegmentPreview> LiveSegments::Preview(const std::string& tenant,
                                                     const std::string& expression,
                                                     int sample_size) {
  CRM_ASSIGN_OR_RETURN(SegmentPreview out, PreviewHere(tenant, expression, sample_size));
  if (!HasPeers()) return out;
  CRM_ASSIGN_OR_RETURN(std::vector<LocalPreview> others,
                       peers_->Previews(tenant, expression, sample_size));
  std::set<std::string> sample(out.sample.begin(), out.sample.end());
  for (const LocalPreview& p : others) {
    out.count += p.count;
    out.customers += p.customers;
    sample.insert(p.sample.begin(), p.sample.end());
  }
  while (static_cast<int>(sample.size()) > sample_size) sample.erase(std::prev(sample.end()));
  out.sample.assign(sample.begin(), sample.end());
  return out;
}

absl::Status LiveSegments::Gather(const std::string& tenant, std::vector<SegmentView>& views,
                                  bool sync) {
  if (!HasPeers()) return absl::OkStatus();
  std::vector<std::string> ids;
  for (const SegmentView& v : views) ids.push_back(v.definition.id);
  absl::StatusOr<std::map<std::string, uint64_t>> others = peers_->Counts(tenant, ids, sync);
  if (others.ok()) {
    for (SegmentView& v : views) v.member_count += (*others)[v.definition.id];
    return absl::OkStatus();
  }
  // A peer is down (or restarting): the rows every replica has committed.
  CRM_ASSIGN_OR_RETURN(auto stored, segments_.CountMembers(tenant, ids));
  for (SegmentView& v : views) v.member_count = stored[v.definition.id];
  return absl::OkStatus();
}

void LiveSegments::SyncPeers(const std::string& tenant) {
  if (HasPeers()) peers_->Counts(tenant, {}, /*sync=*/true).IgnoreError();
}

absl::StatusOr<std::map<std::string, uint64_t>> LiveSegments::CountsHere(
    const std::string& tenant, const std::vector<std::string>& segment_ids, bool sync) {
  if (sync) CRM_RETURN_IF_ERROR(Resync(tenant));
  Tenant& t = TenantOf(tenant);
  absl::MutexLock l(&t.mu);
  CRM_RETURN_IF_ERROR(ReadyLocked(tenant, t));
  std::map<std::string, uint64_t> out;
  for (const std::string& id : segment_ids) out[id] = t.members.Count(id);
  return out;
}

absl::Status LiveSegments::Resync(const std::string& tenant) {
  Tenant& t = TenantOf(tenant);
  absl::MutexLock l(&t.mu);
  if (!t.loaded) return ReadyLocked(tenant, t);  // read now: nothing older to compare
  CRM_ASSIGN_OR_RETURN(domain::SegmentationSettings settings, segments_.Settings(tenant));
  CRM_ASSIGN_OR_RETURN(std::vector<domain::SegmentDefinition> defs,
                       segments_.List(tenant, "", kAllSegments));
  std::map<std::string, int64_t> held;
  for (const domain::SegmentDefinition& d : t.defs) held[d.id] = d.version;
  std::set<std::string> changed;
  for (const domain::SegmentDefinition& d : defs) {
    auto it = held.find(d.id);
    if (it == held.end() || it->second != d.version) changed.insert(d.id);
    if (it != held.end()) held.erase(it);
  }
  for (const auto& [deleted, _] : held) t.members.Drop(deleted);  // their rows went with them
  const bool settings_changed =
      settings.version != t.settings.version ||
      settings.behaviour_retention_days != t.settings.behaviour_retention_days;
  t.defs = std::move(defs);
  t.compiled = CompileAll(t.defs);
  t.settings = settings;
  if (!t.customers_loaded) return ReadyLocked(tenant, t);  // evaluates everyone if any segment
  CRM_ASSIGN_OR_RETURN(std::optional<domain::ClvModel> model, models_.GetClvModel(tenant));
  const std::optional<domain::ClvModel>& mine = t.context.model;
  const bool model_changed =
      model.has_value() != mine.has_value() || (model && model->fitted_at != mine->fitted_at);
  if (settings_changed || model_changed) {
    CRM_RETURN_IF_ERROR(RebuildContextLocked(tenant, t));
    return ReevaluateLocked(tenant, t, EveryoneLocked(t));
  }
  if (changed.empty()) return absl::OkStatus();
  const absl::Time now = clock_.Now();
  const std::set<std::string> only = t.compiled.Affected(changed);
  Outcome outcome = EvaluateLocked(t, t.compiled, EveryoneLocked(t), now, &only);
  CRM_RETURN_IF_ERROR(segments_.ApplyMemberships(tenant, outcome.changes, now));
  CommitLocked(t, outcome);
  return absl::OkStatus();
}

int64_t LiveSegments::ForgetBehaviourBefore(const std::string& tenant, absl::Time cutoff) {
  Tenant& t = TenantOf(tenant);
  absl::MutexLock l(&t.mu);
  int64_t dropped = 0;
  for (domain::LiveCustomer& c : t.customers) {
    const size_t before = c.events.size();
    c.events.erase(std::remove_if(c.events.begin(), c.events.end(),
                                  [&](const domain::SegmentEvent& e) { return e.time < cutoff; }),
                   c.events.end());
    dropped += static_cast<int64_t>(before - c.events.size());
  }
  return dropped;
}

absl::StatusOr<MemberPage> LiveSegments::Members(const std::string& tenant, const std::string& id,
                                                 const std::string& after, int limit) {
  CRM_ASSIGN_OR_RETURN(SegmentView view, Get(tenant, id));
  MemberPage page;
  page.member_count = view.member_count;
  CRM_ASSIGN_OR_RETURN(page.members, segments_.Members(tenant, id, after, limit + 1));
  if (static_cast<int>(page.members.size()) > limit) {
    page.members.resize(limit);
    page.next_after = page.members.back().customer_id;
  }
  return page;
}

absl::StatusOr<std::vector<CustomerSegment>> LiveSegments::SegmentsOf(
    const std::string& tenant, const std::string& customer_id) {
  CRM_ASSIGN_OR_RETURN(std::vector<CustomerSegment> out, segments_.SegmentsOf(tenant, customer_id));
  if (!out.empty()) return out;
  CRM_ASSIGN_OR_RETURN(bool known, facts_.KnowsCustomer(tenant, customer_id));
  if (!known) {
    return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
  }
  return out;
}

absl::Status LiveSegments::Touch(const std::string& tenant,
                                 const std::vector<std::string>& customer_ids) {
  if (customer_ids.empty()) return absl::OkStatus();
  Tenant& t = TenantOf(tenant);
  absl::MutexLock l(&t.mu);
  const bool fresh = !t.customers_loaded;
  CRM_RETURN_IF_ERROR(ReadyLocked(tenant, t));
  // No segment: nothing to keep. Just loaded: already read what changed.
  if (!t.customers_loaded || fresh) return absl::OkStatus();
  CRM_ASSIGN_OR_RETURN(std::vector<domain::LiveCustomer> rows, CustomersOf(tenant, customer_ids));
  std::set<uint32_t> which;
  for (const std::string& id : customer_ids) {
    if (std::optional<uint32_t> i = t.index.Find(id)) {
      which.insert(*i);
      t.present[*i] = false;  // unless it comes back below
      t.customers[*i].purchases.clear();
      t.customers[*i].events.clear();
      t.customers[*i].consents.clear();
      t.customers[*i].profile.clear();
    }
  }
  for (domain::LiveCustomer& c : rows) {
    const uint32_t i = t.index.Intern(c.customer_id);
    if (i >= t.customers.size()) {
      t.customers.resize(i + 1);
      t.present.resize(i + 1, false);
    }
    t.customers[i] = std::move(c);
    t.present[i] = true;
    which.insert(i);
  }
  if (t.context.currency_code.empty()) {
    // The tenant's first purchases: the reporting currency is known now.
    bool purchases = false;
    for (uint32_t i : which) purchases = purchases || !t.customers[i].purchases.empty();
    if (purchases) {
      CRM_RETURN_IF_ERROR(RebuildContextLocked(tenant, t));
      for (uint32_t i = 0; i < t.customers.size(); ++i) {
        if (!t.customers[i].purchases.empty()) which.insert(i);
      }
    }
  }
  return ReevaluateLocked(tenant, t, std::vector<uint32_t>(which.begin(), which.end()));
}

absl::StatusOr<domain::SegmentationSettings> LiveSegments::GetSettings(const std::string& tenant) {
  return segments_.Settings(tenant);
}

absl::StatusOr<domain::SegmentationSettings> LiveSegments::UpdateSettingsHere(
    const outbox::WriteMeta& actor, const domain::SettingsPatch& patch,
    const std::string& if_match) {
  absl::TimeZone zone;
  if (patch.time_zone && !common::LoadZone(*patch.time_zone, &zone)) {
    return common::InvalidField("settings.time_zone",
                                "is not an IANA time zone name (e.g. Europe/Zurich)");
  }
  const absl::Time now = clock_.Now();
  Tenant& t = TenantOf(actor.tenant_id);
  absl::MutexLock l(&t.mu);
  CRM_RETURN_IF_ERROR(ReadyLocked(actor.tenant_id, t));
  Outcome outcome;
  bool changed = false;
  const domain::SegmentationSettings before = t.settings;
  const domain::FeatureContext context_before = t.context;
  std::optional<domain::FeatureContext> next_context;  // under the new settings
  absl::StatusOr<domain::SegmentationSettings> written =
      segments_.Run<domain::SegmentationSettings>(
          actor, "settings", [&](SegmentTx& tx) -> absl::StatusOr<domain::SegmentationSettings> {
            CRM_ASSIGN_OR_RETURN(domain::SegmentationSettings s, tx.LoadSettings());
            CRM_RETURN_IF_ERROR(common::CheckEtag("settings", domain::EtagOf(s), if_match));
            if (!domain::ApplyPatch(s, patch, now)) return s;  // nothing to change
            if (t.customers_loaded) {
              // Everyone once under the new settings (and the context of a
              // new time zone), published with them.
              t.settings = s;
              absl::Status rebuilt = RebuildContextLocked(actor.tenant_id, t);
              if (rebuilt.ok()) {
                outcome = EvaluateLocked(t, t.compiled, EveryoneLocked(t), now);
                next_context = t.context;
              }
              t.settings = before;
              t.context = context_before;
              CRM_RETURN_IF_ERROR(rebuilt);
              CRM_RETURN_IF_ERROR(tx.ApplyMemberships(outcome.changes, now));
            }
            tx.SaveSettings(s);
            tx.EmitSettings(s);
            changed = true;
            return s;
          });
  if (!written.ok()) return written;
  if (changed) {
    t.settings = *written;
    if (next_context) t.context = *std::move(next_context);
    CommitLocked(t, outcome);
  }
  return written;
}

absl::Status LiveSegments::ProductsChanged(const std::string& tenant,
                                           const std::vector<std::string>& skus) {
  if (skus.empty()) return absl::OkStatus();
  Tenant& t = TenantOf(tenant);
  absl::MutexLock l(&t.mu);
  const bool fresh = !t.customers_loaded;
  CRM_RETURN_IF_ERROR(ReadyLocked(tenant, t));
  if (!t.customers_loaded || fresh) return absl::OkStatus();
  CRM_ASSIGN_OR_RETURN(t.categories, facts_.ProductCategories(tenant));
  const std::set<std::string> changed(skus.begin(), skus.end());
  std::vector<uint32_t> which;
  for (uint32_t i = 0; i < t.customers.size(); ++i) {
    if (!t.present[i]) continue;
    bool bought = false;
    for (const domain::LivePurchase& p : t.customers[i].purchases) {
      for (const std::string& sku : p.skus) bought = bought || changed.count(sku) > 0;
    }
    if (bought) which.push_back(i);
  }
  return ReevaluateLocked(tenant, t, which);
}

absl::Status LiveSegments::Refresh(const std::string& tenant) {
  Tenant& t = TenantOf(tenant);
  absl::MutexLock l(&t.mu);
  if (!t.customers_loaded) return absl::OkStatus();
  CRM_RETURN_IF_ERROR(RebuildContextLocked(tenant, t));
  return ReevaluateLocked(tenant, t, EveryoneLocked(t));
}

absl::Status LiveSegments::RebuildContextLocked(const std::string& tenant, Tenant& t,
                                                const std::vector<domain::LiveCustomer>* others) {
  CRM_ASSIGN_OR_RETURN(std::optional<domain::ClvModel> model, models_.GetClvModel(tenant));
  const absl::Time now = clock_.Now();
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!common::LoadZone(t.settings.time_zone, &zone)) zone = absl::UTCTimeZone();
  if (!ownership_.all() && others != nullptr) {
    t.context = domain::FeatureContextOf(t.customers, *others, std::move(model), now, zone);
  } else if (!ownership_.all()) {
    // The tenant's reporting currency and RFM breakpoints are over every
    // customer, not this replica's share: read them all (purchases only).
    CRM_ASSIGN_OR_RETURN(std::vector<domain::LiveCustomer> everyone,
                         segments_.Customers(tenant, std::nullopt));
    t.context = domain::FeatureContextOf(everyone, std::move(model), now, zone);
  } else {
    t.context = domain::FeatureContextOf(t.customers, std::move(model), now, zone);
  }
  t.context.categories = &t.categories;
  t.context.behaviour_reach = domain::BehaviourReach(t.settings);
  t.context_time = now;
  return absl::OkStatus();
}

absl::StatusOr<int> LiveSegments::Tick() {
  std::vector<std::pair<std::string, Tenant*>> all;
  {
    absl::MutexLock l(&mu_);
    for (auto& [id, t] : tenants_) all.emplace_back(id, t.get());
  }
  int evaluated = 0;
  absl::Status first;
  for (auto& [id, t] : all) {
    const absl::Time now = clock_.Now();
    bool refresh = false;
    {
      absl::MutexLock l(&t->mu);
      if (!t->customers_loaded) continue;
      refresh = now - t->context_time >= refresh_every_;
      if (!refresh) {
        std::vector<uint32_t> due = t->timers.PopDue(now);
        if (due.empty()) continue;
        evaluated += static_cast<int>(due.size());
        absl::Status s = ReevaluateLocked(id, *t, due);
        if (!s.ok() && first.ok()) first = s;
        continue;
      }
    }
    absl::Status s = Refresh(id);
    if (!s.ok() && first.ok()) first = s;
  }
  if (!first.ok()) return first;
  return evaluated;
}

absl::Status LiveSegments::LoadAll() {
  CRM_ASSIGN_OR_RETURN(std::vector<std::string> tenants, segments_.TenantsWithSegments());
  for (const std::string& tenant : tenants) {
    Tenant& t = TenantOf(tenant);
    absl::MutexLock l(&t.mu);
    CRM_RETURN_IF_ERROR(ReadyLocked(tenant, t));
  }
  return absl::OkStatus();
}

LiveStats LiveSegments::Stats() {
  std::vector<Tenant*> all;
  LiveStats out;
  {
    absl::MutexLock l(&mu_);
    for (auto& [id, t] : tenants_) all.push_back(t.get());
    out.last_rebuild = last_rebuild_;
  }
  for (Tenant* t : all) {
    absl::MutexLock l(&t->mu);
    if (!t->customers_loaded) continue;
    ++out.tenants;
    out.segments += t->defs.size();
    out.unreadable_segments += t->compiled.unreadable;
    out.memory_bytes += t->index.MemoryBytes() + t->members.MemoryBytes() +
                        t->timers.pending() * 48 +
                        t->customers.capacity() * sizeof(domain::LiveCustomer);
    for (uint32_t i = 0; i < t->customers.size(); ++i) {
      if (t->present[i]) ++out.customers;
      out.memory_bytes += t->customers[i].purchases.capacity() * sizeof(domain::LivePurchase) +
                          t->customers[i].events.capacity() * sizeof(domain::SegmentEvent);
    }
  }
  return out;
}

}  // namespace crm::segmentation::app

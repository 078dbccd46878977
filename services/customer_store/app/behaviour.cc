#include "services/customer_store/app/behaviour.h"

#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"

namespace crm::customer_store::app {
namespace {

constexpr int kEmailKind = static_cast<int>(domain::IdentityKind::kEmail);
constexpr int kExternalIdKind = static_cast<int>(domain::IdentityKind::kExternalId);

// An identify event's link (as Identify's): a visitor linked to another
// customer is refused IDENTITY_TAKEN; linked to this one already, nothing
// happens; else it is linked and customer.identified emitted.
std::optional<absl::Status> LinkInBatch(BehaviourTx& tx, const domain::BehaviourEvent& e,
                                        const std::map<std::string, std::string>& linked,
                                        const domain::RefLookup& lookup,
                                        std::map<std::string, std::string>& new_links) {
  std::string owner;
  if (auto l = new_links.find(e.visitor_id); l != new_links.end()) {
    owner = l->second;
  } else if (auto it = linked.find(e.visitor_id); it != linked.end()) {
    auto survivor = lookup.ids.find(it->second);
    owner = survivor == lookup.ids.end() ? it->second : survivor->second;
  }
  if (owner.empty()) {
    if (tx.LinkVisitor(e.customer_id, e.visitor_id)) {
      IdentifyOutcome o{e.customer_id, e.visitor_id, true, tx.CountAnonymousEvents(e.visitor_id)};
      tx.EmitIdentified(o);
      new_links[e.visitor_id] = e.customer_id;
      return std::nullopt;
    }
    // Linked by a concurrent write meanwhile: to whom (through merges)?
    for (const auto& [visitor, customer] : tx.VisitorOwners({e.visitor_id})) {
      const domain::RefLookup l = tx.LookupRefs({customer}, {});
      auto survivor = l.ids.find(customer);
      owner = survivor == l.ids.end() ? customer : survivor->second;
    }
  }
  if (owner == e.customer_id) return std::nullopt;
  return common::WithField(
      common::WithReason(absl::AlreadyExistsError("this visitor_id is linked to another customer; "
                                                  "merge the two customers instead"),
                         "IDENTITY_TAKEN"),
      "visitor_id");
}

TrackResult Refused(int index, const absl::Status& s) {
  TrackResult r;
  r.index = index;
  r.reason = common::ReasonOf(s);
  if (r.reason.empty()) r.reason = "INVALID_FIELD";
  r.field = common::FieldOf(s);
  r.message = std::string(s.message());
  return r;
}

}  // namespace

absl::StatusOr<TrackOutcome> BehaviourTracker::Track(
    const Actor& actor, const std::vector<domain::BehaviourInput>& events) {
  if (events.empty() || static_cast<int>(events.size()) > domain::kMaxTrackBatch) {
    return common::InvalidField(
        "events", absl::StrCat("a batch holds 1..", domain::kMaxTrackBatch, " events"));
  }
  // Validation and ids outside the write: a retried transaction sees the
  // same events with the same ids.
  const absl::Time now = clock_.Now();
  std::vector<absl::StatusOr<domain::BehaviourEvent>> checked;
  checked.reserve(events.size());
  for (const domain::BehaviourInput& in : events) {
    absl::StatusOr<domain::BehaviourEvent> e = domain::ValidateBehaviour(in, now);
    if (e.ok()) e->id = ids_.NewId();
    checked.push_back(std::move(e));
  }

  std::set<std::string> touched;  // customers whose view changes
  absl::StatusOr<TrackOutcome> out = repository_.Run<TrackOutcome>(
      actor, "", [&](BehaviourTx& tx) -> absl::StatusOr<TrackOutcome> {
        touched.clear();
        // Every reference of the batch in one lookup.
        std::vector<std::string> ids, visitors;
        std::vector<domain::IdentityKey> keys;
        for (const auto& e : checked) {
          if (!e.ok()) continue;
          if (e->subject == domain::SubjectKind::kCustomerId) ids.push_back(e->subject_key);
          if (e->subject == domain::SubjectKind::kEmail) {
            keys.emplace_back(kEmailKind, "", e->subject_key);
          }
          if (e->subject == domain::SubjectKind::kExternalId) {
            keys.emplace_back(kExternalIdKind, e->subject_source, e->subject_key);
          }
          if (e->subject == domain::SubjectKind::kVisitor) visitors.push_back(e->visitor_id);
        }
        std::map<std::string, std::string> linked;
        if (!visitors.empty()) {
          linked = tx.VisitorOwners(visitors);
          // A visitor linked to a customer merged away counts for the survivor.
          for (const auto& [visitor, owner] : linked) ids.push_back(owner);
        }
        domain::RefLookup lookup;
        if (!ids.empty() || !keys.empty()) lookup = tx.LookupRefs(ids, keys);

        // The customers the events resolve to may not be erased before the
        // events are stored: locked (one statement), and one erased since
        // the lookup counts as absent.
        std::set<std::string> resolved;
        for (const auto& [id, now_id] : lookup.ids) resolved.insert(now_id);
        for (const auto& [key, owner] : lookup.owners) resolved.insert(owner);
        const std::set<std::string> present =
            resolved.empty() ? resolved : tx.LockCustomers(resolved);
        auto gone = [&](const std::string& id) { return present.count(id) == 0; };

        // Links made by identify events of this batch: visitor -> customer.
        std::map<std::string, std::string> new_links;
        TrackOutcome o;
        std::vector<domain::BehaviourEvent> accepted;
        accepted.reserve(checked.size());
        for (size_t i = 0; i < checked.size(); ++i) {
          const int index = static_cast<int>(i);
          if (!checked[i].ok()) {
            o.results.push_back(Refused(index, checked[i].status()));
            continue;
          }
          domain::BehaviourEvent e = *checked[i];
          std::optional<absl::Status> refusal;
          switch (e.subject) {
            case domain::SubjectKind::kCustomerId: {
              auto it = lookup.ids.find(e.subject_key);
              if (it == lookup.ids.end() || gone(it->second)) {
                refusal = common::WithField(
                    common::NotFound("CUSTOMER_NOT_FOUND", "customer_id names no customer"),
                    "customer_id");
              } else {
                e.customer_id = it->second;
              }
              break;
            }
            case domain::SubjectKind::kEmail:
            case domain::SubjectKind::kExternalId: {
              const bool email = e.subject == domain::SubjectKind::kEmail;
              auto it = lookup.owners.find(
                  {email ? kEmailKind : kExternalIdKind, e.subject_source, e.subject_key});
              if (it == lookup.owners.end() || gone(it->second)) {
                refusal =
                    common::WithField(common::NotFound("CUSTOMER_NOT_RESOLVED",
                                                       email ? "no customer has this email"
                                                             : "no customer has this external id"),
                                      email ? "email" : "external_id");
              } else {
                e.customer_id = it->second;
              }
              break;
            }
            case domain::SubjectKind::kVisitor: {
              if (auto l = new_links.find(e.visitor_id); l != new_links.end()) {
                e.customer_id = l->second;
                break;
              }
              auto it = linked.find(e.visitor_id);
              if (it != linked.end()) {
                auto survivor = lookup.ids.find(it->second);
                if (survivor != lookup.ids.end() && !gone(survivor->second)) {
                  e.customer_id = survivor->second;
                }
              }
              break;
            }
          }
          if (!refusal && e.type == domain::kIdentifyType) {
            refusal = LinkInBatch(tx, e, linked, lookup, new_links);
          }
          if (refusal) {
            o.results.push_back(Refused(index, *refusal));
            continue;
          }
          TrackResult r;
          r.index = index;
          r.accepted = true;
          r.customer_id = e.customer_id;
          if (!e.customer_id.empty()) touched.insert(e.customer_id);
          if (e.type != domain::kIdentifyType) {  // an identify event is a link, not stored
            r.event_id = e.id;
            accepted.push_back(std::move(e));
          }
          o.results.push_back(std::move(r));
        }
        o.refused = 0;
        for (const TrackResult& r : o.results) o.refused += r.accepted ? 0 : 1;
        o.accepted = static_cast<int>(o.results.size()) - o.refused;
        if (!accepted.empty()) {
          tx.AppendEvents(accepted);
          tx.EmitEvents(accepted);
        }
        return o;
      });
  if (out.ok() && !touched.empty()) {
    cache_.InvalidateMany(actor.tenant_id,
                          std::vector<std::string>(touched.begin(), touched.end()));
  }
  return out;
}

absl::StatusOr<IdentifyOutcome> BehaviourTracker::Identify(const Actor& actor,
                                                           const std::string& customer_id,
                                                           const std::string& visitor_id) {
  if (!common::IsUuid(customer_id)) {
    return common::InvalidField("customer_id", "customer_id must be a UUID");
  }
  if (!common::IsVisitorId(visitor_id)) {
    return common::InvalidField("visitor_id",
                                "visitor_id must be 1..128 characters of [A-Za-z0-9._:-]");
  }
  absl::StatusOr<IdentifyOutcome> out = repository_.Run<IdentifyOutcome>(
      actor, customer_id, [&](BehaviourTx& tx) -> absl::StatusOr<IdentifyOutcome> {
        CRM_RETURN_IF_ERROR(tx.LockCustomer(customer_id));
        IdentifyOutcome o;
        o.customer_id = customer_id;
        o.visitor_id = visitor_id;
        if (tx.LinkVisitor(customer_id, visitor_id)) {
          o.linked = true;
          o.earlier_events = tx.CountAnonymousEvents(visitor_id);
          tx.EmitIdentified(o);
          return o;
        }
        // Linked before: to this customer (or one merged into it), or to
        // another one.
        std::map<std::string, std::string> owner = tx.VisitorOwners({visitor_id});
        std::string now_owner;
        if (auto it = owner.find(visitor_id); it != owner.end()) {
          domain::RefLookup l = tx.LookupRefs({it->second}, {});
          auto s = l.ids.find(it->second);
          now_owner = s == l.ids.end() ? it->second : s->second;
        }
        if (now_owner != customer_id) {
          return common::WithField(
              common::WithReason(absl::AlreadyExistsError(
                                     "this visitor_id is linked to another customer; merge the "
                                     "two customers instead"),
                                 "IDENTITY_TAKEN"),
              "visitor_id");
        }
        return o;
      });
  if (out.ok() && out->linked) cache_.Invalidate(actor.tenant_id, customer_id);
  return out;
}

}  // namespace crm::customer_store::app

#include "tests/support/fakes/customer_store/fake_customer_repository.h"

#include <algorithm>
#include <cctype>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "services/customer_store/domain/rules.h"
#include "services/customer_store/domain/timeline.h"

namespace crm::testing {

namespace app = customer_store::app;
namespace domain = customer_store::domain;
using domain::Customer;
using TenantData = FakeCustomerRepository::TenantData;
using IdentityKey = FakeCustomerRepository::IdentityKey;

namespace {

std::string Lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

IdentityKey KeyOf(const domain::Identity& i) {
  return {static_cast<int>(i.kind), i.source, i.value};
}

// The customer's profile with its identities, in stored order (kind,
// position, value), as PostgreSQL loads it.
std::optional<Customer> Compose(const TenantData& t, const std::string& id) {
  auto it = t.customers.find(id);
  if (it == t.customers.end()) return std::nullopt;
  Customer c = it->second;
  c.emails.clear();
  c.phones.clear();
  c.external_ids.clear();
  std::vector<std::tuple<int, int, std::string, std::string>>
      mine;  // kind, position, value, source
  for (const auto& [key, stored] : t.identities) {
    if (stored.owner == id) {
      mine.emplace_back(std::get<0>(key), stored.position, std::get<2>(key), std::get<1>(key));
    }
  }
  std::sort(mine.begin(), mine.end());
  for (const auto& [kind, position, value, source] : mine) {
    if (kind == static_cast<int>(domain::IdentityKind::kEmail)) {
      c.emails.push_back(value);
    } else if (kind == static_cast<int>(domain::IdentityKind::kPhone)) {
      c.phones.push_back(value);
    } else {
      c.external_ids.push_back({source, value});
    }
  }
  return c;
}

absl::Status NotFoundOrMerged(const TenantData& t, const std::string& id) {
  auto m = t.merged_into.find(id);
  if (m != t.merged_into.end()) {
    return common::WithReason(
        absl::NotFoundError(absl::StrCat("customer was merged into customer ", m->second)),
        "CUSTOMER_MERGED");
  }
  return common::NotFound("CUSTOMER_NOT_FOUND", "customer not found");
}

absl::StatusOr<Customer> Load(const TenantData& t, const std::string& id) {
  std::optional<Customer> c = Compose(t, id);
  if (!c) return NotFoundOrMerged(t, id);
  return *std::move(c);
}

// Newest first (ORDER BY recorded_at DESC; later appends first on a tie).
std::vector<domain::Consent> NewestFirst(std::vector<domain::Consent> history) {
  std::reverse(history.begin(), history.end());
  std::stable_sort(history.begin(), history.end(),
                   [](const domain::Consent& a, const domain::Consent& b) {
                     return a.record_time > b.record_time;
                   });
  return history;
}

// Newest first, ties by id descending (ORDER BY occurred_at DESC, id DESC).
std::vector<domain::Interaction> Sorted(const TenantData& t, const std::string& id) {
  std::vector<domain::Interaction> out;
  auto it = t.interactions.find(id);
  if (it != t.interactions.end()) out = it->second;
  std::sort(out.begin(), out.end(), [](const domain::Interaction& a, const domain::Interaction& b) {
    if (a.occur_time != b.occur_time) return a.occur_time > b.occur_time;
    return a.id > b.id;
  });
  return out;
}

std::vector<domain::Identity> StoredIdentities(const TenantData& t, const std::string& id) {
  std::vector<domain::Identity> out;
  std::optional<Customer> c = Compose(t, id);
  if (!c) return out;
  for (domain::Identity i : domain::IdentitiesOf(*c)) {
    i.create_time = t.identities.at(KeyOf(i)).created;
    out.push_back(std::move(i));
  }
  return out;
}

// The identities of `c` owned by it (the others of its own dropped); another
// owner's is IDENTITY_TAKEN.
absl::Status SaveIdentitiesOf(TenantData& t, const Customer& c, absl::Time now) {
  std::map<IdentityKey, int> wanted;
  std::map<int, int> position;
  for (const auto& i : domain::IdentitiesOf(c)) {
    auto it = t.identities.find(KeyOf(i));
    if (it != t.identities.end() && it->second.owner != c.id) {
      return common::WithField(
          common::WithReason(
              absl::AlreadyExistsError("this identity already belongs to another customer"),
              "IDENTITY_TAKEN"),
          i.kind == domain::IdentityKind::kEmail   ? "emails"
          : i.kind == domain::IdentityKind::kPhone ? "phones"
                                                   : "external_ids");
    }
    wanted[KeyOf(i)] = position[static_cast<int>(i.kind)]++;
  }
  for (auto it = t.identities.begin(); it != t.identities.end();) {
    if (it->second.owner == c.id && !wanted.count(it->first)) {
      it = t.identities.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [key, pos] : wanted) {
    auto [it, added] =
        t.identities.emplace(key, FakeCustomerRepository::StoredIdentity{c.id, now, pos});
    if (!added) it->second.position = pos;
  }
  return absl::OkStatus();
}

}  // namespace

// CustomerTx over the copy of the state a write works on.
class FakeCustomerRepository::FakeTx final : public app::CustomerTx {
 public:
  FakeTx(FakeCustomerRepository& repo, State& st, const std::string& tenant)
      : repo_(repo), st_(st), t_(st.tenants[tenant]) {}
  bool wrote() const { return wrote_; }

  absl::StatusOr<Customer> LoadCustomer(const std::string& id) override {
    ++repo_.loads_for_update_;
    return Load(t_, id);
  }
  absl::StatusOr<Customer> ReadCustomer(const std::string& id) override { return Load(t_, id); }
  absl::Status LockCustomer(const std::string& id) override {
    if (t_.customers.count(id)) return absl::OkStatus();
    return NotFoundOrMerged(t_, id);
  }
  absl::StatusOr<std::vector<Consent>> ConsentHistory(const std::string& id) override {
    return NewestFirst(t_.consents[id]);
  }
  domain::RefLookup LookupRefs(const std::vector<std::string>& ids,
                               const std::vector<domain::IdentityKey>& keys) override {
    domain::RefLookup lookup;
    for (const auto& id : ids) {
      std::string at = id;
      for (int depth = 0; depth < 32 && t_.merged_into.count(at); ++depth) {
        at = t_.merged_into.at(at);
      }
      if (t_.customers.count(at)) lookup.ids[id] = at;
    }
    for (const auto& k : keys) {
      auto it = t_.identities.find(k);
      if (it != t_.identities.end()) lookup.owners[k] = it->second.owner;
    }
    return lookup;
  }
  void SaveProfile(const Customer& c, bool) override {
    wrote_ = true;
    t_.customers[c.id] = c;
  }
  absl::Status SaveIdentities(const Customer& c, const Customer*) override {
    wrote_ = true;
    return SaveIdentitiesOf(t_, c, c.update_time);
  }
  absl::Status InsertNewCustomers(const std::vector<domain::NewCustomer>& creates) override {
    for (const domain::NewCustomer& n : creates) {
      for (const auto& k : domain::IdentityKeysOf(n.customer)) {
        if (t_.identities.count(k)) {
          return common::WithReason(absl::AbortedError("identities changed; retry"),
                                    "IMPORT_BATCH_CONFLICT");
        }
      }
      SaveProfile(n.customer, true);
      CRM_RETURN_IF_ERROR(SaveIdentities(n.customer, nullptr));
      ++st_.created;
    }
    return absl::OkStatus();
  }
  void AppendConsent(const std::string& id, const Consent& c) override {
    wrote_ = true;
    t_.consents[id].push_back(c);
  }
  void AppendInteraction(const std::string& id, const Interaction& i) override {
    wrote_ = true;
    t_.interactions[id].push_back(i);
  }
  // Consents are named by their index in the survivor's history.
  app::MergeMoves MoveToSurvivor(const std::string& survivor_id, const std::string& source_id,
                                 const std::vector<Consent>& resolutions) override {
    wrote_ = true;
    app::MergeMoves moves;
    for (auto& [key, stored] : t_.identities) {
      if (stored.owner == source_id) {
        stored.owner = survivor_id;
        stored.position += 1000;
      }
    }
    for (Interaction& i : t_.interactions[source_id]) {
      moves.interactions.push_back(i.id);
      t_.interactions[survivor_id].push_back(std::move(i));
    }
    t_.interactions.erase(source_id);
    std::vector<Consent>& into = t_.consents[survivor_id];
    for (Consent& c : t_.consents[source_id]) {
      moves.consents.push_back(absl::StrCat(into.size()));
      into.push_back(std::move(c));
    }
    t_.consents.erase(source_id);
    for (const Consent& c : resolutions) {
      moves.added_consents.push_back(absl::StrCat(into.size()));
      into.push_back(c);
    }
    return moves;
  }
  void DeleteMergedSource(const std::string& source_id) override {
    wrote_ = true;
    t_.customers.erase(source_id);
  }
  std::string AppendMerge(const app::MergeRecord& record, const app::MergeMoves& moves) override {
    wrote_ = true;
    std::string id = absl::StrFormat("00000000-0000-4000-9000-%012x", st_.next_merge++);
    app::LoggedMerge& m = t_.merges[id];
    m.record = record;
    m.record.id = id;
    m.moves = moves;
    t_.merged_into[record.source_id] = record.survivor_id;
    return id;
  }
  absl::StatusOr<app::LoggedMerge> LoadMerge(const std::string& survivor_id,
                                             const std::string& merge_id) override {
    auto it = t_.merges.find(merge_id);
    if (it == t_.merges.end() || it->second.record.survivor_id != survivor_id) {
      return common::NotFound("NOT_MERGED", "no merge with this id for this customer");
    }
    return it->second;
  }
  void MoveBack(const app::LoggedMerge& merge) override {
    wrote_ = true;
    const app::MergeRecord& rec = merge.record;
    for (const auto& i : domain::IdentitiesOf(rec.source_snapshot)) {
      auto it = t_.identities.find(KeyOf(i));
      if (it != t_.identities.end() && it->second.owner == rec.survivor_id) {
        it->second.owner = rec.source_id;
      }
    }
    std::vector<Interaction>& kept = t_.interactions[rec.survivor_id];
    for (auto it = kept.begin(); it != kept.end();) {
      if (std::find(merge.moves.interactions.begin(), merge.moves.interactions.end(), it->id) !=
          merge.moves.interactions.end()) {
        t_.interactions[rec.source_id].push_back(*it);
        it = kept.erase(it);
      } else {
        ++it;
      }
    }
    std::vector<Consent>& history = t_.consents[rec.survivor_id];
    std::set<size_t> gone;
    for (const std::string& n : merge.moves.consents) {
      size_t at = 0;
      if (absl::SimpleAtoi(n, &at) && at < history.size()) {
        t_.consents[rec.source_id].push_back(history[at]);
        gone.insert(at);
      }
    }
    for (const std::string& n : merge.moves.added_consents) {
      size_t at = 0;
      if (absl::SimpleAtoi(n, &at)) gone.insert(at);
    }
    for (auto it = gone.rbegin(); it != gone.rend(); ++it) {
      if (*it < history.size()) history.erase(history.begin() + static_cast<long>(*it));
    }
  }
  void MarkUnmerged(const std::string& merge_id) override {
    wrote_ = true;
    app::LoggedMerge& m = t_.merges.at(merge_id);
    m.undone = true;
    t_.merged_into.erase(m.record.source_id);
  }
  app::Erasure EraseCustomer(const std::string& id) override {
    wrote_ = true;
    app::Erasure e;
    e.counts.interactions_erased = static_cast<int64_t>(t_.interactions[id].size());
    e.erased_ids = {id};
    for (size_t n = 0; n < e.erased_ids.size() && n < 32; ++n) {
      for (const auto& [source, survivor] : t_.merged_into) {
        if (survivor == e.erased_ids[n]) e.erased_ids.push_back(source);
      }
    }
    for (auto i = t_.identities.begin(); i != t_.identities.end();) {
      if (i->second.owner == id) {
        ++e.counts.identities_erased;
        i = t_.identities.erase(i);
      } else {
        ++i;
      }
    }
    for (auto m = t_.merges.begin(); m != t_.merges.end();) {
      const app::MergeRecord& r = m->second.record;
      if (r.survivor_id == id || r.source_id == id) {
        if (!m->second.undone) t_.merged_into.erase(r.source_id);
        m = t_.merges.erase(m);
      } else {
        ++m;
      }
    }
    t_.interactions.erase(id);
    t_.customers.erase(id);  // consents stay as proof of consent
    return e;
  }
  // The fake keeps its answers as values: a replay after an erasure still
  // answers the first call's answer (PostgreSQL answers not found).
  void ForgetStoredAnswers(const std::vector<std::string>&) override {}

  void EmitCustomer(const char* type, const Customer& c) override { Emit(type, c.id); }
  void EmitErased(const app::Erasure& e) override { Emit("customer.erased", e.erased_ids.front()); }
  void EmitConsent(const std::string& id, const Consent&) override { Emit("consent.recorded", id); }
  void EmitInteraction(const std::string& id, const Interaction&) override {
    Emit("interaction.created", id);
  }
  void EmitMerged(const std::string& survivor_id, const std::string&, const std::string&) override {
    Emit("customer.merged", survivor_id);
  }
  void EmitUnmerged(const std::string& survivor_id, const std::string&,
                    const std::string&) override {
    Emit("customer.unmerged", survivor_id);
  }

 private:
  void Emit(const char* type, const std::string& id) {
    st_.events.push_back(absl::StrCat(type, ":", id));
  }

  FakeCustomerRepository& repo_;
  State& st_;
  TenantData& t_;
  bool wrote_ = false;
};

absl::Status FakeCustomerRepository::Enter() const {
  ++calls_;
  absl::MutexLock lock(&mu_);
  if (fail_) return *fail_;
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<T> FakeCustomerRepository::Run(const outbox::WriteMeta& m,
                                              absl::FunctionRef<absl::StatusOr<T>(Tx&)> work) {
  CRM_RETURN_IF_ERROR(Enter());
  return uow_.Write<T>(m, [&](State& st) -> absl::StatusOr<T> {
    FakeTx tx(*this, st, m.tenant_id);
    absl::StatusOr<T> out = work(tx);
    if (out.ok() && tx.wrote()) ++st.writes;
    return out;
  });
}

absl::StatusOr<app::CustomerAnswer> FakeCustomerRepository::Write(
    const outbox::WriteMeta& m, const std::string&,
    absl::FunctionRef<absl::StatusOr<app::CustomerAnswer>(Tx&)> work) {
  return Run<app::CustomerAnswer>(m, work);
}
absl::StatusOr<domain::ErasureResult> FakeCustomerRepository::Write(
    const outbox::WriteMeta& m, const std::string&,
    absl::FunctionRef<absl::StatusOr<domain::ErasureResult>(Tx&)> work) {
  return Run<domain::ErasureResult>(m, work);
}
absl::StatusOr<domain::Consent> FakeCustomerRepository::Write(
    const outbox::WriteMeta& m, const std::string&,
    absl::FunctionRef<absl::StatusOr<domain::Consent>(Tx&)> work) {
  return Run<domain::Consent>(m, work);
}
absl::StatusOr<domain::Interaction> FakeCustomerRepository::Write(
    const outbox::WriteMeta& m, const std::string&,
    absl::FunctionRef<absl::StatusOr<domain::Interaction>(Tx&)> work) {
  return Run<domain::Interaction>(m, work);
}
absl::StatusOr<app::MergeOutcome> FakeCustomerRepository::Write(
    const outbox::WriteMeta& m, const std::string&,
    absl::FunctionRef<absl::StatusOr<app::MergeOutcome>(Tx&)> work) {
  ++merge_calls_;
  return Run<app::MergeOutcome>(m, work);
}
absl::StatusOr<app::UnmergeOutcome> FakeCustomerRepository::Write(
    const outbox::WriteMeta& m, const std::string&,
    absl::FunctionRef<absl::StatusOr<app::UnmergeOutcome>(Tx&)> work) {
  ++unmerge_calls_;
  return Run<app::UnmergeOutcome>(m, work);
}
absl::StatusOr<app::ResolveOutcome> FakeCustomerRepository::Write(
    const outbox::WriteMeta& m, const std::string&,
    absl::FunctionRef<absl::StatusOr<app::ResolveOutcome>(Tx&)> work) {
  // A replay answers the stored outcome, marked as replayed (as the
  // PostgreSQL adapter's answer codec does).
  const bool used = uow_.KeyUsed(m);
  absl::StatusOr<app::ResolveOutcome> out = Run<app::ResolveOutcome>(m, work);
  if (out.ok() && used) out->replayed = true;
  return out;
}

absl::StatusOr<std::optional<app::CustomerAnswer>> FakeCustomerRepository::FindAnswer(
    const Actor& actor) {
  CRM_RETURN_IF_ERROR(Enter());
  return uow_.PeekAnswer<app::CustomerAnswer>(actor);
}

absl::StatusOr<Customer> FakeCustomerRepository::Get(const std::string& tenant,
                                                     const std::string& id) {
  CRM_RETURN_IF_ERROR(Enter());
  return uow_.WithMutable([&](State& st) { return Load(st.tenants[tenant], id); });
}

absl::StatusOr<app::Page<Customer>> FakeCustomerRepository::List(const std::string& tenant,
                                                                 const app::ListQuery& q) {
  CRM_RETURN_IF_ERROR(Enter());
  return uow_.WithMutable([&](State& st) {
    app::Page<Customer> page;
    const TenantData& t = st.tenants[tenant];
    for (auto it = t.customers.upper_bound(q.after_id); it != t.customers.end(); ++it) {
      const Customer& c = it->second;
      if (q.stage != domain::LifecycleStage::kUnspecified && c.lifecycle_stage != q.stage) continue;
      if (!q.owner.empty() && c.owner != q.owner) continue;
      if (static_cast<int>(page.items.size()) == q.limit) {
        page.next_cursor = page.items.back().id;
        break;
      }
      page.items.push_back(*Compose(t, c.id));
    }
    return page;
  });
}

absl::StatusOr<app::Page<Customer>> FakeCustomerRepository::Search(const std::string& tenant,
                                                                   const app::SearchQuery& q) {
  CRM_RETURN_IF_ERROR(Enter());
  return uow_.WithMutable([&](State& st) {
    app::Page<Customer> page;
    const TenantData& t = st.tenants[tenant];
    for (auto it = t.customers.upper_bound(q.after_id); it != t.customers.end(); ++it) {
      const Customer c = *Compose(t, it->first);
      bool match;
      if (!q.external_id.empty()) {
        domain::ExternalId want{q.external_id_source, q.external_id};
        match =
            std::find(c.external_ids.begin(), c.external_ids.end(), want) != c.external_ids.end();
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
  });
}

absl::StatusOr<std::vector<std::string>> FakeCustomerRepository::FindOwners(
    const std::string& tenant, const std::vector<domain::Identity>& identities) {
  CRM_RETURN_IF_ERROR(Enter());
  return uow_.WithMutable([&](State& st) {
    std::vector<std::string> owners;
    const TenantData& t = st.tenants[tenant];
    for (const auto& i : identities) {
      auto it = t.identities.find(KeyOf(i));
      if (it != t.identities.end() &&
          std::find(owners.begin(), owners.end(), it->second.owner) == owners.end()) {
        owners.push_back(it->second.owner);
      }
    }
    return owners;
  });
}

absl::StatusOr<std::vector<app::CustomerRepository::CustomerRecord>>
FakeCustomerRepository::GetMany(const std::string& tenant, const std::vector<std::string>& ids,
                                bool with_consents) {
  CRM_RETURN_IF_ERROR(Enter());
  return uow_.WithMutable([&](State& st) -> absl::StatusOr<std::vector<CustomerRecord>> {
    TenantData& t = st.tenants[tenant];
    std::vector<CustomerRecord> out;
    for (const std::string& id : ids) {
      if (!t.customers.count(id)) continue;
      CRM_ASSIGN_OR_RETURN(Customer c, Load(t, id));
      out.push_back({std::move(c),
                     with_consents ? NewestFirst(t.consents[id]) : std::vector<domain::Consent>()});
    }
    return out;
  });
}

absl::StatusOr<std::vector<domain::Consent>> FakeCustomerRepository::ConsentHistory(
    const std::string& tenant, const std::string& id) {
  CRM_RETURN_IF_ERROR(Enter());
  return uow_.WithMutable([&](State& st) -> absl::StatusOr<std::vector<domain::Consent>> {
    TenantData& t = st.tenants[tenant];
    if (!t.customers.count(id)) return NotFoundOrMerged(t, id);
    return NewestFirst(t.consents[id]);
  });
}

absl::StatusOr<app::Page<domain::Interaction>> FakeCustomerRepository::Interactions(
    const std::string& tenant, const std::string& id, const app::InteractionQuery& q) {
  CRM_RETURN_IF_ERROR(Enter());
  CRM_ASSIGN_OR_RETURN(domain::TimelineCursor cursor, domain::ParseTimelineCursor(q.before_cursor));
  return uow_.WithMutable([&](State& st) -> absl::StatusOr<app::Page<domain::Interaction>> {
    const TenantData& t = st.tenants[tenant];
    if (!t.customers.count(id)) return NotFoundOrMerged(t, id);
    app::Page<domain::Interaction> page;
    for (const auto& i : Sorted(t, id)) {
      if (q.kind != domain::InteractionKind::kUnspecified && i.kind != q.kind) continue;
      if (!domain::IsBefore(i.occur_time, i.id, cursor)) continue;
      if (static_cast<int>(page.items.size()) == q.limit) {
        page.next_cursor = domain::TimelineCursorOf(page.items.back());
        break;
      }
      page.items.push_back(i);
    }
    return page;
  });
}

absl::StatusOr<std::vector<domain::BehaviourEvent>> FakeCustomerRepository::BehaviourFrom(
    const std::string& tenant, app::BehaviourOwner owner, const std::string& id, absl::Time from,
    bool older, int limit) {
  CRM_RETURN_IF_ERROR(Enter());
  return uow_.WithMutable([&](State& st) {
    ++st.behaviour_reads;
    std::vector<domain::BehaviourEvent> side;
    const auto on_side = [&](const domain::BehaviourEvent& e) {
      return older ? e.occur_time <= from : e.occur_time > from;
    };
    if (owner == app::BehaviourOwner::kCustomer) {
      for (const auto& e : st.tenants[tenant].behaviour[id]) {
        if (on_side(e)) side.push_back(e);
      }
    } else {
      for (const auto& [customer, events] : st.tenants[tenant].behaviour) {
        for (const auto& e : events) {
          if (e.visitor_id == id && on_side(e)) side.push_back(e);
        }
      }
    }
    // Time order (then id), newest first for the older side.
    std::sort(side.begin(), side.end(), [&](const auto& a, const auto& b) {
      return older ? std::tie(a.occur_time, a.id) > std::tie(b.occur_time, b.id)
                   : std::tie(a.occur_time, a.id) < std::tie(b.occur_time, b.id);
    });
    if (static_cast<int>(side.size()) > limit) side.resize(limit);
    return side;
  });
}

void FakeCustomerRepository::PutBehaviour(const std::string& tenant, const std::string& id,
                                          std::vector<domain::BehaviourEvent> events) {
  uow_.WithMutable([&](State& st) {
    auto& stored = st.tenants[tenant].behaviour[id];
    stored.insert(stored.end(), events.begin(), events.end());
  });
}

int FakeCustomerRepository::behaviour_reads() const {
  return uow_.With([](const State& st) { return st.behaviour_reads; });
}

absl::StatusOr<domain::CustomerView> FakeCustomerRepository::LoadView(const std::string& tenant,
                                                                      const std::string& id,
                                                                      int interaction_limit) {
  CRM_RETURN_IF_ERROR(Enter());
  ++load_view_calls_;
  return uow_.WithMutable([&](State& st) -> absl::StatusOr<domain::CustomerView> {
    TenantData& t = st.tenants[tenant];
    CRM_ASSIGN_OR_RETURN(Customer c, Load(t, id));
    domain::CustomerView v;
    v.customer = std::move(c);
    v.identities = StoredIdentities(t, id);
    v.consents = domain::CurrentConsents(t.consents[id]);
    std::vector<domain::Interaction> all = Sorted(t, id);
    v.interaction_count = static_cast<int64_t>(all.size());
    if (static_cast<int>(all.size()) > interaction_limit) all.resize(interaction_limit);
    v.recent_interactions = std::move(all);
    return v;
  });
}

absl::StatusOr<domain::CustomerExport> FakeCustomerRepository::LoadExport(
    const std::string& tenant, const std::string& id) {
  CRM_RETURN_IF_ERROR(Enter());
  return uow_.WithMutable([&](State& st) -> absl::StatusOr<domain::CustomerExport> {
    TenantData& t = st.tenants[tenant];
    CRM_ASSIGN_OR_RETURN(Customer c, Load(t, id));
    domain::CustomerExport e;
    e.customer = std::move(c);
    e.identities = StoredIdentities(t, id);
    e.consent_history = t.consents[id];
    e.interactions = Sorted(t, id);
    return e;
  });
}

absl::StatusOr<domain::RefLookup> FakeCustomerRepository::LookupRefs(
    const std::string& tenant, const std::vector<std::string>& ids,
    const std::vector<domain::IdentityKey>& keys) {
  CRM_RETURN_IF_ERROR(Enter());
  return uow_.WithMutable([&](State& st) {
    FakeTx tx(*this, st, tenant);
    return tx.LookupRefs(ids, keys);
  });
}

void FakeCustomerRepository::Put(const std::string& tenant, const Customer& c,
                                 std::vector<Consent> history) {
  uow_.WithMutable([&](State& st) {
        TenantData& t = st.tenants[tenant];
        t.customers[c.id] = c;
        t.consents[c.id] = std::move(history);
        return SaveIdentitiesOf(t, c, c.create_time);
      })
      .IgnoreError();
}

void FakeCustomerRepository::MarkMerged(const std::string& tenant, const std::string& source,
                                        const std::string& survivor) {
  uow_.WithMutable([&](State& st) {
    TenantData& t = st.tenants[tenant];
    t.customers.erase(source);
    t.merged_into[source] = survivor;
    return 0;
  });
}

void FakeCustomerRepository::Edit(const std::string& tenant, const Customer& c) {
  uow_.WithMutable([&](State& st) {
    Customer& stored = st.tenants[tenant].customers.at(c.id);
    const int64_t version = stored.version;
    stored = c;
    stored.version = version + 1;
    return 0;
  });
}

std::optional<Customer> FakeCustomerRepository::Find(const std::string& tenant,
                                                     const std::string& id) const {
  return uow_.With([&](const State& st) -> std::optional<Customer> {
    auto t = st.tenants.find(tenant);
    if (t == st.tenants.end()) return std::nullopt;
    return Compose(t->second, id);
  });
}

std::vector<domain::Consent> FakeCustomerRepository::History(const std::string& tenant,
                                                             const std::string& id) const {
  return uow_.With([&](const State& st) {
    auto t = st.tenants.find(tenant);
    if (t == st.tenants.end()) return std::vector<Consent>{};
    auto h = t->second.consents.find(id);
    return h == t->second.consents.end() ? std::vector<Consent>{} : h->second;
  });
}

void FakeCustomerRepository::FailWith(std::optional<absl::Status> s) {
  absl::MutexLock lock(&mu_);
  fail_ = std::move(s);
}

int FakeCustomerRepository::calls() const { return calls_; }
int FakeCustomerRepository::writes() const {
  return uow_.With([](const State& st) { return st.writes; });
}
int FakeCustomerRepository::load_view_calls() const { return load_view_calls_; }
int FakeCustomerRepository::loads_for_update() const { return loads_for_update_; }
int FakeCustomerRepository::merge_calls() const { return merge_calls_; }
int FakeCustomerRepository::unmerge_calls() const { return unmerge_calls_; }
int FakeCustomerRepository::customers_created() const {
  return uow_.With([](const State& st) { return st.created; });
}
std::vector<std::string> FakeCustomerRepository::events() const {
  return uow_.With([](const State& st) { return st.events; });
}

}  // namespace crm::testing

// Merge and unmerge against the private PostgreSQL (app role, RLS on):
// PgCustomerRepository::Merge / Unmerge driven by the CustomerMerger use case.
#include "services/customer_store/app/merge.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/clock.h"
#include "services/customer_store/domain/rules.h"
#include "tests/integration/customer_store/cs_env.h"

namespace crm::customer_store::mitest {

using itest::ActorOf;
using itest::CountIn;
using itest::CountOutbox;
using itest::NewCustomer;
using itest::NewTenant;
using itest::UniqueEmail;

// A cache that holds nothing (the merge tests look at the database only).
class NullCache final : public app::ViewCache {
 public:
  Lookup Get(const std::string&, const std::string&) override { return {}; }
  void Put(const std::string&, const std::string&, const std::string&,
           const std::string&) override {}
  void Invalidate(const std::string&, const std::string&) override {}
};

struct MiEnv {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<storage::PgCustomerRepository> repo;
  NullCache cache;
  common::SystemClock clock;
  common::RandomIdGenerator ids;
};

// Fresh customer_store schema once per process, then a pool on the app DSN.
MiEnv& Env() {
  static MiEnv* env = [] {
    absl::Status reset = itest::ResetSchema();
    if (!reset.ok()) throw std::runtime_error("reset customer_store: " + reset.ToString());
    auto* e = new MiEnv;
    auto pool = test_support::MakeAppPool(6, storage::PgCustomerRepository::Queries());
    if (!pool.ok()) throw std::runtime_error("app pool: " + pool.status().ToString());
    e->pool = std::move(pool).value();
    e->repo = std::make_unique<storage::PgCustomerRepository>(*e->pool);
    return e;
  }();
  return *env;
}

namespace {

using domain::Consent;
using domain::ConsentChannel;
using domain::ConsentPurpose;
using domain::ConsentStatus;
using domain::Customer;

storage::PgCustomerRepository& Repo() { return *Env().repo; }

app::CustomerMerger Merger() { return app::CustomerMerger(Repo(), Env().cache, Env().clock); }

Customer Insert(const std::string& tenant, const Customer& c) {
  auto r = itest::Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

Consent MakeConsent(ConsentChannel ch, ConsentPurpose pu, ConsentStatus st, int64_t secs) {
  Consent c;
  c.channel = ch;
  c.purpose = pu;
  c.status = st;
  c.source = "form";
  c.policy_version = "v1";
  c.record_time = absl::FromUnixSeconds(secs);
  return c;
}

void AddConsent(const std::string& tenant, const std::string& id, const Consent& c) {
  auto r = itest::AppendConsent(Repo(), ActorOf(tenant, "RecordConsent"), id, c);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

std::string AddInteraction(const std::string& tenant, const std::string& id,
                           const std::string& summary) {
  domain::Interaction i;
  i.id = common::NewUuid();
  i.kind = domain::InteractionKind::kNote;
  i.channel = "web";
  i.summary = summary;
  i.occur_time = absl::FromUnixSeconds(1650000000);
  auto r = itest::AppendInteraction(Repo(), ActorOf(tenant, "CreateInteraction"), id, i);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return r->id;
}

std::set<std::string> InteractionIds(const std::string& tenant, const std::string& id) {
  app::InteractionQuery q;
  q.limit = 500;
  auto r = Repo().Interactions(tenant, id, q);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  std::set<std::string> out;
  for (const auto& i : r->items) out.insert(i.id);
  return out;
}

using ConsentKey = std::tuple<int, int, int, std::string, int64_t, std::string>;
std::multiset<ConsentKey> Keys(const std::vector<Consent>& v) {
  std::multiset<ConsentKey> out;
  for (const auto& c : v) {
    out.insert({static_cast<int>(c.channel), static_cast<int>(c.purpose),
                static_cast<int>(c.status), c.source, absl::ToUnixMicros(c.record_time),
                c.policy_version});
  }
  return out;
}

std::vector<Consent> History(const std::string& tenant, const std::string& id) {
  auto r = Repo().ConsentHistory(tenant, id);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

ConsentStatus CurrentOf(const std::vector<Consent>& history, ConsentChannel ch, ConsentPurpose pu) {
  for (const auto& c : domain::CurrentConsents(history)) {
    if (c.channel == ch && c.purpose == pu) return c.status;
  }
  return ConsentStatus::kUnspecified;
}

// Two customers with identities, consents and interactions.
struct Pair {
  std::string tenant;
  Customer a;  // survivor
  Customer b;  // source
  std::set<std::string> a_interactions, b_interactions;
  std::vector<Consent> a_history, b_history;
};

Pair MakePair() {
  Pair p;
  p.tenant = NewTenant();
  Customer a = NewCustomer("Ada", {UniqueEmail("a")});
  a.family_name.clear();
  a.phones = {"+41446681800"};
  Customer b = NewCustomer("Other", {UniqueEmail("b1"), UniqueEmail("b2")});
  b.family_name = "Lovelace";
  b.time_zone = "Europe/London";
  b.external_ids = {{"erp", "B-1"}};
  b.attributes = {{"tier", std::string("silver")}};
  p.a = Insert(p.tenant, a);
  p.b = Insert(p.tenant, b);
  AddConsent(p.tenant, p.a.id, MakeConsent(ConsentChannel::kEmail, ConsentPurpose::kMarketing,
                                           ConsentStatus::kOptedIn, 1600000000));
  AddConsent(p.tenant, p.a.id, MakeConsent(ConsentChannel::kSms, ConsentPurpose::kMarketing,
                                           ConsentStatus::kOptedOut, 1600000001));
  AddConsent(p.tenant, p.b.id, MakeConsent(ConsentChannel::kEmail, ConsentPurpose::kMarketing,
                                           ConsentStatus::kOptedOut, 1600000002));
  AddConsent(p.tenant, p.b.id, MakeConsent(ConsentChannel::kSms, ConsentPurpose::kMarketing,
                                           ConsentStatus::kOptedIn, 1600000003));
  AddConsent(p.tenant, p.b.id, MakeConsent(ConsentChannel::kPush, ConsentPurpose::kProfiling,
                                           ConsentStatus::kPending, 1600000004));
  p.a_interactions.insert(AddInteraction(p.tenant, p.a.id, "a-1"));
  p.b_interactions.insert(AddInteraction(p.tenant, p.b.id, "b-1"));
  p.b_interactions.insert(AddInteraction(p.tenant, p.b.id, "b-2"));
  p.a_history = History(p.tenant, p.a.id);
  p.b_history = History(p.tenant, p.b.id);
  REQUIRE(p.a_history.size() == 2);
  REQUIRE(p.b_history.size() == 3);
  return p;
}

TEST_CASE("Merge moves identities, interactions and consent history and deletes the source",
          "[merge]") {
  Pair p = MakePair();
  auto m = Merger().Merge(ActorOf(p.tenant, "MergeCustomers"), p.a.id, p.b.id);
  INFO(m.status().ToString());
  REQUIRE(m.ok());
  CHECK(common::IsUuid(m->merge_id));
  CHECK(m->identities_moved == 3);
  CHECK(m->interactions_moved == 2);
  CHECK(m->consents_moved == 3);
  CHECK(m->resolutions.size() == 3);

  auto a = Repo().Get(p.tenant, p.a.id);
  REQUIRE(a.ok());
  CHECK(a->given_name == "Ada");               // survivor keeps its value
  CHECK(a->family_name == "Lovelace");         // filled from the source
  CHECK(a->time_zone == "Europe/London");
  CHECK(std::get<std::string>(a->attributes.at("tier")) == "silver");
  CHECK(a->version == p.a.version + 1);
  std::set<std::string> emails(a->emails.begin(), a->emails.end());
  CHECK(emails == std::set<std::string>{p.a.emails[0], p.b.emails[0], p.b.emails[1]});
  CHECK(a->phones == p.a.phones);
  CHECK(a->external_ids == std::vector<domain::ExternalId>{{"erp", "B-1"}});
  CHECK(m->survivor.id == p.a.id);
  CHECK(m->survivor.version == a->version);

  auto owners = Repo().FindOwners(
      p.tenant, {{domain::IdentityKind::kEmail, p.b.emails[1], "", absl::InfinitePast()}});
  REQUIRE(owners.ok());
  CHECK(*owners == std::vector<std::string>{p.a.id});

  auto b = Repo().Get(p.tenant, p.b.id);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == absl::StatusCode::kNotFound);
  CHECK(common::ReasonOf(b.status()) == "CUSTOMER_MERGED");
  CHECK(std::string(b.status().message()).find(p.a.id) != std::string::npos);

  std::set<std::string> all = p.a_interactions;
  all.insert(p.b_interactions.begin(), p.b_interactions.end());
  CHECK(InteractionIds(p.tenant, p.a.id) == all);

  std::vector<Consent> h = History(p.tenant, p.a.id);
  CHECK(h.size() == p.a_history.size() + p.b_history.size() + m->resolutions.size());
  CHECK(CurrentOf(h, ConsentChannel::kEmail, ConsentPurpose::kMarketing) == ConsentStatus::kOptedOut);
  CHECK(CurrentOf(h, ConsentChannel::kSms, ConsentPurpose::kMarketing) == ConsentStatus::kOptedOut);
  CHECK(CurrentOf(h, ConsentChannel::kPush, ConsentPurpose::kProfiling) == ConsentStatus::kPending);
  CHECK(CountIn(p.tenant, "SELECT count(*) FROM customer_store.consents WHERE customer_id = '" +
                              p.b.id + "'") == 0);
  CHECK(CountIn(p.tenant, "SELECT count(*) FROM customer_store.interactions WHERE customer_id = '" +
                              p.b.id + "'") == 0);

  CHECK(CountOutbox(p.tenant, "", "customer.merged") == 1);
  CHECK(CountOutbox(p.tenant, p.a.id, "customer.merged") == 1);
  // The survivor's record changed: its new version and profile for the engines.
  CHECK(CountIn(p.tenant, absl::StrCat("SELECT count(*) FROM customer_store.outbox WHERE "
                                       "event_type = 'customer.updated' AND customer_id = '",
                                       p.a.id, "' AND (payload->>'version')::bigint = ",
                                       m->survivor.version, " AND payload ? 'profile'")) == 1);
  CHECK(itest::CountAudit(p.tenant, "MergeCustomers", "OK") == 1);
  CHECK(CountIn(p.tenant, "SELECT count(*) FROM customer_store.merges") == 1);
}

TEST_CASE("Merge across tenants is NOT_FOUND and changes nothing", "[merge][tenant]") {
  const std::string t1 = NewTenant(), t2 = NewTenant();
  Customer a = Insert(t1, NewCustomer("Ada", {UniqueEmail("a")}));
  Customer b = Insert(t2, NewCustomer("Bob", {UniqueEmail("b")}));
  AddInteraction(t2, b.id, "b");
  for (auto [tenant, survivor, source] :
       {std::tuple{t1, a.id, b.id}, std::tuple{t2, b.id, a.id}}) {
    auto m = Merger().Merge(ActorOf(tenant, "MergeCustomers"), survivor, source);
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == absl::StatusCode::kNotFound);
  }
  auto ga = Repo().Get(t1, a.id);
  auto gb = Repo().Get(t2, b.id);
  REQUIRE(ga.ok());
  REQUIRE(gb.ok());
  CHECK(ga->version == a.version);
  CHECK(gb->version == b.version);
  CHECK(gb->emails == b.emails);
  CHECK(InteractionIds(t2, b.id).size() == 1);
  for (const auto& t : {t1, t2}) {
    CHECK(CountOutbox(t, "", "customer.merged") == 0);
    CHECK(CountIn(t, "SELECT count(*) FROM customer_store.merges") == 0);
    CHECK(itest::CountAudit(t, "MergeCustomers", "OK") == 0);
  }
}

TEST_CASE("Unmerge restores the source exactly and keeps survivor edits made since",
          "[merge][unmerge]") {
  Pair p = MakePair();
  const app::Actor actor = ActorOf(p.tenant, "MergeCustomers");
  auto m = Merger().Merge(actor, p.a.id, p.b.id);
  INFO(m.status().ToString());
  REQUIRE(m.ok());

  // After the merge: the survivor edits a filled field and gets a new interaction.
  auto edited =
      itest::Update(Repo(), ActorOf(p.tenant, "UpdateCustomer"), p.a.id, "", [](Customer& c) {
        c.time_zone = "Europe/Paris";
        return absl::OkStatus();
      });
  INFO(edited.status().ToString());
  REQUIRE(edited.ok());
  std::string later = AddInteraction(p.tenant, p.a.id, "after-merge");

  auto u = Merger().Unmerge(ActorOf(p.tenant, "UnmergeCustomer"), p.a.id, m->merge_id);
  INFO(u.status().ToString());
  REQUIRE(u.ok());

  auto b = Repo().Get(p.tenant, p.b.id);
  INFO(b.status().ToString());
  REQUIRE(b.ok());
  CHECK(b->id == p.b.id);
  CHECK(u->restored.id == p.b.id);
  CHECK(b->given_name == p.b.given_name);
  CHECK(b->family_name == p.b.family_name);
  CHECK(b->time_zone == p.b.time_zone);
  CHECK(b->attributes == p.b.attributes);
  CHECK(b->emails == p.b.emails);
  CHECK(b->phones == p.b.phones);
  CHECK(b->external_ids == p.b.external_ids);
  CHECK(b->create_time == p.b.create_time);
  CHECK(InteractionIds(p.tenant, p.b.id) == p.b_interactions);
  CHECK(Keys(History(p.tenant, p.b.id)) == Keys(p.b_history));

  auto a = Repo().Get(p.tenant, p.a.id);
  REQUIRE(a.ok());
  CHECK(a->emails == p.a.emails);
  CHECK(a->phones == p.a.phones);
  CHECK(a->external_ids.empty());
  CHECK(a->family_name.empty());             // filled, untouched: cleared
  CHECK(a->attributes.count("tier") == 0);   // filled, untouched: removed
  CHECK(a->time_zone == "Europe/Paris");     // filled, edited since: kept
  CHECK(a->given_name == "Ada");
  CHECK(a->version == edited->version + 1);
  std::set<std::string> a_now = p.a_interactions;
  a_now.insert(later);
  CHECK(InteractionIds(p.tenant, p.a.id) == a_now);
  // The resolution records are gone: the survivor's history is what it was.
  CHECK(Keys(History(p.tenant, p.a.id)) == Keys(p.a_history));
  CHECK(CountOutbox(p.tenant, p.a.id, "customer.unmerged") == 1);
  // Both records changed: each customer's new version is published.
  for (const auto& [id, version] : {std::pair{p.a.id, a->version}, std::pair{p.b.id, b->version}}) {
    CHECK(CountIn(p.tenant, absl::StrCat("SELECT count(*) FROM customer_store.outbox WHERE "
                                         "event_type = 'customer.updated' AND customer_id = '",
                                         id, "' AND (payload->>'version')::bigint = ", version)) ==
          1);
  }

  auto again = Merger().Unmerge(ActorOf(p.tenant, "UnmergeCustomer"), p.a.id, m->merge_id);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(common::ReasonOf(again.status()) == "NOT_MERGED");

  auto unknown =
      Merger().Unmerge(ActorOf(p.tenant, "UnmergeCustomer"), p.a.id, common::NewUuid());
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == absl::StatusCode::kNotFound);
  CHECK(common::ReasonOf(unknown.status()) == "NOT_MERGED");

  // Another survivor cannot undo this merge.
  auto wrong = Merger().Unmerge(ActorOf(p.tenant, "UnmergeCustomer"), p.b.id, m->merge_id);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Unmerge from another tenant is NOT_FOUND", "[merge][unmerge][tenant]") {
  Pair p = MakePair();
  auto m = Merger().Merge(ActorOf(p.tenant, "MergeCustomers"), p.a.id, p.b.id);
  REQUIRE(m.ok());
  auto u = Merger().Unmerge(ActorOf(NewTenant(), "UnmergeCustomer"), p.a.id, m->merge_id);
  REQUIRE_FALSE(u.ok());
  CHECK(u.status().code() == absl::StatusCode::kNotFound);
  CHECK_FALSE(Repo().Get(p.tenant, p.b.id).ok());
}

TEST_CASE("Concurrent merges A<-B and B<-A do not deadlock: one wins, the other is NOT_FOUND",
          "[merge][concurrency]") {
  const std::string tenant = NewTenant();
  for (int round = 0; round < 6; ++round) {
    INFO("round " << round);
    Customer a = Insert(tenant, NewCustomer("A", {UniqueEmail("a")}));
    Customer b = Insert(tenant, NewCustomer("B", {UniqueEmail("b")}));
    std::atomic<bool> go{false};
    auto run = [&](std::string survivor, std::string source) {
      while (!go.load()) std::this_thread::yield();
      return Merger().Merge(ActorOf(tenant, "MergeCustomers"), survivor, source).status();
    };
    auto f1 = std::async(std::launch::async, run, a.id, b.id);
    auto f2 = std::async(std::launch::async, run, b.id, a.id);
    go = true;
    REQUIRE(f1.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    REQUIRE(f2.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    absl::Status s1 = f1.get(), s2 = f2.get();
    INFO("A<-B: " << s1.ToString() << " | B<-A: " << s2.ToString());
    CHECK(s1.ok() != s2.ok());
    const absl::Status& loser = s1.ok() ? s2 : s1;
    CHECK(loser.code() == absl::StatusCode::kNotFound);
    const std::string winner = s1.ok() ? a.id : b.id;
    const std::string gone = s1.ok() ? b.id : a.id;
    CHECK(Repo().Get(tenant, winner).ok());
    CHECK(Repo().Get(tenant, gone).status().code() == absl::StatusCode::kNotFound);
  }
}


TEST_CASE("MergeCustomers with a request_id answers a retry with the first merge's outcome",
          "[merge][idempotency]") {
  Pair p = MakePair();
  auto actor = ActorOf(p.tenant, "MergeCustomers", common::NewUuid());
  actor.fingerprint = "fp-merge";
  auto first = Merger().Merge(actor, p.a.id, p.b.id);
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  // The source is gone now; the retry answers the stored outcome, merges
  // nothing again and emits nothing.
  auto again = Merger().Merge(actor, p.a.id, p.b.id);
  INFO(again.status().ToString());
  REQUIRE(again.ok());
  CHECK(again->merge_id == first->merge_id);
  CHECK(again->survivor.version == first->survivor.version);
  CHECK(again->identities_moved == first->identities_moved);
  CHECK(again->interactions_moved == first->interactions_moved);
  CHECK(again->consents_moved == first->consents_moved);
  REQUIRE(again->resolutions.size() == first->resolutions.size());
  for (size_t i = 0; i < first->resolutions.size(); ++i) {
    CHECK(again->resolutions[i].status == first->resolutions[i].status);
    CHECK(again->resolutions[i].record_time == first->resolutions[i].record_time);
  }
  CHECK(CountOutbox(p.tenant, "", "customer.merged") == 1);
  CHECK(CountIn(p.tenant, "SELECT count(*) FROM customer_store.merges") == 1);

  auto other_body = actor;
  other_body.fingerprint = "fp-other";
  auto reused = Merger().Merge(other_body, p.a.id, p.b.id);
  CHECK(common::ReasonOf(reused.status()) == "IDEMPOTENCY_KEY_REUSED");
}

}  // namespace
}  // namespace crm::customer_store::mitest

// PgCustomerRepository against the private PostgreSQL (app role, RLS on).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/customer_store/cs_env.h"

namespace crm::customer_store::itest {
namespace {

using absl::StatusCode;
using domain::Customer;

void RequireSameCustomer(const Customer& a, const Customer& b) {
  CHECK(a.id == b.id);
  CHECK(a.given_name == b.given_name);
  CHECK(a.family_name == b.family_name);
  CHECK(a.display_name == b.display_name);
  CHECK(a.emails == b.emails);
  CHECK(a.phones == b.phones);
  CHECK(a.external_ids == b.external_ids);
  REQUIRE(a.postal_address.has_value() == b.postal_address.has_value());
  if (a.postal_address) {
    CHECK(a.postal_address->lines == b.postal_address->lines);
    CHECK(a.postal_address->locality == b.postal_address->locality);
    CHECK(a.postal_address->region == b.postal_address->region);
    CHECK(a.postal_address->postal_code == b.postal_address->postal_code);
    CHECK(a.postal_address->country_code == b.postal_address->country_code);
  }
  REQUIRE(a.birthday.has_value() == b.birthday.has_value());
  if (a.birthday) CHECK(*a.birthday == *b.birthday);
  REQUIRE(a.anniversaries.size() == b.anniversaries.size());
  for (size_t i = 0; i < a.anniversaries.size(); ++i) {
    CHECK(a.anniversaries[i].label == b.anniversaries[i].label);
    CHECK(a.anniversaries[i].date == b.anniversaries[i].date);
  }
  CHECK(a.locale == b.locale);
  CHECK(a.time_zone == b.time_zone);
  CHECK(a.lifecycle_stage == b.lifecycle_stage);
  CHECK(a.owner == b.owner);
  CHECK(a.attributes == b.attributes);
  CHECK(a.version == b.version);
  CHECK(a.create_time == b.create_time);
}

Customer InsertOk(const std::string& tenant, const Customer& c) {
  auto r = Insert(Repo(), ActorOf(tenant, "CreateCustomer"), c);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("Insert then Get round-trips every field", "[customer_store][repository]") {
  const std::string tenant = NewTenant();
  Customer c = NewCustomer("Zoë");
  c.display_name = "Zoë \"Z\" O'Brien";
  c.emails = {UniqueEmail("zeta"), UniqueEmail("alpha"), UniqueEmail("mid")};
  c.phones = {"+41791234567", "+14155550100"};
  c.external_ids = {{"shop", "S-9"}, {"erp", "E-1"}, {"shop", "A-1"}};
  c.postal_address = domain::PostalAddress{{"Bahnhofstrasse 1", "c/o Müller"}, "Zürich", "ZH",
                                           "8001", "CH"};
  c.birthday = domain::Date{0, 2, 29};
  c.anniversaries = {{"wedding", {2010, 6, 12}}, {"first order", {0, 1, 1}}};
  c.locale = "de-CH";
  c.time_zone = "Europe/Zurich";
  c.lifecycle_stage = domain::LifecycleStage::kRepeatCustomer;
  c.owner = "user:42";
  c.attributes = {
      {"text", std::string("grüße | \"quoted\"")},
      {"big", std::numeric_limits<int64_t>::max()},
      {"small", std::numeric_limits<int64_t>::min()},
      {"ratio", 2.5},
      {"vip", true},
      {"off", false},
      {"seen_at", absl::FromUnixMicros(1712345678901234)},
      {"epoch_before", absl::FromUnixMicros(-86400000001)},
  };
  c.create_time = absl::FromUnixMicros(1699999999999999);
  c.update_time = c.create_time;

  Customer inserted = InsertOk(tenant, c);
  RequireSameCustomer(inserted, c);

  auto got = Repo().Get(tenant, c.id);
  INFO(got.status().ToString());
  REQUIRE(got.ok());
  RequireSameCustomer(*got, c);
  CHECK(got->update_time == c.create_time);

  SECTION("a customer without optional fields stays without them") {
    Customer bare = NewCustomer("Bare");
    Customer in = InsertOk(tenant, bare);
    auto g = Repo().Get(tenant, bare.id);
    REQUIRE(g.ok());
    CHECK_FALSE(g->postal_address.has_value());
    CHECK_FALSE(g->birthday.has_value());
    CHECK(g->anniversaries.empty());
    CHECK(g->attributes.empty());
    CHECK(g->emails.empty());
    RequireSameCustomer(*g, in);
  }

  SECTION("another tenant gets NOT_FOUND for the id") {
    auto other = Repo().Get(NewTenant(), c.id);
    CHECK(other.status().code() == StatusCode::kNotFound);
    CHECK(ReasonOf(other.status()) == "CUSTOMER_NOT_FOUND");
  }

  SECTION("the insert wrote one customer.created event and one OK audit row") {
    CHECK(CountOutbox(tenant, c.id, "customer.created") == 1);
    CHECK(CountOutbox(tenant, c.id) == 1);
    CHECK(CountAudit(tenant, "CreateCustomer", "OK") == 1);
  }
}

TEST_CASE("Identities are unique per tenant", "[customer_store][repository]") {
  const std::string tenant = NewTenant();
  const std::string email = UniqueEmail("taken");
  Customer a = InsertOk(tenant, NewCustomer("A", {email}));
  const int64_t customers_before = CountCustomers(tenant);
  const int64_t outbox_before = CountOutbox(tenant);

  Customer b = NewCustomer("B", {UniqueEmail("free"), email});
  b.phones = {"+41790000001"};
  auto r = Insert(Repo(), ActorOf(tenant, "CreateCustomer"), b);
  REQUIRE(r.status().code() == StatusCode::kAlreadyExists);
  CHECK(ReasonOf(r.status()) == "IDENTITY_TAKEN");
  CHECK(common::FieldOf(r.status()) == "emails");

  // Nothing of the refused insert stays: no customer, identity or event.
  CHECK(CountCustomers(tenant) == customers_before);
  CHECK(CountOutbox(tenant) == outbox_before);
  CHECK(CountOutbox(tenant, b.id) == 0);
  CHECK(Repo().Get(tenant, b.id).status().code() == StatusCode::kNotFound);
  CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM customer_store.identities WHERE "
                                     "customer_id = '",
                                     b.id, "'")) == 0);
  // The email still belongs to A.
  auto owners = Repo().FindOwners(tenant, {{domain::IdentityKind::kEmail, email, ""}});
  REQUIRE(owners.ok());
  CHECK(*owners == std::vector<std::string>{a.id});

  SECTION("the refused write is audited with its outcome") {
    CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM customer_store.audit_log WHERE "
                                       "method = 'CreateCustomer' AND outcome = "
                                       "'ALREADY_EXISTS' AND resource = '",
                                       b.id, "' AND principal = 'user:itest'")) == 1);
    CHECK(CountAudit(tenant, "CreateCustomer", "OK") == 1);
  }

  SECTION("the same email in another tenant is fine") {
    const std::string other = NewTenant();
    Customer c = InsertOk(other, NewCustomer("C", {email}));
    auto got = Repo().Get(other, c.id);
    REQUIRE(got.ok());
    CHECK(got->emails == std::vector<std::string>{email});
    CHECK(CountCustomers(other) == 1);
  }

  SECTION("external ids are unique per (source, value), not per value") {
    Customer x = NewCustomer("X");
    x.external_ids = {{"shop", "42"}};
    InsertOk(tenant, x);
    Customer y = NewCustomer("Y");
    y.external_ids = {{"erp", "42"}};
    InsertOk(tenant, y);
    Customer z = NewCustomer("Z");
    z.external_ids = {{"shop", "42"}};
    auto rz = Insert(Repo(), ActorOf(tenant, "CreateCustomer"), z);
    CHECK(rz.status().code() == StatusCode::kAlreadyExists);
    CHECK(ReasonOf(rz.status()) == "IDENTITY_TAKEN");
    CHECK(common::FieldOf(rz.status()) == "external_ids");
  }
}

TEST_CASE("Update checks the etag, bumps the version and emits one event",
          "[customer_store][repository]") {
  const std::string tenant = NewTenant();
  Customer c = InsertOk(tenant, NewCustomer("Ann", {UniqueEmail()}));
  const auto actor = ActorOf(tenant, "UpdateCustomer");

  SECTION("stale if_match is ABORTED / ETAG_MISMATCH and changes nothing") {
    auto r = Update(Repo(), actor, c.id, "7", [](Customer& x) {
      x.given_name = "Changed";
      return absl::OkStatus();
    });
    REQUIRE(r.status().code() == StatusCode::kAborted);
    CHECK(ReasonOf(r.status()) == "ETAG_MISMATCH");
    auto got = Repo().Get(tenant, c.id);
    REQUIRE(got.ok());
    CHECK(got->given_name == "Ann");
    CHECK(got->version == 1);
    CHECK(CountOutbox(tenant, c.id, "customer.updated") == 0);
    CHECK(CountAudit(tenant, "UpdateCustomer", "ABORTED") == 1);
    CHECK(CountAudit(tenant, "UpdateCustomer", "OK") == 0);
  }

  SECTION("a change with the right etag") {
    const absl::Time later = absl::FromUnixMicros(1700000999000001);
    auto r = Update(Repo(), actor, c.id, domain::EtagOf(c), [&](Customer& x) {
      x.given_name = "Anne";
      x.lifecycle_stage = domain::LifecycleStage::kLead;
      x.update_time = later;
      return absl::OkStatus();
    });
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->version == 2);
    CHECK(r->given_name == "Anne");
    auto got = Repo().Get(tenant, c.id);
    REQUIRE(got.ok());
    CHECK(got->version == 2);
    CHECK(got->given_name == "Anne");
    CHECK(got->lifecycle_stage == domain::LifecycleStage::kLead);
    CHECK(got->update_time == later);
    CHECK(got->create_time == c.create_time);
    CHECK(got->emails == c.emails);
    CHECK(CountOutbox(tenant, c.id, "customer.updated") == 1);
    CHECK(CountOutbox(tenant, c.id) == 2);  // created + updated
    CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM customer_store.outbox WHERE "
                                       "event_type = 'customer.updated' AND "
                                       "(payload->>'version')::int = 2 AND customer_id = '",
                                       c.id, "'")) == 1);
    CHECK(CountAudit(tenant, "UpdateCustomer", "OK") == 1);

    // The old etag is stale now.
    auto stale = Update(Repo(), actor, c.id, "1", [](Customer& x) {
      x.owner = "someone";
      return absl::OkStatus();
    });
    CHECK(stale.status().code() == StatusCode::kAborted);
    // Empty if_match skips the check.
    auto blind = Update(Repo(), actor, c.id, "", [](Customer& x) {
      x.owner = "someone";
      return absl::OkStatus();
    });
    REQUIRE(blind.ok());
    CHECK(blind->version == 3);
  }

  SECTION("a no-op mutation writes nothing") {
    auto r = Update(Repo(), actor, c.id, "1", [](Customer& x) {
      x.given_name = "Ann";  // same value
      return absl::OkStatus();
    });
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->version == 1);
    auto got = Repo().Get(tenant, c.id);
    REQUIRE(got.ok());
    CHECK(got->version == 1);
    CHECK(got->update_time == c.update_time);
    CHECK(CountOutbox(tenant, c.id) == 1);
    CHECK(CountOutbox(tenant, c.id, "customer.updated") == 0);
  }

  SECTION("an error of the mutation rolls back and is returned") {
    auto r = Update(Repo(), actor, c.id, "", [](Customer& x) {
      x.given_name = "Half";
      return absl::InvalidArgumentError("refused by the mutation");
    });
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    auto got = Repo().Get(tenant, c.id);
    REQUIRE(got.ok());
    CHECK(got->given_name == "Ann");
    CHECK(CountAudit(tenant, "UpdateCustomer", "INVALID_ARGUMENT") == 1);
  }

  SECTION("unknown id and another tenant's id are NOT_FOUND") {
    auto unknown =
        Update(Repo(), actor, common::NewUuid(), "", [](Customer&) { return absl::OkStatus(); });
    CHECK(unknown.status().code() == StatusCode::kNotFound);
    CHECK(ReasonOf(unknown.status()) == "CUSTOMER_NOT_FOUND");
    auto cross = Update(Repo(), ActorOf(NewTenant(), "UpdateCustomer"), c.id, "", [](Customer& x) {
      x.given_name = "Hijack";
      return absl::OkStatus();
    });
    CHECK(cross.status().code() == StatusCode::kNotFound);
    auto got = Repo().Get(tenant, c.id);
    REQUIRE(got.ok());
    CHECK(got->given_name == "Ann");
  }
}

TEST_CASE("Update of identities", "[customer_store][repository]") {
  const std::string tenant = NewTenant();
  const std::string e1 = UniqueEmail("one"), e2 = UniqueEmail("two"), e3 = UniqueEmail("three");
  Customer a = InsertOk(tenant, NewCustomer("A", {e1, e2}));
  const auto actor = ActorOf(tenant, "UpdateCustomer");

  SECTION("removing an email frees it for another customer") {
    auto r = Update(Repo(), actor, a.id, "", [&](Customer& x) {
      x.emails = {e2};
      return absl::OkStatus();
    });
    REQUIRE(r.ok());
    auto got = Repo().Get(tenant, a.id);
    REQUIRE(got.ok());
    CHECK(got->emails == std::vector<std::string>{e2});
    Customer b = InsertOk(tenant, NewCustomer("B", {e1}));
    auto owners = Repo().FindOwners(tenant, {{domain::IdentityKind::kEmail, e1, ""},
                                             {domain::IdentityKind::kEmail, e2, ""}});
    REQUIRE(owners.ok());
    CHECK(*owners == std::vector<std::string>{b.id, a.id});
  }

  SECTION("reordering and adding keeps the new order") {
    auto r = Update(Repo(), actor, a.id, "", [&](Customer& x) {
      x.emails = {e3, e2, e1};
      return absl::OkStatus();
    });
    REQUIRE(r.ok());
    CHECK(r->version == 2);
    auto got = Repo().Get(tenant, a.id);
    REQUIRE(got.ok());
    CHECK(got->emails == std::vector<std::string>{e3, e2, e1});
  }

  SECTION("taking another customer's email is refused and rolls back everything") {
    Customer b = InsertOk(tenant, NewCustomer("B", {e3}));
    auto r = Update(Repo(), actor, a.id, "", [&](Customer& x) {
      x.given_name = "Renamed";
      x.emails = {e3};  // drops e1 and e2, takes B's e3
      return absl::OkStatus();
    });
    REQUIRE(r.status().code() == StatusCode::kAlreadyExists);
    CHECK(ReasonOf(r.status()) == "IDENTITY_TAKEN");
    auto got = Repo().Get(tenant, a.id);
    REQUIRE(got.ok());
    CHECK(got->given_name == "A");
    CHECK(got->version == 1);
    CHECK(got->emails == std::vector<std::string>{e1, e2});
    CHECK(CountOutbox(tenant, a.id, "customer.updated") == 0);
    auto gb = Repo().Get(tenant, b.id);
    REQUIRE(gb.ok());
    CHECK(gb->emails == std::vector<std::string>{e3});
  }
}

TEST_CASE("Erase removes the customer but keeps consent records", "[customer_store][repository]") {
  const std::string tenant = NewTenant();
  const std::string email = UniqueEmail("erase");
  Customer c = NewCustomer("Gone", {email, UniqueEmail("erase2")});
  c.phones = {"+41790000009"};
  c = InsertOk(tenant, c);
  for (int i = 0; i < 3; ++i) {
    domain::Interaction in;
    in.id = common::NewUuid();
    in.kind = domain::InteractionKind::kNote;
    in.occur_time = absl::FromUnixMicros(1700000000000000 + i);
    in.summary = absl::StrCat("note ", i);
    REQUIRE(AppendInteraction(Repo(), ActorOf(tenant, "CreateInteraction"), c.id, in).ok());
  }
  for (auto status : {domain::ConsentStatus::kOptedIn, domain::ConsentStatus::kOptedOut}) {
    domain::Consent k;
    k.channel = domain::ConsentChannel::kEmail;
    k.purpose = domain::ConsentPurpose::kMarketing;
    k.status = status;
    k.source = "web";
    k.record_time = absl::FromUnixMicros(1700000000000000 + static_cast<int>(status));
    REQUIRE(AppendConsent(Repo(), ActorOf(tenant, "RecordConsent"), c.id, k).ok());
  }
  const auto actor = ActorOf(tenant, "EraseCustomer");

  SECTION("stale etag is refused") {
    auto r = Erase(Repo(), actor, c.id, "5");
    CHECK(r.status().code() == StatusCode::kAborted);
    CHECK(ReasonOf(r.status()) == "ETAG_MISMATCH");
    CHECK(Repo().Get(tenant, c.id).ok());
  }

  SECTION("erasure") {
    auto r = Erase(Repo(), actor, c.id, "1");
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->interactions_erased == 3);
    CHECK(r->identities_erased == 3);
    auto got = Repo().Get(tenant, c.id);
    CHECK(got.status().code() == StatusCode::kNotFound);
    CHECK(ReasonOf(got.status()) == "CUSTOMER_NOT_FOUND");
    const std::string where = absl::StrCat(" WHERE customer_id = '", c.id, "'");
    CHECK(CountIn(tenant, "SELECT count(*) FROM customer_store.identities" + where) == 0);
    CHECK(CountIn(tenant, "SELECT count(*) FROM customer_store.interactions" + where) == 0);
    CHECK(CountIn(tenant, "SELECT count(*) FROM customer_store.consents" + where) == 2);
    CHECK(CountOutbox(tenant, c.id, "customer.erased") == 1);
    CHECK(CountAudit(tenant, "EraseCustomer", "OK") == 1);
    // The email is free again.
    InsertOk(tenant, NewCustomer("New", {email}));
    // Erasing again is NOT_FOUND.
    auto again = Erase(Repo(), actor, c.id, "");
    CHECK(again.status().code() == StatusCode::kNotFound);
  }
}

TEST_CASE("List pages by cursor with filters", "[customer_store][repository]") {
  const std::string tenant = NewTenant();
  std::set<std::string> all, leads, leads_of_bob;
  for (int i = 0; i < 11; ++i) {
    Customer c = NewCustomer(absl::StrCat("C", i), {UniqueEmail()});
    c.lifecycle_stage = i % 2 == 0 ? domain::LifecycleStage::kLead
                                   : domain::LifecycleStage::kCustomer;
    c.owner = i % 3 == 0 ? "bob" : "eve";
    InsertOk(tenant, c);
    all.insert(c.id);
    if (i % 2 == 0) leads.insert(c.id);
    if (i % 2 == 0 && i % 3 == 0) leads_of_bob.insert(c.id);
  }
  // Another tenant's customers never show up.
  const std::string other = NewTenant();
  InsertOk(other, NewCustomer("Other", {UniqueEmail()}));

  auto collect = [&](app::ListQuery q, int* pages) {
    std::vector<std::string> ids;
    *pages = 0;
    for (int guard = 0; guard < 50; ++guard) {
      auto p = Repo().List(tenant, q);
      INFO(p.status().ToString());
      REQUIRE(p.ok());
      ++*pages;
      REQUIRE(static_cast<int>(p->items.size()) <= q.limit);
      for (const auto& c : p->items) {
        ids.push_back(c.id);
        CHECK(c.emails.size() == 1);  // identities are loaded for listed customers
      }
      if (p->next_cursor.empty()) return ids;
      q.after_id = p->next_cursor;
    }
    FAIL("List did not terminate");
    return ids;
  };

  int pages = 0;
  app::ListQuery q;
  q.limit = 4;
  std::vector<std::string> ids = collect(q, &pages);
  CHECK(pages == 3);
  CHECK(ids.size() == all.size());
  CHECK(std::set<std::string>(ids.begin(), ids.end()) == all);
  CHECK(std::is_sorted(ids.begin(), ids.end()));

  q.stage = domain::LifecycleStage::kLead;
  q.limit = 2;
  ids = collect(q, &pages);
  CHECK(pages == 3);  // 6 leads: 2 + 2 + 2, the last page has no cursor
  CHECK(ids.size() == leads.size());
  CHECK(std::set<std::string>(ids.begin(), ids.end()) == leads);

  q.owner = "bob";
  q.limit = 1;
  ids = collect(q, &pages);
  CHECK(std::set<std::string>(ids.begin(), ids.end()) == leads_of_bob);
  CHECK(ids.size() == leads_of_bob.size());

  app::ListQuery none;
  none.owner = "nobody";
  ids = collect(none, &pages);
  CHECK(ids.empty());
  CHECK(pages == 1);
}

TEST_CASE("Search by email, phone and literal name prefix", "[customer_store][repository]") {
  const std::string tenant = NewTenant();
  const std::string email = UniqueEmail("search");
  Customer ann = NewCustomer("Ann", {email});
  ann.phones = {"+41791111111"};
  ann = InsertOk(tenant, ann);
  Customer anna = InsertOk(tenant, NewCustomer("ANNA"));
  Customer fam = NewCustomer("Zed");
  fam.family_name = "Annex";
  fam = InsertOk(tenant, fam);
  Customer disp = NewCustomer("Q");
  disp.family_name = "Q";
  disp.display_name = "annie";
  disp = InsertOk(tenant, disp);
  Customer under = InsertOk(tenant, NewCustomer("a_b"));
  Customer axb = InsertOk(tenant, NewCustomer("axb"));
  Customer pct = InsertOk(tenant, NewCustomer("50%off"));
  Customer pxoff = InsertOk(tenant, NewCustomer("50xoff"));
  Customer bs = InsertOk(tenant, NewCustomer("x\\y"));
  InsertOk(tenant, NewCustomer("xzy"));
  // Same name and email in another tenant: never found here.
  const std::string other = NewTenant();
  InsertOk(other, NewCustomer("Ann", {email}));

  auto search = [&](app::SearchQuery q) {
    std::set<std::string> ids;
    for (int guard = 0; guard < 50; ++guard) {
      auto p = Repo().Search(tenant, q);
      INFO(p.status().ToString());
      REQUIRE(p.ok());
      for (const auto& c : p->items) {
        CHECK(ids.insert(c.id).second);
      }
      if (p->next_cursor.empty()) return ids;
      q.after_id = p->next_cursor;
    }
    FAIL("Search did not terminate");
    return ids;
  };

  app::SearchQuery q;
  q.email = email;
  CHECK(search(q) == std::set<std::string>{ann.id});
  {
    auto p = Repo().Search(tenant, q);
    REQUIRE(p.ok());
    REQUIRE(p->items.size() == 1);
    CHECK(p->items[0].emails == std::vector<std::string>{email});
    CHECK(p->items[0].phones == std::vector<std::string>{"+41791111111"});
  }
  q = {};
  q.phone = "+41791111111";
  CHECK(search(q) == std::set<std::string>{ann.id});
  q = {};
  q.email = UniqueEmail("nobody");
  CHECK(search(q).empty());

  q = {};
  q.name_prefix = "ann";
  q.limit = 1;  // paging through the matches
  CHECK(search(q) == std::set<std::string>{ann.id, anna.id, fam.id, disp.id});
  q.limit = 50;
  q.name_prefix = "a_";
  CHECK(search(q) == std::set<std::string>{under.id});
  q.name_prefix = "50%";
  CHECK(search(q) == std::set<std::string>{pct.id});
  q.name_prefix = "x\\";
  CHECK(search(q) == std::set<std::string>{bs.id});
  q.name_prefix = "%";
  CHECK(search(q).empty());
  q.name_prefix = "ax";
  CHECK(search(q) == std::set<std::string>{axb.id});
  (void)pxoff;
}

TEST_CASE("FindOwners returns distinct owners in input order", "[customer_store][repository]") {
  const std::string tenant = NewTenant();
  const std::string ea = UniqueEmail("a1"), ea2 = UniqueEmail("a2"), eb = UniqueEmail("b");
  Customer a = InsertOk(tenant, NewCustomer("A", {ea, ea2}));
  Customer b = NewCustomer("B", {eb});
  b.phones = {"+41792222222"};
  b.external_ids = {{"erp", "B-1"}};
  b = InsertOk(tenant, b);

  auto owners = Repo().FindOwners(
      tenant, {{domain::IdentityKind::kPhone, "+41792222222", ""},
               {domain::IdentityKind::kEmail, ea, ""},
               {domain::IdentityKind::kEmail, UniqueEmail("unknown"), ""},
               {domain::IdentityKind::kEmail, ea2, ""},
               {domain::IdentityKind::kExternalId, "B-1", "erp"},
               {domain::IdentityKind::kExternalId, "B-1", "shop"}});
  INFO(owners.status().ToString());
  REQUIRE(owners.ok());
  CHECK(*owners == std::vector<std::string>{b.id, a.id});

  auto none = Repo().FindOwners(NewTenant(), {{domain::IdentityKind::kEmail, ea, ""}});
  REQUIRE(none.ok());
  CHECK(none->empty());
}

domain::Consent MakeConsent(domain::ConsentChannel ch, domain::ConsentPurpose p,
                            domain::ConsentStatus s, int64_t micros, const std::string& source) {
  domain::Consent c;
  c.channel = ch;
  c.purpose = p;
  c.status = s;
  c.source = source;
  c.policy_version = "v3";
  c.record_time = absl::FromUnixMicros(micros);
  return c;
}

TEST_CASE("Consents are kept as history, newest first", "[customer_store][repository]") {
  const std::string tenant = NewTenant();
  Customer c = InsertOk(tenant, NewCustomer("Consenting"));
  const auto actor = ActorOf(tenant, "RecordConsent");
  using Ch = domain::ConsentChannel;
  using P = domain::ConsentPurpose;
  using S = domain::ConsentStatus;
  std::vector<domain::Consent> in = {
      MakeConsent(Ch::kEmail, P::kMarketing, S::kOptedIn, 1700000000000001, "first"),
      MakeConsent(Ch::kEmail, P::kMarketing, S::kOptedOut, 1700000000000300, "third"),
      MakeConsent(Ch::kSms, P::kTransactional, S::kPending, 1700000000000200, "second"),
  };
  for (const auto& k : in) {
    auto r = AppendConsent(Repo(), actor, c.id, k);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }
  auto h = Repo().ConsentHistory(tenant, c.id);
  REQUIRE(h.ok());
  REQUIRE(h->size() == 3);
  CHECK((*h)[0].source == "third");
  CHECK((*h)[1].source == "second");
  CHECK((*h)[2].source == "first");
  CHECK((*h)[0].status == S::kOptedOut);
  CHECK((*h)[0].channel == Ch::kEmail);
  CHECK((*h)[0].purpose == P::kMarketing);
  CHECK((*h)[0].policy_version == "v3");
  CHECK((*h)[0].record_time == absl::FromUnixMicros(1700000000000300));
  CHECK((*h)[1].channel == Ch::kSms);
  CHECK((*h)[1].purpose == P::kTransactional);
  CHECK(CountOutbox(tenant, c.id, "consent.recorded") == 3);
  CHECK(CountAudit(tenant, "RecordConsent", "OK") == 3);

  SECTION("equal record times: the later append is newer") {
    REQUIRE(AppendConsent(
                Repo(), actor, c.id,
                MakeConsent(Ch::kPush, P::kMarketing, S::kOptedIn, 1700000000000300, "fourth"))
                .ok());
    auto h2 = Repo().ConsentHistory(tenant, c.id);
    REQUIRE(h2.ok());
    REQUIRE(h2->size() == 4);
    CHECK((*h2)[0].source == "fourth");
    CHECK((*h2)[1].source == "third");
  }

  SECTION("unknown or foreign customer is NOT_FOUND and writes nothing") {
    const std::string unknown = common::NewUuid();
    auto r = AppendConsent(Repo(), actor, unknown, in[0]);
    CHECK(r.status().code() == StatusCode::kNotFound);
    CHECK(ReasonOf(r.status()) == "CUSTOMER_NOT_FOUND");
    CHECK(CountIn(tenant, absl::StrCat("SELECT count(*) FROM customer_store.consents WHERE "
                                       "customer_id = '",
                                       unknown, "'")) == 0);
    CHECK(CountAudit(tenant, "RecordConsent", "NOT_FOUND") == 1);
    const std::string other = NewTenant();
    auto cross = AppendConsent(Repo(), ActorOf(other, "RecordConsent"), c.id, in[0]);
    CHECK(cross.status().code() == StatusCode::kNotFound);
    auto ch = Repo().ConsentHistory(tenant, unknown);
    CHECK(ch.status().code() == StatusCode::kNotFound);
    auto ch2 = Repo().ConsentHistory(other, c.id);
    CHECK(ch2.status().code() == StatusCode::kNotFound);
  }
}

domain::Interaction MakeInteraction(domain::InteractionKind kind, int64_t micros,
                                    const std::string& summary) {
  domain::Interaction i;
  i.id = common::NewUuid();
  i.kind = kind;
  i.channel = "phone";
  i.occur_time = absl::FromUnixMicros(micros);
  i.actor = "agent:1";
  i.summary = summary;
  i.payload_json = R"({"k": [1, 2], "s": "x"})";
  i.source = "call-center";
  return i;
}

struct Timeline {
  std::string tenant;
  Customer customer;
  std::vector<domain::Interaction> newest_first;  // expected order
};

Timeline MakeTimeline() {
  Timeline t;
  t.tenant = NewTenant();
  t.customer = InsertOk(t.tenant, NewCustomer("Busy"));
  const int64_t base = 1700000000000000;
  using K = domain::InteractionKind;
  // Four share one timestamp: the id breaks the tie.
  std::vector<domain::Interaction> v = {
      MakeInteraction(K::kCall, base, "old call"),
      MakeInteraction(K::kNote, base + 5000, "tie 1"),
      MakeInteraction(K::kCall, base + 5000, "tie 2"),
      MakeInteraction(K::kNote, base + 5000, "tie 3"),
      MakeInteraction(K::kCall, base + 5000, "tie 4"),
      MakeInteraction(K::kEmail, base + 9000, "newest"),
      MakeInteraction(K::kNote, base - 1, "oldest"),
  };
  for (const auto& i : v) {
    auto r = AppendInteraction(Repo(), ActorOf(t.tenant, "CreateInteraction"), t.customer.id, i);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }
  std::sort(v.begin(), v.end(), [](const domain::Interaction& a, const domain::Interaction& b) {
    if (a.occur_time != b.occur_time) return a.occur_time > b.occur_time;
    return a.id > b.id;
  });
  t.newest_first = v;
  return t;
}

TEST_CASE("Interactions page newest first by (time, id)", "[customer_store][repository]") {
  Timeline t = MakeTimeline();
  CHECK(CountOutbox(t.tenant, t.customer.id, "interaction.created") == 7);

  auto collect = [&](app::InteractionQuery q, int* pages) {
    std::vector<domain::Interaction> out;
    *pages = 0;
    for (int guard = 0; guard < 50; ++guard) {
      auto p = Repo().Interactions(t.tenant, t.customer.id, q);
      INFO(p.status().ToString());
      REQUIRE(p.ok());
      ++*pages;
      for (const auto& i : p->items) out.push_back(i);
      if (p->next_cursor.empty()) return out;
      q.before_cursor = p->next_cursor;
    }
    FAIL("Interactions did not terminate");
    return out;
  };

  int pages = 0;
  app::InteractionQuery q;
  q.limit = 2;
  auto all = collect(q, &pages);
  CHECK(pages == 4);
  REQUIRE(all.size() == t.newest_first.size());
  for (size_t i = 0; i < all.size(); ++i) {
    INFO("position " << i);
    CHECK(all[i].id == t.newest_first[i].id);
    CHECK(all[i].summary == t.newest_first[i].summary);
    CHECK(all[i].occur_time == t.newest_first[i].occur_time);
  }
  CHECK(all[0].kind == domain::InteractionKind::kEmail);
  CHECK(all[0].channel == "phone");
  CHECK(all[0].actor == "agent:1");
  CHECK(all[0].source == "call-center");
  CHECK(all[0].payload_json.find("\"k\"") != std::string::npos);

  q.kind = domain::InteractionKind::kCall;
  q.limit = 1;
  auto calls = collect(q, &pages);
  std::vector<std::string> expected_calls;
  for (const auto& i : t.newest_first) {
    if (i.kind == domain::InteractionKind::kCall) expected_calls.push_back(i.id);
  }
  std::vector<std::string> got_calls;
  for (const auto& i : calls) got_calls.push_back(i.id);
  CHECK(got_calls == expected_calls);

  SECTION("a bad cursor is INVALID_ARGUMENT") {
    app::InteractionQuery bad;
    bad.before_cursor = "garbage";
    auto p = Repo().Interactions(t.tenant, t.customer.id, bad);
    CHECK(p.status().code() == StatusCode::kInvalidArgument);
    CHECK(ReasonOf(p.status()) == "INVALID_PAGE_TOKEN");
  }
  SECTION("another tenant is NOT_FOUND") {
    auto p = Repo().Interactions(NewTenant(), t.customer.id, {});
    CHECK(p.status().code() == StatusCode::kNotFound);
  }
}

TEST_CASE("LoadView and LoadExport", "[customer_store][repository]") {
  Timeline t = MakeTimeline();
  using Ch = domain::ConsentChannel;
  using P = domain::ConsentPurpose;
  using S = domain::ConsentStatus;
  const auto actor = ActorOf(t.tenant, "RecordConsent");
  for (const auto& k : {
           MakeConsent(Ch::kSms, P::kMarketing, S::kOptedIn, 1700000000000100, "s1"),
           MakeConsent(Ch::kEmail, P::kMarketing, S::kOptedIn, 1700000000000100, "e1"),
           MakeConsent(Ch::kEmail, P::kMarketing, S::kOptedOut, 1700000000000200, "e2"),
           MakeConsent(Ch::kEmail, P::kProfiling, S::kPending, 1700000000000050, "p1"),
       }) {
    REQUIRE(AppendConsent(Repo(), actor, t.customer.id, k).ok());
  }
  // A second customer's data must not leak into the view.
  Customer other = InsertOk(t.tenant, NewCustomer("Other", {UniqueEmail()}));
  REQUIRE(AppendInteraction(
              Repo(), ActorOf(t.tenant, "CreateInteraction"), other.id,
              MakeInteraction(domain::InteractionKind::kCall, 1800000000000000, "other's"))
              .ok());
  REQUIRE(Update(Repo(), ActorOf(t.tenant, "UpdateCustomer"), t.customer.id, "", [](Customer& c) {
            c.emails = {"busy@example.com"};
            c.external_ids = {{"erp", "BUSY"}};
            return absl::OkStatus();
          }).ok());

  auto v = Repo().LoadView(t.tenant, t.customer.id, 3);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  CHECK(v->customer.id == t.customer.id);
  CHECK(v->customer.version == 2);
  CHECK(v->customer.emails == std::vector<std::string>{"busy@example.com"});
  REQUIRE(v->identities.size() == 2);
  CHECK(v->identities[0].kind == domain::IdentityKind::kEmail);
  CHECK(v->identities[0].value == "busy@example.com");
  CHECK(v->identities[1].kind == domain::IdentityKind::kExternalId);
  CHECK(v->identities[1].source == "erp");
  CHECK(v->identities[1].value == "BUSY");
  CHECK(v->identities[0].create_time > absl::FromUnixSeconds(1600000000));
  // Current state: newest per (channel, purpose), ordered by channel then purpose.
  REQUIRE(v->consents.size() == 3);
  CHECK(v->consents[0].source == "e2");
  CHECK(v->consents[0].status == S::kOptedOut);
  CHECK(v->consents[1].source == "p1");
  CHECK(v->consents[2].source == "s1");
  REQUIRE(v->recent_interactions.size() == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(v->recent_interactions[i].id == t.newest_first[i].id);
  CHECK(v->interaction_count == 7);

  auto e = Repo().LoadExport(t.tenant, t.customer.id);
  INFO(e.status().ToString());
  REQUIRE(e.ok());
  CHECK(e->customer.id == t.customer.id);
  CHECK(e->identities.size() == 2);
  REQUIRE(e->consent_history.size() == 4);
  CHECK(e->consent_history[0].source == "e2");
  CHECK(e->consent_history[3].source == "p1");
  REQUIRE(e->interactions.size() == 7);
  for (size_t i = 0; i < 7; ++i) CHECK(e->interactions[i].id == t.newest_first[i].id);

  CHECK(Repo().LoadView(NewTenant(), t.customer.id, 3).status().code() == StatusCode::kNotFound);
  CHECK(Repo().LoadExport(t.tenant, common::NewUuid()).status().code() ==
        StatusCode::kNotFound);
}

TEST_CASE("request_id (idempotency key) makes Insert idempotent", "[customer_store][repository]") {
  const std::string tenant = NewTenant();
  const std::string rid = common::NewUuid();
  const std::string e1 = UniqueEmail("first"), e2 = UniqueEmail("second");
  Customer first = NewCustomer("First", {e1});
  auto r1 = Insert(Repo(), ActorOf(tenant, "CreateCustomer", rid), first);
  INFO(r1.status().ToString());
  REQUIRE(r1.ok());

  Customer second = NewCustomer("Second", {e2});
  auto r2 = Insert(Repo(), ActorOf(tenant, "CreateCustomer", rid), second);
  INFO(r2.status().ToString());
  REQUIRE(r2.ok());
  CHECK(r2->id == first.id);
  CHECK(r2->given_name == "First");
  CHECK(r2->emails == std::vector<std::string>{e1});
  CHECK(CountCustomers(tenant) == 1);
  CHECK(CountOutbox(tenant) == 1);
  CHECK(Repo().Get(tenant, second.id).status().code() == StatusCode::kNotFound);
  // The replay did not write second's identities: e2 is still free.
  InsertOk(tenant, NewCustomer("Third", {e2}));

  SECTION("the same request_id for another method is INVALID_ARGUMENT") {
    auto r3 = Insert(Repo(), ActorOf(tenant, "UpsertCustomer", rid), NewCustomer("Fourth"));
    CHECK(r3.status().code() == StatusCode::kInvalidArgument);
    CHECK(common::FieldOf(r3.status()) == "request_id");
    CHECK(CountCustomers(tenant) == 2);
  }
  SECTION("request ids are per tenant") {
    const std::string other = NewTenant();
    Customer mine = NewCustomer("Mine", {e1});
    auto r4 = Insert(Repo(), ActorOf(other, "CreateCustomer", rid), mine);
    REQUIRE(r4.ok());
    CHECK(r4->id == mine.id);
    CHECK(CountCustomers(other) == 1);
  }
  SECTION("a refused insert does not consume the request_id") {
    const std::string rid2 = common::NewUuid();
    auto bad = Insert(Repo(), ActorOf(tenant, "CreateCustomer", rid2), NewCustomer("Dup", {e1}));
    CHECK(bad.status().code() == StatusCode::kAlreadyExists);
    Customer good = NewCustomer("Good", {UniqueEmail()});
    auto ok = Insert(Repo(), ActorOf(tenant, "CreateCustomer", rid2), good);
    REQUIRE(ok.ok());
    CHECK(ok->id == good.id);
  }
}

TEST_CASE("Concurrent writers: one identity owner, one idempotent insert",
          "[customer_store][repository][concurrency]") {
  const std::string tenant = NewTenant();
  for (int round = 0; round < 10; ++round) {
    INFO("round " << round);
    const std::string email = UniqueEmail("race");
    Customer a = NewCustomer("RaceA", {email});
    Customer b = NewCustomer("RaceB", {email});
    absl::StatusOr<Customer> ra, rb;
    std::thread ta([&] { ra = Insert(Repo(), ActorOf(tenant, "CreateCustomer"), a); });
    std::thread tb([&] { rb = Insert(Repo(), ActorOf(tenant, "CreateCustomer"), b); });
    ta.join();
    tb.join();
    INFO(ra.status().ToString() << " / " << rb.status().ToString());
    CHECK(ra.ok() != rb.ok());
    const absl::Status& loser = ra.ok() ? rb.status() : ra.status();
    CHECK(loser.code() == StatusCode::kAlreadyExists);
    CHECK(ReasonOf(loser) == "IDENTITY_TAKEN");

    const std::string key = common::NewUuid();
    Customer c = NewCustomer("KeyC", {UniqueEmail()});
    Customer d = NewCustomer("KeyD", {UniqueEmail()});
    absl::StatusOr<Customer> rc, rd;
    std::thread tc([&] { rc = Insert(Repo(), ActorOf(tenant, "CreateCustomer", key), c); });
    std::thread td([&] { rd = Insert(Repo(), ActorOf(tenant, "CreateCustomer", key), d); });
    tc.join();
    td.join();
    INFO(rc.status().ToString() << " / " << rd.status().ToString());
    REQUIRE(rc.ok());
    REQUIRE(rd.ok());
    CHECK(rc->id == rd->id);
  }
  // 10 identity winners + 10 idempotent customers.
  CHECK(CountCustomers(tenant) == 20);
  CHECK(CountOutbox(tenant, "", "customer.created") == 20);
}


TEST_CASE("With a fingerprint, request_id replays are strict: stored answers and refusals",
          "[customer_store][repository][idempotency]") {
  const std::string tenant = NewTenant();
  auto strict = [&](const std::string& method, const std::string& key, const std::string& fp) {
    app::Actor a = ActorOf(tenant, method, key);
    a.fingerprint = fp;
    return a;
  };
  const std::string rid = common::NewUuid();
  const std::string email = UniqueEmail("strict");
  Customer first = NewCustomer("First", {email});
  auto created = Insert(Repo(), strict("CreateCustomer", rid, "fp-a"), first);
  REQUIRE(created.ok());

  // The customer changes after the create: the replay still answers the
  // create's answer (version 1), not the customer as it is now.
  auto changed = Update(Repo(), ActorOf(tenant, "UpdateCustomer"), first.id, "", [](Customer& c) {
    c.given_name = "Changed";
    return absl::OkStatus();
  });
  REQUIRE(changed.ok());
  REQUIRE(changed->version == 2);
  auto replay = Insert(Repo(), strict("CreateCustomer", rid, "fp-a"), NewCustomer("Other"));
  REQUIRE(replay.ok());
  CHECK(replay->id == first.id);
  CHECK(replay->given_name == "First");
  CHECK(replay->version == 1);
  auto answer = Repo().FindAnswer(strict("CreateCustomer", rid, "fp-a"));
  REQUIRE(answer.ok());
  REQUIRE(answer->has_value());
  CHECK((*answer)->created);
  CHECK((*answer)->customer.given_name == "First");

  SECTION("another body with the same request_id is IDEMPOTENCY_KEY_REUSED") {
    auto reused = Insert(Repo(), strict("CreateCustomer", rid, "fp-b"), NewCustomer("B"));
    CHECK(reused.status().code() == StatusCode::kInvalidArgument);
    CHECK(common::ReasonOf(reused.status()) == "IDEMPOTENCY_KEY_REUSED");
    CHECK(common::ReasonOf(Repo().FindAnswer(strict("CreateCustomer", rid, "fp-b")).status()) ==
          "IDEMPOTENCY_KEY_REUSED");
    CHECK(CountCustomers(tenant) == 1);
  }
  SECTION("a refusal is stored and answered again after the state changed") {
    const std::string rid2 = common::NewUuid();
    auto taken =
        Insert(Repo(), strict("CreateCustomer", rid2, "fp-c"), NewCustomer("Dup", {email}));
    REQUIRE(common::ReasonOf(taken.status()) == "IDENTITY_TAKEN");
    // The identity is free now...
    REQUIRE(Erase(Repo(), ActorOf(tenant, "DeleteCustomer"), first.id, "").ok());
    // ...but the retry answers the first call's refusal.
    auto again =
        Insert(Repo(), strict("CreateCustomer", rid2, "fp-c"), NewCustomer("Dup", {email}));
    CHECK(common::ReasonOf(again.status()) == "IDENTITY_TAKEN");
    CHECK(again.status().message() == taken.status().message());
  }
  SECTION("Update with a request_id stores its answer too") {
    const std::string rid3 = common::NewUuid();
    auto up = Update(Repo(), strict("UpsertCustomer", rid3, "fp-d"), first.id, "", [](Customer& c) {
      c.family_name = "Byron";
      return absl::OkStatus();
    });
    REQUIRE(up.ok());
    CHECK(up->version == 3);
    auto up_again =
        Update(Repo(), strict("UpsertCustomer", rid3, "fp-d"), first.id, "", [](Customer& c) {
          c.family_name = "Not applied";
          return absl::OkStatus();
        });
    REQUIRE(up_again.ok());
    CHECK(up_again->family_name == "Byron");
    CHECK(up_again->version == 3);
    auto stored = Repo().FindAnswer(strict("UpsertCustomer", rid3, "fp-d"));
    REQUIRE(stored.ok());
    REQUIRE(stored->has_value());
    CHECK_FALSE((*stored)->created);
    CHECK(Repo().Get(tenant, first.id)->family_name == "Byron");
  }
  SECTION("an unused key has no answer") {
    auto none = Repo().FindAnswer(strict("CreateCustomer", common::NewUuid(), "fp"));
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
  }
}

TEST_CASE("GetMany reads customers with identities and consent history, tenant-scoped",
          "[customer_store][repository]") {
  const std::string tenant = NewTenant();
  const std::string other = NewTenant();
  Customer a = NewCustomer("Ada", {UniqueEmail("many-a")});
  a.phones = {"+41790000011"};
  a = InsertOk(tenant, a);
  Customer b = InsertOk(tenant, NewCustomer("Bob", {UniqueEmail("many-b")}));
  Customer foreign = InsertOk(other, NewCustomer("Eve", {UniqueEmail("many-e")}));
  for (auto status : {domain::ConsentStatus::kOptedIn, domain::ConsentStatus::kOptedOut}) {
    domain::Consent k;
    k.channel = domain::ConsentChannel::kEmail;
    k.purpose = domain::ConsentPurpose::kMarketing;
    k.status = status;
    k.source = "web";
    k.record_time = absl::FromUnixMicros(1700000000000000 + static_cast<int>(status));
    REQUIRE(AppendConsent(Repo(), ActorOf(tenant, "RecordConsent"), a.id, k).ok());
    REQUIRE(AppendConsent(Repo(), ActorOf(other, "RecordConsent"), foreign.id, k).ok());
  }
  auto got = Repo().GetMany(tenant, {a.id, b.id, foreign.id, common::NewUuid()}, true);
  REQUIRE(got.ok());
  REQUIRE(got->size() == 2);  // another tenant's and an unknown id read as absent
  std::map<std::string, app::CustomerRepository::CustomerRecord> by_id;
  for (auto& r : *got) by_id[r.customer.id] = r;
  REQUIRE(by_id.count(a.id) == 1);
  REQUIRE(by_id.count(b.id) == 1);
  RequireSameCustomer(by_id[a.id].customer, a);
  RequireSameCustomer(by_id[b.id].customer, b);
  REQUIRE(by_id[a.id].consent_history.size() == 2);
  // Newest first (the opt-out was recorded later).
  CHECK(by_id[a.id].consent_history[0].status == domain::ConsentStatus::kOptedOut);
  CHECK(by_id[b.id].consent_history.empty());
  auto without = Repo().GetMany(tenant, {a.id}, false);
  REQUIRE(without.ok());
  REQUIRE(without->size() == 1);
  CHECK(without->at(0).consent_history.empty());
}

}  // namespace
}  // namespace crm::customer_store::itest

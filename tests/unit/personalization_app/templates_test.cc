// The message template use cases over the in-memory repository: checked
// writes, taken ids, stale etags, deletes, restart, other tenants, and
// previews of saved templates and drafts with the sample data and data of
// one's own.
#include "services/personalization/app/templates.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/personalization/fake_customer_profiles.h"
#include "tests/support/fakes/personalization/fake_offer_repository.h"
#include "tests/support/fakes/personalization/fake_personalization_repository.h"
#include "tests/support/fakes/personalization/fake_slot_repository.h"
#include "tests/support/status_checks.h"

namespace {

using crm::outbox::WriteMeta;
using crm::personalization::app::Offers;
using crm::personalization::app::Recommender;
using crm::personalization::app::RenderRequest;
using crm::personalization::app::Templates;
using crm::personalization::domain::MessageTemplate;
using crm::personalization::domain::TemplateChannel;
using crm::personalization::domain::TemplateLocale;
using crm::testing::RequireRefused;
using crm::testing::ValueOf;

const std::string kT = "tenant-1";

WriteMeta Meta(const std::string& key, const std::string& method = "CreateTemplate") {
  return WriteMeta{kT, "tester", "req", method, key, "fp-" + key};
}

MessageTemplate Welcome(const std::string& html = "<p>Hi {{customer.given_name}}</p>") {
  MessageTemplate t;
  t.template_id = "welcome";
  t.display_name = "Welcome";
  t.channel = TemplateChannel::kEmail;
  t.locales = {TemplateLocale{"en", {{"subject", "Hi {{customer.given_name}}"}, {"html", html}}},
               TemplateLocale{"de",
                              {{"subject", "Hallo {{customer.given_name}}"},
                               {"html", "<p>Hallo {{customer.given_name}}</p>"}}}};
  return t;
}

struct World {
  crm::testing::FakeTemplateRepository repo;
  // 2027-01-15 08:00 UTC (already the 15th in Zurich).
  crm::testing::FixedClock clock{absl::FromUnixSeconds(1'800'000'000)};
  crm::testing::FakePersonalizationRepository learnt;
  Recommender recommender{learnt, {}, &clock};
  crm::testing::FakeOfferRepository offer_repo;
  crm::testing::FakeSegmentation segmentation;
  Offers offers{offer_repo, recommender, segmentation, &clock};
  crm::testing::FakeCustomerProfiles profiles;
  Templates templates{repo, recommender, offers, profiles, &clock};
};

}  // namespace

TEST_CASE("Template writes are checked, versioned, replayed and survive a restart") {
  World w;
  RequireRefused(w.templates.Create(Meta("k0"), Welcome("{{customer.nickname}}")).status(),
                 absl::StatusCode::kInvalidArgument, "INVALID_FIELD");
  MessageTemplate created = ValueOf(w.templates.Create(Meta("k1"), Welcome()));
  CHECK(created.version == 1);
  CHECK(created.default_locale == "en");
  CHECK(ValueOf(w.templates.Create(Meta("k1"), Welcome())).version == 1);  // replay
  RequireRefused(w.templates.Create(Meta("k2"), Welcome()).status(),
                 absl::StatusCode::kAlreadyExists, "TEMPLATE_EXISTS");
  RequireRefused(w.templates.Update(Meta("k3", "UpdateTemplate"), Welcome(), "9").status(),
                 absl::StatusCode::kAborted, "ETAG_MISMATCH");
  MessageTemplate edited = Welcome("<p>Welcome back, {{customer.given_name}}</p>");
  CHECK(ValueOf(w.templates.Update(Meta("k4", "UpdateTemplate"), edited, "1")).version == 2);
  Templates restarted(w.repo, w.recommender, w.offers, w.profiles, &w.clock);
  REQUIRE(restarted.Load().ok());
  CHECK(ValueOf(restarted.Get(kT, "welcome")).locales[0].parts.at("html") ==
        "<p>Welcome back, {{customer.given_name}}</p>");
  RequireRefused(w.templates.Get("tenant-2", "welcome").status(), absl::StatusCode::kNotFound,
                 "TEMPLATE_NOT_FOUND");
  CHECK(w.templates.List("tenant-2").empty());
  CHECK(ValueOf(w.templates.Delete(Meta("k5", "DeleteTemplate"), "welcome", "2")).version == 2);
  RequireRefused(w.templates.Get(kT, "welcome").status(), absl::StatusCode::kNotFound,
                 "TEMPLATE_NOT_FOUND");
  RequireRefused(w.templates.Delete(Meta("k6", "DeleteTemplate"), "welcome", "").status(),
                 absl::StatusCode::kNotFound, "TEMPLATE_NOT_FOUND");
}

TEST_CASE("A preview renders the saved template or a draft with the sample data") {
  World w;
  REQUIRE(w.templates.Create(Meta("k1"), Welcome()).ok());
  auto en = ValueOf(w.templates.Preview(kT, "welcome", std::nullopt, "en-GB", nullptr));
  CHECK(en.locale == "en");
  CHECK(en.version == 1);
  CHECK(en.parts.at("subject") == "Hi Ada");
  auto de =
      ValueOf(w.templates.Preview(kT, "welcome", std::nullopt, "de-CH",
                                  nlohmann::json{{"customer", {{"given_name", "<b>Jürg</b>"}}}}));
  CHECK(de.locale == "de");
  CHECK(de.parts.at("html") == "<p>Hallo &lt;b&gt;Jürg&lt;/b&gt;</p>");
  CHECK(de.parts.at("subject") == "Hallo <b>Jürg</b>");
  // A draft: checked as a save would check it, not saved.
  MessageTemplate draft = Welcome("{{#offers}}{{display_name}}{{/offers}}");
  auto d = ValueOf(w.templates.Preview(kT, "new-one", draft, "", nullptr));
  CHECK(d.version == 0);
  CHECK(d.template_id == "new-one");
  CHECK(d.parts.at("html") == "Welcome");
  RequireRefused(w.templates.Preview(kT, "new-one", Welcome("{{oops"), "", nullptr).status(),
                 absl::StatusCode::kInvalidArgument, "INVALID_FIELD");
  RequireRefused(w.templates.Preview(kT, "nope", std::nullopt, "", nullptr).status(),
                 absl::StatusCode::kNotFound, "TEMPLATE_NOT_FOUND");
  RequireRefused(
      w.templates.Preview(kT, "welcome", std::nullopt, "", nlohmann::json::array()).status(),
      absl::StatusCode::kInvalidArgument, "INVALID_FIELD");
  RequireRefused(w.templates.Preview("tenant-2", "welcome", std::nullopt, "", nullptr).status(),
                 absl::StatusCode::kNotFound, "TEMPLATE_NOT_FOUND");
}

TEST_CASE("A render fills the data from the profile and the engine, escaped per part") {
  World w;
  // c1 bought A with B; c0 bought A: B is c0's recommendation.
  std::vector<crm::personalization::app::Fact> facts;
  for (const std::string c : {"c0", "c1"}) {
    crm::events::CustomerChange k;
    k.kind = crm::events::CustomerChange::Kind::kCreated;
    k.tenant_id = kT;
    k.customer_id = c;
    facts.push_back(k);
    w.segmentation.known.insert(c);
  }
  for (const auto& [customer, skus] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"c1", {"A", "B"}}, {"c0", {"A"}}}) {
    crm::events::OrderFact o;
    o.tenant_id = kT;
    o.order_id = "o-" + customer;
    o.customer_id = customer;
    o.status = "placed";
    o.placed_time = w.clock.Now();
    for (const auto& s : skus) o.lines.push_back(crm::events::OrderLineFact{s, 1, 0});
    facts.push_back(o);
  }
  crm::events::ProductFact a;
  a.tenant_id = kT;
  a.sku = "A";
  a.version = 1;
  a.category_path = {"Home", "Kitchen"};
  facts.push_back(a);
  for (const auto& s : w.recommender.Apply(facts)) REQUIRE(s.ok());
  crm::personalization::domain::Offer offer;
  offer.offer_id = "ten-off";
  offer.display_name = "Ten off";
  offer.kind = crm::personalization::domain::OfferKind::kDiscount;
  offer.discount_bp = 1000;
  offer.value_minor = 100;
  REQUIRE(w.offers.Create(Meta("o1", "CreateOffer"), offer).ok());
  crm::personalization::app::CustomerProfile p;
  p.customer_id = "c0";
  p.given_name = "<i>Zoë</i>";
  p.locale = "de-CH";
  p.time_zone = "Europe/Zurich";
  p.birthday_month = 1;
  p.birthday_day = 15;
  p.attributes["tier"] = "gold";
  w.profiles.profiles[{kT, "c0"}] = p;
  MessageTemplate t = Welcome();
  t.locales[1].parts["html"] =
      "<p>Hallo {{customer.given_name}} ({{customer.attributes.tier}})</p>"
      "{{#birthday.today}}<b>Alles Gute!</b>{{/birthday.today}}"
      "{{#recommendations}}<li>{{sku}} {{reason}} {{because_sku}}</li>{{/recommendations}}"
      "{{#offers}}<em>{{display_name}} -{{discount_percent}} %</em>{{/offers}}"
      "{{#interests}}[{{topic}}]{{/interests}} {{now.date}}";
  REQUIRE(w.templates.Create(Meta("k1"), t).ok());
  RenderRequest r;
  r.customer_id = "c0";
  r.offers = 1;
  auto m = ValueOf(w.templates.Render(Meta("render-1", "RenderTemplate"), "welcome", r));
  CHECK(m.locale == "de");
  CHECK(m.parts.at("subject") == "Hallo <i>Zoë</i>");
  const std::string& html = m.parts.at("html");
  CHECK(html.rfind("<p>Hallo &lt;i&gt;Zoë&lt;/i&gt; (gold)</p><b>Alles Gute!</b><li>B bought A</li>"
                   "<em>Ten off -10 %</em>",
                   0) == 0);
  CHECK(html.find("[Home/Kitchen]") != std::string::npos);
  CHECK(html.substr(html.size() - 11) == " 2027-01-15");
  REQUIRE(m.decision_ids.size() == 1);
  CHECK(m.personalized);
  // The same request id: the same decision, nothing claimed again.
  auto again = ValueOf(w.templates.Render(Meta("render-1", "RenderTemplate"), "welcome", r));
  CHECK(again.decision_ids == m.decision_ids);
  // Another locale asked; no birthday on another day.
  w.profiles.profiles[{kT, "c0"}].birthday_day = 16;
  r.locale = "en-US";
  r.offers = 0;
  auto en = ValueOf(w.templates.Render(Meta("", "RenderTemplate"), "welcome", r));
  CHECK(en.locale == "en");
  CHECK(en.decision_ids.empty());
  // An objection to profiling: said in the answer, whatever sections render.
  crm::events::ConsentFact objection;
  objection.tenant_id = kT;
  objection.customer_id = "c0";
  objection.channel = "email";
  objection.purpose = "profiling";
  objection.status = "opted_out";
  objection.recorded_time = w.clock.Now();
  for (const auto& s : w.recommender.Apply({objection})) REQUIRE(s.ok());
  CHECK_FALSE(ValueOf(w.templates.Render(Meta("", "RenderTemplate"), "welcome", r)).personalized);
  // Refusals: unknown customer, unknown template, customer-store down.
  r.customer_id = "nobody";
  RequireRefused(w.templates.Render(Meta("", "RenderTemplate"), "welcome", r).status(),
                 absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND");
  r.customer_id = "c0";
  RequireRefused(w.templates.Render(Meta("", "RenderTemplate"), "nope", r).status(),
                 absl::StatusCode::kNotFound, "TEMPLATE_NOT_FOUND");
  w.profiles.down = absl::UnavailableError("customer-store is down");
  CHECK(w.templates.Render(Meta("", "RenderTemplate"), "welcome", r).status().code() ==
        absl::StatusCode::kUnavailable);
}

TEST_CASE("A batch render answers per item what a render would, reading the profiles once") {
  World w;
  REQUIRE(w.templates.Create(Meta("k1"), Welcome()).ok());
  for (const std::string c : {"c1", "c2"}) {
    crm::personalization::app::CustomerProfile p;
    p.customer_id = c;
    p.given_name = c == "c1" ? "Ada" : "Bob";
    p.locale = c == "c1" ? "en" : "de";
    w.profiles.profiles[{kT, c}] = p;
  }
  auto item = [](const std::string& template_id, const std::string& customer,
                 const std::string& key) {
    RenderRequest r;
    r.customer_id = customer;
    return Templates::RenderItem{Meta(key, "RenderTemplate"), template_id, r};
  };
  const int singles = w.profiles.calls;
  auto out = w.templates.RenderBatch({item("welcome", "c1", "r1"), item("welcome", "c2", "r2"),
                                      item("welcome", "nobody", "r3"), item("nope", "c1", "r4"),
                                      item("welcome", "c1", "r5")});
  REQUIRE(out.size() == 5);
  CHECK(w.profiles.batch_calls == 1);
  CHECK(w.profiles.calls == singles);  // no profile read one by one
  CHECK(ValueOf(out[0]).parts.at("subject") == "Hi Ada");
  CHECK(ValueOf(out[1]).parts.at("subject") == "Hallo Bob");
  RequireRefused(out[2].status(), absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND");
  RequireRefused(out[3].status(), absl::StatusCode::kNotFound, "TEMPLATE_NOT_FOUND");
  // The same as one render of the same request.
  RenderRequest one;
  one.customer_id = "c1";
  CHECK(ValueOf(out[4]).parts ==
        ValueOf(w.templates.Render(Meta("r5", "RenderTemplate"), "welcome", one)).parts);
  // customer-store down: every item says so.
  w.profiles.down = absl::UnavailableError("customer-store is down");
  auto down = w.templates.RenderBatch({item("welcome", "c1", "r6"), item("welcome", "c2", "r7")});
  REQUIRE(down.size() == 2);
  CHECK(down[0].status().code() == absl::StatusCode::kUnavailable);
  CHECK(down[1].status().code() == absl::StatusCode::kUnavailable);
  CHECK(w.templates.RenderBatch({}).empty());
}

// The message template use cases over the in-memory repository: checked
// writes, taken ids, stale etags, deletes, restart, other tenants, and
// previews of saved templates and drafts with the sample data and data of
// one's own.
#include "services/personalization/app/templates.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/personalization/fake_slot_repository.h"
#include "tests/support/status_checks.h"

namespace {

using crm::outbox::WriteMeta;
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
  crm::testing::FixedClock clock{absl::FromUnixSeconds(1'800'000'000)};
  Templates templates{repo, &clock};
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
  Templates restarted(w.repo, &w.clock);
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

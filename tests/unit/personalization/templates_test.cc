// Message templates (pure): save-time checks with line and column, escaping
// per part (no script or header injection through profile fields, whatever
// the tags), locale fallback, partials, JSON bodies, birthdays in the
// customer's time zone.
#include "services/personalization/domain/templates.h"

#include <catch2/catch.hpp>
#include <string>

#include "libs/common/errors.h"

namespace {

using crm::personalization::domain::Escape;
using crm::personalization::domain::EscapeFor;
using crm::personalization::domain::IsBirthday;
using crm::personalization::domain::Mentions;
using crm::personalization::domain::MessageTemplate;
using crm::personalization::domain::NormalizeTemplate;
using crm::personalization::domain::PickLocale;
using crm::personalization::domain::RenderTemplate;
using crm::personalization::domain::TemplateChannel;
using crm::personalization::domain::TemplateLocale;
using crm::personalization::domain::TemplateSample;

MessageTemplate Email(std::string subject, std::string html, std::string text = "") {
  MessageTemplate t;
  t.template_id = "welcome";
  t.display_name = "Welcome";
  t.channel = TemplateChannel::kEmail;
  TemplateLocale l;
  l.locale = "en";
  l.parts["subject"] = std::move(subject);
  if (!html.empty()) l.parts["html"] = std::move(html);
  if (!text.empty()) l.parts["text"] = std::move(text);
  t.locales.push_back(std::move(l));
  return t;
}

std::string Refusal(MessageTemplate t) {
  absl::Status s = NormalizeTemplate(t);
  INFO(s.ToString());
  REQUIRE(s.code() == absl::StatusCode::kInvalidArgument);
  return crm::common::FieldOf(s) + " | " + std::string(s.message());
}

nlohmann::json Data(const std::string& given_name) {
  nlohmann::json d = TemplateSample();
  d["customer"]["given_name"] = given_name;
  return d;
}

}  // namespace

TEST_CASE("A template using the data's names and its partials is accepted") {
  MessageTemplate t =
      Email("Hello {{customer.given_name}}",
            "<p>Hi {{customer.given_name}}</p>{{#recommendations}}<li>{{sku}} ({{category}})</li>"
            "{{/recommendations}}{{^offers}}no offers{{/offers}}{{#birthday.today}}Happy birthday!"
            "{{/birthday.today}}{{customer.attributes.tier}}{{> footer}}",
            "Hi {{customer.given_name}}");
  t.partials["footer"] = "<footer>{{customer.email}}</footer>";
  t.locales[0].locale = "EN";
  REQUIRE(NormalizeTemplate(t).ok());
  CHECK(t.locales[0].locale == "en");
  CHECK(t.default_locale == "en");
}

TEST_CASE("Invalid syntax is refused with the part, line and column") {
  CHECK(Refusal(Email("Hi", "<p>\n  {{customer.given_name</p>")) ==
        "locales.parts | en html: unclosed tag (line 2, column 3)");
  CHECK(Refusal(Email("Hi", "{{#offers}}\n{{display_name}}")) ==
        "locales.parts | en html: unclosed section \"offers\" (line 1, column 1)");
  CHECK(Refusal(Email("Hi {{/offers}}", "x")) ==
        "locales.parts | en subject: unopened section \"offers\" (line 1, column 4)");
  MessageTemplate bad_partial = Email("Hi", "{{> footer}}");
  bad_partial.partials["footer"] = "é{{oops";
  CHECK(Refusal(bad_partial) == "partials | partial \"footer\": unclosed tag (line 1, column 2)");
}

TEST_CASE("Unknown names and partials are refused at save time, not at send time") {
  CHECK(Refusal(Email("Hi", "<p>\n\n   {{customer.first_name}}</p>")) ==
        "locales.parts | en html: unknown name \"customer.first_name\" (line 3, column 4): see "
        "the template data in docs/api.md, \"Message templates\"");
  // Inside a section: looked up in the element, then outside.
  CHECK(Refusal(Email("Hi", "{{#recommendations}}{{price}}{{/recommendations}}"))
            .find("unknown name \"price\" (line 1, column 21)") != std::string::npos);
  // Inside an inverted section (rendered only when the list is empty).
  CHECK(
      Refusal(Email("Hi", "{{^offers}}{{nothing}}{{/offers}}")).find("unknown name \"nothing\"") !=
      std::string::npos);
  CHECK(Refusal(Email("Hi", "{{> header}}")) ==
        "locales.parts | en html: unknown partial \"header\" (line 1, column 1): define it in "
        "partials");
  MessageTemplate loop = Email("Hi", "{{> a}}");
  loop.partials["a"] = "x{{> a}}";
  CHECK(Refusal(loop).find("partials nest more than 100 deep") != std::string::npos);
}

TEST_CASE("Channels need their parts, and only theirs") {
  CHECK(Refusal(Email("", "x")) == "locales.parts | en: the subject is required");
  CHECK(Refusal(Email("Hi", "")) == "locales.parts | en: an email needs an html or a text part");
  MessageTemplate sms = Email("Hi", "x");
  sms.channel = TemplateChannel::kSms;
  CHECK(Refusal(sms) == "locales.parts | en: this channel's parts are text, not \"html\"");
  MessageTemplate hook;
  hook.template_id = "hook";
  hook.display_name = "Hook";
  hook.channel = TemplateChannel::kWebhook;
  hook.locales = {TemplateLocale{"en", {{"json", "{\"name\": {{customer.given_name}}}"}}}};
  CHECK(Refusal(hook).find("the rendered body is not JSON") != std::string::npos);
  hook.locales[0].parts["json"] =
      "{\"name\": \"{{customer.given_name}}\", \"skus\": "
      "[{{#recommendations}}\"{{sku}}\"{{/recommendations}}]}";
  REQUIRE(NormalizeTemplate(hook).ok());
  MessageTemplate twice = Email("Hi", "x");
  twice.locales.push_back(twice.locales[0]);
  twice.locales[1].locale = "EN";
  CHECK(Refusal(twice) == "locales.locale | locale en is given twice");
  MessageTemplate odd = Email("Hi", "x");
  odd.locales[0].locale = "english!";
  CHECK(Refusal(odd).rfind("locales.locale | ", 0) == 0);
  MessageTemplate wrong_default = Email("Hi", "x");
  wrong_default.default_locale = "fr";
  CHECK(Refusal(wrong_default).rfind("default_locale | ", 0) == 0);
}

TEST_CASE("Profile fields cannot inject script or headers, whatever the tags") {
  const std::string evil = "<script>alert(\"x\")</script>\r\nBcc: all@example.com";
  MessageTemplate t =
      Email("Hello {{customer.given_name}} {{{customer.given_name}}}",
            "<p>{{customer.given_name}}</p><p>{{{customer.given_name}}}</p>"
            "<p>{{& customer.given_name}}</p>{{=<% %>=}}<p><%& customer.given_name %></p>",
            "Hi {{{customer.given_name}}}");
  REQUIRE(NormalizeTemplate(t).ok());
  auto out = RenderTemplate(t, t.locales[0], Data(evil));
  REQUIRE(out.ok());
  const std::string& html = out->at("html");
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") != std::string::npos);
  const std::string& subject = out->at("subject");
  CHECK(subject.find('\n') == std::string::npos);
  CHECK(subject.find('\r') == std::string::npos);
  CHECK(subject.find("Bcc: all@example.com") != std::string::npos);  // on the one line
  CHECK(out->at("text") == "Hi <script>alert(\"x\")</script>\nBcc: all@example.com");
  // A webhook body stays JSON, the value one string.
  MessageTemplate hook;
  hook.template_id = "hook";
  hook.display_name = "Hook";
  hook.channel = TemplateChannel::kWebhook;
  hook.locales = {TemplateLocale{"en", {{"json", "{\"name\": \"{{{customer.given_name}}}\"}"}}}};
  REQUIRE(NormalizeTemplate(hook).ok());
  auto body = RenderTemplate(hook, hook.locales[0], Data(evil + "\", \"admin\": true, \"x\": \""));
  REQUIRE(body.ok());
  const nlohmann::json j = nlohmann::json::parse(body->at("json"));
  CHECK(j.size() == 1);
  CHECK(j.at("name").get<std::string>() ==
        "<script>alert(\"x\")</script>\r\nBcc: all@example.com\", \"admin\": true, \"x\": \"");
}

TEST_CASE("Escaping per part") {
  CHECK(EscapeFor(Escape::kHtml, "a&b<c>\"'`=") == "a&amp;b&lt;c&gt;&quot;&#39;&#96;&#61;");
  CHECK(EscapeFor(Escape::kLine, "a\r\nb\tc\x01") == "a  b c");
  CHECK(EscapeFor(Escape::kText, "a\r\nb\x7f") == "a\nb");
  CHECK(EscapeFor(Escape::kJson, "\"\\\n<") == "\\\"\\\\\\u000a\\u003c");
  CHECK(EscapeFor(Escape::kHtml, "Zürich") == "Zürich");
}

TEST_CASE("Rendering: sections over the data, numbers, missing values render empty") {
  MessageTemplate t = Email("{{#offers}}{{display_name}} {{discount_percent}} %{{/offers}}",
                            "{{#recommendations}}[{{sku}}]{{/recommendations}}"
                            "{{^recommendations}}popular{{/recommendations}}");
  REQUIRE(NormalizeTemplate(t).ok());
  nlohmann::json d = TemplateSample();
  d["offers"] = nlohmann::json::array({{{"display_name", "A"}, {"discount_percent", 15}}});
  d["recommendations"] = nlohmann::json::array({{{"sku", "X"}}, {{"sku", "Y"}}});
  auto out = RenderTemplate(t, t.locales[0], d);
  REQUIRE(out.ok());
  CHECK(out->at("subject") == "A 15 %");
  CHECK(out->at("html") == "[X][Y]");
  d["recommendations"] = nlohmann::json::array();
  CHECK(RenderTemplate(t, t.locales[0], d)->at("html") == "popular");
}

TEST_CASE("The locale falls back to the language, then to the default") {
  MessageTemplate t = Email("Hi", "en");
  t.locales.push_back(TemplateLocale{"de", {{"subject", "Hallo"}, {"html", "de"}}});
  t.locales.push_back(TemplateLocale{"fr-CH", {{"subject", "Salut"}, {"html", "fr-CH"}}});
  t.default_locale = "de";
  REQUIRE(NormalizeTemplate(t).ok());
  CHECK(PickLocale(t, "fr-ch").locale == "fr-CH");
  CHECK(PickLocale(t, "de-AT").locale == "de");
  CHECK(PickLocale(t, "fr").locale == "fr-CH");
  CHECK(PickLocale(t, "it-CH").locale == "de");
  CHECK(PickLocale(t, "").locale == "de");
  CHECK(PickLocale(t, "en_GB").locale == "en");
}

TEST_CASE("A birthday is on its day in the customer's time zone") {
  absl::TimeZone zurich, auckland;
  REQUIRE(absl::LoadTimeZone("Europe/Zurich", &zurich));
  REQUIRE(absl::LoadTimeZone("Pacific/Auckland", &auckland));
  // 2026-12-09 22:30 UTC: the 9th in Zurich, already the 10th in Auckland.
  const absl::Time t =
      absl::FromCivil(absl::CivilSecond(2026, 12, 9, 22, 30, 0), absl::UTCTimeZone());
  CHECK(IsBirthday(12, 9, zurich, t));
  CHECK_FALSE(IsBirthday(12, 10, zurich, t));
  CHECK(IsBirthday(12, 10, auckland, t));
  // 29 February: on the 28th in other years, on the 29th in leap years.
  const absl::Time feb28 = absl::FromCivil(absl::CivilSecond(2027, 2, 28, 12, 0, 0), zurich);
  CHECK(IsBirthday(2, 29, zurich, feb28));
  const absl::Time leap28 = absl::FromCivil(absl::CivilSecond(2028, 2, 28, 12, 0, 0), zurich);
  CHECK_FALSE(IsBirthday(2, 29, zurich, leap28));
  CHECK(IsBirthday(2, 29, zurich, leap28 + absl::Hours(24)));
}

TEST_CASE("A render computes only the sections a template names") {
  MessageTemplate t = Email("Hi", "{{#offers}}{{display_name}}{{/offers}}");
  t.partials["list"] = "{{#recommendations}}{{sku}}{{/recommendations}}";
  CHECK(Mentions(t, "offers"));
  CHECK(Mentions(t, "recommendations"));  // in a partial
  CHECK_FALSE(Mentions(t, "interests"));
}

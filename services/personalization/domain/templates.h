#pragma once
// Message templates (docs/personalization.md, "Message templates"): Mustache
// (kainjow's implementation, Debian's libkainjow-mustache-dev) per channel
// and locale, checked when saved so that a send never meets an error.
//
// A template has parts by channel: email {subject, html, text} (the
// subject and one of html / text required), sms {text}, push {title,
// body}, webhook {json}. Every value a part shows is escaped for the part
// before the template sees it: HTML entities in html; one line (CR, LF
// and tabs become spaces, other control characters dropped) in subject and
// title, so a profile field cannot inject a mail header; control
// characters but the line feed dropped in text and body; JSON string
// escapes in json. Escaping the data rather than the tags means neither a
// triple mustache, nor `{{& }}`, nor a changed delimiter can print a value
// raw: no script injection through profile fields.
//
// The data is a tree (TemplateSample says which names exist): customer,
// birthday, recommendations, offers, interests, now. A template may use
// only those names (and customer.attributes.<any>), and partials it defines
// itself; a name or partial it does not know, or invalid syntax, is refused
// at save time with the part, line and column.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::personalization::domain {

enum class TemplateChannel { kEmail, kSms, kPush, kWebhook };
enum class Escape { kHtml, kLine, kText, kJson };

struct TemplatePart {
  const char* name;
  bool required;
  Escape escape;
};
// The parts a channel's templates have, in order.
const std::vector<TemplatePart>& PartsOf(TemplateChannel c);

inline constexpr std::size_t kMaxTemplateLocales = 20;
inline constexpr std::size_t kMaxTemplatePartials = 20;
inline constexpr std::size_t kMaxTemplateSourceBytes = 64 * 1024;  // per part or partial
inline constexpr int kMaxPartialExpansions = 100;                  // per rendered part

struct TemplateLocale {
  std::string locale;                        // BCP 47 ("de-CH"); normalized case
  std::map<std::string, std::string> parts;  // part name -> Mustache source
};

struct MessageTemplate {
  std::string template_id;  // [a-z0-9][a-z0-9_-]{0,63}
  std::string display_name;
  TemplateChannel channel = TemplateChannel::kEmail;
  std::string default_locale;                   // one of locales' (the first when not given)
  std::vector<TemplateLocale> locales;          // 1..20, distinct
  std::map<std::string, std::string> partials;  // {{> name}}: at most 20
  std::int64_t version = 0;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

// Every name a template may use, each with a sample value (lists with one
// element, booleans true): what a preview without a customer shows.
const nlohmann::json& TemplateSample();

// Checks and normalizes a template: id, display name (1..200), channel
// parts (required ones present, no unknown part), locales (1..20, BCP 47,
// distinct; default among them), partials (at most 20, names
// [a-z0-9_-]{1,64}), sizes, and compiles every part of every locale with
// its partials against the sample data: invalid syntax, an unknown name or
// partial, partials that nest deeper than 100 expansions, or (webhook) a
// body that is not JSON are INVALID_ARGUMENT naming the field
// ("locales.parts" / "partials") with the locale, part, line and column.
absl::Status NormalizeTemplate(MessageTemplate& t);

// The locale to render for `wanted`: the same tag, else the same language
// ("de" for "de-CH", or any "de-*"), else the default.
const TemplateLocale& PickLocale(const MessageTemplate& t, const std::string& wanted);

// Renders every part of `locale` with `data` (objects, arrays, strings,
// numbers, booleans; null is false). The template was checked when saved;
// FAILED_PRECONDITION for a webhook body the data made invalid JSON.
absl::StatusOr<std::map<std::string, std::string>> RenderTemplate(const MessageTemplate& t,
                                                                  const TemplateLocale& locale,
                                                                  const nlohmann::json& data);

// Whether any part or partial of the template contains `name` (a name
// is written out in the source, whatever the delimiters: never false when
// the template uses it), so a render computes only the sections it shows.
bool Mentions(const MessageTemplate& t, absl::string_view name);

// Escapes `value` for a part (exposed for the tests).
std::string EscapeFor(Escape e, const std::string& value);

// Whether a birthday (month 1..12, day 1..31) is today in the customer's
// time zone at `now`; 29 February is celebrated on 28 February in other
// years.
bool IsBirthday(int month, int day, absl::TimeZone zone, absl::Time now);

}  // namespace crm::personalization::domain

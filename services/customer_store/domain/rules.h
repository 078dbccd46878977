#pragma once
// Validation and normalization rules of the customer store (pure).
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/customer_store/domain/customer.h"

namespace crm::customer_store::domain {

inline constexpr int kMaxNameLength = 200;
inline constexpr int kMaxAttributes = 100;
inline constexpr int kMaxIdentitiesPerKind = 20;
inline constexpr int kMaxAttributeStringLength = 2000;

// Trimmed, lower-cased; local@domain with a dotted domain; at most 254 chars.
absl::StatusOr<std::string> NormalizeEmail(absl::string_view raw);
// E.164: "+" then 8..15 digits, first digit 1..9. Accepts spaces, dots,
// dashes, parentheses and a leading "00" for "+". National numbers without
// a country code are refused (the message says so).
absl::StatusOr<std::string> NormalizePhone(absl::string_view raw);
// Source system and value of an external id: non-empty, at most 128 chars,
// source in [a-z0-9_.-].
absl::Status ValidateExternalId(const ExternalId& id);
// year 0 (unknown) or 1900..2200; real calendar day.
absl::Status ValidateDate(const Date& d, absl::string_view field);
// Attribute keys: [a-z][a-z0-9_]{0,63}.
bool IsValidAttributeKey(absl::string_view key);
// BCP 47 shape, e.g. "en", "de-CH", "zh-Hant-TW".
bool IsValidLocale(absl::string_view locale);

// Normalizes identities in place (dedupes, keeps order) and validates every
// field; errors name the field (e.g. "emails[1]").
absl::Status NormalizeAndValidate(Customer& c);

// Field-mask update: copies the named paths from `patch` into `target`.
// Paths: given_name family_name display_name emails phones external_ids
// postal_address birthday anniversaries locale time_zone lifecycle_stage
// owner attributes attributes.<key> (a missing key in patch removes it).
// Output-only or unknown paths are INVALID_ARGUMENT (INVALID_UPDATE_MASK).
absl::Status ApplyUpdateMask(const Customer& patch, const std::vector<std::string>& paths,
                             Customer& target);

// Current consent per (channel, purpose): the newest record of each.
// Input in any order; output ordered by channel then purpose.
std::vector<Consent> CurrentConsents(const std::vector<Consent>& history);
absl::Status ValidateConsent(const Consent& c);
absl::Status ValidateInteraction(const Interaction& i);

// Identities of a customer as the flat list stored in the identities table.
std::vector<Identity> IdentitiesOf(const Customer& c);

// Whether two customers hold the same content: every field a write may
// change, not the id, version or times. An update that keeps the content
// writes nothing.
bool SameContent(const Customer& a, const Customer& b);

// An update's or an erasure's if_match against the customer's etag ("":
// not checked); ABORTED ETAG_MISMATCH on a mismatch.
absl::Status CheckIfMatch(const Customer& c, const std::string& if_match);
absl::Status CheckErasureIfMatch(const Customer& c, const std::string& if_match);

}  // namespace crm::customer_store::domain

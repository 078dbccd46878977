#include "services/service_desk/domain/knowledge.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::domain {
namespace {

constexpr std::array<std::pair<ArticleState, const char*>, 3> kStates = {{
    {ArticleState::kDraft, "draft"},
    {ArticleState::kInternal, "internal"},
    {ArticleState::kPublic, "public"},
}};

absl::Status CheckText(const std::string& field, const std::string& value, size_t max,
                       bool required) {
  CRM_RETURN_IF_ERROR(common::CheckStorableText(field, value));
  if (required && absl::StripAsciiWhitespace(value).empty()) {
    return common::InvalidField(field, field + " is required");
  }
  if (CharCount(value) > max) {
    return common::InvalidField(field, absl::StrCat(field, " is at most ", max, " characters"));
  }
  return absl::OkStatus();
}

// language[-region]: 2..3 letters, then 2..8 letters or digits.
bool IsLocale(const std::string& l) {
  const size_t dash = l.find('-');
  const std::string lang = l.substr(0, dash);
  if (lang.size() < 2 || lang.size() > 3 ||
      !std::all_of(lang.begin(), lang.end(), [](char c) { return absl::ascii_islower(c); })) {
    return false;
  }
  if (dash == std::string::npos) return true;
  const std::string region = l.substr(dash + 1);
  return region.size() >= 2 && region.size() <= 8 &&
         std::all_of(region.begin(), region.end(),
                     [](char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c); });
}

bool IsAsciiByte(char c) { return (static_cast<unsigned char>(c) & 0x80) == 0; }

bool IsAscii(const std::string& w) { return std::all_of(w.begin(), w.end(), IsAsciiByte); }

bool IsWordByte(char c) {
  return absl::ascii_isalnum(c) || (static_cast<unsigned char>(c) & 0x80) != 0;
}

// The text's words (runs of letters and digits; any non-ASCII character
// counts as a letter), lower-cased, each once, in order.
std::vector<std::string> DistinctWords(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && IsWordByte(text[i])) {
      word += text[i];
      continue;
    }
    if (!word.empty()) {
      std::string w = absl::AsciiStrToLower(word);
      if (std::find(words.begin(), words.end(), w) == words.end()) words.push_back(std::move(w));
      word.clear();
    }
  }
  return words;
}

}  // namespace

const char* ArticleStateName(ArticleState s) {
  for (const auto& [state, name] : kStates) {
    if (state == s) return name;
  }
  return "";
}

std::optional<ArticleState> ArticleStateFromName(const std::string& name) {
  for (const auto& [state, n] : kStates) {
    if (name == n) return state;
  }
  return std::nullopt;
}

absl::Status NormalizeAndValidate(Article& a) {
  a.title = std::string(absl::StripAsciiWhitespace(a.title));
  CRM_RETURN_IF_ERROR(CheckText("article.title", a.title, kMaxArticleTitle, true));
  CRM_RETURN_IF_ERROR(CheckText("article.body", a.body, kMaxArticleBody, true));
  a.category = std::string(absl::StripAsciiWhitespace(a.category));
  CRM_RETURN_IF_ERROR(CheckText("article.category", a.category, 64, false));
  a.locale = absl::AsciiStrToLower(absl::StripAsciiWhitespace(a.locale));
  if (a.locale.empty()) a.locale = "en";
  if (!IsLocale(a.locale)) {
    return common::InvalidField("article.locale",
                                "article.locale is a language tag: \"en\", \"ko\", \"pt-br\"");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TsQueryOf(const SearchQuery& q) {
  CRM_RETURN_IF_ERROR(common::CheckStorableText("q", q.text));
  if (CharCount(q.text) > kMaxSearchText) {
    return common::InvalidField("q", absl::StrCat("q is at most ", kMaxSearchText, " characters"));
  }
  if (q.limit < 1 || q.limit > kMaxSearchHits) {
    return common::InvalidField("limit", absl::StrCat("limit is 1..", kMaxSearchHits));
  }
  if (!q.state.empty() && !ArticleStateFromName(q.state)) {
    return common::InvalidField("state", "state is draft, internal or public");
  }
  if (!q.locale.empty() && !IsLocale(q.locale)) {
    return common::InvalidField("locale", "locale is a language tag: \"en\", \"ko\", \"pt-br\"");
  }
  std::vector<std::string> words = DistinctWords(q.text);
  if (words.empty()) return common::InvalidField("q", "q needs at least one word");
  if (words.size() > kMaxSearchWords) {
    return common::InvalidField("q", absl::StrCat("q has at most ", kMaxSearchWords, " words"));
  }
  for (size_t i = 0; i < words.size(); ++i) {
    std::string& w = words[i];
    const bool last = i + 1 == words.size();
    if ((last && CharCount(w) >= 3) || !IsAscii(w)) {
      w += ":*";
    }
  }
  return absl::StrJoin(words, " & ");
}

absl::StatusOr<std::string> SuggestQueryOf(const SuggestQuery& q) {
  CRM_RETURN_IF_ERROR(common::CheckStorableText("text", q.text));
  if (CharCount(q.text) > kMaxSuggestText) {
    return common::InvalidField("text",
                                absl::StrCat("text is at most ", kMaxSuggestText, " characters"));
  }
  if (q.limit < 1 || q.limit > kMaxSuggestions) {
    return common::InvalidField("limit", absl::StrCat("limit is 1..", kMaxSuggestions));
  }
  std::vector<std::string> kept;
  for (std::string& w : DistinctWords(q.text)) {
    if (CharCount(w) < 2) continue;
    if (!IsAscii(w)) w += ":*";
    kept.push_back(std::move(w));
    if (kept.size() == kMaxSuggestWords) break;
  }
  if (kept.empty()) return common::InvalidField("text", "text needs a word of 2 or more letters");
  return absl::StrJoin(kept, " | ");
}

}  // namespace crm::service_desk::domain

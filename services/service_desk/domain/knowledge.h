#pragma once
// The knowledge base and search (docs/service-desk.md, "Knowledge base and
// search"): articles with a category, a locale and a state (draft,
// internal, public), every version kept; and the search query over
// articles and tickets, turned into a full-text query PostgreSQL runs
// (prefix match of every word, so "card" finds "cards" and "카드" finds
// "카드가"). Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::service_desk::domain {

enum class ArticleState { kDraft = 1, kInternal, kPublic };
const char* ArticleStateName(ArticleState s);  // "draft", "internal", "public"
std::optional<ArticleState> ArticleStateFromName(const std::string& name);

struct Article {
  std::string id;             // UUID, given at creation
  std::string title;          // 1..300 characters
  std::string body;           // 1..100,000 characters (text)
  std::string category;       // 0..64 characters
  std::string locale = "en";  // BCP 47 language[-region], lower-cased: "en", "ko", "pt-br"
  ArticleState state = ArticleState::kDraft;
  std::string author;   // the principal of the last write
  int64_t version = 0;  // the etag; every write keeps the version it makes
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

inline constexpr size_t kMaxArticleTitle = 300;
inline constexpr size_t kMaxArticleBody = 100'000;
inline constexpr size_t kMaxArticles = 200'000;  // a tenant's

// Trims title, category and locale, lower-cases the locale, checks each:
// INVALID_ARGUMENT naming the field ("article.title", "article.locale").
absl::Status NormalizeAndValidate(Article& a);

enum class SearchScope { kAll = 0, kArticles, kTickets };

struct SearchQuery {
  std::string text;  // 1..200 characters, at least one word
  SearchScope scope = SearchScope::kAll;
  int limit = 10;  // each kind's hits, 1..50
  // Articles only: "" for every state / locale.
  std::string state;
  std::string locale;
};

inline constexpr size_t kMaxSearchText = 200;
inline constexpr int kMaxSearchHits = 50;
inline constexpr size_t kMaxSearchWords = 16;
// Each kind's matches a search ranks at most: the most recent ones
// (service_desk.search_candidates, migration 014: it reads the newest
// kSearchSample rows, walks on up to kSearchWalk rows when the matches
// there project that this is cheaper, else takes the rest from the GIN
// index; bench/README.md has the figures these were chosen by).
inline constexpr int kSearchCandidates = 500;
inline constexpr int kSearchSample = 4'000;
inline constexpr int kSearchWalk = 100'000;

// The query's words as a PostgreSQL tsquery, all of them required; a word
// is a run of letters and digits (any non-ASCII character counts as a
// letter). The last word is a prefix (the agent may still be typing) when
// it has 3 or more characters, and so is every word with a non-ASCII
// character (Korean words carry their particles: "카드" finds "카드가");
// other words are whole words, stemmed by the database ("charged twice"
// is "charged & twice:*" here, "charg & twice:*" there: a prefix costs the
// index every word it begins). INVALID_ARGUMENT "q" for no word, more
// than 16, or a text over 200 characters; the state and locale checked.
absl::StatusOr<std::string> TsQueryOf(const SearchQuery& q);

// Auto-suggest (docs/service-desk.md, "Auto-suggest"): an agent's pasted
// question (1..10,000 characters) and how many of each kind (1..10).
struct SuggestQuery {
  std::string text;
  int limit = 5;
};
inline constexpr size_t kMaxSuggestText = 10'000;
inline constexpr int kMaxSuggestions = 10;
inline constexpr size_t kMaxSuggestWords = 32;
// The question's words as a tsquery where any word may match ("card |
// arriv | week"), ranked by how many and how close: its first 32 distinct
// words of 2 or more characters, Korean ones as prefixes. INVALID_ARGUMENT
// "text" for no such word or a text out of bounds, "limit".
absl::StatusOr<std::string> SuggestQueryOf(const SuggestQuery& q);

}  // namespace crm::service_desk::domain

#pragma once
// The knowledge base and search (docs/service-desk.md, "Knowledge base and
// search"): articles written under their etag (desk writers), every
// version kept, listed by filters; full-text search over articles and
// tickets (PostgreSQL full-text search, index updated in the write).
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::app {

class KnowledgeBase final {
 public:
  KnowledgeBase(TicketRepository& repository, const common::Clock& clock, common::IdGenerator& ids)
      : repository_(repository), clock_(clock), ids_(ids) {}

  // FAILED_PRECONDITION TOO_MANY_ARTICLES past domain::kMaxArticles.
  absl::StatusOr<domain::Article> Create(const Actor& actor, domain::Article a);
  absl::StatusOr<domain::Article> Get(const std::string& tenant, const std::string& id);
  absl::StatusOr<ArticlePage> List(const std::string& tenant, ArticleQuery q);
  // The whole article under if_match ("" = last writer wins): a new version.
  absl::StatusOr<domain::Article> Update(const Actor& actor, const std::string& id,
                                         domain::Article a, const std::string& if_match);
  absl::StatusOr<domain::Article> Delete(const Actor& actor, const std::string& id,
                                         const std::string& if_match);
  absl::StatusOr<std::vector<domain::Article>> Versions(const std::string& tenant,
                                                        const std::string& id);
  absl::StatusOr<SearchResult> Search(const std::string& tenant, const domain::SearchQuery& q);
  // Auto-suggest: for an agent's pasted question, the best articles,
  // macros and past answers (domain::SuggestQueryOf's checks).
  absl::StatusOr<Suggestions> Suggest(const std::string& tenant, const domain::SuggestQuery& q);

 private:
  absl::Time Now() const;

  TicketRepository& repository_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::service_desk::app

#include "services/service_desk/app/knowledge.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "services/service_desk/app/documents.h"

namespace crm::service_desk::app {
namespace {

absl::Status ArticleNotFound() {
  return common::NotFound("ARTICLE_NOT_FOUND", "no article has this article_id");
}

absl::Status CheckArticleId(const std::string& id) {
  if (!common::IsUuid(id)) return common::InvalidField("article_id", "article_id must be a UUID");
  return absl::OkStatus();
}

const ResourceKind<domain::Article> kArticleKind{"article",
                                                 domain::kMaxArticles,
                                                 "TOO_MANY_ARTICLES",
                                                 ArticleNotFound,
                                                 &TicketTx::LoadArticle,
                                                 &TicketTx::SaveArticle,
                                                 &TicketTx::DeleteArticle,
                                                 &TicketTx::CountArticles};

}  // namespace

absl::Time KnowledgeBase::Now() const {
  return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now()));
}

absl::StatusOr<domain::Article> KnowledgeBase::Create(const Actor& actor, domain::Article a) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(a));
  a.id = ids_.NewId();
  a.version = 1;
  a.author = actor.principal;
  a.create_time = a.update_time = Now();
  return CreateResource(repository_, kArticleKind, actor, a);
}

absl::StatusOr<domain::Article> KnowledgeBase::Get(const std::string& tenant,
                                                   const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckArticleId(id));
  return repository_.GetArticle(tenant, id);
}

absl::StatusOr<ArticlePage> KnowledgeBase::List(const std::string& tenant, ArticleQuery q) {
  if (q.limit == 0) q.limit = 50;
  if (q.limit < 1 || q.limit > 100) {
    return common::InvalidField("page_size", "page_size is 1..100");
  }
  if (!q.after_id.empty() && !common::IsUuid(q.after_id)) {
    return common::InvalidField("page_token", "page_token is not one this list gave");
  }
  domain::SearchQuery filters;  // the same checks as a search's
  filters.text = "x";
  filters.state = q.state;
  filters.locale = q.locale;
  CRM_RETURN_IF_ERROR(domain::TsQueryOf(filters).status());
  return repository_.ListArticles(tenant, q);
}

absl::StatusOr<domain::Article> KnowledgeBase::Update(const Actor& actor, const std::string& id,
                                                      domain::Article a,
                                                      const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(CheckArticleId(id));
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(a));
  const absl::Time now = Now();
  return ChangeResource<domain::Article>(
      repository_, kArticleKind, actor, id, if_match,
      [&](const domain::Article& current) {
        domain::Article next = a;
        next.id = id;
        next.author = actor.principal;
        next.version = current.version + 1;
        next.create_time = current.create_time;
        next.update_time = std::max(now, current.update_time);
        return next;
      },
      false);
}

absl::StatusOr<domain::Article> KnowledgeBase::Delete(const Actor& actor, const std::string& id,
                                                      const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(CheckArticleId(id));
  return ChangeResource<domain::Article>(
      repository_, kArticleKind, actor, id, if_match,
      [](const domain::Article& current) { return current; }, true);
}

absl::StatusOr<std::vector<domain::Article>> KnowledgeBase::Versions(const std::string& tenant,
                                                                     const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckArticleId(id));
  return repository_.ArticleVersions(tenant, id);
}

absl::StatusOr<SearchResult> KnowledgeBase::Search(const std::string& tenant,
                                                   const domain::SearchQuery& q) {
  CRM_ASSIGN_OR_RETURN(std::string tsquery, domain::TsQueryOf(q));
  return repository_.Search(tenant, q, tsquery);
}

absl::StatusOr<Suggestions> KnowledgeBase::Suggest(const std::string& tenant,
                                                   const domain::SuggestQuery& q) {
  CRM_ASSIGN_OR_RETURN(std::string tsquery, domain::SuggestQueryOf(q));
  return repository_.Suggest(tenant, tsquery, q.limit);
}

}  // namespace crm::service_desk::app

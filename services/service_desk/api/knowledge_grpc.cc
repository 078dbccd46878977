// The knowledge base's and the search's RPCs of ServiceDeskGrpcService and
// their proto mapping.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/service_desk/api/grpc_service.h"

namespace crm::service_desk::api {
namespace {

absl::StatusOr<domain::Article> ArticleOf(const v1::Article& in) {
  domain::Article a;
  a.title = in.title();
  a.body = in.body();
  a.category = in.category();
  a.locale = in.locale();
  if (in.state() != v1::ARTICLE_STATE_UNSPECIFIED) {
    if (!v1::ArticleState_IsValid(in.state())) {
      return common::InvalidField("article.state", "article.state is not an article state");
    }
    a.state = static_cast<domain::ArticleState>(in.state());
  }
  return a;
}

void ArticleToProto(const domain::Article& a, v1::Article* out) {
  out->set_id(a.id);
  out->set_title(a.title);
  out->set_body(a.body);
  out->set_category(a.category);
  out->set_locale(a.locale);
  out->set_state(static_cast<v1::ArticleState>(a.state));
  out->set_author(a.author);
  out->set_etag(absl::StrCat(a.version));
  grpcutil::ToTimestamp(a.create_time, out->mutable_create_time());
  grpcutil::ToTimestamp(a.update_time, out->mutable_update_time());
}

void HitToProto(const app::ArticleHit& h, v1::ArticleHit* out) {
  ArticleToProto(h.article, out->mutable_article());
  out->set_score(h.score);
  out->set_snippet(h.snippet);
}

}  // namespace

grpc::ServerUnaryReactor* ServiceDeskGrpcService::CreateArticle(grpc::CallbackServerContext* ctx,
                                                                const v1::CreateArticleRequest* req,
                                                                v1::Article* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "CreateArticle", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Article a, ArticleOf(req->article()));
        CRM_ASSIGN_OR_RETURN(domain::Article out, knowledge_.Create(grpcutil::IdempotentWriteMetaOf(
                                                                        rc, "CreateArticle", *req),
                                                                    std::move(a)));
        ArticleToProto(out, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetArticle(grpc::CallbackServerContext* ctx,
                                                             const v1::GetArticleRequest* req,
                                                             v1::Article* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "GetArticle", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Article out, knowledge_.Get(rc.tenant_id, req->article_id()));
        ArticleToProto(out, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::ListArticles(grpc::CallbackServerContext* ctx,
                                                               const v1::ListArticlesRequest* req,
                                                               v1::ListArticlesResponse* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "ListArticles", [=](const grpcutil::RequestContext& rc) {
        app::ArticleQuery q;
        q.category = req->category();
        q.state = req->state();
        q.locale = req->locale();
        q.limit = req->page_size();
        q.after_id = req->page_token();
        CRM_ASSIGN_OR_RETURN(app::ArticlePage page, knowledge_.List(rc.tenant_id, std::move(q)));
        for (const domain::Article& a : page.items) ArticleToProto(a, resp->add_articles());
        resp->set_next_page_token(page.next_after);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UpdateArticle(grpc::CallbackServerContext* ctx,
                                                                const v1::UpdateArticleRequest* req,
                                                                v1::Article* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "UpdateArticle", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(domain::Article a, ArticleOf(req->article()));
        const std::string if_match = req->etag().empty() ? req->article().etag() : req->etag();
        CRM_ASSIGN_OR_RETURN(
            domain::Article out,
            knowledge_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateArticle", *req),
                              req->article_id(), std::move(a), if_match));
        ArticleToProto(out, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::DeleteArticle(grpc::CallbackServerContext* ctx,
                                                                const v1::DeleteArticleRequest* req,
                                                                v1::DeleteArticleResponse*) {
  return grpcutil::Offload(ctx, executor_, metrics_, "DeleteArticle",
                           [=](const grpcutil::RequestContext& rc) {
                             return knowledge_
                                 .Delete(grpcutil::IdempotentWriteMetaOf(rc, "DeleteArticle", *req),
                                         req->article_id(), req->etag())
                                 .status();
                           });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::ListArticleVersions(
    grpc::CallbackServerContext* ctx, const v1::ListArticleVersionsRequest* req,
    v1::ListArticleVersionsResponse* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "ListArticleVersions", [=](const grpcutil::RequestContext& rc) {
        CRM_ASSIGN_OR_RETURN(std::vector<domain::Article> versions,
                             knowledge_.Versions(rc.tenant_id, req->article_id()));
        for (const domain::Article& a : versions) ArticleToProto(a, resp->add_versions());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::Search(grpc::CallbackServerContext* ctx,
                                                         const v1::SearchRequest* req,
                                                         v1::SearchResponse* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "Search", [=](const grpcutil::RequestContext& rc) {
        if (!v1::SearchScope_IsValid(req->scope())) {
          return common::InvalidField("scope", "scope is SEARCH_SCOPE_ALL, _ARTICLES or _TICKETS");
        }
        domain::SearchQuery q;
        q.text = req->q();
        q.scope = static_cast<domain::SearchScope>(req->scope());
        q.limit = req->limit() == 0 ? 10 : req->limit();
        q.state = req->state();
        q.locale = req->locale();
        CRM_ASSIGN_OR_RETURN(app::SearchResult found, knowledge_.Search(rc.tenant_id, q));
        for (const app::ArticleHit& h : found.articles) HitToProto(h, resp->add_articles());
        for (const app::TicketHit& h : found.tickets) {
          v1::TicketHit* hit = resp->add_tickets();
          hit->set_ticket_id(h.ticket_id);
          hit->set_number(h.number);
          hit->set_subject(h.subject);
          hit->set_status(static_cast<v1::TicketStatus>(h.status));
          hit->set_score(h.score);
          hit->set_snippet(h.snippet);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::Suggest(grpc::CallbackServerContext* ctx,
                                                          const v1::SuggestRequest* req,
                                                          v1::SuggestResponse* resp) {
  return grpcutil::Offload(
      ctx, executor_, metrics_, "Suggest", [=](const grpcutil::RequestContext& rc) {
        domain::SuggestQuery q;
        q.text = req->text();
        q.limit = req->limit() == 0 ? 5 : req->limit();
        CRM_ASSIGN_OR_RETURN(app::Suggestions found, knowledge_.Suggest(rc.tenant_id, q));
        for (const app::ArticleHit& h : found.articles) HitToProto(h, resp->add_articles());
        for (const app::MacroHit& h : found.macros) {
          v1::MacroHit* hit = resp->add_macros();
          hit->set_macro_id(h.macro_id);
          hit->set_name(h.name);
          hit->set_score(h.score);
          hit->set_snippet(h.snippet);
        }
        for (const app::AnswerHit& h : found.answers) {
          v1::AnswerHit* hit = resp->add_answers();
          hit->set_ticket_id(h.ticket_id);
          hit->set_number(h.number);
          hit->set_subject(h.subject);
          hit->set_message_id(h.message_id);
          hit->set_answer(h.answer);
          hit->set_score(h.score);
          hit->set_snippet(h.snippet);
        }
        return absl::OkStatus();
      });
}

}  // namespace crm::service_desk::api

// The knowledge base: articles' checks, the search query as a tsquery
// (words, prefixes, limits), articles written under their etag with every
// version kept, listed by filters and pages, and tenants. (The ranking is
// PostgreSQL's: tests/integration/service_desk.)
#include "services/service_desk/domain/knowledge.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/knowledge.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::Article;
using sd::domain::ArticleState;
using sd::domain::SearchQuery;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";

Article Refunds() {
  Article a;
  a.title = " How refunds work ";
  a.body = "A refund reaches your card in 5 to 10 days.";
  a.category = "billing";
  a.locale = "EN";
  a.state = ArticleState::kPublic;
  return a;
}

TEST_CASE("an article is checked and normalized before it is stored", "[service_desk][knowledge]") {
  Article a = Refunds();
  REQUIRE(sd::domain::NormalizeAndValidate(a).ok());
  CHECK(a.title == "How refunds work");
  CHECK(a.locale == "en");
  const auto field = [](auto change) {
    Article x = Refunds();
    change(x);
    return crm::common::FieldOf(sd::domain::NormalizeAndValidate(x));
  };
  CHECK(field([](Article& x) { x.title = "  "; }) == "article.title");
  CHECK(field([](Article& x) { x.title = std::string(301, 't'); }) == "article.title");
  CHECK(field([](Article& x) { x.body = ""; }) == "article.body");
  CHECK(field([](Article& x) { x.body = std::string("a\0b", 3); }) == "article.body");
  CHECK(field([](Article& x) { x.category = std::string(65, 'c'); }) == "article.category");
  CHECK(field([](Article& x) { x.locale = "english"; }) == "article.locale");
  CHECK(field([](Article& x) { x.locale = "pt_BR"; }) == "article.locale");
  Article br = Refunds();
  br.locale = "pt-BR";
  REQUIRE(sd::domain::NormalizeAndValidate(br).ok());
  CHECK(br.locale == "pt-br");
  Article none = Refunds();
  none.locale = "";
  REQUIRE(sd::domain::NormalizeAndValidate(none).ok());
  CHECK(none.locale == "en");
}

TEST_CASE("a search is every word, the last and Korean ones as prefixes, bounded",
          "[service_desk][knowledge]") {
  const auto ts = [](const std::string& text) {
    SearchQuery q;
    q.text = text;
    return sd::domain::TsQueryOf(q);
  };
  CHECK(*ts("Card charged TWICE!") == "card & charged & twice:*");
  CHECK(*ts("refund, refund & (card) | !x") == "refund & card & x");  // operators dropped
  CHECK(*ts("카드가 결제") == "카드가:* & 결제:*");
  CHECK(*ts("카드 fee") == "카드:* & fee:*");
  CHECK(*ts("pin id") == "pin & id");  // a 2-character prefix would match half the index
  CHECK(*ts("it's") == "it & s");
  const auto field = [&](const std::string& text) {
    return crm::common::FieldOf(ts(text).status());
  };
  CHECK(field("") == "q");
  CHECK(field("!!! ---") == "q");
  CHECK(field(std::string(201, 'a')) == "q");
  CHECK(field("a b c d e f g h i j k l m n o p q") == "q");  // 17 words
  SearchQuery bad;
  bad.text = "card";
  bad.limit = 51;
  CHECK(crm::common::FieldOf(sd::domain::TsQueryOf(bad).status()) == "limit");
  bad.limit = 10;
  bad.state = "archived";
  CHECK(crm::common::FieldOf(sd::domain::TsQueryOf(bad).status()) == "state");
  bad.state = "";
  bad.locale = "x";
  CHECK(crm::common::FieldOf(sd::domain::TsQueryOf(bad).status()) == "locale");
}

TEST_CASE("a pasted question is any of its words, bounded", "[service_desk][knowledge]") {
  const auto sq = [](const std::string& text, int limit = 5) {
    sd::domain::SuggestQuery q;
    q.text = text;
    q.limit = limit;
    return sd::domain::SuggestQueryOf(q);
  };
  CHECK(*sq("My card has NOT arrived, card!") == "my | card | has | not | arrived");
  CHECK(*sq("a 카드가 b") == "카드가:*");  // one-letter words dropped, Korean as a prefix
  std::string many;
  for (int i = 0; i < 40; ++i) many += "w" + std::to_string(i) + " ";
  CHECK(sq(many)->find("w31") != std::string::npos);
  CHECK(sq(many)->find("w32") == std::string::npos);  // the first 32 words
  const auto field = [&](const std::string& text, int limit = 5) {
    return crm::common::FieldOf(sq(text, limit).status());
  };
  CHECK(field("") == "text");
  CHECK(field("a b c !") == "text");
  CHECK(field(std::string(10'001, 'a')) == "text");
  CHECK(field("card", 0) == "limit");
  CHECK(field("card", 11) == "limit");
}

struct World {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FixedClock clock{absl::FromUnixSeconds(1'800'000'000)};
  crm::common::RandomIdGenerator ids;
  sd::app::KnowledgeBase kb{repo, clock, ids};
  int keys = 0;

  sd::app::Actor Meta(const std::string& method, const std::string& tenant = kTenant) {
    return sd::app::Actor{tenant, "agent-ann", "req", method, "k" + std::to_string(++keys), "fp"};
  }
};

TEST_CASE("articles are written under their etag, every version kept, and the tenant's",
          "[service_desk][knowledge]") {
  World w;
  auto created = w.kb.Create(w.Meta("CreateArticle"), Refunds());
  REQUIRE(created.ok());
  CHECK(created->version == 1);
  CHECK(created->author == "agent-ann");
  CHECK(created->title == "How refunds work");
  w.clock.Advance(absl::Minutes(1));
  Article edit = Refunds();
  edit.body = "A refund reaches your card in 3 to 5 days.";
  CHECK(crm::common::ReasonOf(
            w.kb.Update(w.Meta("UpdateArticle"), created->id, edit, "7").status()) ==
        "ETAG_MISMATCH");
  auto updated = w.kb.Update(w.Meta("UpdateArticle"), created->id, edit, "1");
  REQUIRE(updated.ok());
  CHECK(updated->version == 2);
  CHECK(updated->create_time == created->create_time);
  CHECK(updated->update_time == created->update_time + absl::Minutes(1));
  auto versions = w.kb.Versions(kTenant, created->id);
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 2);
  CHECK(versions->at(0).version == 2);
  CHECK(versions->at(1).body == "A refund reaches your card in 5 to 10 days.");

  // Lists: filters and pages, without bodies.
  Article draft = Refunds();
  draft.title = "Chargebacks";
  draft.state = ArticleState::kDraft;
  draft.locale = "ko";
  REQUIRE(w.kb.Create(w.Meta("CreateArticle"), draft).ok());
  sd::app::ArticleQuery all;
  auto page = w.kb.List(kTenant, all);
  REQUIRE(page.ok());
  CHECK(page->items.size() == 2);
  CHECK(page->items[0].body.empty());
  sd::app::ArticleQuery drafts;
  drafts.state = "draft";
  CHECK(w.kb.List(kTenant, drafts)->items.size() == 1);
  sd::app::ArticleQuery korean;
  korean.locale = "ko";
  CHECK(w.kb.List(kTenant, korean)->items.at(0).title == "Chargebacks");
  sd::app::ArticleQuery one;
  one.limit = 1;
  auto first = w.kb.List(kTenant, one);
  REQUIRE(first.ok());
  REQUIRE_FALSE(first->next_after.empty());
  one.after_id = first->next_after;
  auto second = w.kb.List(kTenant, one);
  REQUIRE(second.ok());
  REQUIRE(second->items.size() == 1);
  CHECK(second->items[0].id != first->items[0].id);
  sd::app::ArticleQuery bad;
  bad.limit = 101;
  CHECK(crm::common::FieldOf(w.kb.List(kTenant, bad).status()) == "page_size");
  bad.limit = 0;
  bad.after_id = "nope";
  CHECK(crm::common::FieldOf(w.kb.List(kTenant, bad).status()) == "page_token");

  // Search in memory: found by a word's prefix (the database ranks).
  SearchQuery q;
  q.text = "refund card";
  CHECK(w.kb.Search(kTenant, q)->articles.size() == 2);  // the draft says it too
  q.state = "public";
  auto found = w.kb.Search(kTenant, q);
  REQUIRE(found.ok());
  REQUIRE(found->articles.size() == 1);
  CHECK(found->articles[0].article.id == created->id);
  CHECK(w.kb.Search(kOther, q)->articles.empty());

  // Other tenants; delete under the etag.
  CHECK(crm::common::ReasonOf(w.kb.Get(kOther, created->id).status()) == "ARTICLE_NOT_FOUND");
  CHECK(crm::common::ReasonOf(
            w.kb.Update(w.Meta("UpdateArticle", kOther), created->id, edit, "").status()) ==
        "ARTICLE_NOT_FOUND");
  CHECK(crm::common::ReasonOf(w.kb.Versions(kOther, created->id).status()) ==
        "ARTICLE_NOT_FOUND");
  CHECK(w.kb.List(kOther, all)->items.empty());
  CHECK(crm::common::FieldOf(w.kb.Get(kTenant, "nope").status()) == "article_id");
  CHECK(crm::common::ReasonOf(
            w.kb.Delete(w.Meta("DeleteArticle"), created->id, "1").status()) == "ETAG_MISMATCH");
  REQUIRE(w.kb.Delete(w.Meta("DeleteArticle"), created->id, "2").ok());
  CHECK(crm::common::ReasonOf(w.kb.Get(kTenant, created->id).status()) == "ARTICLE_NOT_FOUND");
  CHECK(crm::common::ReasonOf(w.kb.Versions(kTenant, created->id).status()) ==
        "ARTICLE_NOT_FOUND");
  Article bad_article = Refunds();
  bad_article.title = "";
  CHECK(crm::common::FieldOf(w.kb.Create(w.Meta("CreateArticle"), bad_article).status()) ==
        "article.title");
}

}  // namespace

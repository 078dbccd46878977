// PersonalizationGrpcService through real stubs on an in-process server on
// 127.0.0.1:0, over the use cases and the in-memory repository: mapping,
// validation, tenancy, overload and calls that expire while queued.
#include "services/personalization/api/grpc_service.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "libs/common/errors.h"
#include "libs/common/price_quote.h"
#include "libs/grpcutil/status_conversion.h"
#include "libs/grpcutil/testing/test_server.h"
#include "prometheus/registry.h"
#include "tests/support/fakes/personalization/fake_customer_profiles.h"
#include "tests/support/fakes/personalization/fake_offer_repository.h"
#include "tests/support/fakes/personalization/fake_personalization_repository.h"
#include "tests/support/fakes/personalization/fake_price_repository.h"
#include "tests/support/fakes/personalization/fake_slot_repository.h"

namespace {

namespace v1 = ::crm::personalization::v1;
namespace gt = ::crm::grpcutil::testing;
using crm::events::CustomerChange;
using crm::events::OrderFact;
using crm::events::OrderLineFact;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";
constexpr char kC1[] = "33333333-3333-4333-8333-333333333333";
constexpr char kC2[] = "44444444-4444-4444-8444-444444444444";

crm::personalization::app::Fact Known(const std::string& id) {
  CustomerChange c;
  c.kind = CustomerChange::Kind::kCreated;
  c.tenant_id = kTenant;
  c.customer_id = id;
  return c;
}

crm::personalization::app::Fact Bought(const std::string& order, const std::string& customer,
                                       std::vector<std::string> skus) {
  OrderFact o;
  o.tenant_id = kTenant;
  o.order_id = order;
  o.customer_id = customer;
  o.status = "placed";
  o.placed_time = absl::FromUnixSeconds(1'700'000'000);
  for (auto& s : skus) o.lines.push_back(OrderLineFact{s, 1, 0});
  return o;
}

struct Edge {
  crm::testing::FakePersonalizationRepository repo;
  crm::personalization::app::Recommender recommender{repo};
  prometheus::Registry registry;
  crm::grpcutil::RpcMetrics metrics{registry, "personalization"};
  crm::common::Executor executor{1, 1};
  crm::testing::FakeSlotRepository slot_repo;
  crm::testing::FakeSegmentation matcher;
  crm::personalization::app::Slots slots{slot_repo, recommender, matcher};
  crm::testing::FakeOfferRepository offer_repo;
  crm::personalization::app::Offers offers{offer_repo, recommender, matcher};
  crm::testing::FakePriceRepository price_repo;
  crm::personalization::app::Prices prices{price_repo, recommender, matcher,
                                           crm::common::PriceQuoteKey(std::string(40, 'q'))};
  crm::testing::FakeTemplateRepository template_repo;
  crm::testing::FakeCustomerProfiles profiles;
  crm::personalization::app::Templates templates{template_repo, recommender, offers, profiles};
  crm::personalization::app::SegmentPopular segment_popular{recommender, matcher};
  crm::personalization::api::PersonalizationGrpcService service{
      recommender, segment_popular, slots, offers, prices, templates, executor, metrics};
  std::unique_ptr<gt::TestServer> server;
  std::unique_ptr<v1::PersonalizationService::Stub> stub;

  Edge() {
    gt::UseTestContextKey();
    for (const auto& s : recommender.Apply({Known(kC1), Known(kC2), Bought("o1", kC1, {"A", "B"}),
                                            Bought("o2", kC2, {"A"})})) {
      REQUIRE(s.ok());
    }
    auto started = gt::TestServer::Start({&service});
    REQUIRE(started.ok());
    server = *std::move(started);
    stub = v1::PersonalizationService::NewStub(server->channel());
  }
  ~Edge() { server->Shutdown(); }
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& tenant = kTenant) {
    return gt::CallContext(gt::Tenant(tenant));
  }
};

void RequireError(const grpc::Status& s, grpc::StatusCode code, const std::string& reason,
                  const std::string& field = "") {
  INFO(s.error_code() << ": " << s.error_message());
  REQUIRE(s.error_code() == code);
  CHECK(gt::ReasonOf(s) == reason);
  if (!field.empty()) CHECK(crm::common::FieldOf(crm::grpcutil::FromGrpcStatus(s)) == field);
}

// A webhook template "hook" whose json part names the customer.
v1::CreateTemplateRequest HookTemplate(const std::string& locale) {
  v1::CreateTemplateRequest create;
  create.set_request_id("t-1");
  v1::MessageTemplate* t = create.mutable_message_template();
  t->set_template_id("hook");
  t->set_display_name("Hook");
  t->set_channel(v1::TEMPLATE_CHANNEL_WEBHOOK);
  v1::TemplateLocale* l = t->add_locales();
  l->set_locale(locale);
  (*l->mutable_parts())["json"] = "{\"name\": \"{{customer.given_name}}\"}";
  return create;
}

}  // namespace

TEST_CASE("personalization edge: answers map every field", "[personalization][api]") {
  Edge e;
  v1::GetRecommendationsRequest req;
  req.set_customer_id(kC2);
  v1::Recommendations out;
  auto ctx = Edge::Ctx();
  REQUIRE(e.stub->GetRecommendations(ctx.get(), req, &out).ok());
  CHECK(out.strategy() == v1::RECOMMENDATION_STRATEGY_PERSONALIZED);
  REQUIRE(out.products_size() == 1);
  CHECK(out.products(0).sku() == "B");
  CHECK(out.products(0).reason() == v1::RECOMMENDATION_REASON_BOUGHT);
  CHECK(out.products(0).because_sku() == "A");
  CHECK(out.products(0).score() > 0);
  CHECK(gt::AwaitHandled(e.registry, "GetRecommendations", "OK", 1));

  v1::RecommendForCartRequest cart;
  cart.add_skus("B");
  auto ctx2 = Edge::Ctx();
  REQUIRE(e.stub->RecommendForCart(ctx2.get(), cart, &out).ok());
  CHECK(out.strategy() == v1::RECOMMENDATION_STRATEGY_RELATED);
  REQUIRE(out.products_size() == 1);
  CHECK(out.products(0).sku() == "A");
  CHECK(out.products(0).reason() == v1::RECOMMENDATION_REASON_RELATED);

  v1::GetVisitorRecommendationsRequest visitor;
  visitor.set_visitor_id("v-1");
  auto ctx3 = Edge::Ctx();
  REQUIRE(e.stub->GetVisitorRecommendations(ctx3.get(), visitor, &out).ok());
  CHECK(out.strategy() == v1::RECOMMENDATION_STRATEGY_POPULAR_FALLBACK);
  REQUIRE(out.products_size() == 2);
  CHECK(out.products(0).sku() == "A");
  CHECK(out.products(0).reason() == v1::RECOMMENDATION_REASON_POPULAR);
  CHECK(out.products(0).because_sku().empty());
}

TEST_CASE("personalization edge: bad input names its field, other tenants read NOT_FOUND",
          "[personalization][api]") {
  Edge e;
  v1::Recommendations out;
  v1::GetRecommendationsRequest req;
  req.set_customer_id("not-a-uuid");
  auto c1 = Edge::Ctx();
  RequireError(e.stub->GetRecommendations(c1.get(), req, &out), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "customer_id");
  req.set_customer_id(kC1);
  req.set_count(101);
  auto c2 = Edge::Ctx();
  RequireError(e.stub->GetRecommendations(c2.get(), req, &out), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "count");
  req.set_count(0);
  req.set_category_prefix("Home//x");
  auto c3 = Edge::Ctx();
  RequireError(e.stub->GetRecommendations(c3.get(), req, &out), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "category_prefix");
  v1::RecommendForCartRequest cart;
  auto c4 = Edge::Ctx();
  RequireError(e.stub->RecommendForCart(c4.get(), cart, &out), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "skus");
  cart.add_skus(std::string(129, 'x'));
  auto c5 = Edge::Ctx();
  RequireError(e.stub->RecommendForCart(c5.get(), cart, &out), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "skus");
  v1::GetSimilarProductsRequest similar;
  similar.set_sku(std::string("A\0B", 3));
  auto c6 = Edge::Ctx();
  RequireError(e.stub->GetSimilarProducts(c6.get(), similar, &out),
               grpc::StatusCode::INVALID_ARGUMENT, "INVALID_FIELD", "sku");

  v1::GetRecommendationsRequest theirs;
  theirs.set_customer_id(kC1);
  auto c7 = Edge::Ctx(kOther);
  RequireError(e.stub->GetRecommendations(c7.get(), theirs, &out), grpc::StatusCode::NOT_FOUND,
               "CUSTOMER_NOT_FOUND");
  similar.set_sku("A");
  auto c8 = Edge::Ctx(kOther);
  RequireError(e.stub->GetSimilarProducts(c8.get(), similar, &out), grpc::StatusCode::NOT_FOUND,
               "PRODUCT_NOT_FOUND");
  // Without a sealed tenant context: refused before any work.
  grpc::ClientContext bare;
  CHECK(e.stub->GetSimilarProducts(&bare, similar, &out).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
}

TEST_CASE("personalization edge: overload and calls that expire while queued",
          "[personalization][api]") {
  Edge e;
  v1::Recommendations out;
  v1::GetSimilarProductsRequest req;
  req.set_sku("A");
  SECTION("a full queue is RESOURCE_EXHAUSTED before any work") {
    gt::ExecutorGate gate(e.executor, 1);
    gate.FillQueue();
    auto ctx = Edge::Ctx();
    RequireError(e.stub->GetSimilarProducts(ctx.get(), req, &out),
                 grpc::StatusCode::RESOURCE_EXHAUSTED, "OVERLOADED");
    CHECK(gt::RejectedCount(e.registry) == 1);
  }
  SECTION("a deadline that passes while queued: the call is CANCELLED, nothing runs") {
    gt::ExecutorGate gate(e.executor, 1);
    auto ctx = gt::CallContext(gt::Tenant(kTenant), absl::Milliseconds(200));
    CHECK(e.stub->GetSimilarProducts(ctx.get(), req, &out).error_code() ==
          grpc::StatusCode::DEADLINE_EXCEEDED);
    absl::SleepFor(gt::kCancelNoticed);
    gate.Release();
    CHECK(gt::AwaitHandled(e.registry, "GetSimilarProducts", "CANCELLED", 1));
  }
}

TEST_CASE("personalization edge: slots are checked at save time and resolved per customer",
          "[personalization][api]") {
  Edge e;
  v1::CreateSlotRequest create;
  create.set_request_id("r-1");
  v1::Slot* slot = create.mutable_slot();
  slot->set_slot_id("home-banner");
  slot->set_display_name("Home banner");
  slot->set_fallback_content("Welcome");
  v1::SlotVariant* v = slot->add_variants();
  v->set_variant_id("buyers");
  v->set_rule("orders(365d) >=");  // does not compile
  v->set_content("Thanks for buying");
  v1::Slot out;
  auto c1 = Edge::Ctx();
  grpc::Status bad = e.stub->CreateSlot(c1.get(), create, &out);
  RequireError(bad, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_FIELD", "variants.rule");
  CHECK(bad.error_message().find("variant \"buyers\": ") == 0);
  CHECK(bad.error_message().find("column") != std::string::npos);

  v->set_rule("orders(365d) >= 1");
  create.set_request_id("");
  auto c2 = Edge::Ctx();
  RequireError(e.stub->CreateSlot(c2.get(), create, &out), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "request_id");
  create.set_request_id("r-2");
  auto c3 = Edge::Ctx();
  REQUIRE(e.stub->CreateSlot(c3.get(), create, &out).ok());
  CHECK(out.version() == 1);
  CHECK(out.etag() == "1");
  CHECK(out.variants(0).rule() == "orders(365d) >= 1");

  e.matcher.known = {kC1, kC2};
  e.matcher.matches = {{kC1, "orders(365d) >= 1"}};
  v1::ResolveSlotRequest resolve;
  resolve.set_customer_id(kC1);
  resolve.set_slot_id("home-banner");
  v1::SlotDecision d;
  auto c4 = Edge::Ctx();
  REQUIRE(e.stub->ResolveSlot(c4.get(), resolve, &d).ok());
  CHECK(d.variant_id() == "buyers");
  CHECK(d.content() == "Thanks for buying");
  CHECK(d.reason() == v1::SLOT_DECISION_REASON_RULE);
  CHECK(d.rules_evaluated());
  CHECK(d.slot_version() == 1);
  resolve.set_customer_id(kC2);
  auto c5 = Edge::Ctx();
  REQUIRE(e.stub->ResolveSlot(c5.get(), resolve, &d).ok());
  CHECK(d.variant_id().empty());
  CHECK(d.content() == "Welcome");
  CHECK(d.reason() == v1::SLOT_DECISION_REASON_FALLBACK);

  // Another tenant: neither the slot nor the customer.
  auto c6 = Edge::Ctx(kOther);
  RequireError(e.stub->ResolveSlot(c6.get(), resolve, &d), grpc::StatusCode::NOT_FOUND,
               "CUSTOMER_NOT_FOUND");
  v1::GetSlotRequest get;
  get.set_slot_id("home-banner");
  auto c7 = Edge::Ctx(kOther);
  RequireError(e.stub->GetSlot(c7.get(), get, &out), grpc::StatusCode::NOT_FOUND, "SLOT_NOT_FOUND");
  get.set_slot_id("Home Banner");
  auto c8 = Edge::Ctx();
  RequireError(e.stub->GetSlot(c8.get(), get, &out), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "slot_id");
}

TEST_CASE("personalization edge: a price policy and a signed quote map every field",
          "[personalization][api]") {
  Edge e;
  crm::events::ProductFact pan;
  pan.tenant_id = kTenant;
  pan.sku = "PAN";
  pan.version = 1;
  pan.category_path = {"Home", "Kitchen"};
  pan.price_minor = 10000;
  pan.currency_code = "CHF";
  pan.cost_minor = 7000;
  for (const auto& s : e.recommender.Apply({pan})) REQUIRE(s.ok());
  e.matcher.known = {kC1, kC2};
  e.matcher.matches = {{kC1, "orders(365d) >= 1"}};

  v1::UpdatePricePolicyRequest put;
  put.set_request_id("pp-1");
  v1::PricePolicy* p = put.mutable_policy();
  p->set_max_discount_basis_points(1000);
  p->set_min_margin_basis_points(2000);
  v1::PriceTier* t = p->add_tiers();
  t->set_name("buyers");
  t->set_rule("orders(365d) >=");  // does not compile
  t->set_discount_basis_points(1500);
  v1::PricePolicy policy;
  auto c1 = Edge::Ctx();
  grpc::Status bad = e.stub->UpdatePricePolicy(c1.get(), put, &policy);
  RequireError(bad, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_FIELD", "tiers.rule");
  CHECK(bad.error_message().find("tier \"buyers\": ") == 0);
  t->set_rule("orders(365d) >= 1");
  auto c2 = Edge::Ctx();
  REQUIRE(e.stub->UpdatePricePolicy(c2.get(), put, &policy).ok());
  CHECK(policy.version() == 1);
  CHECK(policy.etag() == "1");
  CHECK(policy.quote_ttl_seconds() == 900);
  CHECK(policy.tiers(0).rule() == "orders(365d) >= 1");

  v1::QuotePriceRequest req;
  req.set_customer_id(kC1);
  req.set_sku("PAN");
  req.set_currency_code("chf");
  v1::PriceQuote q;
  auto c3 = Edge::Ctx();
  REQUIRE(e.stub->QuotePrice(c3.get(), req, &q).ok());
  CHECK(q.customer_id() == kC1);
  CHECK(q.sku() == "PAN");
  CHECK(q.currency_code() == "CHF");
  CHECK(q.list_price_minor() == 10000);
  CHECK(q.unit_price_minor() == 9000);
  CHECK(q.discount_basis_points() == 1000);
  CHECK(q.requested_discount_basis_points() == 1500);
  CHECK(q.reason() == v1::PRICE_QUOTE_REASON_TIER);
  CHECK(q.tier() == "buyers");
  CHECK(q.limit() == v1::PRICE_LIMIT_MAX_DISCOUNT);
  CHECK(!q.explanation().empty());
  CHECK(q.has_expire_time());
  auto claims = crm::common::VerifyPriceQuote(crm::common::PriceQuoteKey(std::string(40, 'q')),
                                              q.token(), absl::Now());
  REQUIRE(claims.ok());
  CHECK(claims->quote_id == q.quote_id());
  CHECK(claims->unit_price_minor == 9000);
  req.set_customer_id(kC2);  // no tier
  auto c4 = Edge::Ctx();
  REQUIRE(e.stub->QuotePrice(c4.get(), req, &q).ok());
  CHECK(q.reason() == v1::PRICE_QUOTE_REASON_NO_TIER);
  CHECK(q.unit_price_minor() == 10000);

  // Bad input names its field; another tenant knows neither customer nor policy.
  req.set_customer_id("nope");
  auto c5 = Edge::Ctx();
  RequireError(e.stub->QuotePrice(c5.get(), req, &q), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "customer_id");
  req.set_customer_id(kC1);
  req.set_sku(std::string(129, 's'));
  auto c6 = Edge::Ctx();
  RequireError(e.stub->QuotePrice(c6.get(), req, &q), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "sku");
  req.set_sku("PAN");
  req.set_currency_code("EURO");
  auto c7 = Edge::Ctx();
  RequireError(e.stub->QuotePrice(c7.get(), req, &q), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "currency_code");
  req.set_currency_code("EUR");
  auto c8 = Edge::Ctx();
  RequireError(e.stub->QuotePrice(c8.get(), req, &q), grpc::StatusCode::FAILED_PRECONDITION,
               "PRODUCT_NOT_QUOTABLE", "currency_code");
  req.set_currency_code("");
  auto c9 = Edge::Ctx(kOther);
  RequireError(e.stub->QuotePrice(c9.get(), req, &q), grpc::StatusCode::NOT_FOUND,
               "CUSTOMER_NOT_FOUND");
  auto c10 = Edge::Ctx(kOther);
  REQUIRE(e.stub->GetPricePolicy(c10.get(), v1::GetPricePolicyRequest(), &policy).ok());
  CHECK(policy.version() == 0);
  CHECK(policy.tiers_size() == 0);
  CHECK_FALSE(policy.has_update_time());
}

TEST_CASE("personalization edge: templates map every field and preview with data",
          "[personalization][api]") {
  Edge e;
  v1::CreateTemplateRequest create = HookTemplate("fr-ch");
  v1::MessageTemplate* t = create.mutable_message_template();
  v1::TemplateLocale* l = t->mutable_locales(0);
  (*l->mutable_parts())["json"] = "{\"name\": {{customer.given_name}}}";  // not JSON
  v1::MessageTemplate out;
  auto c1 = Edge::Ctx();
  grpc::Status bad = e.stub->CreateTemplate(c1.get(), create, &out);
  RequireError(bad, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_FIELD", "locales.parts");
  CHECK(bad.error_message().find("fr-CH json: ") == 0);
  (*l->mutable_parts())["json"] = "{\"name\": \"{{customer.given_name}}\"}";
  t->set_channel(v1::TEMPLATE_CHANNEL_UNSPECIFIED);
  auto c2 = Edge::Ctx();
  RequireError(e.stub->CreateTemplate(c2.get(), create, &out), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "channel");
  t->set_channel(v1::TEMPLATE_CHANNEL_WEBHOOK);
  auto c3 = Edge::Ctx();
  REQUIRE(e.stub->CreateTemplate(c3.get(), create, &out).ok());
  CHECK(out.version() == 1);
  CHECK(out.etag() == "1");
  CHECK(out.default_locale() == "fr-CH");
  CHECK(out.locales(0).parts().at("json") == "{\"name\": \"{{customer.given_name}}\"}");
  CHECK(out.has_create_time());

  v1::PreviewTemplateRequest preview;
  preview.set_template_id("hook");
  (*(*preview.mutable_data()->mutable_fields())["customer"]
        .mutable_struct_value()
        ->mutable_fields())["given_name"]
      .set_string_value("A \"quoted\" name");
  v1::RenderedMessage m;
  auto c4 = Edge::Ctx();
  REQUIRE(e.stub->PreviewTemplate(c4.get(), preview, &m).ok());
  CHECK(m.template_id() == "hook");
  CHECK(m.version() == 1);
  CHECK(m.locale() == "fr-CH");
  CHECK(m.parts().at("json") == "{\"name\": \"A \\\"quoted\\\" name\"}");

  auto c5 = Edge::Ctx(kOther);
  RequireError(e.stub->PreviewTemplate(c5.get(), preview, &m), grpc::StatusCode::NOT_FOUND,
               "TEMPLATE_NOT_FOUND");
  v1::GetTemplateRequest get;
  get.set_template_id("Not An Id");
  auto c6 = Edge::Ctx();
  RequireError(e.stub->GetTemplate(c6.get(), get, &out), grpc::StatusCode::INVALID_ARGUMENT,
               "INVALID_FIELD", "template_id");
}

TEST_CASE("personalization edge: a batch render answers each request, refusals in place",
          "[personalization][api]") {
  Edge e;
  v1::MessageTemplate out;
  auto c1 = Edge::Ctx();
  REQUIRE(e.stub->CreateTemplate(c1.get(), HookTemplate("en"), &out).ok());
  crm::personalization::app::CustomerProfile p;
  p.customer_id = kC1;
  p.given_name = "Ada";
  e.profiles.profiles[{kTenant, kC1}] = p;

  v1::BatchRenderTemplateRequest batch;
  auto add = [&](const std::string& customer, const std::string& request_id) {
    v1::RenderTemplateRequest* r = batch.add_requests();
    r->set_template_id("hook");
    r->set_customer_id(customer);
    r->set_request_id(request_id);
    return r;
  };
  add(kC1, "m-1");
  add("not-a-uuid", "m-2");
  add(kC2, "m-3");  // known to the engine, not to customer-store
  add(kC1, "m-4")->set_offer_count(11);
  v1::BatchRenderTemplateResponse resp;
  auto c2 = Edge::Ctx();
  REQUIRE(e.stub->BatchRenderTemplate(c2.get(), batch, &resp).ok());
  REQUIRE(resp.results_size() == 4);
  CHECK(resp.results(0).code() == 0);
  CHECK(resp.results(0).message().parts().at("json") == "{\"name\": \"Ada\"}");
  CHECK(resp.results(1).code() == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  CHECK(resp.results(1).reason() == "INVALID_FIELD");
  CHECK(resp.results(2).code() == static_cast<int>(grpc::StatusCode::NOT_FOUND));
  CHECK(resp.results(2).reason() == "CUSTOMER_NOT_FOUND");
  CHECK(resp.results(3).reason() == "INVALID_FIELD");
  CHECK_FALSE(resp.results(3).error_message().empty());
  // Another tenant: its own templates (none).
  auto c3 = Edge::Ctx(kOther);
  v1::BatchRenderTemplateRequest one;
  *one.add_requests() = batch.requests(0);
  REQUIRE(e.stub->BatchRenderTemplate(c3.get(), one, &resp).ok());
  CHECK(resp.results(0).reason() == "TEMPLATE_NOT_FOUND");
  // Empty or more than 100: refused as a whole.
  v1::BatchRenderTemplateRequest empty;
  auto c4 = Edge::Ctx();
  RequireError(e.stub->BatchRenderTemplate(c4.get(), empty, &resp),
               grpc::StatusCode::INVALID_ARGUMENT, "INVALID_FIELD", "requests");
}

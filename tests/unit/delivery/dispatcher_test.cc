// The delivery engine's use cases over in-memory fakes: a request writes
// and queues the ledger row; the dispatcher claims, checks at the moment of
// sending, sends once, and finishes the row.
#include "services/delivery/app/dispatcher.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "libs/common/tracking_token.h"
#include "services/delivery/app/conversions.h"
#include "services/delivery/app/delivery.h"
#include "services/delivery/app/tracking.h"
#include "services/delivery/domain/email_events.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/delivery/fake_delivery.h"

namespace {

using crm::common::ReasonOf;
using crm::delivery::app::Contact;
using crm::delivery::app::Delivery;
using crm::delivery::app::Dispatcher;
using crm::delivery::app::SendRequest;
using crm::delivery::app::WebhookEndpoint;
using crm::delivery::domain::Channel;
using crm::delivery::domain::ConsentStatus;
using crm::delivery::domain::Outcome;
using crm::delivery::domain::Purpose;
using crm::delivery::domain::State;
using crm::delivery::domain::Suppression;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";
constexpr char kCustomer[] = "33333333-3333-4333-8333-333333333333";

struct World {
  crm::delivery::app::TrackingOptions tracking_options;
  crm::testing::FixedClock clock;
  crm::testing::SequentialIdGenerator ids;
  crm::testing::FakeDeliveryRepository repo{clock};
  crm::testing::FakeWorkQueue queue;
  crm::testing::FakeCustomerDirectory directory;
  crm::testing::FakeRenderer renderer;
  crm::testing::FakeTicketMailSource desk;
  crm::testing::FakeEmailChannel email;
  crm::testing::FakeWebhookChannel webhook;
  crm::testing::FakeNotificationChannel notify;
  crm::testing::FakeResolver resolver;
  crm::delivery::app::PolicyCache policies{repo, clock};
  Delivery delivery{repo,     policies, queue,
                    renderer, resolver, {3, {"no-reply@crm.test", "CRM", "", std::nullopt}, {}},
                    clock,    ids};
  Dispatcher dispatcher{repo,
                        repo,
                        policies,
                        directory,
                        renderer,
                        desk,
                        email,
                        webhook,
                        notify,
                        {absl::Seconds(60),
                         absl::Seconds(30),
                         {absl::Seconds(2), absl::Minutes(30)},
                         {"no-reply@crm.test", "CRM", "", std::nullopt},
                         tracking_options},
                        clock,
                        [] { return 0.0; }};
  crm::delivery::app::Tracking tracking{repo, directory, tracking_options.key, clock,
                                        tracking_options.base_url};

  explicit World(crm::delivery::app::TrackingOptions t = {}) : tracking_options(std::move(t)) {
    renderer.channels[std::string(kTenant) + "/welcome"] = "email";
    renderer.channels[std::string(kTenant) + "/hook"] = "webhook";
    Contact c;
    c.emails = {"ada@example.com"};
    c.display_name = "Ada";
    directory.contacts[std::string(kTenant) + "/" + kCustomer] = c;
  }
  crm::outbox::WriteMeta Meta(const std::string& key, const std::string& tenant = kTenant) {
    return crm::outbox::WriteMeta{tenant, "tester", "", "SendMessage", key, ""};
  }
  SendRequest Email(Purpose p = Purpose::kTransactional) {
    SendRequest r;
    r.customer_id = kCustomer;
    r.channel = Channel::kEmail;
    r.purpose = p;
    r.template_id = "welcome";
    return r;
  }
};

}  // namespace

TEST_CASE("A message is written, queued, and sent once") {
  World w;
  auto m = w.delivery.Send(w.Meta("k1"), w.Email());
  REQUIRE(m.ok());
  CHECK(m->state == State::kQueued);
  REQUIRE(w.queue.queued.size() == 1);
  CHECK(w.queue.queued[0].id == m->id);
  auto done = w.dispatcher.Process(kTenant, m->id);
  REQUIRE(done.ok());
  REQUIRE(done->has_value());
  CHECK(**done == State::kSent);
  REQUIRE(w.email.sent.size() == 1);
  CHECK(w.email.sent[0].to == "ada@example.com");
  CHECK(w.email.sent[0].sender.from_address == "no-reply@crm.test");
  CHECK(w.renderer.last_request_id == m->id);  // offers decided once per message
  auto stored = w.repo.GetMessage(kTenant, m->id);
  CHECK(stored->state == State::kSent);
  CHECK(stored->attempts == 1);
  CHECK(stored->recipient == "ada@example.com");
  CHECK(stored->decision_ids == std::vector<std::string>{"d-1"});
  CHECK(stored->send_time.has_value());

  // A second delivery of the queue entry finds the row final: nothing sent.
  auto again = w.dispatcher.Process(kTenant, m->id);
  REQUIRE(again.ok());
  CHECK_FALSE(again->has_value());
  CHECK(w.email.sent.size() == 1);
  // The same request again answers the same message and queues nothing new.
  auto retry = w.delivery.Send(w.Meta("k1"), w.Email());
  REQUIRE(retry.ok());
  CHECK(retry->id == m->id);
  CHECK(retry->state == State::kSent);
  CHECK(w.queue.queued.size() == 1);
}

TEST_CASE("The request is checked before anything is written") {
  World w;
  SendRequest r = w.Email();
  CHECK(ReasonOf(w.delivery.Send(w.Meta(""), r).status()) == "INVALID_FIELD");
  r.customer_id = "nope";
  CHECK(crm::common::FieldOf(w.delivery.Send(w.Meta("a"), r).status()) == "customer_id");
  r = w.Email();
  r.channel.reset();
  CHECK(crm::common::FieldOf(w.delivery.Send(w.Meta("b"), r).status()) == "channel");
  r = w.Email();
  r.template_id = "missing";
  CHECK(ReasonOf(w.delivery.Send(w.Meta("c"), r).status()) == "TEMPLATE_NOT_FOUND");
  r = w.Email();
  r.template_id = "hook";  // a webhook template for an email
  auto mismatch = w.delivery.Send(w.Meta("d"), r);
  CHECK(ReasonOf(mismatch.status()) == "TEMPLATE_CHANNEL_MISMATCH");
  CHECK(mismatch.status().code() == absl::StatusCode::kFailedPrecondition);
  r = w.Email();
  r.channel = Channel::kWebhook;
  r.template_id = "hook";
  r.endpoint_id = "44444444-4444-4444-8444-444444444444";
  CHECK(ReasonOf(w.delivery.Send(w.Meta("e"), r).status()) == "WEBHOOK_ENDPOINT_NOT_FOUND");
  r.offer_count = 11;
  CHECK(crm::common::FieldOf(w.delivery.Send(w.Meta("f"), r).status()) == "offer_count");
  CHECK(w.queue.queued.empty());
  CHECK(w.repo.events().empty());
}

TEST_CASE("Consent is read at the moment of sending") {
  World w;
  auto m = w.delivery.Send(w.Meta("k"), w.Email(Purpose::kMarketing));
  REQUIRE(m.ok());
  // No opt-in: a marketing email is suppressed, not sent.
  auto done = w.dispatcher.Process(kTenant, m->id);
  CHECK(**done == State::kSuppressed);
  CHECK(w.repo.GetMessage(kTenant, m->id)->suppression == Suppression::kConsent);
  CHECK(w.email.sent.empty());
  CHECK(w.renderer.renders == 0);  // nothing decided for a message never sent

  // Opted in after queueing, then out again before the send: the status at
  // the send is what counts.
  auto& contact = w.directory.contacts[std::string(kTenant) + "/" + kCustomer];
  contact.consents["email"]["marketing"] = ConsentStatus::kOptedIn;
  auto in = w.delivery.Send(w.Meta("k2"), w.Email(Purpose::kMarketing));
  contact.consents["email"]["marketing"] = ConsentStatus::kOptedOut;
  CHECK(**w.dispatcher.Process(kTenant, in->id) == State::kSuppressed);
  contact.consents["email"]["marketing"] = ConsentStatus::kOptedIn;
  auto ok = w.delivery.Send(w.Meta("k3"), w.Email(Purpose::kMarketing));
  CHECK(**w.dispatcher.Process(kTenant, ok->id) == State::kSent);

  // Transactional: only an opt-out of transactional email stops it.
  contact.consents["email"]["transactional"] = ConsentStatus::kOptedOut;
  auto t = w.delivery.Send(w.Meta("k4"), w.Email());
  CHECK(**w.dispatcher.Process(kTenant, t->id) == State::kSuppressed);
}

TEST_CASE("No address or no customer: suppressed with the reason") {
  World w;
  w.directory.contacts[std::string(kTenant) + "/" + kCustomer].emails = {"not an address"};
  auto m = w.delivery.Send(w.Meta("k"), w.Email());
  CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kSuppressed);
  CHECK(w.repo.GetMessage(kTenant, m->id)->suppression == Suppression::kInvalidAddress);
  w.directory.contacts.clear();
  auto gone = w.delivery.Send(w.Meta("k2"), w.Email());
  CHECK(**w.dispatcher.Process(kTenant, gone->id) == State::kSuppressed);
  CHECK(w.repo.GetMessage(kTenant, gone->id)->suppression == Suppression::kCustomerGone);
}

TEST_CASE("Transient failures retry with back-off, then dead-letter, replay starts again") {
  World w;
  w.email.next = {Outcome::kTransient, "smtp: connection refused", "", absl::ZeroDuration()};
  auto m = w.delivery.Send(w.Meta("k"), w.Email());
  CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kRetrying);
  // Not due yet: a second queue entry does nothing.
  CHECK_FALSE(w.dispatcher.Process(kTenant, m->id)->has_value());
  CHECK(w.repo.TakeDue(absl::Seconds(30), 100)->empty());
  w.clock.Advance(absl::Seconds(1));
  REQUIRE(w.repo.TakeDue(absl::Seconds(30), 100)->size() == 1);
  CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kRetrying);
  w.clock.Advance(absl::Seconds(2));
  CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kFailed);  // 3 attempts
  auto dead = w.repo.GetMessage(kTenant, m->id);
  CHECK(dead->attempts == 3);
  CHECK(dead->last_error == "smtp: connection refused");
  CHECK(w.email.sent.size() == 3);

  // The relay is back; the operator replays the dead letter.
  w.email.next = {};
  crm::outbox::WriteMeta replay{kTenant, "admin", "", "ReplayMessage", "r1", ""};
  auto replayed = w.delivery.Replay(replay, m->id);
  REQUIRE(replayed.ok());
  CHECK(replayed->state == State::kQueued);
  CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kSent);
  CHECK(w.repo.GetMessage(kTenant, m->id)->attempts == 4);
  // A sent message is not replayable.
  crm::outbox::WriteMeta again{kTenant, "admin", "", "ReplayMessage", "r2", ""};
  auto refused = w.delivery.Replay(again, m->id);
  CHECK(ReasonOf(refused.status()) == "MESSAGE_NOT_REPLAYABLE");
  CHECK(refused.status().message().find("is sent") != std::string::npos);
}

TEST_CASE("A peer that is down is a transient failure, a deleted template a permanent one") {
  World w;
  w.directory.down = absl::UnavailableError("customer-store down");
  auto m = w.delivery.Send(w.Meta("k"), w.Email());
  CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kRetrying);
  w.directory.down = absl::OkStatus();
  w.renderer.channels.clear();  // the template was deleted after the request
  w.clock.Advance(absl::Seconds(5));
  CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kFailed);
  CHECK(w.email.sent.empty());
}

TEST_CASE("A claim whose sender vanished is never sent blindly again") {
  World w;
  auto m = w.delivery.Send(w.Meta("k"), w.Email());
  auto claimed = w.repo.Claim(kTenant, m->id, absl::Seconds(60), {});
  REQUIRE(claimed->claimed.has_value());
  REQUIRE(*w.repo.MarkSendStarted(kTenant, m->id, claimed->claimed->attempts));
  // ... then the sender dies during the SMTP call.
  CHECK(*w.repo.ResolveLostClaims(100) == 0);  // the lease holds
  w.clock.Advance(absl::Seconds(61));
  CHECK(*w.repo.ResolveLostClaims(100) == 1);
  CHECK(w.repo.GetMessage(kTenant, m->id)->state == State::kUnknown);
  CHECK_FALSE(w.dispatcher.Process(kTenant, m->id)->has_value());
  CHECK(w.email.sent.empty());
}

TEST_CASE("A claim whose sender vanished before its send started is retried") {
  World w;
  auto m = w.delivery.Send(w.Meta("k"), w.Email());
  REQUIRE(w.repo.Claim(kTenant, m->id, absl::Seconds(60), {})->claimed.has_value());
  w.clock.Advance(absl::Seconds(61));  // the sender died with the row in its batch
  CHECK(*w.repo.ResolveLostClaims(100) == 1);
  CHECK(w.repo.GetMessage(kTenant, m->id)->state == State::kRetrying);
  CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kSent);
  CHECK(w.email.sent.size() == 1);
  CHECK(w.repo.GetMessage(kTenant, m->id)->attempts == 2);
}

TEST_CASE("An email whose claim was lost before its send is not sent") {
  World w;
  auto m = w.delivery.Send(w.Meta("k"), w.Email());
  // The sweeper takes the row back while the sender reads (a stalled
  // sender): MarkSendStarted finds the claim gone, nothing goes out.
  w.directory.on_read = [&] {
    w.clock.Advance(absl::Seconds(61));
    REQUIRE(*w.repo.ResolveLostClaims(100) == 1);
  };
  CHECK_FALSE(w.dispatcher.Process(kTenant, m->id)->has_value());
  CHECK(w.email.sent.empty());
  CHECK(w.repo.GetMessage(kTenant, m->id)->state == State::kRetrying);
}

TEST_CASE("Webhook messages go to the endpoint with the rendered JSON in an envelope") {
  World w;
  w.resolver.hosts["hooks.example.com"] = {"93.184.216.34"};
  WebhookEndpoint e;
  e.url = "https://hooks.example.com/crm";
  crm::outbox::WriteMeta meta{kTenant, "admin", "", "CreateWebhookEndpoint", "e1", ""};
  auto created = w.delivery.CreateEndpoint(meta, e);
  REQUIRE(created.ok());
  CHECK(created->secret.rfind("whsec_", 0) == 0);
  CHECK(created->secret.size() == 6 + 64);
  SendRequest r;
  r.customer_id = kCustomer;
  r.channel = Channel::kWebhook;
  r.template_id = "hook";
  r.endpoint_id = created->id;
  auto m = w.delivery.Send(w.Meta("k"), r);
  REQUIRE(m.ok());
  CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kSent);
  REQUIRE(w.webhook.sent.size() == 1);
  CHECK(w.webhook.sent[0].message_id == m->id);
  CHECK(w.webhook.sent[0].endpoint.secret == created->secret);
  CHECK(w.webhook.sent[0].body.find("\"data\":{\"x\":1}") != std::string::npos);
  CHECK(w.webhook.sent[0].body.find(m->id) != std::string::npos);
  // Another tenant sees neither the message nor the endpoint.
  CHECK(ReasonOf(w.delivery.GetMessage(kOther, m->id).status()) == "MESSAGE_NOT_FOUND");
  CHECK(ReasonOf(w.delivery.GetEndpoint(kOther, created->id).status()) ==
        "WEBHOOK_ENDPOINT_NOT_FOUND");
}

TEST_CASE("Webhook URLs to private, loopback or metadata addresses are refused") {
  World w;
  w.resolver.hosts["internal.example.com"] = {"93.184.216.34", "10.0.0.7"};
  w.resolver.hosts["meta.example.com"] = {"169.254.169.254"};
  auto refuse = [&](const std::string& url) {
    WebhookEndpoint e;
    e.url = url;
    crm::outbox::WriteMeta meta{kTenant, "admin", "", "CreateWebhookEndpoint", url, ""};
    return w.delivery.CreateEndpoint(meta, e).status();
  };
  CHECK(ReasonOf(refuse("http://127.0.0.1:8080/x")) == "WEBHOOK_URL_FORBIDDEN");
  CHECK(ReasonOf(refuse("http://[::1]/x")) == "WEBHOOK_URL_FORBIDDEN");
  CHECK(ReasonOf(refuse("https://internal.example.com/x")) == "WEBHOOK_URL_FORBIDDEN");
  CHECK(ReasonOf(refuse("http://meta.example.com/latest")) == "WEBHOOK_URL_FORBIDDEN");
  CHECK(refuse("http://nowhere.example.com/").code() == absl::StatusCode::kInvalidArgument);
  CHECK(refuse("ftp://example.com/").code() == absl::StatusCode::kInvalidArgument);
  CHECK(crm::common::FieldOf(refuse("http://user:pw@93.184.216.34/")) == "url");
  CHECK(w.delivery.ListEndpoints(kTenant)->empty());

  // The operator's allow-list opens a network (tests allow loopback).
  Delivery allowed{w.repo,     w.policies,
                   w.queue,    w.renderer,
                   w.resolver, {3, {}, *crm::delivery::domain::ParseCidrList("127.0.0.0/8")},
                   w.clock,    w.ids};
  WebhookEndpoint e;
  e.url = "http://127.0.0.1:8080/x";
  crm::outbox::WriteMeta meta{kTenant, "admin", "", "CreateWebhookEndpoint", "ok", ""};
  CHECK(allowed.CreateEndpoint(meta, e).ok());
}

TEST_CASE("Erasure removes the customer's messages once per event") {
  World w;
  auto m = w.delivery.Send(w.Meta("k"), w.Email());
  REQUIRE(m.ok());
  CHECK(*w.repo.EraseCustomers(kTenant, "e1", {kCustomer}) == 1);
  CHECK(*w.repo.EraseCustomers(kTenant, "e1", {kCustomer}) == 0);
  CHECK(ReasonOf(w.delivery.GetMessage(kTenant, m->id).status()) == "MESSAGE_NOT_FOUND");
  // Its queue entry finds nothing to send.
  CHECK_FALSE(w.dispatcher.Process(kTenant, m->id)->has_value());
  CHECK(w.email.sent.empty());
}

TEST_CASE("A frequency cap suppresses marketing over it, never transactional messages") {
  World w;
  auto& contact = w.directory.contacts[std::string(kTenant) + "/" + kCustomer];
  contact.consents["email"]["marketing"] = ConsentStatus::kOptedIn;
  crm::delivery::domain::DeliveryPolicy policy;
  policy.caps = {{Channel::kEmail, 2, absl::Hours(24 * 7)}};
  crm::outbox::WriteMeta meta{kTenant, "admin", "", "UpdateDeliveryPolicy", "p1", ""};
  REQUIRE(w.delivery.UpdatePolicy(meta, policy, "").ok());
  for (int i = 0; i < 2; ++i) {
    auto m = w.delivery.Send(w.Meta("m" + std::to_string(i)), w.Email(Purpose::kMarketing));
    CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kSent);
  }
  auto third = w.delivery.Send(w.Meta("m3"), w.Email(Purpose::kMarketing));
  CHECK(**w.dispatcher.Process(kTenant, third->id) == State::kSuppressed);
  auto stored = w.repo.GetMessage(kTenant, third->id);
  CHECK(stored->suppression == Suppression::kFrequencyCap);
  CHECK(stored->attempts == 0);
  CHECK(w.email.sent.size() == 2);
  // Transactional messages bypass the cap.
  auto receipt = w.delivery.Send(w.Meta("t1"), w.Email());
  CHECK(**w.dispatcher.Process(kTenant, receipt->id) == State::kSent);
  // A week later the window has room again.
  w.clock.Advance(absl::Hours(24 * 7 + 1));
  auto later = w.delivery.Send(w.Meta("m4"), w.Email(Purpose::kMarketing));
  CHECK(**w.dispatcher.Process(kTenant, later->id) == State::kSent);
  // The policy: versioned, the etag checked.
  CHECK(w.delivery.GetPolicy(kTenant)->version == 1);
  crm::outbox::WriteMeta stale{kTenant, "admin", "", "UpdateDeliveryPolicy", "p2", ""};
  CHECK(ReasonOf(w.delivery.UpdatePolicy(stale, policy, "7").status()) == "ETAG_MISMATCH");
  CHECK(w.delivery.GetPolicy(kOther)->version == 0);
}

TEST_CASE("Quiet hours defer a marketing message to their end without an attempt") {
  World w;
  auto& contact = w.directory.contacts[std::string(kTenant) + "/" + kCustomer];
  contact.consents["email"]["marketing"] = ConsentStatus::kOptedIn;
  contact.time_zone = "Europe/Zurich";
  absl::TimeZone zurich;
  REQUIRE(absl::LoadTimeZone("Europe/Zurich", &zurich));
  w.clock.Set(absl::FromCivil(absl::CivilSecond(2026, 5, 4, 22, 15, 0), zurich));
  crm::delivery::domain::DeliveryPolicy policy;
  policy.quiet_hours = crm::delivery::domain::QuietHours{21 * 60, 8 * 60, "UTC"};
  crm::outbox::WriteMeta meta{kTenant, "admin", "", "UpdateDeliveryPolicy", "p1", ""};
  REQUIRE(w.delivery.UpdatePolicy(meta, policy, "").ok());
  auto m = w.delivery.Send(w.Meta("q"), w.Email(Purpose::kMarketing));
  CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kQueued);
  auto deferred = w.repo.GetMessage(kTenant, m->id);
  CHECK(deferred->attempts == 0);
  CHECK(*deferred->next_attempt_time ==
        absl::FromCivil(absl::CivilSecond(2026, 5, 5, 8, 0, 0), zurich));
  CHECK(deferred->last_error.find("quiet hours 21:00-08:00 in Europe/Zurich") != std::string::npos);
  CHECK(w.email.sent.empty());
  // A transactional message at the same moment goes at once.
  auto receipt = w.delivery.Send(w.Meta("t"), w.Email());
  CHECK(**w.dispatcher.Process(kTenant, receipt->id) == State::kSent);
  // Not before the end; then sent.
  CHECK_FALSE(w.dispatcher.Process(kTenant, m->id)->has_value());
  w.clock.Set(absl::FromCivil(absl::CivilSecond(2026, 5, 5, 8, 0, 0), zurich));
  CHECK(**w.dispatcher.Process(kTenant, m->id) == State::kSent);
  CHECK(w.repo.GetMessage(kTenant, m->id)->attempts == 1);
}

namespace {

const std::string kTrackingKey = crm::common::TrackingKey(std::string(40, 'k'));

crm::delivery::app::TrackingOptions TrackingOn() {
  return {"https://crm.example.com", kTrackingKey, absl::Hours(24 * 365)};
}

// The token of the first link of `html` that starts with `prefix`.
std::string TokenAfter(const std::string& html, const std::string& prefix) {
  const size_t at = html.find(prefix);
  if (at == std::string::npos) return "";
  const size_t start = at + prefix.size();
  return html.substr(start, html.find('"', start) - start);
}

}  // namespace

TEST_CASE("Tracking rewrites the links of an email, adds the pixel and the unsubscribe link") {
  World w(TrackingOn());
  w.renderer.html =
      "<html><body><a href=\"https://shop.example/sale?a=1&amp;b=2\">Sale</a>"
      "<a href=\"mailto:help@shop.example\">Help</a></body></html>";
  w.directory.contacts[std::string(kTenant) + "/" + kCustomer].consents["email"]["marketing"] =
      ConsentStatus::kOptedIn;
  auto m = w.delivery.Send(w.Meta("k1"), w.Email(Purpose::kMarketing));
  REQUIRE(m.ok());
  REQUIRE(w.dispatcher.Process(kTenant, m->id).ok());
  REQUIRE(w.email.sent.size() == 1);
  const auto& sent = w.email.sent[0];
  const std::string html = sent.parts.at("html");
  CHECK(html.find("https://shop.example") == std::string::npos);
  CHECK(html.find("mailto:help@shop.example") != std::string::npos);
  CHECK(absl::StartsWith(sent.list_unsubscribe_url, "https://crm.example.com/t/u/"));
  CHECK(w.renderer.last_unsubscribe_url == sent.list_unsubscribe_url);
  auto stored = w.repo.GetMessage(kTenant, m->id);
  REQUIRE(stored.ok());
  CHECK(stored->links == std::vector<std::string>{"https://shop.example/sale?a=1&b=2"});

  // Each token verifies for this tenant and message.
  const std::string click = TokenAfter(html, "https://crm.example.com/t/c/");
  const std::string open = TokenAfter(html, "https://crm.example.com/t/o/");
  const absl::Time now = w.clock.Now();
  auto c = crm::common::VerifyTrackingToken(kTrackingKey, click, now);
  REQUIRE(c.ok());
  CHECK(c->action == crm::common::TrackingAction::kClick);
  CHECK(c->message_id == m->id);
  CHECK(c->tenant_id == kTenant);
  CHECK(c->link == 0);
  CHECK(crm::common::VerifyTrackingToken(kTrackingKey, open, now)->action ==
        crm::common::TrackingAction::kOpen);

  // A click: counted, answered with the message's own URL, news once.
  auto r = w.tracking.Track(w.Meta(""), click);
  REQUIRE(r.ok());
  CHECK(r->redirect_url == "https://shop.example/sale?a=1&b=2");
  REQUIRE(w.tracking.Track(w.Meta(""), open).ok());
  REQUIRE(w.tracking.Track(w.Meta(""), click).ok());
  stored = w.repo.GetMessage(kTenant, m->id);
  CHECK(stored->click_count == 2);
  CHECK(stored->open_count == 1);
  CHECK(stored->first_open_time == now);
  int opened = 0, clicked = 0;
  for (const auto& e : w.repo.events()) {
    opened += e.type == "message.opened";
    clicked += e.type == "message.clicked";
  }
  CHECK(opened == 1);
  CHECK(clicked == 1);

  // Another tenant cannot use the token; a forged one is not a token.
  CHECK(ReasonOf(w.tracking.Track(w.Meta("", kOther), click).status()) == "TRACKING_LINK_INVALID");
  CHECK(ReasonOf(w.tracking.Track(w.Meta(""), click + "x").status()) == "TRACKING_LINK_INVALID");

  // Unsubscribe: the opt-out reaches the customer's consents; the next
  // marketing email is suppressed for consent.
  const std::string unsubscribe =
      sent.list_unsubscribe_url.substr(std::string("https://crm.example.com/t/u/").size());
  REQUIRE(w.tracking.Track(w.Meta(""), unsubscribe).ok());
  REQUIRE(w.tracking.Track(w.Meta(""), unsubscribe).ok());
  CHECK(w.directory.opt_outs == std::vector<std::string>{m->id, m->id});
  CHECK(w.repo.GetMessage(kTenant, m->id)->unsubscribe_time == now);
  auto next = w.delivery.Send(w.Meta("k2"), w.Email(Purpose::kMarketing));
  REQUIRE(next.ok());
  REQUIRE(w.dispatcher.Process(kTenant, next->id).ok());
  CHECK(w.repo.GetMessage(kTenant, next->id)->suppression == Suppression::kConsent);
}

TEST_CASE(
    "A click link of an index the message lacks, or an unsubscribe with customer-store down") {
  World w(TrackingOn());
  w.renderer.html = "<p>no links</p>";
  auto m = w.delivery.Send(w.Meta("k1"), w.Email());
  REQUIRE(m.ok());
  REQUIRE(w.dispatcher.Process(kTenant, m->id).ok());
  // Transactional email: tracked, but no unsubscribe link.
  CHECK(w.email.sent.at(0).list_unsubscribe_url.empty());
  CHECK(w.renderer.last_unsubscribe_url.empty());
  crm::common::TrackingClaims claims;
  claims.action = crm::common::TrackingAction::kClick;
  claims.tenant_id = kTenant;
  claims.message_id = m->id;
  claims.link = 0;
  claims.expire_time = w.clock.Now() + absl::Hours(1);
  auto r = w.tracking.Track(w.Meta(""), crm::common::SignTrackingToken(kTrackingKey, claims));
  CHECK(r.status().code() == absl::StatusCode::kNotFound);
  CHECK(ReasonOf(r.status()) == "TRACKING_LINK_INVALID");

  claims.action = crm::common::TrackingAction::kUnsubscribe;
  w.directory.down = absl::UnavailableError("down");
  r = w.tracking.Track(w.Meta(""), crm::common::SignTrackingToken(kTrackingKey, claims));
  CHECK(r.status().code() == absl::StatusCode::kUnavailable);
  CHECK_FALSE(w.repo.GetMessage(kTenant, m->id)->unsubscribe_time.has_value());
}

TEST_CASE("Without a tracking base URL the email goes as rendered") {
  World w;
  w.renderer.html = "<a href=\"https://shop.example/\">x</a>";
  auto m = w.delivery.Send(w.Meta("k1"), w.Email());
  REQUIRE(m.ok());
  REQUIRE(w.dispatcher.Process(kTenant, m->id).ok());
  CHECK(w.email.sent.at(0).parts.at("html") == "<a href=\"https://shop.example/\">x</a>");
  CHECK(w.repo.GetMessage(kTenant, m->id)->links.empty());
}

TEST_CASE(
    "An order after a click is credited to the clicked message once, and a cancel takes it back") {
  World w(TrackingOn());
  w.renderer.html = "<a href=\"https://shop.example/x\">x</a>";
  auto m = w.delivery.Send(w.Meta("k1"), w.Email());
  REQUIRE(m.ok());
  REQUIRE(w.dispatcher.Process(kTenant, m->id).ok());
  const std::string html = w.email.sent.at(0).parts.at("html");
  REQUIRE(w.tracking.Track(w.Meta(""), TokenAfter(html, "https://crm.example.com/t/c/")).ok());
  crm::delivery::app::Conversions conversions(w.repo, w.policies);
  crm::delivery::app::OrderConversion order;
  order.event_id = "e1";
  order.order_id = "o-1";
  order.customer_id = kCustomer;
  order.currency_code = "CHF";
  order.revenue_minor = 12990;
  order.version = 1;
  order.order_time = w.clock.Now() + absl::Hours(2);
  auto r = conversions.Record(kTenant, order);
  REQUIRE(r.ok());
  CHECK(r->credited_message_id == m->id);
  CHECK(r->first_credit);
  // The next version (paid) updates the revenue; the credit stays, no news.
  order.version = 2;
  order.revenue_minor = 10990;
  r = conversions.Record(kTenant, order);
  REQUIRE(r.ok());
  CHECK(r->credited_message_id == m->id);
  CHECK_FALSE(r->first_credit);
  int converted = 0;
  for (const auto& e : w.repo.events()) converted += e.type == "message.converted";
  CHECK(converted == 1);
  // An order of another customer, or after the window, is credited to nothing.
  order.order_id = "o-2";
  order.order_time = w.clock.Now() + absl::Hours(24 * 8);
  r = conversions.Record(kTenant, order);
  REQUIRE(r.ok());
  CHECK(r->credited_message_id.empty());
  // The same order in another tenant finds nothing of this one's.
  order.order_id = "o-1";
  order.order_time = w.clock.Now() + absl::Hours(2);
  r = conversions.Record(kOther, order);
  REQUIRE(r.ok());
  CHECK(r->credited_message_id.empty());
  order.cancelled = true;
  order.version = 3;
  r = conversions.Record(kTenant, order);
  REQUIRE(r.ok());
  CHECK(r->withdrawn == 1);
}

namespace {

crm::delivery::domain::ProviderSettings SmsProvider() {
  crm::delivery::domain::ProviderSettings p;
  p.channel = Channel::kSms;
  p.kind = crm::delivery::domain::ProviderKind::kTwilio;
  p.account = "AC1";
  p.sender = "+41445550000";
  p.secret = "token";
  return p;
}

}  // namespace

TEST_CASE("SMS and push need the tenant's provider and go through it") {
  World w;
  w.renderer.channels[std::string(kTenant) + "/code"] = "sms";
  w.renderer.channels[std::string(kTenant) + "/sale"] = "push";
  SendRequest r = w.Email();
  r.channel = Channel::kSms;
  r.template_id = "code";
  auto refused = w.delivery.Send(w.Meta("s0"), r);
  CHECK(ReasonOf(refused.status()) == "CHANNEL_PROVIDER_NOT_CONFIGURED");
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(w.queue.queued.empty());

  auto saved = w.delivery.PutProvider(w.Meta("p1"), SmsProvider(), "");
  REQUIRE(saved.ok());
  CHECK(saved->secret.empty());  // never answered
  CHECK(saved->version == 1);
  // An update without a secret keeps the stored one.
  auto p = SmsProvider();
  p.secret = "";
  p.sender = "+41445550001";
  auto kept = w.delivery.PutProvider(w.Meta("p2"), p, "1");
  REQUIRE(kept.ok());
  CHECK(kept->version == 2);
  CHECK(ReasonOf(w.delivery.PutProvider(w.Meta("p3"), SmsProvider(), "1").status()) ==
        "ETAG_MISMATCH");
  CHECK(ReasonOf(w.delivery.GetProvider(kOther, Channel::kSms).status()) ==
        "CHANNEL_PROVIDER_NOT_FOUND");

  Contact c;
  c.phones = {"0791234567", "+41791234567"};  // the first is not E.164
  c.consents["sms"]["marketing"] = ConsentStatus::kOptedIn;
  w.directory.contacts[std::string(kTenant) + "/" + kCustomer] = c;
  auto m = w.delivery.Send(w.Meta("s1"), r);
  REQUIRE(m.ok());
  auto done = w.dispatcher.Process(kTenant, m->id);
  REQUIRE(done.ok());
  CHECK(**done == State::kSent);
  REQUIRE(w.notify.sent.size() == 1);
  CHECK(w.notify.sent[0].provider.secret == "token");
  CHECK(w.notify.sent[0].provider.sender == "+41445550001");
  CHECK(w.notify.sent[0].notification.recipient == "+41791234567");
  CHECK(w.notify.sent[0].notification.text == std::string("Hi ") + kCustomer);
  CHECK(w.repo.GetMessage(kTenant, m->id)->provider_id == "p-" + m->id);

  // A provider refusing the recipient for good: suppressed with its reason.
  w.notify.next.outcome = Outcome::kPermanent;
  w.notify.next.refused = Suppression::kConsent;
  w.notify.next.detail = "twilio: HTTP 400 code 21610";
  m = w.delivery.Send(w.Meta("s2"), r);
  done = w.dispatcher.Process(kTenant, m->id);
  CHECK(**done == State::kSuppressed);
  CHECK(w.repo.GetMessage(kTenant, m->id)->suppression == Suppression::kConsent);
  // A STOP is the customer's opt-out of SMS, both purposes.
  CHECK(w.directory.opt_outs == std::vector<std::string>{m->id, m->id});
  CHECK(w.directory.contacts[std::string(kTenant) + "/" + kCustomer].consents["sms"]["marketing"] ==
        ConsentStatus::kOptedOut);
  w.directory.contacts[std::string(kTenant) + "/" + kCustomer].consents["sms"].clear();

  // Push: to the customer's id; no push consent for marketing: suppressed.
  w.notify.next = {};
  crm::delivery::domain::ProviderSettings push;
  push.channel = Channel::kPush;
  push.kind = crm::delivery::domain::ProviderKind::kOneSignal;
  push.account = "app";
  push.secret = "key";
  REQUIRE(w.delivery.PutProvider(w.Meta("p4"), push, "").ok());
  r.channel = Channel::kPush;
  r.template_id = "sale";
  m = w.delivery.Send(w.Meta("s3"), r);
  done = w.dispatcher.Process(kTenant, m->id);
  CHECK(**done == State::kSent);
  CHECK(w.notify.sent.back().notification.recipient == kCustomer);
  CHECK(w.notify.sent.back().notification.title == "Title");
  r.purpose = Purpose::kMarketing;
  m = w.delivery.Send(w.Meta("s4"), r);
  done = w.dispatcher.Process(kTenant, m->id);
  CHECK(**done == State::kSuppressed);
  CHECK(w.repo.GetMessage(kTenant, m->id)->suppression == Suppression::kConsent);

  // No valid phone number: suppressed, the provider never called.
  const size_t calls = w.notify.sent.size();
  w.directory.contacts[std::string(kTenant) + "/" + kCustomer].phones = {"12"};
  r = w.Email();
  r.channel = Channel::kSms;
  r.template_id = "code";
  m = w.delivery.Send(w.Meta("s5"), r);
  done = w.dispatcher.Process(kTenant, m->id);
  CHECK(**done == State::kSuppressed);
  CHECK(w.repo.GetMessage(kTenant, m->id)->suppression == Suppression::kInvalidAddress);
  CHECK(w.notify.sent.size() == calls);

  // The provider deleted after queueing: the message fails, a dead letter.
  REQUIRE(w.delivery.DeleteProvider(w.Meta("d1"), Channel::kSms).ok());
  CHECK(ReasonOf(w.delivery.DeleteProvider(w.Meta("d2"), Channel::kSms)) ==
        "CHANNEL_PROVIDER_NOT_FOUND");
}

TEST_CASE("A lost claim of a push is retried, of an SMS unknown") {
  for (Channel c : {Channel::kPush, Channel::kSms}) {
    crm::delivery::domain::Message m;
    m.channel = c;
    m.state = State::kSending;
    m.attempts = 1;
    crm::delivery::domain::ApplyLostClaim(m, absl::FromUnixSeconds(100), true);
    CHECK(m.state == (c == Channel::kPush ? State::kRetrying : State::kUnknown));
  }
}

TEST_CASE("A batch is claimed, read and finished together, a row given twice sent once") {
  World w;
  constexpr char kBob[] = "44444444-4444-4444-8444-444444444444";
  Contact bob;
  bob.emails = {"bob@example.com"};
  w.directory.contacts[std::string(kTenant) + "/" + kBob] = bob;
  auto a = w.delivery.Send(w.Meta("b1"), w.Email());
  SendRequest to_bob = w.Email();
  to_bob.customer_id = kBob;
  auto b = w.delivery.Send(w.Meta("b2"), to_bob);
  auto c = w.delivery.Send(w.Meta("b3"), w.Email());
  REQUIRE((a.ok() && b.ok() && c.ok()));
  const int reads = w.directory.calls;
  auto done = w.dispatcher.ProcessBatch(
      kTenant, {a->id, b->id, "not-a-uuid", a->id, c->id, "55555555-5555-4555-8555-555555555555"});
  REQUIRE(done.ok());
  REQUIRE(done->size() == 6);
  CHECK((*done)[0] == std::optional<State>(State::kSent));
  CHECK((*done)[1] == std::optional<State>(State::kSent));
  CHECK_FALSE((*done)[2].has_value());  // not an id: nothing
  CHECK_FALSE((*done)[3].has_value());  // the same row again: claimed once
  CHECK((*done)[4] == std::optional<State>(State::kSent));
  CHECK_FALSE((*done)[5].has_value());    // no such row
  CHECK(w.directory.calls == reads + 1);  // one read of both customers
  CHECK(w.repo.claim_batches == 1);
  CHECK(w.renderer.batches == 1);  // one render call for the batch's three
  REQUIRE(w.email.sent.size() == 3);
  CHECK(w.email.sent[1].to == "bob@example.com");
  for (const auto& id : {a->id, b->id, c->id}) {
    auto stored = w.repo.GetMessage(kTenant, id);
    CHECK(stored->state == State::kSent);
    CHECK(stored->attempts == 1);
  }
}

TEST_CASE("A batch's rows not started while their claim outlasts a send are released unsent") {
  World w;
  // Lease 60 s, longest send 30 s: sends may start for 30 s after the claim.
  w.email.on_send = [&] { w.clock.Advance(absl::Seconds(20)); };
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto m = w.delivery.Send(w.Meta("r" + std::to_string(i)), w.Email());
    REQUIRE(m.ok());
    ids.push_back(m->id);
  }
  auto done = w.dispatcher.ProcessBatch(kTenant, ids);
  REQUIRE(done.ok());
  CHECK((*done)[0] == std::optional<State>(State::kSent));    // started at 0 s
  CHECK((*done)[1] == std::optional<State>(State::kSent));    // started at 20 s
  CHECK((*done)[2] == std::optional<State>(State::kQueued));  // 40 s: too late to start
  CHECK(w.email.sent.size() == 2);
  auto released = w.repo.GetMessage(kTenant, ids[2]);
  CHECK(released->state == State::kQueued);
  CHECK(released->attempts == 0);  // not an attempt
  CHECK(absl::StrContains(released->last_error, "released unsent"));
  // The next sender sends it.
  w.email.on_send = nullptr;
  CHECK(**w.dispatcher.Process(kTenant, ids[2]) == State::kSent);
  CHECK(w.email.sent.size() == 3);
}

TEST_CASE("Each email of a batch is marked started before its send, never two at once") {
  World w;
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto m = w.delivery.Send(w.Meta("s" + std::to_string(i)), w.Email());
    REQUIRE(m.ok());
    ids.push_back(m->id);
  }
  // What is marked as started while each mail is handed to the relay:
  // exactly that mail (the previous one's finish marked it; none after it).
  std::vector<std::set<std::string>> at_send;
  w.email.on_send = [&] { at_send.push_back(w.repo.SendStarted()); };
  auto done = w.dispatcher.ProcessBatch(kTenant, ids);
  REQUIRE(done.ok());
  REQUIRE(at_send.size() == 4);
  for (size_t i = 0; i < ids.size(); ++i) {
    CHECK((*done)[i] == std::optional<State>(State::kSent));
    CHECK(at_send[i] == std::set<std::string>{std::string(kTenant) + "/" + ids[i]});
  }
  CHECK(w.repo.SendStarted().empty());  // all finished
}

TEST_CASE("A batch's contacts unavailable: every row of it is retried") {
  World w;
  auto a = w.delivery.Send(w.Meta("u1"), w.Email());
  auto b = w.delivery.Send(w.Meta("u2"), w.Email());
  w.directory.down = absl::UnavailableError("customer-store is down");
  auto done = w.dispatcher.ProcessBatch(kTenant, {a->id, b->id});
  REQUIRE(done.ok());
  CHECK((*done)[0] == std::optional<State>(State::kRetrying));
  CHECK((*done)[1] == std::optional<State>(State::kRetrying));
  CHECK(w.email.sent.empty());
  CHECK(absl::StrContains(w.repo.GetMessage(kTenant, a->id)->last_error, "customer-store"));
}

namespace {

// A signed event of the tenant's email service about message `id`.
std::string EmailEvent(const std::string& event, const std::string& id, absl::Time now,
                       const std::string& key = "whsec-key") {
  const std::string ts = std::to_string(absl::ToUnixSeconds(now));
  const std::string token = "t0k3n";
  return nlohmann::json{{"signature",
                         {{"timestamp", ts},
                          {"token", token},
                          {"signature", crm::delivery::domain::MailgunSignature(key, ts, token)}}},
                        {"event-data",
                         {{"event", event},
                          {"severity", "permanent"},
                          {"recipient", "ada@example.com"},
                          {"message", {{"headers", {{"message-id", id + "@crm.test"}}}}},
                          {"delivery-status", {{"code", 550}, {"message", "no such user"}}}}}}
      .dump();
}

crm::delivery::domain::ProviderSettings EmailEvents() {
  crm::delivery::domain::ProviderSettings p;
  p.channel = Channel::kEmail;
  p.kind = crm::delivery::domain::ProviderKind::kMailgun;
  p.account = "mg.example.com";
  p.secret = "whsec-key";
  return p;
}

}  // namespace

TEST_CASE("A bounce marks the message and suppresses the address, the next mail avoids it") {
  World w;
  Contact c;
  c.emails = {"Ada@Example.com", "ada.backup@example.com"};
  w.directory.contacts[std::string(kTenant) + "/" + kCustomer] = c;
  auto m = w.delivery.Send(w.Meta("b1"), w.Email());
  REQUIRE(**w.dispatcher.Process(kTenant, m->id) == State::kSent);
  // Without a provider, or signed with another key: not believed.
  CHECK(ReasonOf(w.tracking.ReportEmailEvent(
            w.Meta(""), EmailEvent("failed", m->id, w.clock.Now()))) == "TRACKING_LINK_INVALID");
  REQUIRE(w.delivery.PutProvider(w.Meta("p"), EmailEvents(), "").ok());
  CHECK(ReasonOf(w.tracking.ReportEmailEvent(
            w.Meta(""), EmailEvent("failed", m->id, w.clock.Now(), "other"))) ==
        "TRACKING_LINK_INVALID");
  // Another tenant's endpoint with this tenant's event: its own provider decides.
  CHECK(ReasonOf(w.tracking.ReportEmailEvent(w.Meta("", kOther),
                                             EmailEvent("failed", m->id, w.clock.Now()))) ==
        "TRACKING_LINK_INVALID");
  REQUIRE(w.tracking.ReportEmailEvent(w.Meta(""), EmailEvent("failed", m->id, w.clock.Now())).ok());
  auto stored = w.repo.GetMessage(kTenant, m->id);
  CHECK(stored->receipt == crm::delivery::domain::Receipt::kBounced);
  CHECK(stored->receipt_detail == "550 no such user");
  auto listed = w.delivery.ListSuppressions(kTenant, {50, ""});
  REQUIRE(listed->items.size() == 1);
  CHECK(listed->items[0].address == "ada@example.com");
  CHECK(listed->items[0].message_id == m->id);
  CHECK(w.delivery.ListSuppressions(kOther, {50, ""})->items.empty());
  // The same event again changes nothing (the first final receipt stays).
  REQUIRE(
      w.tracking.ReportEmailEvent(w.Meta(""), EmailEvent("delivered", m->id, w.clock.Now())).ok());
  CHECK(w.repo.GetMessage(kTenant, m->id)->receipt == crm::delivery::domain::Receipt::kBounced);

  // The next mail goes to the address that did not bounce (any case).
  auto next = w.delivery.Send(w.Meta("b2"), w.Email());
  REQUIRE(**w.dispatcher.Process(kTenant, next->id) == State::kSent);
  CHECK(w.email.sent.back().to == "ada.backup@example.com");
  // With every address bounced: suppressed, saying so.
  c.emails = {"ADA@example.com"};
  w.directory.contacts[std::string(kTenant) + "/" + kCustomer] = c;
  auto third = w.delivery.Send(w.Meta("b3"), w.Email());
  REQUIRE(**w.dispatcher.Process(kTenant, third->id) == State::kSuppressed);
  auto refused = w.repo.GetMessage(kTenant, third->id);
  CHECK(refused->suppression == Suppression::kInvalidAddress);
  CHECK(absl::StrContains(refused->last_error, "bounced"));
  // An admin removes it after the mailbox is fixed: mail goes again.
  CHECK(ReasonOf(w.delivery.DeleteSuppression(w.Meta("d0", kOther), "ada@example.com")) ==
        "SUPPRESSION_NOT_FOUND");
  REQUIRE(w.delivery.DeleteSuppression(w.Meta("d1"), "ADA@example.com").ok());
  CHECK(ReasonOf(w.delivery.DeleteSuppression(w.Meta("d2"), "ada@example.com")) ==
        "SUPPRESSION_NOT_FOUND");
  auto fourth = w.delivery.Send(w.Meta("b4"), w.Email());
  REQUIRE(**w.dispatcher.Process(kTenant, fourth->id) == State::kSent);
  CHECK(w.email.sent.back().to == "ADA@example.com");
}

TEST_CASE("A complaint opts the customer out of marketing email, other mail is left alone") {
  World w;
  REQUIRE(w.delivery.PutProvider(w.Meta("p"), EmailEvents(), "").ok());
  auto m = w.delivery.Send(w.Meta("c1"), w.Email());
  REQUIRE(**w.dispatcher.Process(kTenant, m->id) == State::kSent);
  REQUIRE(
      w.tracking.ReportEmailEvent(w.Meta(""), EmailEvent("complained", m->id, w.clock.Now())).ok());
  CHECK(w.directory.opt_outs == std::vector<std::string>{m->id});
  CHECK(
      w.directory.contacts[std::string(kTenant) + "/" + kCustomer].consents["email"]["marketing"] ==
      ConsentStatus::kOptedOut);
  CHECK(w.delivery.ListSuppressions(kTenant, {50, ""})->items.empty());
  // customer-store down: the service is asked to come back.
  w.directory.down = absl::UnavailableError("customer-store is down");
  CHECK(w.tracking.ReportEmailEvent(w.Meta(""), EmailEvent("complained", m->id, w.clock.Now()))
            .code() == absl::StatusCode::kUnavailable);
  w.directory.down = absl::OkStatus();
  // Events of mail that is not ours, of unknown messages and other kinds: nothing.
  REQUIRE(w.tracking
              .ReportEmailEvent(
                  w.Meta(""),
                  EmailEvent("failed", "55555555-5555-4555-8555-555555555555", w.clock.Now()))
              .ok());
  REQUIRE(w.tracking.ReportEmailEvent(w.Meta(""), EmailEvent("opened", m->id, w.clock.Now())).ok());
  CHECK(w.repo.GetMessage(kTenant, m->id)->receipt == crm::delivery::domain::Receipt::kNone);
  CHECK(w.delivery.ListSuppressions(kTenant, {50, ""})->items.empty());
  CHECK(ReasonOf(w.tracking.ReportEmailEvent(w.Meta(""), "{}")) == "MALFORMED_BODY");
}

TEST_CASE("A mail of the service desk goes as the desk wrote it, threaded, consent aside") {
  World w;
  const std::string ticket = "44444444-4444-4444-8444-444444444444";
  const std::string mail = "55555555-5555-4555-8555-555555555555";
  // The customer opted out of transactional email; an answer to their own
  // request still goes (it is not a message we chose to send them).
  Contact c;
  c.emails = {"ada@example.com"};
  c.consents["email"]["transactional"] = ConsentStatus::kOptedOut;
  w.directory.contacts[std::string(kTenant) + "/" + kCustomer] = c;
  crm::delivery::app::TicketMail t;
  t.from_address = "support@desk.example";
  t.from_name = "Example Support";
  t.to_address = "ada.private@example.com";
  t.to_name = "Ada";
  t.subject = "Card charged twice [#12]";
  t.text = "Hello Ada.\n\n[ref:" + ticket + "]\n";
  t.message_id = "m1@desk.example";
  t.in_reply_to = "a1@example.com";
  t.references = {"a0@example.com", "a1@example.com"};
  t.auto_submitted = true;
  w.desk.mails[std::string(kTenant) + "/" + ticket + "/" + mail] = t;

  auto m = w.delivery.QueueTicketMail(kTenant, kCustomer, ticket, mail);
  REQUIRE(m.ok());
  CHECK(m->state == State::kQueued);
  CHECK(m->ticket_mail_id == mail);
  CHECK(m->template_id.empty());
  REQUIRE(w.queue.queued.size() == 1);
  // The event again (a redelivery): the same message, nothing queued twice.
  auto again = w.delivery.QueueTicketMail(kTenant, kCustomer, ticket, mail);
  REQUIRE(again.ok());
  CHECK(again->id == m->id);
  CHECK(w.delivery.ListCustomerMessages(kTenant, kCustomer, {50, ""})->messages.size() == 1);
  CHECK(ReasonOf(w.delivery.QueueTicketMail(kTenant, kCustomer, "not-a-uuid", mail).status()) ==
        "INVALID_FIELD");

  REQUIRE(**w.dispatcher.Process(kTenant, m->id) == State::kSent);
  REQUIRE(w.email.sent.size() == 1);
  const crm::delivery::app::OutboundEmail& e = w.email.sent[0];
  CHECK(e.to == "ada.private@example.com");
  CHECK(e.to_name == "Ada");
  CHECK(e.sender.from_address == "support@desk.example");
  CHECK(e.sender.from_name == "Example Support");
  CHECK(e.sender.reply_to_address.empty());
  CHECK(e.header_message_id == "m1@desk.example");
  CHECK(e.in_reply_to == "a1@example.com");
  CHECK(e.references == t.references);
  CHECK(e.auto_submitted);
  CHECK(e.parts.at("subject") == t.subject);
  CHECK(e.parts.at("text") == t.text);
  CHECK(e.parts.count("html") == 0);
  CHECK(e.list_unsubscribe_url.empty());
  auto stored = w.repo.GetMessage(kTenant, m->id);
  CHECK(stored->recipient == "ada.private@example.com");
  CHECK(stored->ticket_id == ticket);

  // The desk down: retried; the mail gone from the desk: failed for good.
  const std::string later = "66666666-6666-4666-8666-666666666666";
  w.desk.mails[std::string(kTenant) + "/" + ticket + "/" + later] = t;
  auto second = w.delivery.QueueTicketMail(kTenant, kCustomer, ticket, later);
  w.desk.down = true;
  REQUIRE(**w.dispatcher.Process(kTenant, second->id) == State::kRetrying);
  CHECK(absl::StrContains(w.repo.GetMessage(kTenant, second->id)->last_error, "service-desk"));
  w.desk.down = false;
  const std::string gone = "77777777-7777-4777-8777-777777777777";
  auto third = w.delivery.QueueTicketMail(kTenant, kCustomer, ticket, gone);
  REQUIRE(**w.dispatcher.Process(kTenant, third->id) == State::kFailed);
  // Another tenant's mail of the same ids is not this tenant's.
  auto other = w.delivery.QueueTicketMail(kOther, kCustomer, ticket, mail);
  REQUIRE(other.ok());
  CHECK(other->id != m->id);
  CHECK(w.email.sent.size() == 1);
}

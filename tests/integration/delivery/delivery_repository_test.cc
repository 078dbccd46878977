// The send ledger in PostgreSQL (PgDeliveryRepository as the app role, RLS
// on) and the work queue on Redis (RedisWorkQueue): the claim is exclusive,
// the finish writes only the claimed attempt, lost claims are resolved
// without a second send, due rows come back after a lost queue, erasure is
// once per event, and tenants see only their own rows. Schema delivery is
// reset once per process; every test works in tenants of its own.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/common/tracking_token.h"
#include "libs/pg/pool.h"
#include "services/delivery/app/conversions.h"
#include "services/delivery/app/delivery.h"
#include "services/delivery/app/tracking.h"
#include "services/delivery/storage/pg_delivery_repository.h"
#include "services/delivery/storage/redis_queue.h"
#include "tests/support/fakes/delivery/fake_delivery.h"
#include "tests/support/pg_test_db.h"
#include "tests/support/redis_test_db.h"

namespace crm::delivery::itest {
namespace {

namespace ts = crm::test_support;
using domain::Channel;
using domain::Message;
using domain::State;

constexpr char kContextKey[] = "integration-context-key-0123456789abcdef";

struct Env {
  std::unique_ptr<crm::pg::Pool> pool;
  std::unique_ptr<crm::redis::Pool> redis;
  std::unique_ptr<storage::PgDeliveryRepository> repo;
};

Env& TheEnv() {
  static Env* env = [] {
    auto* e = new Env;
    e->pool =
        ts::FreshSchemaPool("delivery", "delivery", 8, {storage::PgDeliveryRepository::Queries()});
    auto redis = ts::MakeRedisPool();
    if (!redis.ok()) throw std::runtime_error("redis: " + redis.status().ToString());
    e->redis = std::move(redis).value();
    e->repo = std::make_unique<storage::PgDeliveryRepository>(*e->pool, kContextKey);
    return e;
  }();
  return *env;
}

struct World {
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  crm::testing::FakeWorkQueue queue;
  crm::testing::FakeRenderer renderer;
  crm::testing::FakeResolver resolver;
  app::PolicyCache policies{*TheEnv().repo, clock};
  app::Delivery delivery{
      *TheEnv().repo,
      policies,
      queue,
      renderer,
      resolver,
      {3, {"no-reply@crm.test", "CRM", "", std::nullopt}, *domain::ParseCidrList("127.0.0.0/8")},
      clock,
      ids};
  std::string tenant = common::NewUuid();
  World() {
    renderer.channels[tenant + "/welcome"] = "email";
    renderer.channels[tenant + "/hook"] = "webhook";
  }
  outbox::WriteMeta Meta(const std::string& method, std::string key = "") {
    if (key.empty()) key = common::NewUuid();
    return outbox::WriteMeta{tenant, "itest", "", method, key, ""};
  }
  Message Send(const std::string& customer,
               domain::Purpose purpose = domain::Purpose::kTransactional) {
    app::SendRequest r;
    r.customer_id = customer;
    r.channel = Channel::kEmail;
    r.purpose = purpose;
    r.template_id = "welcome";
    absl::StatusOr<Message> m = delivery.Send(Meta("SendMessage"), r);
    if (!m.ok()) throw std::runtime_error(m.status().ToString());
    return *m;
  }
  // A message to `customer` claimed and finished as sent with these click links.
  Message SendAndFinish(const std::string& customer, std::vector<std::string> links) {
    auto& repo = *TheEnv().repo;
    Message m = Send(customer);
    auto claimed = repo.Claim(tenant, m.id, absl::Seconds(60), {});
    if (!claimed.ok() || !claimed->claimed) throw std::runtime_error("not claimed");
    Message done = *claimed->claimed;
    done.state = State::kSent;
    done.send_time = absl::Now();
    done.update_time = absl::Now();
    done.next_attempt_time.reset();
    done.links = std::move(links);
    done.offer_ids = {"offer-a", "offer-b"};
    absl::StatusOr<bool> finished = repo.Finish(tenant, done, done.attempts, "message.sent");
    if (!finished.ok() || !*finished) throw std::runtime_error("not finished");
    return done;
  }
  // A tracking token of one of this tenant's messages, valid for an hour.
  std::string Token(const std::string& message_id, common::TrackingAction a, int link = 0) const {
    common::TrackingClaims c;
    c.action = a;
    c.tenant_id = tenant;
    c.message_id = message_id;
    c.link = link;
    c.expire_time = absl::Now() + absl::Hours(1);
    return common::SignTrackingToken(common::TrackingKey(kContextKey), c);
  }
};

}  // namespace

TEST_CASE("A queued message is claimed by exactly one of many senders") {
  World w;
  Message m = w.Send(common::NewUuid());
  auto& repo = *TheEnv().repo;
  std::atomic<int> won{0};
  std::vector<std::thread> senders;
  for (int i = 0; i < 8; ++i) {
    senders.emplace_back([&] {
      auto claimed = repo.Claim(w.tenant, m.id, absl::Seconds(60), {});
      if (claimed.ok() && claimed->claimed.has_value()) ++won;
    });
  }
  for (auto& t : senders) t.join();
  CHECK(won == 1);
  auto stored = repo.GetMessage(w.tenant, m.id);
  REQUIRE(stored.ok());
  CHECK(stored->state == State::kSending);
  CHECK(stored->attempts == 1);
}

TEST_CASE("A frequency cap holds under concurrent claims for one customer") {
  World w;
  auto& repo = *TheEnv().repo;
  const std::string customer = common::NewUuid();
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(w.Send(customer, domain::Purpose::kMarketing).id);
  const std::vector<domain::FrequencyCap> caps = {{Channel::kEmail, 3, absl::Hours(24)}};
  std::atomic<int> claimed{0};
  std::atomic<int> capped{0};
  std::vector<std::thread> senders;
  for (const std::string& id : ids) {
    senders.emplace_back([&, id] {
      auto r = repo.Claim(w.tenant, id, absl::Seconds(60), caps);
      if (r.ok() && r->claimed) ++claimed;
      if (r.ok() && r->capped) ++capped;
    });
  }
  for (auto& t : senders) t.join();
  CHECK(claimed == 3);
  CHECK(capped == 5);
  auto suppressed = repo.ListMessages(w.tenant, State::kSuppressed, {50, ""});
  REQUIRE(suppressed->messages.size() == 5);
  CHECK(suppressed->messages[0].suppression == domain::Suppression::kFrequencyCap);
  CHECK(suppressed->messages[0].attempts == 0);
}

TEST_CASE("A batch claim takes each due row once, caps rows of one batch, and is tenant-scoped") {
  World w;
  World other;
  auto& repo = *TheEnv().repo;
  const std::string customer = common::NewUuid();
  std::vector<std::string> marketing;
  for (int i = 0; i < 3; ++i) {
    marketing.push_back(w.Send(customer, domain::Purpose::kMarketing).id);
  }
  const Message plain = w.Send(common::NewUuid());
  const Message foreign = other.Send(common::NewUuid());
  const std::vector<domain::FrequencyCap> caps = {{Channel::kEmail, 2, absl::Hours(24)}};
  // Two batches race over the same rows (the second also names one twice,
  // and the other tenant's row): each row is claimed once in all.
  std::vector<std::string> batch = {marketing[0], marketing[1], marketing[2], plain.id, foreign.id};
  std::vector<std::string> again = {plain.id, marketing[2], marketing[1], marketing[0], plain.id};
  absl::StatusOr<std::vector<app::Ledger::ClaimResult>> r1, r2;
  std::thread t1([&] { r1 = repo.ClaimBatch(w.tenant, batch, absl::Seconds(60), caps); });
  std::thread t2([&] { r2 = repo.ClaimBatch(w.tenant, again, absl::Seconds(60), caps); });
  t1.join();
  t2.join();
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  REQUIRE(r1->size() == batch.size());
  REQUIRE(r2->size() == again.size());
  std::map<std::string, int> claimed, capped;
  for (size_t i = 0; i < batch.size(); ++i) {
    if ((*r1)[i].claimed) ++claimed[batch[i]];
    if ((*r1)[i].capped) ++capped[batch[i]];
  }
  for (size_t i = 0; i < again.size(); ++i) {
    if ((*r2)[i].claimed) ++claimed[again[i]];
    if ((*r2)[i].capped) ++capped[again[i]];
  }
  CHECK(claimed[plain.id] == 1);
  CHECK(claimed[foreign.id] + capped[foreign.id] == 0);  // another tenant's row: nothing
  int marketing_claimed = 0;
  int marketing_capped = 0;
  for (const std::string& id : marketing) {
    CHECK(claimed[id] + capped[id] == 1);
    marketing_claimed += claimed[id];
    marketing_capped += capped[id];
  }
  CHECK(marketing_claimed == 2);  // the cap: 2 per day
  CHECK(marketing_capped == 1);
  CHECK(repo.GetMessage(other.tenant, foreign.id)->state == State::kQueued);

  // The finish of a batch writes each claimed attempt once.
  std::vector<app::Ledger::Finished> rows;
  for (const auto* results : {&*r1, &*r2}) {
    for (const auto& c : *results) {
      if (!c.claimed) continue;
      Message done = *c.claimed;
      done.state = State::kSent;
      done.send_time = absl::Now();
      done.update_time = absl::Now();
      done.next_attempt_time.reset();
      rows.push_back({done, done.attempts, "message.sent"});
    }
  }
  REQUIRE(rows.size() == 3);
  rows.push_back(rows.front());  // the same attempt twice: written once
  auto finished = repo.FinishBatch(w.tenant, rows);
  REQUIRE(finished.ok());
  CHECK(*finished == std::vector<bool>{true, true, true, false});
  CHECK(repo.GetMessage(w.tenant, plain.id)->state == State::kSent);
}

TEST_CASE("The finish writes only the attempt it claimed, with its event") {
  World w;
  Message m = w.Send(common::NewUuid());
  auto& repo = *TheEnv().repo;
  auto claimed = repo.Claim(w.tenant, m.id, absl::Seconds(60), {});
  REQUIRE(claimed.ok());
  REQUIRE(claimed->claimed.has_value());
  Message done = *claimed->claimed;
  done.state = State::kSent;
  done.recipient = "ada@example.com";
  done.provider_id = "<x@crm.test>";
  done.decision_ids = {"d-1", "d-2"};
  done.send_time = absl::Now();
  done.update_time = absl::Now();
  done.next_attempt_time.reset();
  Message stale = done;
  stale.attempts = 7;  // not the claimed attempt
  CHECK_FALSE(*repo.Finish(w.tenant, stale, 7, "message.sent"));
  CHECK(*repo.Finish(w.tenant, done, done.attempts, "message.sent"));
  CHECK_FALSE(*repo.Finish(w.tenant, done, done.attempts, "message.sent"));  // once
  auto stored = repo.GetMessage(w.tenant, m.id);
  CHECK(stored->state == State::kSent);
  CHECK(stored->recipient == "ada@example.com");
  CHECK(stored->decision_ids == std::vector<std::string>{"d-1", "d-2"});
  CHECK(stored->send_time.has_value());
  CHECK_FALSE(stored->next_attempt_time.has_value());
  // A final row is never claimed again.
  CHECK_FALSE(repo.Claim(w.tenant, m.id, absl::Seconds(60), {})->claimed.has_value());
  int events = 0;
  REQUIRE(TheEnv()
              .pool
              ->WithTenantTx(w.tenant,
                             [&](pqxx::work& tx) -> absl::Status {
                               events =
                                   tx.exec_params1(
                                         "SELECT count(*) FROM delivery.outbox WHERE event_type = "
                                         "'message.sent' AND payload->>'messageId' = $1",
                                         m.id)[0]
                                       .as<int>();
                               return absl::OkStatus();
                             })
              .ok());
  CHECK(events == 1);
}

TEST_CASE("Tracked links and engagement are stored, counted once per message, and tenant-bound") {
  World w;
  const std::string customer = common::NewUuid();
  auto& repo = *TheEnv().repo;
  // URLs with what a text array literal must escape.
  const Message m = w.SendAndFinish(
      customer, {"https://shop.example/a?x=1&y=\"q\"", "https://shop.example/b,c{d}\\e"});
  CHECK(repo.GetMessage(w.tenant, m.id)->links == m.links);

  crm::testing::FakeCustomerDirectory directory;
  directory.contacts[w.tenant + "/" + customer] = app::Contact{};
  app::Tracking tracking(repo, directory, common::TrackingKey(kContextKey), w.clock);
  auto token = [&](common::TrackingAction a, int link) { return w.Token(m.id, a, link); };
  auto click = tracking.Track(w.Meta("Track"), token(common::TrackingAction::kClick, 1));
  REQUIRE(click.ok());
  CHECK(click->redirect_url == m.links[1]);
  REQUIRE(tracking.Track(w.Meta("Track"), token(common::TrackingAction::kOpen, 0)).ok());
  REQUIRE(tracking.Track(w.Meta("Track"), token(common::TrackingAction::kOpen, 0)).ok());
  CHECK(tracking.Track(w.Meta("Track"), token(common::TrackingAction::kClick, 2)).status().code() ==
        absl::StatusCode::kNotFound);
  REQUIRE(tracking.Track(w.Meta("Track"), token(common::TrackingAction::kUnsubscribe, 0)).ok());
  auto stored = repo.GetMessage(w.tenant, m.id);
  CHECK(stored->open_count == 2);
  CHECK(stored->click_count == 1);
  CHECK(stored->first_open_time.has_value());
  CHECK(stored->first_click_time.has_value());
  CHECK(stored->unsubscribe_time.has_value());
  CHECK(stored->state == State::kSent);
  CHECK(directory.opt_outs == std::vector<std::string>{m.id});

  // Another tenant's context cannot use this tenant's token.
  World other;
  auto foreign = tracking.Track(other.Meta("Track"), token(common::TrackingAction::kOpen, 0));
  CHECK(foreign.status().code() == absl::StatusCode::kNotFound);
  CHECK(repo.GetMessage(w.tenant, m.id)->open_count == 2);

  std::map<std::string, int> events;
  REQUIRE(TheEnv()
              .pool
              ->WithTenantTx(w.tenant,
                             [&](pqxx::work& tx) -> absl::Status {
                               for (const auto& r : tx.exec_params(
                                        "SELECT event_type, count(*) FROM delivery.outbox WHERE "
                                        "payload->>'messageId' = $1 GROUP BY 1",
                                        m.id)) {
                                 events[r[0].as<std::string>()] = r[1].as<int>();
                               }
                               return absl::OkStatus();
                             })
              .ok());
  CHECK(events["message.opened"] == 1);
  CHECK(events["message.clicked"] == 1);
  CHECK(events["message.unsubscribed"] == 1);
}

TEST_CASE(
    "An order is credited to the last click, updated by newer versions, taken back when "
    "cancelled") {
  World w;
  const std::string customer = common::NewUuid();
  auto& repo = *TheEnv().repo;
  crm::testing::FakeCustomerDirectory directory;
  app::Tracking tracking(repo, directory, common::TrackingKey(kContextKey), w.clock);
  auto sent_and_clicked = [&] {
    const Message m = w.SendAndFinish(customer, {"https://shop.example/"});
    REQUIRE(tracking.Track(w.Meta("Track"), w.Token(m.id, common::TrackingAction::kClick)).ok());
    return m.id;
  };
  const std::string first = sent_and_clicked();
  const std::string last = sent_and_clicked();
  app::Conversions conversions(repo, w.policies);
  app::OrderConversion order;
  order.event_id = common::NewUuid();
  order.order_id = common::NewUuid();
  order.customer_id = customer;
  order.currency_code = "EUR";
  order.revenue_minor = 5000;
  order.version = 1;
  order.order_time = absl::Now() + absl::Minutes(5);
  auto r = conversions.Record(w.tenant, order);
  REQUIRE(r.ok());
  CHECK(r->credited_message_id == last);
  CHECK(r->first_credit);
  // A redelivered event and the next version: the same credit, the new revenue.
  REQUIRE(conversions.Record(w.tenant, order).ok());
  order.version = 2;
  order.revenue_minor = 4000;
  r = conversions.Record(w.tenant, order);
  REQUIRE(r.ok());
  CHECK(r->credited_message_id == last);
  CHECK_FALSE(r->first_credit);
  auto rows = [&](const std::string& tenant, const std::string& sql) {
    std::vector<std::string> out;
    REQUIRE(TheEnv()
                .pool
                ->WithTenantTx(tenant,
                               [&](pqxx::work& tx) -> absl::Status {
                                 for (const auto& row : tx.exec(sql)) {
                                   out.push_back(row[0].as<std::string>());
                                 }
                                 return absl::OkStatus();
                               })
                .ok());
    return out;
  };
  CHECK(rows(w.tenant,
             "SELECT message_id::text || ' ' || revenue_minor FROM delivery.conversions "
             "WHERE order_id = '" +
                 order.order_id + "'") == std::vector<std::string>{last + " 4000"});
  CHECK(rows(w.tenant,
             "SELECT payload->>'orderId' FROM delivery.outbox WHERE event_type = "
             "'message.converted' AND payload->>'messageId' = '" +
                 last + "'") == std::vector<std::string>{order.order_id});
  // By offer: the finish kept the message's offers; as a campaign's
  // message, each of its offers counts it sent and credited.
  CHECK(repo.GetMessage(w.tenant, last)->offer_ids ==
        std::vector<std::string>{"offer-a", "offer-b"});
  const std::string campaign = common::NewUuid();
  rows(w.tenant, "UPDATE delivery.messages SET campaign_id = '" + campaign +
                     "' WHERE message_id IN ('" + first + "', '" + last + "') RETURNING 1");
  auto offers = repo.CountCampaignOffers(w.tenant, campaign);
  REQUIRE(offers.ok());
  std::vector<std::string> seen;
  for (const app::OfferCount& o : *offers) {
    seen.push_back(
        absl::StrCat(o.offer_id, "/", o.currency_code, "/", o.messages, "/", o.revenue_minor));
  }
  CHECK(seen == std::vector<std::string>{"offer-a//2/0", "offer-a/EUR/1/4000", "offer-b//2/0",
                                         "offer-b/EUR/1/4000"});
  CHECK(repo.CountCampaignOffers(common::NewUuid(), campaign)->empty());  // another tenant
  // Another tenant's order for a customer of the same id finds nothing here.
  World other;
  auto foreign = app::Conversions(repo, other.policies).Record(other.tenant, order);
  REQUIRE(foreign.ok());
  CHECK(foreign->credited_message_id.empty());
  CHECK(rows(other.tenant, "SELECT order_id FROM delivery.conversions").empty());
  // Cancelled: taken back.
  order.cancelled = true;
  order.version = 3;
  r = conversions.Record(w.tenant, order);
  REQUIRE(r.ok());
  CHECK(r->withdrawn == 1);
  CHECK(rows(w.tenant, "SELECT order_id FROM delivery.conversions").empty());
  // An erased customer's conversions go with their messages.
  order.cancelled = false;
  order.order_id = common::NewUuid();
  REQUIRE(conversions.Record(w.tenant, order)->credited_message_id == last);
  REQUIRE(repo.EraseCustomers(w.tenant, common::NewUuid(), {customer}).ok());
  CHECK(rows(w.tenant, "SELECT order_id FROM delivery.conversions").empty());
  (void)first;
}

TEST_CASE("An email's finish marks the next one's send as started in the same transaction") {
  World w;
  auto& repo = *TheEnv().repo;
  Message a = w.Send(common::NewUuid());
  Message b = w.Send(common::NewUuid());
  auto claimed = repo.ClaimBatch(w.tenant, {a.id, b.id}, absl::Milliseconds(500), {});
  REQUIRE(claimed.ok());
  REQUIRE((*claimed)[0].claimed.has_value());
  REQUIRE((*claimed)[1].claimed.has_value());
  REQUIRE(*repo.MarkSendStarted(w.tenant, a.id, 1));
  Message sent = *(*claimed)[0].claimed;
  sent.state = State::kSent;
  sent.send_time = absl::Now();
  sent.update_time = absl::Now();
  sent.next_attempt_time.reset();
  auto r = repo.FinishAndMark(w.tenant, {sent, 1, "message.sent"}, b.id, 1);
  REQUIRE(r.ok());
  CHECK(r->finished);
  CHECK(r->next_marked);
  CHECK(repo.GetMessage(w.tenant, a.id)->state == State::kSent);
  // b's sender stops before finishing it: begun, so unknown (never resent).
  absl::SleepFor(absl::Milliseconds(600));
  REQUIRE(*repo.ResolveLostClaims(1000) >= 1);
  CHECK(repo.GetMessage(w.tenant, b.id)->state == State::kUnknown);
  // A finish of a lost claim writes nothing and marks nothing.
  Message c = w.Send(common::NewUuid());
  auto again = repo.FinishAndMark(w.tenant, {sent, 1, "message.sent"}, c.id, 1);
  REQUIRE(again.ok());
  CHECK_FALSE(again->finished);
  CHECK_FALSE(again->next_marked);  // c is not claimed
}

TEST_CASE("A lost email claim becomes unknown once its send began, else it is retried") {
  World w;
  auto& repo = *TheEnv().repo;
  // Claimed, never started (a batch's row behind the one being sent).
  Message waiting = w.Send(common::NewUuid());
  auto first = repo.Claim(w.tenant, waiting.id, absl::Milliseconds(1), {});
  REQUIRE(first->claimed.has_value());
  absl::SleepFor(absl::Milliseconds(20));
  REQUIRE(*repo.ResolveLostClaims(1000) >= 1);
  CHECK(repo.GetMessage(w.tenant, waiting.id)->state == State::kRetrying);
  // Too late to mark it started: the claim is gone.
  CHECK_FALSE(*repo.MarkSendStarted(w.tenant, waiting.id, first->claimed->attempts));
  CHECK_FALSE(*repo.MarkSendStarted(w.tenant, waiting.id, 99));
  // Claimed again and started: lost now, it is unknown.
  Message m = w.Send(common::NewUuid());
  auto claimed = repo.Claim(w.tenant, m.id, absl::Milliseconds(1), {});
  REQUIRE(claimed->claimed.has_value());
  REQUIRE(*repo.MarkSendStarted(w.tenant, m.id, claimed->claimed->attempts));
  CHECK_FALSE(*repo.MarkSendStarted(common::NewUuid(), m.id, claimed->claimed->attempts));
  absl::SleepFor(absl::Milliseconds(20));
  // Other tenants' lost claims may be resolved in the same round.
  REQUIRE(*repo.ResolveLostClaims(1000) >= 1);
  auto stored = repo.GetMessage(w.tenant, m.id);
  CHECK(stored->state == State::kUnknown);
  CHECK_FALSE(repo.Claim(w.tenant, m.id, absl::Seconds(60), {})->claimed.has_value());
  // An admin's replay queues it again.
  auto replayed = w.delivery.Replay(w.Meta("ReplayMessage"), m.id);
  REQUIRE(replayed.ok());
  CHECK(replayed->state == State::kQueued);
  CHECK(repo.Claim(w.tenant, m.id, absl::Seconds(60), {})->claimed.has_value());
}

TEST_CASE("Due rows are handed out again after the queue lost them") {
  World w;
  auto& repo = *TheEnv().repo;
  Message m = w.Send(common::NewUuid());
  // Just queued: not handed out again before requeue_after.
  auto due = repo.TakeDue(absl::Seconds(30), 100000);
  REQUIRE(due.ok());
  auto has = [&](const std::vector<app::Ledger::Due>& d) {
    for (const auto& x : d) {
      if (x.tenant == w.tenant && x.id == m.id) return true;
    }
    return false;
  };
  CHECK_FALSE(has(*due));
  absl::SleepFor(absl::Milliseconds(50));
  due = repo.TakeDue(absl::Milliseconds(10), 100000);
  CHECK(has(*due));
  // Handed out once per requeue_after.
  CHECK_FALSE(has(*repo.TakeDue(absl::Seconds(30), 100000)));
}

TEST_CASE("Erasure deletes the customers' messages once per event, in its tenant only") {
  World w;
  World other;
  auto& repo = *TheEnv().repo;
  const std::string gone = common::NewUuid();
  const std::string stays = common::NewUuid();
  w.Send(gone);
  w.Send(gone);
  Message kept = w.Send(stays);
  Message others = other.Send(gone);  // the same id in another tenant
  const std::string event = common::NewUuid();
  CHECK(*repo.EraseCustomers(w.tenant, event, {gone}) == 2);
  CHECK(*repo.EraseCustomers(w.tenant, event, {gone}) == 0);
  CHECK(repo.ListCustomerMessages(w.tenant, gone, {50, ""})->messages.empty());
  CHECK(repo.GetMessage(w.tenant, kept.id).ok());
  CHECK(repo.GetMessage(other.tenant, others.id).ok());
}

TEST_CASE("Tenants see only their own messages, endpoints and settings, and lists page") {
  World w;
  World other;
  auto& repo = *TheEnv().repo;
  const std::string customer = common::NewUuid();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(w.Send(customer).id);
  auto first = repo.ListCustomerMessages(w.tenant, customer, {2, ""});
  REQUIRE(first.ok());
  REQUIRE(first->messages.size() == 2);
  REQUIRE_FALSE(first->next_after.empty());
  auto second = repo.ListCustomerMessages(w.tenant, customer, {2, first->next_after});
  auto third = repo.ListCustomerMessages(w.tenant, customer, {2, second->next_after});
  CHECK(third->messages.size() == 1);
  CHECK(third->next_after.empty());
  std::vector<std::string> seen;
  for (const auto* p : {&*first, &*second, &*third}) {
    for (const Message& m : p->messages) seen.push_back(m.id);
  }
  std::vector<std::string> expected(ids.rbegin(), ids.rend());  // newest first
  std::sort(seen.begin(), seen.end());
  std::sort(expected.begin(), expected.end());
  CHECK(seen == expected);
  CHECK(repo.ListCustomerMessages(other.tenant, customer, {50, ""})->messages.empty());
  CHECK(repo.GetMessage(other.tenant, ids[0]).status().code() == absl::StatusCode::kNotFound);
  CHECK(repo.ListMessages(other.tenant, State::kQueued, {50, ""})->messages.empty());
  CHECK(repo.ListMessages(w.tenant, State::kQueued, {50, ""})->messages.size() == 5);
  CHECK_FALSE(repo.Claim(other.tenant, ids[0], absl::Seconds(60), {})->claimed.has_value());

  // Endpoints: the secret sealed at rest, read back only by its tenant.
  app::WebhookEndpoint e;
  e.url = "http://127.0.0.1:9/hook";
  auto created = w.delivery.CreateEndpoint(w.Meta("CreateWebhookEndpoint"), e);
  REQUIRE(created.ok());
  auto read = repo.GetEndpoint(w.tenant, created->id);
  REQUIRE(read.ok());
  CHECK(read->secret == created->secret);
  CHECK(repo.GetEndpoint(other.tenant, created->id).status().code() == absl::StatusCode::kNotFound);
  std::string sealed;
  REQUIRE(TheEnv()
              .pool
              ->WithTenantTx(w.tenant,
                             [&](pqxx::work& tx) -> absl::Status {
                               sealed = pqxx::binarystring(
                                            tx.exec_params1(
                                                "SELECT secret_sealed FROM "
                                                "delivery.webhook_endpoints WHERE endpoint_id = "
                                                "$1::uuid",
                                                created->id)[0])
                                            .str();
                               return absl::OkStatus();
                             })
              .ok());
  CHECK(sealed.size() > created->secret.size());  // nonce, ciphertext, tag
  CHECK(sealed.find(created->secret) == std::string::npos);
  // A retried create answers the same endpoint, secret included.
  const outbox::WriteMeta key = w.Meta("CreateWebhookEndpoint", "same-endpoint");
  auto once = w.delivery.CreateEndpoint(key, e);
  auto twice = w.delivery.CreateEndpoint(key, e);
  REQUIRE(twice.ok());
  CHECK(twice->id == once->id);
  CHECK(twice->secret == once->secret);
  CHECK(w.delivery.ListEndpoints(w.tenant)->size() == 2);
  CHECK(w.delivery.ListEndpoints(other.tenant)->empty());
  CHECK(w.delivery.DeleteEndpoint(w.Meta("DeleteWebhookEndpoint"), once->id).ok());
  CHECK(w.delivery.ListEndpoints(w.tenant)->size() == 1);

  // Sender settings.
  auto saved = w.delivery.UpdateSenderSettings(w.Meta("UpdateSenderSettings"),
                                               {"shop@shop.test", "Shop", "", std::nullopt});
  REQUIRE(saved.ok());
  CHECK(w.delivery.GetSenderSettings(w.tenant)->from_address == "shop@shop.test");
  CHECK(w.delivery.GetSenderSettings(other.tenant)->from_address == "no-reply@crm.test");
}

TEST_CASE("Email events: a bounce is kept on the tenant's suppression list, read by it only") {
  World w;
  World other;
  auto& repo = *TheEnv().repo;
  domain::ProviderSettings mail;
  mail.channel = Channel::kEmail;
  mail.kind = domain::ProviderKind::kMailgun;
  mail.account = "mg.example.com";
  mail.secret = "mailgun-signing-key";
  REQUIRE(w.delivery.PutProvider(w.Meta("UpdateChannelProvider"), mail, "").ok());
  CHECK((*repo.GetProvider(w.tenant, Channel::kEmail))->secret == "mailgun-signing-key");
  CHECK_FALSE(repo.GetProvider(other.tenant, Channel::kEmail)->has_value());

  // Three bounced addresses, one of them twice (the first entry stays).
  const absl::Time t0 = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  for (int i = 0; i < 4; ++i) {
    app::SuppressedAddress a;
    a.address = i == 3 ? "b0@example.com" : absl::StrCat("b", i, "@example.com");
    a.detail = absl::StrCat("550 bounce ", i);
    a.message_id = common::NewUuid();
    a.create_time = t0 + absl::Seconds(i);
    REQUIRE(repo.Run<bool>(w.Meta("ReportEmailEvent"), a.address,
                           [&](app::DeliveryTx& tx) -> absl::StatusOr<bool> {
                             tx.SaveSuppression(a);
                             return true;
                           })
                .ok());
  }
  auto first = repo.ListSuppressions(w.tenant, Channel::kEmail, {2, ""});
  REQUIRE(first.ok());
  REQUIRE(first->items.size() == 2);
  CHECK(first->items[0].address == "b2@example.com");  // newest first
  CHECK(first->items[1].address == "b1@example.com");
  REQUIRE_FALSE(first->next_after.empty());
  auto second = repo.ListSuppressions(w.tenant, Channel::kEmail, {2, first->next_after});
  REQUIRE(second->items.size() == 1);
  CHECK(second->items[0].address == "b0@example.com");
  CHECK(second->items[0].detail == "550 bounce 0");  // the first entry kept
  CHECK(second->items[0].create_time == t0);
  CHECK(second->next_after.empty());
  CHECK(repo.ListSuppressions(w.tenant, Channel::kEmail, {2, "garbage"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  auto among =
      repo.SuppressedAmong(w.tenant, Channel::kEmail, {"b1@example.com", "ok@example.com"});
  CHECK(*among == std::vector<std::string>{"b1@example.com"});
  // Another tenant sees none of it and cannot remove it.
  CHECK(repo.ListSuppressions(other.tenant, Channel::kEmail, {50, ""})->items.empty());
  CHECK(repo.SuppressedAmong(other.tenant, Channel::kEmail, {"b1@example.com"})->empty());
  CHECK(
      other.delivery.DeleteSuppression(other.Meta("DeleteSuppression"), "b1@example.com").code() ==
      absl::StatusCode::kNotFound);
  REQUIRE(w.delivery.DeleteSuppression(w.Meta("DeleteSuppression"), "B1@Example.com").ok());
  CHECK(repo.SuppressedAmong(w.tenant, Channel::kEmail, {"b1@example.com"})->empty());
}

TEST_CASE("Providers are sealed at rest, kept per channel, and read only by their tenant") {
  World w;
  World other;
  auto& repo = *TheEnv().repo;
  domain::ProviderSettings sms;
  sms.channel = Channel::kSms;
  sms.kind = domain::ProviderKind::kTwilio;
  sms.base_url = "http://127.0.0.1:9";
  sms.account = "AC0123";
  sms.sender = "+41445550000";
  sms.secret = "twilio-auth-token-secret";
  auto saved = w.delivery.PutProvider(w.Meta("UpdateChannelProvider"), sms, "");
  REQUIRE(saved.ok());
  CHECK(saved->secret.empty());
  // A retry of the same request answers the provider, without its secret.
  const outbox::WriteMeta key = w.Meta("UpdateChannelProvider", "same-provider");
  sms.sender = "+41445550001";
  auto once = w.delivery.PutProvider(key, sms, "");
  auto twice = w.delivery.PutProvider(key, sms, "");
  REQUIRE(twice.ok());
  CHECK(twice->version == once->version);
  CHECK(twice->secret.empty());
  auto read = repo.GetProvider(w.tenant, Channel::kSms);
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK((*read)->secret == "twilio-auth-token-secret");
  CHECK((*read)->sender == "+41445550001");
  CHECK((*read)->version == 2);
  CHECK_FALSE(repo.GetProvider(w.tenant, Channel::kPush)->has_value());
  CHECK_FALSE(repo.GetProvider(other.tenant, Channel::kSms)->has_value());
  CHECK(repo.ListProviders(other.tenant)->empty());
  CHECK(w.delivery.GetProvider(other.tenant, Channel::kSms).status().code() ==
        absl::StatusCode::kNotFound);
  std::string sealed;
  REQUIRE(TheEnv()
              .pool
              ->WithTenantTx(w.tenant,
                             [&](pqxx::work& tx) -> absl::Status {
                               sealed =
                                   pqxx::binarystring(tx.exec1("SELECT secret_sealed FROM "
                                                               "delivery.channel_providers")[0])
                                       .str();
                               return absl::OkStatus();
                             })
              .ok());
  CHECK(sealed.find("twilio-auth-token-secret") == std::string::npos);
  // Another tenant cannot delete it; its owner can, once.
  CHECK(other.delivery.DeleteProvider(other.Meta("DeleteChannelProvider"), Channel::kSms).code() ==
        absl::StatusCode::kNotFound);
  CHECK(w.delivery.DeleteProvider(w.Meta("DeleteChannelProvider"), Channel::kSms).ok());
  CHECK(repo.ListProviders(w.tenant)->empty());
  // An SMS row of the ledger (the channel the schema now allows).
  w.renderer.channels[w.tenant + "/code"] = "sms";
  REQUIRE(w.delivery.PutProvider(w.Meta("UpdateChannelProvider"), sms, "").ok());
  app::SendRequest r;
  r.customer_id = common::NewUuid();
  r.channel = Channel::kSms;
  r.template_id = "code";
  auto m = w.delivery.Send(w.Meta("SendMessage"), r);
  REQUIRE(m.ok());
  CHECK(repo.GetMessage(w.tenant, m->id)->channel == Channel::kSms);
}

TEST_CASE("The Redis queue hands out what was queued, and survives a lost group") {
  storage::RedisWorkQueue queue(*TheEnv().redis, "crm:delivery:itest:" + common::NewUuid());
  const std::string consumer = "itest";
  // First read creates the group (at the stream's end).
  REQUIRE(queue.Read(consumer, 10, absl::Milliseconds(1)).ok());
  REQUIRE(queue.Enqueue({{"t1", "m1"}, {"t2", "m2"}}).ok());
  auto read = queue.Read(consumer, 10, absl::Milliseconds(100));
  REQUIRE(read.ok());
  REQUIRE(read->size() == 2);
  CHECK((*read)[0].tenant == "t1");
  CHECK((*read)[1].id == "m2");
  // NOACK: nothing is pending, nothing comes twice.
  CHECK(queue.Read(consumer, 10, absl::Milliseconds(1))->empty());
}

}  // namespace crm::delivery::itest

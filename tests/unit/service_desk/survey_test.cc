// Satisfaction surveys (docs/service-desk.md, "Satisfaction"): the pure
// rules (settings, who gets a survey, when a due one still goes out, the
// mail's text, answers, the report) and the use cases over the in-memory
// storage (a solve schedules, the sweeper sends with a signed link, the
// link answers once, a bad rating reopens, the cooldown, another tenant).
#include "services/service_desk/domain/survey.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/tracking_token.h"
#include "services/service_desk/app/surveys.h"
#include "services/service_desk/app/tickets.h"
#include "services/service_desk/app/triggers.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::SendVerdict;
using sd::domain::Survey;
using sd::domain::SurveySettings;
using sd::domain::SurveyState;
using sd::domain::SurveyVerdict;
using sd::domain::Ticket;
using sd::domain::TicketStatus;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";
const std::string kKey = crm::common::TrackingKey("test-context-key-0123456789abcdef0123456789");

struct World {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock;
  crm::common::RandomIdGenerator ids;
  sd::app::Tickets tickets{repo, directory, clock, ids};
  sd::app::Surveys surveys{repo, tickets, clock, ids, kKey, "https://crm.example.com"};

  explicit World(bool mailbox = true) {
    if (!mailbox) return;
    sd::app::Mailbox m;
    m.id = "33333333-3333-4333-8333-333333333333";
    m.address = "support@desk.example";
    m.name = "Example Support";
    repo.AddMailbox(m);
  }
  static sd::app::Actor Meta(const std::string& key, const std::string& method,
                             const std::string& tenant = kTenant,
                             const std::string& principal = "agent-ann") {
    return sd::app::Actor{tenant, principal, "req", method, key, "fp-" + key};
  }
  void Enable(SurveySettings s = {}, const std::string& tenant = kTenant) {
    s.csat_enabled = true;
    REQUIRE(surveys.UpdateSettings(Meta("settings-" + tenant, "Update", tenant), s, "").ok());
  }
  Ticket Solved(const std::string& email, const std::string& key,
                const std::string& tenant = kTenant, std::vector<std::string> tags = {},
                const std::string& solver = "agent-ann") {
    sd::app::NewTicket n;
    n.ticket.subject = "Parcel missing";
    n.ticket.tags = std::move(tags);
    n.ticket.queue = "shipping";
    n.ticket.assignee = "agent-ann";
    n.requester.email = email;
    n.description = "Where is it?";
    absl::StatusOr<Ticket> t = tickets.Create(Meta(key + "-c", "CreateTicket", tenant), n);
    REQUIRE(t.ok());
    Ticket patch;
    patch.status = TicketStatus::kSolved;
    absl::StatusOr<Ticket> solved = tickets.Update(Meta(key + "-s", "UpdateTicket", tenant, solver),
                                                   t->id, patch, {"status"}, "");
    REQUIRE(solved.ok());
    return *solved;
  }
  std::vector<Survey> Of(const std::string& tenant = kTenant) const {
    std::vector<Survey> out;
    const auto all = repo.state().surveys;
    if (all.count(tenant)) {
      for (const auto& [id, s] : all.at(tenant)) out.push_back(s);
    }
    return out;
  }
  std::vector<sd::domain::OutboundMail> SurveyMails(const std::string& tenant = kTenant) const {
    std::vector<sd::domain::OutboundMail> out;
    for (const sd::domain::OutboundMail& m : repo.Outbound(tenant)) {
      if (m.kind == sd::domain::OutboundKind::kSurvey) out.push_back(m);
    }
    return out;
  }
  // The token in a survey mail's link.
  static std::string TokenOf(const sd::domain::OutboundMail& m) {
    const size_t at = m.body.find("https://crm.example.com/t/v/");
    REQUIRE(at != std::string::npos);
    const size_t start = at + std::string("https://crm.example.com/t/v/").size();
    return m.body.substr(start, m.body.find_first_of(" \n", start) - start);
  }
};

TEST_CASE("A survey's answer runs the survey_answered triggers: a bad rating told by rule",
          "[survey]") {
  World w;
  SurveySettings settings;
  settings.csat_delay = absl::ZeroDuration();
  settings.reopen_below = 0;  // no reopen: the rule alone acts
  w.Enable(settings);
  sd::domain::Trigger bad;
  bad.id = "bad-csat";
  bad.name = "Bad CSAT to the team lead";
  bad.events = {sd::domain::TriggerEvent::kSurveyAnswered};
  bad.conditions = {{"survey_rating", "in", {"1", "2"}}};
  bad.action.add_tags = {"bad_csat"};
  bad.action.assignee = "lead-lisa";
  bad.note = "Rated badly: please call the customer.";
  sd::app::TriggerRules rules{w.repo, w.clock};
  REQUIRE(rules.Update(World::Meta("trg", "UpdateTriggers"), sd::domain::Triggers{{bad}, 0, {}}, "")
              .ok());
  const Ticket poor = w.Solved("ada@example.com", "a");
  const Ticket good = w.Solved("bob@example.com", "b");
  REQUIRE(w.surveys.Sweep(10).sent == 2);
  std::vector<std::string> tokens;
  for (const auto& m : w.SurveyMails()) tokens.push_back(World::TokenOf(m));
  REQUIRE(tokens.size() == 2);
  for (const std::string& token : tokens) {
    auto claims = crm::common::VerifyTrackingToken(kKey, token, w.clock.Now());
    REQUIRE(claims.ok());
    bool of_poor = false;
    for (const Survey& s : w.Of()) of_poor |= s.id == claims->message_id && s.ticket_id == poor.id;
    REQUIRE(w.surveys.Answer(kTenant, token, of_poor ? 2 : 5, "", "").ok());
  }
  const absl::StatusOr<Ticket> told = w.tickets.Get(kTenant, poor.id);
  REQUIRE(told.ok());
  CHECK(told->tags == std::vector<std::string>{"bad_csat"});
  CHECK(told->assignee == "lead-lisa");
  CHECK(told->status == TicketStatus::kSolved);  // the rule did not reopen it
  const auto thread = w.tickets.Messages(kTenant, poor.id, "", 10);
  REQUIRE(thread.ok());
  CHECK(thread->items.back().author == "trigger/bad-csat");
  const auto changes = w.tickets.Changes(kTenant, poor.id);
  REQUIRE(changes.ok());
  bool audited = false;
  for (const auto& c : *changes) audited |= c.field == "assignee" && c.actor == "trigger/bad-csat";
  CHECK(audited);
  CHECK(w.tickets.Get(kTenant, good.id)->tags.empty());
}

}  // namespace

TEST_CASE("Survey settings, who gets a survey and when it still goes out", "[survey]") {
  SurveySettings s;
  REQUIRE(sd::domain::NormalizeAndValidate(s).ok());
  auto field_of = [](SurveySettings x) {
    return crm::common::FieldOf(sd::domain::NormalizeAndValidate(x));
  };
  SurveySettings bad;
  bad.csat_delay = absl::Hours(24 * 31);
  CHECK(field_of(bad) == "settings.csat_delay_seconds");
  bad = {};
  bad.csat_delay = absl::Seconds(-1);
  CHECK(field_of(bad) == "settings.csat_delay_seconds");
  bad = {};
  bad.cooldown_days = 366;
  CHECK(field_of(bad) == "settings.cooldown_days");
  bad = {};
  bad.reopen_below = 6;
  CHECK(field_of(bad) == "settings.reopen_below");
  bad = {};
  bad.body = "Rate us!";
  CHECK(field_of(bad) == "settings.body");  // no {{survey.link}}
  bad.body = "{{survey.link}} {{customer.name}}";
  CHECK(field_of(bad) == "settings.body");
  bad = {};
  bad.subject = "Two\nlines";
  CHECK(field_of(bad) == "settings.subject");

  Ticket t;
  t.number = 7;
  t.subject = "Parcel";
  t.requester_email = "ada@example.com";
  t.status = TicketStatus::kSolved;
  CHECK(sd::domain::SurveyOnSolve(s, t, "agent-ann") == SurveyVerdict::kOff);
  s.csat_enabled = true;
  CHECK(sd::domain::SurveyOnSolve(s, t, "agent-ann") == SurveyVerdict::kScheduled);
  CHECK(sd::domain::SurveyOnSolve(s, t, "automation/close-old") == SurveyVerdict::kAutomated);
  t.tags = {"spam"};
  CHECK(sd::domain::SurveyOnSolve(s, t, "agent-ann") == SurveyVerdict::kSpam);
  t.tags = {"no_survey"};
  CHECK(sd::domain::SurveyOnSolve(s, t, "agent-ann") == SurveyVerdict::kNoSurvey);
  t.tags.clear();
  t.requester_email.clear();
  CHECK(sd::domain::SurveyOnSolve(s, t, "agent-ann") == SurveyVerdict::kNoRequester);
  t.requester_email = "ada@example.com";

  CHECK(sd::domain::DecideSend(s, sd::domain::SurveyKind::kCsat, t, false, true) ==
        SendVerdict::kSend);
  CHECK(sd::domain::DecideSend(s, sd::domain::SurveyKind::kCsat, t, true, true) ==
        SendVerdict::kCooldown);
  CHECK(sd::domain::DecideSend(s, sd::domain::SurveyKind::kCsat, t, false, false) ==
        SendVerdict::kNoMailbox);
  t.status = TicketStatus::kClosed;
  CHECK(sd::domain::DecideSend(s, sd::domain::SurveyKind::kCsat, t, false, true) ==
        SendVerdict::kSend);
  t.merged_into = "33333333-3333-4333-8333-333333333333";  // its thread is elsewhere now
  CHECK(sd::domain::DecideSend(s, sd::domain::SurveyKind::kCsat, t, false, true) ==
        SendVerdict::kMerged);
  CHECK(std::string(sd::domain::SendVerdictName(SendVerdict::kMerged)) == "merged");
  t.merged_into.clear();
  t.status = TicketStatus::kOpen;
  CHECK(sd::domain::DecideSend(s, sd::domain::SurveyKind::kCsat, t, false, true) ==
        SendVerdict::kReopened);
  t.status = TicketStatus::kSolved;
  t.tags = {"spam"};
  CHECK(sd::domain::DecideSend(s, sd::domain::SurveyKind::kCsat, t, false, true) ==
        SendVerdict::kExcluded);
  s.csat_enabled = false;
  CHECK(sd::domain::DecideSend(s, sd::domain::SurveyKind::kCsat, t, false, true) ==
        SendVerdict::kOff);
  CHECK(std::string(sd::domain::SendVerdictName(SendVerdict::kNoMailbox)) == "no_mailbox");

  sd::domain::SurveyText text =
      sd::domain::SurveyTextOf(s, sd::domain::SurveyKind::kCsat, t, "https://x.example/t/v/abc");
  CHECK(text.subject == "How did we do? [#7]");
  CHECK(absl::StrContains(text.body, "#7 (Parcel)"));
  CHECK(absl::StrContains(text.body, "https://x.example/t/v/abc"));
  s.subject = "Rate #{{ticket.number}}";
  s.body = "{{requester.email}}: {{survey.link}}";
  text = sd::domain::SurveyTextOf(s, sd::domain::SurveyKind::kCsat, t, "L");
  CHECK(text.subject == "Rate #7");
  CHECK(text.body == "ada@example.com: L");
}

TEST_CASE("Survey answers are checked and the report sums them", "[survey]") {
  std::string reason = " quick ", comment = "  Thanks!  ";
  REQUIRE(sd::domain::CheckAnswer(sd::domain::SurveyKind::kCsat, 5, reason, comment).ok());
  CHECK(reason == "quick");
  CHECK(comment == "Thanks!");
  std::string none;
  CHECK(crm::common::FieldOf(
            sd::domain::CheckAnswer(sd::domain::SurveyKind::kCsat, 0, none, comment)) == "rating");
  CHECK(crm::common::FieldOf(
            sd::domain::CheckAnswer(sd::domain::SurveyKind::kCsat, 6, none, comment)) == "rating");
  std::string odd = "weather";
  CHECK(crm::common::FieldOf(
            sd::domain::CheckAnswer(sd::domain::SurveyKind::kCsat, 3, odd, comment)) == "reason");
  std::string long_comment(2001, 'x');
  CHECK(crm::common::FieldOf(sd::domain::CheckAnswer(sd::domain::SurveyKind::kCsat, 3, none,
                                                     long_comment)) == "comment");
  CHECK(sd::domain::Satisfied(4));
  CHECK_FALSE(sd::domain::Satisfied(3));

  const std::vector<sd::domain::SurveyRow> rows = {
      {"", {"", 10, 5, 4, 21}},
      {"agent", {"ann", 4, 2, 2, 10}},
      {"agent", {"bob", 6, 3, 2, 11}},
      {"channel", {"email", 10, 5, 4, 21}},
      {"answered_by", {"agent", 7, 3, 3, 14}},
      {"answered_by", {"auto_response", 3, 2, 1, 7}},
  };
  const sd::domain::SurveyReport r =
      sd::domain::SummarizeSurveys(rows, {}, absl::UnixEpoch(), absl::UnixEpoch() + absl::Hours(1));
  CHECK(r.total.counts.sent == 10);
  CHECK(r.total.response_rate == Approx(0.5));
  CHECK(r.total.csat == Approx(0.8));
  CHECK(r.total.average == Approx(4.2));
  REQUIRE(r.by_agent.size() == 2);
  CHECK(r.by_agent[0].counts.value == "bob");  // most sent first
  CHECK(r.by_agent[1].csat == Approx(1.0));
  CHECK(r.by_channel.size() == 1);
  CHECK(r.by_queue.empty());
  REQUIRE(r.by_answered_by.size() == 2);
  CHECK(r.by_answered_by[1].counts.value == "auto_response");
  CHECK(r.by_answered_by[1].csat == Approx(0.5));  // 1 satisfied of 2 answered
}

TEST_CASE("A solve schedules a survey, the sweeper sends it, its link answers once", "[survey]") {
  World w;
  SurveySettings settings;
  settings.reopen_below = 3;
  w.Enable(settings);
  const Ticket t = w.Solved("ada@example.com", "a");
  std::vector<Survey> all = w.Of();
  REQUIRE(all.size() == 1);
  CHECK(all[0].state == SurveyState::kScheduled);
  CHECK(all[0].due_time == w.clock.Now() + absl::Hours(24));
  CHECK(all[0].ticket_id == t.id);
  // Not yet due: nothing goes out.
  sd::app::SurveyRound round = w.surveys.Sweep(10);
  REQUIRE(round.failure.ok());
  CHECK(round.sent == 0);
  w.clock.Advance(absl::Hours(24));
  round = w.surveys.Sweep(10);
  REQUIRE(round.failure.ok());
  CHECK(round.sent == 1);
  CHECK(w.surveys.Sweep(10).sent == 0);  // sent once
  const std::vector<sd::domain::OutboundMail> mails = w.SurveyMails();
  REQUIRE(mails.size() == 1);
  CHECK(mails[0].to_addr == "ada@example.com");
  CHECK(mails[0].from_addr == "support@desk.example");  // the tenant's mailbox
  CHECK(mails[0].subject == "How did we do? [#" + std::to_string(t.number) + "]");
  CHECK(sd::domain::AutoSubmitted(mails[0].kind));
  all = w.Of();
  CHECK(all[0].state == SurveyState::kSent);
  CHECK(all[0].agent == "agent-ann");
  CHECK(all[0].queue == "shipping");
  CHECK(all[0].expire_time == w.clock.Now() + absl::Hours(24 * 28));

  const std::string token = World::TokenOf(mails[0]);
  // Checked before anything: another tenant, an altered token, a bad rating.
  CHECK(crm::common::ReasonOf(w.surveys.Answer(kOther, token, 5, "", "").status()) ==
        "TRACKING_LINK_INVALID");
  std::string altered = token;
  altered[altered.size() - 2] = altered[altered.size() - 2] == 'A' ? 'B' : 'A';
  CHECK(crm::common::ReasonOf(w.surveys.Answer(kTenant, altered, 5, "", "").status()) ==
        "TRACKING_LINK_INVALID");
  CHECK(crm::common::FieldOf(w.surveys.Answer(kTenant, token, 9, "", "").status()) == "rating");
  // A good answer, once; the same again is answered the same; another is refused.
  absl::StatusOr<Survey> answered = w.surveys.Answer(kTenant, token, 4, "quick", "Fast, thanks");
  REQUIRE(answered.ok());
  CHECK(answered->rating == 4);
  CHECK(w.surveys.Answer(kTenant, token, 4, "quick", "Fast, thanks").ok());
  CHECK(crm::common::ReasonOf(w.surveys.Answer(kTenant, token, 1, "", "").status()) ==
        "SURVEY_ANSWERED");
  bool told = false;
  for (const auto& e : w.repo.state().events) told |= e.type == "ticket.survey_answered";
  CHECK(told);
  CHECK(w.tickets.Get(kTenant, t.id)->status == TicketStatus::kSolved);  // 4 is not below 3

  // The link expires after 28 days.
  const Ticket late = w.Solved("bob@example.com", "b");
  w.clock.Advance(absl::Hours(24));
  REQUIRE(w.surveys.Sweep(10).sent == 1);
  const std::string late_token = World::TokenOf(w.SurveyMails().back());
  w.clock.Advance(absl::Hours(24 * 28));
  CHECK(crm::common::ReasonOf(w.surveys.Answer(kTenant, late_token, 5, "", "").status()) ==
        "TRACKING_LINK_INVALID");
  (void)late;

  // The report counts what was sent and answered.
  absl::StatusOr<sd::domain::SurveyReport> report = w.surveys.Report(kTenant, 90);
  REQUIRE(report.ok());
  CHECK(report->total.counts.sent == 2);
  CHECK(report->total.counts.answered == 1);
  CHECK(report->total.csat == Approx(1.0));
  REQUIRE(report->by_agent.size() == 1);
  CHECK(report->by_agent[0].counts.value == "agent-ann");
  CHECK(w.surveys.Report(kOther, 90)->total.counts.sent == 0);
  CHECK(crm::common::FieldOf(w.surveys.Report(kTenant, 400).status()) == "days");
}

TEST_CASE("A bad rating reopens, and no survey for spam, automations, cooldowns, reopened tickets",
          "[survey]") {
  World w;
  SurveySettings settings;
  settings.reopen_below = 3;
  settings.cooldown_days = 7;
  settings.csat_delay = absl::ZeroDuration();
  w.Enable(settings);
  const Ticket t = w.Solved("ada@example.com", "a");
  REQUIRE(w.surveys.Sweep(10).sent == 1);
  const std::string token = World::TokenOf(w.SurveyMails()[0]);
  REQUIRE(w.surveys.Answer(kTenant, token, 1, "slow", "Took a week").ok());
  const absl::StatusOr<Ticket> reopened = w.tickets.Get(kTenant, t.id);
  REQUIRE(reopened.ok());
  CHECK(reopened->status == TicketStatus::kOpen);
  const absl::StatusOr<sd::app::MessagePage> thread = w.tickets.Messages(kTenant, t.id, "", 10);
  REQUIRE(thread.ok());
  CHECK(thread->items.back().kind == sd::domain::MessageKind::kInternalNote);
  CHECK(absl::StrContains(thread->items.back().body, "rated 1 of 5 (slow): Took a week"));

  // The same customer within the cooldown: cancelled when due.
  w.Solved("ada@example.com", "b");
  sd::app::SurveyRound round = w.surveys.Sweep(10);
  CHECK(round.sent == 0);
  CHECK(round.cancelled == 1);
  // Tagged, or closed by an automation: none scheduled.
  const size_t before = w.Of().size();
  w.Solved("carl@example.com", "c", kTenant, {"spam"});
  w.Solved("dora@example.com", "d", kTenant, {"no_survey"});
  w.Solved("emil@example.com", "e", kTenant, {}, "automation/close-stale");
  CHECK(w.Of().size() == before);
  // Reopened before it was due: cancelled.
  SurveySettings later = settings;
  later.csat_delay = absl::Hours(1);
  later.csat_enabled = true;
  REQUIRE(w.surveys.UpdateSettings(World::Meta("s2", "Update"), later, "").ok());
  const Ticket f = w.Solved("fay@example.com", "f");
  Ticket open;
  open.status = TicketStatus::kOpen;
  REQUIRE(w.tickets.Update(World::Meta("f-o", "UpdateTicket"), f.id, open, {"status"}, "").ok());
  w.clock.Advance(absl::Hours(2));
  round = w.surveys.Sweep(10);
  CHECK(round.cancelled == 1);
  bool reopened_reason = false;
  for (const Survey& s : w.Of()) reopened_reason |= s.cancel_reason == "reopened";
  CHECK(reopened_reason);
  // Settings: read back, etag checked, another tenant has its own.
  absl::StatusOr<SurveySettings> read = w.surveys.GetSettings(kTenant);
  REQUIRE(read.ok());
  CHECK(read->version == 2);
  CHECK(read->cooldown_days == 7);
  CHECK(crm::common::ReasonOf(
            w.surveys.UpdateSettings(World::Meta("s3", "Update"), later, "1").status()) ==
        "ETAG_MISMATCH");
  CHECK_FALSE(w.surveys.GetSettings(kOther)->csat_enabled);
}

TEST_CASE("A tenant without a mailbox cannot send its surveys", "[survey]") {
  World w(false);
  SurveySettings s;
  s.csat_delay = absl::ZeroDuration();
  w.Enable(s);
  w.Solved("ada@example.com", "a");
  const sd::app::SurveyRound round = w.surveys.Sweep(10);
  CHECK(round.cancelled == 1);
  REQUIRE(w.Of().size() == 1);
  CHECK(w.Of()[0].cancel_reason == "no_mailbox");
  CHECK(w.SurveyMails().empty());
}

TEST_CASE("NPS on its own cadence: 0 to 10, promoters less detractors, by month", "[survey]") {
  using sd::domain::SurveyKind;
  std::string reason, comment;
  CHECK(sd::domain::CheckAnswer(SurveyKind::kNps, 0, reason, comment).ok());
  CHECK(sd::domain::CheckAnswer(SurveyKind::kNps, 10, reason, comment).ok());
  CHECK(crm::common::FieldOf(sd::domain::CheckAnswer(SurveyKind::kNps, 11, reason, comment)) ==
        "rating");
  CHECK(crm::common::FieldOf(sd::domain::CheckAnswer(SurveyKind::kCsat, 0, reason, comment)) ==
        "rating");
  SurveySettings s;
  s.nps_every_days = 0;
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(s)) == "settings.nps_every_days");
  s.nps_every_days = 90;
  s.nps_body = "no link";
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(s)) == "settings.nps_body");
  s.nps_body.clear();
  CHECK_FALSE(sd::domain::KindOnSolve(s, true).has_value());
  s.csat_enabled = true;
  CHECK(sd::domain::KindOnSolve(s, true) == SurveyKind::kCsat);
  s.nps_enabled = true;
  CHECK(sd::domain::KindOnSolve(s, true) == SurveyKind::kNps);
  CHECK(sd::domain::KindOnSolve(s, false) == SurveyKind::kCsat);
  Ticket t;
  t.number = 3;
  t.status = TicketStatus::kSolved;
  CHECK(sd::domain::SurveyTextOf(s, SurveyKind::kNps, t, "L").subject ==
        "How likely are you to recommend us?");
  s.csat_enabled = false;
  CHECK(sd::domain::DecideSend(s, SurveyKind::kCsat, t, false, true) == SendVerdict::kOff);
  CHECK(sd::domain::DecideSend(s, SurveyKind::kNps, t, false, true) == SendVerdict::kSend);
  const sd::domain::SurveyReport r = sd::domain::SummarizeSurveys(
      {}, {{"", 10, 8, 4, 2}, {"2026-12", 5, 5, 3, 1}, {"2026-11", 3, 3, 1, 1}}, absl::UnixEpoch(),
      absl::UnixEpoch());
  CHECK(r.nps.score == Approx(25.0));  // (4 - 2) / 8
  CHECK(r.nps.passives == 2);
  CHECK(r.nps.response_rate == Approx(0.8));
  REQUIRE(r.nps_by_month.size() == 2);
  CHECK(r.nps_by_month[0].counts.month == "2026-11");  // oldest first
  CHECK(r.nps_by_month[1].score == Approx(40.0));

  // Over the use cases: the first solve of a customer asks NPS, the next
  // ones within the cadence CSAT; the NPS link takes 0..10.
  World w;
  SurveySettings settings;
  settings.csat_delay = absl::ZeroDuration();
  settings.nps_enabled = true;
  settings.nps_every_days = 30;
  w.Enable(settings);
  w.Solved("ada@example.com", "a");
  w.Solved("ada@example.com", "b");
  std::vector<Survey> all = w.Of();
  REQUIRE(all.size() == 2);
  int nps = 0;
  for (const Survey& x : all) nps += x.kind == SurveyKind::kNps ? 1 : 0;
  CHECK(nps == 1);
  REQUIRE(w.surveys.Sweep(10).sent == 2);
  std::string nps_token, csat_token;
  for (const sd::domain::OutboundMail& m : w.SurveyMails()) {
    (m.subject == "How likely are you to recommend us?" ? nps_token : csat_token) =
        World::TokenOf(m);
  }
  REQUIRE_FALSE(nps_token.empty());
  REQUIRE_FALSE(csat_token.empty());
  CHECK(crm::common::FieldOf(w.surveys.Answer(kTenant, csat_token, 0, "", "").status()) ==
        "rating");
  REQUIRE(w.surveys.Answer(kTenant, nps_token, 0, "", "Too slow").ok());
  REQUIRE(w.surveys.Answer(kTenant, csat_token, 5, "", "").ok());
  absl::StatusOr<sd::domain::SurveyReport> report = w.surveys.Report(kTenant, 30);
  REQUIRE(report.ok());
  CHECK(report->nps.counts.sent == 1);
  CHECK(report->nps.counts.detractors == 1);
  CHECK(report->nps.score == Approx(-100.0));
  CHECK(report->nps_by_month.size() == 1);
  CHECK(report->total.counts.sent == 1);  // CSAT only
  CHECK(report->total.csat == Approx(1.0));
  // 31 days on, the customer is asked NPS again.
  w.clock.Advance(absl::Hours(24 * 31));
  w.Solved("ada@example.com", "c");
  nps = 0;
  for (const Survey& x : w.Of()) nps += x.kind == SurveyKind::kNps ? 1 : 0;
  CHECK(nps == 2);
}

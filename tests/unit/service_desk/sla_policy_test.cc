// SLAs on tickets: the policy's checks, a stored ticket's SLA timeline, the
// notices told as time passes, and the use cases (the policy under its
// etag, a ticket's SLA evaluated from its history, the stored instants and
// the sweeper) over the in-memory storage.
#include "services/service_desk/domain/sla_policy.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/slas.h"
#include "services/service_desk/app/tickets.h"
#include "services/service_desk/domain/sla_watch.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::SlaMetric;
using sd::domain::SlaPolicySpec;
using sd::domain::TicketStatus;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";

absl::TimeZone Berlin() {
  absl::TimeZone tz;
  REQUIRE(absl::LoadTimeZone("Europe/Berlin", &tz));
  return tz;
}
absl::Time Local(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), Berlin());
}

// Mon-Fri 09:00-17:00 Berlin; normal: first reply 2 h, resolution 8 h;
// pending customer pauses.
SlaPolicySpec OfficeHours() {
  SlaPolicySpec p;
  p.hours.time_zone = "Europe/Berlin";
  for (int d = 0; d < 5; ++d) p.hours.week[static_cast<size_t>(d)] = {{9 * 60, 17 * 60}};
  p.targets_by_priority["normal"] = {absl::Hours(2), std::nullopt, std::nullopt, absl::Hours(8)};
  p.targets_by_priority["urgent"] = {absl::Minutes(30), std::nullopt, std::nullopt, absl::Hours(4)};
  p.paused_statuses = {"pending_customer"};
  p.warn_before = absl::Minutes(15);
  return p;
}

const sd::domain::MetricState* Find(const std::vector<sd::domain::MetricState>& all, SlaMetric m) {
  for (const auto& s : all) {
    if (s.metric == m) return &s;
  }
  return nullptr;
}

TEST_CASE("an SLA policy is checked before it is stored", "[service_desk][sla_policy]") {
  CHECK(sd::domain::CompileSlaPolicy(OfficeHours()).ok());
  SlaPolicySpec zone = OfficeHours();
  zone.hours.time_zone = "Mars/Olympus";
  CHECK(crm::common::FieldOf(sd::domain::CompileSlaPolicy(zone).status()) == "policy.hours");
  SlaPolicySpec priority = OfficeHours();
  priority.targets_by_priority["critical"] = {absl::Hours(1), {}, {}, {}};
  CHECK(crm::common::FieldOf(sd::domain::CompileSlaPolicy(priority).status()) ==
        "policy.targets_by_priority");
  SlaPolicySpec paused = OfficeHours();
  paused.paused_statuses.insert("solved");
  CHECK(crm::common::FieldOf(sd::domain::CompileSlaPolicy(paused).status()) ==
        "policy.paused_statuses");
  paused.paused_statuses = {"sleeping"};
  CHECK(crm::common::FieldOf(sd::domain::CompileSlaPolicy(paused).status()) ==
        "policy.paused_statuses");
  SlaPolicySpec escalations = OfficeHours();
  escalations.escalations = {absl::Hours(2), absl::Hours(1)};
  CHECK(crm::common::FieldOf(sd::domain::CompileSlaPolicy(escalations).status()) == "policy");
  // The zone names a file of the zone database: IANA names only.
  for (const std::string& bad :
       {std::string("Europe/Berlin\0x", 15), std::string("/etc/passwd"),
        std::string("../../etc/passwd"), std::string("Europe/../../x"),
        std::string("file:Europe/Berlin"), std::string("Europe//Berlin"), std::string(65, 'A')}) {
    SlaPolicySpec p = OfficeHours();
    p.hours.time_zone = bad;
    INFO(bad);
    CHECK(crm::common::FieldOf(sd::domain::CompileSlaPolicy(p).status()) ==
          "policy.hours.time_zone");
  }
  for (const std::string good : {"UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5"}) {
    SlaPolicySpec p = OfficeHours();
    p.hours.time_zone = good;
    INFO(good);
    CHECK(sd::domain::CompileSlaPolicy(p).ok());
  }
  SlaPolicySpec overlap = OfficeHours();
  overlap.hours.week[0] = {{9 * 60, 12 * 60}, {11 * 60, 17 * 60}};
  absl::Status s = sd::domain::CompileSlaPolicy(overlap).status();
  CHECK(crm::common::FieldOf(s) == "policy.hours");
  CHECK(s.message().find("overlap") != std::string::npos);
}

TEST_CASE("local clock times read and write as HH:MM", "[service_desk][sla_policy]") {
  CHECK(sd::domain::ParseLocalClock("09:05") == 545);
  CHECK(sd::domain::ParseLocalClock("24:00") == 1440);
  CHECK(sd::domain::LocalClockText(545) == "09:05");
  CHECK(sd::domain::LocalClockText(1440) == "24:00");
  for (const char* bad : {"24:01", "9:05", "09:5", "09:60", "-1:00", "09-05", ""}) {
    INFO(bad);
    CHECK_FALSE(sd::domain::ParseLocalClock(bad).has_value());
  }
}

TEST_CASE("a stored ticket's SLA timeline starts from its first values",
          "[service_desk][sla_policy]") {
  sd::domain::Ticket t;
  t.create_time = absl::FromUnixSeconds(1000);
  t.status = TicketStatus::kSolved;
  t.priority = sd::domain::Priority::kUrgent;
  std::vector<sd::domain::TicketChange> changes = {
      {1, "status", "new", "open", "ann", absl::FromUnixSeconds(1100)},
      {2, "priority", "normal", "urgent", "ann", absl::FromUnixSeconds(1200)},
      {3, "assignee", "", "bob", "ann", absl::FromUnixSeconds(1250)},
      {4, "status", "open", "solved", "ann", absl::FromUnixSeconds(1300)}};
  std::vector<sd::domain::TicketMessage> messages(3);
  messages[0].kind = sd::domain::MessageKind::kCustomer;  // the first message: the creation
  messages[0].create_time = t.create_time;
  messages[1].kind = sd::domain::MessageKind::kInternalNote;
  messages[1].create_time = absl::FromUnixSeconds(1150);
  messages[2].kind = sd::domain::MessageKind::kPublicReply;
  messages[2].create_time = absl::FromUnixSeconds(1160);
  sd::domain::TicketTimeline tl = sd::domain::SlaTimelineOf(t, changes, messages);
  CHECK(tl.created_at == t.create_time);
  CHECK(tl.status == "new");
  CHECK(tl.priority == "normal");
  REQUIRE(tl.events.size() == 4);  // two statuses, a priority, the public reply
  CHECK(tl.events[0].value == "open");
  CHECK(tl.events[1].value == "urgent");
  CHECK(tl.events[2].value == "solved");
  CHECK(tl.events[3].kind == sd::domain::TicketEvent::Kind::kAgentReply);
  // Without changes the current values are the first ones.
  CHECK(sd::domain::SlaTimelineOf(t, {}, {}).status == "solved");
}

struct World {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock{Local(2026, 12, 7, 8, 0)};  // a Monday, before opening
  crm::common::RandomIdGenerator ids;
  sd::app::Tickets tickets{repo, directory, clock, ids};
  sd::app::Slas slas{repo, clock};
  int keys = 0;

  sd::app::Actor Meta(const std::string& method, const std::string& tenant = kTenant) {
    return sd::app::Actor{tenant, "agent-ann", "req", method, "k" + std::to_string(++keys), "fp"};
  }
  std::string Ticket() {
    sd::app::NewTicket n;
    n.ticket.subject = "Where is my parcel?";
    n.requester.email = "ada@example.com";
    n.description = "Ordered a week ago.";
    auto t = tickets.Create(Meta("CreateTicket"), n);
    REQUIRE(t.ok());
    return t->id;
  }
};

TEST_CASE("the SLA policy is written whole under its etag", "[service_desk][sla_policy]") {
  World w;
  CHECK(crm::common::ReasonOf(w.slas.GetPolicy(kTenant).status()) == "SLA_POLICY_NOT_FOUND");
  auto first = w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), OfficeHours(), "0");
  REQUIRE(first.ok());
  CHECK(first->version == 1);
  CHECK(first->update_time == w.clock.Now());
  auto stale = w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), OfficeHours(), "0");
  CHECK(crm::common::ReasonOf(stale.status()) == "ETAG_MISMATCH");
  SlaPolicySpec bad = OfficeHours();
  bad.hours.time_zone = "";
  CHECK(crm::common::FieldOf(w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), bad, "").status()) ==
        "policy.hours");
  auto got = w.slas.GetPolicy(kTenant);
  REQUIRE(got.ok());
  CHECK(got->version == 1);
  CHECK(got->paused_statuses == std::set<std::string>{"pending_customer"});
  CHECK(crm::common::ReasonOf(w.slas.GetPolicy(kOther).status()) == "SLA_POLICY_NOT_FOUND");
}

TEST_CASE("a ticket's SLA is evaluated from its history in business hours",
          "[service_desk][sla_policy]") {
  World w;
  const std::string id = w.Ticket();  // Monday 08:00, before opening
  auto none = w.slas.ForTicket(kTenant, id);
  REQUIRE(none.ok());
  CHECK(none->policy_version == 0);  // no policy: no metrics
  CHECK(none->metrics.empty());
  REQUIRE(w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), OfficeHours(), "").ok());

  w.clock.Set(Local(2026, 12, 7, 10, 0));
  auto sla = w.slas.ForTicket(kTenant, id);
  REQUIRE(sla.ok());
  CHECK(sla->policy_version == 1);
  const auto* first = Find(sla->metrics, SlaMetric::kFirstReply);
  REQUIRE(first != nullptr);
  // The clock started at 09:00 (not at creation): 2 h → 11:00; warned at 10:45.
  CHECK(first->deadline == Local(2026, 12, 7, 11, 0));
  CHECK(first->warn_at == Local(2026, 12, 7, 10, 45));
  CHECK(first->elapsed == absl::Hours(1));
  CHECK(sla->next_due == Local(2026, 12, 7, 10, 45));

  // Waiting on the customer pauses every clock; the reply meets the target.
  sd::domain::Ticket pending;
  pending.status = TicketStatus::kPendingCustomer;
  w.clock.Set(Local(2026, 12, 7, 10, 30));
  REQUIRE(w.tickets
              .AddMessage(w.Meta("AddTicketMessage"), id, sd::domain::MessageKind::kPublicReply,
                          "Which order number?")
              .ok());
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), id, pending, {"status"}, "").ok());
  w.clock.Set(Local(2026, 12, 7, 15, 30));
  sla = w.slas.ForTicket(kTenant, id);
  REQUIRE(sla.ok());
  first = Find(sla->metrics, SlaMetric::kFirstReply);
  REQUIRE(first != nullptr);
  CHECK(first->fulfilled_at == Local(2026, 12, 7, 10, 30));
  CHECK_FALSE(first->breached_at.has_value());
  const auto* resolution = Find(sla->metrics, SlaMetric::kResolution);
  REQUIRE(resolution != nullptr);
  CHECK(resolution->paused);
  CHECK(resolution->elapsed == absl::Minutes(90));
  CHECK_FALSE(resolution->deadline.has_value());

  // The customer answers at 16:00: open again, 6.5 h left → Tuesday 14:30.
  w.clock.Set(Local(2026, 12, 7, 16, 0));
  REQUIRE(w.tickets
              .AddMessage(w.Meta("AddTicketMessage"), id, sd::domain::MessageKind::kCustomer,
                          "It is A-17.")
              .ok());
  sla = w.slas.ForTicket(kTenant, id);
  REQUIRE(sla.ok());
  resolution = Find(sla->metrics, SlaMetric::kResolution);
  REQUIRE(resolution != nullptr);
  CHECK_FALSE(resolution->paused);
  CHECK(resolution->deadline == Local(2026, 12, 8, 14, 30));

  // Raised to urgent (4 h) with 1.5 h used: 2.5 h left from 16:00, one of
  // them on Monday, so Tuesday 10:30.
  sd::domain::Ticket urgent;
  urgent.priority = sd::domain::Priority::kUrgent;
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), id, urgent, {"priority"}, "").ok());
  sla = w.slas.ForTicket(kTenant, id);
  REQUIRE(sla.ok());
  resolution = Find(sla->metrics, SlaMetric::kResolution);
  REQUIRE(resolution != nullptr);
  CHECK(resolution->target == absl::Hours(4));
  CHECK(resolution->deadline == Local(2026, 12, 8, 10, 30));

  CHECK(crm::common::ReasonOf(w.slas.ForTicket(kOther, id).status()) == "TICKET_NOT_FOUND");
  CHECK(w.slas.ForTicket(kTenant, "nope").status().code() == absl::StatusCode::kInvalidArgument);
}

// Notices of a ticket's SLA from the clock's states.
TEST_CASE("SLA notices are told once per cycle and kind", "[service_desk][sla_watch]") {
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  sd::domain::MetricState s;
  s.metric = SlaMetric::kNextReply;
  s.active = true;
  s.cycle_start = t0;
  s.warn_at = t0 + absl::Minutes(45);
  s.deadline = t0 + absl::Hours(1);
  s.next_escalation_at = t0 + absl::Minutes(90);

  auto step = sd::domain::Watch({s}, t0 + absl::Minutes(10), {});
  CHECK(step.fresh.empty());
  CHECK(step.next_due == s.warn_at);
  step = sd::domain::Watch({s}, t0 + absl::Minutes(50), step.told);
  REQUIRE(step.fresh.size() == 1);
  CHECK(step.fresh[0].kind == sd::domain::SlaNotice::Kind::kWarning);
  CHECK(step.fresh[0].at == t0 + absl::Minutes(45));
  CHECK(sd::domain::NoticeKey(step.fresh[0]) ==
        "warning/next_reply/" + std::to_string(absl::ToUnixMicros(t0)));
  const std::vector<std::string> warned = step.told;
  CHECK(sd::domain::Watch({s}, t0 + absl::Minutes(55), warned).fresh.empty());

  // Breached, then escalated twice: each told once; no warning once breached.
  s.cycle_breached_at = t0 + absl::Hours(1);
  s.breached_at = s.cycle_breached_at;
  s.escalated_at = {t0 + absl::Minutes(90), t0 + absl::Hours(3)};
  step = sd::domain::Watch({s}, t0 + absl::Hours(2), {});
  REQUIRE(step.fresh.size() == 2);  // breach + level 1 (level 2 is later)
  CHECK(step.fresh[0].kind == sd::domain::SlaNotice::Kind::kBreach);
  CHECK(step.fresh[1].kind == sd::domain::SlaNotice::Kind::kEscalation);
  CHECK(step.fresh[1].level == 1);
  step = sd::domain::Watch({s}, t0 + absl::Hours(4), step.told);
  REQUIRE(step.fresh.size() == 1);
  CHECK(step.fresh[0].level == 2);
  CHECK(step.fresh[0].at == t0 + absl::Hours(3));
  CHECK(step.told.size() == 3);

  // A new cycle of the metric: the old cycle's keys go, a metric not
  // reported now (its priority has no target) keeps its keys.
  const std::vector<std::string> kept = {step.told[0], "breach/resolution/123"};
  sd::domain::MetricState next = s;
  next.cycle_start = t0 + absl::Hours(5);
  next.warn_at = next.cycle_start + absl::Minutes(45);
  next.deadline = next.cycle_start + absl::Hours(1);
  next.cycle_breached_at.reset();
  next.escalated_at.clear();
  step = sd::domain::Watch({next}, t0 + absl::Hours(5), kept);
  CHECK(step.told == std::vector<std::string>{"breach/resolution/123"});
  CHECK(sd::domain::NoticeEventType(sd::domain::SlaNotice::Kind::kEscalation) ==
        std::string("ticket.sla_escalated"));
}

namespace {

int Count(const crm::testing::FakeTicketRepository& repo, const std::string& type,
          const std::string& metric) {
  int n = 0;
  for (const auto& e : repo.state().events) {
    if (e.type == type && e.notice.find("/" + metric + "/") != std::string::npos) ++n;
  }
  return n;
}

std::optional<absl::Time> StoredDue(const crm::testing::FakeTicketRepository& repo,
                                    const std::string& id) {
  return repo.state().slas.at(kTenant).at(id).next_due;
}

}  // namespace

TEST_CASE("the sweeper tells warnings, breaches and escalations once, when due",
          "[service_desk][sla_sweep]") {
  World w;
  SlaPolicySpec policy = OfficeHours();
  policy.escalations = {absl::Minutes(30), absl::Hours(2)};
  REQUIRE(w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), policy, "").ok());
  CHECK(w.slas.Sweep(100).evaluated == 0);  // the rebase of no ticket ends
  CHECK(w.repo.state().sla_rebases.empty());
  const std::string id = w.Ticket();  // Monday 08:00; first reply due 11:00
  CHECK(StoredDue(w.repo, id) == Local(2026, 12, 7, 10, 45));

  w.clock.Set(Local(2026, 12, 7, 10, 44));
  CHECK(w.slas.Sweep(100).evaluated == 0);
  w.clock.Set(Local(2026, 12, 7, 10, 45));
  auto round = w.slas.Sweep(100);
  CHECK(round.failure.ok());
  CHECK(round.evaluated == 1);
  CHECK(round.notices == 1);
  CHECK(Count(w.repo, "ticket.sla_warning", "first_reply") == 1);
  CHECK(StoredDue(w.repo, id) == Local(2026, 12, 7, 11, 0));
  CHECK(w.slas.Sweep(100).evaluated == 0);

  // Late (the sweeper was away): the breach at 11:00, told at 11:10.
  w.clock.Set(Local(2026, 12, 7, 11, 10));
  CHECK(w.slas.Sweep(100).notices == 1);
  CHECK(Count(w.repo, "ticket.sla_breached", "first_reply") == 1);
  CHECK(StoredDue(w.repo, id) == Local(2026, 12, 7, 11, 30));  // level 1
  w.clock.Set(Local(2026, 12, 7, 11, 30));
  CHECK(w.slas.Sweep(100).notices == 1);
  CHECK(Count(w.repo, "ticket.sla_escalated", "first_reply") == 1);
  CHECK(StoredDue(w.repo, id) == Local(2026, 12, 7, 13, 0));  // level 2

  // The agent's reply: the write evaluates the ticket; first reply is done,
  // the next instant is the resolution's warning (8 h from 09:00 → 17:00).
  w.clock.Set(Local(2026, 12, 7, 12, 0));
  REQUIRE(w.tickets
              .AddMessage(w.Meta("AddTicketMessage"), id, sd::domain::MessageKind::kPublicReply,
                          "On its way.")
              .ok());
  CHECK(StoredDue(w.repo, id) == Local(2026, 12, 7, 16, 45));
  w.clock.Set(Local(2026, 12, 7, 13, 0));
  CHECK(w.slas.Sweep(100).evaluated == 0);
  CHECK(Count(w.repo, "ticket.sla_escalated", "first_reply") == 1);

  // Past the resolution's deadline: its breach, and no warning told late.
  w.clock.Set(Local(2026, 12, 7, 17, 5));
  CHECK(w.slas.Sweep(100).notices == 1);
  CHECK(Count(w.repo, "ticket.sla_breached", "resolution") == 1);
  CHECK(Count(w.repo, "ticket.sla_warning", "resolution") == 0);

  // A policy change re-evaluates the ticket: resolution 16 h → Tuesday
  // 17:00; the breach told stays told.
  policy.targets_by_priority["normal"].resolution = absl::Hours(16);
  REQUIRE(w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), policy, "").ok());
  CHECK(w.repo.state().sla_rebases.at(kTenant).policy_version == 2);
  CHECK(w.slas.Sweep(100).evaluated == 1);
  CHECK(w.repo.state().slas.at(kTenant).at(id).policy_version == 2);
  CHECK(StoredDue(w.repo, id) == Local(2026, 12, 8, 16, 45));
  CHECK(w.slas.Sweep(100).evaluated == 0);  // the pass from the start finds none
  CHECK(w.slas.Sweep(100).evaluated == 0);
  CHECK(w.repo.state().sla_rebases.empty());
  CHECK(Count(w.repo, "ticket.sla_breached", "resolution") == 1);
}

namespace {

SlaPolicySpec AllHours(absl::Duration first_reply, absl::Duration periodic) {
  SlaPolicySpec p;
  p.hours.always_open = true;
  p.targets_by_priority["normal"] = {first_reply, std::nullopt, periodic, std::nullopt};
  return p;
}

size_t IndexOf(const crm::testing::FakeTicketRepository& repo, const std::string& type) {
  const auto events = repo.state().events;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].type == type) return i;
  }
  return events.size();
}

}  // namespace

TEST_CASE("a reply a moment after an untold deadline tells the breach first",
          "[service_desk][sla_sweep]") {
  World w;
  REQUIRE(
      w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), AllHours(absl::Hours(8), absl::Hours(1)), "")
          .ok());
  const absl::Time t0 = w.clock.Now();
  const std::string id = w.Ticket();
  CHECK(StoredDue(w.repo, id) == t0 + absl::Hours(1));  // the periodic update
  // The reply at 1 h + 1 s, before any sweep: it ends the periodic cycle
  // (breached at 1 h) and opens the next one, which is not breached.
  w.clock.Set(t0 + absl::Hours(1) + absl::Seconds(1));
  REQUIRE(w.tickets
              .AddMessage(w.Meta("AddTicketMessage"), id, sd::domain::MessageKind::kPublicReply,
                          "Still on it.")
              .ok());
  CHECK(Count(w.repo, "ticket.sla_breached", "periodic_update") == 1);
  CHECK(IndexOf(w.repo, "ticket.sla_breached") < IndexOf(w.repo, "ticket.message_added"));
  CHECK(StoredDue(w.repo, id) == t0 + absl::Hours(2) + absl::Seconds(1));
  w.clock.Set(t0 + absl::Hours(1) + absl::Seconds(2));
  CHECK(w.slas.Sweep(100).notices == 0);
}

TEST_CASE("a policy change tells nothing as having happened before it",
          "[service_desk][sla_sweep]") {
  World w;
  REQUIRE(
      w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), AllHours(absl::Hours(4), absl::Hours(24)), "")
          .ok());
  const absl::Time t0 = w.clock.Now();
  const std::string replied = w.Ticket();
  const std::string open = w.Ticket();
  w.clock.Set(t0 + absl::Hours(3));
  REQUIRE(w.tickets
              .AddMessage(w.Meta("AddTicketMessage"), replied,
                          sd::domain::MessageKind::kPublicReply, "Done.")
              .ok());
  // Stricter at 3 h 30: first reply 2 h. The reply at 3 h met the policy of
  // its time: no breach. The open ticket is breached by the change: told
  // at the change, not at the 2 h mark.
  w.clock.Set(t0 + absl::Minutes(210));
  REQUIRE(
      w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), AllHours(absl::Hours(2), absl::Hours(24)), "")
          .ok());
  for (int i = 0; i < 3; ++i) w.slas.Sweep(100);
  CHECK(w.repo.state().sla_rebases.empty());
  CHECK(Count(w.repo, "ticket.sla_breached", "first_reply") == 1);
  bool open_told = false;
  for (const auto& e : w.repo.state().events) {
    if (e.type == "ticket.sla_breached") {
      CHECK(e.ticket_id == open);
      open_told = true;
    }
  }
  CHECK(open_told);
  CHECK(w.repo.state().slas.at(kTenant).at(replied).policy_version == 2);
}

TEST_CASE("tickets the desk tracks for the first time are told from then on",
          "[service_desk][sla_sweep]") {
  World w;
  REQUIRE(
      w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), AllHours(absl::Hours(2), absl::Hours(24)), "")
          .ok());
  const absl::Time t0 = w.clock.Now();
  const std::string late = w.Ticket();
  const std::string open = w.Ticket();
  w.clock.Set(t0 + absl::Hours(3));
  REQUIRE(w.tickets
              .AddMessage(w.Meta("AddTicketMessage"), late, sd::domain::MessageKind::kPublicReply,
                          "Sorry for the wait.")
              .ok());
  CHECK(Count(w.repo, "ticket.sla_breached", "first_reply") == 1);  // told by the reply
  // As after migration 003: no records, a pass under the current version.
  w.repo.ForgetSlaRecords(kTenant);
  w.clock.Set(t0 + absl::Hours(4));
  for (int i = 0; i < 3; ++i) w.slas.Sweep(100);
  // The ended cycle stays untold; the open one, breached, is told now.
  CHECK(Count(w.repo, "ticket.sla_breached", "first_reply") == 2);
  CHECK(w.repo.state().events.back().ticket_id == open);
  CHECK(w.repo.state().slas.at(kTenant).size() == 2);
  CHECK(w.repo.state().sla_rebases.empty());
}
TEST_CASE("tickets written before the first policy are evaluated when it comes",
          "[service_desk][sla_sweep]") {
  World w;
  const std::string a = w.Ticket();
  const std::string b = w.Ticket();
  CHECK_FALSE(StoredDue(w.repo, a).has_value());
  CHECK(w.repo.state().slas.at(kTenant).at(a).policy_version == 0);
  REQUIRE(w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), OfficeHours(), "").ok());
  // A page of one: the pass takes the tickets one by one.
  CHECK(w.slas.Sweep(1).evaluated == 1);
  CHECK(w.slas.Sweep(1).evaluated == 1);
  CHECK(StoredDue(w.repo, a) == Local(2026, 12, 7, 10, 45));
  CHECK(StoredDue(w.repo, b) == Local(2026, 12, 7, 10, 45));
  // Solved: nothing is due any more.
  sd::domain::Ticket solved;
  solved.status = TicketStatus::kSolved;
  sd::app::TicketQuery by_sla;
  by_sla.by_sla_due = true;
  auto listed = w.tickets.List(kTenant, by_sla);
  REQUIRE(listed.ok());
  CHECK(listed->items.size() == 2);
  auto solved_answer = w.tickets.Update(w.Meta("UpdateTicket"), a, solved, {"status"}, "");
  REQUIRE(solved_answer.ok());
  CHECK_FALSE(solved_answer->sla_due.has_value());
  CHECK_FALSE(StoredDue(w.repo, a).has_value());
  listed = w.tickets.List(kTenant, by_sla);
  REQUIRE(listed.ok());
  REQUIRE(listed->items.size() == 1);
  CHECK(listed->items[0].id == b);
  CHECK(listed->items[0].sla_due == Local(2026, 12, 7, 10, 45));
}

// Several policies chosen by conditions (docs/service-desk.md, "Several
// SLA policies").
sd::domain::ConditionalSlaPolicy Conditional(const std::string& id, const std::string& field,
                                             const std::string& value, SlaPolicySpec policy) {
  sd::domain::ConditionalSlaPolicy c;
  c.id = id;
  c.name = "Policy " + id;
  c.conditions = {{field, "in", {value}}};
  c.policy = std::move(policy);
  return c;
}

std::vector<sd::domain::TicketChange> PolicyChanges(const World& w, const std::string& id) {
  std::vector<sd::domain::TicketChange> out;
  const auto state = w.repo.state();
  const auto it = state.changes.find(id);
  if (it == state.changes.end()) return out;
  for (const auto& c : it->second) {
    if (c.field == "sla_policy") out.push_back(c);
  }
  return out;
}

TEST_CASE("conditional SLA policies are checked before they are stored",
          "[service_desk][sla_choice]") {
  using List = std::vector<sd::domain::ConditionalSlaPolicy>;
  const auto field = [](List l) {
    return crm::common::FieldOf(sd::domain::NormalizeAndValidate(l));
  };
  List ok = {Conditional(" VIP ", "tags", "vip", AllHours(absl::Minutes(30), absl::Hours(4))),
             Conditional("billing", "queue", "billing", OfficeHours())};
  REQUIRE(sd::domain::NormalizeAndValidate(ok).ok());
  CHECK(ok[0].id == "vip");  // trimmed, lower-cased
  CHECK(field({Conditional("a b", "tags", "x", OfficeHours())}) == "policies[0].id");
  CHECK(field({Conditional("default", "tags", "x", OfficeHours())}) == "policies[0].id");
  CHECK(field({Conditional("a", "tags", "x", OfficeHours()),
               Conditional("a", "tags", "y", OfficeHours())}) == "policies[1].id");
  // A ticket keeps neither its first message apart nor its mailbox.
  CHECK(field({Conditional("a", "description", "x", OfficeHours())}) ==
        "policies[0].conditions[0].field");
  CHECK(field({Conditional("a", "mailbox", "x", OfficeHours())}) ==
        "policies[0].conditions[0].field");
  CHECK(field({Conditional("a", "priority", "critical", OfficeHours())}) ==
        "policies[0].conditions[0].values[0]");
  SlaPolicySpec bad = OfficeHours();
  bad.hours.time_zone = "Mars/Olympus";
  CHECK(field({Conditional("a", "tags", "x", OfficeHours()), Conditional("b", "tags", "x", bad)}) ==
        "policies[1].policy.hours");
  List nameless = {Conditional("a", "tags", "x", OfficeHours())};
  nameless[0].name = " ";
  CHECK(field(nameless) == "policies[0].name");
  CHECK(field(List(sd::domain::kMaxSlaPolicies + 1,
                   Conditional("a", "tags", "x", OfficeHours()))) == "policies");
}

TEST_CASE("a ticket is under the first policy whose conditions hold, else the default",
          "[service_desk][sla_choice]") {
  sd::domain::SlaPolicies p;
  p.conditional = {Conditional("vip", "tags", "vip", AllHours(absl::Minutes(30), absl::Hours(4))),
                   Conditional("urgent", "priority", "urgent", OfficeHours())};
  auto book = sd::domain::SlaPolicyBook::Compile(p);
  REQUIRE(book.ok());
  sd::domain::Ticket t;
  t.tags = {"vip"};
  t.priority = sd::domain::Priority::kUrgent;
  CHECK(book->Match(t) == "vip");  // the first that holds
  t.tags.clear();
  CHECK(book->Match(t) == "urgent");
  t.priority = sd::domain::Priority::kNormal;
  CHECK(book->Match(t).empty());  // no default: none
  p.fallback = OfficeHours();
  book = sd::domain::SlaPolicyBook::Compile(p);
  REQUIRE(book.ok());
  CHECK(book->Match(t) == "default");
  REQUIRE(book->all().size() == 3);
  CHECK(book->all()[0]->id == "default");  // a stretch under a policy gone counts under it

  // The timeline: the creation policy is the first move's old value; a
  // ticket that was under none counts from creation under the first it got.
  std::vector<sd::domain::TicketChange> moves = {
      {1, "sla_policy", "vip", "default", "sla", absl::FromUnixSeconds(1200)},
      {2, "sla_policy", "default", "urgent", "sla", absl::FromUnixSeconds(1300)}};
  sd::domain::TicketTimeline tl = sd::domain::SlaTimelineOf(t, moves, {}, "urgent");
  CHECK(tl.policy == "vip");
  REQUIRE(tl.events.size() == 2);
  CHECK(tl.events[0].kind == sd::domain::TicketEvent::Kind::kPolicy);
  CHECK(tl.events[1].value == "urgent");
  moves[0].old_value = "";
  CHECK(sd::domain::SlaTimelineOf(t, moves, {}, "urgent").policy == "default");
  CHECK(sd::domain::SlaTimelineOf(t, {}, {}, "urgent").policy == "urgent");
}

TEST_CASE("a ticket's moves between SLA policies are audited and counted on each one's hours",
          "[service_desk][sla_choice]") {
  World w;
  REQUIRE(w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), OfficeHours(), "0").ok());
  // 24/7, first reply in 30 min, for tickets tagged vip.
  auto list = w.slas.UpdatePolicies(
      w.Meta("UpdateSlaPolicies"),
      {Conditional("vip", "tags", "vip", AllHours(absl::Minutes(30), absl::Hours(4)))}, "1");
  REQUIRE(list.ok());
  CHECK(list->version == 2);
  CHECK(crm::common::ReasonOf(
            w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), OfficeHours(), "1").status()) ==
        "ETAG_MISMATCH");  // one etag for both
  auto got = w.slas.GetPolicy(kTenant);
  REQUIRE(got.ok());
  CHECK(got->version == 2);

  // Monday 08:00, tagged vip: the vip clock runs at once.
  sd::app::NewTicket n;
  n.ticket.subject = "Card blocked";
  n.ticket.tags = {"vip"};
  n.requester.email = "ada@example.com";
  n.description = "At the airport.";
  auto created = w.tickets.Create(w.Meta("CreateTicket"), n);
  REQUIRE(created.ok());
  const std::string id = created->id;
  CHECK(created->sla_due == Local(2026, 12, 7, 8, 30));
  CHECK(PolicyChanges(w, id).empty());  // its first policy is its creation's
  auto sla = w.slas.ForTicket(kTenant, id);
  REQUIRE(sla.ok());
  CHECK(sla->policy == "vip");
  CHECK(Find(sla->metrics, SlaMetric::kFirstReply)->deadline == Local(2026, 12, 7, 8, 30));

  // 08:20: no longer vip. 20 min used under vip; the default's office hours
  // count the rest from 09:00: 2 h - 20 min → 10:40.
  w.clock.Set(Local(2026, 12, 7, 8, 20));
  sd::domain::Ticket untagged;
  auto updated = w.tickets.Update(w.Meta("UpdateTicket"), id, untagged, {"tags"}, "");
  REQUIRE(updated.ok());
  const auto moves = PolicyChanges(w, id);
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].old_value == "vip");
  CHECK(moves[0].new_value == "default");
  CHECK(moves[0].actor == "sla");
  CHECK(moves[0].time == Local(2026, 12, 7, 8, 20));
  sla = w.slas.ForTicket(kTenant, id);
  REQUIRE(sla.ok());
  CHECK(sla->policy == "default");
  const auto* first = Find(sla->metrics, SlaMetric::kFirstReply);
  REQUIRE(first != nullptr);
  CHECK(first->elapsed == absl::Minutes(20));
  CHECK(first->deadline == Local(2026, 12, 7, 10, 40));
  CHECK(updated->sla_due == Local(2026, 12, 7, 10, 25));  // the warning, 15 min before

  // 10:00, 1 h 20 min used (in the default's 2 h): tagged vip again,
  // whose 30 min are used up: breached at the move, never before it.
  w.clock.Set(Local(2026, 12, 7, 10, 0));
  sd::domain::Ticket tagged;
  tagged.tags = {"vip"};
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), id, tagged, {"tags"}, "").ok());
  sla = w.slas.ForTicket(kTenant, id);
  REQUIRE(sla.ok());
  CHECK(sla->policy == "vip");
  first = Find(sla->metrics, SlaMetric::kFirstReply);
  REQUIRE(first != nullptr);
  CHECK(first->breached_at == Local(2026, 12, 7, 10, 0));
  CHECK(first->elapsed == absl::Minutes(80));
  CHECK(Count(w.repo, "ticket.sla_breached", "first_reply") == 1);  // told by the move
  CHECK(PolicyChanges(w, id).size() == 2);

  // Another tenant sees none of it.
  auto other = w.slas.GetPolicies(kOther);
  REQUIRE(other.ok());
  CHECK(other->version == 0);
  CHECK(other->conditional.empty());
  CHECK(crm::common::ReasonOf(w.slas.ForTicket(kOther, id).status()) == "TICKET_NOT_FOUND");
}

TEST_CASE("a change of the policies moves each ticket when it is evaluated again",
          "[service_desk][sla_choice]") {
  World w;
  REQUIRE(w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), OfficeHours(), "").ok());
  const std::string id = w.Ticket();        // ada@example.com
  CHECK(w.slas.Sweep(100).evaluated == 0);  // the first pass: the ticket is current
  CHECK(w.repo.state().slas.at(kTenant).at(id).policy == "default");
  auto list = w.slas.UpdatePolicies(w.Meta("UpdateSlaPolicies"),
                                    {Conditional("partners", "requester_domain", "EXAMPLE.com",
                                                 AllHours(absl::Minutes(30), absl::Hours(4)))},
                                    "");
  REQUIRE(list.ok());
  // Before the pass reaches it, its SLA reads as the policies choose now.
  auto sla = w.slas.ForTicket(kTenant, id);
  REQUIRE(sla.ok());
  CHECK(sla->policy == "partners");
  CHECK(PolicyChanges(w, id).empty());
  w.clock.Set(Local(2026, 12, 7, 8, 10));
  CHECK(w.slas.Sweep(100).evaluated == 1);
  const auto moves = PolicyChanges(w, id);
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].new_value == "partners");
  CHECK(moves[0].time == Local(2026, 12, 7, 8, 10));
  CHECK(w.repo.state().slas.at(kTenant).at(id).policy == "partners");
  // Emptied: back to the default; with nothing written for the default
  // nor a match, a ticket is under none.
  REQUIRE(w.slas.UpdatePolicies(w.Meta("UpdateSlaPolicies"), {}, "").ok());
  for (int i = 0; i < 3; ++i) w.slas.Sweep(100);
  CHECK(PolicyChanges(w, id).back().new_value == "default");

  World bare;
  REQUIRE(bare.slas
              .UpdatePolicies(bare.Meta("UpdateSlaPolicies"),
                              {Conditional("vip", "tags", "vip", OfficeHours())}, "0")
              .ok());
  CHECK(crm::common::ReasonOf(bare.slas.GetPolicy(kTenant).status()) == "SLA_POLICY_NOT_FOUND");
  const std::string plain = bare.Ticket();
  sla = bare.slas.ForTicket(kTenant, plain);
  REQUIRE(sla.ok());
  CHECK(sla->policy.empty());
  CHECK(sla->metrics.empty());
  CHECK_FALSE(bare.repo.state().tickets.at(kTenant).at(plain).sla_due.has_value());
}

// The SLA report (docs/service-desk.md, "SLA report").
TEST_CASE("the SLA report counts met and breached metrics and ranks the times",
          "[service_desk][sla_report]") {
  using sd::domain::TicketOutcome;
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  std::vector<TicketOutcome> all;
  // Replied after 10, 20, ..., 100 minutes; the last two breached their
  // first reply; one of them not under a policy.
  for (int i = 1; i <= 10; ++i) {
    TicketOutcome o;
    o.created = t0;
    o.under_sla = i != 5;
    o.first_reply = t0 + absl::Minutes(10 * i);
    o.first_reply_breached = i >= 9;
    if (i <= 4) o.solved = t0 + absl::Hours(i);
    all.push_back(o);
  }
  TicketOutcome silent;  // under a policy, never replied, breached
  silent.created = t0;
  silent.under_sla = true;
  silent.first_reply_breached = true;
  silent.resolution_breached = true;
  all.push_back(silent);
  const sd::domain::SlaReport r = sd::domain::ReportOf(all);
  CHECK(r.tickets == 11);
  CHECK(r.under_sla == 10);
  CHECK(r.first_reply.done == 10);
  CHECK(r.first_reply.met == 7);       // 1-8 but 5 (no policy)
  CHECK(r.first_reply.breached == 3);  // 9, 10 and the silent one
  REQUIRE(r.first_reply.met_percent.has_value());
  CHECK(*r.first_reply.met_percent == Approx(70.0));
  CHECK(r.first_reply.p50 == absl::Minutes(50));  // nearest rank: the 5th of 10
  CHECK(r.first_reply.p90 == absl::Minutes(90));
  CHECK(r.resolution.done == 4);
  CHECK(r.resolution.met == 4);
  CHECK(r.resolution.breached == 1);
  CHECK(r.resolution.p50 == absl::Hours(2));
  CHECK(r.resolution.p90 == absl::Hours(4));
  const sd::domain::SlaReport none = sd::domain::ReportOf({});
  CHECK_FALSE(none.first_reply.met_percent.has_value());
  CHECK_FALSE(none.first_reply.p50.has_value());

  sd::domain::SlaReportQuery q{t0, t0 + absl::Hours(1), ""};
  CHECK(sd::domain::CheckReportQuery(q).ok());
  CHECK(crm::common::FieldOf(sd::domain::CheckReportQuery({t0, t0, ""})) == "end_time");
  CHECK(crm::common::FieldOf(sd::domain::CheckReportQuery({t0, t0 + absl::Hours(24 * 367), ""})) ==
        "end_time");
  CHECK(crm::common::FieldOf(sd::domain::CheckReportQuery({absl::InfinitePast(), t0, ""})) ==
        "start_time");
  CHECK(crm::common::FieldOf(sd::domain::CheckReportQuery(
            {t0, t0 + absl::Hours(1), std::string(65, 'q')})) == "queue");
}

TEST_CASE("the SLA report reads the tickets' replies, solves and told breaches",
          "[service_desk][sla_report]") {
  World w;
  REQUIRE(
      w.slas.UpdatePolicy(w.Meta("UpdateSlaPolicy"), AllHours(absl::Hours(1), absl::Hours(24)), "")
          .ok());
  const absl::Time t0 = w.clock.Now();
  const std::string fast = w.Ticket();
  const std::string slow = w.Ticket();
  w.clock.Set(t0 + absl::Minutes(30));
  REQUIRE(w.tickets
              .AddMessage(w.Meta("AddTicketMessage"), fast, sd::domain::MessageKind::kPublicReply,
                          "On it.")
              .ok());
  w.clock.Set(t0 + absl::Hours(2));
  REQUIRE(w.tickets
              .AddMessage(w.Meta("AddTicketMessage"), slow, sd::domain::MessageKind::kPublicReply,
                          "Sorry for the wait.")
              .ok());  // the reply tells the breach first
  sd::domain::Ticket solved;
  solved.status = TicketStatus::kSolved;
  REQUIRE(w.tickets.Update(w.Meta("UpdateTicket"), fast, solved, {"status"}, "").ok());
  auto r = w.slas.Report(kTenant, {t0 - absl::Hours(1), t0 + absl::Hours(1), ""});
  REQUIRE(r.ok());
  CHECK(r->tickets == 2);
  CHECK(r->under_sla == 2);
  CHECK(r->first_reply.met == 1);
  CHECK(r->first_reply.breached == 1);
  CHECK(r->first_reply.p50 == absl::Minutes(30));
  CHECK(r->first_reply.p90 == absl::Hours(2));
  CHECK(r->resolution.done == 1);
  CHECK(r->resolution.p50 == absl::Hours(2));
  // Another range, another queue, another tenant: nothing.
  CHECK(w.slas.Report(kTenant, {t0 + absl::Hours(1), t0 + absl::Hours(2), ""})->tickets == 0);
  CHECK(w.slas.Report(kTenant, {t0 - absl::Hours(1), t0 + absl::Hours(1), "vip"})->tickets == 0);
  CHECK(w.slas.Report(kOther, {t0 - absl::Hours(1), t0 + absl::Hours(1), ""})->tickets == 0);
  CHECK(w.slas.Report(kTenant, {t0, t0, ""}).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace

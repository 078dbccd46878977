// Merge and split of tickets: the rules (domain/ticket_merge.h) and the
// use cases over the in-memory storage (messages, files and mails moved,
// the merged ticket closed and linked, notes and audit on both sides,
// counts, refusals that write nothing, tenant isolation).
#include "services/service_desk/domain/ticket_merge.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/tickets.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::MessageKind;
using sd::domain::Ticket;
using sd::domain::TicketStatus;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";

struct World {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock;
  crm::common::RandomIdGenerator ids;
  sd::app::Tickets tickets{repo, directory, clock, ids};

  static sd::app::Actor Meta(const std::string& key, const std::string& method,
                             const std::string& tenant = kTenant) {
    return sd::app::Actor{tenant, "agent-ann", "req", method, key, "fp-" + key};
  }
  Ticket Create(const std::string& key, const std::string& email, const std::string& subject) {
    sd::app::NewTicket n;
    n.ticket.subject = subject;
    n.ticket.tags = {"billing"};
    n.ticket.queue = "payments";
    n.ticket.priority = sd::domain::Priority::kHigh;
    n.ticket.channel = sd::domain::Channel::kEmail;
    n.requester.email = email;
    n.description = "First message of " + subject;
    absl::StatusOr<Ticket> t = tickets.Create(Meta(key, "CreateTicket"), n);
    REQUIRE(t.ok());
    return *t;
  }
  std::string Say(const Ticket& t, const std::string& key, MessageKind kind,
                  const std::string& body) {
    clock.Advance(absl::Seconds(1));
    auto m = tickets.AddMessage(Meta(key, "AddTicketMessage"), t.id, kind, body);
    REQUIRE(m.ok());
    return m->message.id;
  }
  std::vector<sd::domain::TicketMessage> Thread(const std::string& id) {
    auto page = tickets.Messages(kTenant, id, "", 100);
    REQUIRE(page.ok());
    return page->items;
  }
  std::vector<std::string> Fields(const std::string& id) {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<sd::domain::TicketChange>> changes = tickets.Changes(kTenant, id);
    REQUIRE(changes.ok());
    for (const sd::domain::TicketChange& c : *changes) out.push_back(c.field);
    return out;
  }
};

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST_CASE("merge and split rules", "[service_desk][merge]") {
  Ticket a;
  a.id = "a";
  a.number = 7;
  a.subject = "Card charged twice";
  a.status = TicketStatus::kOpen;
  a.message_count = 3;
  Ticket b = a;
  b.id = "b";
  b.number = 9;
  CHECK(sd::domain::CheckMerge(a, b).ok());
  CHECK(crm::common::FieldOf(sd::domain::CheckMerge(a, a)) == "target_ticket_id");
  b.status = TicketStatus::kSolved;
  CHECK(sd::domain::CheckMerge(a, b).ok());  // a solved target takes the thread
  b.status = TicketStatus::kClosed;
  absl::Status closed_target = sd::domain::CheckMerge(a, b);
  CHECK(crm::common::ReasonOf(closed_target) == "TICKET_CLOSED");
  CHECK(crm::common::FieldOf(closed_target) == "target_ticket_id");
  b.status = TicketStatus::kOpen;
  a.status = TicketStatus::kClosed;
  CHECK(crm::common::ReasonOf(sd::domain::CheckMerge(a, b)) == "TICKET_CLOSED");
  CHECK(crm::common::FieldOf(sd::domain::CheckMerge(a, b)).empty());

  a.status = TicketStatus::kPendingCustomer;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  Ticket source = a;
  sd::domain::CloseMerged(b, 3, now, source);
  CHECK(source.status == TicketStatus::kClosed);
  CHECK(source.merged_into == "b");
  CHECK(source.message_count == 0);
  CHECK(source.version == a.version + 1);
  CHECK(source.status_time == now);
  CHECK(source.solve_time == a.solve_time);  // a merge is not a solve

  CHECK(sd::domain::CheckSplit(a, 2).ok());
  CHECK(crm::common::FieldOf(sd::domain::CheckSplit(a, 3)) == "message_ids");  // one stays
  CHECK(crm::common::FieldOf(sd::domain::CheckSplit(a, 0)) == "message_ids");
  a.message_count = 1000;
  CHECK(sd::domain::CheckSplit(a, sd::domain::kMaxSplitMessages).ok());
  CHECK(crm::common::FieldOf(sd::domain::CheckSplit(a, sd::domain::kMaxSplitMessages + 1)) ==
        "message_ids");
  a.status = TicketStatus::kClosed;
  CHECK(crm::common::ReasonOf(sd::domain::CheckSplit(a, 1)) == "TICKET_CLOSED");

  a.status = TicketStatus::kOnHold;
  a.customer_id = "cust";
  a.tags = {"vip"};
  a.custom_fields = {{"order_ref", "A-1"}};
  Ticket split = sd::domain::SplitOff(a, "c", 12, "", now);
  CHECK(split.subject == a.subject);
  CHECK(split.status == TicketStatus::kOpen);
  CHECK(split.customer_id == "cust");
  CHECK(split.tags == a.tags);
  CHECK(split.custom_fields == a.custom_fields);
  CHECK(split.number == 12);
  CHECK(split.message_count == 0);
  CHECK(sd::domain::SplitOff(a, "c", 12, "Second question", now).subject == "Second question");
  sd::domain::MessagesMoved(2, now, split);
  CHECK(split.message_count == 2);
  CHECK(split.version == 1);

  CHECK(sd::domain::MergedIntoNote(b).find("#9") != std::string::npos);
  CHECK(sd::domain::MergedFromNote(a, 1).find("1 message moved") != std::string::npos);
  CHECK(sd::domain::SplitToNote(split, 2).find("2 messages") != std::string::npos);
}

TEST_CASE("a merge moves the thread and closes the merged ticket", "[service_desk][merge]") {
  World w;
  const Ticket first = w.Create("c1", "ada@example.com", "Charged twice");
  const Ticket second = w.Create("c2", "ada@example.com", "Charged twice again");
  w.Say(first, "m1", MessageKind::kPublicReply, "We are looking into it");
  w.Say(first, "m2", MessageKind::kCustomer, "Any news?");
  sd::domain::Attachment a;
  a.filename = "receipt.txt";
  auto up = w.tickets.Upload(World::Meta("", "UploadAttachment"), first.id, a, "receipt");
  REQUIRE(up.ok());
  w.clock.Advance(absl::Seconds(1));

  auto merged = w.tickets.Merge(World::Meta("g1", "MergeTicket"), first.id, second.id);
  INFO(merged.status().ToString());
  REQUIRE(merged.ok());
  CHECK(merged->id == second.id);
  CHECK(merged->message_count == 5);  // 1 + the 3 moved + the note
  CHECK(merged->version == second.version + 1);

  auto source = w.tickets.Get(kTenant, first.id);
  REQUIRE(source.ok());
  CHECK(source->status == TicketStatus::kClosed);
  CHECK(source->merged_into == second.id);
  CHECK(source->message_count == 1);  // its note
  const auto left = w.Thread(first.id);
  REQUIRE(left.size() == 1);
  CHECK(left[0].kind == MessageKind::kInternalNote);
  CHECK(left[0].body.find(absl::StrCat("#", second.number)) != std::string::npos);

  const auto thread = w.Thread(second.id);
  REQUIRE(thread.size() == 5);
  for (const auto& m : thread) CHECK(m.ticket_id == second.id);
  CHECK(thread.back().kind == MessageKind::kInternalNote);
  CHECK(thread.back().author == "agent-ann");
  // The pending upload went too: the target's next message can take it.
  CHECK(w.tickets.AttachmentContent(kTenant, second.id, up->id).ok());
  CHECK(crm::common::ReasonOf(w.tickets.AttachmentContent(kTenant, first.id, up->id).status()) ==
        "ATTACHMENT_NOT_FOUND");

  const auto source_audit = w.Fields(first.id);
  CHECK(Has(source_audit, "status"));
  CHECK(Has(source_audit, "merged_into"));
  CHECK(Has(w.Fields(second.id), "merged_from"));
  const auto events = w.repo.state().events;
  REQUIRE(events.size() >= 5);
  // The write's events: the closed ticket's, then the target's.
  const auto at = [&](size_t from_end) { return events[events.size() - from_end]; };
  CHECK(at(5).type == "ticket.updated");
  CHECK(at(5).ticket_id == first.id);
  CHECK(at(3).type == "ticket.status_changed");
  CHECK(at(3).ticket_id == first.id);
  CHECK(at(2).type == "ticket.updated");
  CHECK(at(2).ticket_id == second.id);
  CHECK(at(1).ticket_id == second.id);

  // A retry answers the first merge; the merged ticket takes no more.
  auto again = w.tickets.Merge(World::Meta("g1", "MergeTicket"), first.id, second.id);
  REQUIRE(again.ok());
  CHECK(again->version == merged->version);
  CHECK(w.Thread(second.id).size() == 5);
  auto twice = w.tickets.Merge(World::Meta("g2", "MergeTicket"), first.id, second.id);
  CHECK(crm::common::ReasonOf(twice.status()) == "TICKET_CLOSED");
  auto into_closed = w.tickets.Merge(World::Meta("g3", "MergeTicket"), second.id, first.id);
  CHECK(crm::common::FieldOf(into_closed.status()) == "target_ticket_id");
}

TEST_CASE("merge refusals write nothing", "[service_desk][merge]") {
  World w;
  const Ticket one = w.Create("c1", "ada@example.com", "One");
  const Ticket two = w.Create("c2", "bob@example.com", "Two");
  CHECK(crm::common::FieldOf(
            w.tickets.Merge(World::Meta("g1", "MergeTicket"), one.id, one.id).status()) ==
        "target_ticket_id");
  CHECK(crm::common::FieldOf(
            w.tickets.Merge(World::Meta("g2", "MergeTicket"), one.id, "nope").status()) ==
        "target_ticket_id");
  CHECK(crm::common::FieldOf(
            w.tickets.Merge(World::Meta("g3", "MergeTicket"), "nope", one.id).status()) ==
        "ticket_id");
  CHECK(crm::common::FieldOf(
            w.tickets.Merge(World::Meta("", "MergeTicket"), one.id, two.id).status()) ==
        "request_id");
  // Another tenant's ticket is not found, on either side.
  auto missing = w.tickets.Merge(World::Meta("g4", "MergeTicket"), one.id,
                                 "33333333-3333-4333-8333-333333333333");
  CHECK(crm::common::ReasonOf(missing.status()) == "TICKET_NOT_FOUND");
  CHECK(crm::common::FieldOf(missing.status()) == "target_ticket_id");
  auto foreign = w.tickets.Merge(World::Meta("g5", "MergeTicket", kOther), one.id, two.id);
  CHECK(crm::common::ReasonOf(foreign.status()) == "TICKET_NOT_FOUND");
  CHECK(w.tickets.Get(kTenant, one.id)->status == TicketStatus::kNew);
  CHECK(w.Thread(one.id).size() == 1);
  CHECK(w.Thread(two.id).size() == 1);

  // Requesters may differ: the merged requester may thread by the
  // target's number from then on.
  auto merged = w.tickets.Merge(World::Meta("g6", "MergeTicket"), two.id, one.id);
  REQUIRE(merged.ok());
  CHECK(*w.repo.IsParticipant(kTenant, one.id, "bob@example.com"));
}

TEST_CASE("a split moves chosen messages to a new ticket", "[service_desk][split]") {
  World w;
  const Ticket t = w.Create("c1", "ada@example.com", "Two questions");
  const std::string reply = w.Say(t, "m1", MessageKind::kPublicReply, "About the first");
  const std::string other = w.Say(t, "m2", MessageKind::kCustomer, "And my address changed");
  const std::string note = w.Say(t, "m3", MessageKind::kInternalNote, "address: see CRM");

  w.clock.Advance(absl::Seconds(1));
  auto split =
      w.tickets.Split(World::Meta("s1", "SplitTicket"), t.id, {other, note}, "Address change");
  INFO(split.status().ToString());
  REQUIRE(split.ok());
  CHECK(split->id != t.id);
  CHECK(split->number > t.number);
  CHECK(split->subject == "Address change");
  CHECK(split->status == TicketStatus::kOpen);
  CHECK(split->customer_id == t.customer_id);
  CHECK(split->queue == "payments");
  CHECK(split->priority == sd::domain::Priority::kHigh);
  CHECK(split->message_count == 3);  // the two and the note
  const auto moved = w.Thread(split->id);
  REQUIRE(moved.size() == 3);
  CHECK(moved[0].id == other);
  CHECK(moved[1].id == note);
  CHECK(moved[2].body.find(absl::StrCat("#", t.number)) != std::string::npos);

  auto left = w.tickets.Get(kTenant, t.id);
  REQUIRE(left.ok());
  CHECK(left->message_count == 3);             // the first, the reply, the note
  CHECK(left->status == TicketStatus::kOpen);  // a split changes no status
  CHECK(left->merged_into.empty());
  const auto stay = w.Thread(t.id);
  REQUIRE(stay.size() == 3);
  CHECK(stay[1].id == reply);
  CHECK(Has(w.Fields(t.id), "split_to"));
  CHECK(Has(w.Fields(split->id), "split_from"));
  bool created = false;
  for (const auto& e : w.repo.state().events) {
    created |= e.type == "ticket.created" && e.ticket_id == split->id;
  }
  CHECK(created);

  // A retry answers the same ticket.
  auto again =
      w.tickets.Split(World::Meta("s1", "SplitTicket"), t.id, {other, note}, "Address change");
  REQUIRE(again.ok());
  CHECK(again->id == split->id);
}

TEST_CASE("split refusals write nothing", "[service_desk][split]") {
  World w;
  const Ticket t = w.Create("c1", "ada@example.com", "One question");
  const std::string reply = w.Say(t, "m1", MessageKind::kPublicReply, "Answer");
  const Ticket elsewhere = w.Create("c2", "ada@example.com", "Another");
  const std::string first_of_elsewhere = w.Thread(elsewhere.id)[0].id;
  const auto code = [&](const std::string& key, const std::vector<std::string>& ids,
                        const std::string& subject = "") {
    return w.tickets.Split(World::Meta(key, "SplitTicket"), t.id, ids, subject).status();
  };
  CHECK(crm::common::FieldOf(code("s1", {})) == "message_ids");
  CHECK(crm::common::FieldOf(code("s2", {"x"})) == "message_ids[0]");
  CHECK(crm::common::FieldOf(code("s3", {reply, reply})) == "message_ids[1]");
  CHECK(crm::common::FieldOf(code("s4", {reply}, std::string(301, 'x'))) == "subject");
  // Every message would leave.
  CHECK(crm::common::FieldOf(code("s5", {reply, w.Thread(t.id)[0].id})) == "message_ids");
  // Another ticket's message.
  absl::Status foreign = code("s6", {first_of_elsewhere});
  CHECK(crm::common::ReasonOf(foreign) == "MESSAGE_NOT_FOUND");
  CHECK(w.Thread(elsewhere.id).size() == 1);
  CHECK(w.Thread(t.id).size() == 2);
  CHECK(w.tickets.Get(kTenant, t.id)->message_count == 2);
  CHECK(
      crm::common::ReasonOf(
          w.tickets.Split(World::Meta("s7", "SplitTicket", kOther), t.id, {reply}, "").status()) ==
      "TICKET_NOT_FOUND");
  // No ticket was opened by any of them.
  auto all = w.tickets.List(kTenant, {});
  REQUIRE(all.ok());
  CHECK(all->items.size() == 2);
}

}  // namespace

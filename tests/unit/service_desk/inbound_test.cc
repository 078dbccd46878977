// Inbound mail's use case over the in-memory storage: a mail once per
// (mailbox, identity), threading in its order, machine mail as notes,
// follow-ups of closed tickets, our replies' Message-IDs, tenants apart.
#include "services/service_desk/app/inbound.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/mailboxes.h"
#include "services/service_desk/app/tickets.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::InboundMail;
using sd::domain::MessageKind;
using sd::domain::TicketStatus;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";

struct World {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock;
  crm::common::RandomIdGenerator ids;
  sd::app::Tickets tickets{repo, directory, clock, ids};
  sd::app::Inbound inbound{repo, tickets, clock, ids};
  sd::app::Mailbox mailbox;

  World() {
    mailbox.id = "33333333-3333-4333-8333-333333333333";
    mailbox.address = "support@desk.example";
    mailbox.own = {{"support@desk.example"}, {"desk.example"}};
    repo.AddMailbox(mailbox);
  }

  static InboundMail Mail(const std::string& id, const std::string& from,
                          const std::string& subject, const std::string& text) {
    InboundMail m;
    m.message_id = id;
    m.from = {"", from};
    m.to = {{"Support", "support@desk.example"}};
    m.subject = subject;
    m.text = text;
    return m;
  }
  absl::StatusOr<sd::app::MailReceived> Receive(const InboundMail& m,
                                                const std::string& tenant = kTenant) {
    return inbound.Receive(tenant, "mailbox:support", mailbox, m);
  }
  absl::StatusOr<sd::app::MessageAdded> Reply(const std::string& ticket_id,
                                              const std::string& key) {
    return tickets.AddMessage(
        sd::app::Actor{kTenant, "agent-ann", "req", "AddTicketMessage", key, "fp-" + key},
        ticket_id, MessageKind::kPublicReply, "Thanks, we are on it.");
  }
  absl::Status SetStatus(const std::string& ticket_id, TicketStatus s, const std::string& key) {
    sd::domain::Ticket patch;
    patch.status = s;
    return tickets
        .Update(sd::app::Actor{kTenant, "agent-ann", "req", "UpdateTicket", key, "fp-" + key},
                ticket_id, patch, {"status"}, "")
        .status();
  }
};

TEST_CASE("A new mail opens a ticket for its sender, once per Message-ID", "[inbound]") {
  World w;
  InboundMail m =
      World::Mail("a1@example.com", "ada@example.com", "Card charged twice", "I see two charges.");
  m.cc = {{"", "bob@example.com"}, {"", "support@desk.example"}};
  absl::StatusOr<sd::app::MailReceived> r = w.Receive(m);
  REQUIRE(r.ok());
  CHECK(r->created);
  CHECK(r->rule == "new");
  CHECK(r->machine.empty());
  CHECK(r->ticket.subject == "Card charged twice");
  CHECK(r->ticket.channel == sd::domain::Channel::kEmail);
  CHECK(r->ticket.requester_email == "ada@example.com");
  CHECK(r->message.mail_id == "a1@example.com");
  CHECK(r->message.body == "I see two charges.");
  CHECK_FALSE(r->duplicate);
  CHECK(w.directory.calls == 1);

  // The same mail again, through another relay: answered, nothing written.
  InboundMail copy = m;
  copy.headers["return-path"] = "<relay@example.net>";
  absl::StatusOr<sd::app::MailReceived> again = w.Receive(copy);
  REQUIRE(again.ok());
  CHECK(again->duplicate);
  CHECK(again->ticket.id == r->ticket.id);
  CHECK(w.repo.state().tickets.at(kTenant).size() == 1);
  CHECK(w.repo.state().messages.at(r->ticket.id).size() == 1);
  CHECK(w.directory.calls == 1);
  // Participants: the sender and the Cc, not our own address.
  CHECK(w.repo.IsParticipant(kTenant, r->ticket.id, "bob@example.com").value());
  CHECK_FALSE(w.repo.IsParticipant(kTenant, r->ticket.id, "support@desk.example").value());

  // A copy after the mail's key expired (a sender retrying for days): the
  // mailbox's record of the mail answers it, nothing is written.
  w.repo.ForgetKeys();
  absl::StatusOr<sd::app::MailReceived> late = w.Receive(copy);
  REQUIRE(late.ok());
  CHECK(late->duplicate);
  CHECK(late->rule == "received");
  CHECK(late->ticket.id == r->ticket.id);
  CHECK(late->message.id == r->message.id);
  CHECK(w.repo.state().messages.at(r->ticket.id).size() == 1);
  CHECK(w.Receive(copy)->duplicate);  // and again (the refusal kept with the key)

  // Without a Message-ID, identical copies are one mail too.
  InboundMail bare = World::Mail("", "cy@example.com", "No id", "Hello");
  REQUIRE(w.Receive(bare).ok());
  CHECK(w.Receive(bare)->duplicate);
  CHECK(w.repo.state().tickets.at(kTenant).size() == 2);
}

TEST_CASE("Threading: our reply's id, References, the hidden reference, the number", "[inbound]") {
  World w;
  absl::StatusOr<sd::app::MailReceived> first =
      w.Receive(World::Mail("q1@example.com", "ada@example.com", "Refund", "Where is it?"));
  REQUIRE(first.ok());
  const std::string ticket = first->ticket.id;
  absl::StatusOr<sd::app::MessageAdded> reply = w.Reply(ticket, "reply-1");
  REQUIRE(reply.ok());
  CHECK(reply->message.mail_id == reply->message.id + "@desk.example");

  InboundMail by_reply = World::Mail("q2@example.com", "ada@example.com", "Re: Refund", "Ok");
  by_reply.in_reply_to = {reply->message.mail_id};
  absl::StatusOr<sd::app::MailReceived> r = w.Receive(by_reply);
  REQUIRE(r.ok());
  CHECK(r->ticket.id == ticket);
  CHECK(r->rule == "in_reply_to");
  CHECK_FALSE(r->created);
  CHECK(r->message.kind == MessageKind::kCustomer);

  InboundMail by_refs = World::Mail("q3@example.com", "ada@example.com", "Re: Refund", "More");
  by_refs.in_reply_to = {"unknown@elsewhere.example"};
  by_refs.references = {"q1@example.com", "unknown@elsewhere.example"};
  r = w.Receive(by_refs);
  REQUIRE(r.ok());
  CHECK(r->ticket.id == ticket);
  CHECK(r->rule == "references");

  InboundMail by_token = World::Mail("q4@example.com", "zed@example.org", "Fw: refund",
                                     "see below\n> " + sd::domain::TicketReference(ticket));
  r = w.Receive(by_token);
  REQUIRE(r.ok());
  CHECK(r->ticket.id == ticket);
  CHECK(r->rule == "reference");

  // The subject's number: from a participant only.
  const std::string numbered = sd::domain::SubjectWithNumber("Refund", first->ticket.number);
  r = w.Receive(World::Mail("q5@example.com", "ada@example.com", numbered, "Any news?"));
  REQUIRE(r.ok());
  CHECK(r->ticket.id == ticket);
  CHECK(r->rule == "subject_number");
  r = w.Receive(World::Mail("q6@example.com", "stranger@example.net", numbered, "Hijack"));
  REQUIRE(r.ok());
  CHECK(r->ticket.id != ticket);
  CHECK(r->created);

  // Ids a mail only refers to are not learnt: two people answering one
  // newsletter get a ticket each.
  InboundMail n1 = World::Mail("n1@example.com", "p1@example.com", "Re: News", "Question 1");
  n1.in_reply_to = {"newsletter-1@news.desk.example"};
  InboundMail n2 = World::Mail("n2@example.com", "p2@example.com", "Re: News", "Question 2");
  n2.in_reply_to = {"newsletter-1@news.desk.example"};
  absl::StatusOr<sd::app::MailReceived> a = w.Receive(n1);
  absl::StatusOr<sd::app::MailReceived> b = w.Receive(n2);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->ticket.id != b->ticket.id);
}

TEST_CASE("Same sender and subject join within the mailbox's window, when set", "[inbound]") {
  World w;
  absl::StatusOr<sd::app::MailReceived> first =
      w.Receive(World::Mail("s1@example.com", "ada@example.com", "Login broken", "It fails"));
  REQUIRE(first.ok());
  InboundMail again = World::Mail("s2@example.com", "ada@example.com", "RE: login  broken", "x");
  CHECK(w.Receive(again)->ticket.id != first->ticket.id);  // off by default

  w.mailbox.same_subject_window = absl::Hours(1);
  again.message_id = "s3@example.com";
  absl::StatusOr<sd::app::MailReceived> r = w.Receive(again);
  REQUIRE(r.ok());
  CHECK(r->rule == "same_subject");
  w.clock.Advance(absl::Hours(2));
  again.message_id = "s4@example.com";
  CHECK(w.Receive(again)->rule == "new");
}

TEST_CASE("Machine mail on a ticket is a note and a bounce finds our reply", "[inbound]") {
  World w;
  absl::StatusOr<sd::app::MailReceived> first =
      w.Receive(World::Mail("m1@example.com", "ada@example.com", "Help", "Please help"));
  REQUIRE(first.ok());
  const std::string ticket = first->ticket.id;
  absl::StatusOr<sd::app::MessageAdded> reply = w.Reply(ticket, "reply-m");
  REQUIRE(reply.ok());
  REQUIRE(w.SetStatus(ticket, TicketStatus::kPendingCustomer, "pend").ok());

  InboundMail oof = World::Mail("oof@example.com", "ada@example.com", "Automatic reply: Help",
                                "I am out of office.");
  oof.in_reply_to = {reply->message.mail_id};
  oof.headers["auto-submitted"] = "auto-replied";
  absl::StatusOr<sd::app::MailReceived> r = w.Receive(oof);
  REQUIRE(r.ok());
  CHECK(r->ticket.id == ticket);
  CHECK(r->machine == "auto_submitted");
  CHECK(r->message.kind == MessageKind::kInternalNote);
  CHECK(r->message.author == "mail:ada@example.com");
  CHECK(r->ticket.status == TicketStatus::kPendingCustomer);  // not reopened

  // Our own reply coming back (a reflected copy: same Message-ID, from our
  // address) is received as the desk's own mail, a note.
  InboundMail echo = World::Mail(reply->message.mail_id, "support@desk.example", "Re: Help",
                                 "Thanks, we are on it.");
  echo.in_reply_to = {"m1@example.com"};  // as our reply said
  r = w.Receive(echo);
  REQUIRE(r.ok());
  CHECK_FALSE(r->duplicate);
  CHECK(r->machine == "own_address");
  CHECK(r->message.kind == MessageKind::kInternalNote);
  CHECK(r->ticket.id == ticket);

  InboundMail dsn = World::Mail("dsn@mx.example.net", "mailer-daemon@mx.example.net",
                                "Undelivered Mail", "could not be delivered");
  dsn.delivery_report = true;
  dsn.reported_ids = {reply->message.mail_id};
  r = w.Receive(dsn);
  REQUIRE(r.ok());
  CHECK(r->ticket.id == ticket);
  CHECK(r->rule == "reported");
  CHECK(r->machine == "delivery_report");
}

TEST_CASE("Replies to solved tickets reopen within the window, else follow up", "[inbound]") {
  World w;
  absl::StatusOr<sd::app::MailReceived> first =
      w.Receive(World::Mail("f1@example.com", "ada@example.com", "Invoice", "Wrong amount"));
  REQUIRE(first.ok());
  const std::string ticket = first->ticket.id;
  REQUIRE(w.SetStatus(ticket, TicketStatus::kSolved, "solve-1").ok());
  InboundMail back = World::Mail("f2@example.com", "ada@example.com", "Re: Invoice", "Still");
  back.references = {"f1@example.com"};
  absl::StatusOr<sd::app::MailReceived> r = w.Receive(back);
  REQUIRE(r.ok());
  CHECK(r->ticket.id == ticket);
  CHECK(r->ticket.status == TicketStatus::kOpen);  // reopened

  REQUIRE(w.SetStatus(ticket, TicketStatus::kSolved, "solve-2").ok());
  w.clock.Advance(w.mailbox.reopen_window + absl::Seconds(1));
  back.message_id = "f3@example.com";
  r = w.Receive(back);
  REQUIRE(r.ok());
  CHECK(r->created);
  CHECK(r->rule == "follow_up");
  CHECK(r->ticket.follow_up_of == ticket);

  REQUIRE(w.SetStatus(ticket, TicketStatus::kClosed, "close").ok());
  w.clock.Set(w.clock.Now() - w.mailbox.reopen_window);  // recent, but closed
  back.message_id = "f4@example.com";
  r = w.Receive(back);
  REQUIRE(r.ok());
  CHECK(r->rule == "follow_up");
  CHECK(r->ticket.follow_up_of == ticket);
}

TEST_CASE("Tenants never thread into each other and a mail without sender is refused",
          "[inbound]") {
  World w;
  absl::StatusOr<sd::app::MailReceived> mine =
      w.Receive(World::Mail("t1@example.com", "ada@example.com", "Mine", "A"));
  REQUIRE(mine.ok());
  InboundMail theirs = World::Mail("t2@example.com", "ada@example.com", "Re: Mine",
                                   "B " + sd::domain::TicketReference(mine->ticket.id));
  theirs.in_reply_to = {"t1@example.com"};
  theirs.subject = sd::domain::SubjectWithNumber("Mine", mine->ticket.number);
  absl::StatusOr<sd::app::MailReceived> r = w.Receive(theirs, kOther);
  REQUIRE(r.ok());
  CHECK(r->created);
  CHECK(r->ticket.id != mine->ticket.id);
  // The same Message-ID in another tenant is another mail.
  CHECK_FALSE(
      w.Receive(World::Mail("t1@example.com", "ada@example.com", "Mine", "A"), kOther)->duplicate);

  InboundMail nobody = World::Mail("x@example.com", "", "Hi", "text");
  CHECK(crm::common::FieldOf(w.Receive(nobody).status()) == "from");
}

TEST_CASE("Mailboxes: checked fields, one mailbox per address across tenants, updates",
          "[inbound]") {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FixedClock clock;
  crm::common::RandomIdGenerator ids;
  sd::app::Mailboxes mailboxes{repo, clock, ids};
  auto meta = [](const std::string& key, const std::string& tenant = kTenant,
                 const std::string& method = "CreateMailbox") {
    return sd::app::Actor{tenant, "admin", "req", method, key, "fp-" + key};
  };
  sd::app::Mailbox m;
  m.address = "  Support@Desk.Example ";
  m.own.domains = {"Desk.Example", "mail.desk.example"};
  absl::StatusOr<sd::app::Mailbox> made = mailboxes.Create(meta("mb-1"), m);
  REQUIRE(made.ok());
  CHECK(made->address == "support@desk.example");
  CHECK(made->own.addresses == std::vector<std::string>{"support@desk.example"});
  CHECK(made->own.domains == std::vector<std::string>{"desk.example", "mail.desk.example"});
  CHECK(made->reopen_window == absl::Hours(24 * 14));  // the default
  CHECK(made->version == 1);
  CHECK(mailboxes.Get(kTenant, made->id)->address == "support@desk.example");
  CHECK(mailboxes.Get(kOther, made->id).status().code() == absl::StatusCode::kNotFound);
  CHECK(crm::common::ReasonOf(mailboxes.Get(kOther, made->id).status()) == "MAILBOX_NOT_FOUND");
  CHECK(crm::common::FieldOf(mailboxes.Get(kTenant, "nope").status()) == "mailbox_id");
  CHECK(mailboxes.List(kOther)->empty());

  // The address is taken for every tenant.
  absl::StatusOr<sd::app::Mailbox> twice = mailboxes.Create(meta("mb-2", kOther), m);
  CHECK(twice.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(crm::common::ReasonOf(twice.status()) == "MAILBOX_ADDRESS_TAKEN");
  CHECK(crm::common::FieldOf(twice.status()) == "mailbox.address");

  // Bad fields are named.
  sd::app::Mailbox bad;
  bad.address = "no-at-sign";
  CHECK(crm::common::FieldOf(mailboxes.Create(meta("mb-3"), bad).status()) == "mailbox.address");
  bad.address = "a b@desk.example";
  CHECK(crm::common::FieldOf(mailboxes.Create(meta("mb-4"), bad).status()) == "mailbox.address");
  bad.address = "ok@desk.example";
  bad.own.domains = {"fine.example", "not a domain"};
  CHECK(crm::common::FieldOf(mailboxes.Create(meta("mb-5"), bad).status()) ==
        "mailbox.own_domains[1]");
  bad.own.domains = {};
  bad.same_subject_window = absl::Hours(24 * 31);
  CHECK(crm::common::FieldOf(mailboxes.Create(meta("mb-6"), bad).status()) ==
        "mailbox.same_subject_window_seconds");

  // Updates: the windows and domains under the etag; the address is fixed.
  sd::app::Mailbox patch;
  patch.same_subject_window = absl::Hours(2);
  absl::StatusOr<sd::app::Mailbox> changed =
      mailboxes.Update(meta("mb-7", kTenant, "UpdateMailbox"), made->id, patch,
                       {"same_subject_window_seconds"}, "1");
  REQUIRE(changed.ok());
  CHECK(changed->same_subject_window == absl::Hours(2));
  CHECK(changed->own.domains == made->own.domains);
  CHECK(changed->version == 2);
  CHECK(crm::common::ReasonOf(mailboxes
                                  .Update(meta("mb-8", kTenant, "UpdateMailbox"), made->id, patch,
                                          {"same_subject_window_seconds"}, "1")
                                  .status()) == "ETAG_MISMATCH");
  CHECK(
      crm::common::FieldOf(
          mailboxes.Update(meta("mb-9", kTenant, "UpdateMailbox"), made->id, patch, {"address"}, "")
              .status()) == "update_mask");
  CHECK(mailboxes
            .Update(meta("mb-10", kOther, "UpdateMailbox"), made->id, patch,
                    {"same_subject_window_seconds"}, "")
            .status()
            .code() == absl::StatusCode::kNotFound);
}

}  // namespace

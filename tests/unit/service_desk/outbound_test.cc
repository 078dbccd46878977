// Outbound mail of the desk: the pure rules (subjects, bodies, References,
// auto-reply templates and verdicts) and the use cases over the in-memory
// storage (a public reply of a mail ticket goes out threaded; auto-replies
// once per sender per 24 h, never to machine mail; a burst quarantines its
// sender; two desks answering each other stop).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/inbound.h"
#include "services/service_desk/app/tickets.h"
#include "services/service_desk/domain/outbound_mail.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::AutoReplyVerdict;
using sd::domain::InboundMail;
using sd::domain::MessageKind;
using sd::domain::OutboundKind;
using sd::domain::OutboundMail;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";
constexpr char kTicket[] = "44444444-4444-4444-8444-444444444444";

struct World {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock;
  crm::common::RandomIdGenerator ids;
  sd::app::Tickets tickets{repo, directory, clock, ids};
  sd::app::Inbound inbound{repo, tickets, clock, ids};
  sd::app::Mailbox mailbox;

  explicit World(bool auto_reply = true) {
    mailbox.id = "33333333-3333-4333-8333-333333333333";
    mailbox.address = "support@desk.example";
    mailbox.name = "Example Support";
    mailbox.own = {{"support@desk.example"}, {"desk.example"}};
    mailbox.auto_reply = auto_reply;
    repo.AddMailbox(mailbox);
  }
  static InboundMail Mail(const std::string& id, const std::string& from,
                          const std::string& subject) {
    InboundMail m;
    m.message_id = id;
    m.from = {"Ada Lovelace", from};
    m.to = {{"Support", "support@desk.example"}};
    m.subject = subject;
    m.text = "Please help.";
    return m;
  }
  absl::StatusOr<sd::app::MailReceived> Receive(const InboundMail& m,
                                                const std::string& tenant = kTenant) {
    return inbound.Receive(tenant, "mailbox:support", mailbox, m);
  }
  std::vector<OutboundMail> Sent(OutboundKind kind, const std::string& tenant = kTenant) const {
    std::vector<OutboundMail> out;
    for (const OutboundMail& m : repo.Outbound(tenant)) {
      if (m.kind == kind) out.push_back(m);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("Reply subjects, bodies and References", "[outbound]") {
  CHECK(sd::domain::ReplySubject("Card charged twice", 12) == "Re: Card charged twice [#12]");
  CHECK(sd::domain::ReplySubject("RE: Card charged twice [#12]", 12) ==
        "RE: Card charged twice [#12]");
  CHECK(sd::domain::ReplySubject("", 3) == "Re: [#3]");
  const std::string body = sd::domain::OutgoingBody("Hello.\n\n", kTicket);
  CHECK(body == std::string("Hello.\n\n[ref:") + kTicket + "]\n");
  CHECK(sd::domain::FindTicketReference(body) == std::optional<std::string>(kTicket));

  CHECK(sd::domain::ReferableMessageId("a1@example.com"));
  CHECK_FALSE(sd::domain::ReferableMessageId("abc@derived.invalid"));
  CHECK_FALSE(sd::domain::ReferableMessageId("a b@example.com"));
  CHECK_FALSE(sd::domain::ReferableMessageId(""));
  std::vector<std::string> thread = {"x@derived.invalid", "a@x", "b@x", "a@x"};
  CHECK(sd::domain::ReferencesOf(thread) == std::vector<std::string>{"a@x", "b@x"});
  std::vector<std::string> many;
  for (int i = 0; i < 30; ++i) many.push_back("m" + std::to_string(i) + "@x");
  std::vector<std::string> refs = sd::domain::ReferencesOf(many);
  REQUIRE(refs.size() == sd::domain::kMaxReferences);
  CHECK(refs.front() == "m10@x");
  CHECK(refs.back() == "m29@x");
}

TEST_CASE("Auto-reply templates: the four fields, nothing else", "[outbound]") {
  CHECK(sd::domain::CheckAutoReplyTemplate("auto_reply.body", sd::domain::kDefaultAutoReplyBody,
                                           sd::domain::kMaxAutoReplyBody, false)
            .ok());
  absl::Status unknown = sd::domain::CheckAutoReplyTemplate(
      "auto_reply.body", "Hi {{customer.name}}", sd::domain::kMaxAutoReplyBody, false);
  CHECK(unknown.code() == absl::StatusCode::kInvalidArgument);
  CHECK(crm::common::FieldOf(unknown) == "auto_reply.body");
  CHECK(sd::domain::CheckAutoReplyTemplate("auto_reply.subject", "a\nb", 500, true).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(sd::domain::CheckAutoReplyTemplate("auto_reply.subject", std::string(501, 'x'), 500, true)
            .code() == absl::StatusCode::kInvalidArgument);
  sd::domain::AutoReplyFields f{12, "Card", "Ada", "support@desk.example"};
  CHECK(sd::domain::FillAutoReply("#{{ticket.number}} {{ticket.subject}} for {{requester.name}} "
                                  "via {{mailbox.address}} {{",
                                  f) == "#12 Card for Ada via support@desk.example {{");

  using F = sd::domain::AutoReplyFacts;
  CHECK(sd::domain::DecideAutoReply(F{false, true, false, false}) == AutoReplyVerdict::kOff);
  CHECK(sd::domain::DecideAutoReply(F{true, false, false, false}) ==
        AutoReplyVerdict::kNotNewTicket);
  CHECK(sd::domain::DecideAutoReply(F{true, true, true, false}) == AutoReplyVerdict::kMachine);
  CHECK(sd::domain::DecideAutoReply(F{true, false, true, false}) == AutoReplyVerdict::kMachine);
  CHECK(sd::domain::DecideAutoReply(F{true, true, false, true}) == AutoReplyVerdict::kQuarantined);
  CHECK(sd::domain::DecideAutoReply(F{true, true, false, false}) == AutoReplyVerdict::kSent);
  CHECK_FALSE(sd::domain::StartsQuarantine(14));
  CHECK(sd::domain::StartsQuarantine(15));  // the 16th mail in the window
}

TEST_CASE("A mailbox's auto-reply and name are checked", "[outbound]") {
  sd::domain::Mailbox m;
  m.address = "support@desk.example";
  m.name = "  Example Support ";
  REQUIRE(sd::domain::NormalizeAndValidate(m).ok());
  CHECK(m.name == "Example Support");
  m.auto_reply_body = "Dear {{requester.nam}}";
  absl::Status bad = sd::domain::NormalizeAndValidate(m);
  CHECK(crm::common::FieldOf(bad) == "auto_reply.body");
  m.auto_reply_body = "";
  m.name = "{{ticket.number}}";
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(m)) == "name");
}

TEST_CASE("A person's mail that opens a ticket gets one auto-reply per 24 hours", "[outbound]") {
  World w;
  InboundMail first = World::Mail("a1@example.com", "ada@example.com", "Card charged twice");
  first.references = {"older@example.com"};
  absl::StatusOr<sd::app::MailReceived> r = w.Receive(first);
  REQUIRE(r.ok());
  CHECK(r->auto_reply == "sent");
  std::vector<OutboundMail> sent = w.Sent(OutboundKind::kAutoReply);
  REQUIRE(sent.size() == 1);
  const OutboundMail& a = sent[0];
  CHECK(a.ticket_id == r->ticket.id);
  CHECK(a.to_addr == "ada@example.com");
  CHECK(a.to_name == "Ada Lovelace");
  CHECK(a.from_addr == "support@desk.example");
  CHECK(a.from_name == "Example Support");
  CHECK(a.subject == "Card charged twice [#" + std::to_string(r->ticket.number) + "]");
  CHECK(a.body.find("Hello Ada Lovelace,") == 0);
  CHECK(sd::domain::FindTicketReference(a.body) == std::optional<std::string>(r->ticket.id));
  CHECK(a.in_reply_to == "a1@example.com");
  CHECK(a.references == std::vector<std::string>{"older@example.com", "a1@example.com"});
  CHECK(a.message_id == sd::domain::OutgoingMessageId(a.id, "support@desk.example"));
  // Its Message-ID threads an answer to it onto the ticket.
  InboundMail answer = World::Mail("a2@example.com", "ada@example.com", "Re: Card charged twice");
  answer.in_reply_to = {a.message_id};
  absl::StatusOr<sd::app::MailReceived> joined = w.Receive(answer);
  REQUIRE(joined.ok());
  CHECK(joined->ticket.id == r->ticket.id);
  CHECK(joined->rule == "in_reply_to");
  CHECK(joined->auto_reply == "not_new_ticket");

  // A new matter from the same sender the same day: a ticket, no answer.
  absl::StatusOr<sd::app::MailReceived> second =
      w.Receive(World::Mail("b1@example.com", "ada@example.com", "Another thing"));
  REQUIRE(second.ok());
  CHECK(second->created);
  CHECK(second->auto_reply == "answered_recently");
  // A day later: answered again.
  w.clock.Advance(absl::Hours(24) + absl::Seconds(1));
  absl::StatusOr<sd::app::MailReceived> third =
      w.Receive(World::Mail("c1@example.com", "ada@example.com", "A third thing"));
  REQUIRE(third.ok());
  CHECK(third->auto_reply == "sent");
  CHECK(w.Sent(OutboundKind::kAutoReply).size() == 2);
  // A copy is answered what the first got; nothing more is sent.
  absl::StatusOr<sd::app::MailReceived> copy =
      w.Receive(World::Mail("c1@example.com", "ada@example.com", "A third thing"));
  REQUIRE(copy.ok());
  CHECK(copy->duplicate);
  CHECK(copy->auto_reply == "sent");
  CHECK(w.Sent(OutboundKind::kAutoReply).size() == 2);
  // Other tenants see none of it.
  CHECK(w.Sent(OutboundKind::kAutoReply, kOther).empty());
  CHECK(w.repo.GetOutboundMail(kOther, a.ticket_id, a.id).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(w.repo.GetOutboundMail(kTenant, a.ticket_id, a.id).ok());
}

TEST_CASE("Machine mail and mail to our own addresses get no auto-reply", "[outbound]") {
  World w;
  InboundMail ooo = World::Mail("o1@example.com", "bob@example.com", "Out of office");
  ooo.headers["auto-submitted"] = "auto-replied";
  absl::StatusOr<sd::app::MailReceived> r = w.Receive(ooo);
  REQUIRE(r.ok());
  CHECK(r->created);
  CHECK(r->machine == "auto_submitted");
  CHECK(r->auto_reply == "machine");
  InboundMail list = World::Mail("l1@example.com", "news@example.org", "Weekly news");
  list.headers["list-id"] = "<news.example.org>";
  REQUIRE(w.Receive(list)->auto_reply == "machine");
  // A person whose Reply-To is our own address: an answer would be ours.
  InboundMail odd = World::Mail("p1@example.com", "carl@example.com", "Question");
  odd.reply_to = {{"", "support@desk.example"}};
  REQUIRE(w.Receive(odd)->auto_reply == "machine");
  CHECK(w.Sent(OutboundKind::kAutoReply).empty());

  World off(false);
  REQUIRE(off.Receive(World::Mail("q1@example.com", "ada@example.com", "Hi"))->auto_reply == "off");
  CHECK(off.Sent(OutboundKind::kAutoReply).empty());
}

TEST_CASE("A burst of one sender's mail quarantines the sender for an hour", "[outbound]") {
  World w;
  std::string first_ticket;
  for (int i = 0; i < 16; ++i) {
    absl::StatusOr<sd::app::MailReceived> r = w.Receive(World::Mail(
        "burst" + std::to_string(i) + "@loop.example", "bot@loop.example", "Your request"));
    REQUIRE(r.ok());
    if (i == 0) first_ticket = r->ticket.id;
    CHECK(r->quarantined == (i == 15));
  }
  const size_t tickets = w.repo.state().tickets.at(kTenant).size();
  CHECK(tickets == 16);  // each mail opened one until the burst was seen
  // From now on: kept as notes of the sender's latest ticket, no new
  // ticket, no answer, whatever the subject.
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<sd::app::MailReceived> r =
        w.Receive(World::Mail("more" + std::to_string(i) + "@loop.example", "bot@loop.example",
                              "Other " + std::to_string(i)));
    REQUIRE(r.ok());
    CHECK(r->quarantined);
    CHECK_FALSE(r->created);
    CHECK(r->rule == "quarantine");
    CHECK(r->message.kind == MessageKind::kInternalNote);
    CHECK(r->auto_reply == "not_new_ticket");
  }
  CHECK(w.repo.state().tickets.at(kTenant).size() == tickets);
  CHECK(w.Sent(OutboundKind::kAutoReply).size() == 1);  // the first mail's only
  // Others are not affected; after the hour the sender is heard again.
  REQUIRE(w.Receive(World::Mail("x1@example.com", "eve@example.com", "Hello"))->auto_reply ==
          "sent");
  w.clock.Advance(absl::Hours(1) + absl::Seconds(1));
  absl::StatusOr<sd::app::MailReceived> later =
      w.Receive(World::Mail("after@loop.example", "bot@loop.example", "Fresh"));
  REQUIRE(later.ok());
  CHECK_FALSE(later->quarantined);
  CHECK(later->created);
}

TEST_CASE("Two desks auto-replying to each other stop within two messages", "[outbound]") {
  // Desk A and desk B, each answering every new ticket, in two tenants;
  // each desk's mail is handed to the other as it would arrive by SMTP.
  World a;
  sd::app::Mailbox b_box;
  b_box.id = "55555555-5555-4555-8555-555555555555";
  b_box.address = "help@other.example";
  b_box.own = {{"help@other.example"}, {}};
  b_box.auto_reply = true;
  a.repo.AddMailbox(b_box);
  auto as_mail = [](const OutboundMail& m) {
    InboundMail in;
    in.message_id = m.message_id;
    in.from = {m.from_name, m.from_addr};
    in.to = {{"", m.to_addr}};
    in.subject = m.subject;
    in.text = m.body;
    in.in_reply_to = {m.in_reply_to};
    in.references = m.references;
    in.headers["auto-submitted"] = "auto-replied";
    in.headers["x-auto-response-suppress"] = "All";
    in.headers["return-path"] = "<>";
    return in;
  };
  // Someone at B's address writes to A (a forwarding rule, a misdirected
  // notification): A answers B, and the desks hand each other what they send.
  REQUIRE(a.Receive(World::Mail("s1@other.example", "help@other.example", "Status"))->auto_reply ==
          "sent");
  size_t a_done = 0, b_done = 0;
  int exchanged = 0;
  for (int round = 0; round < 10; ++round) {
    std::vector<OutboundMail> from_a = a.Sent(OutboundKind::kAutoReply, kTenant);
    std::vector<OutboundMail> from_b = a.Sent(OutboundKind::kAutoReply, kOther);
    if (from_a.size() == a_done && from_b.size() == b_done) break;
    for (size_t i = a_done; i < from_a.size(); ++i, ++exchanged) {
      REQUIRE(a.inbound.Receive(kOther, "mailbox:help", b_box, as_mail(from_a[i])).ok());
    }
    a_done = from_a.size();
    for (size_t i = b_done; i < from_b.size(); ++i, ++exchanged) {
      REQUIRE(a.Receive(as_mail(from_b[i])).ok());
    }
    b_done = from_b.size();
  }
  CHECK(exchanged <= 2);
  CHECK(a.Sent(OutboundKind::kAutoReply, kTenant).size() == 1);
  CHECK(a.Sent(OutboundKind::kAutoReply, kOther).empty());

  // Against a naive responder that answers everything with a fresh mail,
  // no headers and a new subject: our desk answers it once a day.
  World c;
  int ours = 0;
  InboundMail next = World::Mail("n0@naive.example", "robot@naive.example", "Hello");
  for (int i = 1; i <= 10; ++i) {
    absl::StatusOr<sd::app::MailReceived> r = c.Receive(next);
    REQUIRE(r.ok());
    if (r->auto_reply != "sent") break;
    ++ours;
    next = World::Mail("n" + std::to_string(i) + "@naive.example", "robot@naive.example",
                       "Thanks for your mail " + std::to_string(i));
  }
  CHECK(ours == 1);
}

TEST_CASE("A public reply of a mail ticket goes out threaded, an API ticket's does not",
          "[outbound]") {
  World w(false);
  InboundMail first = World::Mail("a1@example.com", "ada@example.com", "Card charged twice");
  first.reply_to = {{"Ada", "ada.private@example.com"}};
  absl::StatusOr<sd::app::MailReceived> r = w.Receive(first);
  REQUIRE(r.ok());
  InboundMail more = World::Mail("a2@example.com", "ada@example.com", "Re: Card charged twice");
  more.in_reply_to = {"a1@example.com"};
  REQUIRE(w.Receive(more).ok());
  // An out-of-office of a colleague on the thread: a note, never answered.
  InboundMail ooo = World::Mail("o1@example.com", "bob@example.com", "Automatic reply");
  ooo.in_reply_to = {"a2@example.com"};
  ooo.headers["auto-submitted"] = "auto-replied";
  REQUIRE(w.Receive(ooo)->message.kind == MessageKind::kInternalNote);

  absl::StatusOr<sd::app::MessageAdded> reply = w.tickets.AddMessage(
      sd::app::Actor{kTenant, "agent-ann", "req", "AddTicketMessage", "k1", "fp-k1"}, r->ticket.id,
      MessageKind::kPublicReply, "We refunded the second charge.");
  REQUIRE(reply.ok());
  std::vector<OutboundMail> sent = w.Sent(OutboundKind::kReply);
  REQUIRE(sent.size() == 1);
  const OutboundMail& m = sent[0];
  CHECK(m.ticket_message_id == reply->message.id);
  CHECK(m.message_id == reply->message.mail_id);
  CHECK(m.to_addr == "ada@example.com");  // the last person to write (a2: no Reply-To)
  CHECK(m.subject == "Re: Card charged twice [#" + std::to_string(r->ticket.number) + "]");
  CHECK(m.body == std::string("We refunded the second charge.\n\n[ref:") + r->ticket.id + "]\n");
  CHECK(m.in_reply_to == "a2@example.com");
  CHECK(m.references ==
        std::vector<std::string>{"a1@example.com", "a2@example.com", "o1@example.com"});
  // An internal note sends nothing; the same request again sends nothing.
  REQUIRE(w.tickets
              .AddMessage(
                  sd::app::Actor{kTenant, "agent-ann", "req", "AddTicketMessage", "k2", "fp-k2"},
                  r->ticket.id, MessageKind::kInternalNote, "Refund id 123")
              .ok());
  REQUIRE(w.tickets
              .AddMessage(
                  sd::app::Actor{kTenant, "agent-ann", "req", "AddTicketMessage", "k1", "fp-k1"},
                  r->ticket.id, MessageKind::kPublicReply, "We refunded the second charge.")
              .ok());
  CHECK(w.Sent(OutboundKind::kReply).size() == 1);

  // A ticket opened through the API has no mailbox: its replies stay here.
  sd::app::NewTicket n;
  n.ticket.subject = "Phone call";
  n.ticket.channel = sd::domain::Channel::kPhone;
  n.requester.email = "ada@example.com";
  n.description = "Called about the card.";
  absl::StatusOr<sd::domain::Ticket> api = w.tickets.Create(
      sd::app::Actor{kTenant, "agent-ann", "req", "CreateTicket", "k3", "fp-k3"}, n);
  REQUIRE(api.ok());
  REQUIRE(w.tickets
              .AddMessage(
                  sd::app::Actor{kTenant, "agent-ann", "req", "AddTicketMessage", "k4", "fp-k4"},
                  api->id, MessageKind::kPublicReply, "Done.")
              .ok());
  CHECK(w.Sent(OutboundKind::kReply).size() == 1);
}

TEST_CASE("A mailed reply carries its files, 20 MiB of them at most", "[outbound]") {
  World w(false);
  absl::StatusOr<sd::app::MailReceived> r =
      w.Receive(World::Mail("f1@example.com", "ada@example.com", "Invoice please"));
  REQUIRE(r.ok());
  const auto actor = [](const std::string& key, const std::string& method) {
    return sd::app::Actor{kTenant, "agent-ann", "req", method, key, "fp-" + key};
  };
  sd::domain::Attachment a;
  a.filename = "invoice.pdf";
  a.content_type = "application/pdf";
  auto pdf = w.tickets.Upload(actor("u1", "UploadAttachment"), r->ticket.id, a, "%PDF-1.4\n");
  REQUIRE(pdf.ok());
  w.clock.Advance(absl::Seconds(1));  // the files go in upload order
  a.filename = "terms.txt";
  a.content_type = "text/plain";
  auto terms = w.tickets.Upload(actor("u2", "UploadAttachment"), r->ticket.id, a, "Terms");
  REQUIRE(terms.ok());
  absl::StatusOr<sd::app::MessageAdded> reply =
      w.tickets.AddMessage(actor("k1", "AddTicketMessage"), r->ticket.id, MessageKind::kPublicReply,
                           "Here it is.", {pdf->id, terms->id});
  REQUIRE(reply.ok());
  std::vector<OutboundMail> sent = w.Sent(OutboundKind::kReply);
  REQUIRE(sent.size() == 1);
  absl::StatusOr<OutboundMail> read = w.repo.GetOutboundMail(kTenant, r->ticket.id, sent[0].id);
  REQUIRE(read.ok());
  REQUIRE(read->files.size() == 2);
  CHECK(read->files[0].attachment.filename == "invoice.pdf");
  CHECK(read->files[0].content == "%PDF-1.4\n");
  CHECK(read->files[1].content == "Terms");

  // Over 20 MiB together: refused, nothing written, the uploads still free.
  std::vector<std::string> big;
  for (int i = 0; i < 3; ++i) {
    a.filename = "scan-" + std::to_string(i) + ".png";
    a.content_type = "image/png";
    auto up = w.tickets.Upload(actor("b" + std::to_string(i), "UploadAttachment"), r->ticket.id, a,
                               std::string(8 << 20, static_cast<char>('a' + i)));
    REQUIRE(up.ok());
    big.push_back(up->id);
  }
  absl::StatusOr<sd::app::MessageAdded> over = w.tickets.AddMessage(
      actor("k2", "AddTicketMessage"), r->ticket.id, MessageKind::kPublicReply, "Scans", big);
  CHECK(crm::common::ReasonOf(over.status()) == "ATTACHMENT_TOO_LARGE");
  CHECK(crm::common::FieldOf(over.status()) == "attachment_ids");
  CHECK(w.Sent(OutboundKind::kReply).size() == 1);
  // As an internal note they are not mailed: no mail limit.
  CHECK(w.tickets
            .AddMessage(actor("k3", "AddTicketMessage"), r->ticket.id, MessageKind::kInternalNote,
                        "Scans for the file", big)
            .ok());
}

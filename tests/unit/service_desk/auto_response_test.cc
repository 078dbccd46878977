// Auto-response (docs/service-desk.md, "Auto-response"): macros bound to
// the intent classifier's labels (checked, one macro a label), a person's
// question answered by its intent's macro under the loop rules, and the
// report of what was answered; over the in-memory storage.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/classifiers.h"
#include "services/service_desk/app/inbound.h"
#include "services/service_desk/app/macros.h"
#include "services/service_desk/app/tickets.h"
#include "services/service_desk/domain/macro.h"
#include "services/service_desk/domain/outbound_mail.h"
#include "services/service_desk/domain/ticket_classifier.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"
#include "tests/support/fakes/service_desk/intent_examples.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::AutoResponseVerdict;
using sd::domain::InboundMail;
using sd::domain::Macro;
using sd::domain::MessageKind;
using sd::domain::OutboundKind;
using sd::domain::OutboundMail;
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
  sd::app::Macros macros{repo, tickets, clock, ids};
  sd::app::Classifiers classifiers{repo, clock};
  sd::app::Mailbox mailbox;

  World() {
    mailbox.id = "33333333-3333-4333-8333-333333333333";
    mailbox.address = "support@desk.example";
    mailbox.name = "Example Support";
    mailbox.own = {{"support@desk.example"}, {"desk.example"}};
    mailbox.auto_reply = true;
    repo.AddMailbox(mailbox);
  }
  static sd::app::Actor Meta(const std::string& key, const std::string& method,
                             const std::string& tenant = kTenant) {
    return sd::app::Actor{tenant, "admin", "req", method, key, "fp-" + key};
  }
  void TrainIntents() {
    REQUIRE(classifiers
                .Train(Meta("train", "TrainClassifier"),
                       {"intent", "", 0.5, crm::testing::IntentExamples()})
                .ok());
  }
  static InboundMail Mail(const std::string& id, const std::string& from,
                          const std::string& subject, const std::string& text) {
    InboundMail m;
    m.message_id = id;
    m.from = {"Ada Lovelace", from};
    m.to = {{"Support", "support@desk.example"}};
    m.subject = subject;
    m.text = text;
    return m;
  }
  sd::app::MailReceived Receive(const InboundMail& m) {
    absl::StatusOr<sd::app::MailReceived> r =
        inbound.Receive(kTenant, "mailbox:support", mailbox, m);
    REQUIRE(r.ok());
    return *r;
  }
  std::vector<OutboundMail> Sent(OutboundKind kind) const {
    std::vector<OutboundMail> out;
    for (const OutboundMail& m : repo.Outbound(kTenant)) {
      if (m.kind == kind) out.push_back(m);
    }
    return out;
  }
};

Macro LostCardMacro() {
  Macro m;
  m.name = "Lost card";
  m.reply = "Hello {{requester.email}}, we have blocked the card; a new one is on its way.";
  m.status = TicketStatus::kPendingCustomer;
  m.add_tags = {"auto-answered"};
  m.intents = {" lost_card ", "lost_card", "stolen_card"};
  m.auto_respond = true;
  return m;
}

}  // namespace

TEST_CASE("A macro's intents are checked and a label is one macro's", "[auto_response]") {
  Macro m = LostCardMacro();
  REQUIRE(sd::domain::NormalizeAndValidate(m).ok());
  CHECK(m.intents == std::vector<std::string>{"lost_card", "stolen_card"});
  Macro bad = LostCardMacro();
  bad.intents = {"ok", " "};
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(bad)) == "macro.intents[1]");
  bad.intents = {std::string(65, 'x')};
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(bad)) == "macro.intents[0]");
  bad.intents = std::vector<std::string>(sd::domain::kMaxMacroIntents + 1, "x");
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(bad)) == "macro.intents");
  for (const auto& change : std::vector<std::function<void(Macro&)>>{
           [](Macro& x) { x.intents.clear(); }, [](Macro& x) { x.internal = true; },
           [](Macro& x) { x.reply.clear(); }}) {
    bad = LostCardMacro();
    change(bad);
    CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(bad)) == "macro.auto_respond");
  }

  World w;
  absl::StatusOr<Macro> first = w.macros.Create(World::Meta("m1", "CreateMacro"), LostCardMacro());
  REQUIRE(first.ok());
  Macro other;
  other.name = "Stolen card";
  other.reply = "Please call us.";
  other.intents = {"stolen_card"};
  absl::StatusOr<Macro> taken = w.macros.Create(World::Meta("m2", "CreateMacro"), other);
  CHECK(crm::common::ReasonOf(taken.status()) == "INTENT_BOUND");
  CHECK(taken.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(taken.status().message().find(first->id) != std::string::npos);
  // Another tenant binds its own labels.
  CHECK(w.macros.Create(World::Meta("m3", "CreateMacro", kOther), other).ok());
  // The first macro gives the label up: it is free.
  Macro narrower = *first;
  narrower.intents = {"lost_card"};
  REQUIRE(w.macros.Update(World::Meta("m4", "UpdateMacro"), first->id, narrower, "1").ok());
  absl::StatusOr<Macro> second = w.macros.Create(World::Meta("m5", "CreateMacro"), other);
  REQUIRE(second.ok());
  // A macro keeps its own labels through an update; a deleted one frees them.
  other.reply = "Please call us now.";
  CHECK(w.macros.Update(World::Meta("m6", "UpdateMacro"), second->id, other, "1").ok());
  narrower.intents = {"lost_card", "stolen_card"};
  CHECK(crm::common::ReasonOf(
            w.macros.Update(World::Meta("m7", "UpdateMacro"), first->id, narrower, "2").status()) ==
        "INTENT_BOUND");
  REQUIRE(w.macros.Delete(World::Meta("m8", "DeleteMacro"), second->id, "2").ok());
  CHECK(w.macros.Update(World::Meta("m9", "UpdateMacro"), first->id, narrower, "2").ok());
}

TEST_CASE("Auto-response answers a question by its intent's macro, under the loop rules",
          "[auto_response]") {
  World w;
  w.TrainIntents();
  absl::StatusOr<Macro> macro = w.macros.Create(World::Meta("m1", "CreateMacro"), LostCardMacro());
  REQUIRE(macro.ok());

  // A person's question of a known intent: the macro answers it at once,
  // instead of the acknowledgement.
  const InboundMail question =
      World::Mail("q1@example.com", "ada@example.com", "Card", "I lost my card yesterday");
  sd::app::MailReceived r = w.Receive(question);
  REQUIRE(r.ticket.predictions.size() == 1);
  CHECK(r.ticket.predictions[0].label == "lost_card");
  REQUIRE(r.ticket.predictions[0].answered);
  CHECK(r.auto_response == "sent");
  CHECK(r.auto_reply == "auto_response");
  CHECK(r.ticket.status == TicketStatus::kPendingCustomer);
  CHECK(r.ticket.tags == std::vector<std::string>{"auto-answered"});
  CHECK(r.message.kind == MessageKind::kCustomer);  // the mail itself
  CHECK(w.Sent(OutboundKind::kAutoReply).empty());
  std::vector<OutboundMail> sent = w.Sent(OutboundKind::kAutoResponse);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].to_addr == "ada@example.com");
  CHECK(sent[0].in_reply_to == "q1@example.com");
  CHECK(sent[0].subject == "Re: Card [#" + std::to_string(r.ticket.number) + "]");
  CHECK(sent[0].body.find("Hello ada@example.com, we have blocked the card") == 0);
  CHECK(sd::domain::AutoSubmitted(sent[0].kind));
  // The thread: the question, then the macro's public reply by the responder.
  absl::StatusOr<sd::app::MessagePage> thread = w.tickets.Messages(kTenant, r.ticket.id, "", 10);
  REQUIRE(thread.ok());
  REQUIRE(thread->items.size() == 2);
  CHECK(thread->items[1].kind == MessageKind::kPublicReply);
  CHECK(thread->items[1].author == sd::app::kAutoResponder);
  CHECK(thread->items[1].id == sent[0].ticket_message_id);
  // The audit names the macro and who applied it.
  absl::StatusOr<std::vector<sd::domain::TicketChange>> changes =
      w.tickets.Changes(kTenant, r.ticket.id);
  REQUIRE(changes.ok());
  bool named = false;
  for (const sd::domain::TicketChange& c : *changes) {
    named |= c.field == "macro" && c.new_value == "Lost card" && c.actor == "auto-response";
  }
  CHECK(named);

  // A copy is answered what the first got; nothing more is sent.
  sd::app::MailReceived copy = w.Receive(question);
  CHECK(copy.duplicate);
  CHECK(copy.auto_response == "sent");
  CHECK(w.Sent(OutboundKind::kAutoResponse).size() == 1);
  // The same sender's next question the same day: one automatic mail a day.
  r = w.Receive(World::Mail("q2@example.com", "ada@example.com", "Again", "someone took my card"));
  CHECK(r.created);
  CHECK(r.auto_response == "answered_recently");
  CHECK(r.auto_reply == "answered_recently");
  // Machine-made mail is never answered, whatever its intent.
  InboundMail ooo =
      World::Mail("o1@example.com", "carol@example.com", "Auto: card", "I lost my card");
  ooo.headers["auto-submitted"] = "auto-replied";
  CHECK(w.Receive(ooo).auto_response == "machine");
  // A label without a macro: the acknowledgement goes out.
  r = w.Receive(World::Mail("q3@example.com", "bob@example.com", "Money", "refund my order"));
  CHECK(r.auto_response == "no_macro");
  CHECK(r.auto_reply == "sent");
  // The customer writes again on the answered ticket, later: not a new
  // question.
  w.clock.Advance(absl::Minutes(5));
  InboundMail again =
      World::Mail("q4@example.com", "ada@example.com", "Re: Card", "It has not come yet");
  again.in_reply_to = {sent[0].message_id};
  r = w.Receive(again);
  CHECK(r.rule == "in_reply_to");
  CHECK(r.auto_response == "not_new_ticket");
  // A macro that stops auto-responding, then no classifier at all.
  Macro off = *macro;
  off.auto_respond = false;
  REQUIRE(w.macros.Update(World::Meta("m2", "UpdateMacro"), macro->id, off, "1").ok());
  CHECK(w.Receive(World::Mail("q5@example.com", "dan@example.com", "Card", "I lost my card"))
            .auto_response == "no_macro");
  REQUIRE(w.classifiers.Delete(World::Meta("d1", "DeleteClassifier"), "intent").ok());
  CHECK(w.Receive(World::Mail("q6@example.com", "eve@example.com", "Card", "I lost my card"))
            .auto_response == "no_intent");

  // The report: mail tickets with an intent prediction (q1, q2, q3, q5;
  // the machine's mail made one too), one answered, its customer wrote again.
  absl::StatusOr<sd::domain::AutoResponseReport> report =
      w.classifiers.AutoResponseReport(kTenant, 0);
  REQUIRE(report.ok());
  CHECK(report->total.questions == 5);
  CHECK(report->total.auto_responded == 1);
  CHECK(report->total.wrote_again == 1);
  CHECK(report->coverage == Approx(0.2));
  CHECK(report->settled == Approx(0.0));
  REQUIRE(!report->labels.empty());
  CHECK(report->labels[0].label == "lost_card");
  CHECK(report->labels[0].auto_responded == 1);
  CHECK(report->held_out_precision == 0);  // the classifier is gone
  CHECK(report->to - report->from == absl::Hours(24 * 30));
  absl::StatusOr<sd::domain::AutoResponseReport> none = w.classifiers.AutoResponseReport(kOther, 7);
  REQUIRE(none.ok());
  CHECK(none->total.questions == 0);
  CHECK(none->coverage == 0);
  CHECK(crm::common::FieldOf(w.classifiers.AutoResponseReport(kTenant, 367).status()) == "days");
  CHECK(crm::common::FieldOf(w.classifiers.AutoResponseReport(kTenant, -1).status()) == "days");
}

TEST_CASE("Auto-response verdicts come in the order the rules are checked", "[auto_response]") {
  using sd::domain::DecideAutoResponse;
  CHECK(DecideAutoResponse({true, false, false, true, true}) == AutoResponseVerdict::kSent);
  CHECK(DecideAutoResponse({true, true, true, false, false}) == AutoResponseVerdict::kMachine);
  CHECK(DecideAutoResponse({false, false, true, true, true}) == AutoResponseVerdict::kNotNewTicket);
  CHECK(DecideAutoResponse({true, false, true, true, true}) == AutoResponseVerdict::kQuarantined);
  CHECK(DecideAutoResponse({true, false, false, false, true}) == AutoResponseVerdict::kNoIntent);
  CHECK(DecideAutoResponse({true, false, false, true, false}) == AutoResponseVerdict::kNoMacro);
  CHECK(std::string(sd::domain::AutoResponseVerdictName(AutoResponseVerdict::kRefused)) ==
        "refused");
  for (OutboundKind k :
       {OutboundKind::kReply, OutboundKind::kAutoReply, OutboundKind::kAutoResponse}) {
    CHECK(sd::domain::OutboundKindFromName(sd::domain::OutboundKindName(k)) == k);
  }
  CHECK(!sd::domain::OutboundKindFromName("fax"));
  CHECK(!sd::domain::AutoSubmitted(OutboundKind::kReply));
}

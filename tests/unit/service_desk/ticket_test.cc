// Tickets: the status moves, field limits, what a message does, the audit
// diff, and the use cases over the in-memory storage (requester resolved
// once, idempotent writes, the etag, tenant isolation).
#include "services/service_desk/domain/ticket.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/ticket_context.h"
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

  static sd::app::Actor Meta(const std::string& key, const std::string& tenant = kTenant,
                             const std::string& method = "CreateTicket") {
    return sd::app::Actor{tenant, "agent-ann", "req", method, key, "fp-" + key};
  }
  absl::StatusOr<Ticket> Create(const std::string& key,
                                const std::string& email = "ada@example.com",
                                const std::string& tenant = kTenant) {
    sd::app::NewTicket n;
    n.ticket.subject = "  My card was charged twice ";
    n.ticket.tags = {"Billing", "card", "billing"};
    n.ticket.channel = sd::domain::Channel::kEmail;
    n.requester.email = email;
    n.requester.name = "Ada Lovelace";
    n.description = "I see two charges of 12.00 for one order.";
    return tickets.Create(Meta(key, tenant), n);
  }
};

TEST_CASE("status moves follow the documented graph", "[service_desk][ticket]") {
  using S = TicketStatus;
  CHECK(sd::domain::CheckStatusMove(S::kNew, S::kOpen).ok());
  CHECK(sd::domain::CheckStatusMove(S::kOpen, S::kPendingCustomer).ok());
  CHECK(sd::domain::CheckStatusMove(S::kPendingCustomer, S::kOnHold).ok());
  CHECK(sd::domain::CheckStatusMove(S::kOnHold, S::kSolved).ok());
  CHECK(sd::domain::CheckStatusMove(S::kSolved, S::kOpen).ok());
  CHECK(sd::domain::CheckStatusMove(S::kSolved, S::kClosed).ok());
  CHECK(sd::domain::CheckStatusMove(S::kOpen, S::kOpen).ok());
  absl::Status back = sd::domain::CheckStatusMove(S::kOpen, S::kNew);
  CHECK(back.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(crm::common::ReasonOf(back) == "TICKET_STATUS_INVALID");
  CHECK(back.message().find("pending_customer") != std::string::npos);  // says what is allowed
  CHECK(crm::common::ReasonOf(sd::domain::CheckStatusMove(S::kOpen, S::kClosed)) ==
        "TICKET_STATUS_INVALID");  // closing goes through solved
  CHECK(crm::common::ReasonOf(sd::domain::CheckStatusMove(S::kClosed, S::kOpen)) ==
        "TICKET_CLOSED");
}

TEST_CASE("a ticket's fields are normalized and bounded", "[service_desk][ticket]") {
  Ticket t;
  t.subject = "  Refund  ";
  t.tags = {"VIP", "vip", " refund "};
  REQUIRE(sd::domain::NormalizeAndValidate(t).ok());
  CHECK(t.subject == "Refund");
  CHECK(t.tags == std::vector<std::string>{"refund", "vip"});

  Ticket empty;
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(empty)) == "subject");
  Ticket long_subject;
  long_subject.subject = std::string(300, 'x');
  CHECK(sd::domain::NormalizeAndValidate(long_subject).ok());
  long_subject.subject = std::string(301, 'x');
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(long_subject)) == "subject");
  Ticket korean;
  korean.subject = std::string();
  for (int i = 0; i < 300; ++i) korean.subject += "한";  // 900 bytes, 300 characters
  CHECK(sd::domain::NormalizeAndValidate(korean).ok());
  Ticket bad_tag;
  bad_tag.subject = "x";
  bad_tag.tags = {"ok", "not ok"};
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(bad_tag)) == "tags[1]");
  Ticket bad_key;
  bad_key.subject = "x";
  bad_key.custom_fields = {{"Order", "1"}};
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(bad_key)) == "custom_fields");
  Ticket nul;
  nul.subject = std::string("a\0b", 3);
  CHECK(sd::domain::NormalizeAndValidate(nul).code() == absl::StatusCode::kInvalidArgument);
  Ticket visitor;
  visitor.subject = "x";
  visitor.visitor_id = "ga1.2.3:abc_DEF-9";
  CHECK(sd::domain::NormalizeAndValidate(visitor).ok());
  visitor.visitor_id = "has space";
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(visitor)) == "visitor_id");
  visitor.visitor_id = std::string(129, 'v');
  CHECK(crm::common::FieldOf(sd::domain::NormalizeAndValidate(visitor)) == "visitor_id");
}

TEST_CASE("a message moves the status as documented", "[service_desk][ticket]") {
  const absl::Time now = absl::FromUnixSeconds(1'780'000'000);
  auto after = [&](TicketStatus from, MessageKind kind) {
    Ticket t;
    t.status = from;
    sd::domain::TicketMessage m;
    m.kind = kind;
    m.body = "hello";
    REQUIRE(sd::domain::ApplyMessage(m, now, t).ok());
    CHECK(t.message_count == 1);
    CHECK(t.update_time == now);
    return t.status;
  };
  CHECK(after(TicketStatus::kPendingCustomer, MessageKind::kCustomer) == TicketStatus::kOpen);
  CHECK(after(TicketStatus::kSolved, MessageKind::kCustomer) == TicketStatus::kOpen);
  CHECK(after(TicketStatus::kOnHold, MessageKind::kCustomer) == TicketStatus::kOpen);
  CHECK(after(TicketStatus::kNew, MessageKind::kCustomer) == TicketStatus::kNew);
  CHECK(after(TicketStatus::kNew, MessageKind::kPublicReply) == TicketStatus::kOpen);
  CHECK(after(TicketStatus::kPendingCustomer, MessageKind::kPublicReply) ==
        TicketStatus::kPendingCustomer);
  CHECK(after(TicketStatus::kNew, MessageKind::kInternalNote) == TicketStatus::kNew);

  Ticket closed;
  closed.status = TicketStatus::kClosed;
  sd::domain::TicketMessage m;
  m.body = "again";
  CHECK(crm::common::ReasonOf(sd::domain::ApplyMessage(m, now, closed)) == "TICKET_CLOSED");
  Ticket open;
  m.body = "   ";
  CHECK(crm::common::FieldOf(sd::domain::ApplyMessage(m, now, open)) == "body");
  CHECK(open.message_count == 0);
}

TEST_CASE("the diff names each changed field once", "[service_desk][ticket]") {
  Ticket a;
  a.subject = "s";
  a.custom_fields = {{"order", "1"}, {"sku", "x"}};
  Ticket b = a;
  b.status = TicketStatus::kOpen;
  b.tags = {"vip"};
  b.custom_fields = {{"order", "2"}, {"region", "eu"}};
  std::vector<sd::domain::TicketChange> d = sd::domain::Diff(a, b, "agent-ann", absl::UnixEpoch());
  std::vector<std::string> fields;
  for (const auto& c : d) fields.push_back(c.field + ":" + c.old_value + ">" + c.new_value);
  CHECK(fields == std::vector<std::string>{"status:new>open", "tags:>vip",
                                           "custom_fields.order:1>2", "custom_fields.region:>eu",
                                           "custom_fields.sku:x>"});
  CHECK(sd::domain::Diff(a, a, "x", absl::UnixEpoch()).empty());
}

TEST_CASE("creating a ticket resolves the requester once and numbers tickets per tenant",
          "[service_desk][tickets]") {
  World w;
  auto t = w.Create("k1");
  REQUIRE(t.ok());
  CHECK(t->number == 1);
  CHECK(t->subject == "My card was charged twice");
  CHECK(t->tags == std::vector<std::string>{"billing", "card"});
  CHECK(t->status == TicketStatus::kNew);
  CHECK(t->message_count == 1);
  CHECK(t->requester_email == "ada@example.com");
  CHECK(crm::common::IsUuid(t->customer_id));
  CHECK(w.directory.keys == std::vector<std::string>{"k1/requester"});

  // The retry answers the first ticket and asks customer-store nothing.
  const int calls = w.directory.calls;
  auto again = w.Create("k1");
  REQUIRE(again.ok());
  CHECK(again->id == t->id);
  CHECK(w.directory.calls == calls);

  auto second = w.Create("k2", "ADA@example.com ");
  REQUIRE(second.ok());
  CHECK(second->number == 2);
  CHECK(second->customer_id == t->customer_id);  // the same person
  auto elsewhere = w.Create("k1", "ada@example.com", kOther);
  REQUIRE(elsewhere.ok());
  CHECK(elsewhere->number == 1);

  auto messages = w.tickets.Messages(kTenant, t->id, "", 100);
  REQUIRE(messages.ok());
  REQUIRE(messages->items.size() == 1);
  CHECK(messages->items[0].kind == MessageKind::kCustomer);
  CHECK(messages->items[0].author == t->customer_id);
  CHECK(w.repo.state().events.size() == 3);
}

TEST_CASE("creating a ticket refuses bad input before anything is resolved",
          "[service_desk][tickets]") {
  World w;
  sd::app::NewTicket n;
  n.ticket.subject = "s";
  n.description = "d";
  CHECK(crm::common::FieldOf(w.tickets.Create(World::Meta("a"), n).status()) ==
        "requester_email");  // no requester
  n.requester.email = "not-an-address";
  CHECK(crm::common::FieldOf(w.tickets.Create(World::Meta("b"), n).status()) == "requester_email");
  n.requester.email = "a@b.example";
  n.description = "";
  CHECK(crm::common::FieldOf(w.tickets.Create(World::Meta("c"), n).status()) == "body");
  n.description = "d";
  n.ticket.status = TicketStatus::kSolved;
  CHECK(crm::common::FieldOf(w.tickets.Create(World::Meta("d"), n).status()) == "ticket.status");
  n.ticket.status = TicketStatus::kNew;
  CHECK(crm::common::FieldOf(w.tickets.Create(World::Meta(""), n).status()) == "request_id");
  CHECK(w.directory.calls == 0);

  w.directory.available = false;
  auto down = w.tickets.Create(World::Meta("e"), n);
  CHECK(down.status().code() == absl::StatusCode::kUnavailable);
  CHECK(w.repo.state().tickets.empty());
  w.directory.available = true;
  n.requester = {"33333333-3333-4333-8333-333333333333", "", ""};
  CHECK(crm::common::ReasonOf(w.tickets.Create(World::Meta("f"), n).status()) ==
        "CUSTOMER_NOT_FOUND");
}

TEST_CASE("updates apply the mask under the etag and audit every field",
          "[service_desk][tickets]") {
  World w;
  auto t = w.Create("k1");
  REQUIRE(t.ok());
  Ticket patch;
  patch.status = TicketStatus::kOpen;
  patch.assignee = "agent-bob";
  patch.custom_fields = {{"order_ref", "A-17"}};
  w.clock.Advance(absl::Minutes(5));
  auto u = w.tickets.Update(World::Meta("u1", kTenant, "UpdateTicket"), t->id, patch,
                            {"status", "assignee", "custom_fields.order_ref"}, "1");
  REQUIRE(u.ok());
  CHECK(u->status == TicketStatus::kOpen);
  CHECK(u->assignee == "agent-bob");
  CHECK(u->custom_fields.at("order_ref") == "A-17");
  CHECK(u->version == 2);
  CHECK(u->update_time == w.clock.Now());

  auto stale =
      w.tickets.Update(World::Meta("u2", kTenant, "UpdateTicket"), t->id, patch, {"assignee"}, "1");
  CHECK(crm::common::ReasonOf(stale.status()) == "ETAG_MISMATCH");
  auto unchanged =
      w.tickets.Update(World::Meta("u3", kTenant, "UpdateTicket"), t->id, patch, {"assignee"}, "");
  REQUIRE(unchanged.ok());
  CHECK(unchanged->version == 2);  // nothing changed: no new version
  Ticket bad;
  bad.status = TicketStatus::kNew;
  auto back =
      w.tickets.Update(World::Meta("u4", kTenant, "UpdateTicket"), t->id, bad, {"status"}, "");
  CHECK(crm::common::ReasonOf(back.status()) == "TICKET_STATUS_INVALID");
  CHECK(crm::common::FieldOf(
            w.tickets.Update(World::Meta("u5", kTenant, "UpdateTicket"), t->id, bad, {"number"}, "")
                .status()) == "update_mask");
  Ticket solve;
  solve.status = TicketStatus::kSolved;
  auto solved =
      w.tickets.Update(World::Meta("u6", kTenant, "UpdateTicket"), t->id, solve, {"status"}, "");
  REQUIRE(solved.ok());
  CHECK(solved->solve_time == w.clock.Now());

  auto changes = w.tickets.Changes(kTenant, t->id);
  REQUIRE(changes.ok());
  std::vector<std::string> fields;
  for (const auto& c : *changes) fields.push_back(std::to_string(c.seq) + " " + c.field);
  CHECK(fields == std::vector<std::string>{"1 status", "2 assignee", "3 custom_fields.order_ref",
                                           "4 status"});
  CHECK((*changes)[0].actor == "agent-ann");
}

TEST_CASE("a customer's message reopens a solved ticket, a closed one takes none",
          "[service_desk][tickets]") {
  World w;
  auto t = w.Create("k1");
  REQUIRE(t.ok());
  auto reply = w.tickets.AddMessage(World::Meta("m1", kTenant, "AddTicketMessage"), t->id,
                                    MessageKind::kPublicReply, "We refunded one charge.");
  REQUIRE(reply.ok());
  CHECK(reply->ticket.status == TicketStatus::kOpen);
  CHECK(reply->message.author == "agent-ann");
  Ticket solve;
  solve.status = TicketStatus::kSolved;
  REQUIRE(w.tickets.Update(World::Meta("u1", kTenant, "UpdateTicket"), t->id, solve, {"status"}, "")
              .ok());
  auto back = w.tickets.AddMessage(World::Meta("m2", kTenant, "AddTicketMessage"), t->id,
                                   MessageKind::kCustomer, "It is back again.");
  REQUIRE(back.ok());
  CHECK(back->ticket.status == TicketStatus::kOpen);
  CHECK(back->message.author == t->customer_id);
  CHECK(back->ticket.message_count == 3);
  auto changes = w.tickets.Changes(kTenant, t->id);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 3);  // new → open, open → solved, solved → open
  CHECK(changes->back().actor == "customer");

  solve.status = TicketStatus::kSolved;
  REQUIRE(w.tickets.Update(World::Meta("u2", kTenant, "UpdateTicket"), t->id, solve, {"status"}, "")
              .ok());
  Ticket close;
  close.status = TicketStatus::kClosed;
  REQUIRE(w.tickets.Update(World::Meta("u3", kTenant, "UpdateTicket"), t->id, close, {"status"}, "")
              .ok());
  auto late = w.tickets.AddMessage(World::Meta("m3", kTenant, "AddTicketMessage"), t->id,
                                   MessageKind::kCustomer, "Hello?");
  CHECK(crm::common::ReasonOf(late.status()) == "TICKET_CLOSED");
  CHECK(crm::common::ReasonOf(
            w.tickets
                .Update(World::Meta("u4", kTenant, "UpdateTicket"), t->id, solve, {"priority"}, "")
                .status()) == "TICKET_CLOSED");
}

// Records what it was asked and answers what the test set.
struct RecordingContext final : sd::app::CustomerContext {
  sd::domain::VisitSubject asked;
  std::string asked_customer;
  Parts answer{std::string("visit"), absl::UnavailableError("down")};
  Parts Read(const std::string&, const sd::domain::VisitSubject& visit,
             const std::string& customer_id) override {
    asked = visit;
    asked_customer = customer_id;
    return answer;
  }
};

TEST_CASE("a ticket's context: the visitor's visit, else the customer's, when it was opened",
          "[service_desk][tickets]") {
  World w;
  RecordingContext customers;
  sd::app::TicketContexts contexts(w.tickets, customers);
  sd::app::NewTicket n;
  n.ticket.subject = "Can you call me?";
  n.ticket.channel = sd::domain::Channel::kPhone;
  n.ticket.visitor_id = "v-42";
  n.requester.email = "ada@example.com";
  n.description = "About my order";
  auto from_site = w.tickets.Create(World::Meta("site"), n);
  REQUIRE(from_site.ok());
  CHECK(from_site->visitor_id == "v-42");
  auto c = contexts.Read(kTenant, from_site->id);
  REQUIRE(c.ok());
  CHECK(customers.asked.visitor_id == "v-42");
  CHECK(customers.asked.customer_id.empty());
  CHECK(customers.asked.at == from_site->create_time);
  CHECK(customers.asked_customer == from_site->customer_id);
  CHECK(*c->parts.visit == "visit");
  CHECK(c->parts.view.status().code() == absl::StatusCode::kUnavailable);

  auto by_mail = w.Create("mail");
  REQUIRE(by_mail.ok());
  REQUIRE(contexts.Read(kTenant, by_mail->id).ok());
  CHECK(customers.asked.visitor_id.empty());
  CHECK(customers.asked.customer_id == by_mail->customer_id);
  // Another tenant's ticket: not found, customer-store not asked.
  customers.asked = {};
  CHECK(crm::common::ReasonOf(contexts.Read(kOther, by_mail->id).status()) == "TICKET_NOT_FOUND");
  CHECK(customers.asked.customer_id.empty());

  // How a missing part is told.
  CHECK(sd::app::ContextPartStatus(absl::NotFoundError("x")).reason == "CUSTOMER_NOT_FOUND");
  CHECK_FALSE(sd::app::ContextPartStatus(absl::NotFoundError("x")).retryable);
  const auto slow = sd::app::ContextPartStatus(absl::DeadlineExceededError("x"));
  CHECK(slow.code == absl::StatusCode::kDeadlineExceeded);
  CHECK(slow.reason == "DEPENDENCY_UNAVAILABLE");
  CHECK(slow.retryable);
  CHECK(sd::app::ContextPartStatus(absl::InvalidArgumentError("x")).code ==
        absl::StatusCode::kInternal);
}

TEST_CASE("another tenant's ticket reads as not found", "[service_desk][tickets]") {
  World w;
  auto t = w.Create("k1");
  REQUIRE(t.ok());
  CHECK(crm::common::ReasonOf(w.tickets.Get(kOther, t->id).status()) == "TICKET_NOT_FOUND");
  CHECK(crm::common::ReasonOf(w.tickets.Messages(kOther, t->id, "", 10).status()) ==
        "TICKET_NOT_FOUND");
  CHECK(crm::common::ReasonOf(w.tickets.Changes(kOther, t->id).status()) == "TICKET_NOT_FOUND");
  auto note = w.tickets.AddMessage(World::Meta("m1", kOther, "AddTicketMessage"), t->id,
                                   MessageKind::kInternalNote, "x");
  CHECK(crm::common::ReasonOf(note.status()) == "TICKET_NOT_FOUND");
  Ticket patch;
  patch.priority = sd::domain::Priority::kUrgent;
  CHECK(crm::common::ReasonOf(
            w.tickets
                .Update(World::Meta("u1", kOther, "UpdateTicket"), t->id, patch, {"priority"}, "")
                .status()) == "TICKET_NOT_FOUND");
  auto list = w.tickets.List(kOther, {});
  REQUIRE(list.ok());
  CHECK(list->items.empty());
  CHECK(w.tickets.Get(kTenant, "not-a-uuid").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("attachments: an upload's checks and a mail part's safe name",
          "[service_desk][attachments]") {
  sd::domain::Attachment a;
  a.filename = "  invoice.pdf ";
  a.content_type = " Application/PDF ";
  REQUIRE(sd::domain::NormalizeUpload(a, 10).ok());
  CHECK(a.filename == "invoice.pdf");
  CHECK(a.content_type == "application/pdf");
  CHECK(a.size == 10);
  a.content_type = "";
  REQUIRE(sd::domain::NormalizeUpload(a, 10).ok());
  CHECK(a.content_type == "application/octet-stream");
  a.content_type = "text/plain; charset=utf-8";
  CHECK(sd::domain::NormalizeUpload(a, 10).ok());
  a.content_type = "not a type";
  CHECK(crm::common::FieldOf(sd::domain::NormalizeUpload(a, 10)) == "content_type");
  a.content_type = "image/png";
  for (const char* bad : {"", "../etc/passwd", "a\\b", "tab\there"}) {
    a.filename = bad;
    INFO(bad);
    CHECK(crm::common::FieldOf(sd::domain::NormalizeUpload(a, 10)) == "filename");
  }
  a.filename = std::string(255, 'x');
  CHECK(sd::domain::NormalizeUpload(a, 10).ok());
  a.filename = std::string(256, 'x');
  CHECK(crm::common::FieldOf(sd::domain::NormalizeUpload(a, 10)) == "filename");
  a.filename = "photo.jpg";
  CHECK(crm::common::FieldOf(sd::domain::NormalizeUpload(a, 0)) == "content");
  CHECK(sd::domain::NormalizeUpload(a, sd::domain::kMaxAttachmentBytes).ok());
  CHECK(crm::common::ReasonOf(sd::domain::NormalizeUpload(
            a, sd::domain::kMaxAttachmentBytes + 1)) == "ATTACHMENT_TOO_LARGE");

  CHECK(sd::domain::SafeFilename("in/voice\\2.pdf", 1) == "in_voice_2.pdf");
  CHECK(sd::domain::SafeFilename("  ", 3) == "attachment-3");
  std::string hangul;
  for (int i = 0; i < 300; ++i) hangul += "한";
  const std::string cut = sd::domain::SafeFilename(hangul, 1);
  CHECK(cut.size() == 255 * 3);  // whole characters, 255 of them
  CHECK(sd::domain::SafeContentType("IMAGE/PNG") == "image/png");
  CHECK(sd::domain::SafeContentType("garbage") == "application/octet-stream");
}

TEST_CASE("attachments: uploaded, put on one message, read in the tenant only",
          "[service_desk][attachments]") {
  World w;
  auto t = w.Create("k1");
  REQUIRE(t.ok());
  sd::domain::Attachment a;
  a.filename = "receipt.txt";
  const std::string bytes = "two charges of 12.00";
  auto up = w.tickets.Upload(World::Meta("", kTenant, "UploadAttachment"), t->id, a, bytes);
  INFO(up.status().ToString());
  REQUIRE(up.ok());
  CHECK(up->content_type == "application/octet-stream");
  CHECK(up->sha256_hex.size() == 64);
  CHECK(up->uploaded_by == "agent-ann");
  // The same file again: the same upload.
  auto same = w.tickets.Upload(World::Meta("", kTenant, "UploadAttachment"), t->id, a, bytes);
  REQUIRE(same.ok());
  CHECK(same->id == up->id);

  auto m = w.tickets.AddMessage(World::Meta("m1", kTenant, "AddTicketMessage"), t->id,
                                MessageKind::kPublicReply, "Here is your receipt", {up->id});
  INFO(m.status().ToString());
  REQUIRE(m.ok());
  REQUIRE(m->message.attachments.size() == 1);
  auto page = w.tickets.Messages(kTenant, t->id, "", 10);
  REQUIRE(page.ok());
  CHECK(page->items.back().attachments.size() == 1);
  CHECK(w.tickets.AttachmentContent(kTenant, t->id, up->id)->second == bytes);

  // Bad ids, a taken upload, another tenant.
  auto bad = w.tickets.AddMessage(World::Meta("m2", kTenant, "AddTicketMessage"), t->id,
                                  MessageKind::kInternalNote, "x", {"nope"});
  CHECK(crm::common::FieldOf(bad.status()) == "attachment_ids[0]");
  auto dup = w.tickets.AddMessage(World::Meta("m3", kTenant, "AddTicketMessage"), t->id,
                                  MessageKind::kInternalNote, "x", {up->id, up->id});
  CHECK(crm::common::FieldOf(dup.status()) == "attachment_ids[1]");
  auto taken = w.tickets.AddMessage(World::Meta("m4", kTenant, "AddTicketMessage"), t->id,
                                    MessageKind::kInternalNote, "x", {up->id});
  CHECK(crm::common::ReasonOf(taken.status()) == "ATTACHMENT_NOT_FOUND");
  CHECK(w.tickets.Messages(kTenant, t->id, "", 10)->items.size() == 2);  // nothing written
  CHECK(crm::common::ReasonOf(w.tickets.AttachmentContent(kOther, t->id, up->id).status()) ==
        "ATTACHMENT_NOT_FOUND");
  CHECK(crm::common::FieldOf(w.tickets.AttachmentContent(kTenant, t->id, "x").status()) ==
        "attachment_id");
  CHECK(crm::common::ReasonOf(
            w.tickets.Upload(World::Meta("", kOther, "UploadAttachment"), t->id, a, bytes)
                .status()) == "TICKET_NOT_FOUND");
  CHECK(crm::common::ReasonOf(w.tickets
                                  .Upload(World::Meta("", kTenant, "UploadAttachment"), t->id, a,
                                          std::string(sd::domain::kMaxAttachmentBytes + 1, 'x'))
                                  .status()) == "ATTACHMENT_TOO_LARGE");
}

}  // namespace

// Macros: their checks, what one does to a ticket (the reply filled in
// from the ticket after its changes, the changes checked as an update's),
// the dry run that writes nothing, the applied macro's audit, the etag,
// deletion and tenants.
#include "services/service_desk/domain/macro.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/service_desk/app/macros.h"
#include "services/service_desk/app/tickets.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::Macro;
using sd::domain::TicketStatus;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
constexpr char kOther[] = "22222222-2222-4222-8222-222222222222";

Macro AskForOrder() {
  Macro m;
  m.name = " Ask for the order number ";
  m.reply =
      "Hello,\n\nplease send the order number of ticket #{{ticket.number}} "
      "({{ticket.subject}}); it is {{ticket.status}} meanwhile.\n{{agent}}";
  m.status = TicketStatus::kPendingCustomer;
  m.add_tags = {"Needs-Info"};
  m.remove_tags = {"new-customer"};
  return m;
}

TEST_CASE("a macro is checked and normalized before it is stored", "[service_desk][macro]") {
  Macro m = AskForOrder();
  REQUIRE(sd::domain::NormalizeAndValidate(m).ok());
  CHECK(m.name == "Ask for the order number");
  CHECK(m.add_tags == std::vector<std::string>{"needs-info"});
  const auto field = [](Macro x) {
    return crm::common::FieldOf(sd::domain::NormalizeAndValidate(x));
  };
  Macro bad = AskForOrder();
  bad.reply = "Dear {{customer.name}}";
  CHECK(field(bad) == "macro.reply");
  bad = AskForOrder();
  bad.name = "";
  CHECK(field(bad) == "macro.name");
  bad = AskForOrder();
  bad.add_tags = {"ok", "not ok"};
  CHECK(field(bad) == "macro.add_tags[1]");
  bad = AskForOrder();
  bad.remove_tags = {"Bad tag"};
  CHECK(field(bad) == "macro.remove_tags[0]");
  bad = AskForOrder();
  bad.queue = std::string(65, 'q');
  CHECK(field(bad) == "macro.queue");
  CHECK(field(Macro{}) == "macro.name");
  Macro nothing;
  nothing.name = "Does nothing";
  CHECK(field(nothing) == "macro");
  nothing.internal = true;
  CHECK(field(nothing) == "macro.internal");
}

TEST_CASE("a macro's reply is filled in from the ticket after its changes",
          "[service_desk][macro]") {
  Macro m = AskForOrder();
  REQUIRE(sd::domain::NormalizeAndValidate(m).ok());
  sd::domain::Ticket t;
  t.number = 42;
  t.subject = "Parcel missing";
  t.status = TicketStatus::kOpen;
  t.tags = {"new-customer", "parcel"};
  auto out = sd::domain::ApplyMacro(m, t, "agent-ann", absl::FromUnixSeconds(100));
  REQUIRE(out.ok());
  CHECK(out->paths == std::vector<std::string>{"status", "tags"});
  CHECK(out->ticket.status == TicketStatus::kPendingCustomer);
  CHECK(out->ticket.tags == std::vector<std::string>{"needs-info", "parcel"});
  CHECK(out->reply ==
        "Hello,\n\nplease send the order number of ticket #42 (Parcel missing); it is "
        "pending_customer meanwhile.\nagent-ann");
  // A move the status graph refuses; a closed ticket takes nothing.
  m.status = TicketStatus::kNew;
  CHECK(crm::common::ReasonOf(
            sd::domain::ApplyMacro(m, t, "agent-ann", absl::FromUnixSeconds(100)).status()) ==
        "TICKET_STATUS_INVALID");
  t.status = TicketStatus::kClosed;
  CHECK(crm::common::ReasonOf(
            sd::domain::ApplyMacro(AskForOrder(), t, "a", absl::FromUnixSeconds(100)).status()) ==
        "TICKET_CLOSED");
}

struct World {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock{absl::FromUnixSeconds(1'800'000'000)};
  crm::common::RandomIdGenerator ids;
  sd::app::Tickets tickets{repo, directory, clock, ids};
  sd::app::Macros macros{repo, tickets, clock, ids};
  int keys = 0;

  sd::app::Actor Meta(const std::string& method, const std::string& tenant = kTenant) {
    return sd::app::Actor{tenant, "agent-ann", "req", method, "k" + std::to_string(++keys), "fp"};
  }
  sd::domain::Ticket Create() {
    sd::app::NewTicket n;
    n.ticket.subject = "Parcel missing";
    n.ticket.tags = {"new-customer"};
    n.requester.email = "eve@example.com";
    n.description = "It never came.";
    auto t = tickets.Create(Meta("CreateTicket"), n);
    REQUIRE(t.ok());
    return *t;
  }
};

TEST_CASE("a dry run answers what a macro would do and writes nothing, applying writes it",
          "[service_desk][macro]") {
  World w;
  auto m = w.macros.Create(w.Meta("CreateMacro"), AskForOrder());
  REQUIRE(m.ok());
  CHECK(m->version == 1);
  const sd::domain::Ticket t = w.Create();
  w.clock.Advance(absl::Minutes(5));

  auto dry = w.macros.Apply(w.Meta("ApplyMacro"), t.id, m->id, true, "");
  REQUIRE(dry.ok());
  CHECK(dry->dry_run);
  CHECK(dry->result.ticket.status == TicketStatus::kPendingCustomer);
  CHECK(dry->result.message.kind == sd::domain::MessageKind::kPublicReply);
  CHECK(dry->result.message.body.find("ticket #1 (Parcel missing)") != std::string::npos);
  REQUIRE(dry->changes.size() == 2);
  CHECK(dry->changes[0].field == "status");
  CHECK(dry->changes[0].old_value == "new");
  CHECK(dry->changes[1].field == "tags");
  auto still = w.tickets.Get(kTenant, t.id);
  REQUIRE(still.ok());
  CHECK(still->version == t.version);  // nothing written
  CHECK(still->status == TicketStatus::kNew);

  CHECK(crm::common::ReasonOf(
            w.macros.Apply(w.Meta("ApplyMacro"), t.id, m->id, false, "7").status()) ==
        "ETAG_MISMATCH");
  auto applied = w.macros.Apply(w.Meta("ApplyMacro"), t.id, m->id, false, "1");
  REQUIRE(applied.ok());
  CHECK_FALSE(applied->dry_run);
  CHECK(applied->result.ticket.status == TicketStatus::kPendingCustomer);
  CHECK(applied->result.ticket.tags == std::vector<std::string>{"needs-info"});
  CHECK(applied->result.message.author == "agent-ann");
  CHECK(applied->result.ticket.message_count == 2);
  auto changes = w.tickets.Changes(kTenant, t.id);
  REQUIRE(changes.ok());
  std::vector<std::string> fields;
  for (const auto& c : *changes) fields.push_back(c.field);
  // The reply moved it to open, the macro on to pending; then its row.
  CHECK(fields == std::vector<std::string>{"status", "status", "tags", "macro"});
  CHECK(changes->back().new_value == "Ask for the order number");
  CHECK(changes->back().actor == "agent-ann");

  // Internal notes stay internal; a macro of field changes only adds no message.
  Macro note;
  note.name = "Escalate";
  note.reply = "Escalated by {{agent}}.";
  note.internal = true;
  note.priority = sd::domain::Priority::kUrgent;
  auto escalate = w.macros.Create(w.Meta("CreateMacro"), note);
  REQUIRE(escalate.ok());
  auto noted = w.macros.Apply(w.Meta("ApplyMacro"), t.id, escalate->id, false, "");
  REQUIRE(noted.ok());
  CHECK(noted->result.message.kind == sd::domain::MessageKind::kInternalNote);
  CHECK(noted->result.ticket.status == TicketStatus::kPendingCustomer);  // a note moves nothing
  CHECK(noted->result.ticket.priority == sd::domain::Priority::kUrgent);
}

TEST_CASE("macros are written under their etag, deleted, and the tenant's",
          "[service_desk][macro]") {
  World w;
  auto m = w.macros.Create(w.Meta("CreateMacro"), AskForOrder());
  REQUIRE(m.ok());
  Macro renamed = AskForOrder();
  renamed.name = "Order number, please";
  CHECK(
      crm::common::ReasonOf(w.macros.Update(w.Meta("UpdateMacro"), m->id, renamed, "2").status()) ==
      "ETAG_MISMATCH");
  auto updated = w.macros.Update(w.Meta("UpdateMacro"), m->id, renamed, "1");
  REQUIRE(updated.ok());
  CHECK(updated->version == 2);
  CHECK(updated->create_time == m->create_time);
  auto list = w.macros.List(kTenant);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK(list->at(0).name == "Order number, please");

  // Another tenant: not found on every route; its list is empty.
  const sd::domain::Ticket t = w.Create();
  CHECK(crm::common::ReasonOf(w.macros.Get(kOther, m->id).status()) == "MACRO_NOT_FOUND");
  CHECK(crm::common::ReasonOf(
            w.macros.Update(w.Meta("UpdateMacro", kOther), m->id, renamed, "").status()) ==
        "MACRO_NOT_FOUND");
  CHECK(crm::common::ReasonOf(w.macros.Delete(w.Meta("DeleteMacro", kOther), m->id, "").status()) ==
        "MACRO_NOT_FOUND");
  CHECK(crm::common::ReasonOf(
            w.macros.Apply(w.Meta("ApplyMacro", kOther), t.id, m->id, true, "").status()) ==
        "TICKET_NOT_FOUND");
  CHECK(w.macros.List(kOther)->empty());
  CHECK(w.macros.Get(kTenant, "not-a-uuid").status().code() == absl::StatusCode::kInvalidArgument);

  CHECK(crm::common::ReasonOf(w.macros.Delete(w.Meta("DeleteMacro"), m->id, "1").status()) ==
        "ETAG_MISMATCH");
  REQUIRE(w.macros.Delete(w.Meta("DeleteMacro"), m->id, "2").ok());
  CHECK(crm::common::ReasonOf(w.macros.Get(kTenant, m->id).status()) == "MACRO_NOT_FOUND");
  CHECK(crm::common::ReasonOf(
            w.macros.Apply(w.Meta("ApplyMacro"), t.id, m->id, false, "").status()) ==
        "MACRO_NOT_FOUND");
}

}  // namespace

// The inbound mail corpus (tests/data/mail/corpus, its README): real-shaped
// mails of many clients ingested in the manifest's order through the MIME
// parser and the Receive use case (in-memory storage), each checked against
// the ticket it must land on, whether it is a duplicate, whether it is
// machine-made (never auto-answered) and a phrase of its decoded text.
// Thresholds (issue 12): at least 99.5 % attached correctly, no duplicate
// ticket, every machine-made mail recognized.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "libs/common/id.h"
#include "services/service_desk/app/inbound.h"
#include "services/service_desk/app/tickets.h"
#include "services/service_desk/mail/mime.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/service_desk/fake_ticket_repository.h"

namespace {

namespace sd = crm::service_desk;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Row {
  std::string file, expect, thread, machine, snippet, note;
};

std::vector<Row> Manifest() {
  std::vector<Row> rows;
  const std::string text = ReadFile(std::string(CRM_MAIL_CORPUS_DIR) + "/manifest.tsv");
  bool header = true;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (header || line.empty()) {
      header = false;
      continue;
    }
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    f.resize(6);
    rows.push_back({f[0], f[1], f[2], f[3], f[4], f[5]});
  }
  return rows;
}

TEST_CASE("The mail corpus lands where its manifest says", "[inbound][corpus]") {
  crm::testing::FakeTicketRepository repo;
  crm::testing::FakeRequesterDirectory directory;
  crm::testing::FixedClock clock(absl::FromUnixSeconds(1796000000));
  crm::common::RandomIdGenerator ids;
  sd::app::Tickets tickets{repo, directory, clock, ids};
  sd::app::Inbound inbound{repo, tickets, clock, ids};
  sd::app::Mailbox mailbox;
  mailbox.id = "33333333-3333-4333-8333-333333333333";
  mailbox.address = "support@desk.example";
  mailbox.own = {{"support@desk.example"}, {"desk.example"}};
  mailbox.auto_reply = true;  // answers every person's new ticket, once a day per sender
  repo.AddMailbox(mailbox);

  const std::vector<Row> rows = Manifest();
  REQUIRE(rows.size() >= 200);
  std::map<std::string, sd::domain::Ticket> tickets_of;  // label → ticket
  std::map<std::string, std::string> out_of;             // label → our last reply's id
  int mails = 0, placed = 0, machine_mails = 0, files = 0, auto_replies = 0;
  std::vector<std::string> misses;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    INFO("row " << i + 2 << ": " << row.file << " (" << row.note << ")");
    clock.Advance(absl::Minutes(1));
    const std::string key = absl::StrCat("corpus-", i);
    if (row.file == "@reply" || row.file == "@solve") {
      REQUIRE(tickets_of.count(row.thread) == 1);
      const std::string id = tickets_of.at(row.thread).id;
      if (row.file == "@reply") {
        absl::StatusOr<sd::app::MessageAdded> r = tickets.AddMessage(
            {kTenant, "agent-ann", "req", "AddTicketMessage", key, key}, id,
            sd::domain::MessageKind::kPublicReply,
            absl::StrCat("We are looking into it.\n\n", sd::domain::TicketReference(id)));
        REQUIRE(r.ok());
        REQUIRE_FALSE(r->message.mail_id.empty());
        out_of[row.thread] = r->message.mail_id;
      } else {
        sd::domain::Ticket patch;
        patch.status = sd::domain::TicketStatus::kSolved;
        REQUIRE(tickets
                    .Update({kTenant, "agent-ann", "req", "UpdateTicket", key, key}, id, patch,
                            {"status"}, "")
                    .ok());
      }
      continue;
    }
    ++files;
    std::string raw = ReadFile(absl::StrCat(CRM_MAIL_CORPUS_DIR, "/", row.file));
    REQUIRE_FALSE(raw.empty());
    for (const auto& [label, t] : tickets_of) {
      std::vector<std::pair<std::string, std::string>> subs = {
          {absl::StrCat("{{token:", label, "}}"), sd::domain::TicketReference(t.id)},
          {absl::StrCat("{{number:", label, "}}"), absl::StrCat(t.number)}};
      if (out_of.count(label)) subs.push_back({absl::StrCat("{{out:", label, "}}"), out_of[label]});
      raw = absl::StrReplaceAll(raw, subs);
    }
    CHECK(raw.find("{{") == std::string::npos);  // every placeholder known by now
    absl::StatusOr<sd::domain::InboundMail> mail = sd::mail::ParseMail(raw);
    REQUIRE(mail.ok());
    absl::StatusOr<sd::app::MailReceived> r =
        inbound.Receive(kTenant, "mailbox:support", mailbox, *mail);
    REQUIRE(r.ok());
    const std::string machine = row.machine == "-" ? "" : row.machine;
    CHECK(r->machine == machine);  // every machine mail known: never auto-answered
    if (!machine.empty()) ++machine_mails;
    if (!machine.empty() && !r->duplicate) CHECK(r->auto_reply == "machine");
    if (r->auto_reply == "sent" && !r->duplicate) ++auto_replies;
    if (row.expect == "duplicate") {
      CHECK(r->duplicate);  // no second ticket, no second message
      if (tickets_of.count(row.thread)) CHECK(r->ticket.id == tickets_of.at(row.thread).id);
      continue;
    }
    ++mails;
    CHECK_FALSE(r->duplicate);
    if (row.snippet != "-") {
      CHECK(r->message.body.find(row.snippet) != std::string::npos);
    }
    bool right = false;
    if (row.expect == "new") {
      right = r->created && tickets_of.count(row.thread) == 0;
      if (r->created && tickets_of.count(row.thread) == 0) tickets_of[row.thread] = r->ticket;
    } else if (row.expect == "attach") {
      right = !r->created && tickets_of.count(row.thread) == 1 &&
              r->ticket.id == tickets_of.at(row.thread).id;
    }
    if (right) {
      ++placed;
    } else {
      misses.push_back(absl::StrCat(row.file, ": expected ", row.expect, " ", row.thread, ", got ",
                                    r->created ? "a new ticket" : "ticket", " by ", r->rule));
    }
  }
  for (const std::string& m : misses) WARN(m);
  const double rate = mails == 0 ? 0 : static_cast<double>(placed) / mails;
  WARN("corpus: " << files << " mails, " << mails << " not duplicates, " << placed
                  << " placed right (" << 100 * rate << " %), " << machine_mails
                  << " machine-made, " << auto_replies << " auto-replies");
  CHECK(rate >= 0.995);
  // Every auto-reply went to a person's mail that opened a ticket: none
  // to a machine's, none twice to one address.
  std::set<std::string> answered;
  for (const sd::domain::OutboundMail& m : repo.Outbound(kTenant)) {
    if (m.kind == sd::domain::OutboundKind::kAutoReply) CHECK(answered.insert(m.to_addr).second);
  }
  CHECK(static_cast<int>(answered.size()) == auto_replies);
  CHECK(auto_replies > 0);
  // One ticket per `new` label, none more: no duplicate ticket.
  CHECK(repo.state().tickets.at(kTenant).size() == tickets_of.size());
}

}  // namespace

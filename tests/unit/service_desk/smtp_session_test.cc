// The SMTP / LMTP conversation (mail/smtp_session.h) without sockets: the
// command order, recipients the handler refuses, the mail's end, dot
// stuffing, the Return-Path a final delivery adds, size limits, one reply
// per mail (SMTP) or per recipient (LMTP), and a client that only errs.
#include "services/service_desk/mail/smtp_session.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace {

namespace mail = crm::service_desk::mail;
using mail::SmtpReply;
using mail::SmtpSession;

struct FakeDesk final : mail::SmtpHandler {
  std::vector<std::string> known = {"support@desk.example", "sales@desk.example"};
  bool down = false;
  std::vector<std::string> delivered_to;
  std::string mail;
  SmtpReply Recipient(const std::string& address) override {
    if (down) return {451, "4.3.0 later"};
    for (const std::string& k : known) {
      if (k == address) return {250, "2.1.5 Ok"};
    }
    return {550, "5.1.1 no such mailbox"};
  }
  std::vector<SmtpReply> Deliver(const std::vector<std::string>& rcpts,
                                 const std::string& m) override {
    delivered_to = rcpts;
    mail = m;
    std::vector<SmtpReply> out;
    for (const std::string& r : rcpts) {
      out.push_back(r == "sales@desk.example" ? SmtpReply{451, "4.3.0 later"}
                                              : SmtpReply{250, "2.0.0 Ok"});
    }
    return out;
  }
};

int Code(const std::string& reply) { return reply.size() >= 3 ? std::stoi(reply.substr(0, 3)) : 0; }

TEST_CASE("SMTP: a mail from hello to quit", "[smtp]") {
  FakeDesk desk;
  SmtpSession s(SmtpSession::Protocol::kSmtp, "desk.example", 1000, desk);
  CHECK(absl::StartsWith(s.Greeting(), "220 desk.example ESMTP"));
  CHECK(Code(s.OnLine("MAIL FROM:<a@example.com>")) == 503);  // hello first
  const std::string ehlo = s.OnLine("EHLO client.example.com");
  CHECK(absl::StartsWith(ehlo, "250-desk.example\r\n250-SIZE 1000\r\n"));
  CHECK(absl::StrContains(ehlo, "250 PIPELINING\r\n"));
  CHECK(Code(s.OnLine("RCPT TO:<support@desk.example>")) == 503);  // MAIL first
  CHECK(Code(s.OnLine("MAIL FROM:<Ada@Example.com> SIZE=200 BODY=8BITMIME")) == 250);
  CHECK(Code(s.OnLine("MAIL FROM:<b@example.com>")) == 503);  // one at a time
  CHECK(Code(s.OnLine("DATA")) == 554);                       // no recipient yet
  CHECK(Code(s.OnLine("RCPT TO:<nobody@desk.example>")) == 550);
  CHECK(Code(s.OnLine("RCPT TO:<Support@Desk.Example>")) == 250);
  CHECK(Code(s.OnLine("DATA")) == 354);
  CHECK(s.OnLine("Subject: hi").empty());
  CHECK(s.OnLine("").empty());
  CHECK(s.OnLine("..a line that began with a dot").empty());
  CHECK(s.OnLine(".") == "250 2.0.0 Ok\r\n");  // the one recipient's own reply
  CHECK(desk.delivered_to == std::vector<std::string>{"support@desk.example"});
  CHECK(desk.mail ==
        "Return-Path: <ada@example.com>\r\nSubject: hi\r\n\r\n.a line that began with a dot\r\n");
  // The next mail: a bounce (null sender); one recipient defers: the whole
  // mail is deferred (the client sends it again to both).
  CHECK(Code(s.OnLine("MAIL FROM:<>")) == 250);
  CHECK(Code(s.OnLine("RCPT TO:<support@desk.example>")) == 250);
  CHECK(Code(s.OnLine("RCPT TO:<sales@desk.example>")) == 250);
  CHECK(Code(s.OnLine("DATA")) == 354);
  s.OnLine("Subject: bounce");
  CHECK(Code(s.OnLine(".")) == 451);
  CHECK(absl::StartsWith(desk.mail, "Return-Path: <>\r\n"));
  CHECK(Code(s.OnLine("NOOP")) == 250);
  CHECK(Code(s.OnLine("VRFY x")) == 252);
  CHECK(Code(s.OnLine("STARTTLS")) == 502);
  CHECK(Code(s.OnLine("QUIT")) == 221);
  CHECK(s.Closed());
}

TEST_CASE("LMTP: one reply per recipient after the mail", "[smtp]") {
  FakeDesk desk;
  SmtpSession s(SmtpSession::Protocol::kLmtp, "desk", 1000, desk);
  CHECK(Code(s.OnLine("EHLO mta")) == 500);  // LMTP says LHLO
  CHECK(Code(s.OnLine("LHLO mta")) == 250);
  CHECK(Code(s.OnLine("MAIL FROM:<a@example.com>")) == 250);
  CHECK(Code(s.OnLine("RCPT TO:<support@desk.example>")) == 250);
  CHECK(Code(s.OnLine("RCPT TO:<sales@desk.example>")) == 250);
  CHECK(Code(s.OnLine("DATA")) == 354);
  s.OnLine("Subject: x");
  CHECK(s.OnLine(".") == "250 2.0.0 Ok\r\n451 4.3.0 later\r\n");
}

TEST_CASE("SMTP: sizes, bad paths, a desk that cannot look up, an erring client", "[smtp]") {
  FakeDesk desk;
  SmtpSession s(SmtpSession::Protocol::kSmtp, "desk", 100, desk);
  s.OnLine("HELO x");
  CHECK(Code(s.OnLine("MAIL FROM:<a@example.com> SIZE=101")) == 552);  // announced too big
  CHECK(Code(s.OnLine("MAIL FROM:a@example.com")) == 250);             // lenient bare path
  CHECK(Code(s.OnLine("RCPT TO:<>")) == 501);
  CHECK(Code(s.OnLine("RCPT TO:<no-at-sign>")) == 501);
  CHECK(Code(s.OnLine("RCPT TO:<@relay.example:support@desk.example>")) == 250);
  CHECK(Code(s.OnLine("DATA")) == 354);
  for (int i = 0; i < 10; ++i) s.OnLine(std::string(20, 'x'));
  CHECK(Code(s.OnLine(".")) == 552);  // bigger than it may be: nothing delivered
  CHECK(desk.delivered_to.empty());
  CHECK(Code(s.OnLine("MAIL FROM:<a@example.com>")) == 250);  // the session goes on
  desk.down = true;
  CHECK(Code(s.OnLine("RCPT TO:<support@desk.example>")) == 451);
  CHECK(Code(s.OnLine(std::string(1200, 'A'))) == 500);  // a command line too long
  CHECK(Code(s.OnOverlongLine()) == 500);

  std::string ParsedAddress;
  CHECK(mail::ParsePath(" <A@B.example> SIZE=1", ParsedAddress));
  CHECK(ParsedAddress == "a@b.example");
  CHECK_FALSE(mail::ParsePath("<a b@example.com>", ParsedAddress));

  FakeDesk other;
  SmtpSession noisy(SmtpSession::Protocol::kSmtp, "desk", 100, other);
  std::string last;
  for (int i = 0; i < SmtpSession::kMaxErrors && !noisy.Closed(); ++i) last = noisy.OnLine("XYZ");
  CHECK(Code(last) == 421);
  CHECK(noisy.Closed());
}

}  // namespace

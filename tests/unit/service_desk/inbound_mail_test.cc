// Inbound mail: the loop rules, the thread ids and tokens, subjects as
// thread keys, text cleaning, and the MIME parser (GMime) on mails of the
// shapes real clients send.
#include "services/service_desk/domain/inbound_mail.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "services/service_desk/mail/mime.h"

namespace {

namespace sd = crm::service_desk;
using sd::domain::InboundMail;
using sd::domain::MachineReason;

sd::domain::OwnAddresses Own() {
  return sd::domain::OwnAddresses{{"help@partner.example"}, {"desk.example"}};
}

InboundMail Human() {
  InboundMail m;
  m.from = {"Ada", "ada@example.com"};
  m.subject = "Where is my order?";
  return m;
}

MachineReason With(const std::string& header, const std::string& value) {
  InboundMail m = Human();
  m.headers[header] = value;
  return sd::domain::MachineMade(m, Own());
}

TEST_CASE("Loop rules: each signal of machine-made mail, and human mail", "[inbound]") {
  CHECK(sd::domain::MachineMade(Human(), Own()) == MachineReason::kNone);
  CHECK(With("auto-submitted", "auto-replied") == MachineReason::kAutoSubmitted);
  CHECK(With("auto-submitted", "auto-generated; type=alert") == MachineReason::kAutoSubmitted);
  CHECK(With("auto-submitted", " No ") == MachineReason::kNone);  // RFC 3834: a person's mail
  CHECK(With("x-autoreply", "yes") == MachineReason::kAutoreplyHeader);
  CHECK(With("x-autorespond", "x") == MachineReason::kAutoreplyHeader);
  CHECK(With("x-fc-machinegenerated", "true") == MachineReason::kAutoreplyHeader);
  CHECK(With("x-fc-machinegenerated", "false") == MachineReason::kNone);
  CHECK(With("x-post-messageclass", "9; Autoresponder") == MachineReason::kAutoreplyHeader);
  CHECK(With("x-auto-response-suppress", "All") == MachineReason::kAutoResponseSuppress);
  CHECK(With("precedence", "bulk") == MachineReason::kPrecedence);
  CHECK(With("precedence", "JUNK") == MachineReason::kPrecedence);
  CHECK(With("precedence", "auto_reply") == MachineReason::kPrecedence);
  CHECK(With("precedence", "first-class") == MachineReason::kNone);
  CHECK(With("list-id", "<news.example.com>") == MachineReason::kList);
  CHECK(With("list-unsubscribe", "<mailto:u@example.com>") == MachineReason::kList);
  CHECK(With("return-path", "<>") == MachineReason::kEmptyReturnPath);
  CHECK(With("return-path", " < > ") == MachineReason::kEmptyReturnPath);
  CHECK(With("return-path", "<bounce@example.com>") == MachineReason::kNone);

  InboundMail m = Human();
  m.from.addr = "MAILER-DAEMON@mx.example.net";
  CHECK(sd::domain::MachineMade(m, Own()) == MachineReason::kSystemSender);
  CHECK(sd::domain::MachineMade(m, Own()) == MachineReason::kSystemSender);
  m.from.addr = "postmaster@example.org";
  CHECK(sd::domain::MachineMade(m, Own()) == MachineReason::kSystemSender);
  m.from.addr = "support@desk.example";
  CHECK(sd::domain::MachineMade(m, Own()) == MachineReason::kOwnAddress);
  m.from.addr = "bounces@eu.desk.example";  // a subdomain of ours
  CHECK(sd::domain::MachineMade(m, Own()) == MachineReason::kOwnAddress);
  m.from.addr = "help@partner.example";
  CHECK(sd::domain::MachineMade(m, Own()) == MachineReason::kOwnAddress);
  m.from.addr = "someone@notdesk.example";  // not a subdomain
  CHECK(sd::domain::MachineMade(m, Own()) == MachineReason::kNone);

  // The first reason in the order wins.
  m = Human();
  m.delivery_report = true;
  m.headers["auto-submitted"] = "auto-replied";
  m.from.addr = "mailer-daemon@example.net";
  CHECK(sd::domain::MachineMade(m, Own()) == MachineReason::kDeliveryReport);
  m.delivery_report = false;
  CHECK(sd::domain::MachineMade(m, Own()) == MachineReason::kSystemSender);
  CHECK(std::string(sd::domain::MachineReasonName(MachineReason::kAutoResponseSuppress)) ==
        "auto_response_suppress");
}

TEST_CASE("Message ids: brackets, comments, folding and bare ids", "[inbound]") {
  CHECK(sd::domain::ParseMessageIds("<a@x.example>") == std::vector<std::string>{"a@x.example"});
  CHECK(sd::domain::ParseMessageIds(" <a@x>\r\n\t<b@y> (a comment <c@z>) <d@w>") ==
        std::vector<std::string>{"a@x", "b@y", "d@w"});
  CHECK(sd::domain::ParseMessageIds("a@x, b@y") == std::vector<std::string>{"a@x", "b@y"});
  CHECK(sd::domain::ParseMessageIds("<a@x\r\n .example>") ==
        std::vector<std::string>{"a@x.example"});
  CHECK(sd::domain::ParseMessageIds("<>  plain words").empty());
  CHECK(sd::domain::NormalizeMessageId("  <CAB+Xy=Q@mail.gmail.com>  ") ==
        "CAB+Xy=Q@mail.gmail.com");
  CHECK(sd::domain::NormalizeMessageId(std::string(600, 'a')).empty());

  InboundMail m;
  m.in_reply_to = {"r@x"};
  m.references = {"a@x", "b@x", "r@x"};
  m.reported_ids = {"orig@x"};
  CHECK(sd::domain::ThreadIds(m) == std::vector<std::string>{"orig@x", "r@x", "b@x", "a@x"});
}

TEST_CASE("Tokens: the hidden reference and the subject number", "[inbound]") {
  const std::string id = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
  CHECK(sd::domain::TicketReference(id) == "[ref:" + id + "]");
  CHECK(sd::domain::FindTicketReference("> thanks\n> [ref:" + id + "]\n") == id);
  CHECK(sd::domain::FindTicketReference("[ref:3F1C2D4E-5A6B-4C7D-8E9F-0A1B2C3D4E5F]") == id);
  CHECK_FALSE(sd::domain::FindTicketReference("[ref:not-a-uuid] [ref:" + id).has_value());
  CHECK(sd::domain::FindTicketReference("[ref:x] [ref:" + id + "]") == id);

  CHECK(sd::domain::SubjectWithNumber("Broken login", 42) == "Broken login [#42]");
  CHECK(sd::domain::SubjectWithNumber("Re: Broken login [#42]", 42) == "Re: Broken login [#42]");
  CHECK(sd::domain::SubjectWithNumber("  ", 7) == "[#7]");
  CHECK(sd::domain::FindSubjectNumber("RE: Broken login [#42]") == 42);
  CHECK(sd::domain::FindSubjectNumber("[#] [#0] [#x1] [#12]") == 12);
  CHECK_FALSE(sd::domain::FindSubjectNumber("#42 and [#1234567890123456789]").has_value());
}

TEST_CASE("Thread subjects drop reply and forward prefixes in many languages", "[inbound]") {
  CHECK(sd::domain::ThreadSubject("Re: RE: Fwd: Broken   login") == "broken login");
  CHECK(sd::domain::ThreadSubject("AW: WG: Rechnung") == "rechnung");
  CHECK(sd::domain::ThreadSubject("Re[2]: TR : Facture [#42]") == "facture");
  CHECK(sd::domain::ThreadSubject("回复: 订单") == "订单");
  CHECK(sd::domain::ThreadSubject("답장: 회신：배송 문의") == "배송 문의");
  CHECK(sd::domain::ThreadSubject("Re:") == "");
  CHECK(sd::domain::ThreadSubject("Regarding: my invoice") == "regarding: my invoice");
  CHECK(sd::domain::ThreadSubject("Rechnung") == "rechnung");
}

TEST_CASE("HTML as text and text cleaning", "[inbound]") {
  CHECK(sd::domain::HtmlToText("<html><head><title>x</title><style>p{}</style></head><body>"
                               "<p class=\"MsoNormal\">Hello&nbsp;Ann,</p><p>It&#8217;s "
                               "<b>broken</b> &amp; slow.</p><!-- hidden --><script>x()</script>"
                               "<div>Line<br>two</div></body></html>") ==
        "Hello Ann,\nIt\u2019s broken & slow.\nLine\ntwo");
  CHECK(sd::domain::HtmlToText("<table><tr><td>a</td><td>b</td></tr></table>") == "a b");
  CHECK(sd::domain::HtmlToText("<a href='x>y'>link</a> &bogus; &#x41;") == "link &bogus; A");
  CHECK(sd::domain::CleanText(std::string("a\r\nb\rc\0d", 9) +
                              std::string("\xC3\xA9\xFF\xE2\x82", 5)) ==
        "a\nb\ncd\u00e9\uFFFD\uFFFD\uFFFD");
  CHECK(sd::domain::CleanText("\xED\xA0\x80") == "\uFFFD\uFFFD\uFFFD");  // a surrogate
  CHECK(sd::domain::CleanText("\xC0\xAF") == "\uFFFD\uFFFD");            // overlong '/'
}

TEST_CASE("A mail without a Message-ID gets an identity from what relays keep", "[inbound]") {
  InboundMail a = Human();
  a.text = "hello";
  InboundMail b = a;
  CHECK(sd::domain::MailIdentity(a) == sd::domain::MailIdentity(b));
  CHECK(absl::EndsWith(sd::domain::MailIdentity(a), "@derived.invalid"));
  b.text = "hello!";
  CHECK(sd::domain::MailIdentity(a) != sd::domain::MailIdentity(b));
  a.message_id = "m@x";
  CHECK(sd::domain::MailIdentity(a) == "m@x");
}

TEST_CASE("MIME: an Outlook reply with text and HTML, encoded words, folded ids", "[inbound]") {
  const std::string raw =
      "Received: from mx.example.com by desk.example; Mon, 30 Nov 2026 09:00:00 +0000\r\n"
      "From: =?UTF-8?B?67CV7KeA66+8?= <Jimin.Park@Example.COM>\r\n"
      "To: \"Support\" <support@desk.example>, Sales <sales@desk.example>\r\n"
      "Cc: boss@example.com\r\n"
      "Subject: =?UTF-8?B?UkU6IOuwsOyGoSDrrLjsnZg=?= [#42]\r\n"
      "Date: Mon, 30 Nov 2026 09:00:00 +0900\r\n"
      "Message-ID: <AM0PR01MB1234.eurprd01.prod.outlook.com>\r\n"
      "In-Reply-To: <reply-1@desk.example>\r\n"
      "References: <first@example.com>\r\n"
      " <reply-1@desk.example>\r\n"
      "Thread-Index: AQHZ\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
      "\r\n"
      "--b1\r\n"
      "Content-Type: text/plain; charset=\"euc-kr\"\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "vsiz58fPvLy/5A0K\r\n"  // "안녕하세요" in EUC-KR, CRLF
      "--b1\r\n"
      "Content-Type: text/html; charset=\"utf-8\"\r\n"
      "\r\n"
      "<p class=MsoNormal>ignored when there is text</p>\r\n"
      "--b1--\r\n";
  absl::StatusOr<InboundMail> m = sd::mail::ParseMail(raw);
  REQUIRE(m.ok());
  CHECK(m->message_id == "AM0PR01MB1234.eurprd01.prod.outlook.com");
  CHECK(m->in_reply_to == std::vector<std::string>{"reply-1@desk.example"});
  CHECK(m->references == std::vector<std::string>{"first@example.com", "reply-1@desk.example"});
  CHECK(m->from.addr == "jimin.park@example.com");
  CHECK(m->from.name == "박지민");
  REQUIRE(m->to.size() == 2);
  CHECK(m->to[1].addr == "sales@desk.example");
  REQUIRE(m->cc.size() == 1);
  CHECK(m->subject == "RE: 배송 문의 [#42]");
  CHECK(sd::domain::FindSubjectNumber(m->subject) == 42);
  CHECK(m->text == "안녕하세요\n");
  REQUIRE(m->date.has_value());
  CHECK(absl::ToUnixSeconds(*m->date) ==
        absl::ToUnixSeconds(
            absl::FromCivil(absl::CivilSecond(2026, 11, 30, 0, 0, 0), absl::UTCTimeZone())));
  CHECK(m->attachments.empty());
  CHECK(sd::domain::MachineMade(*m, Own()) == MachineReason::kNone);
}

TEST_CASE("MIME: HTML only, an attachment, an out-of-office", "[inbound]") {
  const std::string raw =
      "From: Bob <bob@example.org>\n"
      "To: support@desk.example\n"
      "Subject: Automatic reply: your ticket\n"
      "Auto-Submitted: auto-replied\n"
      "X-Auto-Response-Suppress: All\n"
      "Message-ID: <oof-1@example.org>\n"
      "Content-Type: multipart/mixed; boundary=xx\n"
      "\n"
      "--xx\n"
      "Content-Type: text/html; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "<div>Je suis absent jusqu'au 3 d=E9cembre.</div>\n"
      "--xx\n"
      "Content-Type: application/pdf; name=\"r=C3=A9sum=C3=A9.pdf\"\n"
      "Content-Disposition: attachment; filename=\"invoice.pdf\"\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBERi0xLjQK\n"
      "--xx--\n";
  absl::StatusOr<InboundMail> m = sd::mail::ParseMail(raw);
  REQUIRE(m.ok());
  CHECK(m->text == "Je suis absent jusqu'au 3 décembre.");
  REQUIRE(m->attachments.size() == 1);
  CHECK(m->attachments[0].filename == "invoice.pdf");
  CHECK(m->attachments[0].content_type == "application/pdf");
  CHECK(m->attachments[0].size == 9);  // "%PDF-1.4\n"
  CHECK(m->attachments[0].sha256_hex.size() == 64);
  CHECK(sd::domain::MachineMade(*m, Own()) == MachineReason::kAutoSubmitted);
}

TEST_CASE("MIME: a delivery report names the mail it reports on", "[inbound]") {
  const std::string raw =
      "Return-Path: <>\n"
      "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
      "To: support@desk.example\n"
      "Subject: Undelivered Mail Returned to Sender\n"
      "Message-ID: <dsn-1@mx.example.net>\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n"
      "\n"
      "--r\n"
      "Content-Type: text/plain\n"
      "\n"
      "I'm sorry to have to inform you that your message could not be delivered.\n"
      "--r\n"
      "Content-Type: message/delivery-status\n"
      "\n"
      "Reporting-MTA: dns; mx.example.net\n"
      "\n"
      "Final-Recipient: rfc822; gone@example.com\n"
      "Action: failed\n"
      "Status: 5.1.1\n"
      "--r\n"
      "Content-Type: text/rfc822-headers\n"
      "\n"
      "From: support@desk.example\n"
      "Message-ID:\n"
      " <reply-7@desk.example>\n"
      "Subject: Re: hello\n"
      "--r--\n";
  absl::StatusOr<InboundMail> m = sd::mail::ParseMail(raw);
  REQUIRE(m.ok());
  CHECK(m->delivery_report);
  CHECK(m->reported_ids == std::vector<std::string>{"reply-7@desk.example"});
  CHECK(sd::domain::ThreadIds(*m).front() == "reply-7@desk.example");
  CHECK(absl::StartsWith(m->text, "I'm sorry"));
  CHECK(sd::domain::MachineMade(*m, Own()) == MachineReason::kDeliveryReport);
  CHECK(m->headers.at("return-path") == "<>");
}

TEST_CASE("MIME: a forwarded message is an attachment, not the text", "[inbound]") {
  const std::string raw =
      "From: carol@example.com\n"
      "To: support@desk.example\n"
      "Subject: Fwd: order 1234\n"
      "Content-Type: multipart/mixed; boundary=f\n"
      "\n"
      "--f\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "See below.\n"
      "--f\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "From: dave@example.com\n"
      "Subject: order 1234\n"
      "Message-ID: <inner@example.com>\n"
      "\n"
      "My order never came.\n"
      "--f--\n";
  absl::StatusOr<InboundMail> m = sd::mail::ParseMail(raw);
  REQUIRE(m.ok());
  CHECK(m->message_id.empty());
  CHECK(m->text == "See below.");
  REQUIRE(m->attachments.size() == 1);
  CHECK(m->attachments[0].content_type == "message/rfc822");
  CHECK(m->attachments[0].filename == "order 1234.eml");
  CHECK(m->reported_ids.empty());  // only a report names what it reports on
}

TEST_CASE("MIME: bad input is refused with the field named", "[inbound]") {
  CHECK(crm::common::FieldOf(sd::mail::ParseMail("").status()) == "raw_mime");
  CHECK(sd::mail::ParseMail("no headers here at all").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(sd::mail::ParseMail(std::string(sd::mail::kMaxRawMail + 1, 'a')).status().code() ==
        absl::StatusCode::kInvalidArgument);
  // Garbage after a header still parses: mail in the wild is rarely clean.
  absl::StatusOr<InboundMail> m =
      sd::mail::ParseMail(std::string("Subject: x\n\n") + std::string("\xFF\xFE\0zz", 5));
  REQUIRE(m.ok());
  CHECK(m->text.find('\0') == std::string::npos);
}

}  // namespace

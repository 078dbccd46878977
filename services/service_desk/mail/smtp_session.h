#pragma once
// One SMTP (RFC 5321) or LMTP (RFC 2033) conversation as a state machine
// over lines, without sockets: api/smtp_listener.h feeds it what a client
// sends and writes back what it answers. The desk is the final destination
// (no relaying): a recipient must be a mailbox (the handler says), the mail
// is handed over after the final "." and answered after the handler's
// write committed: SMTP one reply for the mail (250 when every recipient
// took it, else the first failure: a 4xx makes the client send it again to
// all, which the desk's once-per-Message-ID rule makes harmless), LMTP one
// reply per recipient. The handed-over mail starts with a Return-Path
// header holding the envelope sender ("<>" for a bounce), as a final
// delivery adds it.
#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace crm::service_desk::mail {

// "250 2.1.5 Ok" and its kin: a code and its text (one line each).
struct SmtpReply {
  int code = 250;
  std::string text;
  std::string Line() const;  // "<code> <text>\r\n"
  bool ok() const { return code >= 200 && code < 300; }
};

class SmtpHandler {
 public:
  virtual ~SmtpHandler() = default;
  // Whether `address` (lower-cased, no brackets) takes mail: 250, or 550
  // (no such mailbox), or 451 (try again later).
  virtual SmtpReply Recipient(const std::string& address) = 0;
  // The mail for the accepted recipients (in their order), after its last
  // line: one reply per recipient.
  virtual std::vector<SmtpReply> Deliver(const std::vector<std::string>& recipients,
                                         const std::string& mail) = 0;
};

class SmtpSession {
 public:
  enum class Protocol { kSmtp, kLmtp };
  // A command line's limit (RFC 5321 4.5.3.1: 512; extensions lengthen it)
  // and a mail's line's: real mail breaks the RFC's 1,000, so the desk
  // takes long lines as they come up to this.
  static constexpr size_t kMaxLine = 1000;
  static constexpr size_t kMaxDataLine = 1 << 20;
  static constexpr size_t kMaxRecipients = 100;  // per mail

  SmtpSession(Protocol protocol, std::string hostname, size_t max_mail_bytes, SmtpHandler& handler);

  std::string Greeting() const;  // "220 <host> ESMTP ..."
  // One line the client sent, without its CR LF; the reply text to send
  // (empty while a mail's lines are coming). A command over kMaxLine is
  // answered 500.
  std::string OnLine(absl::string_view line);
  // A line over kMaxDataLine arrived (the listener dropped it): a command
  // is answered 500, a mail is refused at its end.
  std::string OnOverlongLine();
  bool Closed() const { return closed_; }
  // Too many errors in a row: the listener should hang up (after the reply).
  static constexpr int kMaxErrors = 10;

 private:
  enum class State { kGreeted, kHello, kMail, kRcpt, kData };
  std::string Command(absl::string_view line);
  std::string DataLine(absl::string_view line);
  std::string EndOfData();
  std::string Error(int code, const std::string& text);
  void Reset();

  Protocol protocol_;
  std::string host_;
  size_t max_bytes_;
  SmtpHandler& handler_;
  State state_ = State::kGreeted;
  bool closed_ = false;
  int errors_ = 0;
  std::string sender_;
  std::vector<std::string> recipients_;
  std::string data_;
  bool too_big_ = false;
  bool bad_line_ = false;
};

// The address of "FROM:<a@b> SIZE=10" / "TO:<a@b>" after the colon
// (lower-cased, brackets and parameters dropped; "" for "<>"); false when
// it is not one.
bool ParsePath(absl::string_view arg, std::string& address);

}  // namespace crm::service_desk::mail

#include "services/service_desk/mail/smtp_session.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace crm::service_desk::mail {

std::string SmtpReply::Line() const { return absl::StrCat(code, " ", text, "\r\n"); }

bool ParsePath(absl::string_view arg, std::string& address) {
  arg = absl::StripLeadingAsciiWhitespace(arg);
  if (arg.empty()) return false;
  absl::string_view path;
  if (arg[0] == '<') {
    const size_t close = arg.find('>');
    if (close == absl::string_view::npos) return false;
    path = arg.substr(1, close - 1);
  } else {  // lenient: a bare address up to the first space
    path = arg.substr(0, arg.find(' '));
  }
  // A source route ("@a,@b:user@host") names the mailbox after its colon.
  if (!path.empty() && path[0] == '@') {
    const size_t colon = path.find(':');
    if (colon == absl::string_view::npos) return false;
    path = path.substr(colon + 1);
  }
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  if (!path.empty() && (path.find('@') == absl::string_view::npos || path.size() > 254)) {
    return false;
  }
  address = absl::AsciiStrToLower(path);
  return true;
}

SmtpSession::SmtpSession(Protocol protocol, std::string hostname, size_t max_mail_bytes,
                         SmtpHandler& handler)
    : protocol_(protocol),
      host_(std::move(hostname)),
      max_bytes_(max_mail_bytes),
      handler_(handler) {}

std::string SmtpSession::Greeting() const {
  return absl::StrCat("220 ", host_, protocol_ == Protocol::kLmtp ? " LMTP" : " ESMTP",
                      " service desk ready\r\n");
}

std::string SmtpSession::Error(int code, const std::string& text) {
  if (++errors_ >= kMaxErrors) {
    closed_ = true;
    return absl::StrCat("421 4.7.0 ", host_, " too many errors, closing\r\n");
  }
  return SmtpReply{code, text}.Line();
}

void SmtpSession::Reset() {
  sender_.clear();
  recipients_.clear();
  data_.clear();
  too_big_ = false;
  bad_line_ = false;
  if (state_ != State::kGreeted) state_ = State::kHello;
}

std::string SmtpSession::OnOverlongLine() {
  if (state_ == State::kData) {
    bad_line_ = true;  // refused at the final "."
    return "";
  }
  return Error(500, "5.5.2 line too long");
}

std::string SmtpSession::OnLine(absl::string_view line) {
  if (closed_) return "";
  if (state_ == State::kData) return DataLine(line);
  return Command(line);
}

std::string SmtpSession::Command(absl::string_view line) {
  if (line.size() + 2 > kMaxLine) return Error(500, "5.5.2 line too long");
  const size_t space = line.find(' ');
  const std::string verb = absl::AsciiStrToUpper(line.substr(0, space));
  const absl::string_view arg =
      space == absl::string_view::npos ? absl::string_view() : line.substr(space + 1);
  const bool lmtp = protocol_ == Protocol::kLmtp;
  if (verb == "QUIT") {
    closed_ = true;
    return absl::StrCat("221 2.0.0 ", host_, " closing\r\n");
  }
  if (verb == "NOOP") return SmtpReply{250, "2.0.0 Ok"}.Line();
  if (verb == "RSET") {
    Reset();
    return SmtpReply{250, "2.0.0 Ok"}.Line();
  }
  if (verb == "VRFY") return SmtpReply{252, "2.5.0 Send mail and see"}.Line();
  if ((!lmtp && (verb == "EHLO" || verb == "HELO")) || (lmtp && verb == "LHLO")) {
    Reset();
    state_ = State::kHello;
    errors_ = 0;
    if (verb == "HELO") return SmtpReply{250, host_}.Line();
    return absl::StrCat("250-", host_, "\r\n250-SIZE ", max_bytes_,
                        "\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 PIPELINING\r\n");
  }
  if (verb == "EHLO" || verb == "HELO" || verb == "LHLO") {
    return Error(500, lmtp ? "5.5.1 this is LMTP: say LHLO" : "5.5.1 this is SMTP: say EHLO");
  }
  if (verb == "MAIL") {
    if (state_ == State::kGreeted) return Error(503, "5.5.1 say hello first");
    if (state_ != State::kHello) return Error(503, "5.5.1 a mail is already under way");
    if (!absl::StartsWithIgnoreCase(arg, "FROM:")) return Error(501, "5.5.4 MAIL FROM:<address>");
    std::string from;
    if (!ParsePath(arg.substr(5), from)) return Error(501, "5.1.7 bad sender address");
    // SIZE=<n> announced: refused at once when over the limit.
    const size_t size_at = absl::AsciiStrToUpper(arg).find(" SIZE=");
    if (size_at != std::string::npos) {
      uint64_t size = 0;
      absl::string_view v = arg.substr(size_at + 6);
      v = v.substr(0, v.find(' '));
      if (absl::SimpleAtoi(v, &size) && size > max_bytes_) {
        return Error(552, absl::StrCat("5.3.4 the mail is over ", max_bytes_, " bytes"));
      }
    }
    sender_ = from;
    state_ = State::kMail;
    return SmtpReply{250, "2.1.0 Ok"}.Line();
  }
  if (verb == "RCPT") {
    if (state_ != State::kMail && state_ != State::kRcpt) {
      return Error(503, "5.5.1 MAIL FROM first");
    }
    if (!absl::StartsWithIgnoreCase(arg, "TO:")) return Error(501, "5.5.4 RCPT TO:<address>");
    std::string to;
    if (!ParsePath(arg.substr(3), to) || to.empty()) {
      return Error(501, "5.1.3 bad recipient address");
    }
    if (recipients_.size() >= kMaxRecipients) return Error(452, "4.5.3 too many recipients");
    SmtpReply r = handler_.Recipient(to);
    if (!r.ok()) return Error(r.code, r.text);
    recipients_.push_back(to);
    state_ = State::kRcpt;
    return r.Line();
  }
  if (verb == "DATA") {
    if (state_ != State::kRcpt) {
      return Error(state_ == State::kMail ? 554 : 503,
                   state_ == State::kMail ? "5.5.1 no valid recipients" : "5.5.1 MAIL FROM first");
    }
    state_ = State::kData;
    data_ = absl::StrCat("Return-Path: <", sender_, ">\r\n");
    return SmtpReply{354, "End data with <CR><LF>.<CR><LF>"}.Line();
  }
  if (verb == "STARTTLS" || verb == "AUTH" || verb == "BDAT") {
    return Error(502, "5.5.1 not offered here");
  }
  return Error(500, "5.5.2 command not recognized");
}

std::string SmtpSession::DataLine(absl::string_view line) {
  if (line == ".") return EndOfData();
  if (!line.empty() && line[0] == '.') line.remove_prefix(1);  // dot-stuffing
  if (data_.size() + line.size() + 2 > max_bytes_ + 64) {
    too_big_ = true;  // keep reading to the "." without keeping it
    return "";
  }
  if (!too_big_) absl::StrAppend(&data_, line, "\r\n");
  return "";
}

std::string SmtpSession::EndOfData() {
  std::vector<SmtpReply> replies;
  if (too_big_ || bad_line_) {
    const SmtpReply refused =
        too_big_ ? SmtpReply{552, absl::StrCat("5.3.4 the mail is over ", max_bytes_, " bytes")}
                 : SmtpReply{552, "5.3.4 the mail has a line over 1 MiB"};
    replies.assign(recipients_.size(), refused);
  } else {
    replies = handler_.Deliver(recipients_, data_);
    replies.resize(recipients_.size(), SmtpReply{451, "4.3.0 not delivered, try again"});
  }
  std::string out;
  if (protocol_ == Protocol::kLmtp) {
    for (const SmtpReply& r : replies) out += r.Line();
  } else {
    // One recipient: its own reply (which names the ticket); several: Ok
    // when all took it, else the first failure.
    SmtpReply one = replies.size() == 1 ? replies[0] : SmtpReply{250, "2.0.0 Ok: delivered"};
    for (const SmtpReply& r : replies) {
      if (!r.ok()) {
        one = r;
        break;
      }
    }
    out = one.Line();
  }
  Reset();
  return out;
}

}  // namespace crm::service_desk::mail

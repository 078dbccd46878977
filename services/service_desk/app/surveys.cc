#include "services/service_desk/app/surveys.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/common/tracking_token.h"
#include "services/service_desk/app/documents.h"
#include "services/service_desk/app/slas.h"
#include "services/service_desk/app/triggers.h"

namespace crm::service_desk::app {
namespace {

constexpr char kSender[] = "survey";           // the sweeper's principal
constexpr char kRespondent[] = "survey-link";  // an answer's (the customer, unnamed)

absl::Status SurveyAnswered() {
  return common::WithReason(
      absl::FailedPreconditionError("this survey was answered already; thank you"),
      "SURVEY_ANSWERED");
}

// The survey's kind in its link's token (the gateway shows its question).
int LinkKind(domain::SurveyKind k) { return k == domain::SurveyKind::kNps ? 1 : 0; }

bool SameAnswer(const domain::Survey& s, int rating, const std::string& reason,
                const std::string& comment) {
  return s.rating == rating && s.reason == reason && s.comment == comment;
}

}  // namespace

absl::Time Surveys::Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now())); }

absl::StatusOr<domain::SurveySettings> Surveys::GetSettings(const std::string& tenant) {
  return repository_.GetSurveySettings(tenant);
}

absl::StatusOr<domain::SurveySettings> Surveys::UpdateSettings(const Actor& actor,
                                                               domain::SurveySettings s,
                                                               const std::string& if_match) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(s));
  return WriteDocument(repository_, clock_, actor, s, if_match, "survey settings",
                       "survey_settings", &TicketTx::LoadSurveySettings,
                       &TicketTx::SaveSurveySettings);
}

SurveyRound Surveys::Sweep(int batch) {
  SurveyRound round;
  absl::StatusOr<std::vector<TicketRepository::DueSurvey>> due =
      repository_.DueSurveys(Now(), batch);
  if (!due.ok()) {
    round.failure = due.status();
    return round;
  }
  round.more = static_cast<int>(due->size()) >= batch;
  for (const TicketRepository::DueSurvey& d : *due) {
    absl::StatusOr<bool> sent = Send(d);
    if (!sent.ok()) {
      if (round.failure.ok()) round.failure = sent.status();
      round.more = false;  // not again at once: the next round retries it
      continue;
    }
    ++(*sent ? round.sent : round.cancelled);
  }
  return round;
}

absl::StatusOr<bool> Surveys::Send(const TicketRepository::DueSurvey& due) {
  const Actor actor{due.tenant, kSender, "", "SendSurvey", "", ""};
  bool sent = false;
  CRM_RETURN_IF_ERROR(
      repository_
          .Run<domain::Ticket>(
              actor, due.ticket_id,
              [&](TicketTx& tx) -> absl::StatusOr<domain::Ticket> {
                sent = false;
                CRM_ASSIGN_OR_RETURN(domain::Ticket ticket, tx.LoadTicket(due.ticket_id));
                CRM_ASSIGN_OR_RETURN(std::optional<domain::Survey> s, tx.LockSurvey(due.survey_id));
                const absl::Time now = Now();
                // Another replica sent it, or a new solve moved it on.
                if (!s || s->state != domain::SurveyState::kScheduled || s->due_time > now) {
                  return ticket;
                }
                CRM_ASSIGN_OR_RETURN(domain::SurveySettings settings, tx.ReadSurveySettings());
                bool recently = false;
                if (settings.cooldown_days > 0) {
                  CRM_ASSIGN_OR_RETURN(
                      recently, tx.SurveyedSince(s->customer_id,
                                                 now - absl::Hours(24) * settings.cooldown_days));
                }
                CRM_ASSIGN_OR_RETURN(std::optional<Mailbox> mailbox, tx.TicketMailbox(ticket.id));
                std::vector<std::string> thread;
                std::string answering;
                if (mailbox) {
                  CRM_ASSIGN_OR_RETURN(std::vector<MailRecord> trail, tx.TicketMails(ticket.id));
                  for (const MailRecord& r : trail) {
                    thread.push_back(r.mail_id);
                    if (!r.outbound && r.machine.empty()) answering = r.mail_id;
                  }
                } else {
                  CRM_ASSIGN_OR_RETURN(mailbox, tx.FirstMailbox());
                }
                const domain::SendVerdict v =
                    domain::DecideSend(settings, s->kind, ticket, recently, mailbox.has_value());
                if (v != domain::SendVerdict::kSend) {
                  s->state = domain::SurveyState::kCancelled;
                  s->cancel_reason = domain::SendVerdictName(v);
                  tx.SaveSurvey(*s);
                  return ticket;
                }
                common::TrackingClaims claims;
                claims.action = common::TrackingAction::kSurvey;
                claims.tenant_id = due.tenant;
                claims.message_id = s->id;
                claims.link = LinkKind(s->kind);
                claims.expire_time =
                    absl::FromUnixSeconds(absl::ToUnixSeconds(now + domain::kSurveyValidity));
                const std::string link =
                    absl::StrCat(base_url_, "/t/v/", common::SignTrackingToken(link_key_, claims));
                const domain::SurveyText text =
                    domain::SurveyTextOf(settings, s->kind, ticket, link);
                domain::Answer a;
                a.id = ids_.NewId();
                a.message_id = domain::OutgoingMessageId(a.id, mailbox->address);
                a.to_addr = ticket.requester_email;
                a.answering = answering;
                a.subject = text.subject;
                a.text = text.body;
                a.time = now;
                tx.QueueMail(domain::AnswerOnTicket(domain::OutboundKind::kSurvey, a, *mailbox,
                                                    ticket.id, thread),
                             ticket);
                s->state = domain::SurveyState::kSent;
                s->sent_time = now;
                s->expire_time = claims.expire_time;
                s->agent = ticket.assignee;
                s->channel = domain::ChannelName(ticket.channel);
                s->queue = ticket.queue;
                tx.SaveSurvey(*s);
                sent = true;
                return ticket;
              })
          .status());
  return sent;
}

absl::StatusOr<domain::Survey> Surveys::Answer(const std::string& tenant, const std::string& token,
                                               int rating, std::string reason,
                                               std::string comment) {
  absl::StatusOr<common::TrackingClaims> claims =
      common::VerifyTrackingToken(link_key_, token, clock_.Now());
  if (!claims.ok() || claims->action != common::TrackingAction::kSurvey ||
      claims->tenant_id != tenant || claims->link > 1) {
    return common::TrackingLinkInvalid();
  }
  const domain::SurveyKind kind = claims->link == LinkKind(domain::SurveyKind::kNps)
                                      ? domain::SurveyKind::kNps
                                      : domain::SurveyKind::kCsat;
  CRM_RETURN_IF_ERROR(domain::CheckAnswer(kind, rating, reason, comment));
  const Actor actor{tenant, kRespondent, "", "AnswerSurvey", "", ""};
  domain::Survey out;
  CRM_RETURN_IF_ERROR(
      repository_
          .Run<domain::Ticket>(
              actor, claims->message_id,
              [&](TicketTx& tx) -> absl::StatusOr<domain::Ticket> {
                CRM_ASSIGN_OR_RETURN(std::optional<domain::Survey> s,
                                     tx.LockSurvey(claims->message_id));
                if (!s || s->kind != kind || s->state == domain::SurveyState::kScheduled ||
                    s->state == domain::SurveyState::kCancelled) {
                  return common::TrackingLinkInvalid();
                }
                CRM_ASSIGN_OR_RETURN(domain::Ticket ticket, tx.LoadTicket(s->ticket_id));
                if (s->state == domain::SurveyState::kAnswered) {
                  if (!SameAnswer(*s, rating, reason, comment)) return SurveyAnswered();
                  out = *s;
                  return ticket;
                }
                const absl::Time now = tickets_.NowAfter(ticket);
                if (now >= s->expire_time) return common::TrackingLinkInvalid();
                s->state = domain::SurveyState::kAnswered;
                s->answer_time = now;
                s->rating = rating;
                s->reason = reason;
                s->comment = comment;
                tx.SaveSurvey(*s);
                tx.AppendChanges(
                    ticket.id,
                    {{0, domain::SurveyKindName(kind), "",
                      absl::StrCat(rating, reason.empty() ? "" : " ", reason), kRespondent, now}});
                tx.EmitSurveyAnswered(*s, ticket);
                out = *s;
                CRM_ASSIGN_OR_RETURN(domain::SurveySettings settings, tx.ReadSurveySettings());
                if (kind == domain::SurveyKind::kCsat && rating < settings.reopen_below &&
                    ticket.status == domain::TicketStatus::kSolved) {
                  // A bad rating: the agents see why, and the ticket is theirs again.
                  domain::TicketMessage note;
                  note.id = ids_.NewId();
                  note.ticket_id = ticket.id;
                  note.kind = domain::MessageKind::kInternalNote;
                  note.body = absl::StrCat("Satisfaction survey: rated ", rating, " of 5",
                                           reason.empty() ? "" : absl::StrCat(" (", reason, ")"),
                                           comment.empty() ? "." : absl::StrCat(": ", comment));
                  CRM_RETURN_IF_ERROR(tickets_.WriteMessage(tx, actor, note, false).status());
                  domain::Ticket reopen;
                  reopen.status = domain::TicketStatus::kOpen;
                  CRM_ASSIGN_OR_RETURN(ticket, tickets_.WriteUpdate(tx, actor, ticket.id, reopen,
                                                                    {"status"}, "", {}));
                }
                // The answer's triggers (survey_answered): a rating told by rule.
                const domain::SurveyAnswerFacts facts{domain::SurveyKindName(kind), rating};
                domain::Ticket t = ticket;
                t.update_time = tickets_.NowAfter(ticket);
                CRM_ASSIGN_OR_RETURN(TriggerEffects fx,
                                     RunTriggersInWrite(tx, {domain::TriggerEvent::kSurveyAnswered},
                                                        &ticket, t, t.update_time, ids_, &facts));
                if (!WriteTriggerEffects(tx, ticket, t, fx)) return ticket;
                CRM_ASSIGN_OR_RETURN(t.sla_due, TrackSla(tx, t.id, t.update_time));
                return t;
              })
          .status());
  return out;
}

absl::StatusOr<domain::SurveyReport> Surveys::Report(const std::string& tenant, int days) {
  if (days == 0) days = domain::kDefaultReportDays;
  if (days < 1 || days > domain::kMaxReportDays) {
    return common::InvalidField(
        "days", absl::StrCat("days must be 1..", domain::kMaxReportDays, " (0: the default ",
                             domain::kDefaultReportDays, ")"));
  }
  const absl::Time to = Now();
  const absl::Time from = to - absl::Hours(24) * days;
  CRM_ASSIGN_OR_RETURN(std::vector<domain::SurveyRow> rows,
                       repository_.SurveyRows(tenant, from, to));
  CRM_ASSIGN_OR_RETURN(std::vector<domain::NpsCounts> nps, repository_.NpsRows(tenant, from, to));
  return domain::SummarizeSurveys(rows, nps, from, to);
}

}  // namespace crm::service_desk::app

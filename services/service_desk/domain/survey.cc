#include "services/service_desk/domain/survey.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "services/service_desk/domain/template.h"

namespace crm::service_desk::domain {
namespace {

const std::vector<absl::string_view>& FieldNames() {
  static const auto* const kNames =
      new std::vector<absl::string_view>(std::begin(kSurveyFields), std::end(kSurveyFields));
  return *kNames;
}

bool Tagged(const Ticket& t, absl::string_view tag) {
  return std::find(t.tags.begin(), t.tags.end(), tag) != t.tags.end();
}

NpsFigures NpsFiguresOf(NpsCounts c) {
  NpsFigures f;
  f.passives = c.answered - c.promoters - c.detractors;
  if (c.sent > 0) f.response_rate = static_cast<double>(c.answered) / c.sent;
  if (c.answered > 0) {
    f.score = 100.0 * static_cast<double>(c.promoters - c.detractors) / c.answered;
  }
  f.counts = std::move(c);
  return f;
}

SurveyFigures FiguresOf(SurveyCounts c) {
  SurveyFigures f;
  if (c.sent > 0) f.response_rate = static_cast<double>(c.answered) / c.sent;
  if (c.answered > 0) {
    f.csat = static_cast<double>(c.satisfied) / c.answered;
    f.average = static_cast<double>(c.rating_sum) / c.answered;
  }
  f.counts = std::move(c);
  return f;
}

}  // namespace

const char* SurveyKindName(SurveyKind k) { return k == SurveyKind::kNps ? "nps" : "csat"; }

std::optional<SurveyKind> SurveyKindFromName(absl::string_view name) {
  if (name == "csat") return SurveyKind::kCsat;
  if (name == "nps") return SurveyKind::kNps;
  return std::nullopt;
}

const char* SurveyStateName(SurveyState s) {
  switch (s) {
    case SurveyState::kScheduled:
      return "scheduled";
    case SurveyState::kSent:
      return "sent";
    case SurveyState::kAnswered:
      return "answered";
    case SurveyState::kCancelled:
      return "cancelled";
  }
  return "";
}

std::optional<SurveyState> SurveyStateFromName(absl::string_view name) {
  for (SurveyState s : {SurveyState::kScheduled, SurveyState::kSent, SurveyState::kAnswered,
                        SurveyState::kCancelled}) {
    if (name == SurveyStateName(s)) return s;
  }
  return std::nullopt;
}

absl::Status NormalizeAndValidate(SurveySettings& s) {
  if (s.csat_delay < absl::ZeroDuration() || s.csat_delay > kMaxCsatDelay) {
    return common::InvalidField("settings.csat_delay_seconds",
                                "settings.csat_delay_seconds must be 0..2,592,000 (30 days)");
  }
  s.csat_delay = absl::Seconds(absl::ToInt64Seconds(s.csat_delay));
  if (s.cooldown_days < 0 || s.cooldown_days > kMaxCooldownDays) {
    return common::InvalidField(
        "settings.cooldown_days",
        absl::StrCat("settings.cooldown_days must be 0..", kMaxCooldownDays, " (0: no limit)"));
  }
  if (s.reopen_below < 0 || s.reopen_below > 5) {
    return common::InvalidField("settings.reopen_below",
                                "settings.reopen_below must be 0..5 (0: never reopen)");
  }
  if (s.nps_every_days < 1 || s.nps_every_days > kMaxCooldownDays) {
    return common::InvalidField(
        "settings.nps_every_days",
        absl::StrCat("settings.nps_every_days must be 1..", kMaxCooldownDays));
  }
  for (const auto& [name, subject, body] :
       {std::tuple<std::string, const std::string*, const std::string*>{"", &s.subject, &s.body},
        {"nps_", &s.nps_subject, &s.nps_body}}) {
    CRM_RETURN_IF_ERROR(CheckTemplate(absl::StrCat("settings.", name, "subject"), *subject,
                                      FieldNames(), kMaxSurveySubject, true));
    const std::string field = absl::StrCat("settings.", name, "body");
    CRM_RETURN_IF_ERROR(CheckTemplate(field, *body, FieldNames(), kMaxSurveyBody, false));
    if (!body->empty() && !absl::StrContains(*body, "{{survey.link}}")) {
      return common::InvalidField(
          field, absl::StrCat(field, " must hold {{survey.link}}: the answer link"));
    }
  }
  return absl::OkStatus();
}

const char* SurveyVerdictName(SurveyVerdict v) {
  switch (v) {
    case SurveyVerdict::kScheduled:
      return "scheduled";
    case SurveyVerdict::kOff:
      return "off";
    case SurveyVerdict::kSpam:
      return "spam";
    case SurveyVerdict::kNoSurvey:
      return "no_survey";
    case SurveyVerdict::kAutomated:
      return "automated";
    case SurveyVerdict::kNoRequester:
      return "no_requester";
  }
  return "";
}

SurveyVerdict SurveyOnSolve(const SurveySettings& s, const Ticket& t, absl::string_view solver) {
  if (!s.csat_enabled && !s.nps_enabled) return SurveyVerdict::kOff;
  if (Tagged(t, kSpamTag)) return SurveyVerdict::kSpam;
  if (Tagged(t, kNoSurveyTag)) return SurveyVerdict::kNoSurvey;
  if (absl::StartsWith(solver, "automation/")) return SurveyVerdict::kAutomated;
  if (t.requester_email.empty()) return SurveyVerdict::kNoRequester;
  return SurveyVerdict::kScheduled;
}

std::optional<SurveyKind> KindOnSolve(const SurveySettings& s, bool nps_due) {
  if (s.nps_enabled && nps_due) return SurveyKind::kNps;
  if (s.csat_enabled) return SurveyKind::kCsat;
  return std::nullopt;
}

const char* SendVerdictName(SendVerdict v) {
  switch (v) {
    case SendVerdict::kSend:
      return "send";
    case SendVerdict::kOff:
      return "off";
    case SendVerdict::kReopened:
      return "reopened";
    case SendVerdict::kExcluded:
      return "excluded";
    case SendVerdict::kCooldown:
      return "cooldown";
    case SendVerdict::kNoMailbox:
      return "no_mailbox";
    case SendVerdict::kMerged:
      return "merged";
  }
  return "";
}

SendVerdict DecideSend(const SurveySettings& s, SurveyKind kind, const Ticket& t,
                       bool surveyed_within_cooldown, bool has_mailbox) {
  if (!(kind == SurveyKind::kNps ? s.nps_enabled : s.csat_enabled)) return SendVerdict::kOff;
  if (!IsDone(t.status)) return SendVerdict::kReopened;
  if (!t.merged_into.empty()) return SendVerdict::kMerged;
  if (Tagged(t, kSpamTag) || Tagged(t, kNoSurveyTag)) return SendVerdict::kExcluded;
  if (surveyed_within_cooldown) return SendVerdict::kCooldown;
  if (!has_mailbox) return SendVerdict::kNoMailbox;
  return SendVerdict::kSend;
}

SurveyText SurveyTextOf(const SurveySettings& s, SurveyKind kind, const Ticket& t,
                        const std::string& link) {
  const TemplateValues values = {{"ticket.number", absl::StrCat(t.number)},
                                 {"ticket.subject", t.subject},
                                 {"requester.email", t.requester_email},
                                 {"survey.link", link}};
  const bool nps = kind == SurveyKind::kNps;
  const std::string& subject = nps ? s.nps_subject : s.subject;
  const std::string& body = nps ? s.nps_body : s.body;
  return {FillTemplate(!subject.empty() ? subject
                       : nps            ? kDefaultNpsSubject
                                        : kDefaultSurveySubject,
                       values),
          FillTemplate(!body.empty() ? body
                       : nps         ? kDefaultNpsBody
                                     : kDefaultSurveyBody,
                       values)};
}

absl::Status CheckAnswer(SurveyKind kind, int rating, std::string& reason, std::string& comment) {
  const int low = kind == SurveyKind::kNps ? 0 : 1;
  const int high = kind == SurveyKind::kNps ? 10 : 5;
  if (rating < low || rating > high) {
    return common::InvalidField("rating", absl::StrCat("rating must be ", low, "..", high));
  }
  reason = std::string(absl::StripAsciiWhitespace(reason));
  if (!reason.empty() && std::find(std::begin(kSurveyReasons), std::end(kSurveyReasons),
                                   absl::string_view(reason)) == std::end(kSurveyReasons)) {
    return common::InvalidField(
        "reason",
        "reason must be resolved, quick, friendly, not_resolved, slow, unfriendly, other or none");
  }
  comment = std::string(absl::StripAsciiWhitespace(comment));
  CRM_RETURN_IF_ERROR(common::CheckStorableText("comment", comment));
  if (CharCount(comment) > kMaxSurveyComment) {
    return common::InvalidField("comment", "comment must be at most 2,000 characters");
  }
  return absl::OkStatus();
}

SurveyReport SummarizeSurveys(const std::vector<SurveyRow>& rows, const std::vector<NpsCounts>& nps,
                              absl::Time from, absl::Time to) {
  SurveyReport r;
  for (const NpsCounts& c : nps) {
    if (c.month.empty()) {
      r.nps = NpsFiguresOf(c);
    } else {
      r.nps_by_month.push_back(NpsFiguresOf(c));
    }
  }
  std::sort(
      r.nps_by_month.begin(), r.nps_by_month.end(),
      [](const NpsFigures& a, const NpsFigures& b) { return a.counts.month < b.counts.month; });
  r.from = from;
  r.to = to;
  for (const SurveyRow& row : rows) {
    std::vector<SurveyFigures>* into = row.dimension == "agent"         ? &r.by_agent
                                       : row.dimension == "channel"     ? &r.by_channel
                                       : row.dimension == "queue"       ? &r.by_queue
                                       : row.dimension == "intent"      ? &r.by_intent
                                       : row.dimension == "answered_by" ? &r.by_answered_by
                                                                        : nullptr;
    if (into == nullptr) {
      r.total = FiguresOf(row.counts);
      r.total.counts.value.clear();
    } else {
      into->push_back(FiguresOf(row.counts));
    }
  }
  for (auto* list : {&r.by_agent, &r.by_channel, &r.by_queue, &r.by_intent, &r.by_answered_by}) {
    std::sort(list->begin(), list->end(), [](const SurveyFigures& a, const SurveyFigures& b) {
      return a.counts.sent != b.counts.sent ? a.counts.sent > b.counts.sent
                                            : a.counts.value < b.counts.value;
    });
  }
  return r;
}

}  // namespace crm::service_desk::domain

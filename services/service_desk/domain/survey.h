#pragma once
// Satisfaction surveys (docs/service-desk.md, "Satisfaction"): the
// tenant's settings; which survey a solved ticket gets (CSAT about the
// ticket, or NPS about the relationship on its own cadence), and whether a
// due one still goes out; the survey mail's text; an answer's checks; the
// report's figures. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::domain {

inline constexpr absl::Duration kDefaultCsatDelay = absl::Hours(24);
inline constexpr absl::Duration kMaxCsatDelay = absl::Hours(24 * 30);
// A survey's link answers for this long after it was sent.
inline constexpr absl::Duration kSurveyValidity = absl::Hours(24 * 28);
inline constexpr int kMaxCooldownDays = 365;
inline constexpr int kDefaultNpsEveryDays = 90;
inline constexpr size_t kMaxSurveySubject = 500;
inline constexpr size_t kMaxSurveyBody = 20'000;

struct SurveySettings {
  bool csat_enabled = false;
  absl::Duration csat_delay = kDefaultCsatDelay;  // after the solve; 0 .. 30 days
  // A customer gets at most one survey in this many days (0: no limit).
  int cooldown_days = 0;
  // Templates of kSurveyFields ("": the defaults below); the body must
  // hold {{survey.link}}.
  std::string subject;
  std::string body;
  // A CSAT rating below it reopens the ticket when it is solved (0: never; 1..5).
  int reopen_below = 0;
  // NPS: a customer is asked at most once in nps_every_days (1..365): the
  // first solve of theirs after that asks NPS instead of CSAT.
  bool nps_enabled = false;
  int nps_every_days = kDefaultNpsEveryDays;
  std::string nps_subject;  // templates as above ("": the NPS defaults)
  std::string nps_body;
  int64_t version = 0;  // the etag (0 before the first write)
  absl::Time update_time = absl::InfinitePast();
};

inline constexpr const char* kSurveyFields[] = {"ticket.number", "ticket.subject",
                                                "requester.email", "survey.link"};
inline constexpr char kDefaultSurveySubject[] = "How did we do? [#{{ticket.number}}]";
inline constexpr char kDefaultSurveyBody[] =
    "Hello,\n\n"
    "your request #{{ticket.number}} ({{ticket.subject}}) was solved. How satisfied are you "
    "with our help? It takes one click and no login:\n\n"
    "{{survey.link}}\n\n"
    "The link works for 28 days.";

inline constexpr char kDefaultNpsSubject[] = "How likely are you to recommend us?";
inline constexpr char kDefaultNpsBody[] =
    "Hello,\n\n"
    "how likely are you to recommend us to a friend or colleague? It takes one click and no "
    "login:\n\n"
    "{{survey.link}}\n\n"
    "The link works for 28 days.";

// Checks every field: INVALID_ARGUMENT naming settings.csat_delay_seconds,
// settings.cooldown_days, settings.subject, settings.body (a template
// field that is none of kSurveyFields, or a body without
// {{survey.link}}), settings.reopen_below, settings.nps_every_days,
// settings.nps_subject, settings.nps_body.
absl::Status NormalizeAndValidate(SurveySettings& s);

// Tags that keep a solved ticket from any survey.
inline constexpr char kNoSurveyTag[] = "no_survey";
inline constexpr char kSpamTag[] = "spam";

// CSAT: 1..5 about the ticket; NPS: 0..10, how likely the customer
// recommends the company.
enum class SurveyKind { kCsat = 1, kNps };
const char* SurveyKindName(SurveyKind k);  // "csat", "nps"
std::optional<SurveyKind> SurveyKindFromName(absl::string_view name);

// Whether a ticket just solved by `solver` (a principal) gets a survey,
// or why not, in the order checked.
enum class SurveyVerdict {
  kScheduled,
  kOff,          // the tenant sends neither kind
  kSpam,         // tagged spam
  kNoSurvey,     // tagged no_survey ("solve without survey")
  kAutomated,    // solved or closed by an automation, not by a person
  kNoRequester,  // no email address to ask
};
const char* SurveyVerdictName(SurveyVerdict v);  // "scheduled", "off", ...
SurveyVerdict SurveyOnSolve(const SurveySettings& s, const Ticket& t, absl::string_view solver);
// Which: NPS when it is on and `nps_due` (the customer was not asked one
// within nps_every_days), else CSAT when it is on (nullopt: neither).
std::optional<SurveyKind> KindOnSolve(const SurveySettings& s, bool nps_due);

// At its due time, whether a scheduled survey goes out, or why not.
enum class SendVerdict {
  kSend,
  kOff,        // the tenant turned this kind of survey off meanwhile
  kReopened,   // the ticket is no longer solved or closed
  kExcluded,   // tagged spam or no_survey meanwhile
  kCooldown,   // the customer got a survey within the cooldown
  kNoMailbox,  // the tenant has no mailbox to send from
  kMerged,     // the ticket was merged into another (its thread is there)
};
const char* SendVerdictName(SendVerdict v);  // "send", "off", "reopened", ...
SendVerdict DecideSend(const SurveySettings& s, SurveyKind kind, const Ticket& t,
                       bool surveyed_within_cooldown, bool has_mailbox);

// A ticket's survey: scheduled at its solve, sent (or cancelled) when
// due, answered once through its link before it expires.
enum class SurveyState { kScheduled = 1, kSent, kAnswered, kCancelled };
const char* SurveyStateName(SurveyState s);  // "scheduled", "sent", "answered", "cancelled"
std::optional<SurveyState> SurveyStateFromName(absl::string_view name);
struct Survey {
  std::string id;  // UUID
  std::string ticket_id;
  std::string customer_id;
  SurveyKind kind = SurveyKind::kCsat;
  SurveyState state = SurveyState::kScheduled;
  std::string cancel_reason;  // SendVerdictName of a cancelled one
  absl::Time due_time = absl::InfinitePast();
  absl::Time sent_time = absl::InfinitePast();  // InfinitePast: not sent
  absl::Time expire_time = absl::InfinitePast();
  absl::Time answer_time = absl::InfinitePast();
  // The ticket's when it was sent: the report's dimensions.
  std::string agent;
  std::string channel;
  std::string queue;
  int rating = -1;  // once answered: 1..5 (CSAT), 0..10 (NPS)
  std::string reason;
  std::string comment;
};

// The survey mail's subject and body for ticket `t` with the answer link.
struct SurveyText {
  std::string subject;
  std::string body;
};
SurveyText SurveyTextOf(const SurveySettings& s, SurveyKind kind, const Ticket& t,
                        const std::string& link);

// An answer: a rating (CSAT 1..5, NPS 0..10), a reason (one of
// kSurveyReasons, or none) and a comment (up to 2,000 characters,
// trimmed). INVALID_ARGUMENT naming rating, reason or comment.
inline constexpr const char* kSurveyReasons[] = {
    "resolved", "quick", "friendly", "not_resolved", "slow", "unfriendly", "other"};
inline constexpr size_t kMaxSurveyComment = 2'000;
absl::Status CheckAnswer(SurveyKind kind, int rating, std::string& reason, std::string& comment);
// Whether a rating counts as satisfied (CSAT: the share of 4 and 5).
inline bool Satisfied(int rating) { return rating >= 4; }

// NPS: promoters rate 9 or 10, detractors 0 to 6; the score is
// 100 × (promoters − detractors) / answered, -100..100.
struct NpsCounts {
  std::string month;  // "YYYY-MM" of the answers ("" in the total)
  int64_t sent = 0;
  int64_t answered = 0;
  int64_t promoters = 0;
  int64_t detractors = 0;
};
struct NpsFigures {
  NpsCounts counts;
  int64_t passives = 0;
  double response_rate = 0;
  double score = 0;
};

// The report (GET /v1/surveyReport): the CSAT surveys sent in a period,
// counted as a whole and by the ticket's agent, channel, queue and intent
// when it was sent ("" for none); the NPS surveys' score.
struct SurveyCounts {
  std::string value;  // the agent, channel, queue or intent ("" in the total)
  int64_t sent = 0;
  int64_t answered = 0;
  int64_t satisfied = 0;   // rated 4 or 5
  int64_t rating_sum = 0;  // of the answers
};
struct SurveyFigures {
  SurveyCounts counts;
  double response_rate = 0;  // answered / sent
  double csat = 0;           // satisfied / answered
  double average = 0;        // rating_sum / answered
};
struct SurveyReport {
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfinitePast();
  SurveyFigures total;
  std::vector<SurveyFigures> by_agent, by_channel, by_queue, by_intent;  // most sent first
  // "auto_response" (tickets its intent's macro answered) and "agent".
  std::vector<SurveyFigures> by_answered_by;
  NpsFigures nps;
  std::vector<NpsFigures> nps_by_month;  // oldest first
};
// The rows of a grouped count: dimension "" (the total), "agent",
// "channel", "queue" or "intent".
struct SurveyRow {
  std::string dimension;
  SurveyCounts counts;
};
// NPS rows: the total (month ""), then the answers by month (of surveys
// sent in the period; `sent` there counts the answered).
SurveyReport SummarizeSurveys(const std::vector<SurveyRow>& rows, const std::vector<NpsCounts>& nps,
                              absl::Time from, absl::Time to);

}  // namespace crm::service_desk::domain

#pragma once
// Satisfaction surveys (docs/service-desk.md, "Satisfaction"): the
// tenant's settings (read by every role, written whole under their etag
// by admins); the sweeper's round sending the CSAT surveys that fell due
// (a ticket's solve schedules them: Tickets::ScheduleSurveyOnSolve) as
// mail through delivery with a signed single-use answer link; the answer
// through that link (no login); the report.
#include <string>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "services/service_desk/app/ports.h"
#include "services/service_desk/app/tickets.h"

namespace crm::service_desk::app {

struct SurveyRound {
  int sent = 0;
  int cancelled = 0;  // due but not sent (domain::SendVerdict)
  bool more = false;  // the round read a full batch
  absl::Status failure;
};

class Surveys final {
 public:
  // `link_key`: the tracking-link key (common::TrackingKey of the context
  // key), which the gateway checks too; `base_url`: the gateway as
  // customers reach it, without a trailing slash.
  Surveys(TicketRepository& repository, Tickets& tickets, const common::Clock& clock,
          common::IdGenerator& ids, std::string link_key, std::string base_url)
      : repository_(repository),
        tickets_(tickets),
        clock_(clock),
        ids_(ids),
        link_key_(std::move(link_key)),
        base_url_(std::move(base_url)) {}

  absl::StatusOr<domain::SurveySettings> GetSettings(const std::string& tenant);
  // if_match: the settings' etag ("0" before the first write; "" = last
  // writer wins). INVALID_ARGUMENT naming the field; ABORTED ETAG_MISMATCH.
  absl::StatusOr<domain::SurveySettings> UpdateSettings(const Actor& actor,
                                                        domain::SurveySettings s,
                                                        const std::string& if_match);
  // Sends or cancels up to `batch` due surveys of every tenant.
  SurveyRound Sweep(int batch);
  // The answer of the survey a link's token names, in `tenant` (the
  // token's: the gateway's call). NOT_FOUND TRACKING_LINK_INVALID for a
  // token that is not valid here (altered, another tenant's, expired, a
  // survey never sent); INVALID_ARGUMENT naming rating, reason or comment;
  // FAILED_PRECONDITION SURVEY_ANSWERED for a second, different answer
  // (the same answer again is answered as the first). A rating below the
  // settings' reopen_below reopens a solved ticket with a note.
  absl::StatusOr<domain::Survey> Answer(const std::string& tenant, const std::string& token,
                                        int rating, std::string reason, std::string comment);
  // The surveys sent in the last `days` (1..366; 0: 30; INVALID_ARGUMENT
  // naming days otherwise).
  absl::StatusOr<domain::SurveyReport> Report(const std::string& tenant, int days);

 private:
  // One due survey: sent (true) or cancelled or gone (false).
  absl::StatusOr<bool> Send(const TicketRepository::DueSurvey& due);
  absl::Time Now() const;

  TicketRepository& repository_;
  Tickets& tickets_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
  const std::string link_key_;
  const std::string base_url_;
};

}  // namespace crm::service_desk::app

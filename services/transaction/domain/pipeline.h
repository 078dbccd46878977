#pragma once
// The sales pipeline (pure): leads and their status moves, opportunities and
// their stage machine, per-tenant stage probabilities and the weighted
// forecast.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/common/etag.h"
#include "services/transaction/domain/order.h"

namespace crm::transaction::domain {

// Numeric values match crm.transaction.v1.LeadStatus / OpportunityStage /
// ForecastPeriod.
enum class LeadStatus : int {
  kUnspecified = 0,
  kNew = 1,
  kWorking = 2,
  kQualified = 3,
  kDisqualified = 4,
  kConverted = 5,
};
enum class OpportunityStage : int {
  kUnspecified = 0,
  kProspecting = 1,
  kQualification = 2,
  kProposal = 3,
  kNegotiation = 4,
  kClosedWon = 5,
  kClosedLost = 6,
};
enum class ForecastPeriod : int { kUnspecified = 0, kMonth = 1, kQuarter = 2 };

struct Lead {
  std::string id;
  std::string given_name;
  std::string family_name;
  std::string company_name;
  std::string email;
  std::string phone;
  std::string source;
  LeadStatus status = LeadStatus::kUnspecified;
  std::string owner;
  int score = 0;
  std::string customer_id;     // set by the conversion
  std::string opportunity_id;  // set by the conversion
  absl::Time convert_time = absl::InfinitePast();
  int64_t version = 0;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

struct Opportunity {
  std::string id;
  std::string name;
  std::string customer_id;  // "" = none yet
  std::string lead_id;      // "" = not from a lead
  int64_t amount_minor = 0;
  std::string currency_code;
  absl::CivilDay expected_close_date = absl::CivilDay(1, 1, 1);  // year 1: not given
  std::string owner;
  OpportunityStage stage = OpportunityStage::kUnspecified;
  std::string order_id;  // set when won with an order
  std::string close_reason;
  absl::Time close_time = absl::InfinitePast();
  int64_t version = 0;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

struct StageChange {
  OpportunityStage from = OpportunityStage::kUnspecified;  // unspecified: the creation
  OpportunityStage to = OpportunityStage::kUnspecified;
  absl::Time at = absl::InfinitePast();
  std::string principal;
};

// Probability in percent per stage, indexed by the stage's number (index 0
// unused).
struct StageProbabilities {
  std::array<int, 7> percent = {0, 10, 20, 50, 80, 100, 0};
  int Of(OpportunityStage s) const { return percent[static_cast<size_t>(s)]; }
};
inline constexpr int kStageCount = 6;

inline constexpr int64_t kMaxAmountMinor = 1'000'000'000'000'000;  // 10^15
inline constexpr int kMaxForecastYears = 5;

const char* LeadStatusName(LeadStatus s);    // "new", "working", ...
const char* StageName(OpportunityStage s);   // "prospecting", ..., "closed_won"
bool IsOpen(OpportunityStage s);             // prospecting .. negotiation
bool IsClosed(OpportunityStage s);           // closed won / lost
bool IsValidStage(int v);                    // 1..6

std::string EtagOf(const Lead& l);
std::string EtagOf(const Opportunity& o);

// "YYYY-MM-DD" (a real calendar day, years 1900..9999); INVALID_FIELD on
// `field` otherwise.
absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view field, absl::string_view text);
std::string FormatDate(absl::CivilDay d);

// Trims and normalizes a lead (email lower-cased, phone to E.164), checks
// every field; errors name the field. A new lead must have a name, a
// company, an email or a phone.
absl::Status NormalizeAndValidate(Lead& l);
// INVALID_ARGUMENT (INVALID_FIELD on name, amount_minor, currency_code,
// customer_id, owner, close_reason...) for a bad opportunity; upper-cases the
// currency and trims text.
absl::Status NormalizeAndValidate(Opportunity& o);

// new -> working | disqualified; working -> qualified | disqualified. Any
// other move (and any move to converted) is FAILED_PRECONDITION
// (INVALID_LEAD_TRANSITION) naming the current status.
absl::Status CheckLeadTransition(LeadStatus from, LeadStatus to);
// A lead converts from new, working or qualified; otherwise
// FAILED_PRECONDITION (LEAD_ALREADY_CONVERTED / INVALID_LEAD_TRANSITION).
absl::Status CheckConvertible(const Lead& l);
// Converted leads are read-only: FAILED_PRECONDITION (LEAD_ALREADY_CONVERTED).
absl::Status CheckLeadEditable(const Lead& l);

// From an open stage to any other stage; closed stages are final. Otherwise
// FAILED_PRECONDITION (INVALID_STAGE_TRANSITION) naming the current stage.
absl::Status CheckStageMove(OpportunityStage from, OpportunityStage to);
// Closed opportunities are read-only: FAILED_PRECONDITION
// (INVALID_STAGE_TRANSITION) naming the stage.
absl::Status CheckOpportunityEditable(const Opportunity& o);

// Field masks (paths as in the proto). Unknown or read-only paths are
// INVALID_ARGUMENT (INVALID_UPDATE_MASK, field update_mask); an empty mask
// too. A status path is checked with CheckLeadTransition.
// GDPR erasure of the customer a lead was converted into / an opportunity
// belongs to: a lead loses its personal fields (given and family name,
// email, phone; company, source, status, owner and score are business data
// and stay); an opportunity's name (often the person's name, the default at
// conversion) becomes kErasedName and its free-text close reason is
// cleared. Return whether anything changed (so a repeat writes nothing).
inline constexpr char kErasedName[] = "[erased]";
bool ErasePersonalData(Lead& l);
bool ErasePersonalData(Opportunity& o);

absl::Status ApplyLeadMask(const Lead& patch, const std::vector<std::string>& paths, Lead& target);
absl::Status ApplyOpportunityMask(const Opportunity& patch, const std::vector<std::string>& paths,
                                  Opportunity& target);

// ---- Writes: how a stored lead or opportunity changes. The repositories
// (PostgreSQL and the fakes) load it under a lock, call these and save
// what they return, so both keep exactly the same rules.

// CheckEtag (ABORTED ETAG_MISMATCH unless if_match is empty or equals the
// etag) is libs/common/etag.h's.
using common::CheckEtag;

// An update of `current`: if_match checked against its etag, then `mutate`
// runs on a copy. A mutation that changed nothing but the update time
// leaves `current` as it was and returns false (nothing to write, no
// event); otherwise `current` becomes the copy with version + 1 and it
// returns true (write it; lead.updated / opportunity.updated).
absl::StatusOr<bool> ApplyUpdate(Lead& current, const std::string& if_match,
                                 const std::function<absl::Status(Lead&)>& mutate);
absl::StatusOr<bool> ApplyUpdate(Opportunity& current, const std::string& if_match,
                                 const std::function<absl::Status(Opportunity&)>& mutate);

// Converting `lead` into customer `customer_id` with the new opportunity
// `o` (CheckConvertible; INVALID_FIELD customer_id unless a UUID): `o` is
// booked to the customer and the lead; the lead becomes converted (customer,
// opportunity, convert and update time = o.create_time, version + 1).
// Neither changes on a refusal. Events: lead.converted, opportunity.created.
absl::Status ApplyConversion(Lead& lead, Opportunity& o, const std::string& customer_id);

// A stage move: to the stage, with, for a close, its reason and order.
struct StageMove {
  OpportunityStage to = OpportunityStage::kUnspecified;
  std::string if_match;  // etag; "" = no check
  std::string close_reason;
  // Closing as won with an order: the order (prepared by Orders::Prepare) is
  // written with the move, booked to the opportunity's customer as it is
  // when the move applies (FAILED_PRECONDITION OPPORTUNITY_WITHOUT_CUSTOMER
  // when it has none), and linked as order_id.
  std::optional<Order> order;
};

// Moves `o` (unchanged on a refusal): if_match against its etag (ABORTED
// ETAG_MISMATCH), CheckStageMove, and for a move with an order a customer
// (FAILED_PRECONDITION OPPORTUNITY_WITHOUT_CUSTOMER on customer_id); then
// the stage, for a closed stage close time `now` and the reason, the
// order's id, version + 1 and update time `now`. The caller writes the
// order, booked to o.customer_id, and a stage-history row, and emits
// StageMoveEventTypes(m.to).
absl::Status ApplyStageMove(Opportunity& o, const StageMove& m, absl::Time now);
// The events of a move to `to`, in order: opportunity.stage_changed, then
// opportunity.won / opportunity.lost for a closed stage.
std::vector<const char*> StageMoveEventTypes(OpportunityStage to);

// ErasePersonalData and, when it changed anything, version + 1 and update
// time `now` (lead.updated / opportunity.updated); false: nothing to write.
bool ApplyErasure(Lead& l, absl::Time now);
bool ApplyErasure(Opportunity& o, absl::Time now);

// The tenant's probabilities after setting `changes` (stage, percent): every
// stage 1..6 once at most, percent 0..100; errors name "stages[i]...".
absl::StatusOr<StageProbabilities> ApplyProbabilities(
    const StageProbabilities& current, const std::vector<std::pair<int, int>>& changes);

// amount x percent / 100, rounded half away from zero (exact: no floating
// point). amount is at most 10^15 in magnitude, percent 0..100.
int64_t WeightedAmount(int64_t amount_minor, int percent);

// One opportunity as the forecast sees it.
struct ForecastItem {
  std::string owner;
  std::string currency_code;
  OpportunityStage stage = OpportunityStage::kUnspecified;
  int64_t amount_minor = 0;
  absl::CivilDay expected_close_date;
  absl::CivilDay close_day;  // won: the UTC day of the close
};

struct ForecastRow {
  std::string owner;
  std::string period;        // "2026-04" / "2026-Q2"
  absl::CivilDay period_start;
  std::string currency_code;
  int64_t open_count = 0;
  int64_t open_amount_minor = 0;
  int64_t weighted_amount_minor = 0;
  int64_t won_count = 0;
  int64_t won_amount_minor = 0;
};

struct ForecastRange {
  ForecastPeriod period = ForecastPeriod::kMonth;
  absl::CivilDay from;
  absl::CivilDay to;  // inclusive
};

// INVALID_FIELD on from_date / to_date / period for a bad range (to before
// from, longer than kMaxForecastYears, unknown period).
absl::Status CheckForecastRange(const ForecastRange& r);
// Start of the period holding `d` and its label.
absl::CivilDay PeriodStart(ForecastPeriod p, absl::CivilDay d);
std::string PeriodLabel(ForecastPeriod p, absl::CivilDay d);

// Open items by expected close date and won items by close day, both within
// [from, to]; lost items and items outside the range are ignored. One row
// per owner x period x currency with at least one item, ordered by owner,
// period, currency. OUT_OF_RANGE if a sum overflows int64.
absl::StatusOr<std::vector<ForecastRow>> ComputeForecast(const std::vector<ForecastItem>& items,
                                                         const StageProbabilities& probabilities,
                                                         const ForecastRange& range);

}  // namespace crm::transaction::domain

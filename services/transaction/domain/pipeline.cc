#include "services/transaction/domain/pipeline.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/currency.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"

namespace crm::transaction::domain {

using common::InvalidField;

namespace {

std::string Trim(const std::string& s) { return std::string(absl::StripAsciiWhitespace(s)); }

absl::Status CheckText(absl::string_view field, const std::string& value, size_t max) {
  CRM_RETURN_IF_ERROR(common::CheckStorableText(field, value));
  if (value.size() > max) {
    return InvalidField(field, absl::StrCat(field, " is at most ", max, " characters"));
  }
  return absl::OkStatus();
}

absl::Status BadMask(const std::string& path, absl::string_view why) {
  return common::WithField(
      common::WithReason(
          absl::InvalidArgumentError(absl::StrCat("update_mask path \"", path, "\" ", why)),
          "INVALID_UPDATE_MASK"),
      "update_mask");
}

// The simple shape every deliverable address has: local@domain.tld, no
// spaces. Customer-store applies its full rules when the lead converts.
bool LooksLikeEmail(const std::string& e) {
  size_t at = e.find('@');
  if (at == std::string::npos || at == 0 || e.find('@', at + 1) != std::string::npos) return false;
  size_t dot = e.find('.', at + 2);
  if (dot == std::string::npos || dot + 1 >= e.size()) return false;
  for (char c : e) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || absl::ascii_iscntrl(static_cast<unsigned char>(c))) return false;
  }
  return e.size() <= 254;
}

}  // namespace

const char* LeadStatusName(LeadStatus s) {
  switch (s) {
    case LeadStatus::kNew: return "new";
    case LeadStatus::kWorking: return "working";
    case LeadStatus::kQualified: return "qualified";
    case LeadStatus::kDisqualified: return "disqualified";
    case LeadStatus::kConverted: return "converted";
    default: return "unspecified";
  }
}

const char* StageName(OpportunityStage s) {
  switch (s) {
    case OpportunityStage::kProspecting: return "prospecting";
    case OpportunityStage::kQualification: return "qualification";
    case OpportunityStage::kProposal: return "proposal";
    case OpportunityStage::kNegotiation: return "negotiation";
    case OpportunityStage::kClosedWon: return "closed_won";
    case OpportunityStage::kClosedLost: return "closed_lost";
    default: return "unspecified";
  }
}

bool IsOpen(OpportunityStage s) {
  int v = static_cast<int>(s);
  return v >= 1 && v <= 4;
}
bool IsClosed(OpportunityStage s) {
  return s == OpportunityStage::kClosedWon || s == OpportunityStage::kClosedLost;
}
bool IsValidStage(int v) { return v >= 1 && v <= kStageCount; }

std::string EtagOf(const Lead& l) { return absl::StrCat(l.version); }
std::string EtagOf(const Opportunity& o) { return absl::StrCat(o.version); }

absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view field, absl::string_view text) {
  absl::CivilDay d;
  auto bad = [&] {
    return InvalidField(field, absl::StrCat(field, " must be a date YYYY-MM-DD"));
  };
  if (text.size() != 10 || !absl::ParseCivilTime(text, &d)) return bad();
  // ParseCivilTime normalizes (2026-02-30 -> 2026-03-02): insist on the
  // calendar day as written.
  if (FormatDate(d) != text || d.year() < 1900 || d.year() > 9999) return bad();
  return d;
}

std::string FormatDate(absl::CivilDay d) { return absl::FormatCivilTime(d); }

absl::Status NormalizeAndValidate(Lead& l) {
  l.given_name = Trim(l.given_name);
  l.family_name = Trim(l.family_name);
  l.company_name = Trim(l.company_name);
  l.email = absl::AsciiStrToLower(Trim(l.email));
  l.source = Trim(l.source);
  l.owner = Trim(l.owner);
  CRM_RETURN_IF_ERROR(CheckText("given_name", l.given_name, 200));
  CRM_RETURN_IF_ERROR(CheckText("family_name", l.family_name, 200));
  CRM_RETURN_IF_ERROR(CheckText("company_name", l.company_name, 200));
  CRM_RETURN_IF_ERROR(CheckText("source", l.source, 64));
  CRM_RETURN_IF_ERROR(CheckText("owner", l.owner, 128));
  if (!l.email.empty() && !LooksLikeEmail(l.email)) {
    return InvalidField("email", absl::StrCat("email \"", l.email, "\" is not an email address"));
  }
  if (!l.phone.empty()) {
    std::string digits;
    bool plus = false;
    bool ok = true;
    for (size_t i = 0; i < l.phone.size(); ++i) {
      char c = l.phone[i];
      if (c == '+' && digits.empty() && !plus) {
        plus = true;
      } else if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        digits.push_back(c);
      } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
        ok = false;
      }
    }
    if (!ok || !plus || digits.size() < 8 || digits.size() > 15 || digits[0] == '0') {
      return InvalidField("phone",
                          "phone must be an international number: + and 8..15 digits "
                          "(spaces, dashes, dots and parentheses are ignored)");
    }
    l.phone = absl::StrCat("+", digits);
  }
  if (l.given_name.empty() && l.family_name.empty() && l.company_name.empty() &&
      l.email.empty() && l.phone.empty()) {
    return InvalidField("family_name",
                        "a lead needs a name, a company name, an email or a phone");
  }
  if (l.score < 0 || l.score > 100) return InvalidField("score", "score must be 0..100");
  int status = static_cast<int>(l.status);
  if (status < 0 || status > 5) return InvalidField("status", "unknown status");
  return absl::OkStatus();
}

absl::Status NormalizeAndValidate(Opportunity& o) {
  o.name = Trim(o.name);
  o.owner = Trim(o.owner);
  o.close_reason = Trim(o.close_reason);
  if (o.name.empty()) return InvalidField("name", "name is required");
  CRM_RETURN_IF_ERROR(CheckText("name", o.name, 200));
  CRM_RETURN_IF_ERROR(CheckText("owner", o.owner, 128));
  CRM_RETURN_IF_ERROR(CheckText("close_reason", o.close_reason, 500));
  if (!o.customer_id.empty()) CRM_RETURN_IF_ERROR(CheckCustomerId(o.customer_id));
  if (o.amount_minor < 0 || o.amount_minor > kMaxAmountMinor) {
    return InvalidField("amount_minor", "amount_minor must be 0..10^15");
  }
  o.currency_code = absl::AsciiStrToUpper(o.currency_code);
  if (!common::MinorUnitDigits(o.currency_code)) {
    return InvalidField("currency_code",
                        absl::StrCat("currency_code \"", o.currency_code,
                                     "\" is not an ISO 4217 currency in circulation"));
  }
  if (o.expected_close_date.year() < 1900 || o.expected_close_date.year() > 9999) {
    return InvalidField("expected_close_date", "expected_close_date is required (YYYY-MM-DD)");
  }
  if (!IsValidStage(static_cast<int>(o.stage))) return InvalidField("stage", "unknown stage");
  return absl::OkStatus();
}

absl::Status CheckLeadTransition(LeadStatus from, LeadStatus to) {
  bool ok = (from == LeadStatus::kNew &&
             (to == LeadStatus::kWorking || to == LeadStatus::kDisqualified)) ||
            (from == LeadStatus::kWorking &&
             (to == LeadStatus::kQualified || to == LeadStatus::kDisqualified));
  if (ok) return absl::OkStatus();
  std::string hint = to == LeadStatus::kConverted ? " (use ConvertLead)" : "";
  return common::WithReason(
      absl::FailedPreconditionError(absl::StrCat("the lead is ", LeadStatusName(from),
                                                 "; it cannot become ", LeadStatusName(to),
                                                 hint)),
      "INVALID_LEAD_TRANSITION");
}

absl::Status CheckConvertible(const Lead& l) {
  if (l.status == LeadStatus::kConverted) {
    return common::WithReason(
        absl::FailedPreconditionError(absl::StrCat("the lead is already converted (opportunity ",
                                                   l.opportunity_id, ")")),
        "LEAD_ALREADY_CONVERTED");
  }
  if (l.status == LeadStatus::kDisqualified) {
    return common::WithReason(
        absl::FailedPreconditionError("the lead is disqualified; it cannot be converted"),
        "INVALID_LEAD_TRANSITION");
  }
  return absl::OkStatus();
}

absl::Status CheckLeadEditable(const Lead& l) {
  if (l.status != LeadStatus::kConverted) return absl::OkStatus();
  return common::WithReason(
      absl::FailedPreconditionError("the lead is converted; it is read-only"),
      "LEAD_ALREADY_CONVERTED");
}

absl::Status CheckStageMove(OpportunityStage from, OpportunityStage to) {
  if (IsOpen(from) && IsValidStage(static_cast<int>(to)) && from != to) return absl::OkStatus();
  std::string why = IsClosed(from) ? "closed stages are final"
                    : from == to   ? "it is already there"
                                   : "that is not a stage";
  return common::WithReason(
      absl::FailedPreconditionError(absl::StrCat("the opportunity is ", StageName(from),
                                                 "; it cannot move to ", StageName(to), ": ",
                                                 why)),
      "INVALID_STAGE_TRANSITION");
}

absl::Status CheckOpportunityEditable(const Opportunity& o) {
  if (!IsClosed(o.stage)) return absl::OkStatus();
  return common::WithReason(
      absl::FailedPreconditionError(
          absl::StrCat("the opportunity is ", StageName(o.stage), "; closed stages are final")),
      "INVALID_STAGE_TRANSITION");
}

absl::Status ApplyLeadMask(const Lead& patch, const std::vector<std::string>& paths,
                           Lead& target) {
  if (paths.empty()) return BadMask("", "is empty: name at least one field");
  for (const std::string& p : paths) {
    if (p == "given_name") {
      target.given_name = patch.given_name;
    } else if (p == "family_name") {
      target.family_name = patch.family_name;
    } else if (p == "company_name") {
      target.company_name = patch.company_name;
    } else if (p == "email") {
      target.email = patch.email;
    } else if (p == "phone") {
      target.phone = patch.phone;
    } else if (p == "source") {
      target.source = patch.source;
    } else if (p == "owner") {
      target.owner = patch.owner;
    } else if (p == "score") {
      target.score = patch.score;
    } else if (p == "status") {
      if (patch.status != target.status) {
        CRM_RETURN_IF_ERROR(CheckLeadTransition(target.status, patch.status));
      }
      target.status = patch.status;
    } else if (p == "id" || p == "customer_id" || p == "opportunity_id" ||
               p == "convert_time" || p == "etag" || p == "create_time" ||
               p == "update_time") {
      return BadMask(p, "cannot be changed");
    } else {
      return BadMask(p, "is not a field of Lead");
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyOpportunityMask(const Opportunity& patch, const std::vector<std::string>& paths,
                                  Opportunity& target) {
  if (paths.empty()) return BadMask("", "is empty: name at least one field");
  for (const std::string& p : paths) {
    if (p == "name") {
      target.name = patch.name;
    } else if (p == "amount_minor") {
      target.amount_minor = patch.amount_minor;
    } else if (p == "currency_code") {
      target.currency_code = patch.currency_code;
    } else if (p == "expected_close_date") {
      target.expected_close_date = patch.expected_close_date;
    } else if (p == "owner") {
      target.owner = patch.owner;
    } else if (p == "customer_id") {
      target.customer_id = patch.customer_id;
    } else if (p == "stage") {
      return BadMask(p, "is changed with MoveOpportunityStage or CloseOpportunity");
    } else if (p == "id" || p == "lead_id" || p == "order_id" || p == "close_reason" ||
               p == "close_time" || p == "etag" || p == "create_time" || p == "update_time") {
      return BadMask(p, "cannot be changed");
    } else {
      return BadMask(p, "is not a field of Opportunity");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<StageProbabilities> ApplyProbabilities(
    const StageProbabilities& current, const std::vector<std::pair<int, int>>& changes) {
  if (changes.empty()) return InvalidField("stages", "give at least one stage");
  StageProbabilities out = current;
  std::set<int> seen;
  for (size_t i = 0; i < changes.size(); ++i) {
    auto [stage, percent] = changes[i];
    std::string f = absl::StrCat("stages[", i, "]");
    if (!IsValidStage(stage)) {
      return InvalidField(absl::StrCat(f, ".stage"), absl::StrCat(f, ".stage is not a stage"));
    }
    if (!seen.insert(stage).second) {
      return InvalidField(absl::StrCat(f, ".stage"),
                          absl::StrCat(f, ".stage ", StageName(static_cast<OpportunityStage>(stage)),
                                       " appears twice"));
    }
    if (percent < 0 || percent > 100) {
      return InvalidField(absl::StrCat(f, ".probability_percent"),
                          absl::StrCat(f, ".probability_percent must be 0..100"));
    }
    out.percent[static_cast<size_t>(stage)] = percent;
  }
  return out;
}

int64_t WeightedAmount(int64_t amount_minor, int percent) {
  // |amount| <= 10^15 and percent <= 100: the product fits easily.
  int64_t q = amount_minor * percent;
  if (q >= 0) return (q + 50) / 100;
  return -((-q + 50) / 100);
}

absl::Status CheckForecastRange(const ForecastRange& r) {
  if (r.period != ForecastPeriod::kMonth && r.period != ForecastPeriod::kQuarter) {
    return InvalidField("period", "period must be FORECAST_PERIOD_MONTH or FORECAST_PERIOD_QUARTER");
  }
  if (r.to < r.from) return InvalidField("to_date", "to_date is before from_date");
  absl::CivilDay limit(r.from.year() + kMaxForecastYears, r.from.month(), r.from.day());
  if (r.to >= limit) {
    return InvalidField("to_date", absl::StrCat("the range is at most ", kMaxForecastYears,
                                                " years"));
  }
  return absl::OkStatus();
}

absl::CivilDay PeriodStart(ForecastPeriod p, absl::CivilDay d) {
  int month = d.month();
  if (p == ForecastPeriod::kQuarter) month = (month - 1) / 3 * 3 + 1;
  return absl::CivilDay(d.year(), month, 1);
}

std::string PeriodLabel(ForecastPeriod p, absl::CivilDay d) {
  if (p == ForecastPeriod::kQuarter) {
    return absl::StrFormat("%04d-Q%d", d.year(), (d.month() - 1) / 3 + 1);
  }
  return absl::StrFormat("%04d-%02d", d.year(), d.month());
}

absl::StatusOr<std::vector<ForecastRow>> ComputeForecast(const std::vector<ForecastItem>& items,
                                                         const StageProbabilities& probabilities,
                                                         const ForecastRange& range) {
  CRM_RETURN_IF_ERROR(CheckForecastRange(range));
  using Key = std::tuple<std::string, absl::CivilDay, std::string>;
  std::map<Key, ForecastRow> rows;
  bool overflow = false;
  auto add = [&overflow](int64_t& sum, int64_t v) {
    if (__builtin_add_overflow(sum, v, &sum)) overflow = true;
  };
  for (const ForecastItem& it : items) {
    bool open = IsOpen(it.stage);
    bool won = it.stage == OpportunityStage::kClosedWon;
    if (!open && !won) continue;
    absl::CivilDay day = open ? it.expected_close_date : it.close_day;
    if (day < range.from || day > range.to) continue;
    absl::CivilDay start = PeriodStart(range.period, day);
    ForecastRow& row = rows[Key(it.owner, start, it.currency_code)];
    if (row.period.empty()) {
      row.owner = it.owner;
      row.period = PeriodLabel(range.period, start);
      row.period_start = start;
      row.currency_code = it.currency_code;
    }
    if (open) {
      row.open_count += 1;
      add(row.open_amount_minor, it.amount_minor);
      add(row.weighted_amount_minor, WeightedAmount(it.amount_minor, probabilities.Of(it.stage)));
    } else {
      row.won_count += 1;
      add(row.won_amount_minor, it.amount_minor);
    }
  }
  if (overflow) {
    return absl::OutOfRangeError("the forecast amounts exceed 64 bits; narrow the range");
  }
  std::vector<ForecastRow> out;
  out.reserve(rows.size());
  for (auto& [k, row] : rows) out.push_back(std::move(row));
  return out;
}

bool ErasePersonalData(Lead& l) {
  if (l.given_name.empty() && l.family_name.empty() && l.email.empty() && l.phone.empty()) {
    return false;
  }
  l.given_name.clear();
  l.family_name.clear();
  l.email.clear();
  l.phone.clear();
  return true;
}

bool ErasePersonalData(Opportunity& o) {
  if (o.name == kErasedName && o.close_reason.empty()) return false;
  o.name = kErasedName;
  o.close_reason.clear();
  return true;
}

// ------------------------------------------------------------------- writes

namespace {

// Every field but the update time.
auto Content(const Lead& l) {
  return std::tie(l.id, l.given_name, l.family_name, l.company_name, l.email, l.phone, l.source,
                  l.status, l.owner, l.score, l.customer_id, l.opportunity_id, l.convert_time,
                  l.version, l.create_time);
}
auto Content(const Opportunity& o) {
  return std::tie(o.id, o.name, o.customer_id, o.lead_id, o.amount_minor, o.currency_code,
                  o.expected_close_date, o.owner, o.stage, o.order_id, o.close_reason, o.close_time,
                  o.version, o.create_time);
}

template <typename T>
absl::StatusOr<bool> Update(absl::string_view what, T& current, const std::string& if_match,
                            const std::function<absl::Status(T&)>& mutate) {
  CRM_RETURN_IF_ERROR(CheckEtag(what, EtagOf(current), if_match));
  T after = current;
  CRM_RETURN_IF_ERROR(mutate(after));
  if (Content(after) == Content(current)) return false;
  after.version = current.version + 1;
  current = std::move(after);
  return true;
}

template <typename T>
bool Erase(T& x, absl::Time now) {
  if (!ErasePersonalData(x)) return false;
  x.version += 1;
  x.update_time = now;
  return true;
}

}  // namespace

absl::StatusOr<bool> ApplyUpdate(Lead& current, const std::string& if_match,
                                 const std::function<absl::Status(Lead&)>& mutate) {
  return Update("lead", current, if_match, mutate);
}

absl::StatusOr<bool> ApplyUpdate(Opportunity& current, const std::string& if_match,
                                 const std::function<absl::Status(Opportunity&)>& mutate) {
  return Update("opportunity", current, if_match, mutate);
}

absl::Status ApplyConversion(Lead& lead, Opportunity& o, const std::string& customer_id) {
  CRM_RETURN_IF_ERROR(CheckConvertible(lead));
  CRM_RETURN_IF_ERROR(CheckCustomerId(customer_id));
  o.customer_id = customer_id;
  o.lead_id = lead.id;
  lead.status = LeadStatus::kConverted;
  lead.customer_id = customer_id;
  lead.opportunity_id = o.id;
  lead.convert_time = lead.update_time = o.create_time;
  lead.version += 1;
  return absl::OkStatus();
}

absl::Status ApplyStageMove(Opportunity& o, const StageMove& m, absl::Time now) {
  CRM_RETURN_IF_ERROR(CheckEtag("opportunity", EtagOf(o), m.if_match));
  CRM_RETURN_IF_ERROR(CheckStageMove(o.stage, m.to));
  if (m.order && o.customer_id.empty()) {
    return common::WithField(
        common::WithReason(
            absl::FailedPreconditionError("the opportunity has no customer_id; set it with "
                                          "UpdateOpportunity before creating its order"),
            "OPPORTUNITY_WITHOUT_CUSTOMER"),
        "customer_id");
  }
  if (m.order) o.order_id = m.order->id;
  o.stage = m.to;
  if (IsClosed(m.to)) {
    o.close_time = now;
    o.close_reason = m.close_reason;
  }
  o.version += 1;
  o.update_time = now;
  return absl::OkStatus();
}

std::vector<const char*> StageMoveEventTypes(OpportunityStage to) {
  std::vector<const char*> out = {"opportunity.stage_changed"};
  if (to == OpportunityStage::kClosedWon) out.push_back("opportunity.won");
  if (to == OpportunityStage::kClosedLost) out.push_back("opportunity.lost");
  return out;
}

bool ApplyErasure(Lead& l, absl::Time now) { return Erase(l, now); }
bool ApplyErasure(Opportunity& o, absl::Time now) { return Erase(o, now); }

}  // namespace crm::transaction::domain

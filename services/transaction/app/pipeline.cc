#include "services/transaction/app/pipeline.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/currency.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"

namespace crm::transaction::app {
namespace {

using domain::OpportunityStage;



absl::Status CheckId(const std::string& id, const char* field) {
  if (!common::IsUuid(id)) return common::InvalidField(field, absl::StrCat(field, " must be a UUID"));
  return absl::OkStatus();
}

// Errors of a nested message name their field under the request's field.
absl::Status Nest(absl::Status s, absl::string_view prefix) {
  std::string field = common::FieldOf(s);
  if (s.ok() || field.empty() || field == "request_id") return s;
  return common::WithField(std::move(s), absl::StrCat(prefix, ".", field));
}

absl::Status CheckOwnerFilter(const std::string& owner) {
  CRM_RETURN_IF_ERROR(common::CheckStorableText("owner", owner));
  if (owner.size() > 128) return common::InvalidField("owner", "owner is at most 128 characters");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> Pipeline::CheckCustomer(const Actor& actor,
                                                    const std::string& customer_id) {
  if (directory_ == nullptr) return customer_id;  // unit tests and tools only
  CRM_ASSIGN_OR_RETURN(bool replay, repository_.KeyUsed(actor));
  if (replay) return customer_id;  // answered from the key: nothing is written
  return directory_->CheckCustomerId(actor, customer_id);
}

absl::Time Pipeline::Now() const {
  return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now()));
}

// ------------------------------------------------------------------- leads

absl::StatusOr<domain::Lead> Pipeline::CreateLead(const Actor& actor, domain::Lead l) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  if (l.status == domain::LeadStatus::kUnspecified) l.status = domain::LeadStatus::kNew;
  if (l.status != domain::LeadStatus::kNew) {
    return common::InvalidField("status", "a lead starts as LEAD_STATUS_NEW");
  }
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(l));
  if (l.owner.empty()) l.owner = actor.principal;
  l.id = ids_.NewId();
  l.customer_id.clear();
  l.opportunity_id.clear();
  l.convert_time = absl::InfinitePast();
  l.version = 1;
  l.create_time = l.update_time = Now();
  return repository_.Run<domain::Lead>(actor, l.id,
                                       [&](PipelineTx& tx) -> absl::StatusOr<domain::Lead> {
                                         tx.SaveLead(l, true);
                                         tx.EmitLead("lead.created", l);
                                         return l;
                                       });
}

absl::StatusOr<domain::Lead> Pipeline::GetLead(const std::string& tenant, const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckId(id, "lead_id"));
  return repository_.GetLead(tenant, id);
}

absl::StatusOr<LeadPage> Pipeline::ListLeads(const std::string& tenant, const LeadQuery& q) {
  int status = static_cast<int>(q.status);
  if (status < 0 || status > 5) return common::InvalidField("status", "unknown status");
  CRM_RETURN_IF_ERROR(CheckOwnerFilter(q.owner));
  return repository_.ListLeads(tenant, q);
}

absl::StatusOr<domain::Lead> Pipeline::UpdateLead(const Actor& actor, const std::string& id,
                                                  const domain::Lead& patch,
                                                  const std::vector<std::string>& paths,
                                                  const std::string& if_match) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  CRM_RETURN_IF_ERROR(CheckId(id, "lead_id"));
  {
    // The mask alone (unknown or read-only paths), before any I/O.
    domain::Lead probe;
    probe.status = patch.status;
    CRM_RETURN_IF_ERROR(domain::ApplyLeadMask(patch, paths, probe));
  }
  absl::Time now = Now();
  return repository_.Run<domain::Lead>(
      actor, id, [&](PipelineTx& tx) -> absl::StatusOr<domain::Lead> {
        CRM_ASSIGN_OR_RETURN(domain::Lead lead, tx.LoadLead(id));
        CRM_ASSIGN_OR_RETURN(bool changed,
                             domain::ApplyUpdate(lead, if_match, [&](domain::Lead& current) {
                               CRM_RETURN_IF_ERROR(domain::CheckLeadEditable(current));
                               CRM_RETURN_IF_ERROR(domain::ApplyLeadMask(patch, paths, current));
                               CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(current));
                               if (current.owner.empty()) current.owner = actor.principal;
                               current.update_time = now;
                               return absl::OkStatus();
                             }));
        if (changed) {
          tx.SaveLead(lead, false);
          tx.EmitLead("lead.updated", lead);
        }
        return lead;
      });
}

absl::StatusOr<Conversion> Pipeline::ConvertLead(const Actor& actor, const std::string& lead_id,
                                                 const std::string& customer_id,
                                                 domain::Opportunity o) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  CRM_RETURN_IF_ERROR(CheckId(lead_id, "lead_id"));
  if (!customer_id.empty()) CRM_RETURN_IF_ERROR(domain::CheckCustomerId(customer_id));
  CRM_ASSIGN_OR_RETURN(domain::Lead lead, repository_.GetLead(actor.tenant_id, lead_id));

  // The opportunity, checked before anything is written or resolved.
  if (absl::StripAsciiWhitespace(o.name).empty()) {
    o.name = lead.company_name;
    if (o.name.empty()) o.name = absl::StrCat(lead.given_name, lead.given_name.empty() ? "" : " ",
                                              lead.family_name);
    if (absl::StripAsciiWhitespace(o.name).empty()) o.name = lead.email;
    if (o.name.empty()) o.name = lead.phone;
  }
  if (o.owner.empty()) o.owner = lead.owner.empty() ? actor.principal : lead.owner;
  if (o.stage == OpportunityStage::kUnspecified) o.stage = OpportunityStage::kProspecting;
  if (!domain::IsOpen(o.stage)) {
    return common::InvalidField("opportunity.stage",
                                "a converted lead's opportunity starts in an open stage");
  }
  o.customer_id = customer_id;
  o.order_id.clear();
  o.close_reason.clear();
  o.close_time = absl::InfinitePast();
  CRM_RETURN_IF_ERROR(Nest(domain::NormalizeAndValidate(o), "opportunity"));

  std::string customer = customer_id;
  bool created = false;
  if (!customer.empty() && domain::CheckConvertible(lead).ok()) {
    CRM_ASSIGN_OR_RETURN(customer, CheckCustomer(actor, customer));
  }
  // An already converted (or disqualified) lead goes straight to the
  // repository: a retry replays the first answer, anything else is refused
  // there, and nothing is resolved or created on the way.
  if (customer.empty() && domain::CheckConvertible(lead).ok()) {
    if (directory_ == nullptr) {
      return common::WithReason(
          absl::UnavailableError("resolving customers through customer-store is not available "
                                 "in this deployment; give customer_id"),
          "DEPENDENCY_UNAVAILABLE");
    }
    if (lead.email.empty() && lead.phone.empty()) {
      return common::InvalidField("customer_id",
                                  "the lead has no email or phone to find or create its customer "
                                  "by; give customer_id");
    }
    CustomerIdentities who;
    who.email = lead.email;
    who.phone = lead.phone;
    who.given_name = lead.given_name;
    who.family_name = lead.family_name;
    Actor resolver = actor;
    resolver.idempotency_key = DerivedKey(actor.idempotency_key, "customer");
    CRM_ASSIGN_OR_RETURN(ResolvedCustomer resolved, directory_->Resolve(resolver, who, true));
    if (!common::IsUuid(resolved.id)) {
      return absl::InternalError("customer directory answered an invalid customer id");
    }
    customer = resolved.id;
    created = resolved.created;
  }
  o.customer_id = customer;
  o.id = ids_.NewId();
  o.lead_id = lead_id;
  o.version = 1;
  o.create_time = o.update_time = Now();
  return repository_.Run<Conversion>(
      actor, lead_id, [&](PipelineTx& tx) -> absl::StatusOr<Conversion> {
        CRM_ASSIGN_OR_RETURN(domain::Lead locked, tx.LoadLead(lead_id));
        domain::Opportunity opportunity = o;
        CRM_RETURN_IF_ERROR(domain::ApplyConversion(locked, opportunity, customer));
        tx.SaveOpportunity(opportunity, true);
        tx.AppendStageChange(opportunity.id, {OpportunityStage::kUnspecified, opportunity.stage,
                                              opportunity.create_time, actor.principal});
        tx.SaveLead(locked, false);
        tx.EmitLead("lead.converted", locked);
        tx.EmitOpportunity("opportunity.created", opportunity, OpportunityStage::kUnspecified);
        return Conversion{locked, opportunity, created};
      });
}

// ----------------------------------------------------------- opportunities

absl::StatusOr<domain::Opportunity> Pipeline::CreateOpportunity(const Actor& actor,
                                                                domain::Opportunity o) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  if (o.stage == OpportunityStage::kUnspecified) o.stage = OpportunityStage::kProspecting;
  if (!domain::IsOpen(o.stage)) {
    return common::InvalidField(
        "stage", "an opportunity starts in an open stage; close it with CloseOpportunity");
  }
  o.order_id.clear();
  o.close_reason.clear();
  o.close_time = absl::InfinitePast();
  o.lead_id.clear();
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(o));
  if (!o.customer_id.empty()) {
    CRM_ASSIGN_OR_RETURN(o.customer_id, CheckCustomer(actor, o.customer_id));
  }
  if (o.owner.empty()) o.owner = actor.principal;
  o.id = ids_.NewId();
  o.version = 1;
  o.create_time = o.update_time = Now();
  return repository_.Run<domain::Opportunity>(
      actor, o.id, [&](PipelineTx& tx) -> absl::StatusOr<domain::Opportunity> {
        tx.SaveOpportunity(o, true);
        tx.AppendStageChange(
            o.id, {OpportunityStage::kUnspecified, o.stage, o.create_time, actor.principal});
        tx.EmitOpportunity("opportunity.created", o, OpportunityStage::kUnspecified);
        return o;
      });
}

absl::StatusOr<domain::Opportunity> Pipeline::GetOpportunity(const std::string& tenant,
                                                             const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckId(id, "opportunity_id"));
  return repository_.GetOpportunity(tenant, id);
}

absl::StatusOr<OpportunityPage> Pipeline::ListOpportunities(const std::string& tenant,
                                                            const OpportunityQuery& q) {
  int stage = static_cast<int>(q.stage);
  if (stage < 0 || stage > domain::kStageCount) {
    return common::InvalidField("stage", "unknown stage");
  }
  if (!q.customer_id.empty() && !common::IsUuid(q.customer_id)) {
    return common::InvalidField("customer_id", "customer_id must be a UUID");
  }
  CRM_RETURN_IF_ERROR(CheckOwnerFilter(q.owner));
  return repository_.ListOpportunities(tenant, q);
}

absl::StatusOr<domain::Opportunity> Pipeline::UpdateOpportunity(
    const Actor& actor, const std::string& id, const domain::Opportunity& patch,
    const std::vector<std::string>& paths, const std::string& if_match) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  CRM_RETURN_IF_ERROR(CheckId(id, "opportunity_id"));
  domain::Opportunity checked = patch;
  {
    domain::Opportunity probe;
    CRM_RETURN_IF_ERROR(domain::ApplyOpportunityMask(patch, paths, probe));
    // A new customer must exist (checked after the mask, before the write).
    if (!probe.customer_id.empty()) {
      CRM_RETURN_IF_ERROR(domain::CheckCustomerId(probe.customer_id));
      CRM_ASSIGN_OR_RETURN(checked.customer_id, CheckCustomer(actor, probe.customer_id));
    }
  }
  absl::Time now = Now();
  return repository_.Run<domain::Opportunity>(
      actor, id, [&](PipelineTx& tx) -> absl::StatusOr<domain::Opportunity> {
        CRM_ASSIGN_OR_RETURN(domain::Opportunity o, tx.LoadOpportunity(id));
        CRM_ASSIGN_OR_RETURN(
            bool changed, domain::ApplyUpdate(o, if_match, [&](domain::Opportunity& current) {
              CRM_RETURN_IF_ERROR(domain::CheckOpportunityEditable(current));
              CRM_RETURN_IF_ERROR(domain::ApplyOpportunityMask(checked, paths, current));
              CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(current));
              if (current.owner.empty()) current.owner = actor.principal;
              current.update_time = now;
              return absl::OkStatus();
            }));
        if (changed) {
          tx.SaveOpportunity(o, false);
          tx.EmitOpportunity("opportunity.updated", o, OpportunityStage::kUnspecified);
        }
        return o;
      });
}

absl::StatusOr<domain::Opportunity> Pipeline::MoveStage(const Actor& actor, const std::string& id,
                                                        OpportunityStage to,
                                                        const std::string& if_match) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  CRM_RETURN_IF_ERROR(CheckId(id, "opportunity_id"));
  if (!domain::IsValidStage(static_cast<int>(to))) {
    return common::InvalidField("to_stage", "to_stage is required");
  }
  StageMove move;
  move.to = to;
  move.if_match = if_match;
  return WriteStageMove(actor, id, move);
}

absl::StatusOr<domain::Opportunity> Pipeline::WriteStageMove(const Actor& actor,
                                                             const std::string& id,
                                                             const StageMove& move) {
  const absl::Time now = Now();
  return repository_.Run<domain::Opportunity>(
      actor, id, [&](PipelineTx& tx) -> absl::StatusOr<domain::Opportunity> {
        CRM_ASSIGN_OR_RETURN(domain::Opportunity o, tx.LoadOpportunity(id));
        const OpportunityStage from = o.stage;
        CRM_RETURN_IF_ERROR(domain::ApplyStageMove(o, move, now));
        if (move.order) {
          // Won with its order: both in this transaction, under the row
          // lock, so a concurrent close or a refused move leaves no order.
          domain::Order order = *move.order;
          order.customer_id = o.customer_id;
          OrderTx* orders = tx.Orders();
          if (orders == nullptr) return absl::UnimplementedError("orders are not configured");
          CRM_RETURN_IF_ERROR(WriteNewOrder(*orders, order));
        }
        tx.SaveOpportunity(o, false);
        tx.AppendStageChange(id, {from, o.stage, now, actor.principal});
        for (const char* type : domain::StageMoveEventTypes(o.stage)) {
          tx.EmitOpportunity(type, o, from);
        }
        return o;
      });
}

absl::StatusOr<domain::Opportunity> Pipeline::Close(const Actor& actor, const std::string& id,
                                                    bool won, const std::string& close_reason,
                                                    const std::string& if_match,
                                                    std::optional<domain::Order> order) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  CRM_RETURN_IF_ERROR(CheckId(id, "opportunity_id"));
  StageMove move;
  move.to = won ? OpportunityStage::kClosedWon : OpportunityStage::kClosedLost;
  move.if_match = if_match;
  move.close_reason = std::string(absl::StripAsciiWhitespace(close_reason));
  CRM_RETURN_IF_ERROR(common::CheckStorableText("close_reason", move.close_reason));
  if (move.close_reason.size() > 500) {
    return common::InvalidField("close_reason", "close_reason is at most 500 characters");
  }
  if (order && !won) {
    return common::InvalidField("create_order",
                                "an order is only created when the opportunity is won");
  }
  if (order) {
    // The order is validated here and written with the move, in one
    // transaction (the repository books it to the opportunity's customer as
    // it is under the row lock).
    CRM_ASSIGN_OR_RETURN(domain::Opportunity current,
                         repository_.GetOpportunity(actor.tenant_id, id));
    domain::Order o = *std::move(order);
    // A placeholder customer for validation; replaced under the lock.
    o.customer_id =
        current.customer_id.empty() ? "00000000-0000-4000-8000-000000000000" : current.customer_id;
    if (o.currency_code.empty()) o.currency_code = current.currency_code;
    absl::StatusOr<domain::Order> prepared = orders_.Prepare(std::move(o));
    if (!prepared.ok()) return Nest(prepared.status(), "create_order");
    move.order = *std::move(prepared);
  }
  absl::StatusOr<domain::Opportunity> moved = WriteStageMove(actor, id, move);
  if (!moved.ok() && move.order) {
    // The order's own refusals (unknown SKU, taken external id) name its fields.
    std::string field = common::FieldOf(moved.status());
    if (absl::StartsWith(field, "lines") || field == "external_id") {
      return Nest(moved.status(), "create_order");
    }
  }
  return moved;
}

absl::StatusOr<std::vector<domain::StageChange>> Pipeline::StageHistory(const std::string& tenant,
                                                                        const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckId(id, "opportunity_id"));
  return repository_.StageHistory(tenant, id);
}

// ------------------------------------------------------------ probabilities

absl::StatusOr<domain::StageProbabilities> Pipeline::GetProbabilities(const std::string& tenant) {
  return repository_.GetProbabilities(tenant);
}

absl::StatusOr<domain::StageProbabilities> Pipeline::UpdateProbabilities(
    const Actor& actor, const std::vector<std::pair<int, int>>& changes) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  // Input checked before any I/O, then applied to what is stored.
  CRM_RETURN_IF_ERROR(domain::ApplyProbabilities(domain::StageProbabilities{}, changes).status());
  const absl::Time now = Now();
  return repository_.Run<domain::StageProbabilities>(
      actor, "stage_probabilities",
      [&](PipelineTx& tx) -> absl::StatusOr<domain::StageProbabilities> {
        CRM_ASSIGN_OR_RETURN(domain::StageProbabilities current, tx.LoadProbabilities());
        CRM_ASSIGN_OR_RETURN(domain::StageProbabilities out,
                             domain::ApplyProbabilities(current, changes));
        tx.SaveProbabilities(changes, now);
        tx.EmitProbabilities(out);
        return out;
      });
}

// ------------------------------------------------------------------ erasure

absl::StatusOr<PipelineErasure> Pipeline::EraseCustomer(
    const std::string& tenant, const std::string& consumer, const std::string& event_id,
    const std::vector<std::string>& customer_ids) {
  if (!common::IsUuid(tenant)) return common::InvalidField("tenant_id", "tenant_id must be a UUID");
  CRM_RETURN_IF_ERROR(CheckId(event_id, "event_id"));
  if (customer_ids.empty()) return common::InvalidField("customer_id", "no customer to erase");
  for (const std::string& id : customer_ids) CRM_RETURN_IF_ERROR(CheckId(id, "customer_id"));
  Actor actor{tenant, "system:customer.erased", event_id, "EraseCustomerData", "", ""};
  return repository_.EraseCustomerData(actor, consumer, event_id, customer_ids, Now());
}

// ----------------------------------------------------------------- forecast

absl::StatusOr<std::vector<domain::ForecastRow>> Pipeline::Forecast(
    const std::string& tenant, const std::string& owner, const std::string& currency_code,
    const domain::ForecastRange& range) {
  CRM_RETURN_IF_ERROR(CheckOwnerFilter(owner));
  std::string currency = absl::AsciiStrToUpper(currency_code);
  if (!currency.empty() && !common::MinorUnitDigits(currency)) {
    return common::InvalidField("currency_code",
                                absl::StrCat("currency_code \"", currency,
                                             "\" is not an ISO 4217 currency in circulation"));
  }
  CRM_RETURN_IF_ERROR(domain::CheckForecastRange(range));
  ForecastQuery q;
  q.owner = owner;
  q.currency_code = currency;
  q.from = range.from;
  q.to = range.to;
  CRM_ASSIGN_OR_RETURN(std::vector<domain::ForecastItem> items,
                       repository_.ForecastItems(tenant, q));
  CRM_ASSIGN_OR_RETURN(domain::StageProbabilities probabilities,
                       repository_.GetProbabilities(tenant));
  return domain::ComputeForecast(items, probabilities, range);
}

}  // namespace crm::transaction::app

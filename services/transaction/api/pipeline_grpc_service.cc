#include "services/transaction/api/pipeline_grpc_service.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/transaction/api/grpc_service.h"

namespace crm::transaction::api {
namespace {

using grpcutil::FromTimestamp;
using grpcutil::Offload;
using grpcutil::RequestContext;
using grpcutil::ToTimestamp;

// A mutating call: its request_id is the idempotency key, the digest of the
// request without it the fingerprint (strict replay).
app::Actor WriteActor(const RequestContext& rc, const char* method,
                      const google::protobuf::Message& req, const std::string& request_id) {
  app::Actor a = grpcutil::WriteMetaOf(rc, method, request_id);
  a.fingerprint = Fingerprint(req);
  return a;
}

absl::Status Nest(absl::Status s, absl::string_view prefix) {
  std::string field = common::FieldOf(s);
  if (s.ok() || field.empty()) return s;
  return common::WithField(std::move(s), absl::StrCat(prefix, ".", field));
}

std::vector<std::string> MaskOr(const google::protobuf::FieldMask& mask, bool has_mask,
                                std::vector<std::string> present) {
  if (!has_mask) return present;
  return std::vector<std::string>(mask.paths().begin(), mask.paths().end());
}

absl::StatusOr<absl::CivilDay> RequiredDate(const char* field, const std::string& text) {
  if (text.empty()) return common::InvalidField(field, absl::StrCat(field, " is required (YYYY-MM-DD)"));
  return domain::ParseDate(field, text);
}

}  // namespace

// ----------------------------------------------------------------- mapping

absl::StatusOr<domain::Lead> FromProto(const v1::Lead& l) {
  domain::Lead d;
  d.given_name = l.given_name();
  d.family_name = l.family_name();
  d.company_name = l.company_name();
  d.email = l.email();
  d.phone = l.phone();
  d.source = l.source();
  if (!v1::LeadStatus_IsValid(l.status())) return common::InvalidField("status", "unknown status");
  d.status = static_cast<domain::LeadStatus>(l.status());
  d.owner = l.owner();
  d.score = l.score();
  return d;
}

void ToProto(const domain::Lead& l, v1::Lead* out) {
  out->set_id(l.id);
  out->set_given_name(l.given_name);
  out->set_family_name(l.family_name);
  out->set_company_name(l.company_name);
  out->set_email(l.email);
  out->set_phone(l.phone);
  out->set_source(l.source);
  out->set_status(static_cast<v1::LeadStatus>(l.status));
  out->set_owner(l.owner);
  out->set_score(l.score);
  out->set_customer_id(l.customer_id);
  out->set_opportunity_id(l.opportunity_id);
  ToTimestamp(l.convert_time, out->mutable_convert_time());
  if (l.convert_time == absl::InfinitePast()) out->clear_convert_time();
  out->set_etag(domain::EtagOf(l));
  ToTimestamp(l.create_time, out->mutable_create_time());
  ToTimestamp(l.update_time, out->mutable_update_time());
}

std::vector<std::string> PresentPaths(const v1::Lead& l) {
  std::vector<std::string> paths;
  if (!l.given_name().empty()) paths.emplace_back("given_name");
  if (!l.family_name().empty()) paths.emplace_back("family_name");
  if (!l.company_name().empty()) paths.emplace_back("company_name");
  if (!l.email().empty()) paths.emplace_back("email");
  if (!l.phone().empty()) paths.emplace_back("phone");
  if (!l.source().empty()) paths.emplace_back("source");
  if (l.status() != 0) paths.emplace_back("status");
  if (!l.owner().empty()) paths.emplace_back("owner");
  if (l.score() != 0) paths.emplace_back("score");
  return paths;
}

absl::StatusOr<domain::Opportunity> FromProto(const v1::Opportunity& o) {
  domain::Opportunity d;
  d.name = o.name();
  d.customer_id = o.customer_id();
  d.amount_minor = o.amount_minor();
  d.currency_code = o.currency_code();
  if (!o.expected_close_date().empty()) {
    CRM_ASSIGN_OR_RETURN(d.expected_close_date,
                         domain::ParseDate("expected_close_date", o.expected_close_date()));
  }
  d.owner = o.owner();
  if (!v1::OpportunityStage_IsValid(o.stage())) {
    return common::InvalidField("stage", "unknown stage");
  }
  d.stage = static_cast<domain::OpportunityStage>(o.stage());
  return d;
}

void ToProto(const domain::Opportunity& o, v1::Opportunity* out) {
  out->set_id(o.id);
  out->set_name(o.name);
  out->set_customer_id(o.customer_id);
  out->set_lead_id(o.lead_id);
  out->set_amount_minor(o.amount_minor);
  out->set_currency_code(o.currency_code);
  out->set_expected_close_date(domain::FormatDate(o.expected_close_date));
  out->set_owner(o.owner);
  out->set_stage(static_cast<v1::OpportunityStage>(o.stage));
  out->set_order_id(o.order_id);
  out->set_close_reason(o.close_reason);
  if (o.close_time != absl::InfinitePast()) ToTimestamp(o.close_time, out->mutable_close_time());
  out->set_etag(domain::EtagOf(o));
  ToTimestamp(o.create_time, out->mutable_create_time());
  ToTimestamp(o.update_time, out->mutable_update_time());
}

std::vector<std::string> PresentPaths(const v1::Opportunity& o) {
  std::vector<std::string> paths;
  if (!o.name().empty()) paths.emplace_back("name");
  if (!o.customer_id().empty()) paths.emplace_back("customer_id");
  if (o.amount_minor() != 0) paths.emplace_back("amount_minor");
  if (!o.currency_code().empty()) paths.emplace_back("currency_code");
  if (!o.expected_close_date().empty()) paths.emplace_back("expected_close_date");
  if (!o.owner().empty()) paths.emplace_back("owner");
  if (o.stage() != 0) paths.emplace_back("stage");
  return paths;
}

absl::StatusOr<domain::Order> FromProto(const v1::OrderSpec& spec) {
  domain::Order d;
  d.currency_code = spec.currency_code();
  for (const auto& l : spec.lines()) {
    d.lines.push_back({l.sku(), l.quantity(), l.unit_price_minor(), l.discount_minor(), 0});
  }
  if (!v1::SalesChannel_IsValid(spec.channel())) {
    return common::InvalidField("create_order.channel", "unknown channel");
  }
  d.channel = static_cast<domain::SalesChannel>(spec.channel());
  d.store_id = spec.store_id();
  return d;
}

void ToProto(const domain::ForecastRow& r, v1::ForecastRow* out) {
  out->set_owner(r.owner);
  out->set_period(r.period);
  out->set_period_start(domain::FormatDate(r.period_start));
  out->set_currency_code(r.currency_code);
  out->set_open_count(r.open_count);
  out->set_open_amount_minor(r.open_amount_minor);
  out->set_weighted_amount_minor(r.weighted_amount_minor);
  out->set_won_count(r.won_count);
  out->set_won_amount_minor(r.won_amount_minor);
}

namespace {
void ToProto(const domain::StageProbabilities& p, v1::StageProbabilities* out) {
  for (int s = 1; s <= domain::kStageCount; ++s) {
    auto* x = out->add_stages();
    x->set_stage(static_cast<v1::OpportunityStage>(s));
    x->set_probability_percent(p.percent[static_cast<size_t>(s)]);
  }
}
}  // namespace

// ------------------------------------------------------------------- leads

grpc::ServerUnaryReactor* PipelineGrpcService::CreateLead(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateLeadRequest* req,
                                                          v1::Lead* resp) {
  return Offload(ctx, executor_, metrics_, "CreateLead", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::Lead l, FromProto(req->lead()));
    CRM_ASSIGN_OR_RETURN(domain::Lead out,
                         pipeline_.CreateLead(WriteActor(rc, "CreateLead", *req, req->request_id()),
                                              std::move(l)));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::GetLead(grpc::CallbackServerContext* ctx,
                                                       const v1::GetLeadRequest* req,
                                                       v1::Lead* resp) {
  return Offload(ctx, executor_, metrics_, "GetLead", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::Lead out, pipeline_.GetLead(rc.tenant_id, req->lead_id()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::ListLeads(grpc::CallbackServerContext* ctx,
                                                         const v1::ListLeadsRequest* req,
                                                         v1::ListLeadsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListLeads", [=](const RequestContext& rc) -> absl::Status {
    if (!v1::LeadStatus_IsValid(req->status())) {
      return common::InvalidField("status", "unknown status");
    }
    app::LeadQuery q;
    CRM_ASSIGN_OR_RETURN(q.limit, common::ClampPageSize(req->page_size(), 50, 500));
    q.status = static_cast<domain::LeadStatus>(req->status());
    q.owner = req->owner();
    std::string scope = absl::StrCat("ListLeads|", req->status(), "|", req->owner());
    if (!req->page_token().empty()) {
      CRM_ASSIGN_OR_RETURN(q.before_cursor, tokens_.Decode(rc.tenant_id, scope, req->page_token()));
    }
    CRM_ASSIGN_OR_RETURN(app::LeadPage page, pipeline_.ListLeads(rc.tenant_id, q));
    for (const auto& l : page.items) ToProto(l, resp->add_leads());
    if (!page.next_cursor.empty()) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, scope, page.next_cursor));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::UpdateLead(grpc::CallbackServerContext* ctx,
                                                          const v1::UpdateLeadRequest* req,
                                                          v1::Lead* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateLead", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::Lead patch, FromProto(req->lead()));
    std::vector<std::string> paths =
        MaskOr(req->update_mask(), req->has_update_mask(), PresentPaths(req->lead()));
    std::string if_match = req->etag().empty() ? req->lead().etag() : req->etag();
    CRM_ASSIGN_OR_RETURN(
        domain::Lead out,
        pipeline_.UpdateLead(WriteActor(rc, "UpdateLead", *req, req->request_id()),
                             req->lead_id(), patch, paths, if_match));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::ConvertLead(grpc::CallbackServerContext* ctx,
                                                           const v1::ConvertLeadRequest* req,
                                                           v1::ConvertLeadResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ConvertLead", [=](const RequestContext& rc) -> absl::Status {
    absl::StatusOr<domain::Opportunity> o = FromProto(req->opportunity());
    if (!o.ok()) return Nest(o.status(), "opportunity");
    CRM_ASSIGN_OR_RETURN(
        app::Conversion out,
        pipeline_.ConvertLead(WriteActor(rc, "ConvertLead", *req, req->request_id()),
                              req->lead_id(), req->customer_id(), *std::move(o)));
    ToProto(out.lead, resp->mutable_lead());
    ToProto(out.opportunity, resp->mutable_opportunity());
    resp->set_customer_created(out.customer_created);
    return absl::OkStatus();
  });
}

// ----------------------------------------------------------- opportunities

grpc::ServerUnaryReactor* PipelineGrpcService::CreateOpportunity(
    grpc::CallbackServerContext* ctx, const v1::CreateOpportunityRequest* req,
    v1::Opportunity* resp) {
  return Offload(ctx, executor_, metrics_, "CreateOpportunity", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::Opportunity o, FromProto(req->opportunity()));
    CRM_ASSIGN_OR_RETURN(
        domain::Opportunity out,
        pipeline_.CreateOpportunity(WriteActor(rc, "CreateOpportunity", *req, req->request_id()),
                                    std::move(o)));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::GetOpportunity(
    grpc::CallbackServerContext* ctx, const v1::GetOpportunityRequest* req,
    v1::Opportunity* resp) {
  return Offload(ctx, executor_, metrics_, "GetOpportunity", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::Opportunity out,
                         pipeline_.GetOpportunity(rc.tenant_id, req->opportunity_id()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::ListOpportunities(
    grpc::CallbackServerContext* ctx, const v1::ListOpportunitiesRequest* req,
    v1::ListOpportunitiesResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListOpportunities", [=](const RequestContext& rc) -> absl::Status {
    if (!v1::OpportunityStage_IsValid(req->stage())) {
      return common::InvalidField("stage", "unknown stage");
    }
    app::OpportunityQuery q;
    CRM_ASSIGN_OR_RETURN(q.limit, common::ClampPageSize(req->page_size(), 50, 500));
    q.stage = static_cast<domain::OpportunityStage>(req->stage());
    q.owner = req->owner();
    q.customer_id = req->customer_id();
    std::string scope = absl::StrCat("ListOpportunities|", req->stage(), "|", req->owner(), "|",
                                     req->customer_id());
    if (!req->page_token().empty()) {
      CRM_ASSIGN_OR_RETURN(q.before_cursor, tokens_.Decode(rc.tenant_id, scope, req->page_token()));
    }
    CRM_ASSIGN_OR_RETURN(app::OpportunityPage page, pipeline_.ListOpportunities(rc.tenant_id, q));
    for (const auto& o : page.items) ToProto(o, resp->add_opportunities());
    if (!page.next_cursor.empty()) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, scope, page.next_cursor));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::UpdateOpportunity(
    grpc::CallbackServerContext* ctx, const v1::UpdateOpportunityRequest* req,
    v1::Opportunity* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateOpportunity", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::Opportunity patch, FromProto(req->opportunity()));
    std::vector<std::string> paths =
        MaskOr(req->update_mask(), req->has_update_mask(), PresentPaths(req->opportunity()));
    std::string if_match = req->etag().empty() ? req->opportunity().etag() : req->etag();
    CRM_ASSIGN_OR_RETURN(
        domain::Opportunity out,
        pipeline_.UpdateOpportunity(WriteActor(rc, "UpdateOpportunity", *req, req->request_id()),
                                    req->opportunity_id(), patch, paths, if_match));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::MoveOpportunityStage(
    grpc::CallbackServerContext* ctx, const v1::MoveOpportunityStageRequest* req,
    v1::Opportunity* resp) {
  return Offload(ctx, executor_, metrics_, "MoveOpportunityStage", [=](const RequestContext& rc) -> absl::Status {
    if (!v1::OpportunityStage_IsValid(req->to_stage())) {
      return common::InvalidField("to_stage", "unknown stage");
    }
    CRM_ASSIGN_OR_RETURN(
        domain::Opportunity out,
        pipeline_.MoveStage(WriteActor(rc, "MoveOpportunityStage", *req, req->request_id()),
                            req->opportunity_id(),
                            static_cast<domain::OpportunityStage>(req->to_stage()), req->etag()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::CloseOpportunity(
    grpc::CallbackServerContext* ctx, const v1::CloseOpportunityRequest* req,
    v1::Opportunity* resp) {
  return Offload(ctx, executor_, metrics_, "CloseOpportunity", [=](const RequestContext& rc) -> absl::Status {
    if (req->outcome() != v1::CLOSE_OUTCOME_WON && req->outcome() != v1::CLOSE_OUTCOME_LOST) {
      return common::InvalidField("outcome", "outcome must be CLOSE_OUTCOME_WON or CLOSE_OUTCOME_LOST");
    }
    std::optional<domain::Order> order;
    if (req->has_create_order()) {
      CRM_ASSIGN_OR_RETURN(order, FromProto(req->create_order()));
    }
    CRM_ASSIGN_OR_RETURN(
        domain::Opportunity out,
        pipeline_.Close(WriteActor(rc, "CloseOpportunity", *req, req->request_id()),
                        req->opportunity_id(), req->outcome() == v1::CLOSE_OUTCOME_WON,
                        req->close_reason(), req->etag(), std::move(order)));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::GetStageHistory(
    grpc::CallbackServerContext* ctx, const v1::GetStageHistoryRequest* req,
    v1::GetStageHistoryResponse* resp) {
  return Offload(ctx, executor_, metrics_, "GetStageHistory", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(std::vector<domain::StageChange> changes,
                         pipeline_.StageHistory(rc.tenant_id, req->opportunity_id()));
    for (const auto& c : changes) {
      auto* x = resp->add_changes();
      x->set_from_stage(static_cast<v1::OpportunityStage>(c.from));
      x->set_to_stage(static_cast<v1::OpportunityStage>(c.to));
      ToTimestamp(c.at, x->mutable_change_time());
      x->set_principal(c.principal);
    }
    return absl::OkStatus();
  });
}

// ---------------------------------------------------- probabilities, forecast

grpc::ServerUnaryReactor* PipelineGrpcService::GetStageProbabilities(
    grpc::CallbackServerContext* ctx, const v1::GetStageProbabilitiesRequest*,
    v1::StageProbabilities* resp) {
  return Offload(ctx, executor_, metrics_, "GetStageProbabilities", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::StageProbabilities p, pipeline_.GetProbabilities(rc.tenant_id));
    ToProto(p, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::UpdateStageProbabilities(
    grpc::CallbackServerContext* ctx, const v1::UpdateStageProbabilitiesRequest* req,
    v1::StageProbabilities* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateStageProbabilities", [=](const RequestContext& rc) -> absl::Status {
    std::vector<std::pair<int, int>> changes;
    for (const auto& s : req->stages()) changes.emplace_back(s.stage(), s.probability_percent());
    CRM_ASSIGN_OR_RETURN(
        domain::StageProbabilities p,
        pipeline_.UpdateProbabilities(
            WriteActor(rc, "UpdateStageProbabilities", *req, req->request_id()), changes));
    ToProto(p, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineGrpcService::Forecast(grpc::CallbackServerContext* ctx,
                                                        const v1::ForecastRequest* req,
                                                        v1::ForecastResponse* resp) {
  return Offload(ctx, executor_, metrics_, "Forecast", [=](const RequestContext& rc) -> absl::Status {
    domain::ForecastRange range;
    if (!v1::ForecastPeriod_IsValid(req->period())) {
      return common::InvalidField("period", "unknown period");
    }
    range.period = req->period() == v1::FORECAST_PERIOD_UNSPECIFIED
                       ? domain::ForecastPeriod::kMonth
                       : static_cast<domain::ForecastPeriod>(req->period());
    CRM_ASSIGN_OR_RETURN(range.from, RequiredDate("from_date", req->from_date()));
    CRM_ASSIGN_OR_RETURN(range.to, RequiredDate("to_date", req->to_date()));
    CRM_ASSIGN_OR_RETURN(
        std::vector<domain::ForecastRow> rows,
        pipeline_.Forecast(rc.tenant_id, req->owner(), req->currency_code(), range));
    for (const auto& r : rows) ToProto(r, resp->add_rows());
    return absl::OkStatus();
  });
}

}  // namespace crm::transaction::api

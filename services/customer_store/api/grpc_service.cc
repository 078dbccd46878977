#include "services/customer_store/api/grpc_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/streaming.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/customer_store/api/proto_mapping.h"

namespace crm::customer_store::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

// idempotency_key: the request's request_id field ("" when it has none).
app::Actor ActorOf(const RequestContext& rc, const char* method,
                   const std::string& idempotency_key) {
  return grpcutil::WriteMetaOf(rc, method, idempotency_key);
}

// A mutating call with a request_id field: strict replay (the request's
// fingerprint, the first call's answer or refusal answered again).
template <typename Request>
app::Actor IdempotentActorOf(const RequestContext& rc, const char* method, const Request& req) {
  return grpcutil::IdempotentWriteMetaOf(rc, method, req);
}

// Every mutating call may carry a client request_id for idempotency and
// replays by it (strict). Bounded so it fits the idempotency table, and free of control
// characters (a NUL would cut the stored key): common::CheckRequestId.
using common::CheckRequestId;

}  // namespace

grpc::ServerUnaryReactor* CustomerStoreGrpcService::CreateCustomer(
    grpc::CallbackServerContext* ctx, const v1::CreateCustomerRequest* req, v1::Customer* resp) {
  return Offload(ctx, executor_, metrics_, "CreateCustomer", [=](const RequestContext& rc) -> absl::Status {
    CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Customer c, FromProto(req->customer()));
    CRM_ASSIGN_OR_RETURN(domain::Customer out,
                         store_.Create(IdempotentActorOf(rc, "CreateCustomer", *req), std::move(c)));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::GetCustomer(grpc::CallbackServerContext* ctx,
                                                                const v1::GetCustomerRequest* req,
                                                                v1::Customer* resp) {
  return Offload(ctx, executor_, metrics_, "GetCustomer", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::Customer out, store_.Get(rc.tenant_id, req->customer_id()));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::UpdateCustomer(
    grpc::CallbackServerContext* ctx, const v1::UpdateCustomerRequest* req, v1::Customer* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateCustomer", [=](const RequestContext& rc) -> absl::Status {
    CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Customer patch, FromProto(req->customer()));
    std::vector<std::string> paths =
        req->has_update_mask()
            ? std::vector<std::string>(req->update_mask().paths().begin(),
                                       req->update_mask().paths().end())
            : PresentPaths(req->customer());
    std::string if_match = req->etag().empty() ? req->customer().etag() : req->etag();
    CRM_ASSIGN_OR_RETURN(domain::Customer out,
                         store_.Update(IdempotentActorOf(rc, "UpdateCustomer", *req),
                                       req->customer_id(), patch, paths, if_match));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::DeleteCustomer(
    grpc::CallbackServerContext* ctx, const v1::DeleteCustomerRequest* req,
    v1::DeleteCustomerResponse* resp) {
  return Offload(ctx, executor_, metrics_, "DeleteCustomer", [=](const RequestContext& rc) -> absl::Status {
    CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::ErasureResult r,
                         store_.Erase(IdempotentActorOf(rc, "DeleteCustomer", *req),
                                      req->customer_id(), req->etag()));
    resp->set_customer_id(req->customer_id());
    resp->set_interactions_erased(r.interactions_erased);
    resp->set_identities_erased(r.identities_erased);
    resp->set_behaviour_events_erased(r.behaviour_events_erased);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::ListCustomers(
    grpc::CallbackServerContext* ctx, const v1::ListCustomersRequest* req,
    v1::ListCustomersResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListCustomers", [=](const RequestContext& rc) -> absl::Status {
    if (!v1::LifecycleStage_IsValid(req->lifecycle_stage())) {
      return common::InvalidField("lifecycle_stage", "unknown lifecycle_stage");
    }
    app::ListQuery q;
    CRM_ASSIGN_OR_RETURN(q.limit, common::ClampPageSize(req->page_size(), kDefaultPageSize, kMaxPageSize));
    q.stage = static_cast<domain::LifecycleStage>(req->lifecycle_stage());
    q.owner = req->owner();
    std::string scope = absl::StrCat("ListCustomers|", req->lifecycle_stage(), "|", req->owner());
    if (!req->page_token().empty()) {
      CRM_ASSIGN_OR_RETURN(q.after_id, tokens_.Decode(rc.tenant_id, scope, req->page_token()));
    }
    CRM_ASSIGN_OR_RETURN(app::Page<domain::Customer> page, store_.List(rc.tenant_id, q));
    for (const auto& c : page.items) ToProto(c, resp->add_customers());
    if (!page.next_cursor.empty()) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, scope, page.next_cursor));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::SearchCustomers(
    grpc::CallbackServerContext* ctx, const v1::SearchCustomersRequest* req,
    v1::SearchCustomersResponse* resp) {
  return Offload(ctx, executor_, metrics_, "SearchCustomers", [=](const RequestContext& rc) -> absl::Status {
    app::SearchQuery q;
    CRM_ASSIGN_OR_RETURN(q.limit, common::ClampPageSize(req->page_size(), kDefaultPageSize, kMaxPageSize));
    q.email = req->email();
    q.phone = req->phone();
    q.name_prefix = req->name_prefix();
    q.external_id_source = req->external_id_source();
    q.external_id = req->external_id();
    std::string scope = absl::StrCat("SearchCustomers|", req->email(), "|", req->phone(), "|",
                                     req->name_prefix(), "|", req->external_id_source(), "|",
                                     req->external_id());
    if (!req->page_token().empty()) {
      CRM_ASSIGN_OR_RETURN(q.after_id, tokens_.Decode(rc.tenant_id, scope, req->page_token()));
    }
    CRM_ASSIGN_OR_RETURN(app::Page<domain::Customer> page, store_.Search(rc.tenant_id, q));
    for (const auto& c : page.items) ToProto(c, resp->add_customers());
    if (!page.next_cursor.empty()) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, scope, page.next_cursor));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::UpsertCustomer(
    grpc::CallbackServerContext* ctx, const v1::UpsertCustomerRequest* req,
    v1::UpsertCustomerResponse* resp) {
  return Offload(ctx, executor_, metrics_, "UpsertCustomer", [=](const RequestContext& rc) -> absl::Status {
    CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Customer c, FromProto(req->customer()));
    CRM_ASSIGN_OR_RETURN(app::UpsertResult r,
                         store_.Upsert(IdempotentActorOf(rc, "UpsertCustomer", *req), std::move(c),
                                       PresentPaths(req->customer())));
    ToProto(r.customer, resp->mutable_customer());
    resp->set_created(r.created);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::MergeCustomers(
    grpc::CallbackServerContext* ctx, const v1::MergeCustomersRequest* req,
    v1::MergeCustomersResponse* resp) {
  return Offload(ctx, executor_, metrics_, "MergeCustomers", [=](const RequestContext& rc) -> absl::Status {
    CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(app::MergeOutcome m,
                         merger_.Merge(IdempotentActorOf(rc, "MergeCustomers", *req),
                                       req->customer_id(), req->source_customer_id()));
    ToProto(m.survivor, resp->mutable_customer());
    resp->set_merge_id(m.merge_id);
    resp->set_identities_moved(m.identities_moved);
    resp->set_interactions_moved(m.interactions_moved);
    resp->set_consents_moved(m.consents_moved);
    for (const auto& c : m.resolutions) ToProto(c, resp->add_resolved_consents());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::UnmergeCustomer(
    grpc::CallbackServerContext* ctx, const v1::UnmergeCustomerRequest* req,
    v1::UnmergeCustomerResponse* resp) {
  return Offload(ctx, executor_, metrics_, "UnmergeCustomer", [=](const RequestContext& rc) -> absl::Status {
    CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(app::UnmergeOutcome u,
                         merger_.Unmerge(IdempotentActorOf(rc, "UnmergeCustomer", *req),
                                         req->customer_id(), req->merge_id()));
    ToProto(u.survivor, resp->mutable_customer());
    ToProto(u.restored, resp->mutable_restored());
    return absl::OkStatus();
  });
}

// Client stream of import rows: collected as they arrive (bounded), then the
// batch runs on the executor and the reactor finishes from there, through
// the end-of-call path every call shares (libs/grpcutil/streaming.h).
class ImportReactor final : public grpc::ServerReadReactor<v1::ImportCustomersRequest> {
 public:
  ImportReactor(CustomerStoreGrpcService& svc, grpc::CallbackServerContext* ctx,
                v1::ImportCustomersResponse* resp)
      : svc_(svc), resp_(resp), call_(ctx, svc.metrics_, "ImportCustomers") {
    if (absl::Status s = call_.ReadContext(); !s.ok()) {
      call_.Finish(this, s);
      return;
    }
    StartRead(&msg_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed (or went away: the batch does not run)
      call_.Offload(
          this, svc_.executor_,
          [this]() -> absl::Status {
            CRM_ASSIGN_OR_RETURN(app::ImportReport report,
                                 svc_.importer_.Import(ActorOf(call_.rc(), "ImportCustomers", ""),
                                                       batch_id_, std::move(rows_)));
            ToProto(report, resp_);
            return absl::OkStatus();
          },
          [this](const absl::Status& s) { call_.Finish(this, s); });
      return;
    }
    if (batch_id_.empty()) batch_id_ = msg_.batch_id();
    for (const auto& row : msg_.rows()) rows_.push_back(FromProto(row));
    if (static_cast<int64_t>(rows_.size()) > domain::kMaxImportRows) {
      call_.Finish(this, common::InvalidField(
                             "rows", absl::StrCat("a batch holds at most ", domain::kMaxImportRows,
                                                  " rows; split the load into several batches")));
      return;
    }
    msg_.Clear();
    StartRead(&msg_);
  }

  void OnDone() override { delete this; }

 private:
  CustomerStoreGrpcService& svc_;
  v1::ImportCustomersResponse* resp_;
  grpcutil::StreamCall call_;
  v1::ImportCustomersRequest msg_;
  std::string batch_id_;
  std::vector<app::ImportInputRow> rows_;
};

grpc::ServerReadReactor<v1::ImportCustomersRequest>* CustomerStoreGrpcService::ImportCustomers(
    grpc::CallbackServerContext* ctx, v1::ImportCustomersResponse* resp) {
  return new ImportReactor(*this, ctx, resp);
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::ImportCustomersNdjson(
    grpc::CallbackServerContext* ctx, const v1::ImportCustomersNdjsonRequest* req,
    v1::ImportCustomersResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ImportCustomersNdjson", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(app::ImportReport report,
                         importer_.Import(ActorOf(rc, "ImportCustomersNdjson", ""), req->batch_id(),
                                          ParseNdjson(req->ndjson())));
    ToProto(report, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::GetCustomerView(
    grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return Offload(ctx, executor_, metrics_, "GetCustomerView", [=](const RequestContext& rc) -> absl::Status {
    v1::GetCustomerViewRequest req;
    if (!req.ParseFromString(grpcutil::ByteBufferToString(*request))) {
      return common::WithReason(absl::InvalidArgumentError("the request does not parse"),
                                "MALFORMED_BODY");
    }
    app::Caller caller{rc.tenant_id,  rc.principal,   rc.roles,
                       rc.request_id, rc.traceparent, absl::FromChrono(ctx->deadline())};
    CRM_ASSIGN_OR_RETURN(app::ViewAnswer view,
                         views_.Read(caller, req.customer_id(), req.interaction_limit(),
                                     [](const domain::CustomerView& v) {
                                       v1::CustomerView p;
                                       ToProto(v, &p);
                                       return p.SerializeAsString();
                                     }));
    // The engines' sections merged into the (possibly cached) own part, their
    // `sections` entries after its own. Not appended as bytes: a parser
    // merges concatenated messages, but the gateway's REST transcoder writes
    // JSON field by field and would write `sections` twice.
    v1::CustomerView out;
    if (!out.ParseFromString(view.own_bytes)) {
      return absl::InternalError("the stored customer view does not parse");
    }
    ToProto(view.insights, &out);
    std::string bytes = out.SerializeAsString();
    grpc::Slice slice(bytes);
    *response = grpc::ByteBuffer(&slice, 1);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::ExportCustomer(
    grpc::CallbackServerContext* ctx, const v1::ExportCustomerRequest* req,
    v1::CustomerExport* resp) {
  return Offload(ctx, executor_, metrics_, "ExportCustomer", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(domain::CustomerExport e, store_.Export(rc.tenant_id, req->customer_id()));
    ToProto(e, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::ListConsents(
    grpc::CallbackServerContext* ctx, const v1::ListConsentsRequest* req,
    v1::ListConsentsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListConsents", [=](const RequestContext& rc) -> absl::Status {
    CRM_ASSIGN_OR_RETURN(std::vector<domain::Consent> cs,
                         store_.Consents(rc.tenant_id, req->customer_id(), req->include_history()));
    for (const auto& c : cs) ToProto(c, resp->add_consents());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::RecordConsent(
    grpc::CallbackServerContext* ctx, const v1::RecordConsentRequest* req, v1::Consent* resp) {
  return Offload(ctx, executor_, metrics_, "RecordConsent", [=](const RequestContext& rc) -> absl::Status {
    CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Consent c, FromProto(req->consent()));
    CRM_ASSIGN_OR_RETURN(domain::Consent out,
                         store_.RecordConsent(IdempotentActorOf(rc, "RecordConsent", *req),
                                              req->customer_id(), c));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::ListInteractions(
    grpc::CallbackServerContext* ctx, const v1::ListInteractionsRequest* req,
    v1::ListInteractionsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListInteractions", [=](const RequestContext& rc) -> absl::Status {
    if (!v1::InteractionKind_IsValid(req->kind())) {
      return common::InvalidField("kind", "unknown interaction kind");
    }
    app::InteractionQuery q;
    CRM_ASSIGN_OR_RETURN(q.limit, common::ClampPageSize(req->page_size(), kDefaultPageSize, kMaxPageSize));
    q.kind = static_cast<domain::InteractionKind>(req->kind());
    std::string scope =
        absl::StrCat("ListInteractions|", req->customer_id(), "|", req->kind());
    if (!req->page_token().empty()) {
      CRM_ASSIGN_OR_RETURN(q.before_cursor, tokens_.Decode(rc.tenant_id, scope, req->page_token()));
    }
    CRM_ASSIGN_OR_RETURN(app::Page<domain::Interaction> page,
                         store_.Interactions(rc.tenant_id, req->customer_id(), q));
    for (const auto& i : page.items) ToProto(i, resp->add_interactions());
    if (!page.next_cursor.empty()) {
      resp->set_next_page_token(tokens_.Encode(rc.tenant_id, scope, page.next_cursor));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::CreateInteraction(
    grpc::CallbackServerContext* ctx, const v1::CreateInteractionRequest* req,
    v1::Interaction* resp) {
  return Offload(ctx, executor_, metrics_, "CreateInteraction", [=](const RequestContext& rc) -> absl::Status {
    CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::Interaction i, FromProto(req->interaction()));
    CRM_ASSIGN_OR_RETURN(domain::Interaction out,
                         store_.AddInteraction(IdempotentActorOf(rc, "CreateInteraction", *req),
                                               req->customer_id(), std::move(i)));
    ToProto(out, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::BatchGetCustomers(
    grpc::CallbackServerContext* ctx, const v1::BatchGetCustomersRequest* req,
    v1::BatchGetCustomersResponse* resp) {
  return Offload(
      ctx, executor_, metrics_, "BatchGetCustomers", [=](const RequestContext& rc) -> absl::Status {
        const std::vector<std::string> ids(req->customer_ids().begin(), req->customer_ids().end());
        CRM_ASSIGN_OR_RETURN(app::CustomerStore::Batch batch,
                             store_.BatchGet(rc.tenant_id, ids, req->include_consents()));
        for (const auto& found : batch.found) {
          v1::BatchGetCustomersResponse::Entry* e = resp->add_customers();
          ToProto(found.customer, e->mutable_customer());
          for (const auto& c : found.consent_history) ToProto(c, e->add_consents());
        }
        for (const std::string& id : batch.missing) resp->add_missing_customer_ids(id);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::ResolveCustomerRefs(
    grpc::CallbackServerContext* ctx, const v1::ResolveCustomerRefsRequest* req,
    v1::ResolveCustomerRefsResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ResolveCustomerRefs",
                 [=](const RequestContext& rc) -> absl::Status {
    CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
    std::vector<domain::RefQuery> refs;
    refs.reserve(static_cast<size_t>(req->refs_size()));
    for (const v1::CustomerRefQuery& q : req->refs()) {
      refs.push_back(domain::RefQuery{q.customer_id(), q.email(), q.phone(),
                                      q.external_id_source(), q.external_id(), q.given_name(),
                                      q.family_name()});
    }
    CRM_ASSIGN_OR_RETURN(
        app::ResolveOutcome out,
        resolver_.Resolve(ActorOf(rc, "ResolveCustomerRefs", req->request_id()), refs,
                           req->create_missing(), grpcutil::Fingerprint(*req)));
    resp->set_created(out.created);
    for (const domain::RefResult& r : out.results) {
      v1::ResolvedCustomerRef* x = resp->add_results();
      x->set_index(r.index);
      x->set_outcome(static_cast<v1::ResolvedCustomerRef::Outcome>(r.outcome));
      x->set_customer_id(r.customer_id);
      x->set_reason(r.reason);
      x->set_field(r.field);
      x->set_message(r.message);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::GetVisit(grpc::CallbackServerContext* ctx,
                                                             const v1::GetVisitRequest* req,
                                                             v1::Visit* resp) {
  return Offload(ctx, executor_, metrics_, "GetVisit", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(app::VisitQuery q, FromProto(*req));
    CRM_ASSIGN_OR_RETURN(domain::Visit v, store_.VisitAt(rc.tenant_id, q));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::TrackEvents(grpc::CallbackServerContext* ctx,
                                                                const v1::TrackEventsRequest* req,
                                                                v1::TrackEventsResponse* resp) {
  return Offload(
      ctx, executor_, metrics_, "TrackEvents", [=](const RequestContext& rc) -> absl::Status {
        CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
        if (req->events_size() == 0 || req->events_size() > domain::kMaxTrackBatch) {
          return common::InvalidField(
              "events", absl::StrCat("a batch holds 1..", domain::kMaxTrackBatch, " events"));
        }
        std::vector<domain::BehaviourInput> events;
        events.reserve(req->events_size());
        for (const v1::BehaviourEvent& e : req->events()) events.push_back(FromProto(e));
        CRM_ASSIGN_OR_RETURN(app::TrackOutcome out,
                             tracker_.Track(IdempotentActorOf(rc, "TrackEvents", *req), events));
        ToProto(out, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::IdentifyCustomer(
    grpc::CallbackServerContext* ctx, const v1::IdentifyCustomerRequest* req,
    v1::IdentifyCustomerResponse* resp) {
  return Offload(
      ctx, executor_, metrics_, "IdentifyCustomer", [=](const RequestContext& rc) -> absl::Status {
        CRM_RETURN_IF_ERROR(CheckRequestId(req->request_id()));
        CRM_ASSIGN_OR_RETURN(app::IdentifyOutcome out,
                             tracker_.Identify(IdempotentActorOf(rc, "IdentifyCustomer", *req),
                                               req->customer_id(), req->visitor_id()));
        resp->set_customer_id(out.customer_id);
        resp->set_visitor_id(out.visitor_id);
        resp->set_linked(out.linked);
        resp->set_earlier_events(out.earlier_events);
        return absl::OkStatus();
      });
}

namespace {

void ToProto(const domain::BehaviourSettings& s, v1::BehaviourSettings* out) {
  out->mutable_retention_days()->set_value(static_cast<int32_t>(s.retention_days));
  out->set_etag(domain::EtagOf(s));
  if (s.version > 0) grpcutil::ToTimestamp(s.update_time, out->mutable_update_time());
}

}  // namespace

grpc::ServerUnaryReactor* CustomerStoreGrpcService::GetBehaviourSettings(
    grpc::CallbackServerContext* ctx, const v1::GetBehaviourSettingsRequest*,
    v1::BehaviourSettings* resp) {
  return Offload(ctx, executor_, metrics_, "GetBehaviourSettings",
                 [=](const RequestContext& rc) -> absl::Status {
                   CRM_ASSIGN_OR_RETURN(domain::BehaviourSettings s,
                                        retention_.Settings(rc.tenant_id));
                   ToProto(s, resp);
                   return absl::OkStatus();
                 });
}

grpc::ServerUnaryReactor* CustomerStoreGrpcService::UpdateBehaviourSettings(
    grpc::CallbackServerContext* ctx, const v1::UpdateBehaviourSettingsRequest* req,
    v1::BehaviourSettings* resp) {
  return Offload(
      ctx, executor_, metrics_, "UpdateBehaviourSettings",
      [=](const RequestContext& rc) -> absl::Status {
        CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
        if (!req->settings().has_retention_days()) {
          return common::InvalidField("settings.retention_days",
                                      absl::StrCat("is required: 1..", domain::kMaxRetentionDays,
                                                   " days, or 0 to keep events until erased"));
        }
        const std::string if_match = req->etag().empty() ? req->settings().etag() : req->etag();
        CRM_ASSIGN_OR_RETURN(
            domain::BehaviourSettings s,
            retention_.UpdateSettings(IdempotentActorOf(rc, "UpdateBehaviourSettings", *req),
                                      req->settings().retention_days().value(), if_match));
        ToProto(s, resp);
        return absl::OkStatus();
      });
}

}  // namespace crm::customer_store::api

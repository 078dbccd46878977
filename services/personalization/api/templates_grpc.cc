// The message template RPCs of PersonalizationGrpcService.
#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "libs/common/errors.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/personalization/api/grpc_service.h"

namespace crm::personalization::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

absl::StatusOr<domain::TemplateChannel> ChannelOf(v1::TemplateChannel c) {
  switch (c) {
    case v1::TEMPLATE_CHANNEL_EMAIL:
      return domain::TemplateChannel::kEmail;
    case v1::TEMPLATE_CHANNEL_SMS:
      return domain::TemplateChannel::kSms;
    case v1::TEMPLATE_CHANNEL_PUSH:
      return domain::TemplateChannel::kPush;
    case v1::TEMPLATE_CHANNEL_WEBHOOK:
      return domain::TemplateChannel::kWebhook;
    default:
      return common::InvalidField("channel", "channel must be EMAIL, SMS, PUSH or WEBHOOK");
  }
}

v1::TemplateChannel ProtoChannel(domain::TemplateChannel c) {
  switch (c) {
    case domain::TemplateChannel::kEmail:
      return v1::TEMPLATE_CHANNEL_EMAIL;
    case domain::TemplateChannel::kSms:
      return v1::TEMPLATE_CHANNEL_SMS;
    case domain::TemplateChannel::kPush:
      return v1::TEMPLATE_CHANNEL_PUSH;
    case domain::TemplateChannel::kWebhook:
      return v1::TEMPLATE_CHANNEL_WEBHOOK;
  }
  return v1::TEMPLATE_CHANNEL_UNSPECIFIED;
}

absl::StatusOr<domain::MessageTemplate> FromProto(const v1::MessageTemplate& p) {
  domain::MessageTemplate t;
  t.template_id = p.template_id();
  t.display_name = p.display_name();
  CRM_ASSIGN_OR_RETURN(t.channel, ChannelOf(p.channel()));
  t.default_locale = p.default_locale();
  for (const v1::TemplateLocale& l : p.locales()) {
    t.locales.push_back(domain::TemplateLocale{
        l.locale(), std::map<std::string, std::string>(l.parts().begin(), l.parts().end())});
  }
  t.partials.insert(p.partials().begin(), p.partials().end());
  return t;
}

void ToProto(const domain::MessageTemplate& t, v1::MessageTemplate* out) {
  out->set_template_id(t.template_id);
  out->set_display_name(t.display_name);
  out->set_channel(ProtoChannel(t.channel));
  out->set_default_locale(t.default_locale);
  for (const domain::TemplateLocale& l : t.locales) {
    v1::TemplateLocale* x = out->add_locales();
    x->set_locale(l.locale);
    x->mutable_parts()->insert(l.parts.begin(), l.parts.end());
  }
  out->mutable_partials()->insert(t.partials.begin(), t.partials.end());
  out->set_version(t.version);
  out->set_etag(std::to_string(t.version));
  grpcutil::ToTimestamp(t.create_time, out->mutable_create_time());
  grpcutil::ToTimestamp(t.update_time, out->mutable_update_time());
}

void ToProto(const app::RenderedMessage& m, v1::RenderedMessage* out) {
  out->set_template_id(m.template_id);
  out->set_version(m.version);
  out->set_locale(m.locale);
  out->mutable_parts()->insert(m.parts.begin(), m.parts.end());
  for (const std::string& id : m.decision_ids) out->add_decision_ids(id);
  for (const std::string& id : m.offer_ids) out->add_offer_ids(id);
  out->set_personalized(m.personalized);
}

}  // namespace

grpc::ServerUnaryReactor* PersonalizationGrpcService::CreateTemplate(
    grpc::CallbackServerContext* ctx, const v1::CreateTemplateRequest* req,
    v1::MessageTemplate* resp) {
  return Offload(ctx, executor_, metrics_, "CreateTemplate", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(domain::MessageTemplate draft, FromProto(req->message_template()));
    CRM_ASSIGN_OR_RETURN(
        domain::MessageTemplate t,
        templates_.Create(grpcutil::IdempotentWriteMetaOf(rc, "CreateTemplate", *req),
                          std::move(draft)));
    ToProto(t, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::GetTemplate(grpc::CallbackServerContext* ctx,
                                                                  const v1::GetTemplateRequest* req,
                                                                  v1::MessageTemplate* resp) {
  return Offload(ctx, executor_, metrics_, "GetTemplate", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckDefinitionId("template_id", req->template_id()));
    CRM_ASSIGN_OR_RETURN(domain::MessageTemplate t,
                         templates_.Get(rc.tenant_id, req->template_id()));
    ToProto(t, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::ListTemplates(
    grpc::CallbackServerContext* ctx, const v1::ListTemplatesRequest*,
    v1::ListTemplatesResponse* resp) {
  return Offload(ctx, executor_, metrics_, "ListTemplates", [=](const RequestContext& rc) {
    for (const domain::MessageTemplate& t : templates_.List(rc.tenant_id)) {
      ToProto(t, resp->add_templates());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::UpdateTemplate(
    grpc::CallbackServerContext* ctx, const v1::UpdateTemplateRequest* req,
    v1::MessageTemplate* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateTemplate", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckDefinitionId("template_id", req->template_id()));
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    const v1::MessageTemplate& body = req->message_template();
    if (!body.template_id().empty() && body.template_id() != req->template_id()) {
      return common::InvalidField("template_id", "the body's template_id must be the path's");
    }
    CRM_ASSIGN_OR_RETURN(domain::MessageTemplate draft, FromProto(body));
    draft.template_id = req->template_id();
    CRM_ASSIGN_OR_RETURN(
        domain::MessageTemplate t,
        templates_.Update(grpcutil::IdempotentWriteMetaOf(rc, "UpdateTemplate", *req),
                          std::move(draft), body.etag()));
    ToProto(t, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::DeleteTemplate(
    grpc::CallbackServerContext* ctx, const v1::DeleteTemplateRequest* req,
    v1::DeleteTemplateResponse*) {
  return Offload(ctx, executor_, metrics_, "DeleteTemplate", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckDefinitionId("template_id", req->template_id()));
    CRM_RETURN_IF_ERROR(common::RequireRequestId(req->request_id()));
    return templates_
        .Delete(grpcutil::IdempotentWriteMetaOf(rc, "DeleteTemplate", *req), req->template_id(),
                req->etag())
        .status();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::PreviewTemplate(
    grpc::CallbackServerContext* ctx, const v1::PreviewTemplateRequest* req,
    v1::RenderedMessage* resp) {
  return Offload(ctx, executor_, metrics_, "PreviewTemplate", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckDefinitionId("template_id", req->template_id()));
    if (req->locale().size() > 35) return common::InvalidField("locale", "locale is a BCP 47 tag");
    std::optional<domain::MessageTemplate> draft;
    if (req->has_draft()) {
      CRM_ASSIGN_OR_RETURN(draft, FromProto(req->draft()));
    }
    nlohmann::json data;
    if (req->has_data()) {
      std::string text;
      if (!google::protobuf::util::MessageToJsonString(req->data(), &text).ok()) {
        return common::InvalidField("data", "data is not a JSON object");
      }
      data = nlohmann::json::parse(text, nullptr, false);
    }
    CRM_ASSIGN_OR_RETURN(app::RenderedMessage m,
                         templates_.Preview(rc.tenant_id, req->template_id(), std::move(draft),
                                            req->locale(), data));
    ToProto(m, resp);
    return absl::OkStatus();
  });
}

namespace {

// A RenderTemplate request checked, as the use case takes it.
absl::StatusOr<app::RenderRequest> RenderRequestOf(const v1::RenderTemplateRequest* req) {
  CRM_RETURN_IF_ERROR(CheckDefinitionId("template_id", req->template_id()));
  CRM_RETURN_IF_ERROR(CheckCustomerId(req->customer_id()));
  if (req->locale().size() > 35) return common::InvalidField("locale", "locale is a BCP 47 tag");
  if (req->recommendation_count() < -1 ||
      req->recommendation_count() > static_cast<int>(app::kMaxRenderRecommendations)) {
    return common::InvalidField("recommendation_count",
                                "recommendation_count must be -1 (none) to 20 (0: 5)");
  }
  if (req->offer_count() < 0 || req->offer_count() > static_cast<int>(app::kMaxOffersPerAnswer)) {
    return common::InvalidField("offer_count", "offer_count must be 0 to 10");
  }
  CRM_RETURN_IF_ERROR(common::CheckRequestId(req->request_id()));
  if (req->unsubscribe_url().size() > 2048 ||
      (!req->unsubscribe_url().empty() && !absl::StartsWith(req->unsubscribe_url(), "https://") &&
       !absl::StartsWith(req->unsubscribe_url(), "http://"))) {
    return common::InvalidField("unsubscribe_url",
                                "unsubscribe_url is an http(s) URL of at most 2,048 characters");
  }
  app::RenderRequest r;
  r.unsubscribe_url = req->unsubscribe_url();
  r.customer_id = req->customer_id();
  r.locale = req->locale();
  r.recommendations = req->recommendation_count() == 0  ? 5
                      : req->recommendation_count() < 0 ? 0
                                                        : req->recommendation_count();
  r.offers = static_cast<std::size_t>(req->offer_count());
  return r;
}

// Per request of a batch (and of no more than this).
constexpr int kMaxBatchRenders = 100;

}  // namespace

grpc::ServerUnaryReactor* PersonalizationGrpcService::RenderTemplate(
    grpc::CallbackServerContext* ctx, const v1::RenderTemplateRequest* req,
    v1::RenderedMessage* resp) {
  return Offload(ctx, executor_, metrics_, "RenderTemplate", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(app::RenderRequest r, RenderRequestOf(req));
    CRM_ASSIGN_OR_RETURN(app::RenderedMessage m, templates_.Render(grpcutil::IdempotentWriteMetaOf(
                                                                       rc, "RenderTemplate", *req),
                                                                   req->template_id(), r));
    ToProto(m, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::BatchRenderTemplate(
    grpc::CallbackServerContext* ctx, const v1::BatchRenderTemplateRequest* req,
    v1::BatchRenderTemplateResponse* resp) {
  return Offload(ctx, executor_, metrics_, "BatchRenderTemplate", [=](const RequestContext& rc) {
    if (req->requests_size() < 1 || req->requests_size() > kMaxBatchRenders) {
      return common::InvalidField("requests", "requests takes 1 to 100 renders");
    }
    // Refused requests answer their refusal; the others are rendered
    // together (the same meta, and so the same offers, as RenderTemplate).
    std::vector<absl::Status> refused(static_cast<size_t>(req->requests_size()));
    std::vector<app::Templates::RenderItem> items;
    std::vector<int> item_of;
    for (int i = 0; i < req->requests_size(); ++i) {
      const v1::RenderTemplateRequest& one = req->requests(i);
      absl::StatusOr<app::RenderRequest> r = RenderRequestOf(&one);
      if (!r.ok()) {
        refused[static_cast<size_t>(i)] = r.status();
        continue;
      }
      items.push_back({grpcutil::IdempotentWriteMetaOf(rc, "RenderTemplate", one),
                       one.template_id(), *std::move(r)});
      item_of.push_back(i);
    }
    std::vector<absl::StatusOr<app::RenderedMessage>> done = templates_.RenderBatch(items);
    std::vector<const absl::StatusOr<app::RenderedMessage>*> by_request(refused.size(), nullptr);
    for (size_t k = 0; k < done.size(); ++k) by_request[static_cast<size_t>(item_of[k])] = &done[k];
    for (size_t i = 0; i < refused.size(); ++i) {
      v1::BatchRenderTemplateResponse::Result* out = resp->add_results();
      const absl::Status s = by_request[i] != nullptr ? by_request[i]->status() : refused[i];
      if (s.ok()) {
        ToProto(**by_request[i], out->mutable_message());
        continue;
      }
      out->set_code(static_cast<int32_t>(s.code()));
      out->set_reason(common::ReasonOf(s));
      out->set_error_message(std::string(s.message()));
    }
    return absl::OkStatus();
  });
}

}  // namespace crm::personalization::api

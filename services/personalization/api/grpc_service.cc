#include "services/personalization/api/grpc_service.h"

#include <string>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/personalization/domain/interests.h"

namespace crm::personalization::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

constexpr std::size_t kMaxKeyLength = 128;  // a sku or a visitor id
constexpr int kMaxCartSkus = 100;

// count (0: 10) and category_prefix of every list request.
absl::StatusOr<app::ListRequest> ListOf(int count, const std::string& prefix, bool owned) {
  app::ListRequest r;
  if (count < 0 || count > static_cast<int>(app::kMaxCount)) {
    return common::InvalidField("count", "count must be between 1 and 100 (0: 10)");
  }
  if (count > 0) r.count = static_cast<std::size_t>(count);
  if (!prefix.empty()) {
    auto topic = domain::NormalizeTopic(prefix);
    if (!topic.ok()) {
      return common::InvalidField("category_prefix",
                                  "category_prefix must be a category path of 1 to 3 segments "
                                  "joined by \"/\" (at most 200 characters)");
    }
    r.category_prefix = *std::move(topic);
  }
  r.include_owned = owned;
  return r;
}

v1::RecommendationStrategy StrategyOf(app::Strategy s) {
  switch (s) {
    case app::Strategy::kPersonalized:
      return v1::RECOMMENDATION_STRATEGY_PERSONALIZED;
    case app::Strategy::kPopularFallback:
      return v1::RECOMMENDATION_STRATEGY_POPULAR_FALLBACK;
    case app::Strategy::kNotPersonalized:
      return v1::RECOMMENDATION_STRATEGY_NOT_PERSONALIZED;
    case app::Strategy::kRelated:
      return v1::RECOMMENDATION_STRATEGY_RELATED;
    case app::Strategy::kSegmentPopular:
      return v1::RECOMMENDATION_STRATEGY_SEGMENT_POPULAR;
  }
  return v1::RECOMMENDATION_STRATEGY_UNSPECIFIED;
}

v1::RecommendationReason ReasonOf(app::Reason r) {
  switch (r) {
    case app::Reason::kBought:
      return v1::RECOMMENDATION_REASON_BOUGHT;
    case app::Reason::kViewed:
      return v1::RECOMMENDATION_REASON_VIEWED;
    case app::Reason::kPopular:
      return v1::RECOMMENDATION_REASON_POPULAR;
    case app::Reason::kRelated:
      return v1::RECOMMENDATION_REASON_RELATED;
    case app::Reason::kPopularInSegment:
      return v1::RECOMMENDATION_REASON_POPULAR_IN_SEGMENT;
  }
  return v1::RECOMMENDATION_REASON_UNSPECIFIED;
}

// count of an interests request (0: 20).
absl::StatusOr<std::size_t> InterestCount(int count) {
  if (count < 0 || count > static_cast<int>(app::kMaxCount)) {
    return common::InvalidField("count", "count must be between 1 and 100 (0: 20)");
  }
  return count == 0 ? app::kDefaultInterestCount : static_cast<std::size_t>(count);
}

absl::StatusOr<domain::Preference> PreferenceOf(v1::TopicPreference p) {
  switch (p) {
    case v1::TOPIC_PREFERENCE_INTERESTED:
      return domain::Preference::kInterested;
    case v1::TOPIC_PREFERENCE_NOT_INTERESTED:
      return domain::Preference::kNotInterested;
    case v1::TOPIC_PREFERENCE_NO_PREFERENCE:
      return domain::Preference::kNoPreference;
    default:
      return common::InvalidField("changes",
                                  "each change needs a preference: interested, not interested, or "
                                  "no preference (clears the choice)");
  }
}

}  // namespace

absl::Status CheckKey(absl::string_view field, const std::string& value) {
  if (value.empty() || value.size() > kMaxKeyLength) {
    return common::InvalidField(field, absl::StrCat(field, " must be 1 to 128 characters"));
  }
  return common::CheckStorableText(field, value);
}

absl::Status CheckCustomerId(const std::string& id) {
  if (common::IsUuid(id)) return absl::OkStatus();
  return common::InvalidField("customer_id", "must be a customer id (UUID)");
}

absl::Status CheckDefinitionId(absl::string_view field, const std::string& id) {
  if (domain::IsSlotId(id)) return absl::OkStatus();
  return common::InvalidField(field, absl::StrCat(field, " must match [a-z0-9][a-z0-9_-]{0,63}"));
}

void ToProto(const app::InterestsView& v, v1::Interests* out) {
  for (const domain::Interest& i : v.interests) {
    v1::Interest* p = out->add_interests();
    p->set_topic(i.topic);
    p->set_score(i.score);
    p->set_source(i.source == domain::InterestSource::kExplicit ? v1::INTEREST_SOURCE_CHOSEN
                                                                : v1::INTEREST_SOURCE_INFERRED);
  }
  for (const std::string& t : v.declined) out->add_declined_topics(t);
  out->set_personalized(v.personalized);
}

void ToProto(const app::RecommendationList& l, v1::Recommendations* out) {
  out->set_strategy(StrategyOf(l.strategy));
  out->set_segment_id(l.segment_id);
  for (const app::Recommended& r : l.products) {
    v1::RecommendedProduct* p = out->add_products();
    p->set_sku(r.sku);
    p->set_score(r.score);
    p->set_reason(ReasonOf(r.reason));
    p->set_because_sku(r.because_sku);
    p->set_category_path(r.category_path);
  }
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::GetRecommendations(
    grpc::CallbackServerContext* ctx, const v1::GetRecommendationsRequest* req,
    v1::Recommendations* resp) {
  return Offload(ctx, executor_, metrics_, "GetRecommendations", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckCustomerId(req->customer_id()));
    CRM_ASSIGN_OR_RETURN(app::ListRequest r,
                         ListOf(req->count(), req->category_prefix(), req->include_owned()));
    if (!req->segment_id().empty()) {
      CRM_RETURN_IF_ERROR(CheckDefinitionId("segment_id", req->segment_id()));
    }
    CRM_ASSIGN_OR_RETURN(app::RecommendationList l,
                         recommender_.ForCustomer(rc.tenant_id, req->customer_id(), r));
    CRM_ASSIGN_OR_RETURN(l, segment_popular_.Apply(rc.tenant_id, req->customer_id(),
                                                   req->segment_id(), r, std::move(l)));
    ToProto(l, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::GetVisitorRecommendations(
    grpc::CallbackServerContext* ctx, const v1::GetVisitorRecommendationsRequest* req,
    v1::Recommendations* resp) {
  return Offload(
      ctx, executor_, metrics_, "GetVisitorRecommendations", [=](const RequestContext& rc) {
        CRM_RETURN_IF_ERROR(CheckKey("visitor_id", req->visitor_id()));
        CRM_ASSIGN_OR_RETURN(app::ListRequest r,
                             ListOf(req->count(), req->category_prefix(), req->include_owned()));
        if (!req->segment_id().empty()) {
          CRM_RETURN_IF_ERROR(CheckDefinitionId("segment_id", req->segment_id()));
        }
        CRM_ASSIGN_OR_RETURN(app::RecommendationList l,
                             recommender_.ForVisitor(rc.tenant_id, req->visitor_id(), r));
        CRM_ASSIGN_OR_RETURN(
            l, segment_popular_.Apply(rc.tenant_id, "", req->segment_id(), r, std::move(l)));
        ToProto(l, resp);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::GetSimilarProducts(
    grpc::CallbackServerContext* ctx, const v1::GetSimilarProductsRequest* req,
    v1::Recommendations* resp) {
  return Offload(ctx, executor_, metrics_, "GetSimilarProducts", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckKey("sku", req->sku()));
    CRM_ASSIGN_OR_RETURN(app::ListRequest r, ListOf(req->count(), req->category_prefix(), false));
    CRM_ASSIGN_OR_RETURN(app::RecommendationList l,
                         recommender_.Similar(rc.tenant_id, req->sku(), r));
    ToProto(l, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::RecommendForCart(
    grpc::CallbackServerContext* ctx, const v1::RecommendForCartRequest* req,
    v1::Recommendations* resp) {
  return Offload(ctx, executor_, metrics_, "RecommendForCart", [=](const RequestContext& rc) {
    if (req->skus().empty() || req->skus_size() > kMaxCartSkus) {
      return common::InvalidField("skus", "skus must list 1 to 100 products");
    }
    std::vector<std::string> skus;
    for (const std::string& sku : req->skus()) {
      CRM_RETURN_IF_ERROR(CheckKey("skus", sku));
      skus.push_back(sku);
    }
    CRM_ASSIGN_OR_RETURN(app::ListRequest r, ListOf(req->count(), req->category_prefix(), false));
    ToProto(recommender_.ForCart(rc.tenant_id, skus, r), resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::GetInterests(
    grpc::CallbackServerContext* ctx, const v1::GetInterestsRequest* req, v1::Interests* resp) {
  return Offload(ctx, executor_, metrics_, "GetInterests", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckCustomerId(req->customer_id()));
    CRM_ASSIGN_OR_RETURN(std::size_t count, InterestCount(req->count()));
    CRM_ASSIGN_OR_RETURN(app::InterestsView v,
                         recommender_.Interests(rc.tenant_id, req->customer_id(), count));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::GetVisitorInterests(
    grpc::CallbackServerContext* ctx, const v1::GetVisitorInterestsRequest* req,
    v1::Interests* resp) {
  return Offload(ctx, executor_, metrics_, "GetVisitorInterests", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckKey("visitor_id", req->visitor_id()));
    CRM_ASSIGN_OR_RETURN(std::size_t count, InterestCount(req->count()));
    ToProto(recommender_.VisitorInterests(rc.tenant_id, req->visitor_id(), count), resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PersonalizationGrpcService::UpdateInterests(
    grpc::CallbackServerContext* ctx, const v1::UpdateInterestsRequest* req, v1::Interests* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateInterests", [=](const RequestContext& rc) {
    CRM_RETURN_IF_ERROR(CheckCustomerId(req->customer_id()));
    CRM_RETURN_IF_ERROR(common::CheckRequestId(req->request_id()));
    CRM_ASSIGN_OR_RETURN(std::size_t count, InterestCount(req->count()));
    std::vector<domain::TopicChoice> changes;
    for (const v1::TopicChange& c : req->changes()) {
      CRM_RETURN_IF_ERROR(common::CheckStorableText("changes", c.topic()));
      CRM_ASSIGN_OR_RETURN(domain::Preference p, PreferenceOf(c.preference()));
      changes.push_back(domain::TopicChoice{c.topic(), p});
    }
    CRM_ASSIGN_OR_RETURN(
        app::InterestsView v,
        recommender_.ChooseTopics(grpcutil::IdempotentWriteMetaOf(rc, "UpdateInterests", *req),
                                  req->customer_id(), changes, count));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

}  // namespace crm::personalization::api

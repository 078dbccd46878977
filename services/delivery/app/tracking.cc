#include "services/delivery/app/tracking.h"

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/tracking_token.h"
#include "services/delivery/domain/tracking.h"

namespace crm::delivery::app {
namespace {

domain::Engagement EngagementOf(common::TrackingAction a) {
  switch (a) {
    case common::TrackingAction::kOpen:
      return domain::Engagement::kOpen;
    case common::TrackingAction::kClick:
      return domain::Engagement::kClick;
    case common::TrackingAction::kUnsubscribe:
      return domain::Engagement::kUnsubscribe;
  }
  return domain::Engagement::kOpen;
}

}  // namespace

absl::StatusOr<TrackResult> Tracking::Track(const outbox::WriteMeta& meta,
                                            const std::string& token) {
  const absl::Time now = clock_.Now();
  absl::StatusOr<common::TrackingClaims> claims = common::VerifyTrackingToken(key_, token, now);
  // A token of another tenant reads like any invalid one.
  if (!claims.ok() || claims->tenant_id != meta.tenant_id) return common::TrackingLinkInvalid();
  const std::string& id = claims->message_id;
  if (claims->action == common::TrackingAction::kUnsubscribe) {
    // The consent first: it is what the recipient asked for. A message or
    // customer that is gone has nobody left to opt out.
    absl::StatusOr<domain::Message> m = repository_.GetMessage(meta.tenant_id, id);
    if (m.status().code() == absl::StatusCode::kNotFound) return common::TrackingLinkInvalid();
    CRM_RETURN_IF_ERROR(m.status());
    absl::Status s = directory_.OptOutOfMarketingEmail(meta.tenant_id, m->customer_id, id);
    if (s.code() == absl::StatusCode::kNotFound) return common::TrackingLinkInvalid();
    if (!s.ok()) {
      return common::WithReason(
          absl::UnavailableError("the unsubscribe could not be recorded now; try again shortly"),
          "CUSTOMER_STORE_UNAVAILABLE");
    }
  }
  TrackResult result;
  result.message_id = id;
  CRM_ASSIGN_OR_RETURN(domain::Message m,
                       repository_.Run<domain::Message>(
                           meta, id, [&](DeliveryTx& tx) -> absl::StatusOr<domain::Message> {
                             absl::StatusOr<domain::Message> m = tx.LoadMessageForUpdate(id);
                             if (m.status().code() == absl::StatusCode::kNotFound)
                               return common::TrackingLinkInvalid();
                             CRM_RETURN_IF_ERROR(m.status());
                             if (claims->action == common::TrackingAction::kClick) {
                               if (claims->link >= static_cast<int>(m->links.size()))
                                 return common::TrackingLinkInvalid();
                               result.redirect_url = m->links[static_cast<size_t>(claims->link)];
                             }
                             for (const std::string& type :
                                  domain::RecordEngagement(*m, EngagementOf(claims->action), now)) {
                               tx.EmitMessage(type, *m);
                             }
                             tx.SaveEngagement(*m);
                             return m;
                           }));
  (void)m;
  return result;
}

}  // namespace crm::delivery::app

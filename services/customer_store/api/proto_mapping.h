#pragma once
// Proto <-> domain for the customer store. Wire validation that needs the
// proto (enum ranges, timestamps) happens here; domain rules in domain/.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/customer_store/v1/customer_store.pb.h"
#include "services/customer_store/app/customer_store.h"
#include "services/customer_store/app/import.h"
#include "services/customer_store/app/ports.h"
#include "services/customer_store/domain/customer.h"
#include "services/customer_store/domain/insights.h"

namespace crm::customer_store::api {

namespace v1 = ::crm::customer_store::v1;

absl::StatusOr<domain::Customer> FromProto(const v1::Customer& p);
void ToProto(const domain::Customer& c, v1::Customer* p);
// Field paths of `p` that carry a value (non-default), for an empty update
// mask and for upsert's patch semantics. Output-only fields are ignored.
std::vector<std::string> PresentPaths(const v1::Customer& p);
absl::StatusOr<std::vector<std::string>> MaskPaths(const google::protobuf::FieldMask& mask);

absl::StatusOr<domain::Consent> FromProto(const v1::Consent& p);
void ToProto(const domain::Consent& c, v1::Consent* p);
absl::StatusOr<domain::Interaction> FromProto(const v1::Interaction& p);
void ToProto(const domain::Interaction& i, v1::Interaction* p);
void ToProto(const domain::Identity& i, v1::Identity* p);
void ToProto(const domain::CustomerView& v, v1::CustomerView* p);
// The engine-owned sections of the view (scores, segments) and their
// entries in `sections`, merged into the view's own part (appended to its
// `sections`).
void ToProto(const domain::ViewInsights& v, v1::CustomerView* p);
void ToProto(const domain::CustomerExport& e, v1::CustomerExport* p);
void ToProto(const app::ImportReport& r, v1::ImportCustomersResponse* p);
// Behaviour: an event as sent (checked by domain::ValidateBehaviour; an
// occur_time outside the Timestamp range reads as the infinite future, so
// the event is refused EVENT_TIME_OUT_OF_RANGE), an event as stored
// (export), the per-event results.
domain::BehaviourInput FromProto(const v1::BehaviourEvent& p);
void ToProto(const domain::BehaviourEvent& e, v1::BehaviourEvent* p);
void ToProto(const domain::BehaviourSession& s, v1::BehaviourSession* p);
void ToProto(const domain::Visit& v, v1::Visit* p);
// INVALID_ARGUMENT naming `at` when it is no valid timestamp.
absl::StatusOr<app::VisitQuery> FromProto(const v1::GetVisitRequest& p);
void ToProto(const app::TrackOutcome& o, v1::TrackEventsResponse* p);
// One import row from its proto (parse errors stay with the row's line).
app::ImportInputRow FromProto(const v1::ImportRow& row);
// NDJSON body -> rows: one Customer JSON object per non-blank line; unknown
// fields and malformed lines become row errors, never a failed call.
std::vector<app::ImportInputRow> ParseNdjson(const std::string& body);

}  // namespace crm::customer_store::api

#include "services/personalization/clients/grpc_customer_store_peer.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "libs/grpcutil/status_conversion.h"
#include "services/personalization/clients/peer_call.h"

namespace crm::personalization::clients {
namespace {

std::string AttributeText(const customer_store::v1::AttributeValue& v) {
  switch (v.value_case()) {
    case customer_store::v1::AttributeValue::kStringValue:
      return v.string_value();
    case customer_store::v1::AttributeValue::kIntValue:
      return absl::StrCat(v.int_value());
    case customer_store::v1::AttributeValue::kDoubleValue:
      return absl::StrCat(v.double_value());
    case customer_store::v1::AttributeValue::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case customer_store::v1::AttributeValue::kTimeValue:
      return absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(v.time_value().seconds()),
                              absl::UTCTimeZone());
    default:
      return "";
  }
}

app::CustomerProfile ProfileOf(const customer_store::v1::Customer& c) {
  app::CustomerProfile p;
  p.customer_id = c.id();
  p.given_name = c.given_name();
  p.family_name = c.family_name();
  p.display_name = c.display_name();
  if (c.emails_size() > 0) p.email = c.emails(0);
  if (c.phones_size() > 0) p.phone = c.phones(0);
  p.locale = c.locale();
  p.time_zone = c.time_zone();
  p.city = c.postal_address().locality();
  p.country = c.postal_address().country_code();
  if (c.lifecycle_stage() != customer_store::v1::LIFECYCLE_STAGE_UNSPECIFIED) {
    p.lifecycle_stage = absl::AsciiStrToLower(absl::StripPrefix(
        customer_store::v1::LifecycleStage_Name(c.lifecycle_stage()), "LIFECYCLE_STAGE_"));
  }
  for (const auto& [name, value] : c.attributes()) p.attributes[name] = AttributeText(value);
  if (c.has_birthday() && c.birthday().month() > 0 && c.birthday().day() > 0) {
    p.birthday_month = c.birthday().month();
    p.birthday_day = c.birthday().day();
  }
  return p;
}

// customer-store's BatchGetCustomers takes up to 500 ids.
constexpr size_t kProfileBatch = 500;

}  // namespace

absl::StatusOr<app::CustomerProfile> GrpcCustomerStorePeer::Get(const std::string& tenant,
                                                                const std::string& customer_id) {
  grpc::ClientContext ctx;
  PreparePeerCall(tenant, timeout_, &ctx);
  customer_store::v1::GetCustomerRequest req;
  req.set_customer_id(customer_id);
  customer_store::v1::Customer c;
  grpc::Status s = stub_->GetCustomer(&ctx, req, &c);
  if (!s.ok()) return grpcutil::FromGrpcStatus(s);
  return ProfileOf(c);
}

absl::StatusOr<std::map<std::string, app::CustomerProfile>> GrpcCustomerStorePeer::GetMany(
    const std::string& tenant, const std::vector<std::string>& customer_ids) {
  std::map<std::string, app::CustomerProfile> out;
  for (size_t from = 0; from < customer_ids.size(); from += kProfileBatch) {
    grpc::ClientContext ctx;
    PreparePeerCall(tenant, timeout_, &ctx);
    customer_store::v1::BatchGetCustomersRequest req;
    const size_t to = std::min(customer_ids.size(), from + kProfileBatch);
    for (size_t i = from; i < to; ++i) req.add_customer_ids(customer_ids[i]);
    customer_store::v1::BatchGetCustomersResponse resp;
    grpc::Status s = stub_->BatchGetCustomers(&ctx, req, &resp);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s);
    for (const auto& e : resp.customers()) out[e.customer().id()] = ProfileOf(e.customer());
  }
  return out;
}

}  // namespace crm::personalization::clients

#include "services/transaction/app/orders.h"

#include <optional>
#include <vector>

#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::transaction::app {
namespace {
absl::Status CheckId(const std::string& id) {
  if (!common::IsUuid(id)) return common::InvalidField("order_id", "order_id must be a UUID");
  return absl::OkStatus();
}
}  // namespace

absl::Status WriteNewOrder(OrderTx& tx, const domain::Order& o) {
  std::vector<std::string> skus;
  for (const auto& l : o.lines) skus.push_back(l.sku);
  CRM_RETURN_IF_ERROR(domain::CheckSkusKnown(o, tx.KnownSkus(skus)));
  if (!o.external_id.empty()) {
    if (std::optional<std::string> taken = tx.OrderWithExternalId(o.external_id)) {
      return domain::ExternalIdTaken(*taken, o.external_id);
    }
  }
  tx.SaveOrder(o, true);
  tx.EmitOrder(domain::StatusEventType(o.status), o);
  return absl::OkStatus();
}

absl::StatusOr<domain::Order> WriteOrderTransition(OrderTx& tx, const std::string& id,
                                                   domain::OrderStatus to, absl::Time now) {
  CRM_ASSIGN_OR_RETURN(domain::Order o, tx.LoadOrder(id));
  CRM_RETURN_IF_ERROR(domain::ApplyTransition(o, to, now));
  tx.SaveOrder(o, false);
  tx.EmitOrder(domain::StatusEventType(o.status), o);
  return o;
}

absl::Time Orders::Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now())); }

static absl::Status CheckIdentities(const CustomerIdentities& who) {
  if (who.email.empty() && who.phone.empty() && who.external_id.empty()) {
    return common::InvalidField("customer_ref",
                                "customer_ref needs an email, a phone or an external id");
  }
  if (!who.external_id.empty() && who.external_id_source.empty()) {
    return common::InvalidField("customer_ref.external_id_source",
                                "customer_ref.external_id_source is required with external_id");
  }
  return absl::OkStatus();
}

absl::StatusOr<domain::Order> Orders::Create(const Actor& actor, domain::Order o,
                                             const CustomerIdentities* who) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  const std::string named = o.customer_id;
  absl::StatusOr<std::vector<std::string>> quoted_for =
      domain::ApplyPriceQuotes(o, actor.tenant_id, price_quote_key_, Now());
  if (!quoted_for.ok()) {
    // A retry after its quote expired is answered what the first call got.
    CRM_ASSIGN_OR_RETURN(std::optional<domain::Order> replay, repository_.FindReplay(actor));
    if (replay) return *std::move(replay);
    return quoted_for.status();
  }
  if (who != nullptr) {
    if (!o.customer_id.empty()) {
      return common::InvalidField("customer_ref",
                                  "give either customer_id or customer_ref, not both");
    }
    CRM_RETURN_IF_ERROR(CheckIdentities(*who));
    if (directory_ == nullptr || settings_ == nullptr) {
      return absl::UnimplementedError("customer resolution is not configured");
    }
    // A retry answers the first result before asking customer-store anything
    // (which may be down, or no longer know the customer).
    CRM_ASSIGN_OR_RETURN(std::optional<domain::Order> replay, repository_.FindReplay(actor));
    if (replay) return *std::move(replay);
    // Validated before resolving, so a bad order creates no customer.
    CRM_RETURN_IF_ERROR(domain::NormalizeAndValidateContent(o));
    CRM_ASSIGN_OR_RETURN(OrderSettings settings, settings_->GetSettings(actor.tenant_id));
    Actor resolver = actor;
    resolver.idempotency_key = DerivedKey(actor.idempotency_key, "customer");
    CRM_ASSIGN_OR_RETURN(ResolvedCustomer c,
                         directory_->Resolve(resolver, *who, settings.create_unknown_customers));
    o.customer_id = c.id;
  } else if (directory_ != nullptr) {
    if (std::optional<std::string> known = directory_->Known(actor.tenant_id, o.customer_id)) {
      // Confirmed recently (app::KnownCustomers): customer-store is not
      // asked, so nothing needs answering before it; a retry is answered by
      // the write's own claim of the key (the same stored answer).
      o.customer_id = *std::move(known);
    } else {
      // The named customer must exist in customer-store (a merged-away id
      // is booked to its survivor). A retry answers first, without asking.
      CRM_ASSIGN_OR_RETURN(std::optional<domain::Order> replay, repository_.FindReplay(actor));
      if (replay) return *std::move(replay);
      CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(o));
      CRM_ASSIGN_OR_RETURN(o.customer_id, directory_->CheckCustomerId(actor, o.customer_id));
    }
  }
  CRM_RETURN_IF_ERROR(domain::CheckQuoteCustomers(o, *quoted_for, named));
  CRM_ASSIGN_OR_RETURN(o, Prepare(std::move(o)));
  return repository_.Run<domain::Order>(actor, o.id,
                                        [&](OrderTx& tx) -> absl::StatusOr<domain::Order> {
                                          CRM_RETURN_IF_ERROR(WriteNewOrder(tx, o));
                                          return o;
                                        });
}

absl::StatusOr<domain::Order> Orders::Prepare(domain::Order o) {
  CRM_RETURN_IF_ERROR(domain::NormalizeAndValidate(o));
  absl::Time now = Now();
  o.id = ids_.NewId();
  o.status = domain::OrderStatus::kPlaced;
  o.version = 1;
  if (o.placed_time == absl::InfinitePast()) o.placed_time = now;
  o.placed_time = absl::FromUnixMicros(absl::ToUnixMicros(o.placed_time));
  if (o.placed_time > now + absl::Minutes(5)) {
    return common::InvalidField("placed_time", "placed_time is in the future");
  }
  o.create_time = o.update_time = now;
  return o;
}

absl::StatusOr<domain::Order> Orders::Get(const std::string& tenant, const std::string& id) {
  CRM_RETURN_IF_ERROR(CheckId(id));
  return repository_.Get(tenant, id);
}

absl::StatusOr<OrderPage> Orders::List(const std::string& tenant, const OrderQuery& q) {
  if (!q.customer_id.empty() && !common::IsUuid(q.customer_id)) {
    return common::InvalidField("customer_id", "customer_id must be a UUID");
  }
  int status = static_cast<int>(q.status);
  if (status < 0 || status > 7) return common::InvalidField("status", "unknown status");
  return repository_.List(tenant, q);
}

absl::StatusOr<domain::Order> Orders::Transition(const Actor& actor, const std::string& id,
                                                 domain::OrderStatus to) {
  CRM_RETURN_IF_ERROR(RequireRequestId(actor));
  CRM_RETURN_IF_ERROR(CheckId(id));
  int v = static_cast<int>(to);
  if (v < 1 || v > 7) return common::InvalidField("to_status", "to_status is required");
  const absl::Time now = Now();
  return repository_.Run<domain::Order>(
      actor, id, [&](OrderTx& tx) { return WriteOrderTransition(tx, id, to, now); });
}

absl::StatusOr<OrderSettings> Orders::GetSettings(const std::string& tenant) {
  if (settings_ == nullptr) return absl::UnimplementedError("order settings are not configured");
  return settings_->GetSettings(tenant);
}

absl::StatusOr<OrderSettings> Orders::UpdateSettings(const Actor& actor, const OrderSettings& s,
                                                     const std::string& if_match) {
  if (settings_ == nullptr) return absl::UnimplementedError("order settings are not configured");
  return settings_->UpdateSettings(actor, s, if_match, Now());
}

}  // namespace crm::transaction::app

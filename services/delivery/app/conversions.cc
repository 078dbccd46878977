#include "services/delivery/app/conversions.h"

#include "libs/common/status_macros.h"
#include "services/delivery/domain/attribution.h"

namespace crm::delivery::app {

absl::StatusOr<ConversionResult> Conversions::Record(const std::string& tenant,
                                                     const OrderConversion& order) {
  CRM_ASSIGN_OR_RETURN(domain::DeliveryPolicy policy, policies_.Get(tenant));
  const domain::AttributionPolicy& rules = policy.attribution;
  const outbox::WriteMeta meta{tenant, "delivery", order.event_id, "OrderEvent", "", ""};
  ConversionResult result;
  CRM_ASSIGN_OR_RETURN(
      bool done,
      repository_.Run<bool>(meta, order.order_id, [&](DeliveryTx& tx) -> absl::StatusOr<bool> {
        result = ConversionResult{};
        if (order.cancelled) {
          CRM_ASSIGN_OR_RETURN(result.withdrawn, tx.DeleteConversions(order.order_id));
          return true;
        }
        const absl::Time from = order.order_time - rules.window;
        // Credit: kept where an earlier version of the order put it.
        CRM_ASSIGN_OR_RETURN(std::optional<std::string> credited,
                             tx.CreditedMessageOf(order.order_id));
        if (!credited) {
          CRM_ASSIGN_OR_RETURN(std::vector<domain::Touch> touches,
                               tx.LoadTouches(order.customer_id, from));
          if (std::optional<size_t> i = domain::CreditedTouch(touches, order.order_time, rules)) {
            credited = touches[*i].message_id;
            result.first_credit = true;
          }
        }
        if (credited) {
          result.credited_message_id = *credited;
          CRM_ASSIGN_OR_RETURN(bool inserted,
                               tx.SaveConversion(order, *credited, ConversionKind::kCredited));
          if (inserted) {
            CRM_ASSIGN_OR_RETURN(domain::Message m, tx.LoadMessageForUpdate(*credited));
            tx.EmitConversion(m, order);
          }
        }
        CRM_ASSIGN_OR_RETURN(std::vector<std::string> exposed,
                             tx.LoadExposures(order.customer_id, from, order.order_time));
        for (const std::string& id : exposed) {
          CRM_ASSIGN_OR_RETURN(bool inserted,
                               tx.SaveConversion(order, id, ConversionKind::kExposed));
          (void)inserted;
        }
        result.exposed = static_cast<int64_t>(exposed.size());
        return true;
      }));
  (void)done;
  return result;
}

}  // namespace crm::delivery::app

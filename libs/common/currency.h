#pragma once
// ISO 4217 currencies in circulation and their minor-unit digits (pure).
#include <optional>

#include "absl/strings/string_view.h"

namespace crm::common {

// Digits of the minor unit (2 for CHF, 0 for JPY, 3 for KWD); nullopt for a
// code that is not an active ISO 4217 currency.
std::optional<int> MinorUnitDigits(absl::string_view code);

}  // namespace crm::common

#pragma once
// Status plumbing: early return on error, assign-or-return for StatusOr.
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CRM_STATUS_CONCAT_INNER_(a, b) a##b
#define CRM_STATUS_CONCAT_(a, b) CRM_STATUS_CONCAT_INNER_(a, b)

#define CRM_RETURN_IF_ERROR(expr)                  \
  do {                                             \
    ::absl::Status crm_status_ = (expr);           \
    if (!crm_status_.ok()) return crm_status_;     \
  } while (0)

#define CRM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

#define CRM_ASSIGN_OR_RETURN(lhs, expr) \
  CRM_ASSIGN_OR_RETURN_IMPL_(CRM_STATUS_CONCAT_(crm_statusor_, __LINE__), lhs, expr)

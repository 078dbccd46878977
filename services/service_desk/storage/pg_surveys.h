#pragma once
// For PgTicketRepository's files: the satisfaction surveys' tables
// (schema/017_surveys.sql): the tenant's settings and each ticket's survey,
// read and written in a write's transaction.
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/pg/pool.h"
#include "services/service_desk/app/ports.h"
#include "services/service_desk/domain/survey.h"

namespace crm::service_desk::storage {

std::vector<pg::NamedQuery> SurveyQueries();

// The tenant's settings (version 0 before the first write); `lock`: held
// until the transaction ends.
absl::StatusOr<domain::SurveySettings> SurveySettingsIn(pg::Pool& pool, pqxx::work& tx,
                                                        const std::string& tenant, bool lock);
void SaveSurveySettingsIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                          const domain::SurveySettings& s);
// An UpdateSurveySettings answer as stored with its key and read again.
const outbox::AnswerCodec<domain::SurveySettings>& SurveySettingsAnswer();

void ScheduleSurveyIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                      const domain::Survey& s);
absl::StatusOr<std::optional<domain::Survey>> LockSurveyIn(pg::Pool& pool, pqxx::work& tx,
                                                           const std::string& tenant,
                                                           const std::string& id);
void SaveSurveyIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                  const domain::Survey& s);
absl::StatusOr<bool> NpsAskedSinceIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                                     const std::string& customer_id, absl::Time since);
absl::StatusOr<bool> SurveyedSinceIn(pg::Pool& pool, pqxx::work& tx, const std::string& tenant,
                                     const std::string& customer_id, absl::Time since);
// Due surveys of every tenant: in a transaction that set app.scheduler.
std::vector<app::TicketRepository::DueSurvey> DueSurveysIn(pg::Pool& pool, pqxx::work& tx,
                                                           absl::Time now, int limit);

}  // namespace crm::service_desk::storage

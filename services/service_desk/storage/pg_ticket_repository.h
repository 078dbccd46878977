#pragma once
// Tickets, their messages and changes in PostgreSQL (schema/001_tickets.sql).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::storage {

class PgTicketRepository final : public app::TicketRepository {
 public:
  explicit PgTicketRepository(pg::Pool& pool);
  // Its named queries and the transactional writer's of the schema.
  static std::vector<pg::NamedQuery> Queries();

  absl::StatusOr<domain::Ticket> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Ticket>(app::TicketTx&)> work) override;
  absl::StatusOr<app::MessageAdded> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::MessageAdded>(app::TicketTx&)> work) override;
  absl::StatusOr<domain::SlaPolicies> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::SlaPolicies>(app::TicketTx&)> work) override;

  absl::StatusOr<app::SlaSweep> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::SlaSweep>(app::TicketTx&)> work) override;

  absl::StatusOr<app::MailReceived> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::MailReceived>(app::TicketTx&)> work) override;

  absl::StatusOr<app::Mailbox> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::Mailbox>(app::TicketTx&)> work) override;
  absl::StatusOr<domain::RoutingRules> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::RoutingRules>(app::TicketTx&)> work) override;
  absl::StatusOr<domain::RoutingRules> GetRoutingRules(const std::string& tenant) override;
  // Classifiers (storage/pg_classifiers.cc).
  absl::StatusOr<std::vector<domain::Classifier>> GetClassifiers(
      const std::string& tenant) override;
  absl::StatusOr<std::optional<std::string>> ClassifierModel(const std::string& tenant,
                                                             domain::ClassifierTarget target,
                                                             int64_t version) override;
  absl::StatusOr<std::vector<domain::LabelledText>> TrainingExamples(
      const std::string& tenant, domain::ClassifierTarget target, int limit) override;
  absl::StatusOr<domain::Classifier> PutClassifier(const std::string& tenant,
                                                   const domain::Classifier& c,
                                                   const std::string& model) override;
  absl::StatusOr<domain::Classifier> SetClassifierMode(const std::string& tenant,
                                                       domain::ClassifierTarget target,
                                                       domain::ClassifierMode mode,
                                                       absl::Time at) override;
  absl::Status DeleteClassifier(const std::string& tenant,
                                domain::ClassifierTarget target) override;
  absl::StatusOr<std::vector<domain::TicketPrediction>> TicketPredictions(
      const std::string& tenant, const std::string& ticket_id) override;
  absl::StatusOr<std::vector<domain::AutoResponseCounts>> AutoResponseCounts(
      const std::string& tenant, absl::Time from, absl::Time to) override;
  absl::StatusOr<Corrections> ClassifierCorrections(const std::string& tenant,
                                                    domain::ClassifierTarget target,
                                                    absl::Time since, int window) override;
  absl::StatusOr<domain::Triggers> GetTriggers(const std::string& tenant) override;
  absl::StatusOr<domain::Automations> GetAutomations(const std::string& tenant) override;
  absl::StatusOr<domain::Article> GetArticle(const std::string& tenant,
                                             const std::string& id) override;
  absl::StatusOr<app::ArticlePage> ListArticles(const std::string& tenant,
                                                const app::ArticleQuery& q) override;
  absl::StatusOr<std::vector<domain::Article>> ArticleVersions(const std::string& tenant,
                                                               const std::string& id) override;
  absl::StatusOr<app::SearchResult> Search(const std::string& tenant, const domain::SearchQuery& q,
                                           const std::string& tsquery) override;
  absl::StatusOr<app::Suggestions> Suggest(const std::string& tenant, const std::string& tsquery,
                                           int limit) override;
  absl::StatusOr<std::vector<app::AutomatedTenant>> AutomatedTenants(
      const std::string& after_tenant, int limit) override;
  absl::StatusOr<std::vector<app::AutomationCandidate>> AutomationCandidates(
      const std::string& tenant, const domain::Automation& a, absl::Time now,
      const std::string& after_ticket_id, int limit) override;
  absl::StatusOr<app::AgentState> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<app::AgentState>(app::TicketTx&)> work) override;
  absl::StatusOr<app::AgentState> GetAgent(const std::string& tenant,
                                           const std::string& id) override;
  absl::StatusOr<std::vector<app::AgentState>> ListAgents(const std::string& tenant) override;
  absl::StatusOr<domain::Macro> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Macro>(app::TicketTx&)> work) override;
  absl::StatusOr<domain::Triggers> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Triggers>(app::TicketTx&)> work) override;
  absl::StatusOr<domain::Article> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Article>(app::TicketTx&)> work) override;
  absl::StatusOr<domain::Automations> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Automations>(app::TicketTx&)> work) override;
  absl::StatusOr<domain::SurveySettings> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::SurveySettings>(app::TicketTx&)> work) override;
  absl::StatusOr<std::vector<DueSurvey>> DueSurveys(absl::Time now, int limit) override;
  absl::StatusOr<domain::SurveySettings> GetSurveySettings(const std::string& tenant) override;
  absl::StatusOr<domain::Attachment> Write(
      const outbox::WriteMeta& meta, const std::string& resource,
      absl::FunctionRef<absl::StatusOr<domain::Attachment>(app::TicketTx&)> work) override;
  absl::StatusOr<std::pair<domain::Attachment, std::string>> AttachmentContent(
      const std::string& tenant, const std::string& ticket_id,
      const std::string& attachment_id) override;
  absl::StatusOr<std::vector<domain::NpsCounts>> NpsRows(const std::string& tenant, absl::Time from,
                                                         absl::Time to) override;
  absl::StatusOr<std::vector<domain::SurveyRow>> SurveyRows(const std::string& tenant,
                                                            absl::Time from,
                                                            absl::Time to) override;
  absl::StatusOr<domain::Macro> GetMacro(const std::string& tenant, const std::string& id) override;
  absl::StatusOr<domain::SlaReport> SlaReportOf(const std::string& tenant,
                                                const domain::SlaReportQuery& q) override;
  absl::StatusOr<std::vector<domain::Macro>> ListMacros(const std::string& tenant) override;

  absl::StatusOr<bool> KeyUsed(const app::Actor& actor) override;
  absl::StatusOr<int64_t> NextNumber(const std::string& tenant) override;
  absl::StatusOr<domain::Ticket> GetTicket(const std::string& tenant,
                                           const std::string& id) override;
  absl::StatusOr<app::TicketPage> ListTickets(const std::string& tenant,
                                              const app::TicketQuery& q) override;
  absl::StatusOr<app::MessagePage> ListMessages(const std::string& tenant,
                                                const std::string& ticket_id,
                                                const std::string& after_cursor,
                                                int limit) override;
  absl::StatusOr<std::vector<domain::TicketChange>> ListChanges(
      const std::string& tenant, const std::string& ticket_id) override;
  absl::StatusOr<domain::SlaPolicies> GetSlaPolicies(const std::string& tenant) override;
  absl::StatusOr<app::SlaInputs> GetSlaInputs(const std::string& tenant,
                                              const std::string& ticket_id) override;
  absl::StatusOr<std::vector<app::SlaDue>> DueSlas(absl::Time now, int limit) override;
  absl::StatusOr<std::vector<app::SlaRebase>> SlaRebases(int limit) override;
  absl::StatusOr<std::vector<std::string>> StaleSlas(const std::string& tenant, int64_t version,
                                                     const std::string& after_ticket_id,
                                                     int limit) override;
  absl::StatusOr<app::Mailbox> GetMailbox(const std::string& tenant,
                                          const std::string& id) override;
  absl::StatusOr<std::vector<app::Mailbox>> ListMailboxes(const std::string& tenant) override;
  absl::StatusOr<std::optional<app::MailboxRoute>> RouteOf(const std::string& address) override;
  absl::StatusOr<std::optional<app::MessageAdded>> ReceivedMail(
      const std::string& tenant, const std::string& mailbox_id,
      const std::string& mail_id) override;
  absl::StatusOr<std::optional<app::MailThread>> TicketOfMail(
      const std::string& tenant, const std::vector<std::string>& ids) override;
  absl::StatusOr<std::optional<domain::Ticket>> TicketNumbered(const std::string& tenant,
                                                               int64_t number) override;
  absl::StatusOr<bool> IsParticipant(const std::string& tenant, const std::string& ticket_id,
                                     const std::string& addr) override;
  absl::StatusOr<bool> Quarantined(const std::string& tenant, const std::string& mailbox_id,
                                   const std::string& addr, absl::Time now) override;
  absl::StatusOr<std::optional<std::string>> LatestTicketFrom(const std::string& tenant,
                                                              const std::string& mailbox_id,
                                                              const std::string& addr) override;
  absl::StatusOr<domain::OutboundMail> GetOutboundMail(const std::string& tenant,
                                                       const std::string& ticket_id,
                                                       const std::string& mail_id) override;
  absl::StatusOr<std::optional<std::string>> SameSubjectTicket(const std::string& tenant,
                                                               const std::string& mailbox_id,
                                                               const std::string& from_addr,
                                                               const std::string& thread_subject,
                                                               absl::Time since) override;

 private:
  class Tx;
  template <typename T>
  absl::StatusOr<T> RunTx(const outbox::WriteMeta& meta, const std::string& resource,
                          const outbox::AnswerCodec<T>& codec,
                          absl::FunctionRef<absl::StatusOr<T>(app::TicketTx&)> work);
  // NOT_FOUND TICKET_NOT_FOUND unless the tenant has the ticket.
  absl::Status RequireTicket(pqxx::work& tx, const std::string& tenant, const std::string& id);

  pg::Pool& pool_;
  outbox::TransactionalWriter writer_;
  // Ticket numbers are taken from the tenant's counter in blocks of
  // kNumberBlock per replica, so creations do not queue on the counter's
  // row: numbers are unique and increase per replica; across replicas
  // they interleave, and a restart leaves the rest of a block unused.
  static constexpr int64_t kNumberBlock = 16;
  struct NumberBlock {
    int64_t next = 1;
    int64_t last = 0;
  };
  absl::Mutex numbers_mu_;
  std::map<std::string, NumberBlock> numbers_ ABSL_GUARDED_BY(numbers_mu_);
};

}  // namespace crm::service_desk::storage

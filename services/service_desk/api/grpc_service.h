#pragma once
// The gRPC edge of the service desk (crm.service_desk.v1.ServiceDeskService):
// proto ⇄ domain, every RPC one Offload.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/service_desk/v1/service_desk.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/service_desk/app/agents.h"
#include "services/service_desk/app/automations.h"
#include "services/service_desk/app/classifiers.h"
#include "services/service_desk/app/inbound.h"
#include "services/service_desk/app/knowledge.h"
#include "services/service_desk/app/macros.h"
#include "services/service_desk/app/mailboxes.h"
#include "services/service_desk/app/routing.h"
#include "services/service_desk/app/slas.h"
#include "services/service_desk/app/surveys.h"
#include "services/service_desk/app/ticket_context.h"
#include "services/service_desk/app/tickets.h"
#include "services/service_desk/app/triggers.h"

namespace crm::service_desk::api {

namespace v1 = ::crm::service_desk::v1;

absl::StatusOr<domain::Ticket> FromProto(const v1::Ticket& t);
void ToProto(const domain::Ticket& t, v1::Ticket* out);
void ToProto(const domain::Attachment& a, v1::Attachment* out);
void ToProto(const domain::TicketMessage& m, v1::TicketMessage* out);
void ToProto(const domain::TicketChange& c, v1::TicketChange* out);
// The fields set in `t` (non-empty strings, lists and maps, non-zero enums).
std::vector<std::string> PresentPaths(const v1::Ticket& t);
// INVALID_ARGUMENT naming the field (policy.hours.week[0].intervals[1].start, ...).
absl::StatusOr<domain::SlaPolicySpec> FromProto(const v1::SlaPolicy& p);
void ToProto(const domain::SlaPolicySpec& p, v1::SlaPolicy* out);
// Conditions of routing rules and SLA policies.
std::vector<domain::RoutingCondition> ConditionsOf(
    const google::protobuf::RepeatedPtrField<v1::RoutingCondition>& in);
void ToProto(const std::vector<domain::RoutingCondition>& in,
             google::protobuf::RepeatedPtrField<v1::RoutingCondition>* out);
// The list's policies: a policy's field errors named policies[i].policy.<field>.
absl::StatusOr<std::vector<domain::ConditionalSlaPolicy>> FromProto(const v1::SlaPolicies& p);
void ToProto(const domain::SlaPolicies& p, v1::SlaPolicies* out);
void ToProto(const domain::Mailbox& m, v1::Mailbox* out);
// The settings of a mailbox in a request (address, own domains, windows).
domain::Mailbox FromProto(const v1::Mailbox& m);
domain::RoutingRules FromProto(const v1::RoutingRules& r);  // checked by the domain
void ToProto(const domain::RoutingRules& r, v1::RoutingRules* out);
// A macro in a write (checked by the domain); INVALID_ARGUMENT for an
// unknown status or priority.
absl::StatusOr<domain::Macro> FromProto(const v1::Macro& m);
void ToProto(const domain::Macro& m, v1::Macro* out);
// An agent in a write (its id from the path; capacity 0: the default).
domain::Agent FromProto(const std::string& agent_id, const v1::Agent& a);
void ToProto(const app::AgentState& a, v1::Agent* out);

class ServiceDeskGrpcService final : public v1::ServiceDeskService::CallbackService {
 public:
  ServiceDeskGrpcService(app::Tickets& tickets, app::Slas& slas, app::Mailboxes& mailboxes,
                         app::Inbound& inbound, app::Routing& routing, app::Agents& agents,
                         app::Macros& macros, app::TriggerRules& triggers,
                         app::AutomationRules& automations, app::KnowledgeBase& knowledge,
                         app::Classifiers& classifiers, app::Surveys& surveys,
                         app::TicketContexts& contexts, common::Executor& executor,
                         grpcutil::RpcMetrics& metrics, const common::PageTokenCodec& tokens)
      : tickets_(tickets),
        slas_(slas),
        mailboxes_(mailboxes),
        inbound_(inbound),
        routing_(routing),
        agents_(agents),
        macros_(macros),
        triggers_(triggers),
        automations_(automations),
        knowledge_(knowledge),
        classifiers_(classifiers),
        surveys_(surveys),
        contexts_(contexts),
        executor_(executor),
        metrics_(metrics),
        tokens_(tokens) {}

  grpc::ServerUnaryReactor* UploadAttachment(grpc::CallbackServerContext* ctx,
                                             const v1::UploadAttachmentRequest* req,
                                             v1::Attachment* resp) override;
  grpc::ServerUnaryReactor* GetAttachmentContent(grpc::CallbackServerContext* ctx,
                                                 const v1::GetAttachmentContentRequest* req,
                                                 v1::AttachmentContent* resp) override;
  grpc::ServerUnaryReactor* GetTicketContext(grpc::CallbackServerContext* ctx,
                                             const v1::GetTicketContextRequest* req,
                                             v1::TicketContext* resp) override;
  grpc::ServerUnaryReactor* CreateTicket(grpc::CallbackServerContext* ctx,
                                         const v1::CreateTicketRequest* req,
                                         v1::Ticket* resp) override;
  grpc::ServerUnaryReactor* GetTicket(grpc::CallbackServerContext* ctx,
                                      const v1::GetTicketRequest* req, v1::Ticket* resp) override;
  grpc::ServerUnaryReactor* ListTickets(grpc::CallbackServerContext* ctx,
                                        const v1::ListTicketsRequest* req,
                                        v1::ListTicketsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateTicket(grpc::CallbackServerContext* ctx,
                                         const v1::UpdateTicketRequest* req,
                                         v1::Ticket* resp) override;
  grpc::ServerUnaryReactor* AddTicketMessage(grpc::CallbackServerContext* ctx,
                                             const v1::AddTicketMessageRequest* req,
                                             v1::AddTicketMessageResponse* resp) override;
  grpc::ServerUnaryReactor* MergeTicket(grpc::CallbackServerContext* ctx,
                                        const v1::MergeTicketRequest* req,
                                        v1::Ticket* resp) override;
  grpc::ServerUnaryReactor* SplitTicket(grpc::CallbackServerContext* ctx,
                                        const v1::SplitTicketRequest* req,
                                        v1::Ticket* resp) override;
  grpc::ServerUnaryReactor* ListTicketMessages(grpc::CallbackServerContext* ctx,
                                               const v1::ListTicketMessagesRequest* req,
                                               v1::ListTicketMessagesResponse* resp) override;
  grpc::ServerUnaryReactor* ListTicketChanges(grpc::CallbackServerContext* ctx,
                                              const v1::ListTicketChangesRequest* req,
                                              v1::ListTicketChangesResponse* resp) override;
  grpc::ServerUnaryReactor* GetSlaPolicy(grpc::CallbackServerContext* ctx,
                                         const v1::GetSlaPolicyRequest* req,
                                         v1::SlaPolicy* resp) override;
  grpc::ServerUnaryReactor* UpdateSlaPolicy(grpc::CallbackServerContext* ctx,
                                            const v1::UpdateSlaPolicyRequest* req,
                                            v1::SlaPolicy* resp) override;
  grpc::ServerUnaryReactor* GetSlaReport(grpc::CallbackServerContext* ctx,
                                         const v1::GetSlaReportRequest* req,
                                         v1::SlaReport* resp) override;
  grpc::ServerUnaryReactor* GetSlaPolicies(grpc::CallbackServerContext* ctx,
                                           const v1::GetSlaPoliciesRequest* req,
                                           v1::SlaPolicies* resp) override;
  grpc::ServerUnaryReactor* UpdateSlaPolicies(grpc::CallbackServerContext* ctx,
                                              const v1::UpdateSlaPoliciesRequest* req,
                                              v1::SlaPolicies* resp) override;
  grpc::ServerUnaryReactor* GetTicketSla(grpc::CallbackServerContext* ctx,
                                         const v1::GetTicketSlaRequest* req,
                                         v1::TicketSla* resp) override;
  // api/macros_grpc.cc
  grpc::ServerUnaryReactor* CreateMacro(grpc::CallbackServerContext* ctx,
                                        const v1::CreateMacroRequest* req,
                                        v1::Macro* resp) override;
  grpc::ServerUnaryReactor* GetMacro(grpc::CallbackServerContext* ctx,
                                     const v1::GetMacroRequest* req, v1::Macro* resp) override;
  grpc::ServerUnaryReactor* ListMacros(grpc::CallbackServerContext* ctx,
                                       const v1::ListMacrosRequest* req,
                                       v1::ListMacrosResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateMacro(grpc::CallbackServerContext* ctx,
                                        const v1::UpdateMacroRequest* req,
                                        v1::Macro* resp) override;
  grpc::ServerUnaryReactor* DeleteMacro(grpc::CallbackServerContext* ctx,
                                        const v1::DeleteMacroRequest* req,
                                        v1::DeleteMacroResponse* resp) override;
  grpc::ServerUnaryReactor* ApplyMacro(grpc::CallbackServerContext* ctx,
                                       const v1::ApplyMacroRequest* req,
                                       v1::ApplyMacroResponse* resp) override;
  // api/agents_grpc.cc
  grpc::ServerUnaryReactor* PutAgent(grpc::CallbackServerContext* ctx,
                                     const v1::PutAgentRequest* req, v1::Agent* resp) override;
  grpc::ServerUnaryReactor* GetAgent(grpc::CallbackServerContext* ctx,
                                     const v1::GetAgentRequest* req, v1::Agent* resp) override;
  grpc::ServerUnaryReactor* ListAgents(grpc::CallbackServerContext* ctx,
                                       const v1::ListAgentsRequest* req,
                                       v1::ListAgentsResponse* resp) override;
  grpc::ServerUnaryReactor* SetAgentAvailability(grpc::CallbackServerContext* ctx,
                                                 const v1::SetAgentAvailabilityRequest* req,
                                                 v1::Agent* resp) override;
  // api/knowledge_grpc.cc
  grpc::ServerUnaryReactor* CreateArticle(grpc::CallbackServerContext* ctx,
                                          const v1::CreateArticleRequest* req,
                                          v1::Article* resp) override;
  grpc::ServerUnaryReactor* GetArticle(grpc::CallbackServerContext* ctx,
                                       const v1::GetArticleRequest* req,
                                       v1::Article* resp) override;
  grpc::ServerUnaryReactor* ListArticles(grpc::CallbackServerContext* ctx,
                                         const v1::ListArticlesRequest* req,
                                         v1::ListArticlesResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateArticle(grpc::CallbackServerContext* ctx,
                                          const v1::UpdateArticleRequest* req,
                                          v1::Article* resp) override;
  grpc::ServerUnaryReactor* DeleteArticle(grpc::CallbackServerContext* ctx,
                                          const v1::DeleteArticleRequest* req,
                                          v1::DeleteArticleResponse* resp) override;
  grpc::ServerUnaryReactor* ListArticleVersions(grpc::CallbackServerContext* ctx,
                                                const v1::ListArticleVersionsRequest* req,
                                                v1::ListArticleVersionsResponse* resp) override;
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx, const v1::SearchRequest* req,
                                   v1::SearchResponse* resp) override;
  grpc::ServerUnaryReactor* Suggest(grpc::CallbackServerContext* ctx, const v1::SuggestRequest* req,
                                    v1::SuggestResponse* resp) override;
  // api/classifiers_grpc.cc
  grpc::ServerUnaryReactor* TrainClassifier(grpc::CallbackServerContext* ctx,
                                            const v1::TrainClassifierRequest* req,
                                            v1::Classifier* resp) override;
  grpc::ServerUnaryReactor* GetClassifier(grpc::CallbackServerContext* ctx,
                                          const v1::GetClassifierRequest* req,
                                          v1::Classifier* resp) override;
  grpc::ServerUnaryReactor* ListClassifiers(grpc::CallbackServerContext* ctx,
                                            const v1::ListClassifiersRequest* req,
                                            v1::ListClassifiersResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateClassifier(grpc::CallbackServerContext* ctx,
                                             const v1::UpdateClassifierRequest* req,
                                             v1::Classifier* resp) override;
  grpc::ServerUnaryReactor* DeleteClassifier(grpc::CallbackServerContext* ctx,
                                             const v1::DeleteClassifierRequest* req,
                                             v1::DeleteClassifierResponse* resp) override;
  grpc::ServerUnaryReactor* GetSurveySettings(grpc::CallbackServerContext* ctx,
                                              const v1::GetSurveySettingsRequest* req,
                                              v1::SurveySettings* resp) override;
  grpc::ServerUnaryReactor* UpdateSurveySettings(grpc::CallbackServerContext* ctx,
                                                 const v1::UpdateSurveySettingsRequest* req,
                                                 v1::SurveySettings* resp) override;
  grpc::ServerUnaryReactor* AnswerSurvey(grpc::CallbackServerContext* ctx,
                                         const v1::AnswerSurveyRequest* req,
                                         v1::AnswerSurveyResponse* resp) override;
  grpc::ServerUnaryReactor* GetSurveyReport(grpc::CallbackServerContext* ctx,
                                            const v1::GetSurveyReportRequest* req,
                                            v1::SurveyReport* resp) override;
  grpc::ServerUnaryReactor* GetAutoResponseReport(grpc::CallbackServerContext* ctx,
                                                  const v1::GetAutoResponseReportRequest* req,
                                                  v1::AutoResponseReport* resp) override;
  // api/automations_grpc.cc
  grpc::ServerUnaryReactor* GetAutomations(grpc::CallbackServerContext* ctx,
                                           const v1::GetAutomationsRequest* req,
                                           v1::Automations* resp) override;
  grpc::ServerUnaryReactor* UpdateAutomations(grpc::CallbackServerContext* ctx,
                                              const v1::UpdateAutomationsRequest* req,
                                              v1::Automations* resp) override;
  // api/triggers_grpc.cc
  grpc::ServerUnaryReactor* GetTriggers(grpc::CallbackServerContext* ctx,
                                        const v1::GetTriggersRequest* req,
                                        v1::Triggers* resp) override;
  grpc::ServerUnaryReactor* UpdateTriggers(grpc::CallbackServerContext* ctx,
                                           const v1::UpdateTriggersRequest* req,
                                           v1::Triggers* resp) override;
  grpc::ServerUnaryReactor* DryRunTriggers(grpc::CallbackServerContext* ctx,
                                           const v1::DryRunTriggersRequest* req,
                                           v1::DryRunTriggersResponse* resp) override;
  // api/routing_grpc.cc
  grpc::ServerUnaryReactor* GetRoutingRules(grpc::CallbackServerContext* ctx,
                                            const v1::GetRoutingRulesRequest* req,
                                            v1::RoutingRules* resp) override;
  grpc::ServerUnaryReactor* UpdateRoutingRules(grpc::CallbackServerContext* ctx,
                                               const v1::UpdateRoutingRulesRequest* req,
                                               v1::RoutingRules* resp) override;
  // api/mail_grpc.cc
  grpc::ServerUnaryReactor* CreateMailbox(grpc::CallbackServerContext* ctx,
                                          const v1::CreateMailboxRequest* req,
                                          v1::Mailbox* resp) override;
  grpc::ServerUnaryReactor* GetMailbox(grpc::CallbackServerContext* ctx,
                                       const v1::GetMailboxRequest* req,
                                       v1::Mailbox* resp) override;
  grpc::ServerUnaryReactor* ListMailboxes(grpc::CallbackServerContext* ctx,
                                          const v1::ListMailboxesRequest* req,
                                          v1::ListMailboxesResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateMailbox(grpc::CallbackServerContext* ctx,
                                          const v1::UpdateMailboxRequest* req,
                                          v1::Mailbox* resp) override;
  grpc::ServerUnaryReactor* ReceiveMail(grpc::CallbackServerContext* ctx,
                                        const v1::ReceiveMailRequest* req,
                                        v1::ReceiveMailResponse* resp) override;
  grpc::ServerUnaryReactor* GetOutboundMail(grpc::CallbackServerContext* ctx,
                                            const v1::GetOutboundMailRequest* req,
                                            v1::OutboundMail* resp) override;

 private:
  app::Tickets& tickets_;
  app::Slas& slas_;
  app::Mailboxes& mailboxes_;
  app::Inbound& inbound_;
  app::Routing& routing_;
  app::Agents& agents_;
  app::Macros& macros_;
  app::TriggerRules& triggers_;
  app::AutomationRules& automations_;
  app::KnowledgeBase& knowledge_;
  app::Classifiers& classifiers_;
  app::Surveys& surveys_;
  app::TicketContexts& contexts_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
  const common::PageTokenCodec& tokens_;
};

}  // namespace crm::service_desk::api
